"""What a user or the API can get wrong ends in one line and exit 1, or in the documented recovery.

Bad settings and files (config, state, catalog) stop the run before any request; an answer that
is not a collection fails its stream while the others sync; a run where every collection answers
403/404 fails; paging headers that contradict the pages are not believed; a bookmark after the
run's start is clamped.
"""

from __future__ import annotations

import contextlib
import copy
import http.server
import io
import json
import logging
import subprocess
import threading
import typing as t

import pytest

from tap_getresponse.run import InputError, SyncFailedError
from tap_getresponse.streams import STREAMS
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Answer, Scale
from tests.tap.conftest import TAP, SyncResult, next_second, run_cli, sandbox_config, select

SMALL = Scale(contacts=60, campaigns=3, newsletters=4, autoresponders=2, tags=12)
FAR_FUTURE = "2999-01-01T00:00:00+00:00"


def sync_checked(
    config: dict[str, t.Any],
    streams: t.Iterable[str],
    state: dict[str, t.Any] | None = None,
) -> tuple[SyncResult, list[str]]:
    """Sync in-process as the CLI does; the messages and the lines that would end it (exit 1)."""
    tap = TapGetResponse(config=config, state=copy.deepcopy(state or {}), parse_env_config=False)
    select(tap, streams)
    out = io.StringIO()
    problems: list[str] = []
    with contextlib.redirect_stdout(out):
        try:
            tap.sync_checked()
        except SyncFailedError as error:
            problems = error.problems
    return SyncResult([json.loads(line) for line in out.getvalue().splitlines() if line]), problems


def errors_of(stderr: str) -> list[str]:
    """The ERROR lines of a run's log, without timestamp and logger."""
    return [line.split("| ")[-1] for line in stderr.splitlines() if "| ERROR" in line]


def check_one_line(run: t.Any, *words: str) -> None:
    """Exit 1, no traceback, and exactly one error line, which contains every one of `words`."""
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = errors_of(run.stderr)
    for word in words:
        assert word in line


# -- settings: one line naming the setting, before any request, in every mode --------------

BAD_SETTINGS = {
    "no credentials": ({}, "`api_key`"),
    "start_date not a date": ({"start_date": "yesterday"}, "`start_date`"),
    "start_date impossible": ({"start_date": "2024-13-45"}, "`start_date`"),
    "start_date in the future": ({"start_date": "2999-01-01"}, "`start_date`"),
    "page_size 0": ({"page_size": 0}, "page_size"),
    "page_size text": ({"page_size": "many"}, "page_size"),
    "lookback that overflows": ({"lookback_minutes": 10**12}, "lookback_minutes"),
    "statistics lookback too long": ({"statistics_lookback_days": 10**6}, "statistics_lookback"),
    "api_url not a URL": ({"api_url": "api.getresponse.com"}, "`api_url`"),
    "api_url with a query": ({"api_url": "http://127.0.0.1:9/v3?x=1"}, "`api_url`"),
    "api_url with a fragment": ({"api_url": "http://127.0.0.1:9/v3#top"}, "`api_url`"),
    "parallel above 10": ({"max_parallel_requests": 11}, "max_parallel_requests"),
    "negative timeout": ({"request_timeout": -1}, "request_timeout"),
}


@pytest.mark.parametrize("mode", [[], ["--test"]], ids=["sync", "test"])
@pytest.mark.parametrize(("overrides", "setting"), BAD_SETTINGS.values(), ids=BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, mode, overrides, setting):
    base = {} if overrides == {} else {"api_url": "http://127.0.0.1:9/v3", "api_key": "k" * 12}
    run = run_cli(tmp_path, {**base, **overrides}, args=mode)
    check_one_line(run, setting)
    assert not run.stdout


