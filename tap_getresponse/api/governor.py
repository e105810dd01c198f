"""RateGovernor: keeps every request of a process inside GetResponse's limits.

The limits (`limits.py`; https://apidocs.getresponse.com/v3/limits): 10 simultaneous requests,
80 calls per second, 30,000 calls per 10-minute frame, and endpoint limits such as
`POST /contacts/batch` (1 call/s, 80 calls per frame; OpenAPI `createBatchContacts`). The governor
counts requests in flight (a condition variable, so no caller holds a slot while it sleeps) and
keeps sliding windows of recent call times for the rate limits. It also listens to what the API
says: `X-RateLimit-Remaining`/`X-RateLimit-Reset` are a budget (`frames.py`): when they say N
calls remain in the frame, at most N more requests leave before it resets, however many are in
flight, and the last ones are spread over the time left. A 429 pauses every caller until the
reset it names.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from tap_getresponse.api.frames import FrameBudget, Ticket
from tap_getresponse.api.limits import (
    BATCH_CALLS_PER_FRAME,
    BATCH_CALLS_PER_SECOND,
    BATCH_METHOD,
    BATCH_PATH,
    FRAME_SECONDS,
    MAX_CALLS_PER_SECOND,
    MAX_IN_FLIGHT,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

LOGGER = logging.getLogger("getresponse.governor")
#: A wait for the frame to reset at least this long is logged (once per frame).
LOGGED_FRAME_WAIT_SECONDS = 5.0
#: Added to every window: calls leave evenly spaced but arrive with jitter (threads waiting for
#: the interpreter, the network), and the server counts arrivals. It costs the 80 calls/s and the
#: batch endpoint's 1 call/s 5% of their rate; 10% cost more than it bought (benchmarks: 0 429s
#: either way), and 25 ms let a busy 10-thread client meet a few 429s.
WINDOW_MARGIN_SECONDS = 0.05
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class EndpointLimit:
    """A limit of one endpoint (method and path below /v3) on top of the account-wide ones."""

    method: str
    path: str
    per_second: int | None = None
    per_frame: int | None = None
    frame_seconds: float = FRAME_SECONDS

    @property
    def key(self) -> tuple[str, str]:
        """What requests are matched on: (METHOD, /path)."""
        return self.method.upper(), self.path


#: Endpoint limits GetResponse documents (OpenAPI `createBatchContacts`).
DOCUMENTED_LIMITS = (
    EndpointLimit(
        BATCH_METHOD,
        BATCH_PATH,
        per_second=BATCH_CALLS_PER_SECOND,
        per_frame=BATCH_CALLS_PER_FRAME,
    ),
)


@dataclass(slots=True)
class GovernorStats:
    """What the governor did, for run summaries and tests."""

    calls: int = 0
    calls_by_endpoint: Counter[str] = field(default_factory=Counter)
    #: 429 answers seen.
    throttled: int = 0
    #: Calls held back at least once by a rate limit, a frame running low or a 429 pause.
    waits: int = 0
    #: Seconds slept for rate limits, summed over callers.
    seconds_waited: float = 0.0
    #: Requests re-sent after a 5xx, a timeout or a dropped connection.
    retries: int = 0
    peak_in_flight: int = 0

    def summary(self) -> str:
        """One log line."""
        return (
            f"{self.calls} calls, {self.retries} retries, {self.throttled} rate-limited (429), "
            f"{self.waits} held back for {self.seconds_waited:.1f} s, "
            f"peak {self.peak_in_flight} in flight"
        )


def parse_seconds(value: object) -> float | None:
    """Seconds from `"432 seconds"`, `"1"` or `432` (X-RateLimit-Reset, timeToReset...)."""
    if value is None or isinstance(value, bool):
        return None
    match = _NUMBER.search(str(value))
    return max(0.0, float(match.group())) if match else None


class _Window:
    """Call times within the last `seconds`, to cap calls per window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds + WINDOW_MARGIN_SECONDS
        self.times: deque[float] = deque()

    def delay(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[-self.limit] + self.seconds - now

    def record(self, now: float) -> None:
        self.times.append(now)


class RateGovernor:
    """Process-wide admission control for GetResponse requests; safe to share between threads."""

    def __init__(
        self,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        per_second: int = MAX_CALLS_PER_SECOND,
        endpoint_limits: Iterable[EndpointLimit] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Limits default to GetResponse's documented ones; `clock`/`sleep` are for tests."""
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._clock, self._sleep = clock, sleep
        self._in_flight = 0
        self.reset(
            max_in_flight=max_in_flight, per_second=per_second, endpoint_limits=endpoint_limits
        )

    def reset(
        self,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        per_second: int = MAX_CALLS_PER_SECOND,
        endpoint_limits: Iterable[EndpointLimit] | None = None,
    ) -> None:
        """Forget all history and stats (between test cases; not while requests are running)."""
        if not 1 <= max_in_flight <= MAX_IN_FLIGHT:
            msg = f"max_in_flight must be 1..{MAX_IN_FLIGHT}, got {max_in_flight}"
            raise ValueError(msg)
        limits = DOCUMENTED_LIMITS if endpoint_limits is None else endpoint_limits
        with self._lock:
            self.max_in_flight = max_in_flight
            self._per_second = _Window(per_second, 1.0)
            self._endpoint_limits = {limit.key: limit for limit in limits}
            self._endpoint_windows: dict[tuple[str, str], list[_Window]] = {}
            self._paused_until = 0.0
            self._frames = FrameBudget()
            self._frame_wait_logged_until = float("-inf")
            self._last_call = float("-inf")
            self.stats = GovernorStats()

    @property
    def in_flight(self) -> int:
        """Requests holding a slot right now."""
        return self._in_flight

    def declare(self, limit: EndpointLimit) -> None:
        """Add or replace an endpoint limit."""
        limit = replace(limit, method=limit.method.upper())
        with self._lock:
            self._endpoint_limits[limit.key] = limit
            self._endpoint_windows.pop(limit.key, None)

    def endpoint_limit(self, method: str, path: str) -> EndpointLimit | None:
        """The declared limit of an endpoint, if any."""
        return self._endpoint_limits.get((method.upper(), path))

    @property
    def frame_calls_left(self) -> int | None:
        """Calls the rate-limit headers leave for the current frame (None: no reading yet)."""
        with self._lock:
            return self._frames.left(self._clock())

    @contextmanager
    def slot(self, method: str, path: str) -> Iterator[Ticket]:
        """Hold one in-flight slot for one request, admitted once every limit allows it.

        The ticket goes back to `observe` with the request's answer.
        """
        ticket = self._admit((method.upper(), path))
        try:
            yield ticket
        finally:
            with self._slot_freed:
                self._in_flight -= 1
                self._slot_freed.notify()

    def observe(self, headers: Mapping[str, str], ticket: Ticket | None = None) -> None:
        """Learn the frame's budget from an answer's X-RateLimit-* headers (see frames.py).

        `ticket` is the answered request's, from `slot`; without one the reading is taken as
        fresh (every request in flight not yet counted in it).
        """
        remaining = parse_seconds(headers.get("X-RateLimit-Remaining"))
        reset = parse_seconds(headers.get("X-RateLimit-Reset"))
        if remaining is None or reset is None:
            return
        limit = parse_seconds(headers.get("X-RateLimit-Limit"))
        with self._lock:
            self._frames.read(
                remaining=int(remaining),
                reset=reset,
                limit=int(limit) if limit else None,
                now=self._clock(),
                ticket=ticket,
                in_flight=self._in_flight,
            )

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every caller for `seconds` after a 429, logging the wait when it grows."""
        with self._lock:
            self.stats.throttled += 1
            until = self._clock() + seconds
            if until <= self._paused_until:
                return
            self._paused_until = until
        LOGGER.warning(
            "GetResponse rate limit reached (%s): every request waits %.1f s", reason, seconds
        )

    def note_retry(self) -> None:
        """Count one re-sent request (for the stats)."""
        with self._lock:
            self.stats.retries += 1

    def snapshot(self) -> GovernorStats:
        """A consistent copy of the stats."""
        with self._lock:
            return replace(self.stats, calls_by_endpoint=Counter(self.stats.calls_by_endpoint))

    def _admit(self, key: tuple[str, str]) -> Ticket:
        held_back = False
        while True:
            with self._slot_freed:
                while self._in_flight >= self.max_in_flight:
                    self._slot_freed.wait()
                now = self._clock()
                delay = self._delay(key, now)
                if delay <= 0:
                    return self._book(key, now)
                self._log_frame_wait(now, delay)
                self.stats.seconds_waited += delay
                if not held_back:
                    held_back = True
                    self.stats.waits += 1
            # Sleep without a slot, so waiting callers never block admitted ones.
            self._sleep(delay)

    def _delay(self, key: tuple[str, str], now: float) -> float:
        return max(
            self._paused_until - now,
            self._per_second.delay(now),
            self._frames.delay(now, self._last_call),
            *(window.delay(now) for window in self._windows_for(key)),
        )

    def _book(self, key: tuple[str, str], now: float) -> Ticket:
        for window in (self._per_second, *self._windows_for(key)):
            window.record(now)
        self._last_call = now
        ticket = self._frames.admit(self._in_flight, now)
        self._in_flight += 1
        self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
        self.stats.calls += 1
        self.stats.calls_by_endpoint[f"{key[0]} {key[1]}"] += 1
        return ticket

    def _log_frame_wait(self, now: float, delay: float) -> None:
        """Say once per frame that its calls are used up and for how long requests wait."""
        until = now + delay
        if delay < LOGGED_FRAME_WAIT_SECONDS or self._frames.left(now) != 0:
            return
        if until <= self._frame_wait_logged_until:
            return
        self._frame_wait_logged_until = until
        LOGGER.warning(
            "GetResponse's rate-limit headers say this frame's calls are used up "
            "(X-RateLimit-Remaining): requests wait %.0f s for it to reset",
            delay,
        )

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


#: The one governor every GetResponse request of this process goes through (tests may reset it).
GOVERNOR = RateGovernor()
