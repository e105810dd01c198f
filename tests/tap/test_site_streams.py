"""Popups, websites, A/B tests and the daily performance of popups, landing pages and websites."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tap_getresponse.streams.performance import active_days as bisect_days
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Answer, Scale
from tests.sandbox.sites import active_days, record_activity
from tests.sandbox.util import now
from tests.tap.conftest import run_sync, sandbox_config

DAY = 86_400
#: Stream -> (sandbox collection, id key) of the streams that read one collection in full.
FULL = {
    "popups": ("popups", "popupId"),
    "websites": ("websites", "websiteId"),
    "ab_tests": ("ab-tests", "abTestId"),
    "splittests": ("splittests", "splittestId"),
}
#: Stream -> (sandbox collection of its parents, parent key, path of its endpoint).
PERFORMANCE = {
    "popup_performance": ("popups", "popupId", "/statistics/popups/{}/performance"),
    "landing_page_performance": ("lps", "lpsId", "/statistics/lps/{}/performance"),
    "website_performance": ("websites", "websiteId", "/statistics/wbe/{}/performance"),
}
STREAMS = [*FULL, *PERFORMANCE]


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=Scale(contacts=20, campaigns=3, lps=5), seed=21)


def expected_rows(sb, stream: str) -> list[tuple[str, str]]:
    """(parent id, day) of every day the sandbox holds activity for: the rows a full read owes."""
    collection, key, _ = PERFORMANCE[stream]
    return sorted(
        (item[key], day) for item in sb.data.collections[collection] for day in active_days(item)
    )


def rows(result, stream: str) -> list[tuple[str, str]]:
    key = PERFORMANCE[stream][1]
    return sorted((record[key], record["date"]) for record in result.records[stream])


def test_a_full_sync_delivers_exactly_the_sandboxs_records(sb):
    result = run_sync(sandbox_config(sb), streams=STREAMS)
    for stream, (collection, key) in FULL.items():
        expected = sorted(item[key] for item in sb.data.collections[collection])
        assert sorted(result.ids(stream, key)) == expected, stream
    inactive = [t for t in sb.data.splittests if t["status"] == "inactive"]
    assert inactive, "the seed holds split tests the API does not list by default"
    for stream in PERFORMANCE:
        assert rows(result, stream) == expected_rows(sb, stream), stream
        assert rows(result, stream), stream
    tap = TapGetResponse(config={"api_key": "k"}, parse_env_config=False)
    for stream in STREAMS:
        keys = tap.streams[stream].primary_keys
        assert keys, stream
        for record in result.records[stream]:
            assert all(record[key] not in {None, ""} for key in keys), (stream, record)


def test_performance_rows_carry_the_days_totals_of_both_devices(sb):
    result = run_sync(sandbox_config(sb), streams=["popup_performance", "website_performance"])
    popup = sb.data.popups[0]
    day = active_days(popup)[0]
    (row,) = [
        r
        for r in result.records["popup_performance"]
        if (r["popupId"], r["date"]) == (popup["popupId"], day)
    ]
    devices = popup["_daily"][day].values()
    assert row["views"] == sum(d["views"] for d in devices)
    assert row["clicks"] == sum(d["clicks"] for d in devices)
    assert row["ctr"] == 100 * row["clicks"] // row["views"]
    site = sb.data.websites[-1]
    for record in result.records["website_performance"]:
        if record["websiteId"] == site["websiteId"]:
            counts = site["_daily"][record["date"]].values()
            assert record["visits"] == sum(c["visits"] for c in counts)
            assert record["name"] == site["name"]


def test_every_key_part_is_a_non_empty_string(sb):
    result = run_sync(sandbox_config(sb), streams=STREAMS)
    for stream, (_, key, _) in PERFORMANCE.items():
        for record in result.records[stream]:
            assert isinstance(record[key], str), record
            assert record[key], record
            assert dt.date.fromisoformat(record["date"]), record
    for stream, (_, key) in FULL.items():
        assert all(isinstance(r[key], str) and r[key] for r in result.records[stream]), stream


def test_a_rerun_reads_from_each_bookmark_less_the_lookback_and_advances_it(sb):
    config = sandbox_config(sb, statistics_lookback_days=2)
    first = run_sync(config, streams=["popup_performance"])
    partitions = first.state["bookmarks"]["popup_performance"]["partitions"]
    saved = {p["context"]["popupId"]: p["replication_key_value"] for p in partitions}
    for popup in sb.data.popups:
        assert saved[popup["popupId"]] == active_days(popup)[-1]
    busy, quiet = sb.data.popups[0], sb.data.popups[1]
    yesterday = now() - DAY
    record_activity(sb.data, busy, yesterday, views=4, clicks=1)
    old = dt.date.fromisoformat(saved[quiet["popupId"]]) - dt.timedelta(days=10)
    stamp = int(dt.datetime.combine(old, dt.time(12), dt.UTC).timestamp())
    record_activity(sb.data, quiet, stamp, "mobile", views=1)  # before the window: not read
    sb.clear_log()
    second = run_sync(config, streams=["popup_performance"], state=first.state)
    emitted = rows(second, "popup_performance")
    for popup_id, day in emitted:
        floor = dt.date.fromisoformat(saved[popup_id]) - dt.timedelta(days=2)
        assert dt.date.fromisoformat(day) >= floor, (popup_id, day)
    new_day = dt.datetime.fromtimestamp(yesterday, dt.UTC).date().isoformat()
    assert (busy["popupId"], new_day) in emitted
    assert (quiet["popupId"], old.isoformat()) not in emitted
    asked = [r for r in sb.log if r.path.startswith("/statistics")]
    assert len(asked) >= len(saved)
    for request in asked:
        popup_id = request.path.split("/")[3]
        floor = dt.date.fromisoformat(saved[popup_id]) - dt.timedelta(days=2)
        assert dt.date.fromisoformat(request.query["query[date][from]"]) >= floor, request.query
    after = {
        p["context"]["popupId"]: p["replication_key_value"]
        for p in second.state["bookmarks"]["popup_performance"]["partitions"]
    }
    assert after[busy["popupId"]] == new_day
    assert after[quiet["popupId"]] == saved[quiet["popupId"]]


def test_a_rerun_with_no_new_activity_emits_only_the_days_within_the_lookback(sb):
    config = sandbox_config(sb, statistics_lookback_days=0)
    first = run_sync(config, streams=["landing_page_performance"])
    again = run_sync(config, streams=["landing_page_performance"], state=first.state)
    last_days = {(p["lpsId"], active_days(p)[-1]) for p in sb.data.lps}
    assert set(rows(again, "landing_page_performance")) == last_days
    assert again.state["bookmarks"] == first.state["bookmarks"]


def test_no_day_before_start_date_is_asked_for_or_emitted(sb):
    days = sorted({day for site in sb.data.websites for day in active_days(site)})
    start = days[len(days) // 2]
    result = run_sync(sandbox_config(sb, start_date=start), streams=["website_performance"])
    expected = [row for row in expected_rows(sb, "website_performance") if row[1] >= start]
    assert rows(result, "website_performance") == expected
    asked = [r.query["query[date][from]"] for r in sb.log if r.path.startswith("/statistics/wbe")]
    assert asked
    assert min(asked) >= start


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("popups", "/popups"),
        ("websites", "/websites"),
        ("ab_tests", "/ab-tests/subject"),
        ("splittests", "/splittests"),
        ("popup_performance", "/statistics/popups/*"),
        ("landing_page_performance", "/statistics/lps/*"),
        ("website_performance", "/statistics/wbe/*"),
    ],
)
def test_a_403_skips_only_that_stream_with_one_warning(sb, caplog, stream, path):
    sb.faults.fail_next(10_000, status=403, path=path)
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=[*STREAMS, "campaigns"])
    skipped = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "Skipping stream" in r.getMessage()
    ]
    # A performance stream lists its parents: without them it has nothing to ask for either.
    gated = {
        stream,
        *(child for child, (parents, _, _) in PERFORMANCE.items() if parents == path[1:]),
    }
    assert sorted(r.getMessage().split("'")[1] for r in skipped) == sorted(gated)
    assert all("403" in r.getMessage() for r in skipped)
    assert not any(result.records[name] for name in gated)
    assert len(result.records["campaigns"]) == len(sb.data.campaigns)
    for other in set(STREAMS) - gated:
        assert result.records[other], other


def test_a_popup_gone_between_listing_and_its_statistics_is_skipped(sb):
    gone = sb.data.popups[2]
    sb.faults.fail_next(1, status=404, path=f"/statistics/popups/{gone['popupId']}/performance")
    result = run_sync(sandbox_config(sb), streams=["popup_performance"])
    expected = [row for row in expected_rows(sb, "popup_performance") if row[0] != gone["popupId"]]
    assert rows(result, "popup_performance") == expected


def test_quiet_stretches_cost_one_request_and_active_days_come_in_order():
    active = {dt.date(2025, 1, 3): 2, dt.date(2025, 1, 4): 1, dt.date(2025, 3, 30): 5}
    asked = []

    def totals(low: dt.date, high: dt.date) -> dict[str, int]:
        asked.append((low, high))
        return {"views": sum(v for day, v in active.items() if low <= day <= high)}

    def busy(found: dict[str, int]) -> bool:
        return found["views"] > 0

    first, last = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    found = list(bisect_days(totals, busy, first, last))
    assert found == [(day, {"views": views}) for day, views in sorted(active.items())]
    assert len(asked) < 60  # 365 days, one request each, is what halving avoids
    asked.clear()
    assert list(bisect_days(totals, busy, dt.date(2025, 4, 1), last)) == []
    assert asked == [(dt.date(2025, 4, 1), last)]


def test_a_counter_that_is_no_number_costs_that_value_not_the_row(sb, caplog):
    popup = sb.data.popups[0]
    path = PERFORMANCE["popup_performance"][2].format(popup["popupId"])
    odd = {"popupId": popup["popupId"], "views": "lots", "clicks": 2, "leads": 1, "ctr": 7}
    sb.faults.answer_next(10_000, path=path, answer=Answer(body=odd))
    start = dt.datetime.fromtimestamp(now() - 2 * DAY, dt.UTC).date()
    with caplog.at_level(logging.WARNING):
        result = run_sync(
            sandbox_config(sb, start_date=start.isoformat()), streams=["popup_performance"]
        )
    odd_rows = [r for r in result.records["popup_performance"] if r["popupId"] == popup["popupId"]]
    # Every range answers the odd totals, so each day of the window is a row (today's too; the
    # window's last day is the run's, so a run across midnight has one more).
    days = [r["date"] for r in odd_rows]
    assert days == [(start + dt.timedelta(d)).isoformat() for d in range(len(days))]
    assert len(days) in {3, 4}
    assert all(r["views"] is None and r["clicks"] == 2 for r in odd_rows)
    warned = [r.getMessage() for r in caplog.records if "field 'views'" in r.getMessage()]
    assert warned
    assert result.state["bookmarks"]["popup_performance"]
