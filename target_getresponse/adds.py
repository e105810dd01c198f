"""Adding new contacts to a list: in batches, and one by one when GetResponse refuses a batch.

A batch re-sent after a 5xx or a crash is harmless: `createBatchContacts` leaves contacts that are
already on the list as they are, so a rerun or a retry never duplicates anyone (OpenAPI
`createBatchContacts`; https://apidocs.getresponse.com/v3/case-study/adding-batch-contacts).
"""

from __future__ import annotations

import logging
import typing as t
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.limits import MAX_BATCH_CONTACTS
from target_getresponse.load_step import LoadStep
from target_getresponse.logs import mask_emails_in
from target_getresponse.mapping import batch_contact, new_contact
from target_getresponse.rejects import is_record_problem, refused

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from target_getresponse.mapping import Prepared

LOGGER = logging.getLogger("target_getresponse.adds")
#: Statuses of a refused batch that sending its contacts one by one sorts out (see `_add_batch`).
BATCH_REFUSALS = frozenset({HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT})


class Adds(LoadStep):
    """Sends new contacts to their list, and counts, tracks or rejects each."""

    def __init__(self, *args: t.Any, track_sent: bool, **kwargs: t.Any) -> None:  # noqa: ANN401
        """LoadStep's arguments; `track_sent` keeps added contacts for `verify` (updates.py)."""
        super().__init__(*args, **kwargs)
        self.track_sent = track_sent
        #: Added contacts by list and email, when `track_sent`.
        self.sent: dict[str, dict[str, Prepared]] = {}

    def add(self, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """Add contacts the list does not hold, at most a batch call's worth at a time."""
        for start in range(0, len(contacts), MAX_BATCH_CONTACTS):
            self._add_batch(campaign_id, contacts[start : start + MAX_BATCH_CONTACTS])

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
                # 400: one contact spoils the whole request (`createBatchContacts` reports no
                # per-contact errors). 409 is documented for it without saying for what: read it
                # as "some are already there". Either way, one by one finds out which, with each
                # contact's own answer.
                if error.http_status not in BATCH_REFUSALS:
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
        self.membership.index(campaign_id).members[prepared.key] = None
        if self.track_sent:
            self.sent.setdefault(campaign_id, {})[prepared.key] = prepared

    def _add_one_by_one(self, campaign_id: str, batch: Sequence[Prepared]) -> None:
        """Each contact through `createContact`, whose answers name the refused ones."""
        for prepared in batch:
            try:
                # A re-sent create of a contact that made it answers 409: safe to retry.
                self.client.request(
                    "POST", "/contacts", json=new_contact(prepared, campaign_id), retry_post=True
                )
            except GetResponseAPIError as error:
                if error.http_status == HTTPStatus.CONFLICT:  # `createContact`: already there
                    self.tally.count(existing=1)
                    self.membership.index(campaign_id).members.setdefault(prepared.key, None)
                    continue
                if not is_record_problem(error):
                    raise
                self.reject(prepared, refused(error))
                continue
            self.tally.count(sent=1, added=1)
            self._mark_added(campaign_id, prepared)
