"""Changes made in the sandbox between two syncs, through the API as a GetResponse user would."""

from __future__ import annotations

import typing as t

import requests

if t.TYPE_CHECKING:
    from tests.sandbox import Sandbox

TIMEOUT = 30


def _session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["X-Auth-Token"] = f"api-key {sandbox.api_key}"
    return session


def change_contacts(sandbox: Sandbox, count: int) -> list[str]:
    """Rename the `count` oldest contacts (`POST /contacts/{id}`, §4.3); their ids, in order."""
    if count <= 0:
        return []
    with _session(sandbox) as session:
        listed = session.get(
            f"{sandbox.url}/contacts",
            params={"perPage": count, "page": 1, "sort[createdOn]": "asc"},
            timeout=TIMEOUT,
        )
        listed.raise_for_status()
        changed: list[str] = []
        for contact in listed.json():
            contact_id = str(contact["contactId"])
            name = f"{contact.get('name') or 'Contact'} (edited)"[:128]
            response = session.post(
                f"{sandbox.url}/contacts/{contact_id}", json={"name": name}, timeout=TIMEOUT
            )
            response.raise_for_status()
            changed.append(contact_id)
    return changed
