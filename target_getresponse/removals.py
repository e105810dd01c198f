"""Removing contacts from their list for records the source marks deleted (`_sdc_deleted_at`).

A removal finds the contact's id the way adds find members (membership.py: the list's pages or
exact-match lookups, whichever is cheaper) and sends `DELETE /contacts/{contactId}` (OpenAPI
`deleteContact`). Only contacts a record names are ever removed. A contact that is not on the list,
or that answers 404, is already gone: a success, so a rerun removes nothing twice.
"""

from __future__ import annotations

import logging
import typing as t
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError
from target_getresponse.load_step import LoadStep
from target_getresponse.logs import mask_email
from target_getresponse.mapping import RejectError
from target_getresponse.membership import parallel_map
from target_getresponse.rejects import is_record_problem, refused
from target_getresponse.updates import ids_once_visible

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from target_getresponse.mapping import Prepared

LOGGER = logging.getLogger("target_getresponse.removals")
#: The Singer convention for a record whose row the source deleted.
DELETED_AT = "_sdc_deleted_at"


def is_deletion(record: Mapping[str, t.Any]) -> bool:
    """Whether the record asks to remove its contact (`_sdc_deleted_at` set)."""
    return record.get(DELETED_AT) not in (None, "")


class Removals(LoadStep):
    """Removes the contacts of deleted records from their list, several at a time."""

    def remove(self, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """Take `contacts` off the list; those not on it count as removed already."""
        if not contacts:
            return
        known = self.membership.members(campaign_id, [p.key for p in contacts])
        added_earlier = [p for p in contacts if p.key in known and known[p.key] is None]
        found = self._ids_of_added(campaign_id, added_earlier)
        targets = [(p, cid) for p in contacts if (cid := known.get(p.key)) is not None]
        targets += found
        gone = len(contacts) - len(targets) - (len(added_earlier) - len(found))
        self.tally.count(removed=gone)
        if self.dry_run:
            for prepared, _ in targets:
                LOGGER.info(
                    "Dry run: would remove %s from list %s", mask_email(prepared.key), campaign_id
                )
            self.tally.count(removed=len(targets))
            return
        done = parallel_map(
            lambda item: self._remove_one(campaign_id, *item), targets, self.membership.parallel
        )
        sent = sum(done)
        self.tally.count(sent=sent, removed=sent)

    def _ids_of_added(
        self, campaign_id: str, contacts: Sequence[Prepared]
    ) -> list[tuple[Prepared, str]]:
        """Ids of contacts this run added: looked up until they show (batch adds answer 202).

        One that never shows is a reject, not "already gone": it may still appear.
        """
        found, waiting = ids_once_visible(self.membership, campaign_id, contacts)
        for prepared in waiting:
            self.reject(prepared, RejectError("added earlier in this run and not visible yet"))
        return found

    def _remove_one(self, campaign_id: str, prepared: Prepared, contact_id: str) -> bool:
        """One `deleteContact`; 404 is a contact already gone. False: rejected."""
        try:
            self.client.request("DELETE", f"/contacts/{contact_id}")
        except GetResponseAPIError as error:
            if error.http_status != HTTPStatus.NOT_FOUND:
                if not is_record_problem(error):
                    raise
                self.reject(prepared, refused(error, "could not be removed"))
                return False
        self.membership.forget(campaign_id, prepared.key)
        return True
