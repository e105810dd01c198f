"""Bounded, ascending time windows for incremental streams, and re-reads where paging slid.

The contract (README, "Incremental sync"): a stream with a server-side time filter reads
`query[<field>][from]=<bookmark - lookback>` and `query[<field>][to]=<run start>`, sorted ascending
by the same field. Both bounds are inclusive (reference §6), so records on the bookmark are read
again (the small overlap targets dedupe on primary keys) and nothing on it is lost.

Paging by page number over data that changes during the run can skip a record: when a record
before the current position leaves the window (updated past `to`, or deleted), every later record
slides one place forward and the first record of the next page lands on the page already read.
A window with a fixed `to` can only lose records, so `TotalCount` falling between two pages is the
sign of a slide; the records that may have slid are exactly those between the last record of the
earlier page and the first record of the later one, which are re-read before the later page is
handed on. Records therefore still arrive in ascending order and the bookmark never passes a
record that was not emitted.

Full-table streams have no window to bound, so they use the same signal differently: when
`TotalCount` falls by `n` between two pages, the last `n` positions of the earlier page are read
again in today's numbering and records not yet seen are handed on (`iter_stable_pages`).
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from tap_getresponse.api.collections import Page
from tap_getresponse.normalize import normalise_datetime

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_getresponse.client import GetResponseStream


def format_filter_time(moment: dt.datetime) -> str:
    """A `DateOrDateTime` filter value in GetResponse's own form: `2018-01-15T13:30:42+0000`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_moment(value: str) -> dt.datetime:
    """An aware datetime from a bookmark, a setting or an API value (a date is midnight UTC)."""
    return dt.datetime.fromisoformat(normalise_datetime(value))


def bookmark(state: Mapping[str, t.Any], replication_key: str) -> dt.datetime | None:
    """The saved bookmark of a stream or partition state, if it is for `replication_key`."""
    value = state.get("replication_key_value")
    if not value or state.get("replication_key", replication_key) != replication_key:
        return None
    return parse_moment(str(value))


def window_start(
    config: Mapping[str, t.Any],
    state: Mapping[str, t.Any],
    replication_key: str,
    lookback: dt.timedelta,
) -> dt.datetime | None:
    """Where a window opens: the bookmark less the lookback, never before `start_date`."""
    start_date = parse_moment(str(config["start_date"])) if config.get("start_date") else None
    saved = bookmark(state, replication_key)
    if saved is None:
        return start_date
    start = saved - lookback
    return max(start, start_date) if start_date else start


@dataclass(frozen=True, slots=True)
class Window:
    """An inclusive `[start, end]` range on one server-side filter field."""

    field: str
    start: dt.datetime | None
    end: dt.datetime
    #: Whether to add `sort[<field>]=asc` (collections that can sort by the filter field).
    sort: bool = True

    def params(self, start: str | None = None, end: str | None = None) -> dict[str, str]:
        """Filter (and sort) parameters; `start`/`end` override the bounds with raw API values."""
        params = {f"sort[{self.field}]": "asc"} if self.sort else {}
        lower = start or (format_filter_time(self.start) if self.start else None)
        if lower:
            params[f"query[{self.field}][from]"] = lower
        params[f"query[{self.field}][to]"] = end or format_filter_time(self.end)
        return params


