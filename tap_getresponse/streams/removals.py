"""Contacts `/contacts` never lists: removed and unconfirmed ones, found by a contact search.

The official route is `POST /search-contacts/contacts` (OpenAPI
`getContactsFromSearchContactsConditions`): its body `SearchContactsBySearchForm` names one
subscriber type and sections of lists; each item is a `SearchedContactDetails`, which for a
removed contact carries its `reason` and `deletedOn`.
"""

from __future__ import annotations

import typing as t
from functools import partial

from typing_extensions import override

from tap_getresponse import windows
from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.collections import PageReader, iter_stable_pages
from tap_getresponse.api.pages import Page
from tap_getresponse.client import GetResponseStream
from tap_getresponse.run import PLAN_GATED_STATUSES, ParentCollection, StreamUnavailableError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.collections import Repair
    from tap_getresponse.run import SyncRun

SEARCH_PATH = "/search-contacts/contacts"
LISTS = ParentCollection("/campaigns", "campaignId")
#: At most 8 sections in one search (segments manual:
#: https://apidocs.getresponse.com/v3/case-study/segments-manual).
MAX_SECTIONS = 8
#: Lists per section. The spec sets no bound on `campaignIdsList`; a modest one keeps each body
#: small (8 sections x 100 lists per request).
LISTS_PER_SECTION = 100
#: Both autoresponder cycles: a search names the cycles it matches (`SearchContactSection`).
CYCLES = ("receiving_autoresponder", "not_receiving_autoresponder")
#: The Singer soft-delete column: when the record was deleted at the source.
DELETED_AT = "_sdc_deleted_at"
#: `SearchedContactDetails` fields a `contacts` record (`ContactListElement`) has by the same name.
CONTACT_KEYS = ("contactId", "name", "email", "origin", "dayOfCycle", "createdOn", "campaign")


def search_forms(subscribers_type: str, list_ids: list[str]) -> list[dict[str, t.Any]]:
    """`SearchContactsBySearchForm` bodies covering every list, within the section limits."""
    sections = [
        {
            "campaignIdsList": list_ids[start : start + LISTS_PER_SECTION],
            "logicOperator": "or",
            "subscriberCycle": list(CYCLES),
            "subscriptionDate": "all_time",
            "conditions": [],
        }
        for start in range(0, len(list_ids), LISTS_PER_SECTION)
    ]
    return [
        {
            "subscribersType": [subscribers_type],
            "sectionLogicOperator": "or",
            "section": sections[start : start + MAX_SECTIONS],
        }
        for start in range(0, len(sections), MAX_SECTIONS)
    ]


def search_page(
    run: SyncRun,
    body: Mapping[str, t.Any],
    page_size: int,
    params: Mapping[str, t.Any],
    number: int,
) -> Page:
    """One page of a contact search (a read, so safe to send again after a lost answer)."""
    query = {**params, "page": number, "perPage": page_size}
    try:
        response = run.api.request("POST", SEARCH_PATH, params=query, json=body, retry_post=True)
    except GetResponseAPIError as error:
        if error.http_status in PLAN_GATED_STATUSES:
            raise StreamUnavailableError(SEARCH_PATH, error) from error
        raise
    return Page.from_response(number, response, listing=True)


def searched_pages(
    run: SyncRun,
    forms: list[dict[str, t.Any]],
    *,
    page_size: int,
    on_repair: Callable[[Repair], None],
) -> Iterator[Page]:
    """Every page of every search, oldest contact first (`sort[createdOn]`)."""
    for body in forms:
        fetch = partial(search_page, run, body, page_size)
        reader = PageReader(fetch, page_size=page_size, parallel=run.parallel_requests)
        params = {"sort[createdOn]": "asc"}
        yield from iter_stable_pages(reader, params, key="contactId", on_repair=on_repair)


class ContactSearchStream(GetResponseStream):
    """Contacts of one subscriber type on every list of the account (a contact search)."""

    path = SEARCH_PATH
    primary_keys = ("contactId",)
    subscribers_type: t.ClassVar[str] = ""

    def searched(self) -> Iterator[Page]:
        """Every page of this stream's search: one request per 1,000 contacts and 800 lists."""
        list_ids = self.run.list_parents(LISTS, self.reader(LISTS.path), self.log_repair)
        forms = search_forms(self.subscribers_type, list_ids)
        return searched_pages(self.run, forms, page_size=self.page_size, on_repair=self.log_repair)

    @override
    def pages(self, context: Context | None) -> Iterator[Page]:
        return self.searched()


class RemovedContactsStream(ContactSearchStream):
    """Removed contacts with `reason` and `deletedOn`: all read, those past the bookmark emitted.

    The search cannot filter on `deletedOn`, so each run reads every removed contact and emits
    those removed after the bookmark less the lookback (`client_filtered`).
    """

    name = "removed_contacts"
    subscribers_type = "removed"
    replication_key = "deletedOn"
    client_filtered = True


class UnconfirmedContactsStream(ContactSearchStream):
    """Contacts who have not confirmed a double opt-in yet; read in full."""

    name = "unconfirmed_contacts"
    subscribers_type = "unconfirmed"


def removed_since(
    pages: Iterator[Page], start: dt.datetime, end: dt.datetime
) -> list[dict[str, t.Any]]:
    """Removed contacts with `start <= deletedOn <= end`, oldest removal first."""
    found = []
    for page in pages:
        for item in page.items:
            try:
                moment = windows.parse_moment(str(item.get("deletedOn")))
            except (ValueError, OverflowError):
                continue  # no usable removal time: removed_contacts reports it
            if start <= moment <= end:
                found.append((moment, item))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def as_deleted_contact(item: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A removed contact as a `contacts` record: its removal is its last change (`changedOn`).

    `_sdc_deleted_at` is the Singer convention that targets read as "mark or drop this row".
    """
    record = {key: item.get(key) for key in CONTACT_KEYS}
    record["scoring"] = item.get("score")
    record["changedOn"] = item.get("deletedOn")
    record[DELETED_AT] = item.get("deletedOn")
    return record
