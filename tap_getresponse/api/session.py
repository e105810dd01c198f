"""GetResponseSession: the one HTTP path of both connectors, and its retry policy.

Every request, the tap's pages and the target's batches alike, goes through the process-wide
RateGovernor and through one retry policy:
- 429 (code 1015): wait what the answer names (`Retry-After`, `context.timeToReset` or
  `X-RateLimit-Reset`: https://apidocs.getresponse.com/v3/limits), then send again, however long
  the frame takes; not a retry;
- 5xx, timeouts and dropped connections: exponential backoff with full jitter while the retry
  budget (`max_retry_seconds` of failed attempts and backoff sleeps) lasts. GETs are re-sent;
  other methods only when the caller passes `retry_post=True`, because a POST that got a 5xx or
  lost its answer may already have been applied. A request that never left (connection refused,
  connect timeout) is re-sent whatever its method;
- 401 code 1014 with OAuth refresh configured: one token refresh, then the request again.

Credentials go to the configured API host only: a request to any other origin is refused
before it leaves, and a redirect is never followed (RedirectRefusedError).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import metadata
from urllib.parse import urljoin, urlsplit

import backoff
import requests
from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.exceptions import NewConnectionError

from tap_getresponse.api.errors import (
    AUTH_ERROR_CODE,
    ForeignHostError,
    RedirectRefusedError,
    json_body,
    redact,
)
from tap_getresponse.api.governor import RateGovernor, parse_seconds
from tap_getresponse.api.limits import MAX_IN_FLIGHT
from tap_getresponse.api.settings import DEFAULT_SETTINGS

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_getresponse.api.auth import GetResponseOAuthAuthenticator

LOGGER = logging.getLogger("getresponse.http")
DEFAULT_PORTS = {"http": 80, "https": 443}
#: How long the retries of one request may take in all (failed attempts plus backoff sleeps).
DEFAULT_RETRY_SECONDS = 180.0
#: The longest single backoff sleep.
MAX_BACKOFF_SECONDS = 30.0
#: When a 429 names no wait at all (the docs promise `timeToReset`): 5 s, the fallback of
#: GetResponse's own contacts API guide (github.com/GetResponse/public-api-agent-skills,
#: getresponse-contacts-skill/references/api-guide.md, "Errors and request budgets").
DEFAULT_THROTTLE_SECONDS = 5.0
#: A 429 naming "0 seconds" still waits this long, so the loop cannot spin.
MIN_THROTTLE_SECONDS = 0.5
#: 429s in a row for one request before it gives up (each one already waited what it named).
MAX_THROTTLED_ATTEMPTS = 100
RESENDABLE_METHODS = frozenset({"GET", "HEAD"})
TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def default_user_agent() -> str:
    """`tap-getresponse/<version>`: identifies the connector in GetResponse's logs."""
    try:
        return f"tap-getresponse/{metadata.version('getresponse-singer')}"
    except metadata.PackageNotFoundError:
        return "tap-getresponse"


