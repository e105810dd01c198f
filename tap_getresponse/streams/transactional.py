"""Transactional emails and their daily statistics (GetResponse MAX with the add-on only).

Both operations (`getTransactionalEmailsList`, `getTransactionalEmailsStatistics`) are labelled
"GetResponse MAX, Add-on required": elsewhere they answer 403 and the stream is skipped with one
warning (`GetResponseStream.skip_unavailable`), as `sms` is.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream
from tap_getresponse.normalize import interval_start

if t.TYPE_CHECKING:
    import datetime as dt

    from singer_sdk.helpers.types import Context


class TransactionalEmailsStream(GetResponseStream):
    """Transactional emails, incremental on `sentOn` (`query[sentOn]`; the list cannot sort).

    An item carries its send time at `recipients.to.statuses.sentOn`; it is lifted to `sentOn`,
    the replication key. Without a sort the SDK keeps the bookmark as progress until the stream
    ends, then saves the latest `sentOn` emitted.
    """

    name = "transactional_emails"
    path = "/transactional-emails"
    primary_keys = ("transactionalEmailId",)
    replication_key = "sentOn"
    window_field = "sentOn"
    window_sort = False

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        if type(row) is dict:  # anything else is skipped and reported by the normaliser
            row["sentOn"] = _nested(row, "recipients", "to", "statuses", "sentOn")
        return super().post_process(row, context)


def _nested(item: dict[str, t.Any], *path: str) -> t.Any:  # noqa: ANN401 - any JSON value
    """`item[a][b]...`, or None where a step is missing or no object (the normaliser reports)."""
    value: t.Any = item
    for step in path:
        value = value.get(step) if type(value) is dict else None
    return value


class TransactionalEmailStatisticsStream(GetResponseStream):
    """Daily totals of transactional emails (`query[groupBy]=day`), windowed on `timeFrame`.

    One request per run (the operation does not page). Windows step back
    `statistics_lookback_days` whole days: opens and clicks keep being counted into recent days.
    """

    name = "transactional_email_statistics"
    path = "/transactional-emails/statistics"
    primary_keys = ("intervalStart",)
    replication_key = "intervalStart"
    window_field = "timeFrame"
    window_sort = False
    paginated = False
    extra_params: t.ClassVar = {"query[groupBy]": "day"}

    @override
    @property
    def lookback(self) -> dt.timedelta:
        return self.settings.statistics_lookback

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        if type(row) is dict and row.get("timeFrame"):
            try:
                row["intervalStart"] = interval_start(str(row["timeFrame"]))
            except ValueError:
                self.value_report.bad(
                    "timeFrame", "an interval starting with a timestamp", row["timeFrame"]
                )
                row["timeFrame"] = None
        return super().post_process(row, context)
