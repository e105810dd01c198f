"""Contacts `/contacts` never lists: removed and unconfirmed ones, found by a contact search.

The official route is `POST /search-contacts/contacts` (OpenAPI
`getContactsFromSearchContactsConditions`): its body `SearchContactsBySearchForm` names one
subscriber type and sections of lists; each item is a `SearchedContactDetails`, which for a
removed contact carries its `reason` and `deletedOn`.

The removal search serves two streams: `removed_contacts`, and the soft deletes of `contacts`. When
both are selected it runs once per run: `contacts` (synced first, STREAMS order) keeps what
`removed_contacts` will emit for it in the run (`SyncRun.keep`), which emits that instead.
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
from tap_getresponse.run import (
    STREAM_FAILURES,
    ParentCollection,
    Shared,
    StreamUnavailableError,
    read_error,
)

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator, Mapping

    from singer_sdk import Stream
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
#: The removal search as `contacts` read it, kept for `removed_contacts`: the removals that stream
#: emits, as one page, or the error the search ended with (the same request would meet it again).
KEPT_REMOVALS: Shared[Page | Exception] = Shared("removed contacts")


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
        failure = read_error(error, "POST", SEARCH_PATH)  # a 400 stops the stream, not the run
        if failure is error:
            raise
        raise failure from error
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

    @override
    def searched(self) -> Iterator[Page]:
        # `contacts` may have searched already this run: its removals for this stream, or the
        # error it met, are kept (`removed_since`), and no second search is sent.
        kept = self.run.take(KEPT_REMOVALS)
        if kept is None:
            return super().searched()
        if isinstance(kept, Exception):
            raise kept
        return iter([kept])

    def floor(self) -> dt.datetime | None:
        """The earliest removal this run emits: its bookmark less the lookback, or `start_date`."""
        return self.window_start(self.get_context_state(None))


class UnconfirmedContactsStream(ContactSearchStream):
    """Contacts who have not confirmed a double opt-in yet; read in full."""

    name = "unconfirmed_contacts"
    subscribers_type = "unconfirmed"


def removed_since(
    contacts: GetResponseStream,
    start: dt.datetime,
    *,
    taker: Stream | None,
) -> list[dict[str, t.Any]]:
    """Contacts removed from `start` to the run's window end, oldest removal first.

    For `contacts`' soft deletes. When `taker`, the `removed_contacts` stream, is selected it is
    synced later in the run: what it would emit (every removal from its own floor) is kept for it
    as the search goes, or the error the search ended with, so that the run searches once. The
    memory that takes is what `removed_contacts` emits: on its first run, every removal.
    """
    run = contacts.run
    end = run.window_end
    keeping = isinstance(taker, RemovedContactsStream) and taker.selected
    # Only then: reading its floor writes an (empty) bookmark for it into the state.
    floor = taker.floor() if keeping and isinstance(taker, RemovedContactsStream) else None
    found, kept = [], []
    try:
        lists = run.list_parents(LISTS, contacts.reader(LISTS.path), contacts.log_repair)
        forms = search_forms("removed", lists)
        pages = searched_pages(
            run, forms, page_size=contacts.page_size, on_repair=contacts.log_repair
        )
        for page in pages:
            for item in page.items:
                moment = removal_moment(item)
                if keeping and (moment is None or floor is None or moment >= floor):
                    kept.append(item)
                if moment is not None and start <= moment <= end:
                    found.append((moment, item))
    except (StreamUnavailableError, *STREAM_FAILURES) as error:
        if keeping:
            run.keep(KEPT_REMOVALS, error, takers=1)
        raise
    if keeping:
        run.keep(KEPT_REMOVALS, Page(1, kept, total_pages=1, total_count=len(kept)), takers=1)
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def removal_moment(item: Mapping[str, t.Any]) -> dt.datetime | None:
    """When the contact was removed; None without a usable `deletedOn` (the stream reports it)."""
    try:
        return windows.parse_moment(str(item.get("deletedOn")))
    except (ValueError, OverflowError):
        return None


def as_deleted_contact(item: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A removed contact as a `contacts` record: its removal is its last change (`changedOn`).

    `_sdc_deleted_at` is the Singer convention that targets read as "mark or drop this row".
    """
    record = {key: item.get(key) for key in CONTACT_KEYS}
    record["scoring"] = item.get("score")
    record["changedOn"] = item.get("deletedOn")
    record[DELETED_AT] = item.get("deletedOn")
    return record
