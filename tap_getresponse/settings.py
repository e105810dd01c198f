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

TAP_SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest change to read on a first run; omit to read the whole history.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
        description="Items per request (`perPage`); 1000 is GetResponse's maximum.",
    ),
    th.Property(
        "lookback_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description=(
            "How far before the saved bookmark an incremental run starts reading, so changes "
            "that became visible late are not missed. Re-read records are deduplicated by "
            "targets on primary keys."
        ),
    ),
    th.Property(
        "statistics_lookback_days",
        th.IntegerType(minimum=0),
        default=7,
        description=(
            "Days of daily statistics (message and list statistics) read again before each "
            "saved bookmark, because GetResponse keeps counting opens, clicks and list changes "
            "into recent days after they were first read."
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
        )


def _setting(config: Mapping[str, t.Any], name: str) -> t.Any:  # noqa: ANN401 - a JSON value
    value = config.get(name)
    return DEFAULTS[name] if value is None else value
