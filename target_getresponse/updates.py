"""Updating contacts a list already holds (upserts, imports); verifying that adds became visible.

A few contacts are updated one by one: `updateContact` for name, cycle and scoring, then
`upsertContactCustoms` and `upsertTags`, which never remove other values. Many go into one
`createImport` (add and update in one call, polled with `getImportById`), sent before the next
STATE. Operation ids of the official OpenAPI; imports:
https://apidocs.getresponse.com/v3/case-study/create-import.
"""

from __future__ import annotations

import logging
import time
import typing as t
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError
from target_getresponse.load_step import LoadStep
from target_getresponse.logs import mask_email
from target_getresponse.mapping import (
    RejectError,
    contact_changes,
    custom_values_upsert,
    import_body,
    replaces_tags,
    tags_replacement,
    tags_upsert,
)
from target_getresponse.membership import parallel_map
from target_getresponse.rejects import is_record_problem, refused

if t.TYPE_CHECKING:
    import threading
    from collections.abc import Mapping, Sequence

    from target_getresponse.mapping import Prepared
    from target_getresponse.membership import Membership

LOGGER = logging.getLogger("target_getresponse.updates")
#: Per list and run, the first this-many existing contacts are updated one by one (up to three
#: calls each); the rest go into one import sent before the next STATE. 1000 contacts cost up to
#: 3,000 calls: a tenth of the 30,000-call frame and under 40 s at 80 calls/s
#: (https://apidocs.getresponse.com/v3/limits). Beyond that one import is cheaper, and imports are
#: scarce (20 a day per account, one active per list: the create-import page's "Limits"), so
#: they are kept for large sets.
UPSERT_IMPORT_THRESHOLD = 1000
#: Rows per import request (at most 20 MB per request; a contact row is well under 400 B).
IMPORT_MAX_ROWS = 50_000
#: `Import.status` values after which an import changes nothing more.
IMPORT_DONE = frozenset({"finished", "rejected", "canceled"})
IMPORT_TIMEOUT_SECONDS = 1800.0
#: How long an upsert waits for a contact added earlier in the same run to become visible.
VISIBILITY_TIMEOUT_SECONDS = 60.0


def ids_once_visible(
    membership: Membership, campaign_id: str, contacts: Sequence[Prepared]
) -> tuple[list[tuple[Prepared, str]], list[Prepared]]:
    """Contacts this run added, looked up until they show: (with their ids, never shown).

    Batch adds are applied asynchronously (`createBatchContacts` answers 202).
    """
    found: list[tuple[Prepared, str]] = []
    waiting = list(contacts)
    deadline = time.monotonic() + VISIBILITY_TIMEOUT_SECONDS
    while waiting:
        ids = membership.lookup_all(campaign_id, [p.key for p in waiting])
        found += [(p, cid) for p, cid in zip(waiting, ids, strict=True) if cid is not None]
        waiting = [p for p, cid in zip(waiting, ids, strict=True) if cid is None]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    return found, waiting


