"""Reading GetResponse collections: pages, parallel paging and ordered, bounded fan-out.

Both plugins read collections through this module (the tap its streams, the target its lists,
custom fields, tags and list members); it knows requests and pages, never streams or sinks.

Paging: GetResponse pages with `page`/`perPage` and reports `TotalCount`, `TotalPages` and
`CurrentPage` headers; a page past the end is `[]` (OpenAPI `info.description`, "Pagination").
Once page 1 has revealed `TotalPages`, the remaining pages are independent, so up to `parallel` of
them are fetched at once while pages are still handed out strictly in page order: callers see
exactly what a sequential reader would see. Headers that contradict the pages (negative, fewer
pages than `TotalCount` needs, a full page where they say the collection ends) are not believed:
the read goes on until a short page, so a wrong header never cuts a collection short. One page,
its shape and its headers, is `pages.Page`.

Fan-out: `ordered_map` runs one call per parent (contact details, per-message statistics...) with at
most `parallel` parents being fetched or waiting to be read, handing results back in the parents'
order, so memory stays bounded and records come out as a sequential reader would emit them. The
HTTP layer's process-wide rate governor still caps the whole process at 10 requests in flight.

Re-reads: paging by page number over data that changes during the read can skip a record. When a
record before the current position leaves the collection (updated past a window's fixed end, or
deleted), every later record slides one place forward and the first record of the next page lands
on a page already read. `TotalCount` falling between two pages is the sign. A window read
(`iter_window_pages`) then reads again the records between the last one handed on and the first
of the later page, so records still arrive in ascending order and a bookmark never passes a
record that was not handed on; a full read (`iter_stable_pages`) reads the last positions of the
earlier page again in today's numbering. Both work over a `PageReader` (a fetch function and
sizes), never over a stream, and report each repair to an `on_repair` callback.
"""

from __future__ import annotations

import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter

from tap_getresponse.api.pages import Page, UnexpectedResponseError, json_kind

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from tap_getresponse.api.client import GetResponseClient

__all__ = [
    "FilterRange",
    "Page",
    "PageReader",
    "Repair",
    "UnexpectedResponseError",
    "fetch_page",
    "iter_items",
    "iter_pages",
    "iter_stable_pages",
    "iter_window_pages",
    "json_kind",
    "ordered_map",
]


def iter_pages(
    fetch: Callable[[int], Page],
    *,
    page_size: int,
    parallel: int,
) -> Iterator[Page]:
    """Yield every page of a collection in order, keeping at most `parallel` pages in flight."""
    page = fetch(1)
    yield page
    if page.is_last(page_size):
        return
    known_last = page.pages_known(page_size)
    next_number = 2
    if known_last is not None and parallel > 1:
        last = yield from _fetch_known_pages(fetch, range(2, known_last + 1), parallel, page_size)
        if last is not None:
            if last.is_last(page_size):
                return
            # The collection grew while it was read, or its headers were wrong: carry on page
            # by page until it ends.
            next_number = last.number + 1
    while True:
        page = fetch(next_number)
        yield page
        if page.is_last(page_size):
            return
        next_number += 1


def _fetch_known_pages(
    fetch: Callable[[int], Page],
    numbers: range,
    parallel: int,
    page_size: int,
) -> t.Generator[Page, None, Page | None]:
    """Fetch `numbers` with a sliding window of futures; yield in order; return the last page."""
    last: Page | None = None
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="getresponse-page")
    try:
        pending: list[Future[Page]] = []
        upcoming = iter(numbers)
        for number in upcoming:
            pending.append(pool.submit(fetch, number))
            if len(pending) >= parallel:
                break
        while pending:
            last = pending.pop(0).result()
            yield last
            if last.received < page_size:
                return last
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.submit(fetch, following))
    finally:
        # A short page, a failed page or an abandoned read: pages not started are not sent.
        pool.shutdown(wait=True, cancel_futures=True)
    return last


def fetch_page(
    client: GetResponseClient,
    path: str,
    params: Mapping[str, t.Any] | None,
    number: int,
    page_size: int,
) -> Page:
    """Page `number` of a paginated collection, `page_size` items per page (at most 1000)."""
    query = {**(params or {}), "page": number, "perPage": page_size}
    return Page.from_response(number, client.request("GET", path, params=query), listing=True)


