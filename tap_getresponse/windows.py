"""Bounded, ascending time windows for incremental streams: where a window opens and ends.

The contract (README, "Incremental sync"): a stream with a server-side time filter reads
`query[<field>][from]=<bookmark - lookback>` and `query[<field>][to]=<run start>`, sorted ascending
by the same field. Both bounds are inclusive (OpenAPI `getContactList`, `query[changedOn][from]`
and `[to]`), so records on the bookmark are read again (the small overlap targets dedupe on
primary keys) and nothing on it is lost. Reading a window over data that changes while it is
paged is `tap_getresponse.api.collections.iter_window_pages`.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from tap_getresponse.api.collections import FilterRange
from tap_getresponse.normalize import normalise_datetime

if t.TYPE_CHECKING:
    from collections.abc import Mapping


class BookmarkError(ValueError):
    """A saved bookmark no window can open from: not a date-time, or out of range."""


def format_filter_time(moment: dt.datetime) -> str:
    """A `DateOrDateTime` filter value in GetResponse's own form: `2018-01-15T13:30:42+0000`."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}+0000"  # %Y drops leading zeros before 1000


def parse_moment(value: str) -> dt.datetime:
    """An aware datetime from a bookmark, a setting or an API value (a date is midnight UTC)."""
    return dt.datetime.fromisoformat(normalise_datetime(value))


def bookmark(state: Mapping[str, t.Any], replication_key: str) -> dt.datetime | None:
    """The saved bookmark of a stream or partition state, if it is for `replication_key`."""
    value = state.get("replication_key_value")
    if not value or state.get("replication_key", replication_key) != replication_key:
        return None
    return parse_moment(str(value))


def checked_bookmark(value: object, lookback: dt.timedelta) -> dt.datetime:
    """A saved bookmark as a datetime; BookmarkError says why it cannot open a window."""
    try:
        saved = parse_moment(str(value))
    except ValueError:
        msg = f"bookmark {value!r} is not a date-time"
        raise BookmarkError(msg) from None
    try:
        saved.astimezone(dt.UTC) - lookback
    except OverflowError:
        msg = f"bookmark {value!r} less the lookback ({lookback}) falls before year 1"
        raise BookmarkError(msg) from None
    return saved


def window_start(
    start_date: dt.datetime | None,
    state: Mapping[str, t.Any],
    replication_key: str,
    lookback: dt.timedelta,
) -> dt.datetime | None:
    """Where a window opens: the bookmark less the lookback, never before `start_date`."""
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

    def filter(self) -> FilterRange:
        """The range as the API writes it, for `api.collections`."""
        start = format_filter_time(self.start) if self.start else None
        return FilterRange(self.field, start, format_filter_time(self.end), self.sort)

    def params(self) -> dict[str, str]:
        """Filter (and sort) parameters for one request."""
        return self.filter().params()
