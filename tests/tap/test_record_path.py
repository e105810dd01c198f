"""The lean record path emits exactly what the SDK's default path would, only faster.

The tap switches off the SDK's per-record type conformance (the normaliser does that job),
writes lines with msgspec in blocks (writer.py), and syncs a page at a time where that emits the
same (record_path.py). These tests run the same sync both ways against the sandbox and compare
every record and every line; features the page path leaves to the SDK still work.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import subprocess
import time
import typing as t
from pathlib import Path

import pytest
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from tap_getresponse import conversions, normalize
from tap_getresponse.client import GetResponseStream
from tap_getresponse.record_path import PageRecordStream
from tap_getresponse.tap import TapGetResponse
from tap_getresponse.writer import BlockWriter
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.tap.conftest import (
    TAP,
    SyncResult,
    catalog_for,
    run_sync,
    sandbox_config,
    select,
    write_json,
)

SCALE = Scale(contacts=40, newsletters=9, shops=2, products_per_shop=5, orders_per_shop=5)


@pytest.fixture(scope="module")
def small_sandbox():
    with Sandbox(scale=SCALE, seed=3, limits=GENEROUS_LIMITS, sms_enabled=True) as sb:
        yield sb


def without_extraction_time(lines: list[str]) -> list[dict]:
    messages = [json.loads(line) for line in lines if line]
    for message in messages:
        message.pop("time_extracted", None)
    return messages


def test_records_equal_the_sdk_type_conformance_on_every_stream(small_sandbox, monkeypatch):
    config = sandbox_config(small_sandbox, page_size=7)
    lean = run_sync(config)
    monkeypatch.setattr(GetResponseStream, "TYPE_CONFORMANCE_LEVEL", TypeConformanceLevel.RECURSIVE)
    conformed = run_sync(config)
    assert set(lean.records) == set(conformed.records)
    assert sum(map(len, lean.records.values())) > 300
    for stream, records in conformed.records.items():
        assert lean.records[stream] == records, stream


def test_lines_equal_the_sdk_writer(small_sandbox, monkeypatch):
    config = sandbox_config(small_sandbox, page_size=7)
    streams = ["contacts", "newsletters", "campaigns"]
    ours = run_sync(config, streams=streams)
    monkeypatch.setattr(TapGetResponse, "message_writer_class", SimpleSingerWriter)
    sdk = run_sync(config, streams=streams)
    assert len(ours.messages) == len(sdk.messages) > 50
    for message in (*ours.messages, *sdk.messages):
        message.pop("time_extracted", None)
    assert ours.messages == sdk.messages


def test_unbuffered_cli_output_is_complete_and_states_follow_their_records(small_sandbox, tmp_path):
    config = write_json(tmp_path / "config.json", sandbox_config(small_sandbox, page_size=3))
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config, ["contacts"]))
    done = subprocess.run(
        [TAP, "--config", str(config), "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    messages = without_extraction_time(done.stdout.splitlines())
    records = [m["record"]["contactId"] for m in messages if m["type"] == "RECORD"]
    assert sorted(records) == sorted(c["contactId"] for c in small_sandbox.data.contacts)
    assert messages[-1]["type"] == "STATE"


class _Pipe(io.TextIOWrapper):
    """A text stdout over bytes, recording what reached the bytes at each flush."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")
        self.flushed: list[bytes] = []

    def flush(self) -> None:
        super().flush()
        self.flushed.append(self.buffer.getvalue())  # type: ignore[attr-defined]


def test_block_writer_holds_records_and_writes_them_before_any_state(monkeypatch):
    pipe = _Pipe()
    monkeypatch.setattr("sys.stdout", pipe)
    writer = BlockWriter()
    for number in range(3):
        writer.write_message(RecordMessage(stream="s", record={"n": number}))
    assert pipe.buffer.getvalue() == b""  # type: ignore[attr-defined]
    writer.write_message(StateMessage(value={"bookmarks": {"s": {"n": 2}}}))
    lines = pipe.buffer.getvalue().decode().splitlines()  # type: ignore[attr-defined]
    assert [json.loads(line)["type"] for line in lines] == ["RECORD"] * 3 + ["STATE"]
    assert [json.loads(line)["record"]["n"] for line in lines[:3]] == [0, 1, 2]


