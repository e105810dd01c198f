"""`message_activities` (setting `activity_reports`): the rows `contact_activities` gives for the
same window, from one scheduled `message_activity_report` and a handful of requests."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
from collections import Counter

import pytest

from tap_getresponse.streams import STREAMS
from tap_getresponse.streams.message_activities import MessageActivitiesStream, activity_record
from tap_getresponse.tap import TapGetResponse
from tap_getresponse.windows import parse_moment
from tests.sandbox import Scale
from tests.tap.conftest import SyncResult, run_cli, run_sync, sandbox_config, select

START = "2025-01-01"


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=Scale(contacts=300))


def key(record):
    return (
        record["contactId"],
        record["activity"],
        parse_moment(record["createdOn"]),
        record["resourceId"],
        record["clickTrackId"],
    )


def sync_tap(config, streams, setup=None, state=None):
    """`run_sync`, with `setup(tap)` run on the tap before it syncs."""
    tap = TapGetResponse(config=config, state=copy.deepcopy(state or {}), parse_env_config=False)
    select(tap, streams)
    if setup is not None:
        setup(tap)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return SyncResult([json.loads(line) for line in out.getvalue().splitlines() if line])


def test_same_rows_as_contact_activities_with_a_handful_of_calls(sb):
    config = sandbox_config(sb, activity_reports=True, start_date=START)
    result = run_sync(config, streams=["contact_activities"])
    per_contact = [key(r) for r in result.records["contact_activities"]]

    def after_discovery(_tap):  # the calls of the sync only (discovery of report streams first)
        sb.clear_log()
        sb.downloads.clear_log()

    result = sync_tap(config, ["message_activities"], after_discovery)
    bulk = [key(r) for r in result.records["message_activities"]]
    assert len(bulk) > 100
    # The same rows, each as often (a contact sent one message twice has two equal sends).
    assert Counter(bulk) == Counter(per_contact)
    calls = Counter(entry.path for entry in sb.log)
    assert sum(entry.method == "POST" for entry in sb.log) == 1, "one report for the window"
    assert sum(calls.values()) <= 6, calls  # clock, messages, POST, detail until ready
    assert not sb.downloads.credentials_seen()
    assert [entry.status for entry in sb.downloads.log] == [200]


def test_the_report_asked_for_names_the_window_types_and_sent_messages(sb):
    config = sandbox_config(sb, activity_reports=True, start_date=START)
    run_sync(config, streams=["message_activities"])
    (post,) = [entry for entry in sb.log if entry.method == "POST"]
    body = post.body
    assert body["type"] == "message_activity_report"
    assert body["name"].startswith("tap-getresponse message_activities 2025-01-01..")
    assert sorted(body["filters"]["activityType"]) == ["click", "open", "send"]
    sent = {n["newsletterId"] for n in sb.data.newsletters if n["type"] != "draft"}
    assert set(body["filters"]["messageId"]) == sent
    assert body["scheduling"]["frequency"] == "one_time"
    assert body["scheduling"]["startDate"] == START


def test_a_rerun_reads_only_from_the_bookmark_less_the_lookback(sb):
    config = sandbox_config(sb, activity_reports=True, start_date=START)
    first = run_sync(config, streams=["message_activities"])
    bookmark = first.state["bookmarks"]["message_activities"]["replication_key_value"]
    assert parse_moment(bookmark) == max(
        parse_moment(r["createdOn"]) for r in first.records["message_activities"]
    )
    sb.clear_log()
    second = run_sync(config, streams=["message_activities"], state=first.state)
    (post,) = [entry for entry in sb.log if entry.method == "POST"]
    assert post.body["scheduling"]["startDate"] == bookmark[:10]
    assert all(
        parse_moment(r["createdOn"]).timestamp() >= parse_moment(bookmark).timestamp() - 3600
        for r in second.records["message_activities"]
    )
    assert second.state["bookmarks"]["message_activities"]["replication_key_value"] == bookmark


def test_long_message_lists_are_split_over_several_reports(sb):
    config = sandbox_config(sb, activity_reports=True, start_date=START)

    def small_reports(tap):
        tap.streams["message_activities"].messages_per_report = 5

    result = sync_tap(config, ["message_activities"], small_reports)
    posts = [entry.body for entry in sb.log if entry.method == "POST"]
    sent = [n for n in sb.data.newsletters if n["type"] != "draft"]
    assert len(posts) == -(-len(sent) // 5)
    assert all(len(body["filters"]["messageId"]) <= 5 for body in posts)
    assert posts[0]["name"].endswith(f" 1/{len(posts)}")
    assert sum(len(body["filters"]["messageId"]) for body in posts) == len(sent)
    rows = [
        (r["customReportFileId"], r["row_number"]) for r in result.records["message_activities"]
    ]
    assert len(rows) == len(set(rows)) > 100
    assert len({file for file, _ in rows}) == len(posts)


def test_a_report_never_ready_is_waited_for_then_left_for_the_next_run(sb, caplog):
    config = sandbox_config(sb, activity_reports=True, start_date=START)
    sb.downloads.ready_after = 10_000
    now = [0.0]

    def fake_time(tap):
        stream = tap.streams["message_activities"]
        stream.clock = lambda: now[0]
        stream.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)

    with caplog.at_level(logging.INFO):
        result = sync_tap(config, ["message_activities"], fake_time)
    assert not result.records["message_activities"]
    assert "replication_key_value" not in result.state["bookmarks"].get("message_activities", {})
    assert "waiting for 1 of 1 custom report(s)" in caplog.text
    assert "not ready after 30 min" in caplog.text
    polls = [entry for entry in sb.log if entry.path.startswith("/custom-reports/cRn")]
    assert 5 <= len(polls) <= 80, "bounded: the pauses grow to 30 s"
    pending = result.state["bookmarks"]["message_activities"]["pending_reports"]
    assert len(pending["ids"]) == 1
    # The report became ready meanwhile: the next run reads it, and asks for no other.
    sb.data.flush()
    sb.clear_log()
    second = run_sync(config, streams=["message_activities"], state=result.state)
    assert not [entry for entry in sb.log if entry.method == "POST"]
    assert len(second.records["message_activities"]) > 100
    assert {r["customReportId"] for r in second.records["message_activities"]} == set(
        pending["ids"]
    )
    saved = second.state["bookmarks"]["message_activities"]
    assert "pending_reports" not in saved
    assert saved["replication_key_value"]


def test_discovery_lists_it_only_with_the_setting(sb, tmp_path):
    plain = run_cli(tmp_path, {"api_url": sb.url}, args=["--discover"])
    names = [e["tap_stream_id"] for e in json.loads(plain.stdout)["streams"]]
    assert "message_activities" not in names
    assert len(names) == len(STREAMS)
    opted = run_cli(tmp_path, {"api_url": sb.url, "activity_reports": True}, args=["--discover"])
    names = [e["tap_stream_id"] for e in json.loads(opted.stdout)["streams"]]
    assert "message_activities" in names
    assert len(names) == len(STREAMS) + 1


def test_its_own_reports_are_no_report_streams(sb):
    config = sandbox_config(sb, activity_reports=True, start_date=START)
    run_sync(config, streams=["message_activities"])
    tap = TapGetResponse(config=config, parse_env_config=False)
    tap.add_account_reports()
    assert not [
        name for name in tap.streams if "message_activities" in name and name.startswith("report_")
    ]
    assert isinstance(tap.streams["message_activities"], MessageActivitiesStream)


def test_columns_are_read_by_name_and_unknown_ones_kept():
    record = activity_record(
        {
            "activity_type": "click",
            "contact_id": "c1",
            "message_id": "m1",
            "activity_date": "2025-01-01 10:00:00",
            "device": "mobile",
        }
    )
    assert record["activity"] == "click"
    assert record["contactId"] == "c1"
    assert record["resourceId"] == "m1"
    assert record["clickTrackId"] == "-"
    assert record["extra_columns"] == {"device": "mobile"}
