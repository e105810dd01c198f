"""Loading contacts into lists: batch adds, upserts of existing contacts, and verification.

Why a rerun never duplicates: the loader first finds which of a batch's emails the list already
holds and sends only the others. A batch re-sent after a 5xx or a crash is harmless too:
`POST /contacts/batch` leaves contacts that are already on the list as they are (§4.2).

Finding members costs either one `GET /contacts?query[campaignId]=` page per 1000 members (the
whole list, once per run) or one exact-match lookup per email. The loader reads the first page,
then looks emails up one by one until the lookups spent would pay for the rest of the pages, and
then reads the rest (never more than twice the cheaper choice, whatever the input size).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tap_getresponse.api import GetResponseAPIError
from target_getresponse.mapping import (
    Contact,
    RejectError,
    batch_contact,
    mask_email,
    mask_emails_in,
)
from target_getresponse.rejects import is_record_problem, refused
from target_getresponse.resolver import PAGE_SIZE, read_page

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from tap_getresponse.api import GetResponseClient
    from target_getresponse.rejects import Tally

LOGGER = logging.getLogger("target_getresponse.loader")
#: §4.2: at most 1000 contacts per `POST /contacts/batch`.
BATCH_SIZE = 1000
#: Per list and run, the first this-many existing contacts are updated one by one (up to three
#: calls each); the rest go into one `POST /imports` sent before the next STATE. 1000 contacts
#: cost up to 3,000 calls: a tenth of the 30,000-call frame and under 40 s at 80 calls/s (§5.3).
#: Beyond that one import is cheaper, and imports are scarce (20 a day per account, one active
#: per list, §4.5), so they are kept for large sets.
UPSERT_IMPORT_THRESHOLD = 1000
#: Rows per import request (§4.5: at most 20 MB per request; a contact row is well under 400 B).
IMPORT_MAX_ROWS = 50_000
IMPORT_DONE = frozenset({"finished", "rejected", "canceled"})
IMPORT_TIMEOUT_SECONDS = 1800.0
#: How long an upsert waits for a contact added earlier in the same run to become visible.
VISIBILITY_TIMEOUT_SECONDS = 60.0
HTTP_BAD_REQUEST = 400
HTTP_CONFLICT = 409


@dataclass(slots=True)
class Prepared:
    """A contact with every name resolved, ready for the API."""

    contact: Contact
    stream: str
    record: dict[str, t.Any]
    #: The stream's key properties and the record's input line: how a reject names it.
    key_properties: Sequence[str] = ()
    line: int | None = None
    tag_ids: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    custom: dict[str, list[str]] = field(default_factory=dict)
    custom_names: dict[str, list[str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The email as GetResponse compares it (case-insensitively)."""
        return self.contact.email.lower()

    @property
    def importable(self) -> bool:
        """Whether `POST /imports` can carry everything (§4.5: one value per field, no cycle)."""
        return all(len(v) <= 1 for v in self.custom.values()) and not (
            {"dayOfCycle", "scoring"} & self.contact.fields.keys()
        )


@dataclass(slots=True)
class ListIndex:
    """What the loader knows of one list's members: email -> contact id (None: added this run)."""

    members: dict[str, str | None] = field(default_factory=dict)
    pages: int | None = None
    complete: bool = False
    lookups: int = 0


