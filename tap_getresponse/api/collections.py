"""Reading GetResponse collections: pages, parallel paging and ordered, bounded fan-out.

Both plugins read collections through this module (the tap its streams, the target its lists,
custom fields, tags and list members); it knows requests and pages, never streams or sinks.

Paging: GetResponse pages with `page`/`perPage` and reports `TotalCount`, `TotalPages` and
`CurrentPage` headers; a page past the end is `[]` (API docs, "Pagination"). Once page 1 has
revealed `TotalPages`, the remaining pages are independent, so up to `parallel` of them are fetched
at once while pages are still handed out strictly in page order: callers see exactly what a
sequential reader would see.

Fan-out: `ordered_map` runs one call per parent (contact details, per-message statistics...) with at
most `parallel` parents being fetched or waiting to be read, handing results back in the parents'
order, so memory stays bounded and records come out as a sequential reader would emit them. The
HTTP layer's process-wide rate governor still caps the whole process at 10 requests in flight.
"""

from __future__ import annotations

import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import msgspec

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import requests

    from tap_getresponse.api.client import GetResponseClient


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a collection and the paging headers that came with it."""

    number: int
    items: list[dict[str, t.Any]]
    total_pages: int | None
    total_count: int | None

    @classmethod
    def from_response(cls, number: int, response: requests.Response) -> Page:
        """Read a page from a GetResponse collection response (msgspec: twice `json`'s speed)."""
        body = msgspec.json.decode(response.content)
        items = body if isinstance(body, list) else [body]
        return cls(
            number=number,
            items=items,
            total_pages=_int_header(response, "TotalPages"),
            total_count=_int_header(response, "TotalCount"),
        )

    def is_last(self, page_size: int) -> bool:
        """Whether no page can follow this one (§2.1: stop on `[]` or CurrentPage >= TotalPages)."""
        if not self.items:
            return True
        if self.total_pages is not None:
            return self.number >= self.total_pages
        return len(self.items) < page_size


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


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
    known_last = page.total_pages
    next_number = 2
    if known_last is not None and parallel > 1:
        last = yield from _fetch_known_pages(fetch, range(2, known_last + 1), parallel, page_size)
        if last is None or last.is_last(page_size) or len(last.items) < page_size:
            return
        # The collection grew while it was read: carry on page by page until it ends.
        next_number = known_last + 1
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
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="getresponse-page") as pool:
        pending: list[Future[Page]] = []
        upcoming = iter(numbers)
        for number in upcoming:
            pending.append(pool.submit(fetch, number))
            if len(pending) >= parallel:
                break
        while pending:
            last = pending.pop(0).result()
            yield last
            if not last.items or len(last.items) < page_size:
                for future in pending:
                    future.cancel()
                return last
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.submit(fetch, following))
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
    return Page.from_response(number, client.request("GET", path, params=query))


def iter_items(
    client: GetResponseClient,
    path: str,
    params: Mapping[str, t.Any] | None = None,
    *,
    page_size: int,
) -> Iterator[dict[str, t.Any]]:
    """Every item of a paginated collection, page after page."""
    for page in iter_pages(
        lambda number: fetch_page(client, path, params, number, page_size),
        page_size=page_size,
        parallel=1,
    ):
        yield from page.items


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
