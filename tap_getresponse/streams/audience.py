"""Who is reached and who never is: saved segments' members, suppression lists, blocklists."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream
from tap_getresponse.run import ParentCollection
from tap_getresponse.streams.lists import CAMPAIGNS
from tap_getresponse.value_report import SKIPPED

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_getresponse.value_report import ValueReport

SEGMENTS = ParentCollection("/search-contacts", "searchContactId")
SUPPRESSIONS = ParentCollection("/suppressions", "suppressionId")
Row = dict[str, t.Any]


def mask_rows(answers: Iterable[Row], report: ValueReport, **keys: str) -> list[Row]:
    """One row per mask of `Blocklist` answers (`{"masks": [...]}`), `keys` added to each.

    The mask is the row's key, so a mask that is no text, or empty, is skipped and reported
    (never a row with an empty key); a mask listed twice is one row.
    """
    rows: dict[str, Row] = {}
    for answer in answers:
        masks = answer.get("masks")
        if masks is None:
            continue
        if type(masks) is not list:
            report.bad("masks", "array", masks, record=keys, action=SKIPPED)
            continue
        for mask in masks:
            if type(mask) is not str or not mask.strip():
                report.bad("masks[]", "non-empty string", mask, record=keys, action=SKIPPED)
                continue
            rows.setdefault(mask, {**keys, "mask": mask})
    return list(rows.values())


class SegmentContactsStream(BatchedFanOutStream):
    """Members of every saved segment (OpenAPI `getContactsByIdSearchContacts`), read in full.

    Membership has no time filter and changes whenever a contact starts or stops matching the
    segment's conditions, so every run reads every segment's members again.
    """

    name = "segment_contacts"
    path = "/search-contacts/{searchContactId}/contacts"
    parent = SEGMENTS
    parent_key = "searchContactId"
    batch_key = "searchContactIds"
    primary_keys = ("searchContactId", "contactId")
    sort_field = "createdOn"  # stable pages: new members go last


class SuppressionsStream(BatchedFanOutStream):
    """Suppression lists with their masks (`getSuppressionsList`, then `getSuppressionById`).

    The list items have no masks, so each list is read in detail: one request per list. The
    list filters on `createdOn`, but a suppression list is renamed and its masks changed in
    place (OpenAPI `updateSuppression`), so a window on creation time would miss edits: every
    run reads them all.
    """

    name = "suppressions"
    path = "/suppressions/{suppressionId}"
    parent = SUPPRESSIONS
    parent_key = "suppressionId"
    batch_key = "suppressionIds"
    primary_keys = ("suppressionId",)
    paginated = False


class AccountBlocklistsStream(GetResponseStream):
    """The account's blocklist (OpenAPI `getAccountBlocklist`): one row per mask, read in full.

    The answer is one `Blocklist` object, `{"masks": [...]}`, with no id: the mask itself is
    the key (an e-mail address or an `@domain`).
    """

    name = "account_blocklists"
    path = "/accounts/blocklists"
    primary_keys = ("mask",)
    paginated = False

    @override
    def request_records(self, context: Context | None) -> Iterable[Row]:
        # A generator, so the request runs where the caller reads it (inside its error policy).
        yield from mask_rows(super().request_records(context), self.value_report)


class CampaignBlocklistsStream(BatchedFanOutStream):
    """Each list's blocklist (OpenAPI `getCampaignBlocklist`): one request and row per mask."""

    name = "campaign_blocklists"
    path = "/campaigns/{campaignId}/blocklists"
    parent = CAMPAIGNS
    parent_key = "campaignId"
    batch_key = "campaignIds"
    primary_keys = ("campaignId", "mask")
    paginated = False

    @override
    def rows(self, items: list[Row], parent_id: str) -> list[Row]:
        return mask_rows(items, self.value_report, campaignId=parent_id)
