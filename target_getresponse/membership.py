"""Which emails a list already holds: a per-list index, page reads and exact-match lookups.

Why a rerun never duplicates: before adding, the loader asks which of a batch's emails the list
already holds and sends only the others.

Finding members costs either one `getContactList` page (`query[campaignId]`) per 1000 members (the
whole list, once per run) or one exact-match lookup per email (`query[email]` with
`additionalFlags=exactMatch`; OpenAPI operation `getContactList`). Membership reads the first page,
then looks emails up one by one until the lookups spent would pay for the rest of the pages, and
then reads the rest (never more than twice the cheaper choice, whatever the input size).
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass, field

from tap_getresponse.api.collections import fetch_page, ordered_map
from tap_getresponse.api.errors import json_body
from tap_getresponse.api.limits import MAX_PAGE_SIZE

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from tap_getresponse.api import GetResponseClient
    from tap_getresponse.api.collections import Page

K = t.TypeVar("K")
R = t.TypeVar("R")


def parallel_map(function: Callable[[K], R], items: Iterable[K], parallel: int) -> list[R]:
    """`function` over `items`, up to `parallel` at a time (the governor paces the calls)."""
    items = list(items)
    width = parallel if len(items) > 1 else 1
    return [result for _, result in ordered_map(function, items, parallel=width)]


def known_pages(page: Page) -> int:
    """How many pages the collection has, as far as `page` tells.

    `TotalPages` when the header came; without it, one more page while pages come back full.
    """
    if page.total_pages is not None:
        return page.total_pages
    return page.number + 1 if page.received >= MAX_PAGE_SIZE else page.number


@dataclass(slots=True)
class ListIndex:
    """What the loader knows of one list's members: email -> contact id (None: added this run)."""

    members: dict[str, str | None] = field(default_factory=dict)
    pages: int | None = None
    complete: bool = False
    lookups: int = 0
    #: This run removed contacts from the list: pages read before then no longer line up.
    removed: bool = False


class Membership:
    """The members of each list the run loads into, read as cheaply as the batch allows."""

    def __init__(self, client: GetResponseClient, *, parallel: int) -> None:
        """Nothing is read until the first contact of a list arrives."""
        self.client = client
        self.parallel = max(1, parallel)
        self._lists: dict[str, ListIndex] = {}

    def index(self, campaign_id: str) -> ListIndex:
        """What is known of the list's members (emails are lowercase)."""
        return self._lists.setdefault(campaign_id, ListIndex())

    def members(self, campaign_id: str, emails: Iterable[str]) -> dict[str, str | None]:
        """Those of `emails` (lowercase) already on the list, with their contact ids."""
        index = self.index(campaign_id)
        if index.pages is None:
            self._read_pages(campaign_id, index, [1])
        unknown = [e for e in dict.fromkeys(emails) if e not in index.members]
        if unknown and not index.complete:
            unread = range(2, (index.pages or 1) + 1)
            if index.lookups + len(unknown) >= len(unread):
                self._read_rest(campaign_id, index)
            else:
                index.lookups += len(unknown)
                ids = self.lookup_all(campaign_id, unknown)
                for email, contact_id in zip(unknown, ids, strict=True):
                    if contact_id is not None:
                        index.members[email] = contact_id
        return {e: index.members[e] for e in emails if e in index.members}

    def forget(self, campaign_id: str, email: str) -> None:
        """`email` was removed from the list by this run."""
        index = self.index(campaign_id)
        index.members.pop(email, None)
        index.removed = True

    def _read_rest(self, campaign_id: str, index: ListIndex) -> None:
        """The pages after the first, or every page if this run changed the list since.

        Pages are offsets (`page` times `perPage`): once this run removed or added contacts,
        members move to other pages, and reading on from page 2 would miss some (a missed
        member would count as already removed, or be sent again).
        """
        if index.removed or None in index.members.values():
            index.pages = None
            self._read_pages(campaign_id, index, [1])
        self._read_pages(campaign_id, index, range(2, (index.pages or 1) + 1))

    def lookup(self, campaign_id: str, email: str) -> str | None:
        """The contact id of `email` on the list, by exact match, or None."""
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
        items = json_body(response)
        members = [m for item in items if (m := _member(item))] if isinstance(items, list) else []
        return next((contact_id for found, contact_id in members if found == email), None)

    def lookup_all(self, campaign_id: str, emails: Sequence[str]) -> list[str | None]:
        """`lookup` of each email, in order, several at a time."""
        return parallel_map(lambda email: self.lookup(campaign_id, email), emails, self.parallel)

    def still_missing(self, campaign_id: str, missing: set[str], sent: int) -> set[str]:
        """Those of `missing` not on the list yet, by the cheaper of lookups and a whole read.

        `sent` is how many contacts this run added to the list (the list grew by that much).
        """
        pages = (self.index(campaign_id).pages or 1) + math.ceil(sent / MAX_PAGE_SIZE)
        if len(missing) <= pages:
            emails = sorted(missing)
            ids = self.lookup_all(campaign_id, emails)
            return {e for e, contact_id in zip(emails, ids, strict=True) if contact_id is None}
        index = ListIndex()
        self._read_pages(campaign_id, index, [1])
        self._read_pages(campaign_id, index, range(2, (index.pages or 1) + 1))
        return missing - index.members.keys()

    def _read_pages(self, campaign_id: str, index: ListIndex, numbers: Iterable[int]) -> None:
        numbers = list(numbers)
        params = {"query[campaignId]": campaign_id, "fields": "email,contactId"}
        pages = parallel_map(
            lambda number: fetch_page(self.client, "/contacts", params, number, MAX_PAGE_SIZE),
            numbers,
            self.parallel,
        )
        for page in pages:
            index.pages = max(index.pages or 0, known_pages(page))
            for item in page.items:
                if member := _member(item):
                    index.members.setdefault(*member)
        if index.pages is not None and max(numbers, default=1) >= index.pages:
            index.complete = True


def _member(item: object) -> tuple[str, str] | None:
    """(lowercase email, contact id) of a listed contact; None for an item without both.

    The API always sends both (`fields=email,contactId`); an item without them cannot be
    matched to a record, and is left out rather than ending the load.
    """
    if not isinstance(item, dict):
        return None
    email, contact_id = item.get("email"), item.get("contactId")
    if not (isinstance(email, str) and email and isinstance(contact_id, str) and contact_id):
        return None
    return email.lower(), contact_id