@pytest.mark.parametrize("mode", [[], ["--test"], ["--discover"]], ids=["sync", "test", "discover"])
@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{", "is not JSON"),
        ("[1, 2]", "holds an array"),
        (None, "No such file"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["not JSON", "not an object", "missing", "nested too deeply", "not UTF-8"],
)
def test_a_config_file_that_is_not_a_json_object_is_one_line_naming_it(
    tmp_path, mode, content, words
):
    path = tmp_path / "config.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    done = subprocess.run(
        [TAP, "--config", str(path), *mode], capture_output=True, text=True, timeout=60, check=False
    )
    check_one_line(done, "--config", str(path), words)


def test_schema_test_mode_with_an_empty_config_is_one_line(tmp_path):
    check_one_line(run_cli(tmp_path, {}, args=["--test=schema"]), "`api_key`")


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"api_key": "not-the-key-1"}, "401"),
        ({"access_token": "not-a-token-1"}, "401"),
    ],
    ids=["api_key", "access_token"],
)
def test_refused_credentials_are_one_line_in_sync_and_test(make_sandbox, tmp_path, config, words):
    sb = make_sandbox(scale=SMALL)
    synced = run_cli(tmp_path, {"api_url": sb.url, **config})
    # The first stream in name order makes the first request (ab_tests, then accounts...).
    check_one_line(synced, "Sync failed", words, "on GET /")
    tested = run_cli(tmp_path, {"api_url": sb.url, **config}, args=["--test"])
    assert tested.returncode == 1
    assert "Traceback" not in tested.stderr
    (line,) = [line for line in tested.stderr.splitlines() if "| INFO" not in line]
    assert line.startswith("Connection check failed:")
    assert words in line


def test_discovery_needs_no_setting_and_sends_no_request(tmp_path, make_sandbox):
    sb = make_sandbox(scale=SMALL)
    config = {"api_url": sb.url, "start_date": "yesterday", "page_size": 0}
    run = run_cli(tmp_path, config, args=["--discover"])
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["streams"]) == len(STREAMS)
    assert not sb.log


# -- state: one line naming the stream and the value, before any request -------------------

BAD_STATES = {
    "bookmark not a date": (
        {"bookmarks": {"contacts": {"replication_key_value": "last tuesday"}}},
        ["'contacts'", "'last tuesday'", "not a date-time"],
    ),
    "bookmark a number": (
        {"bookmarks": {"contacts": {"replication_key_value": 17}}},
        ["'contacts'", "17", "not a date-time"],
    ),
    "bookmark less the lookback overflows": (
        {"bookmarks": {"contacts": {"replication_key_value": "0001-01-01T00:00:00+00:00"}}},
        ["'contacts'", "0001-01-01", "before year 1"],
    ),
    "partition bookmark not a date": (
        {
            "bookmarks": {
                "newsletter_statistics": {
                    "partitions": [
                        {"context": {"newsletterId": "n1"}, "replication_key_value": "x"}
                    ]
                }
            }
        },
        ["'newsletter_statistics'", "'x'"],
    ),
    "stream state not an object": (
        {"bookmarks": {"contacts": ["2024-01-01"]}},
        ["'contacts'", "an array"],
    ),
    "partitions not a list": (
        {"bookmarks": {"contacts": {"partitions": {"a": 1}}}},
        ["'contacts'", "`partitions`"],
    ),
    "bookmarks not an object": ({"bookmarks": []}, ["`bookmarks`", "an array"]),
}


