"""transactional_emails and transactional_email_statistics through the sandbox (MAX add-on)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tap_getresponse.normalize import interval_start
from tap_getresponse.windows import format_filter_time, parse_moment
from tests.sandbox import Scale
from tests.sandbox.transactional import COLLECTION, add_email, statistics
from tests.sandbox.util import now
from tests.tap.conftest import run_sync, sandbox_config

STREAMS = ("transactional_emails", "transactional_email_statistics")
SMALL = Scale(contacts=10, campaigns=2)
LOOKBACK = dt.timedelta(minutes=60)  # lookback_minutes' default


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=SMALL, seed=5, transactional_enabled=True)


def emails(sb) -> list[dict]:
    return sb.data.collections[COLLECTION]


def sent_on(email: dict) -> dt.datetime:
    return parse_moment(email["recipients"]["to"]["statuses"]["sentOn"])


def daily(sb) -> dict[str, dict]:
    """intervalStart -> the sandbox's daily statistics row."""
    return {interval_start(row["timeFrame"]): row for row in statistics(emails(sb), "day")}


def test_a_full_sync_delivers_exactly_the_sandboxs_records(sb):
    result = run_sync(sandbox_config(sb, page_size=4), streams=STREAMS)
    ids = result.ids("transactional_emails", "transactionalEmailId")
    assert sorted(ids) == sorted(e["transactionalEmailId"] for e in emails(sb))
    assert len(ids) > 4, "read over several pages"
    for record in result.records["transactional_emails"]:
        (email,) = [
            e for e in emails(sb) if e["transactionalEmailId"] == record["transactionalEmailId"]
        ]
        assert parse_moment(record["sentOn"]) == sent_on(email)
    saved = parse_moment(result.state["bookmarks"]["transactional_emails"]["replication_key_value"])
    assert saved == max(sent_on(e) for e in emails(sb))
    rows = result.records["transactional_email_statistics"]
    expected = daily(sb)
    assert sorted(r["intervalStart"] for r in rows) == sorted(expected)
    assert len(expected) > 1
    for row in rows:
        want = expected[row["intervalStart"]]
        assert {k: row[k] for k in ("sent", "opened", "bounced", "complaint", "clicks")} == {
            k: want[k] for k in ("sent", "opened", "bounced", "complaint", "clicks")
        }
    (asked,) = [r for r in sb.log if r.path == "/transactional-emails/statistics"]
    assert asked.query["query[groupBy]"] == "day"
    listed = [r for r in sb.log if r.path == "/transactional-emails"]
    assert all(not any(k.startswith("sort[") for k in r.query) for r in listed), "cannot sort"


def test_a_rerun_reads_from_the_bookmarks_and_sees_a_new_email(sb):
    config = sandbox_config(sb, statistics_lookback_days=3)
    first = run_sync(config, streams=STREAMS)
    saved = parse_moment(first.state["bookmarks"]["transactional_emails"]["replication_key_value"])
    days = parse_moment(
        first.state["bookmarks"]["transactional_email_statistics"]["replication_key_value"]
    )
    new = add_email(sb.data, now() - 5, "opened")
    sb.clear_log()
    second = run_sync(config, streams=STREAMS, state=first.state)
    expected = {e["transactionalEmailId"] for e in emails(sb) if sent_on(e) >= saved - LOOKBACK}
    assert new["transactionalEmailId"] in expected
    assert set(second.ids("transactional_emails", "transactionalEmailId")) == expected
    assert len(expected) < len(emails(sb))
    listed = [r for r in sb.log if r.path == "/transactional-emails"]
    assert all(
        r.query["query[sentOn][from]"] == format_filter_time(saved - LOOKBACK) for r in listed
    )
    (asked,) = [r for r in sb.log if r.path == "/transactional-emails/statistics"]
    floor = days - dt.timedelta(days=3)
    assert asked.query["query[timeFrame][from]"] == format_filter_time(floor)
    starts = sorted(r["intervalStart"] for r in second.records["transactional_email_statistics"])
    assert starts == sorted(s for s in daily(sb) if parse_moment(s) >= floor)
    assert interval_start(statistics([new], "day")[0]["timeFrame"]) in starts
    third = run_sync(config, streams=["transactional_emails"], state=second.state)
    assert set(third.ids("transactional_emails", "transactionalEmailId")) == {
        e["transactionalEmailId"] for e in emails(sb) if sent_on(e) >= sent_on(new) - LOOKBACK
    }


def test_without_the_add_on_each_stream_is_skipped_with_one_warning(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL, seed=5)  # transactional_enabled off: 403 / 1023
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=[*STREAMS, "tags"])
    for stream in STREAMS:
        warnings = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and f"Skipping stream '{stream}'" in r.getMessage()
        ]
        assert len(warnings) == 1, (stream, warnings)
        assert "403" in warnings[0]
        assert not result.records[stream]
        assert stream not in result.state.get("bookmarks", {}) or not result.state["bookmarks"][
            stream
        ].get("replication_key_value")
    assert len(result.records["tags"]) == len(sb.data.tags)
