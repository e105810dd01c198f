"""Every stream reads any response GetResponse's official OpenAPI allows (issue 13, item 7).

For each of the tap's streams, hypothesis draws bodies of its request's documented 200 response
(tests/tap/generated.py: values of the documented types with unusual content) and a real HTTP
server on loopback answers them to a sync of that stream alone, through its whole record path.
Every run must:

- finish: nothing escapes the stream, and the run does not report the stream failed;
- emit every item it read (a bad value costs that value, not its record), each record valid
  against the stream's SCHEMA as an SDK target checks it, formats included;
- report what it coerced: every value that went into `post_process` non-null and came out null is
  counted in the end-of-run summary under its field, after one warning naming stream and field;
  every record without a usable replication key is counted, and never moves the bookmark.

Examples are derandomised and no example database is kept: every run of this module draws the
same bodies, so a failure here fails the same way on every machine. The figures (responses drawn,
values coerced, records without a usable replication key, per stream) are printed at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from singer_sdk.sinks.core import JSONSchemaValidator

from tap_getresponse import windows
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.tap.generated import (
    STREAM_CLASSES,
    LoopbackAPI,
    StreamRun,
    body_strategy,
    nulled,
    operation_id,
    reported,
    run_stream,
    sync_one,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Bodies drawn per stream and run of this module (35 streams).
EXAMPLES = 80

GENERATED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No "explain" phase: it re-runs a failing example under a tracer, seconds per stream.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def api() -> Iterator[LoopbackAPI]:
    server = LoopbackAPI()
    yield server
    server.close()


#: Slack for the run's window end, read from the loopback server's whole-second `Date` header.
SECONDS = dt.timedelta(seconds=5)

#: With and without a `start_date` (windows and client-side filters open from it, or not at all).
START_DATES = (None, "2020-01-01T00:00:00Z")

#: Stream -> responses drawn, values coerced, records without a usable replication key.
TALLY: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TALLY:
        return
    columns = ("responses", "coerced", "unkeyed")
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(
            f"{'stream':34} {'OpenAPI operation':38} "
            + " ".join(f"{column:>9}" for column in columns)
        )
        for name in sorted(TALLY):
            figures = " ".join(f"{TALLY[name][column]:>9}" for column in columns)
            operation = operation_id(STREAM_CLASSES[name.split()[0]].path)
            reporter.write_line(f"{name:34} {operation:38} {figures}")
        totals = " ".join(f"{sum(c[column] for c in TALLY.values()):>9}" for column in columns)
        reporter.write_line(f"{'total':34} {'':38} {totals}")


@cache
def validator_for(schema: str) -> JSONSchemaValidator:
    """An SDK target's record validator, formats checked (built once per schema: 20 ms)."""
    return JSONSchemaValidator(json.loads(schema), validate_formats=True)


def coerced(run: StreamRun) -> Counter[str]:
    """Field path -> values that went into post_process non-null and came out null."""
    found: Counter[str] = Counter()
    for before, after in run.rows:
        if after is not None:
            found.update(nulled(run.schema, before, after))
    return found


def usable(value: t.Any) -> bool:
    """Whether a replication key value can place a record in time."""
    if value is None:
        return False
    try:
        windows.parse_moment(str(value))
    except (ValueError, OverflowError):
        return False
    return True


def bookmarks(run: StreamRun) -> list[str]:
    """Every `replication_key_value` in the run's last STATE for its stream."""
    if not run.result.states:
        return []
    saved = run.result.state.get("bookmarks", {}).get(run.name, {})
    entries = [saved, *saved.get("partitions", ())]
    return [str(e["replication_key_value"]) for e in entries if "replication_key_value" in e]


