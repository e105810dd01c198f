"""The tap's own settings: their JSON schema, and `TapSettings`, read once from a config.

Defaults live in one place, the schema (`TAP_SETTINGS`): `--about` shows them and `TapSettings`
falls back to them, so the two cannot disagree. The connection settings (URL, credentials,
parallelism) are the HTTP layer's `ConnectionSettings`, read from the same config.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from tap_getresponse.api.limits import MAX_PAGE_SIZE
from tap_getresponse.api.settings import ConnectionSettings
from tap_getresponse.windows import parse_moment

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: The longest lookback either setting takes (a century): longer than GetResponse's history, so
#: it reads everything again, while a bookmark less an unbounded lookback could fall before year 1.
MAX_LOOKBACK_DAYS = 36525
MINUTES_PER_DAY = 1440

TAP_SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType,
        description=(
            "Earliest change to read on a first run: a date (2024-01-31, midnight UTC) or a "
            "date-time with an offset (2024-01-31T08:00:00+01:00); omit to read the whole history."
        ),
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
        description="Items per request (`perPage`); 1000 is GetResponse's maximum.",
    ),
    th.Property(
        "lookback_minutes",
        th.IntegerType(minimum=0, maximum=MAX_LOOKBACK_DAYS * MINUTES_PER_DAY),
        default=60,
        description=(
            "How far before the saved bookmark an incremental run starts reading, so changes "
            "that became visible late are not missed. Re-read records are deduplicated by "
            "targets on primary keys."
        ),
    ),
    th.Property(
        "statistics_lookback_days",
        th.IntegerType(minimum=0, maximum=MAX_LOOKBACK_DAYS),
        default=7,
        description=(
            "Days of daily statistics (message and list statistics) read again before each "
            "saved bookmark, because GetResponse keeps counting opens, clicks and list changes "
            "into recent days after they were first read."
        ),
    ),
    th.Property(
        "strict_values",
        th.BooleanType,
        default=False,
        description=(
            "Stop the run at the first value that does not fit its stream's schema, with one "
            "line naming stream, field, record and value. When off, such a value becomes null, "
            "is reported once per field and counted at the end of the run."
        ),
    ),
    th.Property(
        "activity_reports",
        th.BooleanType,
        default=False,
        description=(
            "Add the stream `message_activities`: sends, opens and clicks of every message, read "
            "from one `message_activity_report` the run schedules in the account (GetResponse "
            "has no call to delete it) instead of one request per contact."
        ),
    ),
)

#: Each setting's default, as the schema (and so `--about`) states it.
DEFAULTS: Mapping[str, t.Any] = {
    name: prop["default"]
    for name, prop in TAP_SETTINGS.to_dict()["properties"].items()
    if "default" in prop
}


@dataclass(frozen=True, slots=True)
class TapSettings:
    """What the tap's own settings mean for a run, parsed once."""

    #: Earliest change a first run reads; None reads the whole history.
    start_date: dt.datetime | None
    #: Items per request (`perPage`).
    page_size: int
    #: How far before its bookmark an incremental read starts again.
    lookback: dt.timedelta
    #: The same for daily statistics, whose recent days keep counting.
    statistics_lookback: dt.timedelta
    #: URL, credentials and parallelism, for the run's API client.
    connection: ConnectionSettings
    #: Whether a value that does not fit its schema ends the run (value_report.py).
    strict_values: bool
    #: Whether `message_activities` is offered (it schedules one custom report per run).
    activity_reports: bool

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> TapSettings:
        """Parse `config`; a setting absent (or null) takes the schema's default."""
        start_date = config.get("start_date")
        return cls(
            start_date=parse_moment(str(start_date)) if start_date else None,
            page_size=int(_setting(config, "page_size")),
            lookback=dt.timedelta(minutes=float(_setting(config, "lookback_minutes"))),
            statistics_lookback=dt.timedelta(
                days=int(_setting(config, "statistics_lookback_days"))
            ),
            connection=ConnectionSettings.from_config(config),
            strict_values=bool(_setting(config, "strict_values")),
            activity_reports=activity_reports_on(config),
        )


def activity_reports_on(config: Mapping[str, t.Any]) -> bool:
    """`activity_reports` alone: discovery reads it without parsing the other settings."""
    return _setting(config, "activity_reports") is True


def _setting(config: Mapping[str, t.Any], name: str) -> t.Any:  # noqa: ANN401 - a JSON value
    value = config.get(name)
    return DEFAULTS[name] if value is None else value


def tap_setting_errors(config: Mapping[str, t.Any], *, now: dt.datetime) -> list[str]:
    """What the JSON schema cannot say about the tap's settings: one line per bad setting.

    `start_date` is checked as a date or date-time (the schema's `format` is not enforced), and
    not after `now`: a first run from the future would read nothing and report success.
    """
    value = config.get("start_date")
    if value is None or value == "":
        return []
    start = _moment(value)
    if start is None:
        example = "a date (2024-01-31) or a date-time with an offset (2024-01-31T08:00:00+01:00)"
        return [f"`start_date` must be {example}, got {value!r}"]
    if start > now:
        return [f"`start_date` {value!r} is in the future: a run from it would read nothing"]
    return []


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_moment(value)
    except ValueError:
        return None
