"""SIGTERM and SIGINT: held records and a safe STATE out, one line, a non-zero exit, no loss."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import typing as t

import pytest

from tap_getresponse.writer import BlockWriter
from tests.sandbox import Scale
from tests.tap.conftest import TAP, catalog_for, run_sync, sandbox_config, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

    from tests.sandbox import Sandbox

STREAMS = ("contacts", "contact_details")
SIGNALS = [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
]


def start_tap(sb: Sandbox, tmp_path: Path, **settings: t.Any) -> subprocess.Popen[str]:
    """The CLI syncing `STREAMS` from `sb`, 100 contacts a page."""
    config = write_json(tmp_path / "config.json", sandbox_config(sb, page_size=100, **settings))
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config, STREAMS))
    return subprocess.Popen(
        [TAP, "--config", str(config), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check_stopped_run(lines: list[str], stderr: str, signum: int) -> dict[str, t.Any]:
    """Assert what every stopped run owes; return its messages' last STATE."""
    assert "Traceback" not in stderr, stderr[-2000:]
    stopped = [line for line in stderr.splitlines() if "Stopped by" in line]
    assert len(stopped) == 1, stopped
    assert signal.Signals(signum).name in stopped[0]
    assert all(line.endswith("\n") for line in lines), "a line was cut short"
    messages = [json.loads(line) for line in lines]  # every line is complete JSON
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    assert states, "no STATE was written"
    assert messages[-1]["type"] == "STATE", "records after the last STATE"
    return states[-1]


def emitted(lines: list[str], stream: str) -> set[str]:
    """Contact ids of the RECORD lines of `stream`."""
    messages = (json.loads(line) for line in lines)
    return {
        m["record"]["contactId"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == stream
    }


def check_rerun_gets_the_rest(sb: Sandbox, lines: list[str], state: dict[str, t.Any]) -> None:
    """A rerun from the stopped run's last STATE emits every contact (and details) it missed."""
    everyone = {contact["contactId"] for contact in sb.data.contacts}
    assert emitted(lines, "contacts") < everyone, "the run was not stopped mid-way"
    rerun = run_sync(sandbox_config(sb, page_size=100), streams=STREAMS, state=state)
    for stream in STREAMS:
        missing = everyone - emitted(lines, stream) - set(rerun.ids(stream, "contactId"))
        assert not missing, (stream, sorted(missing)[:3])


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_signal_mid_run_writes_what_it_holds_and_exits_non_zero(
    make_sandbox: t.Callable[..., Sandbox], tmp_path: Path, signum: int, code: int
) -> None:
    # 3,000 contacts and their details are megabytes of output; this test reads one line, signals,
    # and reads on only afterwards, so the tap is held mid-run by its full stdout pipe.
    sb = make_sandbox(scale=Scale(contacts=3000), seed=8, latency=0.005)
    with start_tap(sb, tmp_path) as tap:
        assert tap.stdout is not None
        assert tap.stderr is not None
        lines = [tap.stdout.readline()]
        while lines[-1] and '"type":"RECORD"' not in lines[-1]:
            lines.append(tap.stdout.readline())
        assert lines[-1], "the tap ended before its first record"
        tap.send_signal(signum)
        lines += tap.stdout.readlines()
        stderr = tap.stderr.read()
        returncode = tap.wait(timeout=120)
    assert returncode == code
    state = check_stopped_run(lines, stderr, signum)
    check_rerun_gets_the_rest(sb, lines, state)


def test_requests_in_flight_do_not_keep_a_stopped_run_alive(
    make_sandbox: t.Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(scale=Scale(contacts=2000), seed=9)
    hanging, release = threading.Event(), threading.Event()

    def hang_from_page_3(request: t.Any) -> None:
        if request.path == "/contacts" and int(request.query.get("page", "1")) >= 3:
            hanging.set()
            release.wait(300)

    sb.on_request = hang_from_page_3
    lines: list[str] = []
    first_record = threading.Event()

    def read(stdout: t.IO[str]) -> None:
        for line in stdout:
            lines.append(line)
            if '"type":"RECORD"' in line:
                first_record.set()

    try:
        # A request timeout far beyond the wait below: only a tap that waits for nothing ends.
        with start_tap(sb, tmp_path, request_timeout=600) as tap:
            assert tap.stdout is not None
            assert tap.stderr is not None
            reader = threading.Thread(target=read, args=(tap.stdout,), daemon=True)
            reader.start()
            assert hanging.wait(120), "the tap never asked for page 3"
            assert first_record.wait(120), "the tap emitted no record"
            tap.send_signal(signal.SIGTERM)
            returncode = tap.wait(timeout=120)
            reader.join(timeout=120)
            stderr = tap.stderr.read()
    finally:
        release.set()
        sb.on_request = None
    assert returncode == 143
    state = check_stopped_run(lines, stderr, signal.SIGTERM)
    check_rerun_gets_the_rest(sb, lines, state)


class _SignalledStdout:
    """A stdout whose binary write is where a signal arrives (the writer's stop is called)."""

    def __init__(self, writer: BlockWriter, on_stop: t.Callable[[], None]) -> None:
        self.writer = writer
        self.on_stop = on_stop
        self.buffer = self
        self.written = b""
        self.signalled = False

    def write(self, data: bytes) -> int:
        if not self.signalled:
            self.signalled = True
            self.writer.stop(self.on_stop)
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass


def test_a_stop_during_a_write_waits_until_the_block_is_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = BlockWriter()
    seen_at_stop: list[bytes] = []
    out = _SignalledStdout(writer, lambda: seen_at_stop.append(out.written))
    monkeypatch.setattr("sys.stdout", out)
    writer._pending += b'{"type":"RECORD"}\n' * 3  # noqa: SLF001 - records held
    writer.flush()
    assert seen_at_stop == [b'{"type":"RECORD"}\n' * 3]


def test_a_stop_outside_a_write_runs_at_once() -> None:
    writer = BlockWriter()
    stops: list[str] = []
    writer.stop(lambda: stops.append("stopped"))
    assert stops == ["stopped"]