def check_run(run: StreamRun, started: dt.datetime) -> Counter[str]:
    """The properties every generated run must have; returns its figures for the tally."""
    assert run.error is None, f"{run.name}: {type(run.error).__name__}: {run.error}"
    validator = validator_for(json.dumps(run.schema, sort_keys=True))
    for record in run.records:
        validator.validate(record)
    kept = [after for _, after in run.rows if after is not None]
    assert len(run.records) == len(kept), "a record that left post_process was not emitted"

    report = reported(run)
    for path, count in coerced(run).items():
        assert report.values[path] >= count, f"{run.name}.{path}: {count} nulled, {report}"
    for path in report.values:
        where = f"stream '{run.name}', field '{path}'" if path else f"stream '{run.name}', item"
        first = [line for line in run.warnings if line.startswith(where)]
        assert len(first) == 1, f"one warning for {where}, got {first}"

    key = run.replication_key
    figures = Counter(coerced=sum(report.values.values()), unkeyed=sum(report.unkeyed.values()))
    if key:
        values = [record.get(key) for record in run.records]
        assert report.unkeyed[key] == sum(not usable(value) for value in values)
        allowed = {str(value) for value in values if usable(value)}
        for saved in bookmarks(run):
            # A record's own key, or the run's window end (a bookmark never passes the run's
            # start, SyncRun.window_end): never a value from a record without a usable key.
            window_end = usable(saved) and windows.parse_moment(saved) >= started - SECONDS
            assert saved in allowed or window_end, f"bookmark {saved!r}: no record's usable key"
        if not allowed:
            assert not bookmarks(run), "a bookmark from records without a usable key"
    return figures


@pytest.mark.parametrize("name", sorted(STREAM_CLASSES))
def test_stream_reads_every_documented_response(name, api):
    tally = TALLY.setdefault(name, Counter())
    started = dt.datetime.now(dt.UTC)

    @GENERATED
    @given(body=body_strategy(name), start=st.sampled_from(START_DATES))
    def read(body: t.Any, start: str | None) -> None:
        config = {"start_date": start} if start else {}
        figures = check_run(run_stream(api, name, body, **config), started)
        tally.update(figures, responses=1)

    read()


#: Streams whose sandbox collection is served as stored (no view reshapes its items): the
#: sandbox filters, sorts, pages and projects the drawn items as GetResponse would.
SANDBOX_STREAMS = ("tags", "custom_fields", "click_tracks", "webforms")
#: Bodies drawn per stream through the sandbox (each a whole paged, windowed read).
SANDBOX_EXAMPLES = 40


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(scale=Scale(contacts=5), seed=13, limits=GENEROUS_LIMITS) as sb:
        yield sb


@pytest.mark.parametrize("name", SANDBOX_STREAMS)
def test_stream_reads_documented_items_served_by_the_sandbox(name, sandbox):
    tally = TALLY.setdefault(f"{name} (sandbox)", Counter())
    started = dt.datetime.now(dt.UTC)
    collection = getattr(sandbox.data, name)

    @settings(GENERATED, max_examples=SANDBOX_EXAMPLES)
    @given(body=body_strategy(name))
    def read(body: list[dict[str, t.Any]]) -> None:
        with sandbox.data.lock:
            collection[:] = body
        # Two items a page: the drawn items come over several pages, with the sandbox's headers.
        run = sync_one(sandbox.url, name, api_key=sandbox.api_key, page_size=2)
        figures = check_run(run, started)
        served = [entry for entry in sandbox.log if entry.path == STREAM_CLASSES[name].path]
        assert served, "the sandbox was not asked"
        assert all(entry.status == 200 for entry in served)
        if STREAM_CLASSES[name].window_field is None:  # read in full: every item, once
            assert len(run.records) == len(body)
        sandbox.clear_log()
        tally.update(figures, responses=1)

    read()


@dataclass(frozen=True)
class Case:
    """A response the issue measured ending a run, and what the run must say about it."""

    stream: str
    body: t.Any
    #: Field -> values reported as not fitting ("" for whole items skipped).
    coerced: dict[str, int]
    #: Records emitted without a usable replication key.
    unkeyed: int = 0
    #: Records emitted.
    records: int = 1
    #: The bookmark values in the final STATE (None: not checked).
    bookmarks: tuple[str, ...] | None = None


DAY = "2024-05-01T00:00:00+0000"
DAY_RFC3339 = "2024-05-01T00:00:00+00:00"