def iter_items(
    client: GetResponseClient,
    path: str,
    params: Mapping[str, t.Any] | None = None,
    *,
    page_size: int,
) -> Iterator[dict[str, t.Any]]:
    """Every item of a paginated collection, page after page."""
    reader = PageReader(
        lambda query, number: fetch_page(client, path, query, number, page_size),
        page_size=page_size,
    )
    for page in reader.pages(params or {}):
        yield from page.items


@dataclass(frozen=True, slots=True)
class PageReader:
    """How one collection is read: `fetch(params, number)` gets a page; sizes say how many."""

    fetch: Callable[[Mapping[str, t.Any], int], Page]
    #: Items per page (`perPage`), which tells a short last page from a full one.
    page_size: int
    #: Pages fetched at once once page 1 has revealed `TotalPages`.
    parallel: int = 1
    #: False for collections answered in one response (no `page`/`perPage`): one request.
    paginated: bool = True

    def pages(self, params: Mapping[str, t.Any], *, parallel: int | None = None) -> Iterator[Page]:
        """Every page for `params`, in order; `parallel` overrides the reader's own."""
        if not self.paginated:
            yield self.fetch(params, 1)
            return
        yield from iter_pages(
            lambda number: self.fetch(params, number),
            page_size=self.page_size,
            parallel=self.parallel if parallel is None else parallel,
        )


# -- window and full reads over data that changes while it is paged -----------------------


@dataclass(frozen=True, slots=True)
class FilterRange:
    """An inclusive `query[<field>][from|to]` range in the API's own format (`DateOrDateTime`)."""

    field: str
    start: str | None
    end: str
    #: Whether to add `sort[<field>]=asc` (collections that can sort by the filter field).
    sort: bool = True

    def params(self, start: str | None = None, end: str | None = None) -> dict[str, str]:
        """Filter (and sort) parameters; `start`/`end` narrow the range with raw API values."""
        params = {f"sort[{self.field}]": "asc"} if self.sort else {}
        lower = start or self.start
        if lower:
            params[f"query[{self.field}][from]"] = lower
        params[f"query[{self.field}][to]"] = end or self.end
        return params


@dataclass(frozen=True, slots=True)
class Repair:
    """Records left the collection between pages `after` and `before`; `reread` came back."""

    left: int
    reread: int
    after: int
    before: int


def iter_window_pages(
    reader: PageReader,
    params: Mapping[str, t.Any],
    window: FilterRange,
    *,
    key: str | None,
    on_repair: Callable[[Repair], None],
) -> Iterator[Page]:
    """Every page of `window` in ascending order, re-reading boundaries where records slid."""
    previous: Page | None = None
    high = ""  # the window field of the last record handed on
    for fetched in reader.pages({**params, **window.params()}):
        # Pages are fetched in parallel: a page fetched before a slide can repeat records that
        # a later-numbered page fetched after it already holds. Below the high-water mark every
        # record was handed on already (nothing can enter a window with a fixed end), so drop.
        page = fetched
        if high:
            kept = _at_or_above(fetched.items, window.field, high)
            page = Page(fetched.number, kept, fetched.total_pages, fetched.total_count)
        if previous is not None and _slid(previous, fetched):
            repair = _reread_boundary(
                reader, params, window, lower=high, pages=(previous, page), key=key
            )
            _report(on_repair, previous, page, repair)
            if repair.items:
                high = max(high, _last_value(repair, window.field))
                yield repair
        if page.items:
            high = max(high, _last_value(page, window.field))
        yield page  # consumers may change the records: read them before handing them on
        if fetched.items:
            previous = fetched


def iter_stable_pages(
    reader: PageReader,
    params: Mapping[str, t.Any],
    *,
    key: str | None,
    on_repair: Callable[[Repair], None],
) -> Iterator[Page]:
    """Every page of a full read; positions that slid while paging are read again."""
    seen: set[t.Any] = set()
    previous: Page | None = None
    for page in reader.pages(params):
        if key is not None and previous is not None and _slid(previous, page):
            repair = _reread_positions(reader, params, (previous, page), key=key, seen=seen)
            _report(on_repair, previous, page, repair)
            if repair.items:
                yield repair
        if key is not None:
            seen.update(item.get(key) for item in page.items)
        yield page
        if page.items:
            previous = page


