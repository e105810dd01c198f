"""Incremental state of every kind of stream: partitions, windows, overlaps, no-change reruns."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict

import pytest

from tap_getresponse.streams import STREAMS
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Scale
from tests.tap.conftest import next_second, run_sync, sandbox_config

SCALE = Scale(contacts=80, campaigns=4, newsletters=12, autoresponders=5, activities_per_contact=4)
DAY = 86400


def parse(value):
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=SCALE, seed=11, sms_enabled=True)


def bookmarks_by_partition(state, stream, key):
    return {
        p["context"][key]: p["replication_key_value"]
        for p in state["bookmarks"][stream].get("partitions", [])
        if "replication_key_value" in p
    }


def test_message_statistics_keep_one_bookmark_per_message(sb):
    first = run_sync(sandbox_config(sb), streams=["newsletter_statistics"])
    marks = bookmarks_by_partition(first.state, "newsletter_statistics", "newsletterId")
    sent = {n["newsletterId"] for n in sb.data.newsletters if n["type"] != "draft"}
    assert set(marks) == sent
    last = defaultdict(str)
    for row in first.records["newsletter_statistics"]:
        last[row["newsletterId"]] = max(last[row["newsletterId"]], row["intervalStart"])
    assert marks == dict(last)
    queries = [r.query for r in sb.log if r.path.endswith("/statistics")]
    assert all(q["query[groupBy]"] == "day" for q in queries)
    assert all("query[createdOn][to]" in q for q in queries)
    assert not any(
        r.path.endswith("/statistics") and r.path.split("/")[2] not in sent
        for r in sb.log
        if r.path.startswith("/newsletters/")
    ), "drafts are skipped"


def test_statistics_rerun_reads_from_each_bookmark_less_the_lookback_days(sb):
    config = sandbox_config(sb, statistics_lookback_days=2)
    first = run_sync(config, streams=["newsletter_statistics", "campaign_balance_statistics"])
    sb.clear_log()
    second = run_sync(
        config, state=first.state, streams=["newsletter_statistics", "campaign_balance_statistics"]
    )
    marks = bookmarks_by_partition(first.state, "newsletter_statistics", "newsletterId")
    for request in sb.log:
        if request.path.startswith("/newsletters/") and request.path.endswith("/statistics"):
            ident = request.path.split("/")[2]
            expected = parse(marks[ident]) - dt.timedelta(days=2)
            assert parse_filter(request.query["query[createdOn][from]"]) == expected
    for row in second.records["newsletter_statistics"]:
        floor = parse(marks[row["newsletterId"]]) - dt.timedelta(days=2)
        assert parse(row["intervalStart"]) >= floor
    # The bookmark day itself is read again: its counters may still grow.
    again = {
        (r["newsletterId"], r["intervalStart"]) for r in second.records["newsletter_statistics"]
    }
    assert {(k, v) for k, v in marks.items()} <= again
    balance = bookmarks_by_partition(first.state, "campaign_balance_statistics", "campaignId")
    assert balance
    for row in second.records["campaign_balance_statistics"]:
        assert (
            row["date"]
            >= (parse(balance[row["campaignId"]] + "T00:00:00+00:00") - dt.timedelta(days=2))
            .date()
            .isoformat()
        )
    assert second.state["bookmarks"]["newsletter_statistics"]["partitions"]


def parse_filter(value):
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def test_a_new_message_gets_its_own_partition_and_full_history(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["newsletter_statistics"])
    clone = dict(sb.data.newsletters[0])
    clone.update(
        _id="NEW1", newsletterId="NEW1", type="broadcast", _send=int(time.time()) - 5 * DAY
    )
    sb.data.add_item("newsletters", clone)
    second = run_sync(config, state=first.state, streams=["newsletter_statistics"])
    rows = [r for r in second.records["newsletter_statistics"] if r["newsletterId"] == "NEW1"]
    assert len(rows) == 4  # send day and the three days after it
    (request,) = [r for r in sb.log if r.path == "/newsletters/NEW1/statistics"]
    assert "query[createdOn][from]" not in request.query  # no bookmark, no start_date: all


def test_contact_activities_use_explicit_windows_and_one_bookmark(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["contact_activities"])
    queries = [r.query for r in sb.log if r.path.endswith("/activities")]
    assert len(queries) == len(sb.data.contacts)
    assert all(q["query[createdOn][from]"] == "1998-01-01T00:00:00+0000" for q in queries)
    assert all("query[createdOn][to]" in q for q in queries)
    state = first.state["bookmarks"]["contact_activities"]
    assert "partitions" not in state
    assert state["replication_key_value"] == max(first.ids("contact_activities", "createdOn"))
    sb.clear_log()
    second = run_sync(config, state=first.state, streams=["contact_activities"])
    queries = [r.query for r in sb.log if r.path.endswith("/activities")]
    start = parse(state["replication_key_value"]) - dt.timedelta(minutes=60)
    assert {parse_filter(q["query[createdOn][from]"]) for q in queries} == {start}
    assert all(parse(r["createdOn"]) >= start for r in second.records["contact_activities"])


def test_newsletter_activities_read_at_most_the_last_30_days_and_say_so(sb, caplog):
    recent = dict(sb.data.newsletters[0])
    recent.update(_id="REC1", newsletterId="REC1", type="broadcast", _send=int(time.time()) - DAY)
    sb.data.add_item("newsletters", recent)
    with caplog.at_level("WARNING"):
        result = run_sync(
            sandbox_config(sb, start_date="2020-01-01T00:00:00Z"), streams=["newsletter_activities"]
        )
    said = [r for r in caplog.records if "30 days" in r.getMessage()]
    assert len(said) == 1
    floor = dt.datetime.now(dt.UTC) - dt.timedelta(days=30, minutes=5)
    for request in sb.log:
        if request.path.endswith("/activities"):
            assert parse_filter(request.query["query[createdOn][from]"]) >= floor
    rows = result.records["newsletter_activities"]
    assert rows
    assert {r["newsletterId"] for r in rows} == {"REC1"}
    assert all(r["contactId"] == r["contact"]["contactId"] for r in rows)


def test_shop_children_emit_only_what_changed_since_their_shop_bookmark(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["shops", "products", "orders"])
    assert len(first.records["orders"]) == len(sb.data.orders)
    order = sb.data.orders[0]
    order["updatedOn"] = sb.data.stamp()
    next_second()
    second = run_sync(config, state=first.state, streams=["shops", "products", "orders"])
    marks = bookmarks_by_partition(first.state, "orders", "shopId")
    assert set(marks) == {s["shopId"] for s in sb.data.shops}
    changed = [r["orderId"] for r in second.records["orders"]]
    assert order["orderId"] in changed
    for record in second.records["orders"]:
        assert parse(record["updatedOn"]) >= parse(marks[record["shopId"]]) - dt.timedelta(hours=1)


def test_no_change_rerun_makes_at_most_two_calls_per_stream_or_partition(sb):
    config = sandbox_config(sb)
    first = run_sync(config)
    next_second()
    sb.clear_log()
    second = run_sync(config, state=first.state)
    # A contact search is told apart by its body: removed_contacts and unconfirmed_contacts
    # each send one, and contacts one more for its soft deletes (README, "Removed contacts").
    per_target = Counter(
        (r.path, r.query.get("query[campaignId]"), str(r.body))
        for r in sb.log
        if r.path != "/accounts"
    )
    # Performance statistics answer range totals, and an item's bookmark is its last active day:
    # a rerun asks from that day less the lookback up to today, halving active ranges (one
    # request per quiet half, one per day of the last 16 days at most; streams/performance.py).
    performance = {k: n for k, n in per_target.items() if k[0].startswith("/statistics/")}
    assert all(n <= 40 for n in performance.values()), performance
    others = Counter({k: n for k, n in per_target.items() if k not in performance})
    assert max(others.values()) <= 2, others.most_common(3)
    assert Counter(r.path for r in sb.log)["/accounts"] <= 2  # the stream and the run clock
    # Only the overlap comes back from incremental streams; state does not move without changes.
    tap = TapGetResponse(config=config, parse_env_config=False)
    for cls in STREAMS:
        stream = tap.streams[cls.name]
        if stream.replication_key and cls.name != "contact_details":
            assert len(second.records[cls.name]) <= len(first.records[cls.name]), cls.name
    assert second.state["bookmarks"]["contacts"] == first.state["bookmarks"]["contacts"]
    overlap = len(second.records["contacts"])
    assert overlap < len(first.records["contacts"]) / 4
    assert len(second.records["contact_details"]) == overlap
