"""GetResponseSession and GetResponseClient: the one HTTP path of both connectors.

Every request, the tap's pages and the target's batches alike, goes through the process-wide
RateGovernor and through one retry policy:
- 429 (code 1015): wait what the answer names (`Retry-After`, `context.timeToReset` or
  `X-RateLimit-Reset`, §5.3), then send again, however long the frame takes; not a retry;
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
from importlib import metadata
from urllib.parse import urljoin, urlsplit

import backoff
import requests
from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.exceptions import NewConnectionError

from tap_getresponse.api.auth import LOGGER as AUTH_LOGGER
from tap_getresponse.api.auth import GetResponseOAuthAuthenticator, build_authenticator
from tap_getresponse.api.check import diagnose, verdict
from tap_getresponse.api.errors import (
    SECRET_LOG_FILTER,
    ConnectionCheckError,
    ForeignHostError,
    GetResponseAPIError,
    RedirectRefusedError,
    json_body,
    origin_of,
    redact,
)
from tap_getresponse.api.governor import GOVERNOR, MAX_IN_FLIGHT, RateGovernor, parse_seconds
from tap_getresponse.api.settings import (
    RETAIL_API_URL,
    SECRET_SETTINGS,
    auth_methods,
    check_connection_settings,
    trimmed_settings,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

LOGGER = logging.getLogger("getresponse.http")
HTTP_TOO_MANY_REQUESTS = 429
HTTP_UNAUTHORIZED = 401
HTTP_SERVER_ERROR = 500
HTTP_REDIRECTS = range(300, 400)
DEFAULT_PORTS = {"http": 80, "https": 443}
AUTH_ERROR_CODE = 1014
#: How long the retries of one request may take in all (failed attempts plus backoff sleeps).
DEFAULT_RETRY_SECONDS = 180.0
#: The connection check answers quickly rather than retrying an unreachable URL for minutes.
CHECK_RETRY_SECONDS = 10.0
#: The longest single backoff sleep.
MAX_BACKOFF_SECONDS = 30.0
#: When a 429 names no wait at all (§5.3, SK-C-G: "default 5 s fallback").
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
        timeout: float = 60.0,
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
            # §1.5: MAX accounts need X-Domain on every request, token requests included (§1.4).
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
        budget = self.max_retry_seconds if retry_seconds is None else retry_seconds
        method = (request.method or "GET").upper()
        what = f"{method} {self.endpoint(request)}"
        self._check_origin(request, method)
        resendable = method in RESENDABLE_METHODS or retry_post
        delays = _backoff_delays()
        spent = 0.0  # seconds of failed attempts and backoff sleeps: the retry budget
        throttled = 0
        refreshed = False
        while True:
            with self._parallel, self.governor.slot(method, self.endpoint(request)):
                started = time.monotonic()
                try:
                    response = super().send(request, **kwargs)
                except requests.exceptions.SSLError:
                    raise  # a certificate problem does not go away by asking again
                except TRANSIENT_ERRORS as error:
                    failure: Exception | requests.Response = error
                else:
                    failure = response
                spent += time.monotonic() - started
            if isinstance(failure, Exception):
                if not (resendable or never_sent(failure)) or spent >= budget:
                    raise failure
                spent += self._back_off(delays, f"{what}: {type(failure).__name__}")
                continue
            self._observe(request, response)
            status = response.status_code
            if status == HTTP_TOO_MANY_REQUESTS and throttled < MAX_THROTTLED_ATTEMPTS:
                throttled += 1
                self.governor.pause(throttle_seconds(response), what)
                continue
            if status >= HTTP_SERVER_ERROR and resendable and spent < budget:
                response.close()
                spent += self._back_off(delays, f"{what}: HTTP {status}")
                continue
            if (
                status == HTTP_UNAUTHORIZED
                and self.oauth is not None
                and not refreshed
                and _error_code(response) == AUTH_ERROR_CODE
            ):
                refreshed = True
                self.logger.info("%s: access token rejected; refreshing it once", what)
                self.oauth.refresh_after_rejection(request)
                continue
            return response

    def _check_origin(self, request: requests.PreparedRequest, method: str) -> None:
        """Refuse, before it leaves, a request that would carry credentials to another host."""
        url = request.url or ""
        if self.api_origin is None or origin_key(url) == origin_key(self.api_origin):
            return
        raise ForeignHostError(method=method, url=url, api_origin=self.api_origin)

    def _observe(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        """Learn the rate-limit headers; refuse a redirect (see `send`)."""
        self.governor.observe(response.headers)
        if response.status_code not in HTTP_REDIRECTS:
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
    """Retry-After as seconds or as an HTTP date (SK-C-G: either may come)."""
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


class GetResponseClient:
    """Base URL, session and authenticator built from the connection settings."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        *,
        governor: RateGovernor = GOVERNOR,
        logger: logging.Logger | None = None,
        max_retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        """Build the session pair (API and OAuth token) around one governor.

        Secret and header settings are trimmed of surrounding whitespace (trimmed_settings);
        the client registers with the process's SecretLogFilter, which masks its secrets, raw
        and trimmed, in every log record.
        """
        self.logger = logger or LOGGER
        raw = config
        config = trimmed_settings(config)
        self.base_url = str(config.get("api_url") or RETAIL_API_URL).rstrip("/")
        self.domain: str | None = config.get("domain") or None
        self.governor = governor
        methods = auth_methods(config)
        self.auth_method = methods[0] if methods else "none"
        self.max_parallel_requests = max(
            1, min(MAX_IN_FLIGHT, int(config.get("max_parallel_requests") or MAX_IN_FLIGHT))
        )
        session_args: dict[str, t.Any] = {
            "governor": governor,
            "base_path": urlsplit(self.base_url).path,
            "domain": self.domain,
            "user_agent": config.get("user_agent") or None,
            "timeout": float(config.get("request_timeout") or 60),
            "max_parallel": self.max_parallel_requests,
            "max_retry_seconds": max_retry_seconds,
            "logger": self.logger,
            "api_origin": origin_of(self.base_url),
        }
        self.session = GetResponseSession(**session_args)
        # Token requests get their own session: same headers and governor, but no OAuth replay.
        token_session = GetResponseSession(**session_args)
        self.authenticator: APIAuthenticatorBase = build_authenticator(
            config,
            token_url=f"{self.base_url}/token",
            token_session=token_session,
            logger=self.logger,
        )
        self.session.auth = self.authenticator
        if isinstance(self.authenticator, GetResponseOAuthAuthenticator):
            self.session.oauth = self.authenticator
        values = (
            str(settings[name])
            for settings in (raw, config)
            for name in SECRET_SETTINGS
            if settings.get(name)
        )
        self._secrets = tuple(dict.fromkeys(values))
        self.session.secrets = token_session.secrets = self._secrets
        SECRET_LOG_FILTER.watch(self)
        SECRET_LOG_FILTER.install(self.logger, LOGGER, AUTH_LOGGER)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, t.Any],
        logger: logging.Logger | None = None,
        *,
        governor: RateGovernor = GOVERNOR,
    ) -> GetResponseClient:
        """Validate the connection settings (ConfigError names the one at fault), log warnings."""
        for warning in check_connection_settings(config):
            (logger or LOGGER).warning(warning)
        return cls(config, governor=governor, logger=logger)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential in play, including tokens obtained during the run."""
        extra = (
            self.authenticator.secrets
            if isinstance(self.authenticator, GetResponseOAuthAuthenticator)
            else ()
        )
        return (*self._secrets, *extra)

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as `/contacts`."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(  # noqa: PLR0913 - the documented request knobs, all keyword-only
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, t.Any] | None = None,
        json: t.Any = None,  # noqa: ANN401 - any JSON document
        retry_post: bool = False,
        retry_seconds: float | None = None,
    ) -> requests.Response:
        """Send one request (retried as the session's policy allows); raise on a final error.

        `retry_post=True` lets a POST be re-sent after a 5xx, a timeout or a lost answer: only
        for requests the caller knows are safe to apply twice.
        """
        prepared = self.session.prepare_request(
            requests.Request(method.upper(), self.url(path), params=params, json=json),
        )
        response = self.session.send(prepared, retry_post=retry_post, retry_seconds=retry_seconds)
        if not response.ok:
            raise GetResponseAPIError.from_response(
                response, self.secrets, base_path=self.session.base_path
            )
        return response

    def check_connection(self) -> str:
        """One cheap call (GET /accounts) and a plain-words verdict on URL, auth and domain."""
        host = urlsplit(self.base_url).netloc
        try:
            body = json_body(self.request("GET", "/accounts", retry_seconds=CHECK_RETRY_SECONDS))
        except requests.exceptions.RequestException as error:
            msg = f"Could not reach {self.base_url} ({type(error).__name__}): check `api_url`"
            if isinstance(error, requests.exceptions.SSLError):
                msg = f"TLS to {host} failed (certificate or proxy): check `api_url`"
            raise ConnectionCheckError(msg, setting="api_url") from None
        except GetResponseAPIError as error:
            raise diagnose(
                error, auth_method=self.auth_method, domain=self.domain, host=host
            ) from None
        return verdict(body, host=host, domain=self.domain, base_url=self.base_url)
