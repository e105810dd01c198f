"""Every wait is bounded: the request deadline, 429 waits, unreachable hosts and answer size.

Real servers on loopback (tests/api/loopback.py) play what the sandbox does not: an answer that
drips a byte at a time, a 429 asking for days, a port nobody listens on, a gzip bomb.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tap_getresponse.api import (
    GetResponseAPIError,
    GetResponseClient,
    HostUnreachableError,
    RateGovernor,
    RequestFailedError,
    ResponseTooLargeError,
)
from tap_getresponse.api.retries import CONNECT_RETRY_SECONDS
from tap_getresponse.api.session import MAX_RESPONSE_BYTES
from tap_getresponse.api.transport import CHUNK_BYTES
from tests.api.loopback import Answer, LoopbackServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KEY = "waits-test-key-1234"
#: A guard against a hang, never a measurement: each call here ends in a few seconds.
HANG_GUARD_SECONDS = 120


def client_at(origin: str, retry_seconds: float = 180.0, **config: Any) -> GetResponseClient:
    """A client of `origin` whose backoff sleeps are counted, not slept."""
    settings = {"api_url": f"{origin}/v3", "api_key": KEY, **config}
    client = GetResponseClient(settings, governor=RateGovernor(), max_retry_seconds=retry_seconds)
    client.session.sleep = lambda _seconds: None
    return client


def outcome_of(call: Callable[[], object]) -> object:
    """What `call` returned or raised, failing the test instead of hanging if it never ends."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as error:  # noqa: BLE001 - handed back to the test
            result.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    assert not worker.is_alive(), "the request never ended"
    return result[0]


def closed_origin() -> str:
    """`http://127.0.0.1:<port>` where nothing listens (the port was just let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def seconds_spent(message: str) -> float:
    """The `N attempts in S s` of a final error line."""
    match = re.search(r"\d+ attempts? in (\d+) s", message)
    assert match, message
    return float(match.group(1))


# ---- a deadline for the whole answer -------------------------------------------------------------


@pytest.mark.parametrize("body_only", [False, True], ids=["status-line-on", "body"])
def test_an_answer_dripping_a_byte_at_a_time_ends_at_request_timeout(body_only) -> None:
    # 2,400 bytes at one per 0.1 s would take four minutes; each byte resets a read timeout.
    answer = Answer(body=[{"id": n} for n in range(200)], drip=0.1, drip_body_only=body_only)
    with LoopbackServer("127.0.0.1", lambda _seen: answer) as server:
        client = client_at(server.origin, retry_seconds=3, request_timeout=1)
        error = outcome_of(lambda: client.request("GET", "/contacts"))
        sent = len(server.log)
    assert isinstance(error, RequestFailedError)
    assert str(error).startswith(
        "GET /contacts: no complete answer within `request_timeout` (1 s) ("
    )
    assert sent >= 2  # a GET is sent again while the retry budget lasts


def test_an_answer_within_the_deadline_is_read_whole() -> None:
    answer = Answer(body=[{"id": n} for n in range(5)], drip=0.01, drip_body_only=True)
    with LoopbackServer("127.0.0.1", lambda _seen: answer) as server:
        response = client_at(server.origin, request_timeout=30).request("GET", "/contacts")
    assert response.json() == [{"id": n} for n in range(5)]


# ---- 429 waits are capped at the frame ---------------------------------------------------------


class FakeTime:
    """A clock that moves only when the governor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def far_future_date() -> str:
    return email.utils.formatdate(time.time() + 400 * 86400, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "context"),
    [
        ({"Retry-After": "999999"}, {}),
        ({"Retry-After": far_future_date()}, {}),
        ({}, {"timeToReset": "999999 seconds"}),
    ],
    ids=["retry-after-seconds", "retry-after-date", "time-to-reset"],
)
def test_a_429_asking_for_more_than_the_frame_waits_the_frame(caplog, headers, context) -> None:
    throttled = Answer(429, headers, {"httpStatus": 429, "code": 1015, "context": context})
    answers = iter([throttled, Answer(body=[])])
    with LoopbackServer("127.0.0.1", lambda _seen: next(answers)) as server:
        fake = FakeTime()
        client = client_at(server.origin)
        client.governor = client.session.governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
        assert client.request("GET", "/contacts").status_code == 200
    assert fake.now == 600  # the whole 10-minute frame, then the request again
    assert "more than the API's 10-minute frame, so the wait is capped" in caplog.text
    assert "every request waits 600.0 s" in caplog.text


