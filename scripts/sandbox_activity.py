"""Changes made in the sandbox between two syncs, through the API as a GetResponse user would."""

from __future__ import annotations

import requests

TIMEOUT = 30


def change_contacts(api_url: str, api_key: str, count: int) -> list[str]:
    """Rename the `count` oldest contacts (OpenAPI `updateContact`); their ids, in order."""
    if count <= 0:
        return []
    with requests.Session() as session:
        session.headers["X-Auth-Token"] = f"api-key {api_key}"
        listed = session.get(
            f"{api_url}/contacts",
            params={"perPage": count, "page": 1, "sort[createdOn]": "asc"},
            timeout=TIMEOUT,
        )
        listed.raise_for_status()
        changed: list[str] = []
        for contact in listed.json():
            contact_id = str(contact["contactId"])
            name = f"{contact.get('name') or 'Contact'} (edited)"[:128]
            response = session.post(
                f"{api_url}/contacts/{contact_id}", json={"name": name}, timeout=TIMEOUT
            )
            response.raise_for_status()
            changed.append(contact_id)
    return changed
