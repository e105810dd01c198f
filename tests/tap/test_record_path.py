"""The lean record path emits exactly what the SDK's default path would, only faster.

The tap switches off the SDK's per-record type conformance (the normaliser does that job) and
writes lines with msgspec in blocks (writer.py). These tests run the same sync both ways against
the sandbox and compare every record and every line.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time

import pytest
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from tap_getresponse.client import GetResponseStream
from tap_getresponse.tap import TapGetResponse
from tap_getresponse.writer import BlockWriter
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.tap.conftest import TAP, catalog_for, run_sync, sandbox_config, write_json

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