def test_block_writer_writes_a_full_block_without_waiting_for_a_state(monkeypatch):
    pipe = _Pipe()
    monkeypatch.setattr("sys.stdout", pipe)
    writer = BlockWriter()
    record = {"text": "x" * 1000}
    for _ in range(BlockWriter.BLOCK_BYTES // 1000 + 1):
        writer.write_message(RecordMessage(stream="s", record=record))
    assert pipe.buffer.getvalue().count(b"\n") > 60  # type: ignore[attr-defined]


def test_a_failed_write_is_not_repeated(monkeypatch):
    class Broken(io.StringIO):
        calls = 0

        def write(self, text: str) -> int:
            del text
            self.calls += 1
            raise BrokenPipeError

    broken = Broken()
    monkeypatch.setattr("sys.stdout", broken)
    writer = BlockWriter()
    writer.write_message(RecordMessage(stream="s", record={"n": 1}))
    with pytest.raises(BrokenPipeError):
        writer.flush()
    writer.flush()
    assert broken.calls == 1


def test_records_held_when_a_run_fails_still_reach_stdout(make_sandbox, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=12), latency=0.3)
    settings = sandbox_config(sb, page_size=3, max_parallel_requests=1)
    config = write_json(tmp_path / "config.json", settings)
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config, ["contacts"]))
    sb.clear_log()
    tap = subprocess.Popen(
        [TAP, "--config", str(config), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not any(entry.path == "/contacts" and entry.status == 200 for entry in sb.log):
        assert time.monotonic() < deadline, "the tap never asked for contacts"
        time.sleep(0.01)
    sb.faults.fail_next(status=400, path="/contacts")  # page 2 of 4 fails
    stdout, stderr = tap.communicate(timeout=60)
    assert tap.returncode == 1, stderr
    messages = without_extraction_time(stdout.splitlines())
    assert [m["type"] for m in messages if m["type"] == "RECORD"] == ["RECORD"] * 3


def test_records_are_written_when_no_state_follows_them(small_sandbox):
    # A rerun whose bookmark does not move ends without a STATE (the SDK writes none when
    # nothing changed): the records it re-read (the lookback) must still reach stdout.
    config = sandbox_config(small_sandbox, lookback_minutes=60 * 24 * 365 * 30)
    first = run_sync(config, streams=["contacts"])
    again = run_sync(config, state=first.state, streams=["contacts"])
    kinds = [m["type"] for m in again.messages]
    assert "STATE" not in kinds[kinds.index("SCHEMA") :]
    # With a bookmark, contacts removed since it come too, as soft deletes (`_sdc_deleted_at`).
    live = [r for r in again.records["contacts"] if r.get("_sdc_deleted_at") is None]
    assert kinds.count("RECORD") == len(again.records["contacts"])
    assert len(live) == len(small_sandbox.data.contacts)


# The page-at-a-time record path (record_path.py) against the SDK's record loop.


def sdk_loop_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every stream runs the SDK's own record loop."""
    monkeypatch.setattr(PageRecordStream, "pages_at_once", lambda *_, **__: False)


def count_page_syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The streams whose records go a page at a time, as they start (a spy)."""
    synced: list[str] = []
    original = PageRecordStream._sync_pages  # noqa: SLF001

    def spy(self: PageRecordStream, context: object) -> object:
        synced.append(self.name)
        return original(self, context)  # type: ignore[arg-type]

    monkeypatch.setattr(PageRecordStream, "_sync_pages", spy)
    return synced


def sync(config: dict, *, catalog: dict | None = None, state: dict | None = None) -> SyncResult:
    """An in-process sync with a catalog (all streams selected without one)."""
    tap = TapGetResponse(config=config, catalog=catalog, state=state or {}, parse_env_config=False)
    if catalog is None:
        select(tap, None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return SyncResult([json.loads(line) for line in out.getvalue().splitlines()])


def comparable(result: SyncResult) -> list[dict]:
    """The messages without what says when they were made (extraction time, the run's start)."""
    for message in result.messages:
        message.pop("time_extracted", None)
        for bookmark in message.get("value", {}).get("bookmarks", {}).values():
            for state in (bookmark, *bookmark.get("partitions", ())):
                state.pop("replication_key_signpost", None)
    return result.messages


def test_every_stream_emits_the_same_lines_a_page_at_a_time(small_sandbox, monkeypatch):
    # Pages of 7 and a STATE every 5 records: pages are cut for STATEs and for child syncs
    # (contacts -> contact_details); every stream is selected, per-contact ones included.
    monkeypatch.setattr(GetResponseStream, "STATE_MSG_FREQUENCY", 5)
    config = sandbox_config(small_sandbox, page_size=7)
    paged = count_page_syncs(monkeypatch)
    first = sync(config)
    again = sync(config, state=first.state)
    assert {"contacts", "contact_details", "newsletters"} <= set(paged)
    sdk_loop_only(monkeypatch)
    assert comparable(sync(config)) == comparable(first)
    assert comparable(sync(config, state=first.state)) == comparable(again)
    contacts = [i for i, m in enumerate(first.messages) if m.get("stream") == "contacts"]
    span = first.messages[contacts[1] : contacts[-1]]
    assert len(first.records["contacts"]) // 5 <= [m["type"] for m in span].count("STATE")
    assert sum(map(len, first.records.values())) > 300
    assert again.records["contacts"], "a rerun re-reads the lookback"


def deselecting(catalog: dict, stream: str, *properties: tuple[str, ...]) -> dict:
    """`catalog` with only `stream` selected and `properties` (paths) deselected."""
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            crumb = tuple(item["breadcrumb"])
            if not crumb:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
            elif entry["tap_stream_id"] == stream and crumb[1::2] in properties:
                item["metadata"]["selected"] = False
    return catalog


@pytest.mark.parametrize(
    "deselected",
    [(("email",), ("ipAddress",)), (("email",), ("campaign", "name"))],
    ids=["top level", "nested"],
)
def test_deselected_properties_are_dropped_as_the_sdk_drops_them(
    small_sandbox, monkeypatch, tmp_path, deselected
):
    settings = sandbox_config(small_sandbox, page_size=7)
    discovered = catalog_for(write_json(tmp_path / "config.json", settings), ["contacts"])
    catalog = deselecting(discovered, "contacts", *deselected)
    paged = count_page_syncs(monkeypatch)
    ours = sync(settings, catalog=catalog)
    assert paged == ["contacts"]
    sdk_loop_only(monkeypatch)
    assert comparable(sync(settings, catalog=catalog)) == comparable(ours)
    records = ours.records["contacts"]
    assert len(records) == len(small_sandbox.data.contacts)
    for record in records:
        assert "email" not in record
        assert record["contactId"]
        if ("campaign", "name") in deselected:
            assert "name" not in record["campaign"]
            assert record["campaign"]["campaignId"]
        else:
            assert "ipAddress" not in record
            assert "name" in record["campaign"]


@pytest.mark.parametrize(
    "settings",
    [
        {"stream_maps": {"contacts": {"email": "__NULL__", "domain": "email.split('@')[-1]"}}},
        {"stream_maps": {"people": {"__source__": "contacts"}}},
        {"flattening_enabled": True, "flattening_max_depth": 1},
    ],
    ids=["stream map", "alias", "flattening"],
)
def test_stream_maps_and_flattening_take_the_sdk_loop_and_apply(
    small_sandbox, monkeypatch, settings
):
    paged = count_page_syncs(monkeypatch)
    result = run_sync(sandbox_config(small_sandbox, **settings), streams=["contacts"])
    assert "contacts" not in paged
    expected = len(small_sandbox.data.contacts)
    if "flattening_enabled" in settings:
        records = result.records["contacts"]
        assert all("campaign__campaignId" in r and "campaign" not in r for r in records)
    elif "people" in settings["stream_maps"]:
        assert len(result.records["people"]) == len(result.records["contacts"]) == expected
    else:
        records = result.records["contacts"]
        assert all("email" not in r and r["domain"].endswith(".test") for r in records)
    assert sum(map(len, result.records.values())) >= expected


def test_a_dry_run_takes_the_sdk_loop_and_stops_at_its_limit(small_sandbox, monkeypatch):
    paged = count_page_syncs(monkeypatch)
    tap = TapGetResponse(config=sandbox_config(small_sandbox, page_size=7), parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert tap.run_sync_dry_run(dry_run_record_limit=3, streams=[tap.streams["contacts"]])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [m["type"] for m in records].count("RECORD") == 3
    assert paged == []


def test_batch_messages_hold_every_record_the_lines_would(small_sandbox, tmp_path):
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "contacts-"},
    }
    config = sandbox_config(small_sandbox, page_size=7)
    lines = run_sync(config, streams=["contacts"])
    batched = run_sync({**config, "batch_config": batch_config}, streams=["contacts"])
    assert "RECORD" not in {m["type"] for m in batched.messages}
    files = [m["manifest"] for m in batched.messages if m["type"] == "BATCH"]
    assert files
    records = [
        json.loads(line)
        for manifest in files
        for url in manifest
        for line in gzip.decompress(Path(url.removeprefix("file://")).read_bytes()).splitlines()
    ]
    assert records == lines.records["contacts"]
    assert batched.state["bookmarks"]["contacts"] == lines.state["bookmarks"]["contacts"]


def outcome(convert: t.Callable[[str], str], value: str) -> str | None:
    """`convert(value)`, None when it refuses the value."""
    try:
        return convert(value)
    except (ValueError, OverflowError):
        return None


def test_common_timestamps_take_a_shortcut_to_the_same_text():
    # normalise_datetime skips its expression for GetResponse's usual shapes: the text, and
    # whether a value is refused, must not change. Random edits of those shapes, both ways.
    shapes = [
        "2025-01-01T00:12:35+0000",
        "2025-03-04T05:06:07-05:30",
        "2025-12-31T23:59:59Z",
        "2026-01-15 18:30:00",
    ]
    rng = random.Random(18)
    refused = 0
    for _ in range(20_000):
        chars = list(rng.choice(shapes))
        for _ in range(rng.randint(0, 2)):
            chars[rng.randrange(len(chars))] = rng.choice("0123456789+-:TZz .x\u0663")
        value = "".join(chars)
        expected = outcome(conversions.general_datetime, value)
        assert outcome(normalize.normalise_datetime, value) == expected, value
        refused += expected is None
    assert 1_000 < refused < 19_000  # both kinds were met