def _at_or_above(items: list[t.Any], field: str, high: str) -> list[t.Any]:
    """The items whose `field`, as text (null as ""), is not below `high` (not empty).

    Usually all of them: one pass in C (`min`) says so; missing, null or mixed values take
    the item-by-item pass.
    """
    try:
        lowest = min(map(itemgetter(field), items), default=high)
    except (KeyError, TypeError):
        lowest = None
    if type(lowest) is str and lowest >= high:
        return items
    return [item for item in items if str(item.get(field) or "") >= high]


def _last_value(page: Page, field: str) -> str:
    return str(page.items[-1].get(field) or "")


def _slid(previous: Page, page: Page) -> bool:
    return (
        previous.total_count is not None
        and page.total_count is not None
        and page.total_count < previous.total_count
    )


def _report(on_repair: Callable[[Repair], None], previous: Page, page: Page, repair: Page) -> None:
    left = (previous.total_count or 0) - (page.total_count or 0)
    on_repair(Repair(left, len(repair.items), previous.number, page.number))


def _reread_boundary(  # noqa: PLR0913 - the boundary needs the range, both pages and the mark
    reader: PageReader,
    params: Mapping[str, t.Any],
    window: FilterRange,
    *,
    lower: str,
    pages: tuple[Page, Page],
    key: str | None,
) -> Page:
    """Records from `lower` (the last handed on) to the first of the later page, in neither page.

    The range is read page by page, and read again whole while it slides under the re-read
    itself (a late page, e.g. one retried after a 5xx, can leave a gap of several pages).
    """
    previous, page = pages
    upper = page.items[0].get(window.field) if page.items else None
    seen = {item.get(key) for item in (*previous.items, *page.items)} if key else set()
    found: list[dict[str, t.Any]] = []
    slid = True
    while slid:
        slid, last = False, None
        for boundary in reader.pages({**params, **window.params(lower, upper)}, parallel=1):
            # Without a key a second pass could not tell records already found: one pass.
            slid = slid or (key is not None and last is not None and _slid(last, boundary))
            last = boundary
            for item in boundary.items:
                ident = item.get(key) if key else None
                if ident is None or ident not in seen:
                    found.append(item)
                    seen.add(ident)
    found.sort(key=lambda item: str(item.get(window.field) or ""))
    return Page(number=previous.number, items=found, total_pages=None, total_count=None)


def _reread_positions(
    reader: PageReader,
    params: Mapping[str, t.Any],
    pages: tuple[Page, Page],
    *,
    key: str,
    seen: set[t.Any],
) -> Page:
    """The last `lost` positions of the earlier page, in today's numbering, minus those seen."""
    previous, page = pages
    size = reader.page_size
    lost = (previous.total_count or 0) - (page.total_count or 0)
    end = previous.number * size
    first = max(1, (end - lost) // size + 1)
    current = {item.get(key) for item in page.items}
    found: list[dict[str, t.Any]] = []
    for number in range(first, previous.number + 1):
        for item in reader.fetch(params, number).items:
            ident = item.get(key)
            if ident not in seen and ident not in current:
                found.append(item)
                seen.add(ident)
    return Page(number=previous.number, items=found, total_pages=None, total_count=None)


# -- ordered, bounded fan-out -------------------------------------------------------------

K = t.TypeVar("K")
R = t.TypeVar("R")


def ordered_map(
    fetch: Callable[[K], R],
    items: Iterable[K],
    *,
    parallel: int,
) -> Iterator[tuple[K, R]]:
    """Yield `(item, fetch(item))` in input order, with at most `parallel` fetches outstanding."""
    if parallel <= 1:
        for item in items:
            yield item, fetch(item)
        return
    source = iter(items)
    pending: deque[tuple[K, Future[R]]] = deque()
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="getresponse-fanout")
    try:
        for item in source:
            pending.append((item, pool.submit(fetch, item)))
            if len(pending) >= parallel:
                break
        while pending:
            item, future = pending.popleft()
            result = future.result()
            for upcoming in source:
                pending.append((upcoming, pool.submit(fetch, upcoming)))
                break
            yield item, result
    finally:
        # An abandoned or failed fan-out must not keep requesting: drop what has not started.
        pool.shutdown(wait=True, cancel_futures=True)
