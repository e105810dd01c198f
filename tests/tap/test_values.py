"""Values that do not fit their schema never end a run; records without a replication key neither.

Each test has the sandbox answer a stream's requests with its usual body changed the way a real
account may change it (a string counter that is no number, a boolean where an object belongs, an
order without `updatedOn`...), then syncs through the tap's whole path: HTTP, pages, flattening,
`post_process`, normaliser, SDK state and writer. The run must finish with every record emitted
and valid against its stream's SCHEMA, one warning per stream and field, a summary line with the
count at the end of the run, and bookmarks that only records with a usable key moved.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import logging
import typing as t

import jsonschema
import pytest

from tap_getresponse.value_report import StrictValuesError
from tests.sandbox import Scale, routes
from tests.sandbox.response import Response
from tests.tap.conftest import run_cli, run_sync, sandbox_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tests.sandbox import Sandbox
    from tests.tap.conftest import SyncResult

SCALE = Scale(contacts=40, campaigns=2, newsletters=3, autoresponders=1, shops=1, orders_per_shop=4)
#: Before every record the sandbox seeds: daily statistics read from here.
START = "2000-01-01T00:00:00Z"

Change = t.Callable[[t.Any], None]


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(scale=SCALE, seed=3)


class Answers:
    """Changes the sandbox's 200 answers to GETs of some paths before they are sent."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, Change]] = []
        #: How many answers each pattern changed.
        self.changed: dict[str, int] = {}

    def change(self, pattern: str, change: Change) -> None:
        """`change(body)` mutates the body of every 200 answer to a GET of `pattern` (a glob)."""
        self.changes.append((pattern, change))
        self.changed[pattern] = 0

    def apply(self, method: str, path: str, response: Response) -> Response:
        for pattern, change in self.changes:
            if method == "GET" and response.status == 200 and fnmatch.fnmatch(path, pattern):
                body = copy.deepcopy(response.body)
                change(body)
                self.changed[pattern] += 1
                response = Response(response.status, body, response.headers)
        return response


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """The sandbox's answers, changed (the server looks `routes.dispatch` up on every request)."""
    odd = Answers()
    real = routes.dispatch

    def dispatch(sb: Sandbox, method: str, path: str, query: t.Any, body: t.Any) -> Response:
        return odd.apply(method, path, real(sb, method, path, query, body))

    monkeypatch.setattr(routes, "dispatch", dispatch)
    return odd


def sync(sb: Sandbox, streams: list[str], caplog: pytest.LogCaptureFixture, **config: t.Any):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        return run_sync(sandbox_config(sb, start_date=START, **config), streams=streams)


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return [m for m in messages if text in m and not m.startswith("Values summary:")]


def summary(caplog: pytest.LogCaptureFixture) -> list[str]:
    prefix = "Values summary: "
    return [
        r.getMessage().removeprefix(prefix)
        for r in caplog.records
        if r.getMessage().startswith(prefix)
    ]


def assert_valid(result: SyncResult) -> None:
    """Every record validates against the SCHEMA message of its stream (formats checked)."""
    schemas = {m["stream"]: m["schema"] for m in result.messages if m["type"] == "SCHEMA"}
    checker = jsonschema.FormatChecker()
    for stream, records in result.records.items():
        validator = jsonschema.Draft7Validator(schemas[stream], format_checker=checker)
        for record in records:
            validator.validate(record)


def bookmarks(result: SyncResult, stream: str) -> dict[str, str]:
    """Partition (its one context value) -> bookmark, from the last STATE."""
    entry = result.state["bookmarks"][stream]
    return {
        next(iter(p["context"].values())): p.get("replication_key_value")
        for p in entry.get("partitions", [])
    }


# --- values -------------------------------------------------------------------------------------


def test_string_counters_become_null_with_one_warning_per_field_and_a_summary(sb, answers, caplog):
    def odd_rates(body: list[dict[str, t.Any]]) -> None:
        for newsletter in body:
            newsletter.setdefault("sendMetrics", {})["clickRate"] = "n/a"
        body[0]["sendMetrics"]["openRate"] = {"rate": "0.3"}

    answers.change("/newsletters", odd_rates)
    result = sync(sb, ["newsletters"], caplog)

    records = result.records["newsletters"]
    assert len(records) == len(sb.data.newsletters) == 3
    assert all(r["sendMetrics"]["clickRate"] is None for r in records)
    assert [r["sendMetrics"]["openRate"] is None for r in records].count(True) == 1
    assert_valid(result)
    (warning,) = warnings_about(caplog, "'sendMetrics.clickRate'")
    assert warning.startswith(
        "stream 'newsletters', field 'sendMetrics.clickRate': expected number, got 'n/a'"
    )
    assert summary(caplog) == [
        (
            "Stream 'newsletters', field 'sendMetrics.clickRate': 3 value(s) set to null "
            "(expected number; e.g. 'n/a')"
        ),
        (
            "Stream 'newsletters', field 'sendMetrics.openRate': 1 value(s) set to null "
            "(expected number; e.g. {'rate': '0.3'})"
        ),
    ]


