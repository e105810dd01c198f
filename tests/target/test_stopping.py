"""SIGTERM and SIGINT mid-load: the target passes on only a STATE it loaded, and says so."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import typing as t

import pytest

from tests.sandbox import Scale
from tests.target.conftest import TARGET, adds_up, customer, full_emails, singer_lines

FEW = Scale(contacts=20)
WAIT = 60  # seconds a test waits for the target before calling it stuck


class LiveTarget:
    """The target CLI on a pipe, its output collected line by line as it comes."""

    def __init__(self, config_path: str) -> None:
        self.process = subprocess.Popen(
            [TARGET, "--config", config_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._collectors = [
            threading.Thread(target=self._collect, args=pipe, daemon=True)
            for pipe in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        ]
        for collector in self._collectors:
            collector.start()

    def _collect(self, stream: t.IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def feed(self, text: str) -> None:
        """Write `text` from a thread and keep the pipe open, as a tap still running does."""

        def write() -> None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.write(text)
                self.process.stdin.flush()

        threading.Thread(target=write, daemon=True).start()

    def wait_for_log(self, text: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: any(text in line for line in self.stderr), WAIT)

    def finish(self) -> int:
        code = self.process.wait(WAIT)
        self.close()
        return code

    def close(self) -> None:
        """Close the pipes once both output pipes were read to their end."""
        for collector in self._collectors:
            collector.join(WAIT)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(BrokenPipeError, OSError):
                assert pipe is not None
                pipe.close()

    @property
    def states(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout if line.strip()]

    @property
    def summary(self) -> dict[str, int]:
        line = next(line for line in self.stderr if "summary:" in line)
        pairs = line.split("summary:", 1)[1].split()
        return {key: int(value) for key, value in (pair.split("=") for pair in pairs)}

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr if "| ERROR" in line]


class Gates:
    """Holds `POST /contacts/batch` requests in the sandbox until the test lets them go.

    `tag_arrived` is set when the target creates the tag `watch_tag`: proof it read that record.
    """

    def __init__(self, sb, watch_tag: str = "") -> None:
        self.watch_tag = watch_tag
        self.batches = 0
        self.first_arrived = threading.Event()
        self.first = threading.Event()
        self.rest = threading.Event()
        self.tag_arrived = threading.Event()
        sb.on_request = self.hold

    def hold(self, entry) -> None:
        if (
            entry.method == "POST"
            and entry.path == "/tags"
            and entry.body == {"name": self.watch_tag}
        ):
            self.tag_arrived.set()
        if entry.method == "POST" and entry.path == "/contacts/batch":
            self.batches += 1
            if self.batches == 1:
                self.first_arrived.set()
                self.first.wait(WAIT)
            else:
                self.rest.wait(WAIT)

    def open(self) -> None:
        self.first.set()
        self.rest.set()


@pytest.fixture
def live_target(tmp_path):
    started: list[LiveTarget] = []

    def start(sb, **settings) -> LiveTarget:
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": sb.data.campaigns[0]["campaignId"],
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            **settings,
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        target = LiveTarget(str(path))
        started.append(target)
        return target

    yield start
    for target in started:
        if target.process.poll() is None:
            target.process.kill()
            target.process.wait()
        target.close()


def passed_in(records: list[dict], every: int) -> list[dict]:
    return [
        {"bookmarks": {"customers": {"done": done}}}
        for done in range(every, len(records) + 1, every)
    ]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_with_a_batch_in_flight_ends_non_zero_with_a_state_it_loaded(
    make_sandbox, live_target, signal_number
):
    sb = make_sandbox(scale=FEW, latency=0.02)
    gates = Gates(sb)
    records = [customer(i) for i in range(2_500)]
    target = live_target(sb)
    target.feed(singer_lines(records, state_every=100, state=False))
    assert gates.first_arrived.wait(WAIT)  # 1000 records read, their batch in flight
    target.process.send_signal(signal_number)
    gates.open()
    code = target.finish()
    assert code == 128 + signal_number
    name = signal.Signals(signal_number).name
    [error] = target.errors
    assert f"Stopped by {name} at input line" in error
    assert not any("Traceback" in line for line in target.stderr)
    assert full_emails("\n".join(target.stderr)) == []
    # The last STATE passed on is one that was passed in, and every record before it landed.
    assert target.states
    assert all(state in passed_in(records, 100) for state in target.states)
    done = target.states[-1]["bookmarks"]["customers"]["done"]
    campaign = sb.data.campaigns[0]["campaignId"]
    assert all(sb.data.contacts.find(r["email"], campaign) for r in records[:done])
    assert adds_up(target.summary)
    assert target.summary["added"] >= done


def test_a_signal_while_waiting_for_input_stops_at_once(make_sandbox, live_target) -> None:
    sb = make_sandbox(scale=FEW)
    gates = Gates(sb, watch_tag="last_line")
    gates.open()
    records = [customer(i) for i in range(5)] + [customer(5, tags=["last_line"])]
    # SCHEMA, five records, STATE (done=5), and a sixth record whose new tag shows it was read.
    lines = singer_lines(records, state_every=5, state=False)
    target = live_target(sb)
    target.feed(lines)
    assert gates.tag_arrived.wait(WAIT)
    target.process.send_signal(signal.SIGTERM)
    assert target.finish() == 128 + signal.SIGTERM
    assert target.states == [{"bookmarks": {"customers": {"done": 5}}}]
    campaign = sb.data.campaigns[0]["campaignId"]
    assert all(sb.data.contacts.find(r["email"], campaign) for r in records)
    assert (target.summary["received"], target.summary["added"]) == (6, 6)
    assert not any("Traceback" in line for line in target.stderr)


def test_a_second_signal_abandons_the_batch_in_flight_and_passes_on_no_state(
    make_sandbox, live_target
):
    sb = make_sandbox(scale=FEW)
    gates = Gates(sb, watch_tag="after_first_batch")
    # Batches of 10; the 11th record creates a tag: once it arrives, records wait to be sent.
    records = [customer(i) for i in range(30)]
    records[10] = customer(10, tags=["after_first_batch"])
    target = live_target(sb, batch_size_rows=10)
    target.feed(singer_lines(records, state_every=5, state=False))
    assert gates.first_arrived.wait(WAIT)
    assert gates.tag_arrived.wait(WAIT)
    target.process.send_signal(signal.SIGTERM)
    gates.first.set()  # the first batch goes; the next ones are held
    target.wait_for_log("SIGTERM received at input line")
    target.process.send_signal(signal.SIGTERM)
    target.wait_for_log("Stopped by a second SIGTERM")
    gates.rest.set()  # the abandoned batch's thread may end now
    assert target.finish() == 128 + signal.SIGTERM
    assert target.states == []  # no STATE: the batch it would have covered never answered
    assert target.summary["abandoned"] > 0
    assert not any("Traceback" in line for line in target.stderr)
