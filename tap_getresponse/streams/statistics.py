"""Daily statistics: the base of every per-day statistics stream (messages and lists)."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.fanout import PerParentStream

if t.TYPE_CHECKING:
    import datetime as dt


class DailyStatisticsStream(PerParentStream):
    """One message's or list's statistics per day, bookmarked per parent, windowed on `createdOn`.

    Windows step back `statistics_lookback_days` whole days: GetResponse keeps counting opens,
    clicks and list changes into recent days after they were first read.
    """

    is_sorted = True
    window_field = "createdOn"
    window_sort = False
    extra_params: t.ClassVar = {"query[groupBy]": "day"}

    @override
    @property
    def lookback(self) -> dt.timedelta:
        return self.settings.statistics_lookback