def test_campaign_statistics_of_unexpected_shapes_are_skipped_and_counted(sb, answers, caplog):
    def odd_balance(body: list[dict[str, t.Any]]) -> None:
        (first,) = body[0].values()
        first["removals"] = True  # `'bool' object has no attribute 'items'` before
        if len(body) > 1:
            (date,) = body[1]
            body[1][date] = "none"

    def odd_summary(body: list[dict[str, t.Any]]) -> None:
        for totals in body[0].values():
            totals["totalLandingPages"] = "many"

    def odd_locations(body: list[dict[str, t.Any]]) -> None:
        first, second, *_ = body[0]
        body[0][first]["amount"] = "lots"
        body[0][second] = 5

    answers.change("/campaigns/statistics/balance", odd_balance)
    answers.change("/campaigns/statistics/summary", odd_summary)
    answers.change("/campaigns/statistics/locations", odd_locations)
    streams = [
        "campaign_balance_statistics",
        "campaign_summary_statistics",
        "campaign_location_statistics",
    ]
    result = sync(sb, streams, caplog)

    assert_valid(result)
    campaigns = answers.changed["/campaigns/statistics/balance"]
    assert campaigns == len(sb.data.campaigns) == 2
    summaries = result.records["campaign_summary_statistics"]
    assert [r["totalLandingPages"] for r in summaries] == [None, None]
    assert all(isinstance(r["totalSubscribers"], int) for r in summaries)
    for stream, field in [
        ("campaign_balance_statistics", "<date>.<kind>"),
        ("campaign_summary_statistics", "totalLandingPages"),
        ("campaign_location_statistics", "amount"),
        ("campaign_location_statistics", "<location>"),
    ]:
        (warning,) = warnings_about(caplog, f"stream '{stream}', field '{field}'")
        assert "expected" in warning
    lines = summary(caplog)
    assert (
        "Stream 'campaign_balance_statistics', field '<date>.<kind>': 2 value(s) skipped "
        "(expected object; e.g. True)"
    ) in lines
    assert (
        "Stream 'campaign_summary_statistics', field 'totalLandingPages': 2 value(s) set to "
        "null (expected integer; e.g. 'many')"
    ) in lines
    assert (
        "Stream 'campaign_location_statistics', field '<location>': 2 value(s) skipped "
        "(expected object; e.g. 5)"
    ) in lines


def test_an_item_that_is_not_an_object_is_skipped_and_counted(sb, answers, caplog):
    answers.change("/autoresponders/*/statistics", lambda body: body.extend(["oops", 7, None]))
    answers.change("/campaigns/statistics/list-size", lambda body: body.extend([[1], None]))
    streams = ["autoresponder_statistics", "campaign_list_size_statistics"]
    result = sync(sb, streams, caplog)

    assert_valid(result)
    autoresponders = answers.changed["/autoresponders/*/statistics"]
    campaigns = answers.changed["/campaigns/statistics/list-size"]
    assert autoresponders == 1
    assert campaigns == 2
    assert summary(caplog) == [
        (
            f"Stream 'autoresponder_statistics', item: {3 * autoresponders} value(s) skipped "
            "(expected object; e.g. 'oops')"
        ),
        (
            f"Stream 'campaign_list_size_statistics', item: {2 * campaigns} value(s) skipped "
            "(expected object; e.g. [1])"
        ),
    ]


# --- replication keys -----------------------------------------------------------------------


def test_orders_without_a_usable_updated_on_are_emitted_and_leave_the_bookmark(sb, answers, caplog):
    def odd_orders(body: list[dict[str, t.Any]]) -> None:
        del body[0]["updatedOn"]  # a KeyError in the SDK's state code before
        body[1]["updatedOn"] = None
        body[2]["updatedOn"] = "soon"

    answers.change("/shops/*/orders", odd_orders)
    first = sync(sb, ["orders"], caplog)

    orders = first.records["orders"]
    assert len(orders) == 4
    assert [o.get("updatedOn") for o in orders][:3] == [None, None, None]
    assert_valid(first)
    (shop,) = sb.data.shops
    assert bookmarks(first, "orders") == {shop["shopId"]: orders[3]["updatedOn"]}
    assert warnings_about(caplog, "no usable replication key 'updatedOn'")
    assert not warnings_about(caplog, "New replication value is null")
    assert summary(caplog) == [
        (
            "Stream 'orders', field 'updatedOn': 1 value(s) set to null "
            "(expected date-time; e.g. 'soon')"
        ),
        (
            "Stream 'orders', field 'updatedOn': 3 record(s) without a usable replication key, "
            "emitted without moving the bookmark"
        ),
    ]

    # The next run finds no order with a key: all are emitted, the bookmark stays.
    answers.changes.clear()
    answers.change("/shops/*/orders", lambda body: [o.pop("updatedOn") for o in body])
    config = sandbox_config(sb, start_date=START)
    again = run_sync(config, streams=["orders"], state=first.state)
    assert len(again.records["orders"]) == 4
    assert bookmarks(again, "orders") == bookmarks(first, "orders")


