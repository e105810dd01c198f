"""Loading contacts into lists: batch adds, upserts of existing contacts, and verification.

Why a rerun never duplicates: before the first batch for a list, the loader reads the emails the
list already holds (one `GET /contacts?query[campaignId]=` page per 1000 contacts) and sends only
the others. A batch re-sent after a 5xx or a crash is harmless too: `POST /contacts/batch` leaves
contacts that are already on the list as they are (reference §4.2).
"""

from __future__ import annotations

import logging
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tap_getresponse.api import GetResponseAPIError
from target_getresponse.directory import iter_collection
from target_getresponse.mapping import Contact, batch_contact, mask_email

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tap_getresponse.api import GetResponseClient
    from target_getresponse.accounting import Tally

LOGGER = logging.getLogger("target_getresponse.loader")
#: §4.2: at most 1000 contacts per `POST /contacts/batch`.
BATCH_SIZE = 1000
#: Above this many existing contacts per list and run, upserts go through one `POST /imports`
#: instead of up to three calls per contact. 1000 contacts cost up to 3000 calls, a tenth of
#: the 30,000-call frame and under a minute at 80 calls/s (§5.3); more than that is better spent
#: on one import, of which an account may start 20 a day, one at a time per list (§4.5).
UPSERT_IMPORT_THRESHOLD = 1000
IMPORT_DONE = frozenset({"finished", "rejected", "canceled"})


@dataclass(slots=True)
class Prepared:
    """A contact with every name resolved, ready for the API."""

    contact: Contact
    stream: str
    record: dict[str, t.Any]
    tag_ids: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    custom: dict[str, list[str]] = field(default_factory=dict)
    custom_names: dict[str, list[str]] = field(default_factory=dict)


