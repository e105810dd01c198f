"""RateGovernor: keeps every request of a process inside GetResponse's limits (reference §5.3).

The limits: 10 simultaneous requests, 80 calls per second, 30,000 calls per 10-minute frame, and
endpoint limits such as `POST /contacts/batch` (1 call/s, 80 calls per frame). The governor owns
one slot semaphore for the in-flight limit and sliding windows of recent call times for the rate
limits. It also listens to what the API says: `X-RateLimit-Remaining`/`X-RateLimit-Reset` slow
calls down before a frame runs out, and a 429 pauses every caller until the reset it names.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

LOGGER = logging.getLogger("getresponse.governor")
FRAME_SECONDS = 600.0
#: When fewer calls than this remain in a frame, the rest are spread over the time left.
LOW_WATER_CALLS = 100
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class EndpointLimit:
    """A limit of one endpoint on top of the account-wide ones."""

    per_second: int | None = None
    per_frame: int | None = None
    frame_seconds: float = FRAME_SECONDS


#: Endpoint limits GetResponse documents (§5.3), keyed by (method, path below /v3).
DOCUMENTED_LIMITS: dict[tuple[str, str], EndpointLimit] = {
    ("POST", "/contacts/batch"): EndpointLimit(per_second=1, per_frame=80),
}


@dataclass(slots=True)
class GovernorStats:
    """What the governor did: for run summaries and tests."""

    calls: int = 0
    calls_by_endpoint: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    seconds_waited: float = 0.0


def parse_seconds(value: object) -> float | None:
    """Seconds from `"432 seconds"`, `"1"` or `432` (X-RateLimit-Reset, Retry-After...)."""
    if value is None:
        return None
    match = _SECONDS.search(str(value))
    return float(match.group()) if match else None


class _Window:
    """Call times within the last `seconds`, to cap calls per window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.times: deque[float] = deque()

    def delay(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.seconds - now

    def record(self, now: float) -> None:
        self.times.append(now)


class RateGovernor:
    """Process-wide admission control for GetResponse requests; safe to share between threads."""

    def __init__(
        self,
        *,
        max_in_flight: int = 10,
        per_second: int = 80,
        endpoint_limits: Mapping[tuple[str, str], EndpointLimit] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Limits default to GetResponse's documented ones."""
        self.max_in_flight = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self._per_second = _Window(per_second, 1.0)
        self._endpoint_limits = dict(
            DOCUMENTED_LIMITS if endpoint_limits is None else endpoint_limits
        )
        self._endpoint_windows: dict[tuple[str, str], list[_Window]] = {}
        self._paused_until = 0.0
        self._frame_remaining: int | None = None
        self._frame_reset_at = 0.0
        self._last_call = 0.0
        self.stats = GovernorStats()

    def declare(self, method: str, path: str, limit: EndpointLimit) -> None:
        """Add or replace an endpoint limit."""
        with self._lock:
            self._endpoint_limits[method.upper(), path] = limit
            self._endpoint_windows.pop((method.upper(), path), None)

    @contextmanager
    def slot(self, method: str, path: str) -> Iterator[None]:
        """Hold one of the in-flight slots for one request, once the rate limits allow it."""
        self._slots.acquire()
        try:
            self._wait_for_turn(method.upper(), path)
            yield
        finally:
            self._slots.release()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the frame's state from a response's X-RateLimit-* headers."""
        remaining = parse_seconds(headers.get("X-RateLimit-Remaining"))
        reset = parse_seconds(headers.get("X-RateLimit-Reset"))
        if remaining is None or reset is None:
            return
        with self._lock:
            self._frame_remaining = int(remaining)
            self._frame_reset_at = self._clock() + reset

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every caller for `seconds` (after a 429), logging the wait once."""
        with self._lock:
            self.stats.throttled += 1
            until = self._clock() + seconds
            if until <= self._paused_until:
                return
            self._paused_until = until
        LOGGER.warning("Rate limited by GetResponse (%s): waiting %.1f s", reason, seconds)

    def _wait_for_turn(self, method: str, path: str) -> None:
        key = (method, path)
        while True:
            with self._lock:
                now = self._clock()
                windows = self._windows_for(key)
                delay = max(
                    self._paused_until - now,
                    self._per_second.delay(now),
                    self._frame_delay(now),
                    *(window.delay(now) for window in windows),
                )
                if delay <= 0:
                    for window in (self._per_second, *windows):
                        window.record(now)
                    self._last_call = now
                    if self._frame_remaining is not None:
                        self._frame_remaining -= 1
                    self.stats.calls += 1
                    self.stats.calls_by_endpoint[f"{method} {path}"] += 1
                    return
                self.stats.seconds_waited += delay
            self._sleep(delay)

    def _windows_for(self, key: tuple[str, str]) -> list[_Window]:
        if key not in self._endpoint_windows:
            limit = self._endpoint_limits.get(key)
            windows = []
            if limit and limit.per_second:
                windows.append(_Window(limit.per_second, 1.0))
            if limit and limit.per_frame:
                windows.append(_Window(limit.per_frame, limit.frame_seconds))
            self._endpoint_windows[key] = windows
        return self._endpoint_windows[key]

    def _frame_delay(self, now: float) -> float:
        """Spread the last calls of a frame over its remaining time instead of hitting a 429."""
        if self._frame_remaining is None or now >= self._frame_reset_at:
            return 0.0
        if self._frame_remaining <= 0:
            return self._frame_reset_at - now
        if self._frame_remaining >= LOW_WATER_CALLS:
            return 0.0
        interval = (self._frame_reset_at - now) / self._frame_remaining
        return self._last_call + interval - now


#: The one governor every GetResponse request of this process goes through.
GOVERNOR = RateGovernor()