class Updates(LoadStep):
    """Updates existing contacts (one by one for a few, an import for many) and verifies adds."""

    def __init__(self, *args: t.Any, replace_tags: bool = False, **kwargs: t.Any) -> None:  # noqa: ANN401
        """LoadStep's arguments; `replace_tags` (`tags_mode` replace): record tags replace all."""
        super().__init__(*args, **kwargs)
        self.replace_tags = replace_tags
        self._updated_one_by_one: dict[str, int] = {}
        self._deferred: dict[str, dict[str, Prepared]] = {}

    def upsert(
        self,
        campaign_id: str,
        on_list: Sequence[Prepared],
        known: Mapping[str, str | None],
    ) -> None:
        """Update contacts already on the list (`known`: their ids, None if added this run)."""
        if self.dry_run:
            self.tally.count(updated=len(on_list))
            return
        added_earlier = [p for p in on_list if known[p.key] is None]
        resolved = [(p, cid) for p in on_list if (cid := known[p.key]) is not None]
        resolved += self._ids_of_added(campaign_id, added_earlier)
        budget = UPSERT_IMPORT_THRESHOLD - self._updated_one_by_one.get(campaign_id, 0)
        one_by_one: list[tuple[Prepared, str]] = []
        for prepared, contact_id in resolved:
            # An import only adds tags: replacing them takes `updateContact`, one by one.
            if budget > 0 or not prepared.importable or self.replace_tags:
                one_by_one.append((prepared, contact_id))
                budget -= 1
            else:
                self._deferred.setdefault(campaign_id, {})[prepared.key] = prepared
        self._updated_one_by_one[campaign_id] = self._updated_one_by_one.get(campaign_id, 0) + len(
            one_by_one
        )
        updated = sum(
            parallel_map(lambda item: self._update_one(*item), one_by_one, self.membership.parallel)
        )
        self.tally.count(sent=updated, updated=updated)
        if len(self._deferred.get(campaign_id, ())) >= IMPORT_MAX_ROWS:
            self._import(campaign_id, list(self._deferred.pop(campaign_id).values()))

    def retag(
        self,
        campaign_id: str,
        on_list: Sequence[Prepared],
        known: Mapping[str, str | None],
    ) -> None:
        """`load_method` add with `tags_mode` replace: existing contacts get exactly their tags.

        One `updateContact` per contact whose record states its tags (counted `updated`); the
        others stay as they are (`existing`).
        """
        stating = [p for p in on_list if replaces_tags(p)]
        self.tally.count(existing=len(on_list) - len(stating))
        if self.dry_run:
            self.tally.count(updated=len(stating))
            return
        added_earlier = [p for p in stating if known[p.key] is None]
        resolved = [(p, cid) for p in stating if (cid := known[p.key]) is not None]
        resolved += self._ids_of_added(campaign_id, added_earlier)
        done = sum(
            parallel_map(lambda item: self._retag_one(*item), resolved, self.membership.parallel)
        )
        self.tally.count(sent=done, updated=done)

    def _retag_one(self, prepared: Prepared, contact_id: str) -> bool:
        try:
            self.client.request("POST", f"/contacts/{contact_id}", json=tags_replacement(prepared))
        except GetResponseAPIError as error:
            if not is_record_problem(error):
                raise
            self.reject(prepared, refused(error))
            return False
        return True

    def discard(self, campaign_id: str, keys: Sequence[str]) -> None:
        """Drop waiting updates of contacts about to be removed (an import would re-add them)."""
        waiting = self._deferred.get(campaign_id, {})
        for key in keys:
            if waiting.pop(key, None) is not None:
                self.tally.count(merged=1)  # replaced by the later record, as in one batch

    def _ids_of_added(
        self, campaign_id: str, contacts: Sequence[Prepared]
    ) -> list[tuple[Prepared, str]]:
        """Ids of contacts this run added earlier: the same email again updates it (last wins).

        Batch adds are applied asynchronously (`createBatchContacts` answers 202), so each is
        looked up until it shows.
        """
        found, waiting = ids_once_visible(self.membership, campaign_id, contacts)
        for prepared in waiting:
            self.reject(
                prepared, RejectError("added earlier in this run and not visible yet to update")
            )
        for prepared, contact_id in found:
            self.membership.index(campaign_id).members[prepared.key] = contact_id
        return found

    def _update_one(self, prepared: Prepared, contact_id: str) -> bool:
        """Name, cycle and scoring, then custom fields and tags without dropping other ones."""
        changes = contact_changes(prepared)
        replacing = self.replace_tags and replaces_tags(prepared)
        if replacing:
            changes |= tags_replacement(prepared)
        try:
            if changes:
                self.client.request("POST", f"/contacts/{contact_id}", json=changes)
            if prepared.custom:
                self.client.request(
                    "POST",
                    f"/contacts/{contact_id}/custom-fields",
                    json=custom_values_upsert(prepared),
                )
            if prepared.tag_ids and not replacing:
                self.client.request(
                    "POST", f"/contacts/{contact_id}/tags", json=tags_upsert(prepared)
                )
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
        """One tracked import (adds and updates), polled until it ends."""
        deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
        created = self._start_import(import_body(campaign_id, contacts), deadline)
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
        """Create the import; a 409 means another import runs on this list: wait."""
        while True:
            try:
                created: dict[str, t.Any] = self.client.request(
                    "POST", "/imports", json=body
                ).json()
            except GetResponseAPIError as error:
                if error.http_status != HTTPStatus.CONFLICT or time.monotonic() >= deadline:
                    raise
                LOGGER.info("Another import is active on list %s; waiting", body["campaignId"])
                time.sleep(10.0)
            else:
                return created

    def verify(
        self,
        sent: Mapping[str, Mapping[str, Prepared]],
        timeout: float,
        stopping: threading.Event,
    ) -> None:
        """Wait until every added contact shows up; reject those GetResponse silently refused.

        `sent`: the added contacts by list and email. Stops waiting when `stopping` is set.
        """
        for campaign_id, added in sent.items():
            missing = set(added)
            deadline = time.monotonic() + timeout
            while missing:
                missing = self.membership.still_missing(campaign_id, missing, len(added))
                if not missing or time.monotonic() >= deadline or stopping.is_set():
                    break
                stopping.wait(min(5.0, max(0.5, timeout / 20)))
            if missing and stopping.is_set():
                LOGGER.warning(
                    "Verify of list %s cut short by the stop signal: %d added contacts not seen "
                    "yet stay counted as added",
                    campaign_id,
                    len(missing),
                )
                continue
            self._report_verified(campaign_id, added, missing)

    def _report_verified(
        self, campaign_id: str, added: Mapping[str, Prepared], missing: set[str]
    ) -> None:
        LOGGER.info(
            "Verified list %s: %d of %d added contacts visible",
            campaign_id,
            len(added) - len(missing),
            len(added),
        )
        for email in sorted(missing):
            LOGGER.warning(
                "Not visible after verify: %s on list %s", mask_email(email), campaign_id
            )
            self.tally.count(added=-1)
            self.reject(added[email], RejectError("not_visible_after_verify"))
