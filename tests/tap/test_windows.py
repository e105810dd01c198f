"""Windows: where an incremental read opens and ends, in the API's own filter format (no HTTP).

Reading a window while its collection changes is tested in tests/api/test_collections_rereads.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tap_getresponse import windows
from tap_getresponse.settings import TapSettings

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_window_params_are_inclusive_bounds_in_api_format() -> None:
    window = windows.Window("changedOn", T0, T0 + dt.timedelta(hours=1))
    assert window.params() == {
        "sort[changedOn]": "asc",
        "query[changedOn][from]": "2024-01-01T00:00:00+0000",
        "query[changedOn][to]": "2024-01-01T01:00:00+0000",
    }
    assert "sort[changedOn]" not in windows.Window("createdOn", None, T0, sort=False).params()


def test_window_filter_is_the_api_range() -> None:
    window = windows.Window("createdOn", None, T0, sort=False).filter()
    assert (window.field, window.start, window.end, window.sort) == (
        "createdOn",
        None,
        "2024-01-01T00:00:00+0000",
        False,
    )


@pytest.mark.parametrize(
    ("state", "config", "expected"),
    [
        ({}, {}, None),
        ({}, {"start_date": "2023-05-01T00:00:00Z"}, "2023-05-01T00:00:00+00:00"),
        (
            {"replication_key": "changedOn", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {},
            "2024-01-01T09:00:00+00:00",
        ),
        (
            {"replication_key": "changedOn", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {"start_date": "2024-01-01T09:30:00Z"},
            "2024-01-01T09:30:00+00:00",
        ),
        (
            {"replication_key": "other", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {"start_date": "2020-01-01"},
            "2020-01-01T00:00:00+00:00",
        ),
    ],
    ids=["nothing", "start-date", "bookmark-less-lookback", "start-date-wins", "other-key"],
)
def test_window_start(state: dict[str, str], config: dict[str, str], expected: str | None) -> None:
    start_date = TapSettings.from_config(config).start_date
    start = windows.window_start(start_date, state, "changedOn", dt.timedelta(hours=1))
    assert (start.isoformat() if start else None) == expected
