"""GetResponseSession: the one HTTP path of both connectors, and its retry policy.

Every request, the tap's pages and the target's batches alike, goes through the process-wide
RateGovernor and through one retry policy (its parts: `retries.py`):
- 429 (code 1015): wait what the answer names (`Retry-After`, `context.timeToReset` or
  `X-RateLimit-Reset`: https://apidocs.getresponse.com/v3/limits), at most the API's 10-minute
  frame, then send again; not a retry;
- 5xx, timeouts and dropped connections: exponential backoff with full jitter while the retry
  budget (`max_retry_seconds` of failed attempts and backoff sleeps) lasts. GETs are re-sent;
  other methods only when the caller passes `retry_post=True`, because a POST that got a 5xx or
  lost its answer may already have been applied. A request that never left (connection refused,
  connect timeout) is re-sent whatever its method;
- a host that has not answered once in this run gets `CONNECT_RETRY_SECONDS` of connection
  attempts, then HostUnreachableError; every later request fails at once with it. Each attempt's
  host name lookup is bounded by the connect timeout too (`name_lookup.py`);
- 401 code 1014 with OAuth refresh configured: one token refresh, then the request again.

`request_timeout` bounds a whole answer, headers and body (`transport.py`): one that is still
incomplete then counts as a timeout. Bodies are read here, decoded, up to MAX_RESPONSE_BYTES;
a larger one fails its request (ResponseTooLargeError). A request that gives up raises a
RequestFailedError (a GetResponseAPIError) saying what happened and which setting to check.

Credentials go to the configured API host only: a request to any other origin is refused
before it leaves, and a redirect is never followed (RedirectRefusedError).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import typing as t
from dataclasses import dataclass
from http import HTTPStatus
from importlib import metadata
from urllib.parse import urljoin, urlsplit

import requests
from typing_extensions import override

from tap_getresponse.api.errors import (
    AUTH_ERROR_CODE,
    ForeignHostError,
    HostUnreachableError,
    RedirectRefusedError,
    RequestFailedError,
    ResponseTooLargeError,
    origin_of,
    redact,
)
from tap_getresponse.api.limits import MAX_IN_FLIGHT
from tap_getresponse.api.retries import (
    CONNECT_RETRY_SECONDS,
    DEFAULT_RETRY_SECONDS,
    MAX_THROTTLE_SECONDS,
    MAX_THROTTLED_ATTEMPTS,
    RESENDABLE_METHODS,
    TRANSIENT_ERRORS,
    Attempts,
    connect_failure,
    error_code,
    never_sent,
    throttle_seconds,
)
from tap_getresponse.api.settings import DEFAULT_SETTINGS
from tap_getresponse.api.transport import (
    DeadlineAdapter,
    DeadlinePassedError,
    ResponseTooLarge,
    deadline,
    read_whole,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_getresponse.api.auth import GetResponseOAuthAuthenticator
    from tap_getresponse.api.frames import Ticket
    from tap_getresponse.api.governor import RateGovernor

LOGGER = logging.getLogger("getresponse.http")
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The most a connection may take to open (within `request_timeout`): an unreachable host is
#: found out in seconds, not in a whole request timeout per attempt.
CONNECT_TIMEOUT_SECONDS = 10.0
#: The largest answer read, decoded: a page of 1000 contacts is about 1 MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class Reachability:
    """Whether the API host has answered in this run, shared by a client's sessions."""

    answered: bool = False
    #: Why connecting failed for good, once a request gave up before any answer.
    gave_up: str | None = None