class ContactLoader:
    """Sends prepared contacts list by list, and keeps the tally."""

    def __init__(  # noqa: PLR0913 - the loader's collaborators and switches
        self,
        client: GetResponseClient,
        tally: Tally,
        reject: Callable[[Prepared, str, int | None], None],
        *,
        load_method: str,
        dry_run: bool,
        parallel: int,
    ) -> None:
        """Nothing is read until the first contact of a list arrives."""
        self.client = client
        self.tally = tally
        self.reject = reject
        self.load_method = load_method
        self.dry_run = dry_run
        self.parallel = parallel
        self._existing: dict[str, dict[str, str | None]] = {}
        self.sent: dict[str, dict[str, Prepared]] = {}

    def existing(self, campaign_id: str) -> dict[str, str | None]:
        """Emails already on the list (lowercase) -> contact id; None for ones sent this run."""
        if campaign_id not in self._existing:
            self._existing[campaign_id] = self._read_list(campaign_id)
        return self._existing[campaign_id]

    def _read_list(self, campaign_id: str) -> dict[str, str | None]:
        items = iter_collection(
            self.client,
            "/contacts",
            {"query[campaignId]": campaign_id, "fields": "email,contactId"},
        )
        return {str(c["email"]).lower(): str(c["contactId"]) for c in items}

    def load(self, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """Add the new contacts of one list; count or update the ones it already has."""
        existing = self.existing(campaign_id)
        new = [p for p in contacts if p.contact.email.lower() not in existing]
        known = [p for p in contacts if p.contact.email.lower() in existing]
        if self.load_method == "upsert":
            self._upsert(campaign_id, known, existing)
        else:
            self.tally.existing += len(known)
        for start in range(0, len(new), BATCH_SIZE):
            self._add_batch(campaign_id, new[start : start + BATCH_SIZE])

    def _add_batch(self, campaign_id: str, batch: Sequence[Prepared]) -> None:
        body = {
            "campaignId": campaign_id,
            "contacts": [batch_contact(p.contact, p.tag_ids, p.custom) for p in batch],
        }
        if not self.dry_run:
            try:
                # Re-sending a batch is harmless (existing contacts are left alone), so it may
                # be retried after a 5xx even if the server had already applied it.
                self.client.request("POST", "/contacts/batch", json=body, retry_post=True)
            except GetResponseAPIError as error:
                if error.http_status != 400:  # noqa: PLR2004
                    raise
                LOGGER.warning(
                    "Batch for list %s refused (%s); sending one by one", campaign_id, error
                )
                self._add_one_by_one(campaign_id, batch)
                return
        self.tally.sent += len(batch)
        self.tally.added += len(batch)
        sent = self.sent.setdefault(campaign_id, {})
        existing = self.existing(campaign_id)
        for prepared in batch:
            existing[prepared.contact.email.lower()] = None
            sent[prepared.contact.email.lower()] = prepared

    def _add_one_by_one(self, campaign_id: str, batch: Sequence[Prepared]) -> None:
        """Find the contacts GetResponse refuses when a whole batch was refused (§4.1 codes)."""
        for prepared in batch:
            payload = batch_contact(prepared.contact, [], prepared.custom)
            payload["campaign"] = {"campaignId": campaign_id}
            if prepared.tag_ids:
                payload["tags"] = [{"tagId": tag} for tag in prepared.tag_ids]
            try:
                self.client.request("POST", "/contacts", json=payload)
            except GetResponseAPIError as error:
                if error.http_status == 409:  # noqa: PLR2004 - §4.1: already on the list
                    self.tally.existing += 1
                    continue
                if error.http_status >= 500:  # noqa: PLR2004
                    raise
                self.reject(prepared, error.message, error.code)
                continue
            self.tally.sent += 1
            self.tally.added += 1
            self.existing(campaign_id)[prepared.contact.email.lower()] = None
            self.sent.setdefault(campaign_id, {})[prepared.contact.email.lower()] = prepared

    def _upsert(
        self,
        campaign_id: str,
        known: Sequence[Prepared],
        existing: dict[str, str | None],
    ) -> None:
        """Update contacts already on the list: per contact for a few, one import for many."""
        targets = [(p, existing[p.contact.email.lower()]) for p in known]
        added_this_run = [p for p, contact_id in targets if contact_id is None]
        self.tally.existing += len(added_this_run)
        to_update = [(p, cid) for p, cid in targets if cid is not None]
        if not to_update:
            return
        if self.dry_run:
            self.tally.updated += len(to_update)
            return
        if len(to_update) > UPSERT_IMPORT_THRESHOLD:
            self._import(campaign_id, [p for p, _ in to_update])
            return
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            list(pool.map(lambda item: self._update_one(*item), to_update))

    def _update_one(self, prepared: Prepared, contact_id: str) -> None:
        fields = {k: v for k, v in prepared.contact.fields.items() if k != "ipAddress"}
        if "dayOfCycle" in fields:
            fields["dayOfCycle"] = str(fields["dayOfCycle"])
        try:
            if fields:
                self.client.request("POST", f"/contacts/{contact_id}", json=fields)
            if prepared.custom:
                # §4.4: upserts the listed fields' values and never removes other fields.
                values = [{"customFieldId": k, "value": v} for k, v in prepared.custom.items()]
                self.client.request(
                    "POST",
                    f"/contacts/{contact_id}/custom-fields",
                    json={"customFieldValues": values},
                )
            if prepared.tag_ids:
                tags = [{"tagId": tag} for tag in prepared.tag_ids]
                self.client.request("POST", f"/contacts/{contact_id}/tags", json={"tags": tags})
        except GetResponseAPIError as error:
            if error.http_status >= 500:  # noqa: PLR2004
                raise
            self.reject(prepared, error.message, error.code)
            return
        self.tally.sent += 1
        self.tally.updated += 1

    def _import(
        self, campaign_id: str, contacts: Sequence[Prepared], timeout: float = 1800
    ) -> None:
        """One tracked `POST /imports` (add and update, §4.5), polled until it ends."""
        custom_names = sorted({name for p in contacts for name in p.custom_names})
        tag_names = sorted({name for p in contacts for name in p.tag_names})
        mapping = ["email", "name", *custom_names, *(f"tag:{name}" for name in tag_names)]
        rows = [
            [
                p.contact.email,
                str(p.contact.fields.get("name") or ""),
                *(",".join(p.custom_names.get(name, [])) for name in custom_names),
                *("1" if name in p.tag_names else "0" for name in tag_names),
            ]
            for p in contacts
        ]
        body = {"campaignId": campaign_id, "fieldMapping": mapping, "contacts": rows}
        created = self.client.request("POST", "/imports", json=body).json()
        import_id = created["importId"]
        deadline = time.monotonic() + timeout
        status = created.get("status")
        while status not in IMPORT_DONE and time.monotonic() < deadline:
            time.sleep(1)
            created = self.client.request("GET", f"/imports/{import_id}").json()
            status = created.get("status")
        if status != "finished":
            for prepared in contacts:
                self.reject(prepared, f"import {import_id} ended as {status}", None)
            return
        self.tally.sent += len(contacts)
        self.tally.updated += len(contacts)
        LOGGER.info(
            "Import %s for list %s finished: %s", import_id, campaign_id, created.get("statistics")
        )

    def verify(self, timeout: float) -> None:
        """Wait until every added contact shows up; reject those GetResponse silently refused."""
        for campaign_id, sent in self.sent.items():
            missing = set(sent)
            deadline = time.monotonic() + timeout
            while missing:
                missing -= set(self._read_list(campaign_id))
                if not missing or time.monotonic() >= deadline:
                    break
                time.sleep(min(5.0, max(0.5, timeout / 20)))
            for email in sorted(missing):
                LOGGER.warning(
                    "Not visible after verify: %s on list %s", mask_email(email), campaign_id
                )
                self.tally.added -= 1
                self.reject(sent[email], "not_visible_after_verify", None)
