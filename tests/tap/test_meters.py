"""Readable runs: short metric lines for fan-out batches, progress lines with the time left."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import typing as t

import pytest

from tap_getresponse.meters import Progress
from tests.sandbox import Scale
from tests.tap.conftest import TAP, run_sync, sandbox_config

if t.TYPE_CHECKING:
    from tests.sandbox import Sandbox

CONTACTS = 2500
PROGRESS = re.compile(
    r"^(?P<stream>\w+): (?P<done>[\d,]+) of (?P<total>[\d,]+) (?P<unit>\w+) \((?P<percent>\d+)%\)"
    r"(?:, about (?P<left>\d+ s|\d+ min|\d+ h \d+ min) left)?$"
)


@pytest.fixture
def sb(make_sandbox: t.Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(scale=Scale(contacts=CONTACTS, newsletters=6), seed=12)


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_metric_lines_name_a_batch_by_its_size_and_first_id(sb, caplog):
    with caplog.at_level(logging.INFO):
        result = run_sync(
            sandbox_config(sb, page_size=1000), streams=("contacts", "contact_details")
        )
    ids = set(result.ids("contacts", "contactId"))
    assert len(ids) == CONTACTS
    lines = log_lines(caplog)
    for line in lines:
        assert len(line) < 2048, line[:300]  # "a few KB" at most
        assert len(ids & set(re.findall(r"\w+", line))) <= 1, line[:300]
    points = [json.loads(line.removeprefix("METRIC: ")) for line in lines if "METRIC" in line]
    batches = [
        point["tags"]["context"]["contactIds"]
        for point in points
        if point["metric"] == "record_count" and point["tags"]["stream"] == "contact_details"
    ]
    # One batch per page of contacts: 1000, 1000, 500, each named by its page's first contact.
    assert [batch["count"] for batch in batches] == [1000, 1000, 500]
    firsts = result.ids("contacts", "contactId")[::1000]
    assert [batch["first"] for batch in batches] == firsts
    # Partitioning is unchanged: contact_details keeps one bookmark for the stream.
    details_state = result.state["bookmarks"]["contact_details"]
    assert "partitions" not in details_state
    assert details_state["replication_key"] == "changedOn"


def progress_lines(caplog: pytest.LogCaptureFixture, stream: str) -> list[dict[str, str]]:
    found = [PROGRESS.match(line) for line in log_lines(caplog)]
    return [m.groupdict() for m in found if m is not None and m["stream"] == stream]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def check_progress(lines: list[dict[str, str]], unit: str, dones: list[int], total: int) -> None:
    assert [number(line["done"]) for line in lines] == dones
    for line in lines:
        assert line["unit"] == unit
        assert number(line["total"]) == total
        assert int(line["percent"]) == number(line["done"]) * 100 // total
        assert (line["left"] is None) == (number(line["done"]) == total), line


def test_progress_lines_count_done_of_total_with_the_time_left(sb, caplog, monkeypatch):
    monkeypatch.setattr(Progress, "INTERVAL", 0.0)  # a line at every step
    streams = ("contacts", "contact_activities", "newsletter_statistics")
    with caplog.at_level(logging.INFO):
        run_sync(sandbox_config(sb, page_size=1000), streams=streams)
    # TotalCount of the first page of contacts is the total; one line per page of 1000.
    check_progress(progress_lines(caplog, "contacts"), "records", [1000, 2000, 2500], CONTACTS)
    # Fan-out streams count parents: batches of 1000 contacts, newsletters one by one.
    check_progress(
        progress_lines(caplog, "contact_activities"), "contacts", [1000, 2000, 2500], CONTACTS
    )
    newsletters = sum(n["type"] != "draft" for n in sb.data.collections["newsletters"])
    assert newsletters > 1
    check_progress(
        progress_lines(caplog, "newsletter_statistics"),
        "newsletters",
        list(range(1, newsletters + 1)),
        newsletters,
    )


def test_a_progress_line_waits_for_its_interval(monkeypatch):
    clock = iter([0.0, 10.0, 31.0, 40.0, 62.0])
    logged: list[str] = []
    logger = logging.getLogger("test-progress")
    monkeypatch.setattr(logger, "info", lambda _fmt, line: logged.append(line))
    progress = Progress("contacts", "records", logger, clock=lambda: next(clock))  # at 0 s
    for _ in range(4):  # at 10, 31, 40 and 62 s
        progress.advance(1000, total=10_000)
    assert logged == [
        "contacts: 2,000 of 10,000 records (20%), about 2 min left",
        "contacts: 4,000 of 10,000 records (40%), about 1 min left",
    ]


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "line"),
    [
        (45_000, 100_000, 9.82, "contacts: 45,000 of 100,000 records (45%), about 12 s left"),
        (1, 3, 100.0, "contacts: 1 of 3 records (33%), about 3 min left"),
        (1_000, 20_000, 200.0, "contacts: 1,000 of 20,000 records (5%), about 1 h 3 min left"),
        (20_000, 20_000, 250.0, "contacts: 20,000 of 20,000 records (100%)"),
        (20_100, 20_000, 250.0, "contacts: 20,000 of 20,000 records (100%)"),
    ],
)
def test_progress_line_format(done, total, elapsed, line):
    progress = Progress("contacts", "records", logging.getLogger("test-progress"))
    progress.total, progress.done = total, done
    assert progress.line(elapsed) == line


def test_help_describes_test_as_a_connection_check():
    shown = subprocess.run([TAP, "--help"], capture_output=True, text=True, check=True).stdout
    text = " ".join(shown.split())
    assert "one GET /accounts" in text
    assert "API URL, credentials and domain" in text
    assert "sync a single record" not in text