def iter_window_pages(
    stream: GetResponseStream,
    path: str,
    params: dict[str, t.Any],
    window: Window,
) -> Iterator[Page]:
    """Every page of the window in ascending order, re-reading boundaries where records slid."""
    key = stream.primary_keys[0] if stream.primary_keys else None
    previous: Page | None = None
    high = ""  # the window field of the last record handed on
    for fetched in stream.iter_pages(path, params | window.params()):
        # Pages are fetched in parallel: a page fetched before a slide can repeat records that
        # a later-numbered page fetched after it already holds. Below the high-water mark every
        # record was handed on already (nothing can enter a window with a fixed end), so drop.
        page = fetched
        if high:
            kept = [item for item in fetched.items if str(item.get(window.field) or "") >= high]
            page = Page(fetched.number, kept, fetched.total_pages, fetched.total_count)
        if previous is not None and _slid(previous, fetched):
            repair = _reread_boundary(
                stream,
                path=path,
                params=params,
                window=window,
                lower=high,
                previous=previous,
                page=page,
                key=key,
            )
            _log_repair(stream, previous, page, repair)
            if repair.items:
                high = max(high, _last_value(repair, window.field))
                yield repair
        if page.items:
            high = max(high, _last_value(page, window.field))
        yield page  # consumers may change the records: read them before handing them on
        if fetched.items:
            previous = fetched


def iter_stable_pages(
    stream: GetResponseStream,
    path: str,
    params: dict[str, t.Any],
    key: str | None = None,
) -> Iterator[Page]:
    """Every page of a full-table read; positions that slid while paging are read again."""
    key = key or (stream.primary_keys[0] if stream.primary_keys else None)
    seen: set[t.Any] = set()
    previous: Page | None = None
    for page in stream.iter_pages(path, params):
        if key is not None and previous is not None and _slid(previous, page):
            repair = _reread_positions(
                stream,
                path=path,
                params=params,
                previous=previous,
                page=page,
                key=key,
                seen=seen,
            )
            _log_repair(stream, previous, page, repair)
            if repair.items:
                yield repair
        if key is not None:
            seen.update(item.get(key) for item in page.items)
        yield page
        if page.items:
            previous = page


def _last_value(page: Page, field: str) -> str:
    return str(page.items[-1].get(field) or "")


def _slid(previous: Page, page: Page) -> bool:
    return (
        previous.total_count is not None
        and page.total_count is not None
        and page.total_count < previous.total_count
    )


def _log_repair(stream: GetResponseStream, previous: Page, page: Page, repair: Page) -> None:
    stream.logger.info(
        "Stream '%s': %d records left the collection during paging; re-read %d records "
        "between pages %d and %d",
        stream.name,
        (previous.total_count or 0) - (page.total_count or 0),
        len(repair.items),
        previous.number,
        page.number,
    )


def _reread_boundary(  # noqa: PLR0913 - the boundary needs both pages, the window, the mark
    stream: GetResponseStream,
    *,
    path: str,
    params: dict[str, t.Any],
    window: Window,
    lower: str,
    previous: Page,
    page: Page,
    key: str | None,
) -> Page:
    """Records from `lower` (the last handed on) to the first of `page` that neither page holds.

    The range is read page by page, and read again whole while it slides under the re-read
    itself (a late page, e.g. one retried after a 5xx, can leave a gap of several pages).
    """
    upper = page.items[0].get(window.field) if page.items else None
    seen = {item.get(key) for item in (*previous.items, *page.items)} if key else set()
    found: list[dict[str, t.Any]] = []
    slid = True
    while slid:
        slid, last = False, None
        for boundary in stream.iter_pages(path, params | window.params(lower, upper), parallel=1):
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


def _reread_positions(  # noqa: PLR0913 - positions need both pages and what was seen
    stream: GetResponseStream,
    *,
    path: str,
    params: dict[str, t.Any],
    previous: Page,
    page: Page,
    key: str,
    seen: set[t.Any],
) -> Page:
    """The last `lost` positions of `previous`, in today's numbering, minus records already seen."""
    size = stream.page_size
    lost = (previous.total_count or 0) - (page.total_count or 0)
    end = previous.number * size
    first = max(1, (end - lost) // size + 1)
    current = {item.get(key) for item in page.items}
    found: list[dict[str, t.Any]] = []
    for number in range(first, previous.number + 1):
        for item in stream.fetch_page(path, params, number).items:
            ident = item.get(key)
            if ident not in seen and ident not in current:
                found.append(item)
                seen.add(ident)
    return Page(number=previous.number, items=found, total_pages=None, total_count=None)