def origin_key(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (default port filled in): what "the same host" means here."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def never_sent(error: Exception) -> bool:
    """Whether a request failed before any byte reached the server (so re-sending is harmless)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


class GetResponseSession(requests.Session):
    """A requests session that sends through the governor and retries what is safe to retry."""

    def __init__(  # noqa: PLR0913 - each is a distinct, documented knob
        self,
        *,
        governor: RateGovernor,
        base_path: str = "",
        domain: str | None = None,
        user_agent: str | None = None,
        timeout: float = DEFAULT_SETTINGS.request_timeout,
        max_parallel: int = MAX_IN_FLIGHT,
        max_retry_seconds: float = DEFAULT_RETRY_SECONDS,
        logger: logging.Logger | None = None,
        api_origin: str | None = None,
    ) -> None:
        """Headers every request needs; `base_path` (`/v3`) is cut off to name endpoints.

        With `api_origin` (`https://host[:port]`), requests to any other origin are refused.
        """
        super().__init__()
        self.api_origin = api_origin
        self.governor = governor
        self.base_path = base_path.rstrip("/")
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.logger = logger or LOGGER
        self.oauth: GetResponseOAuthAuthenticator | None = None
        self.secrets: tuple[str, ...] = ()
        self.sleep: Callable[[float], None] = time.sleep
        # This client's own cap (`max_parallel_requests`), under the governor's process-wide one.
        self._parallel = threading.BoundedSemaphore(max(1, min(MAX_IN_FLIGHT, max_parallel)))
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=MAX_IN_FLIGHT)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.headers["User-Agent"] = user_agent or default_user_agent()
        self.headers["Accept"] = "application/json"
        if domain:
            # MAX accounts need X-Domain on every request, token requests included
            # (https://apidocs.getresponse.com/v3/authentication, /v3/oauth2 "GetResponse MAX").
            self.headers["X-Domain"] = domain

    def endpoint(self, request: requests.PreparedRequest) -> str:
        """The path below /v3 (`/contacts/batch`), which endpoint limits are keyed by."""
        path = urlsplit(request.url or "").path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        return path or "/"

    @override
    def send(
        self,
        request: requests.PreparedRequest,
        *,
        retry_post: bool = False,
        retry_seconds: float | None = None,
        **kwargs: t.Any,
    ) -> requests.Response:
        """Send through the governor; retry, wait out 429s and refresh OAuth as documented above.

        `retry_seconds` replaces the session's retry budget for this request.
        """
        kwargs.setdefault("timeout", self.timeout)
        # requests drops `Authorization` on a redirect to another host, but not `X-Auth-Token`
        # or `X-Domain`, and re-sends a POST's body on a 307/308: redirects are never followed.
        kwargs["allow_redirects"] = False
        method = (request.method or "GET").upper()
        attempts = _Attempts(
            what=f"{method} {self.endpoint(request)}",
            resendable=method in RESENDABLE_METHODS or retry_post,
            budget=self.max_retry_seconds if retry_seconds is None else retry_seconds,
        )
        self._check_origin(request, method)
        while True:
            outcome = self._attempt(request, method, attempts, kwargs)
            if isinstance(outcome, Exception):
                self._retry_failure(outcome, attempts)
                continue
            self._observe(request, outcome)
            if not self._send_again(request, outcome, attempts):
                return outcome

    def _attempt(
        self,
        request: requests.PreparedRequest,
        method: str,
        attempts: _Attempts,
        kwargs: dict[str, t.Any],
    ) -> requests.Response | Exception:
        """Send once inside this client's cap and a governor slot; a transient error is returned."""
        with self._parallel, self.governor.slot(method, self.endpoint(request)):
            started = time.monotonic()
            try:
                outcome: requests.Response | Exception = super().send(request, **kwargs)
            except requests.exceptions.SSLError:
                raise  # a certificate problem does not go away by asking again
            except TRANSIENT_ERRORS as error:
                outcome = error
            attempts.spent += time.monotonic() - started
        return outcome

    def _retry_failure(self, error: Exception, attempts: _Attempts) -> None:
        """Back off before sending again after `error`, or raise it when that is not allowed."""
        if not (attempts.resendable or never_sent(error)) or attempts.spent >= attempts.budget:
            raise error
        attempts.spent += self._back_off(
            attempts.delays, f"{attempts.what}: {type(error).__name__}"
        )

    def _send_again(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        attempts: _Attempts,
    ) -> bool:
        """Wait out a 429, back off after a 5xx or refresh an expired token: then True."""
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS and attempts.throttled < MAX_THROTTLED_ATTEMPTS:
            attempts.throttled += 1
            self.governor.pause(throttle_seconds(response), attempts.what)
            return True
        if (
            status >= HTTPStatus.INTERNAL_SERVER_ERROR
            and attempts.resendable
            and attempts.spent < attempts.budget
        ):
            response.close()
            attempts.spent += self._back_off(attempts.delays, f"{attempts.what}: HTTP {status}")
            return True
        if (
            status == HTTPStatus.UNAUTHORIZED
            and self.oauth is not None
            and not attempts.refreshed
            and _error_code(response) == AUTH_ERROR_CODE
        ):
            attempts.refreshed = True
            self.logger.info("%s: access token rejected; refreshing it once", attempts.what)
            self.oauth.refresh_after_rejection(request)
            return True
        return False

    def _check_origin(self, request: requests.PreparedRequest, method: str) -> None:
        """Refuse, before it leaves, a request that would carry credentials to another host."""
        url = request.url or ""
        if self.api_origin is None or origin_key(url) == origin_key(self.api_origin):
            return
        raise ForeignHostError(method=method, url=url, api_origin=self.api_origin)

    def _observe(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        """Learn the rate-limit headers; refuse a redirect (see `send`)."""
        self.governor.observe(response.headers)
        if not HTTPStatus.MULTIPLE_CHOICES <= response.status_code < HTTPStatus.BAD_REQUEST:
            return
        location = response.headers.get("Location")
        response.close()
        raise RedirectRefusedError(
            http_status=response.status_code,
            method=(request.method or "GET").upper(),
            path=self.endpoint(request),
            location=urljoin(request.url or "", location) if location else None,
        )

    def _back_off(self, delays: Iterator[float], what: str) -> float:
        seconds = next(delays)
        self.governor.note_retry()
        self.logger.warning("Retrying %s in %.1f s", redact(what, self.secrets), seconds)
        self.sleep(seconds)
        return seconds


def _backoff_delays() -> Iterator[float]:
    """0.5, 1, 2, 4... s capped at 30 s, each drawn with full jitter (`backoff` module)."""
    delays = backoff.expo(base=2, factor=0.5, max_value=MAX_BACKOFF_SECONDS)
    next(delays)  # the generator's first value is a priming None
    for delay in delays:
        yield backoff.full_jitter(delay)


@dataclass(slots=True)
class _Attempts:
    """Where one request's retry policy stands: its budget, what it spent, what it used up."""

    #: `METHOD /path`, for log lines.
    what: str
    #: Whether a request that may have reached the server can be sent again.
    resendable: bool
    #: Seconds of failed attempts and backoff sleeps this request may spend.
    budget: float
    spent: float = 0.0
    throttled: int = 0
    refreshed: bool = False
    delays: Iterator[float] = field(default_factory=_backoff_delays)


def throttle_seconds(response: requests.Response) -> float:
    """How long a 429 asks to wait: Retry-After, context.timeToReset or X-RateLimit-Reset."""
    body = json_body(response)
    context = body.get("context") if isinstance(body, dict) else None
    time_to_reset = context.get("timeToReset") if isinstance(context, dict) else None
    for seconds in (
        _retry_after(response.headers.get("Retry-After")),
        parse_seconds(time_to_reset),
        parse_seconds(response.headers.get("X-RateLimit-Reset")),
    ):
        if seconds is not None:
            return max(seconds, MIN_THROTTLE_SECONDS)
    return DEFAULT_THROTTLE_SECONDS


def _retry_after(value: str | None) -> float | None:
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


def _error_code(response: requests.Response) -> int | None:
    body = json_body(response)
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
