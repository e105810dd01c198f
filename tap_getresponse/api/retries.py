"""The retry policy's parts: budgets, backoff, what a failure was, and how long a 429 asks to wait.

GetResponseSession (`session.py`) applies them; they are here so that each can be read, and
tested, on its own.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import typing as t
from dataclasses import dataclass, field

import backoff
import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from tap_getresponse.api.errors import json_body
from tap_getresponse.api.governor import parse_seconds
from tap_getresponse.api.limits import FRAME_SECONDS
from tap_getresponse.api.name_lookup import lookup_timed_out

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: How long the retries of one request may take in all (failed attempts plus backoff sleeps).
DEFAULT_RETRY_SECONDS = 180.0
#: While the host has not answered once, how long a request may go on failing to connect
#: (refused, name not resolved, connect timeout) before the run gives up on the host.
CONNECT_RETRY_SECONDS = 15.0
#: The longest single backoff sleep.
MAX_BACKOFF_SECONDS = 30.0
#: When a 429 names no wait at all (the docs promise `timeToReset`): 5 s, the fallback of
#: GetResponse's own contacts API guide (github.com/GetResponse/public-api-agent-skills,
#: getresponse-contacts-skill/references/api-guide.md, "Errors and request budgets").
DEFAULT_THROTTLE_SECONDS = 5.0
#: A 429 naming "0 seconds" still waits this long, so the loop cannot spin.
MIN_THROTTLE_SECONDS = 0.5
#: The longest a 429 is waited out: the API's whole frame (https://apidocs.getresponse.com/v3/limits),
#: after which the quota is back whatever the answer said.
MAX_THROTTLE_SECONDS = FRAME_SECONDS
#: 429s in a row for one request before it gives up (each one already waited what it named).
MAX_THROTTLED_ATTEMPTS = 100
RESENDABLE_METHODS = frozenset({"GET", "HEAD"})
TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def never_sent(error: Exception) -> bool:
    """Whether a request failed before any byte reached the server (so re-sending is harmless)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def connect_failure(error: Exception) -> str:
    """What stopped a request that never left, in plain words."""
    slow = lookup_timed_out(error)
    if slow is not None:
        return f"the host name {slow.host} did not resolve within {slow.seconds:g} s"
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    if isinstance(reason, NameResolutionError):
        return "the host name does not resolve"
    # urllib3's NewConnectionError is a ConnectTimeoutError too: the words tell them apart.
    text = str(reason or error).lower()
    if "refused" in text:
        return "the connection was refused"
    if isinstance(error, requests.exceptions.ConnectTimeout) or "timed out" in text:
        return "the connection timed out"
    return "no connection could be made"


def backoff_delays() -> Iterator[float]:
    """0.5, 1, 2, 4... s capped at 30 s, each drawn with full jitter (`backoff` module)."""
    delays = backoff.expo(base=2, factor=0.5, max_value=MAX_BACKOFF_SECONDS)
    next(delays)  # the generator's first value is a priming None
    for delay in delays:
        yield backoff.full_jitter(delay)


@dataclass(slots=True)
class Attempts:
    """Where one request's retry policy stands: its budget, what it spent, what it used up."""

    method: str
    #: The path below /v3.
    path: str
    #: Whether a request that may have reached the server can be sent again.
    resendable: bool
    #: Seconds of failed attempts and backoff sleeps this request may spend.
    budget: float
    #: Seconds one attempt's whole answer may take (`request_timeout`).
    timeout: float
    spent: float = 0.0
    sent: int = 0
    throttled: int = 0
    refreshed: bool = False
    delays: Iterator[float] = field(default_factory=backoff_delays)

    @property
    def what(self) -> str:
        """`METHOD /path`, for log lines."""
        return f"{self.method} {self.path}"

    def summary(self) -> str:
        """`3 attempts in 14 s`, for the line that gives up."""
        plural = "attempt" if self.sent == 1 else "attempts"
        return f"{self.sent} {plural} in {self.spent:.0f} s"


def throttle_seconds(response: requests.Response) -> float:
    """How long a 429 asks to wait: Retry-After, context.timeToReset or X-RateLimit-Reset."""
    body = json_body(response)
    context = body.get("context") if isinstance(body, dict) else None
    time_to_reset = context.get("timeToReset") if isinstance(context, dict) else None
    for seconds in (
        retry_after(response.headers.get("Retry-After")),
        parse_seconds(time_to_reset),
        parse_seconds(response.headers.get("X-RateLimit-Reset")),
    ):
        if seconds is not None:
            return max(seconds, MIN_THROTTLE_SECONDS)
    return DEFAULT_THROTTLE_SECONDS


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds or as an HTTP date (either may come: RFC 9110, "Retry-After")."""
    if value is None:
        return None
    if any(char.isalpha() for char in value):
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())
    return parse_seconds(value)


def error_code(response: requests.Response) -> int | None:
    """GetResponse's `code` from an error body, if there is one."""
    body = json_body(response)
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
