"""RateGovernor: in-flight cap, per-second and per-endpoint windows, frame pacing, 429 pauses."""

from __future__ import annotations

import threading
import time

from tap_getresponse.api.governor import EndpointLimit, RateGovernor, parse_seconds


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_parse_seconds_reads_getresponse_forms() -> None:
    assert parse_seconds("432 seconds") == 432
    assert parse_seconds("1") == 1
    assert parse_seconds(5) == 5
    assert parse_seconds("soon") is None
    assert parse_seconds(None) is None


def test_never_more_than_max_in_flight() -> None:
    governor = RateGovernor(max_in_flight=10, per_second=10_000)
    lock = threading.Lock()
    in_flight = peak = 0

    def call() -> None:
        nonlocal in_flight, peak
        with governor.slot("GET", "/contacts"):
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.02)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call) for _ in range(11 * 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 10
    assert governor.stats.calls == 44


def test_per_second_window_spreads_calls() -> None:
    fake = FakeTime()
    governor = RateGovernor(per_second=80, clock=fake.clock, sleep=fake.sleep)
    for _ in range(240):
        with governor.slot("GET", "/contacts"):
            pass
    assert 2.0 <= fake.now < 3.0


def test_batch_endpoint_limits_are_declared() -> None:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    for _ in range(81):
        with governor.slot("POST", "/contacts/batch"):
            pass
    # 80 calls at most 1/s, then the 81st waits for the 10-minute frame to roll over.
    assert fake.now >= 600
    assert governor.stats.calls_by_endpoint["POST /contacts/batch"] == 81


def test_custom_endpoint_limit() -> None:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    governor.declare("POST", "/imports", EndpointLimit(per_frame=2, frame_seconds=60))
    for _ in range(3):
        with governor.slot("POST", "/imports"):
            pass
    assert fake.now >= 60


def test_exhausted_frame_is_waited_out() -> None:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    governor.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "432 seconds"})
    with governor.slot("GET", "/contacts"):
        pass
    assert fake.now >= 432


def test_low_frame_budget_is_spread_over_the_time_left() -> None:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    governor.observe({"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": "100 seconds"})
    for _ in range(5):
        with governor.slot("GET", "/contacts"):
            pass
    assert fake.now >= 30  # about 10 s apart instead of all at once


def test_429_pause_holds_every_caller() -> None:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    governor.pause(12, "test")
    with governor.slot("GET", "/contacts"):
        pass
    assert fake.now >= 12
    assert governor.stats.throttled == 1
