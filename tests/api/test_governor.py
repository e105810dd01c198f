"""RateGovernor: in-flight cap, per-second and per-endpoint windows, frame pacing, 429 pauses."""

from __future__ import annotations

import threading
import time

import pytest

from tap_getresponse.api import GOVERNOR, EndpointLimit, RateGovernor
from tap_getresponse.api.governor import WINDOW_MARGIN_SECONDS, parse_seconds


class FakeTime:
    """A clock that moves only when the governor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def fake_governor(**kwargs) -> tuple[RateGovernor, FakeTime]:
    fake = FakeTime()
    return RateGovernor(clock=fake.clock, sleep=fake.sleep, **kwargs), fake


def call(governor: RateGovernor, times: int = 1, method: str = "GET", path: str = "/contacts"):
    for _ in range(times):
        with governor.slot(method, path):
            pass


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("432 seconds", 432), ("1", 1), (5, 5), ("0 seconds", 0), ("1.5", 1.5)],
    ids=["with-unit", "bare", "int", "zero", "fraction"],
)
def test_parse_seconds_reads_getresponse_forms(value, seconds) -> None:
    assert parse_seconds(value) == seconds


@pytest.mark.parametrize("value", ["soon", None, "", True], ids=["word", "none", "empty", "bool"])
def test_parse_seconds_gives_none_for_nonsense(value) -> None:
    assert parse_seconds(value) is None


def run_threads(governor: RateGovernor, callers: int, calls_each: int, hold: float) -> int:
    lock = threading.Lock()
    in_flight = peak = 0

    def work() -> None:
        nonlocal in_flight, peak
        for _ in range(calls_each):
            with governor.slot("GET", "/contacts"):
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                time.sleep(hold)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=work) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak


def test_eleven_threads_never_more_than_ten_in_flight() -> None:
    governor = RateGovernor(per_second=100_000)
    peak = run_threads(governor, callers=11, calls_each=5, hold=0.01)
    assert peak == 10
    assert governor.stats.peak_in_flight == 10
    assert governor.stats.calls == 55
    assert governor.in_flight == 0


def test_a_lower_in_flight_cap_is_kept() -> None:
    governor = RateGovernor(max_in_flight=3, per_second=100_000)
    assert run_threads(governor, callers=8, calls_each=3, hold=0.01) == 3


@pytest.mark.parametrize("cap", [0, 11], ids=["zero", "above-getresponse-limit"])
def test_in_flight_cap_stays_within_getresponse_limit(cap: int) -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        RateGovernor(max_in_flight=cap)


def test_threads_sleeping_for_a_rate_limit_hold_no_slot() -> None:
    governor = RateGovernor(per_second=100_000)
    governor.declare(EndpointLimit("POST", "/slow", per_second=1))
    with governor.slot("POST", "/slow"):
        pass
    waiting = threading.Thread(target=call, args=(governor, 1, "POST", "/slow"))
    waiting.start()
    time.sleep(0.1)  # the second /slow call now sleeps for its window
    started = time.monotonic()
    call(governor, 10)  # ten other calls are admitted meanwhile
    assert time.monotonic() - started < 0.5
    waiting.join()


def test_per_second_window_spreads_calls() -> None:
    governor, fake = fake_governor(per_second=80)
    call(governor, 240)
    assert 2.0 <= fake.now < 3.0 + 3 * WINDOW_MARGIN_SECONDS


def test_batch_endpoint_limits_are_declared() -> None:
    governor, fake = fake_governor()
    call(governor, 81, "POST", "/contacts/batch")
    # At most 1/s for 80 calls, then the 81st waits for the 10-minute frame to roll over.
    assert fake.now >= 600
    assert governor.stats.calls_by_endpoint["POST /contacts/batch"] == 81
    assert governor.endpoint_limit("post", "/contacts/batch") == EndpointLimit(
        "POST", "/contacts/batch", per_second=1, per_frame=80
    )


def test_batch_limits_leave_other_endpoints_alone() -> None:
    governor, fake = fake_governor()
    call(governor, 2, "POST", "/contacts/batch")
    moment = fake.now
    call(governor, 20, "GET", "/contacts")
    assert fake.now == moment


def test_declared_endpoint_limit() -> None:
    governor, fake = fake_governor()
    governor.declare(EndpointLimit("post", "/imports", per_frame=2, frame_seconds=60))
    call(governor, 3, "POST", "/imports")
    assert fake.now >= 60


def test_exhausted_frame_is_waited_out() -> None:
    governor, fake = fake_governor()
    governor.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "432 seconds"})
    call(governor)
    assert fake.now >= 432
    assert governor.stats.waits == 1
    assert governor.stats.seconds_waited >= 432


def test_low_frame_budget_is_spread_over_the_time_left() -> None:
    governor, fake = fake_governor()
    governor.observe({"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": "100 seconds"})
    call(governor, 5)
    assert fake.now >= 30  # about 10 s apart instead of all at once


def test_plenty_left_in_the_frame_means_no_pacing() -> None:
    governor, fake = fake_governor()
    headers = {"X-RateLimit-Limit": "30000", "X-RateLimit-Remaining": "5000"}
    governor.observe({**headers, "X-RateLimit-Reset": "100 seconds"})
    call(governor, 50)
    assert fake.now < 1.5


def test_small_frames_are_paced_only_near_their_end() -> None:
    governor, fake = fake_governor()
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19"}
    governor.observe({**headers, "X-RateLimit-Reset": "3 seconds"})
    call(governor, 17)
    assert fake.now == 0
    call(governor, 2)  # the last two of the frame are spread over the time left
    assert fake.now > 1


def test_late_answers_do_not_raise_the_frame_count() -> None:
    governor, fake = fake_governor()
    governor.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "50 seconds"})
    governor.observe({"X-RateLimit-Remaining": "90", "X-RateLimit-Reset": "50 seconds"})
    call(governor)
    assert fake.now >= 50


def test_a_used_up_short_window_is_waited_out_then_the_frame_counts() -> None:
    governor, fake = fake_governor()
    # A per-second 429's headers (0 left, reset in 1 s), then an answer of the 10-minute frame.
    governor.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1 seconds"})
    governor.observe({"X-RateLimit-Remaining": "29999", "X-RateLimit-Reset": "600 seconds"})
    call(governor)
    assert fake.now == 2  # its second, and one more: the reset is rounded to whole seconds
    call(governor, 50)
    assert fake.now == 2


def test_429_pause_holds_every_caller() -> None:
    governor, fake = fake_governor()
    governor.pause(12, "test")
    governor.pause(3, "test")  # a shorter pause does not shorten the longer one
    call(governor)
    assert fake.now >= 12
    assert governor.stats.throttled == 2


def test_429_pause_is_logged_with_its_seconds(caplog) -> None:
    governor, _ = fake_governor()
    governor.pause(12, "GET /contacts")
    assert "GET /contacts" in caplog.text
    assert "12.0 s" in caplog.text


def test_stats_summary_and_snapshot() -> None:
    governor, _ = fake_governor()
    call(governor, 3)
    governor.note_retry()
    snapshot = governor.snapshot()
    call(governor)
    assert snapshot.calls == 3
    assert snapshot.calls_by_endpoint == {"GET /contacts": 3}
    assert snapshot.summary().startswith("3 calls, 1 retries, 0 rate-limited (429)")


def test_reset_forgets_history_and_stats() -> None:
    governor, fake = fake_governor()
    governor.pause(100, "test")
    governor.reset(max_in_flight=2)
    call(governor)
    assert fake.now == 0
    assert governor.stats.calls == 1
    assert governor.max_in_flight == 2


def test_the_process_governor_can_be_reset_in_place() -> None:
    GOVERNOR.reset()
    assert GOVERNOR.stats.calls == 0
    assert GOVERNOR.max_in_flight == 10


def test_jitter_margin_costs_at_most_five_percent_and_spaces_batches() -> None:
    governor, fake = fake_governor(per_second=80)
    call(governor, 801)  # 800 calls after the first: 10 s at exactly 80/s
    assert 10.0 <= fake.now <= 10.0 * 1.05 + 1e-6
    governor, fake = fake_governor()
    call(governor, 3, "POST", "/contacts/batch")
    assert fake.now >= 2 * (1.0 + WINDOW_MARGIN_SECONDS)