def test_message_statistics_whose_interval_is_no_timestamp(sb, answers, caplog):
    def odd_intervals(body: list[dict[str, t.Any]]) -> None:
        body[-1]["timeInterval"] = "soon/P1D"  # `not a timestamp: 'soon'` ended the run before
        body[0]["timeInterval"] = ""

    answers.change("/newsletters/*/statistics", odd_intervals)
    result = sync(sb, ["newsletter_statistics"], caplog)

    assert_valid(result)
    rows = result.records["newsletter_statistics"]
    newsletters = answers.changed["/newsletters/*/statistics"]
    assert newsletters == 3
    unkeyed = [r for r in rows if r.get("intervalStart") is None]
    assert len(unkeyed) == 2 * newsletters
    expected = {}
    for row in rows:
        if row.get("intervalStart") is not None:
            expected[row["newsletterId"]] = max(
                expected.get(row["newsletterId"], ""), row["intervalStart"]
            )
    assert bookmarks(result, "newsletter_statistics") == expected
    (warning,) = warnings_about(caplog, "field 'timeInterval'")
    assert "stream 'newsletter_statistics'" in warning
    assert "got 'soon/P1D'" in warning
    assert summary(caplog) == [
        (
            "Stream 'newsletter_statistics', field 'timeInterval': 3 value(s) set to null "
            "(expected an interval starting with a timestamp; e.g. 'soon/P1D')"
        ),
        (
            "Stream 'newsletter_statistics', field 'intervalStart': 6 record(s) without a usable "
            "replication key, emitted without moving the bookmark"
        ),
    ]


def test_list_statistics_whose_created_on_is_no_timestamp(sb, answers, caplog):
    def odd_days(body: list[dict[str, t.Any]]) -> None:
        body[0]["createdOn"] = ""  # `not a timestamp: ''` ended the run before
        body[-1]["createdOn"] = "someday"

    answers.change("/campaigns/statistics/list-size", odd_days)
    result = sync(sb, ["campaign_list_size_statistics"], caplog)

    assert_valid(result)
    rows = result.records["campaign_list_size_statistics"]
    campaigns = answers.changed["/campaigns/statistics/list-size"]
    good: dict[str, list[str]] = {}
    for row in rows:
        if row["createdOn"] not in {"", "someday"}:
            good.setdefault(row["campaignId"], []).append(row["createdOn"])
    assert bookmarks(result, "campaign_list_size_statistics") == {
        campaign: max(days, key=dt.date.fromisoformat) for campaign, days in good.items()
    }
    assert summary(caplog) == [
        (
            f"Stream 'campaign_list_size_statistics', field 'createdOn': {2 * campaigns} record(s) "
            "without a usable replication key, emitted without moving the bookmark"
        ),
    ]


# --- strict_values ------------------------------------------------------------------------------


def test_strict_values_ends_the_run_with_one_line_and_exit_1(sb, answers, tmp_path):
    def odd_rate(body: list[dict[str, t.Any]]) -> None:
        body[1].setdefault("sendMetrics", {})["clickRate"] = "ask jane.doe@example.com"

    answers.change("/newsletters", odd_rate)
    config = sandbox_config(sb, strict_values=True)
    done = run_cli(tmp_path, config, streams=["newsletters"])

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "strict_values" in line]
    newsletter = sb.data.newsletters[1]["newsletterId"]
    assert (
        f"strict_values: stream 'newsletters', field 'sendMetrics.clickRate', record "
        f"{{'newsletterId': '{newsletter}'}}: expected number, got 'ask ***@example.com'"
    ) in line
    assert "jane" not in done.stderr
    assert len(done.result.records["newsletters"]) <= 1


def test_strict_values_stops_at_a_statistics_part_of_the_wrong_shape(sb, answers):
    answers.change(
        "/campaigns/statistics/origins", lambda body: body[0].update(dict.fromkeys(body[0], True))
    )
    config = sandbox_config(sb, strict_values=True)
    with pytest.raises(StrictValuesError) as error:
        run_sync(config, streams=["campaign_origin_statistics"])
    first = sb.data.campaigns[0]["campaignId"]
    assert str(error.value) == (
        "strict_values: stream 'campaign_origin_statistics', field '<campaignId>', record "
        f"{{'campaignId': '{first}'}}: expected object, got True"
    )