# ---- an unreachable host -------------------------------------------------------------------------


def test_a_refused_host_fails_in_one_line_and_later_requests_at_once() -> None:
    origin = closed_origin()
    client = client_at(origin)
    error = outcome_of(lambda: client.request("GET", "/accounts"))
    assert isinstance(error, HostUnreachableError)
    line = str(error)
    assert line.startswith(
        f"GET /accounts: could not connect to {origin}: the connection was refused"
    )
    assert line.endswith("; check `api_url` and the network")
    assert "\n" not in line
    assert KEY not in line
    # Connecting is given up after its own budget, well before the 180 s of the retry budget.
    assert CONNECT_RETRY_SECONDS <= seconds_spent(line) < 2 * CONNECT_RETRY_SECONDS
    calls = client.governor.stats.calls
    later = outcome_of(lambda: client.request("GET", "/contacts"))
    assert isinstance(later, HostUnreachableError)
    assert str(later).endswith("(given up on earlier in this run)")
    assert client.governor.stats.calls == calls  # not one more connection attempt


@contextlib.contextmanager
def full_backlog() -> Iterator[str]:
    """`http://127.0.0.1:<port>` that listens but never accepts: connecting there times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = [socket.socket() for _ in range(4)]
        for filler in fillers:  # Linux drops the SYNs of connections past the full queue
            filler.settimeout(0)
            filler.connect_ex(listener.getsockname())
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        finally:
            for filler in fillers:
                filler.close()


def test_a_connection_that_never_opens_is_an_unreachable_host() -> None:
    with full_backlog() as origin:
        # Connecting takes the whole `request_timeout` here; it still counts as never sent.
        client = client_at(origin, retry_seconds=4, request_timeout=2)
        error = outcome_of(lambda: client.request("POST", "/contacts", json={}))
    assert isinstance(error, HostUnreachableError)
    assert f"could not connect to {origin}: the connection timed out (" in str(error)
    assert client.governor.stats.calls >= 2  # a POST that never left is sent again


def test_a_name_that_does_not_resolve_fails_in_one_line() -> None:
    client = client_at("https://tap-getresponse-test.invalid")
    error = outcome_of(lambda: client.request("GET", "/accounts"))
    assert isinstance(error, HostUnreachableError)
    assert str(error).startswith(
        "GET /accounts: could not connect to https://tap-getresponse-test.invalid: "
        "the host name does not resolve ("
    )


def test_a_host_that_answered_before_gets_the_whole_retry_budget() -> None:
    closing = Answer(headers={"Connection": "close"})  # no kept-alive connection outlives it
    with LoopbackServer("127.0.0.1", lambda _seen: closing) as server:
        client = client_at(server.origin, retry_seconds=60)
        assert client.request("GET", "/accounts").status_code == 200
    error = outcome_of(lambda: client.request("GET", "/contacts"))
    assert isinstance(error, HostUnreachableError)
    assert seconds_spent(str(error)) >= 60  # a blip mid-run is waited out as before
    calls = client.governor.stats.calls
    assert isinstance(outcome_of(lambda: client.request("GET", "/contacts")), HostUnreachableError)
    assert client.governor.stats.calls > calls  # and the next request tries again


def test_both_plugins_end_in_one_line_when_the_host_is_unreachable(tmp_path) -> None:
    origin = closed_origin()
    tap_config = {"api_url": f"{origin}/v3", "api_key": KEY, "start_date": "2024-01-01"}
    target_config = {**tap_config, "campaign_id": "xyz", "rejects_file": str(tmp_path / "r")}
    del target_config["start_date"]
    records = [
        {"type": "SCHEMA", "stream": "customers", "key_properties": ["email"],
         "schema": {"type": "object", "properties": {"email": {"type": "string"}}}},
        {"type": "RECORD", "stream": "customers", "record": {"email": "a@example.org"}},
    ]  # fmt: skip
    runs = {}
    for plugin, config in (("tap", tap_config), ("target", target_config)):
        path = tmp_path / f"{plugin}.json"
        path.write_text(json.dumps(config))
        command = [str(Path(sys.executable).parent / f"{plugin}-getresponse"), "--config", path]
        runs[plugin] = subprocess.Popen(  # both at once: each takes the connect budget
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    lines = "\n".join(json.dumps(message) for message in records) + "\n"
    outputs = {
        name: run.communicate(lines, timeout=HANG_GUARD_SECONDS) for name, run in runs.items()
    }
    for name, (_stdout, stderr) in outputs.items():
        assert runs[name].returncode == 1, stderr
        assert "Traceback" not in stderr
        assert KEY not in stderr
        errors = [line for line in stderr.splitlines() if "| ERROR" in line]
        assert sum(f"could not connect to {origin}" in line for line in errors) == 1, stderr
    assert "Sync failed: GET /" in outputs["tap"][1]
    assert "Load failed: GET /" in outputs["target"][1]


def test_final_network_errors_are_api_errors_for_both_plugins() -> None:
    # tap.py and target.py end a run with one line on GetResponseAPIError; code that handles
    # requests' ConnectionError (run.py's server clock, the target's sinks) still does.
    for kind in (RequestFailedError, HostUnreachableError, ResponseTooLargeError):
        assert issubclass(kind, GetResponseAPIError)
        assert issubclass(kind, requests.exceptions.ConnectionError)


# ---- answer size ---------------------------------------------------------------------------------


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip body of `megabytes` MB of JSON whitespace, a few hundred bytes per MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    mega = b" " * (1024 * 1024)
    parts = [packer.compress(b"["), *(packer.compress(mega) for _ in range(megabytes))]
    return b"".join([*parts, packer.compress(b"]"), packer.flush()])


def test_a_gzip_bomb_is_refused_once_it_passes_the_cap() -> None:
    bomb = gzip_bomb(300)
    answer = Answer(raw=bomb, headers={"Content-Encoding": "gzip"})
    with LoopbackServer("127.0.0.1", lambda _seen: answer) as server:
        error = outcome_of(lambda: client_at(server.origin).request("GET", "/contacts"))
        sent = len(server.log)
    assert len(bomb) < 1024 * 1024
    assert isinstance(error, ResponseTooLargeError)
    assert str(error).startswith("GET /contacts: the answer passed 64 MB (")
    # Read as it arrived and dropped as soon as it passed the cap, not decoded whole (300 MB).
    read = int(re.search(r"\((\d+) bytes read", str(error)).group(1))  # type: ignore[union-attr]
    assert MAX_RESPONSE_BYTES < read <= MAX_RESPONSE_BYTES + CHUNK_BYTES
    assert sent == 1  # the same request would get the same answer: not sent again


def test_a_large_plain_answer_is_refused_and_a_small_gzip_one_read() -> None:
    with LoopbackServer("127.0.0.1", lambda _seen: Answer(body=["x" * 1000] * 2000)) as server:
        client = client_at(server.origin)
        client.session.max_response_bytes = 1024 * 1024
        assert isinstance(outcome_of(lambda: client.request("GET", "/a")), ResponseTooLargeError)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    small = packer.compress(b'[{"id": 1}]') + packer.flush()
    answer = Answer(raw=small, headers={"Content-Encoding": "gzip"})
    with LoopbackServer("127.0.0.1", lambda _seen: answer) as server:
        assert client_at(server.origin).request("GET", "/a").json() == [{"id": 1}]
