"""Performance of forms and popups, landing pages and websites: one row per item and active day.

`getPopupGeneralPerformance`, `getLpsGeneralPerformanceStats` and `getWbeGeneralPerformanceStats`
answer one object of totals for an optional `query[date][from]`/`[to]` range ("from this date",
"to this date"), not a series. So the tap asks for ranges and halves those with any activity down
to single days: each row is one item's totals for one `date`, a quiet stretch of any length costs
one request, and a busy one about two per active day (one per calendar day would cost a request
for every quiet day since the item was created). Days without activity have no row.

Each item is a partition bookmarked on `date`; a rerun opens `statistics_lookback_days` before it,
because visits and leads of recent days are still being counted.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from http import HTTPStatus

from typing_extensions import override

from tap_getresponse.api.collections import iter_stable_pages
from tap_getresponse.fanout import PerParentStream
from tap_getresponse.run import STREAM_FAILURES, ParentCollection, StreamUnavailableError
from tap_getresponse.windows import parse_moment

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from singer_sdk import Tap

    from tap_getresponse.run import SyncRun

Totals = dict[str, t.Any]
#: Where an item without a readable creation time is read from (a quiet stretch is one request).
EARLIEST = dt.date(2000, 1, 1)
#: An active range this short is asked day by day: fewer requests than halving when most of its
#: days are active (a rerun's lookback window): 1 + n requests, never 2n - 1.
DAY_BY_DAY = 16


def active_days(
    totals: Callable[[dt.date, dt.date], Totals | None],
    active: Callable[[Totals], bool],
    first: dt.date,
    last: dt.date,
) -> Iterator[tuple[dt.date, Totals]]:
    """Each day of `[first, last]` with activity and its totals, in order.

    Counters never go below zero, so a range whose totals are all zero has no active day: it is
    not asked about again. An active range is halved until its halves are `DAY_BY_DAY` days or
    shorter, then asked day by day.
    """
    ranges = [(first, last)] if first <= last else []
    while ranges:
        low, high = ranges.pop()
        found = totals(low, high)
        if found is None or not active(found):
            continue
        if low == high:
            yield low, found
        elif (high - low).days < DAY_BY_DAY:
            ranges += [(day, day) for day in _days_between(high, low)]
        else:
            middle = low + (high - low) // 2
            ranges += [(middle + dt.timedelta(days=1), high), (low, middle)]


def _days_between(high: dt.date, low: dt.date) -> list[dt.date]:
    """Every day from `high` down to `low` (popped from the end: asked in calendar order)."""
    return [high - dt.timedelta(days=n) for n in range((high - low).days + 1)]


def day_of(value: object) -> dt.date | None:
    """The UTC day of a GetResponse timestamp (`/lps` and `/popups` write GMT without offset)."""
    try:
        return parse_moment(str(value)).astimezone(dt.UTC).date() if value else None
    except (ValueError, OverflowError):
        return None


class PerformanceStream(PerParentStream):
    """One item's totals per active day (`date`), bookmarked per item (see the module docstring)."""

    replication_key = "date"
    is_sorted = True
    paginated = False
    #: The parent's creation time: no day before it is asked about.
    created_field: t.ClassVar[str] = "createdAt"
    #: Counters of the answer that tell an active range from a quiet one.
    counters: t.ClassVar[tuple[str, ...]]

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """No parents listed yet."""
        super().__init__(tap, run)
        self._created: dict[str, dt.date | None] | None = None

    @override
    @property
    def lookback(self) -> dt.timedelta:
        return self.settings.statistics_lookback

    @override
    @property
    def parent_ids(self) -> list[str]:
        # Listed here, not through the run's shared listing: that one keeps ids only, and the
        # creation day bounds how far back a first run asks.
        if self._created is None:
            self._created = {}
            try:
                self._created = self.list_created()
            except StreamUnavailableError as error:
                self.skip_unavailable(error, None)
            except STREAM_FAILURES as error:  # listed before any record: the bookmark stays
                self.run.stream_failed(self.name, error, self.stream_state)
        return list(self._created)

    def list_created(self) -> dict[str, dt.date | None]:
        """Every parent's id and creation day, in creation order."""
        parent = t.cast("ParentCollection", self.parent)
        params = {
            "fields": f"{parent.key},{self.created_field}",
            f"sort[{self.created_field}]": "asc",
        }
        reader = self.parent_reader(parent)
        created: dict[str, dt.date | None] = {}
        for page in iter_stable_pages(reader, params, key=parent.key, on_repair=self.log_repair):
            for item in page.items:
                ident = item.get(parent.key)
                if isinstance(ident, str | int) and str(ident):
                    created.setdefault(str(ident), day_of(item.get(self.created_field)))
        return created

    def first_day(self, parent_id: str, saved: Mapping[str, t.Any]) -> dt.date:
        """The bookmark less the lookback, never before `start_date` or the item's creation."""
        start = self.window_start(saved)
        days = [start.astimezone(dt.UTC).date()] if start else []
        created = (self._created or {}).get(parent_id)
        days += [created] if created else []
        return max(days, default=EARLIEST)

    def active(self, totals: Totals) -> bool:
        """Whether any counter is other than zero (a value that is no number counts as active)."""
        return any(totals.get(name) not in (None, 0, "0") for name in self.counters)

    def totals(self, path: str, low: dt.date, high: dt.date) -> Totals | None:
        """The item's totals from `low` to `high`, both days included."""
        params = {"query[date][from]": low.isoformat(), "query[date][to]": high.isoformat()}
        page = self.fetch_page(path, params, 1)
        return page.items[0] if page.items else None

    @override
    def fetch_parent(self, parent_id: str, saved: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
        path = self.get_path({self.parent_key: parent_id})
        first, last = self.first_day(parent_id, saved), self.run.window_end.date()
        try:
            days = list(active_days(lambda a, b: self.totals(path, a, b), self.active, first, last))
        except StreamUnavailableError as error:
            if error.http_status != HTTPStatus.NOT_FOUND:  # 403: the feature is missing
                raise
            self.logger.debug("Stream '%s': %s %s is gone", self.name, self.parent_key, parent_id)
            return []
        return [
            {**found, self.parent_key: parent_id, "date": day.isoformat()} for day, found in days
        ]


POPUPS = ParentCollection("/popups", "popupId")
LANDING_PAGES = ParentCollection("/lps", "lpsId")
WEBSITES = ParentCollection("/websites", "websiteId")


class PopupPerformanceStream(PerformanceStream):
    """Views, clicks, leads and click-through rate of each form or popup, per day."""

    name = "popup_performance"
    path = "/statistics/popups/{popupId}/performance"
    parent = POPUPS
    parent_key = "popupId"
    primary_keys = ("popupId", "date")
    counters = ("views", "clicks", "leads")


class LandingPagePerformanceStream(PerformanceStream):
    """Page views, visits and unique visitors of each landing page (`/lps`), per day."""

    name = "landing_page_performance"
    path = "/statistics/lps/{lpsId}/performance"
    parent = LANDING_PAGES
    parent_key = "lpsId"
    primary_keys = ("lpsId", "date")
    counters = ("pageViews", "visits", "uniqueVisitors")


class WebsitePerformanceStream(PerformanceStream):
    """Page views, visits and unique visitors of each website, per day."""

    name = "website_performance"
    path = "/statistics/wbe/{websiteId}/performance"
    parent = WEBSITES
    parent_key = "websiteId"
    primary_keys = ("websiteId", "date")
    counters = ("pageViews", "visits", "uniqueVisitors")
