"""Sender: the next batch is read while the previous one loads; loads stay one at a time."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest

from target_getresponse.sender import Sender
from tests.sandbox import Scale
from tests.target.conftest import SCHEMA, TARGET, customer

WAIT = 10  # seconds a test waits for a thread before calling it stuck


def test_submit_returns_while_the_job_runs_on_another_thread():
    sender = Sender()
    release, seen = threading.Event(), []
    sender.submit(lambda: seen.append((threading.current_thread().name, release.wait(WAIT))))
    assert seen == []  # still running: the caller goes on reading
    release.set()
    sender.wait()
    assert seen == [("getresponse-send_0", True)]
    sender.close()


def test_a_second_job_starts_only_after_the_first_finished():
    sender = Sender()
    release, order = threading.Event(), []

    def first():
        order.append("first started")
        release.wait(WAIT)
        order.append("first done")

    sender.submit(first)
    second = threading.Thread(target=sender.submit, args=(lambda: order.append("second"),))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # blocked behind the running load
    release.set()
    second.join(WAIT)
    sender.close()
    assert order == ["first started", "first done", "second"]


def test_a_failed_load_is_raised_on_the_reading_thread_once():
    sender = Sender()

    def fail():
        message = "batch refused"
        raise RuntimeError(message)

    sender.submit(fail)
    with pytest.raises(RuntimeError, match="batch refused"):
        sender.submit(lambda: None)
    sender.wait()  # raised once, not again
    sender.close()


class _Stop(BaseException):
    """What a second stop signal raises in the main thread (the target's Abandoned)."""


def test_a_stop_raised_while_closing_abandons_the_job_in_flight_instead_of_joining_it():
    sender = Sender()
    release, started = threading.Event(), threading.Event()

    def held():
        started.set()
        release.wait(60)  # an answer that never comes while the test runs

    sender.submit(held)
    assert started.wait(WAIT)
    # The main thread is interrupted inside close()'s wait, as a signal handler would do it.
    original = sender.wait
    calls = []

    def interrupted_wait():
        calls.append(1)
        if len(calls) == 1:
            raise _Stop
        original()

    sender.wait = interrupted_wait  # type: ignore[method-assign]
    try:
        with pytest.raises(_Stop):
            sender.close()
        # close() came back while the job still waits: it was not joined; no job starts after.
        assert not release.is_set()
        assert sender.cancelled.is_set()
        with pytest.raises(RuntimeError):
            sender._pool.submit(lambda: None)  # noqa: SLF001 - the pool took its last job
    finally:
        release.set()


def test_the_target_reads_on_while_a_batch_loads(make_sandbox, tmp_path):
    # Every answer takes a second: the first batch's load (a membership read and the batch
    # call) takes two. The next 1,000 records (far more than a pipe holds) must be read
    # meanwhile: the write below only returns once the target has read them.
    sb = make_sandbox(scale=Scale(contacts=0), latency=1.0)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "api_url": sb.url,
                "api_key": sb.api_key,
                "campaign_id": sb.data.campaigns[0]["campaignId"],
                "rejects_file": str(tmp_path / "rejects.jsonl"),
            }
        )
    )

    def lines(start: int, stop: int) -> str:
        return "".join(
            json.dumps({"type": "RECORD", "stream": "s", "record": customer(i)}) + "\n"
            for i in range(start, stop)
        )

    schema = {"type": "SCHEMA", "stream": "s", "schema": SCHEMA, "key_properties": ["email"]}
    with subprocess.Popen(
        [TARGET, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as target:
        assert target.stdin is not None
        target.stdin.write(json.dumps(schema) + "\n" + lines(0, 1000))
        target.stdin.flush()
        while not any(entry.path == "/contacts/batch" for entry in sb.log):
            assert target.poll() is None, target.stderr.read() if target.stderr else ""
            threading.Event().wait(0.01)
        target.stdin.write(lines(1000, 2000))
        target.stdin.flush()
        answered = [e for e in sb.log if e.path == "/contacts/batch" and e.finished is not None]
        assert answered == []  # the second thousand were read while the first batch was out
        target.stdin.write(json.dumps({"type": "STATE", "value": {"done": 2000}}) + "\n")
        target.stdin.close()
        stdout = target.stdout.read() if target.stdout else ""
        assert target.wait(timeout=60) == 0
    assert json.loads(stdout.splitlines()[-1]) == {"done": 2000}
    campaign = sb.data.campaigns[0]["campaignId"]
    added = {c["email"] for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign}
    assert {customer(i)["email"] for i in range(2000)} <= added