@pytest.mark.parametrize(("state", "words"), BAD_STATES.values(), ids=BAD_STATES)
def test_corrupt_state_is_one_line_naming_the_stream_and_value(make_sandbox, state, words):
    sb = make_sandbox(scale=SMALL)
    with pytest.raises(InputError) as raised:
        sync_checked(sandbox_config(sb), ["contacts", "newsletter_statistics"], state)
    (line,) = raised.value.problems
    for word in words:
        assert word in line
    assert not sb.log, "nothing is read from a run that cannot keep its state"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"bookmarks": {', ["--state", "is not JSON"]),
        ("[]", ["--state", "holds an array"]),
        ('{"bookmarks": {"tags": {"replication_key_value": "soon"}}}', ["'tags'", "'soon'"]),
    ],
    ids=["not JSON", "not an object", "bad bookmark"],
)
def test_cli_corrupt_state_exits_1_with_one_line(make_sandbox, tmp_path, content, words):
    sb = make_sandbox(scale=SMALL)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb)), encoding="utf-8")
    state = tmp_path / "state.json"
    state.write_text(content, encoding="utf-8")
    done = subprocess.run(
        [TAP, "--config", str(config), "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    check_one_line(done, *words)
    assert not done.stdout
    assert not sb.log


def test_an_empty_state_file_is_no_state(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    state = tmp_path / "state.json"
    state.write_text("", encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb)), encoding="utf-8")
    catalog = tmp_path / "catalog.json"
    run = run_cli(tmp_path, sandbox_config(sb), streams=["tags"])  # writes the catalog too
    assert run.returncode == 0, run.stderr
    done = subprocess.run(
        [TAP, "--config", str(config), "--catalog", str(catalog), "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"type":"RECORD"') + done.stdout.count('"type": "RECORD"') == 12


def test_a_bookmark_after_the_run_start_is_clamped_to_it(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL)
    changed = sb.data.contacts[5]["contactId"]
    sb.data.update_contact(changed, name="Changed Just Now")
    next_second()
    state = {
        "bookmarks": {
            "contacts": {"replication_key": "changedOn", "replication_key_value": FAR_FUTURE}
        }
    }
    config = sandbox_config(sb, lookback_minutes=5)
    with caplog.at_level(logging.WARNING):
        result, problems = sync_checked(config, ["contacts"], state)
    assert not problems
    (warning,) = [r.getMessage() for r in caplog.records if FAR_FUTURE in r.getMessage()]
    assert "'contacts'" in warning
    # Read from the run's start less the lookback: the change made just before it is there.
    assert changed in result.ids("contacts", "contactId")
    assert len(result.records["contacts"]) < len(sb.data.contacts)
    saved = result.state["bookmarks"]["contacts"]["replication_key_value"]
    assert saved < FAR_FUTURE
    (request,) = [r for r in sb.log if r.path == "/contacts"]
    assert request.query["query[changedOn][from]"] < request.query["query[changedOn][to]"]


def test_a_clamped_bookmark_with_nothing_to_read_is_written_back_as_the_run_start(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    state = {
        "bookmarks": {"tags": {"replication_key": "createdAt", "replication_key_value": FAR_FUTURE}}
    }
    result, problems = sync_checked(sandbox_config(sb), ["tags"], state)
    assert not problems
    assert not result.records["tags"]
    saved = result.state["bookmarks"]["tags"]["replication_key_value"]
    assert "2000" < saved < FAR_FUTURE, "the next run reads again from here, not from 2999"


# -- a run where every collection is "plan-gated" is a wrong URL --------------------------


def test_every_collection_refused_is_a_wrong_url_not_a_plan(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    config = sandbox_config(sb, api_url=sb.url.removesuffix("/v3") + "/v2")
    run = run_cli(tmp_path, config)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = errors_of(run.stderr)
    assert "`api_url`" in line
    assert "403 or 404" in line
    assert not run.result.records


class _WebPage(http.server.BaseHTTPRequestHandler):
    """A web server where the API should be: every path answers 200 with an HTML page."""

    def do_GET(self) -> None:
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815 - the name http.server calls

    def log_message(self, *args: object) -> None:
        del args


def test_a_web_page_for_every_collection_is_one_line_not_one_per_stream(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api_url = f"http://127.0.0.1:{server.server_address[1]}/v3"
        run = run_cli(tmp_path, {"api_key": "some-key", "api_url": api_url})
    finally:
        server.shutdown()
        server.server_close()
    check_one_line(run, "Nothing was read", "`api_url`", "text/html")
    assert "more streams failed" in errors_of(run.stderr)[0]
    assert not run.result.records


def test_one_refused_collection_among_others_is_a_plan_limit(make_sandbox):
    sb = make_sandbox(scale=SMALL)  # SMS add-on off: /sms answers 403
    result, problems = sync_checked(sandbox_config(sb), ["sms", "tags"])
    assert not problems
    assert len(result.records["tags"]) == 12


# -- answers that are not a collection fail their stream; the others sync ------------------

NOT_A_COLLECTION = {
    "object for a list": (
        Answer(body={"campaignId": "x"}),
        "an object where the API returns an array",
    ),
    "empty body": (Answer(raw=b""), "an empty body"),
    "HTML with 200": (
        Answer(raw=b"<html><body>Maintenance</body></html>", content_type="text/html"),
        "text/html",
    ),
    "a string": (Answer(body="campaigns"), "a string where"),
    "JSON nested too deeply": (
        Answer(raw=b"[" * 100_000 + b"]" * 100_000, content_type="application/json"),
        "nested too deeply",
    ),
}


@pytest.mark.parametrize(("answer", "words"), NOT_A_COLLECTION.values(), ids=NOT_A_COLLECTION)
def test_an_answer_that_is_not_a_collection_fails_only_its_stream(make_sandbox, answer, words):
    sb = make_sandbox(scale=SMALL)
    sb.faults.answer_next(1, "/campaigns", answer)
    result, problems = sync_checked(sandbox_config(sb), ["campaigns", "tags", "custom_fields"])
    (line,) = problems
    assert line.startswith("Stream 'campaigns' failed: GET /v3/campaigns?")
    assert "perPage=" in line
    assert words in line
    assert not result.records["campaigns"], "nothing read from it became a record"
    assert len(result.records["tags"]) == 12
    assert len(result.records["custom_fields"]) == len(sb.data.custom_fields)


def test_cli_a_failed_stream_is_one_line_and_exit_1_at_the_end(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    config = sandbox_config(sb)
    catalog = run_cli(tmp_path, config, streams=["campaigns", "tags"])  # writes the catalog
    assert catalog.returncode == 0
    sb.faults.answer_next(1, "/campaigns", Answer(body={"unexpected": True}))
    done = subprocess.run(
        [
            TAP,
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    check_one_line(done, "Stream 'campaigns' failed: GET /v3/campaigns?", "an object")
    assert "Stream 'campaigns' stopped" in done.stderr, "a warning when it happens"
    assert done.stdout.count('"type":"RECORD","stream":"tags"') == 12


def fail_page(sb, path: str, page: str, answer: Answer) -> None:
    """Answer `answer` to the request of `path` for page `page` (requests one at a time)."""

    def on_request(entry) -> None:
        if entry.path == path and entry.query.get("page") == page:
            sb.faults.answer_next(1, path, answer)

    sb.on_request = on_request


def test_a_failed_sorted_stream_keeps_the_bookmark_of_what_it_emitted(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    fail_page(sb, "/contacts", "2", Answer(raw=b"<html></html>", content_type="text/html"))
    config = sandbox_config(sb, page_size=20, max_parallel_requests=1)
    result, problems = sync_checked(config, ["contacts"])
    assert [line.split(":")[0] for line in problems] == ["Stream 'contacts' failed"]
    emitted = result.records["contacts"]
    assert len(emitted) == 20
    saved = result.state["bookmarks"]["contacts"]
    assert saved["replication_key_value"] == max(r["changedOn"] for r in emitted)
    assert "progress_markers" not in saved
    # The next run reads on from there and gets the rest.
    sb.on_request = None
    rest, problems = sync_checked(config, ["contacts"], result.state)
    assert not problems
    # The rerun also emits contacts removed since the bookmark, as soft deletes.
    live = [r for r in rest.records["contacts"] if r.get("_sdc_deleted_at") is None]
    got = {*result.ids("contacts", "contactId"), *(r["contactId"] for r in live)}
    assert got == {c["contactId"] for c in sb.data.contacts}


def test_a_failed_unsorted_stream_moves_no_bookmark(make_sandbox):
    sb = make_sandbox(scale=Scale(contacts=30, activities_per_contact=3, campaigns=2))
    last = sb.data.contacts[len(sb.data.contacts) - 1]["contactId"]
    sb.faults.answer_next(1, f"/contacts/{last}/activities", Answer(body={"activity": "open"}))
    config = sandbox_config(sb, page_size=10, max_parallel_requests=1)
    result, problems = sync_checked(config, ["contact_activities", "tags"])
    (line,) = problems
    assert f"GET /v3/contacts/{last}/activities?" in line
    assert result.records["contact_activities"], "records came before the failure"
    saved = result.state["bookmarks"].get("contact_activities", {})
    assert "replication_key_value" not in saved, "unsorted progress is final only when complete"
    assert "progress_markers" not in saved
    assert result.records["tags"]


def test_a_parent_listing_that_is_not_a_collection_fails_the_fan_out_stream(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    sb.faults.answer_next(1, "/campaigns", Answer(body={"campaignId": "x"}))
    result, problems = sync_checked(sandbox_config(sb), ["campaign_summary_statistics", "tags"])
    (line,) = problems
    assert line.startswith("Stream 'campaign_summary_statistics' failed: GET /v3/campaigns?")
    assert not result.records["campaign_summary_statistics"]
    assert len(result.records["tags"]) == 12


# -- paging headers that contradict the pages ----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"TotalPages": "-1"},
        {"TotalPages": "1"},
        {"TotalPages": "0"},
        {"TotalPages": "many"},
        {"TotalPages": "1", "TotalCount": "-5"},
        {"TotalPages": "99999999999"},
    ],
    ids=["negative", "fewer than the count", "zero", "not a number", "both wrong", "absurd"],
)
def test_paging_headers_that_contradict_the_pages_read_until_a_short_page(make_sandbox, headers):
    sb = make_sandbox(scale=SMALL)
    sb.faults.answer_next(100, "/contacts", Answer(headers=headers))
    config = sandbox_config(sb, page_size=20)
    result, problems = sync_checked(config, ["contacts"])
    assert not problems
    assert sorted(result.ids("contacts", "contactId")) == sorted(
        c["contactId"] for c in sb.data.contacts
    )
    pages = [r for r in sb.log if r.path == "/contacts"]
    assert len(pages) <= 4 + 10, "at most the pages in flight past the end"


# -- campaign statistics list their campaigns page by page ---------------------------------


def test_campaign_statistics_read_every_campaign_past_the_default_page(make_sandbox):
    sb = make_sandbox(scale=Scale(campaigns=120, contacts=40, newsletters=2, autoresponders=1))
    result, problems = sync_checked(sandbox_config(sb), ["campaign_summary_statistics"])
    assert not problems
    campaigns = {c["campaignId"] for c in sb.data.campaigns}
    assert {r["campaignId"] for r in result.records["campaign_summary_statistics"]} == campaigns
    listings = [r for r in sb.log if r.path == "/campaigns"]
    assert listings
    assert all("perPage" in r.query for r in listings)


def test_parents_are_listed_with_the_page_size(make_sandbox):
    sb = make_sandbox(scale=Scale(campaigns=7, contacts=20, newsletters=2, autoresponders=1))
    result, problems = sync_checked(
        sandbox_config(sb, page_size=3),
        ["campaign_balance_statistics", "campaign_origin_statistics"],
    )
    assert not problems
    campaigns = {c["campaignId"] for c in sb.data.campaigns}
    assert {r["campaignId"] for r in result.records["campaign_origin_statistics"]} == campaigns
    listings = [r.query for r in sb.log if r.path == "/campaigns"]
    assert sorted(q["page"] for q in listings) == ["1", "2", "3"], "listed once, shared"