class ContactLoader:
    """Sends prepared contacts list by list, and keeps the tally."""

    def __init__(  # noqa: PLR0913 - the loader's collaborators and switches
        self,
        client: GetResponseClient,
        tally: Tally,
        reject: Callable[[Prepared, RejectError], None],
        *,
        load_method: str,
        dry_run: bool,
        parallel: int,
        track_sent: bool = False,
    ) -> None:
        """Nothing is read until the first contact of a list arrives."""
        self.client = client
        self.tally = tally
        self.reject = reject
        self.load_method = load_method
        self.dry_run = dry_run
        self.parallel = max(1, parallel)
        self.track_sent = track_sent
        self.upsert_import_threshold = UPSERT_IMPORT_THRESHOLD
        self.visibility_timeout = VISIBILITY_TIMEOUT_SECONDS
        self._lists: dict[str, ListIndex] = {}
        self._updated_one_by_one: dict[str, int] = {}
        self._deferred: dict[str, dict[str, Prepared]] = {}
        self.sent: dict[str, dict[str, Prepared]] = {}
        #: Set when the run is asked to stop: `verify` stops waiting (see target.py).
        self.stopping = threading.Event()

    # -- which emails are already on a list ------------------------------------------------

    def members(self, campaign_id: str, emails: Iterable[str]) -> dict[str, str | None]:
        """Those of `emails` (lowercase) already on the list, with their contact ids."""
        index = self._lists.setdefault(campaign_id, ListIndex())
        if index.pages is None:
            self._read_pages(campaign_id, index, [1])
        unknown = [e for e in dict.fromkeys(emails) if e not in index.members]
        if unknown and not index.complete:
            unread = range(2, (index.pages or 1) + 1)
            if index.lookups + len(unknown) >= len(unread):
                self._read_pages(campaign_id, index, unread)
            else:
                index.lookups += len(unknown)
                for email, contact_id in zip(
                    unknown, self._map(lambda e: self.lookup(campaign_id, e), unknown), strict=True
                ):
                    if contact_id is not None:
                        index.members[email] = contact_id
        return {e: index.members[e] for e in emails if e in index.members}

    def _read_pages(self, campaign_id: str, index: ListIndex, pages: Iterable[int]) -> None:
        params = {"query[campaignId]": campaign_id, "fields": "email,contactId"}
        results = self._map(lambda page: read_page(self.client, "/contacts", params, page), pages)
        for items, total_pages in results:
            index.pages = max(index.pages or 0, total_pages)
            for item in items:
                index.members.setdefault(str(item["email"]).lower(), str(item["contactId"]))
        if index.pages is not None and max(pages, default=1) >= index.pages:
            index.complete = True

    def lookup(self, campaign_id: str, email: str) -> str | None:
        """The contact id of `email` on the list, by exact match (§2.5), or None."""
        response = self.client.request(
            "GET",
            "/contacts",
            params={
                "query[email]": email,
                "query[campaignId]": campaign_id,
                "additionalFlags": "exactMatch",
                "fields": "email,contactId",
            },
        )
        return next(
            (
                str(item["contactId"])
                for item in response.json()
                if str(item.get("email", "")).lower() == email
            ),
            None,
        )

    def _map(self, function: Callable[[t.Any], t.Any], items: Iterable[t.Any]) -> list[t.Any]:
        """Run `function` over items on up to `parallel` threads (the governor paces them)."""
        items = list(items)
        if len(items) <= 1 or self.parallel == 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(function, items))

    # -- adding ------------------------------------------------------------------------------

    def load(self, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """Add the new contacts of one list; count or update the ones it already has."""
        known = self.members(campaign_id, [p.key for p in contacts])
        new = [p for p in contacts if p.key not in known]
        on_list = [p for p in contacts if p.key in known]
        if self.load_method == "upsert":
            self._upsert(campaign_id, on_list, known)
        else:
            self.tally.count(existing=len(on_list))
        for start in range(0, len(new), BATCH_SIZE):
            self._add_batch(campaign_id, new[start : start + BATCH_SIZE])

    def _add_batch(self, campaign_id: str, batch: Sequence[Prepared]) -> None:
        body = {
            "campaignId": campaign_id,
            "contacts": [batch_contact(p.contact, p.tag_ids, p.custom) for p in batch],
        }
        if not self.dry_run:
            try:
                # Re-sending a batch is harmless (contacts on the list are left alone), so it
                # may be retried after a 5xx even when the server had already applied it.
                self.client.request("POST", "/contacts/batch", json=body, retry_post=True)
            except GetResponseAPIError as error:
                # 400: one contact spoils the whole request (§4.2, per-contact errors are not
                # reported). 409/1008 is documented for the batch without saying for what
                # (UNCONFIRMED, §4.2): read it as "some are already there". Either way, one by
                # one finds out which, with each contact's own answer.
                if error.http_status not in {HTTP_BAD_REQUEST, HTTP_CONFLICT}:
                    raise
                LOGGER.warning(
                    "Batch of %d for list %s refused (%s); sending them one by one",
                    len(batch),
                    campaign_id,
                    mask_emails_in(str(error)),
                )
                self._add_one_by_one(campaign_id, batch)
                return
        # A dry run sends nothing; `added` then says what would have been added.
        self.tally.count(sent=0 if self.dry_run else len(batch), added=len(batch))
        for prepared in batch:
            self._mark_added(campaign_id, prepared)

    def _mark_added(self, campaign_id: str, prepared: Prepared) -> None:
        self._lists[campaign_id].members[prepared.key] = None
        if self.track_sent:
            self.sent.setdefault(campaign_id, {})[prepared.key] = prepared

    def _add_one_by_one(self, campaign_id: str, batch: Sequence[Prepared]) -> None:
        """Each contact through `POST /contacts`, whose answers name the refused ones (§4.1)."""
        for prepared in batch:
            payload = batch_contact(prepared.contact, [], prepared.custom)
            payload["campaign"] = {"campaignId": campaign_id}
            if prepared.tag_ids:
                payload["tags"] = [{"tagId": tag} for tag in prepared.tag_ids]
            try:
                # A re-sent create of a contact that made it answers 409: safe to retry.
                self.client.request("POST", "/contacts", json=payload, retry_post=True)
            except GetResponseAPIError as error:
                if error.http_status == HTTP_CONFLICT:  # §4.1: already on the list
                    self.tally.count(existing=1)
                    self._lists[campaign_id].members.setdefault(prepared.key, None)
                    continue
                if not is_record_problem(error):
                    raise
                self.reject(prepared, refused(error))
                continue
            self.tally.count(sent=1, added=1)
            self._mark_added(campaign_id, prepared)

    # -- updating ----------------------------------------------------------------------------

    def _upsert(
        self,
        campaign_id: str,
        on_list: Sequence[Prepared],
        known: dict[str, str | None],
    ) -> None:
        """Update contacts already on the list: one by one for a few, an import for many."""
        if self.dry_run:
            self.tally.count(updated=len(on_list))
            return
        added_earlier = [p for p in on_list if known[p.key] is None]
        resolved = [(p, cid) for p in on_list if (cid := known[p.key]) is not None]
        resolved += self._ids_of_added(campaign_id, added_earlier)
        budget = self.upsert_import_threshold - self._updated_one_by_one.get(campaign_id, 0)
        one_by_one: list[tuple[Prepared, str]] = []
        for prepared, contact_id in resolved:
            if budget > 0 or not prepared.importable:
                one_by_one.append((prepared, contact_id))
                budget -= 1
            else:
                self._deferred.setdefault(campaign_id, {})[prepared.key] = prepared
        self._updated_one_by_one[campaign_id] = self._updated_one_by_one.get(campaign_id, 0) + len(
            one_by_one
        )
        updated = sum(self._map(lambda item: self._update_one(*item), one_by_one))
        self.tally.count(sent=updated, updated=updated)
        if len(self._deferred.get(campaign_id, ())) >= IMPORT_MAX_ROWS:
            self._import(campaign_id, list(self._deferred.pop(campaign_id).values()))

    def _ids_of_added(
        self, campaign_id: str, contacts: Sequence[Prepared]
    ) -> list[tuple[Prepared, str]]:
        """Ids of contacts this run added earlier: the same email again updates it (last wins).

        Batch adds are applied asynchronously (§4.2: 202), so each is looked up until it shows.
        """
        found: list[tuple[Prepared, str]] = []
        waiting = list(contacts)
        deadline = time.monotonic() + self.visibility_timeout
        while waiting:
            ids = self._map(lambda p: self.lookup(campaign_id, p.key), waiting)
            found += [(p, cid) for p, cid in zip(waiting, ids, strict=True) if cid is not None]
            waiting = [p for p, cid in zip(waiting, ids, strict=True) if cid is None]
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(1.0)
        for prepared in waiting:
            self.reject(
                prepared, RejectError("added earlier in this run and not visible yet to update")
            )
        for prepared, contact_id in found:
            self._lists[campaign_id].members[prepared.key] = contact_id
        return found

    def _update_one(self, prepared: Prepared, contact_id: str) -> bool:
        """Name, cycle and scoring, then custom fields and tags without dropping other ones."""
        fields = {k: v for k, v in prepared.contact.fields.items() if k != "ipAddress"}
        try:
            if fields:
                # §4.3: only the given properties change (tags/customFieldValues would replace).
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
                # §4.4: adds tags, never removes.
                tags = [{"tagId": tag} for tag in prepared.tag_ids]
                self.client.request("POST", f"/contacts/{contact_id}/tags", json={"tags": tags})
        except GetResponseAPIError as error:
            if not is_record_problem(error):
                raise
            self.reject(prepared, refused(error))
            return False
        return True

    def flush_deferred(self) -> None:
        """Send the updates waiting for an import; called before every STATE goes out."""
        while self._deferred:
            campaign_id, contacts = self._deferred.popitem()
            self._import(campaign_id, list(contacts.values()))

    def _import(self, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """One tracked `POST /imports` (add and update, §4.5), polled until it ends."""
        custom_names = sorted({name for p in contacts for name in p.custom_names})
        tag_names = sorted({name for p in contacts for name in p.tag_names})
        has_ip = any("ipAddress" in p.contact.fields for p in contacts)
        # §4.5: custom fields by name, `tag:<name>` columns ("1" attaches), the IP column is `ip`.
        mapping = [
            "email",
            "name",
            *(["ip"] if has_ip else []),
            *custom_names,
            *(f"tag:{name}" for name in tag_names),
        ]
        rows = [
            [
                p.contact.email,
                str(p.contact.fields.get("name") or ""),
                *([str(p.contact.fields.get("ipAddress") or "")] if has_ip else []),
                *("".join(p.custom_names.get(name, [])) for name in custom_names),
                *("1" if name in p.tag_names else "0" for name in tag_names),
            ]
            for p in contacts
        ]
        body = {"campaignId": campaign_id, "fieldMapping": mapping, "contacts": rows}
        deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
        created = self._start_import(body, deadline)
        import_id, status = created["importId"], created.get("status")
        pause = 0.5
        while status not in IMPORT_DONE and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
            created = self.client.request("GET", f"/imports/{import_id}").json()
            status = created.get("status")
        if status != "finished":
            for prepared in contacts:
                self.reject(prepared, RejectError(f"import {import_id} ended as {status}"))
            return
        self.tally.count(sent=len(contacts), updated=len(contacts))
        LOGGER.info(
            "Import %s for list %s finished: %s", import_id, campaign_id, created.get("statistics")
        )

    def _start_import(self, body: dict[str, t.Any], deadline: float) -> dict[str, t.Any]:
        """Create the import; a 409 means another import runs on this list (§4.5): wait."""
        while True:
            try:
                created: dict[str, t.Any] = self.client.request(
                    "POST", "/imports", json=body
                ).json()
            except GetResponseAPIError as error:
                if error.http_status != HTTP_CONFLICT or time.monotonic() >= deadline:
                    raise
                LOGGER.info("Another import is active on list %s; waiting", body["campaignId"])
                time.sleep(10.0)
            else:
                return created

    # -- verifying ---------------------------------------------------------------------------

    def verify(self, timeout: float) -> None:
        """Wait until every added contact shows up; reject those GetResponse silently refused."""
        for campaign_id, sent in self.sent.items():
            missing = set(sent)
            deadline = time.monotonic() + timeout
            while missing:
                missing = self._still_missing(campaign_id, missing, len(sent))
                if not missing or time.monotonic() >= deadline or self.stopping.is_set():
                    break
                self.stopping.wait(min(5.0, max(0.5, timeout / 20)))
            if missing and self.stopping.is_set():
                LOGGER.warning(
                    "Verify of list %s cut short by the stop signal: %d added contacts not seen "
                    "yet stay counted as added",
                    campaign_id,
                    len(missing),
                )
                continue
            LOGGER.info(
                "Verified list %s: %d of %d added contacts visible",
                campaign_id,
                len(sent) - len(missing),
                len(sent),
            )
            for email in sorted(missing):
                LOGGER.warning(
                    "Not visible after verify: %s on list %s", mask_email(email), campaign_id
                )
                self.tally.count(added=-1)
                self.reject(sent[email], RejectError("not_visible_after_verify"))

    def _still_missing(self, campaign_id: str, missing: set[str], sent: int) -> set[str]:
        """The cheaper of one exact-match lookup per email and one read of the whole list."""
        pages = (self._lists[campaign_id].pages or 1) + math.ceil(sent / PAGE_SIZE)
        if len(missing) <= pages:
            emails = sorted(missing)
            found = self._map(lambda e: self.lookup(campaign_id, e) is not None, emails)
            return {e for e, seen in zip(emails, found, strict=True) if not seen}
        index = ListIndex()
        self._read_pages(campaign_id, index, [1])
        self._read_pages(campaign_id, index, range(2, (index.pages or 1) + 1))
        return missing - index.members.keys()