#: One per stream kind (plain list, incremental window, detail and batched fan-out, daily and
#: all-time campaign statistics, message statistics, per-shop client-filtered, single object).
ISSUE_CASES = {
    "list: a date-time that is the empty string": Case(
        "webinars", [{"webinarId": "w1", "createdOn": ""}], {"createdOn": 1}
    ),
    "list: a string boolean that is neither": Case(
        "from_fields", [{"fromFieldId": "f1", "isActive": "00"}], {"isActive": 1}
    ),
    "list: newsletters sendMetrics.clickRate not a number": Case(
        "newsletters",
        [{"newsletterId": "n1", "sendMetrics": {"clickRate": "N/A", "sent": "12"}}],
        {"sendMetrics.clickRate": 1},
    ),
    "list: an item that is not an object": Case(
        "tags",
        ["just text", {"tagId": "t1", "createdAt": DAY}],
        {"": 1},
        bookmarks=(DAY_RFC3339,),
    ),
    "window: tags without createdAt": Case("tags", [{"tagId": "t1"}], {}, unkeyed=1, bookmarks=()),
    "window: contacts whose changedOn is an e-mail address (shown masked)": Case(
        "contacts", [{"contactId": "c1", "changedOn": "someone@example.com"}], {"changedOn": 1}, 1
    ),
    "detail fan-out: a scalar where an object belongs": Case(
        "contact_details",
        {"contactId": "ctc1", "changedOn": DAY, "campaign": "list_one"},
        {"campaign": 1},
    ),
    "batched fan-out: activity createdOn not a timestamp": Case(
        "contact_activities",
        [{"activity": "open", "createdOn": "0"}, {"activity": "send", "createdOn": DAY}],
        {"createdOn": 1},
        unkeyed=1,
        records=2,
        bookmarks=(DAY_RFC3339,),
    ),
    "message statistics: timeInterval not a timestamp": Case(
        "newsletter_statistics",
        [{"timeInterval": "soon/P1D", "sent": 1}, {"timeInterval": f"{DAY}/P1D", "sent": 2}],
        {"timeInterval": 1},
        unkeyed=1,
        records=2,
        bookmarks=(DAY_RFC3339,),
    ),
    "list statistics: createdOn that is the empty string": Case(
        "campaign_list_size_statistics",
        [
            {"createdOn": "", "totalSubscribers": 1},
            {"createdOn": "2024-05-01", "totalSubscribers": 2},
        ],
        {},
        unkeyed=1,
        records=2,
        bookmarks=("2024-05-01",),
    ),
    "list statistics: a date key that is the empty string": Case(
        "campaign_balance_statistics",
        [{"": {"removals": {"user": 1}}, "2024-05-01": {"subscriptions": {"api": 2}}}],
        {"date": 1},
        unkeyed=1,
        records=2,
        bookmarks=("2024-05-01",),
    ),
    "list statistics: a boolean where the counts of a day belong": Case(
        "campaign_balance_statistics",
        [{"2024-05-01": True, "2024-05-02": {"removals": False}}],
        {"<date>": 1, "<date>.<kind>": 1},
        records=0,
        bookmarks=(),
    ),
    "all-time statistics: totalLandingPages not a number": Case(
        "campaign_summary_statistics",
        [{"cmp1": {"totalLandingPages": "lots", "totalSubscribers": "4"}}],
        {"totalLandingPages": 1},
    ),
    "all-time statistics: a location amount not an integer": Case(
        "campaign_location_statistics",
        [{"PL": {"amount": "0.5", "countryCode": "PL"}}],
        {"amount": 1},
    ),
    "per shop: orders without updatedOn": Case(
        "orders", [{"orderId": "o1", "totalPrice": 3}], {}, unkeyed=1, bookmarks=()
    ),
    "single object: an object where a string belongs": Case(
        "accounts", {"accountId": "a1", "email": {"address": "someone@example.com"}}, {"email": 1}
    ),
}


@pytest.mark.parametrize("case", ISSUE_CASES.values(), ids=ISSUE_CASES)
def test_a_response_the_issue_measured_ends_no_run(case, api):
    run = run_stream(api, case.stream, case.body)
    check_run(run, dt.datetime.now(dt.UTC))
    report = reported(run)
    assert dict(report.values) == case.coerced
    assert sum(report.unkeyed.values()) == case.unkeyed
    assert len(run.records) == case.records
    if case.bookmarks is not None:
        assert tuple(bookmarks(run)) == case.bookmarks
    assert not [line for line in run.warnings if "someone@" in line]