@functools.cache
def default_user_agent() -> str:
    """`tap-getresponse/<version>`: identifies the connector in GetResponse's logs.

    Cached: the metadata lookup scans installed distributions (a few ms per session).
    """
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
        reach: Reachability | None = None,
    ) -> None:
        """Headers every request needs; `base_path` (`/v3`) is cut off to name endpoints.

        With `api_origin` (`https://host[:port]`), requests to any other origin are refused.
        Sessions that share `reach` give up on an unreachable host together.
        """
        super().__init__()
        self.api_origin = api_origin
        self.governor = governor
        self.base_path = base_path.rstrip("/")
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.max_response_bytes = MAX_RESPONSE_BYTES
        self.logger = logger or LOGGER
        self.reach = reach or Reachability()
        self.oauth: GetResponseOAuthAuthenticator | None = None
        self.secrets: tuple[str, ...] = ()
        self.sleep: Callable[[float], None] = time.sleep
        # This client's own cap (`max_parallel_requests`), under the governor's process-wide one.
        self._parallel = threading.BoundedSemaphore(max(1, min(MAX_IN_FLIGHT, max_parallel)))
        adapter = DeadlineAdapter(pool_connections=1, pool_maxsize=MAX_IN_FLIGHT)
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

        `retry_seconds` replaces the session's retry budget for this request. A numeric
        `timeout` replaces `request_timeout` for it; the body is always read before returning.
        """
        timeout = kwargs.pop("timeout", None)
        kwargs.pop("stream", None)
        # requests drops `Authorization` on a redirect to another host, but not `X-Auth-Token`
        # or `X-Domain`, and re-sends a POST's body on a 307/308: redirects are never followed.
        kwargs["allow_redirects"] = False
        method = (request.method or "GET").upper()
        attempts = Attempts(
            method=method,
            path=self.endpoint(request),
            resendable=method in RESENDABLE_METHODS or retry_post,
            budget=self.max_retry_seconds if retry_seconds is None else retry_seconds,
            timeout=_seconds(timeout) or self.timeout,
        )
        self._check_origin(request, method)
        self._check_reachable(request, method)
        while True:
            outcome = self._attempt(request, attempts, kwargs)
            if isinstance(outcome, Exception):
                self._retry_failure(request, outcome, attempts)
                continue
            self._refuse_redirect(request, outcome)
            if not self._send_again(request, outcome, attempts):
                return outcome

    def _attempt(
        self,
        request: requests.PreparedRequest,
        attempts: Attempts,
        kwargs: dict[str, t.Any],
    ) -> requests.Response | Exception:
        """Send once inside this client's cap and a governor slot; a transient error is returned."""
        with self._parallel, self.governor.slot(attempts.method, attempts.path) as ticket:
            started = time.monotonic()
            attempts.sent += 1
            try:
                return self._exchange(request, ticket, attempts, kwargs)
            except RequestFailedError:
                raise  # final: it is a ConnectionError only for code that catches those
            except (*TRANSIENT_ERRORS, DeadlinePassedError) as error:
                return error
            finally:
                attempts.spent += time.monotonic() - started

    def _exchange(
        self,
        request: requests.PreparedRequest,
        ticket: Ticket,
        attempts: Attempts,
        kwargs: dict[str, t.Any],
    ) -> requests.Response:
        """One request and its whole answer, read within `attempts.timeout` seconds."""
        total = attempts.timeout
        with deadline(total) as until:
            try:
                response = super().send(
                    request,
                    stream=True,
                    timeout=(min(CONNECT_TIMEOUT_SECONDS, total), total),
                    **kwargs,
                )
                self.reach.answered = True
                self.governor.observe(response.headers, ticket)
                read_whole(response, self.max_response_bytes, until)
            except requests.exceptions.SSLError as error:
                # A certificate problem does not go away by asking again.
                problem = f"TLS with {origin_of(request.url or '')} failed (certificate or proxy)"
                raise self._failure(request, f"{problem}; check `api_url`") from error
            except ResponseTooLarge as error:
                raise ResponseTooLargeError(
                    method=attempts.method,
                    path=attempts.path,
                    size=error.size,
                    limit=self.max_response_bytes,
                ) from None
            except TRANSIENT_ERRORS as error:
                # A connection that never opened stays that (re-sent whatever the method).
                if time.monotonic() >= until and not never_sent(error):
                    raise DeadlinePassedError from error
                raise
        return response

    def _retry_failure(
        self, request: requests.PreparedRequest, error: Exception, attempts: Attempts
    ) -> None:
        """Back off before sending again after `error`, or raise what it comes to."""
        unsent = never_sent(error)
        budget = attempts.budget
        if unsent and not self.reach.answered:
            budget = min(budget, CONNECT_RETRY_SECONDS)
        if (unsent or attempts.resendable) and attempts.spent < budget:
            why = self._problem(request, error, attempts)
            attempts.spent += self._back_off(attempts, why, budget - attempts.spent)
            return
        problem = f"{self._problem(request, error, attempts)} ({attempts.summary()})"
        if unsent:
            problem += "; check `api_url` and the network"
            if not self.reach.answered:
                self.reach.gave_up = problem
            raise HostUnreachableError(method=attempts.method, path=attempts.path, problem=problem)
        if not attempts.resendable:
            problem += "; not sent again, as it may have been applied"
        raise self._failure(request, problem) from error

    def _problem(
        self, request: requests.PreparedRequest, error: Exception, attempts: Attempts
    ) -> str:
        """What went wrong with one attempt, in plain words (no secret: no URL but the origin)."""
        if never_sent(error):
            return f"could not connect to {origin_of(request.url or '')}: {connect_failure(error)}"
        if isinstance(error, DeadlinePassedError):
            return f"no complete answer within `request_timeout` ({attempts.timeout:g} s)"
        if isinstance(error, requests.exceptions.ChunkedEncodingError):
            return "the answer was cut off"
        return "the connection was lost before the answer was complete"

    def _check_reachable(self, request: requests.PreparedRequest, method: str) -> None:
        """Fail at once when the host never answered and an earlier request gave up on it."""
        if self.reach.gave_up is None or self.reach.answered:
            return
        raise HostUnreachableError(
            method=method,
            path=self.endpoint(request),
            problem=f"{self.reach.gave_up} (given up on earlier in this run)",
        )

    def _failure(self, request: requests.PreparedRequest, problem: str) -> RequestFailedError:
        method = (request.method or "GET").upper()
        return RequestFailedError(method=method, path=self.endpoint(request), problem=problem)

    def _send_again(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        attempts: Attempts,
    ) -> bool:
        """Wait out a 429, back off after a 5xx or refresh an expired token: then True."""
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS and attempts.throttled < MAX_THROTTLED_ATTEMPTS:
            attempts.throttled += 1
            self._wait_out(response, attempts.what)
            return True
        if (
            status >= HTTPStatus.INTERNAL_SERVER_ERROR
            and attempts.resendable
            and attempts.spent < attempts.budget
        ):
            why = f"HTTP {status}"
            attempts.spent += self._back_off(attempts, why, attempts.budget - attempts.spent)
            return True
        if (
            status == HTTPStatus.UNAUTHORIZED
            and self.oauth is not None
            and not attempts.refreshed
            and error_code(response) == AUTH_ERROR_CODE
        ):
            attempts.refreshed = True
            self.logger.info("%s: access token rejected; refreshing it once", attempts.what)
            self.oauth.refresh_after_rejection(request)
            return True
        return False

    def _wait_out(self, response: requests.Response, what: str) -> None:
        """Pause every caller as a 429 asks, but never longer than the API's 10-minute frame."""
        seconds = throttle_seconds(response)
        if seconds > MAX_THROTTLE_SECONDS:
            what = (
                f"{what}; it asked for {seconds:.0f} s, more than the API's "
                f"{MAX_THROTTLE_SECONDS / 60:.0f}-minute frame, so the wait is capped"
            )
            seconds = MAX_THROTTLE_SECONDS
        self.governor.pause(seconds, what)

    def _check_origin(self, request: requests.PreparedRequest, method: str) -> None:
        """Refuse, before it leaves, a request that would carry credentials to another host."""
        url = request.url or ""
        if self.api_origin is None or origin_key(url) == origin_key(self.api_origin):
            return
        raise ForeignHostError(method=method, url=url, api_origin=self.api_origin)

    def _refuse_redirect(
        self, request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """Raise RedirectRefusedError for a 3xx (see `send`)."""
        if not HTTPStatus.MULTIPLE_CHOICES <= response.status_code < HTTPStatus.BAD_REQUEST:
            return
        location = response.headers.get("Location")
        raise RedirectRefusedError(
            http_status=response.status_code,
            method=(request.method or "GET").upper(),
            path=self.endpoint(request),
            location=urljoin(request.url or "", location) if location else None,
        )

    def _back_off(self, attempts: Attempts, why: str, at_most: float) -> float:
        """Sleep the next backoff delay, never past what is left of the budget (`at_most`)."""
        seconds = max(0.0, min(next(attempts.delays), at_most))
        self.governor.note_retry()
        what = redact(attempts.what, self.secrets)
        self.logger.warning("Retrying %s in %.1f s: %s", what, seconds, why)
        self.sleep(seconds)
        return seconds


def _seconds(value: object) -> float | None:
    """A positive number of seconds, or None (requests' `timeout` may be None or a pair)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None
