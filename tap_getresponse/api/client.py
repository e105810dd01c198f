"""GetResponseSession and GetResponseClient: the one HTTP path of both connectors.

Every request, the tap's pages and the target's batches alike, goes through the process-wide
RateGovernor and through one retry policy:
- 429 (code 1015): wait what the answer names (`Retry-After`, `context.timeToReset` or
  `X-RateLimit-Reset`, §5.3), then send again, however long that takes; not counted as a retry;
- 5xx, timeouts and dropped connections: exponential backoff with jitter within a bounded total
  time. A POST is only re-sent when the caller says re-sending it is harmless (`retry_post`):
  a POST that got a 5xx may already have been applied;
- 401 code 1014 with OAuth refresh configured: one token refresh, then the request again.
"""

from __future__ import annotations

import logging
import time
import typing as t
from urllib.parse import urlsplit

import backoff
import requests
from typing_extensions import override

from tap_getresponse.api.auth import GetResponseOAuthAuthenticator, build_authenticator
from tap_getresponse.api.errors import GetResponseAPIError, redact
from tap_getresponse.api.governor import GOVERNOR, RateGovernor, parse_seconds
from tap_getresponse.api.settings import (
    MAX_IN_FLIGHT,
    RETAIL_API_URL,
    SECRET_SETTINGS,
)

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

LOGGER = logging.getLogger("getresponse.http")
HTTP_TOO_MANY_REQUESTS = 429
HTTP_UNAUTHORIZED = 401
HTTP_SERVER_ERROR = 500
AUTH_ERROR_CODE = 1014
#: When a 429 names no wait at all (§5.3, "Retry-After ... default 5 s fallback").
DEFAULT_THROTTLE_SECONDS = 5.0
TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class GetResponseSession(requests.Session):
    """A requests session that sends through the governor and retries what is safe to retry."""

    def __init__(  # noqa: PLR0913 - each is a distinct, documented knob
        self,
        *,
        governor: RateGovernor,
        base_path: str,
        domain: str | None,
        user_agent: str,
        timeout: float,
        max_retry_seconds: float = 300.0,
    ) -> None:
        """Headers every request needs; `base_path` is stripped to name endpoints for limits."""
        super().__init__()
        self.governor = governor
        self.base_path = base_path.rstrip("/")
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.oauth: GetResponseOAuthAuthenticator | None = None
        self.secrets: tuple[str, ...] = ()
        self.headers["User-Agent"] = user_agent
        self.headers["Accept"] = "application/json"
        if domain:
            # §1.5: MAX accounts need X-Domain on every request, token requests included.
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
        **kwargs: t.Any,
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        method = (request.method or "GET").upper()
        path = self.endpoint(request)
        retriable = method == "GET" or retry_post
        deadline = time.monotonic() + self.max_retry_seconds
        waits = backoff.expo(base=2, factor=0.5, max_value=30)
        next(waits)  # the generator's first value is a priming None
        refreshed = False
        while True:
            try:
                with self.governor.slot(method, path):
                    response = super().send(request, **kwargs)
            except TRANSIENT_ERRORS as error:
                safe = retriable or isinstance(error, requests.exceptions.ConnectTimeout)
                if not safe or time.monotonic() >= deadline:
                    raise
                self._back_off(waits, f"{method} {path}: {type(error).__name__}")
                continue
            self.governor.observe(response.headers)
            status = response.status_code
            if status == HTTP_TOO_MANY_REQUESTS:
                self.governor.pause(throttle_seconds(response), f"{method} {path}")
                continue
            if status >= HTTP_SERVER_ERROR and retriable and time.monotonic() < deadline:
                self._back_off(waits, f"{method} {path}: HTTP {status}")
                continue
            if (
                status == HTTP_UNAUTHORIZED
                and self.oauth is not None
                and not refreshed
                and _error_code(response) == AUTH_ERROR_CODE
            ):
                refreshed = True
                self.oauth.expire()
                request = self.oauth(request)
                continue
            return response

    def _back_off(self, waits: t.Iterator[float], what: str) -> None:
        seconds = backoff.full_jitter(next(waits))
        LOGGER.info("Retrying %s in %.1f s", redact(what, self.secrets), seconds)
        time.sleep(seconds)


def throttle_seconds(response: requests.Response) -> float:
    """How long a 429 asks us to wait: Retry-After, context.timeToReset or X-RateLimit-Reset."""
    try:
        context = response.json().get("context") or {}
    except (ValueError, AttributeError):
        context = {}
    for value in (
        response.headers.get("Retry-After"),
        context.get("timeToReset") if isinstance(context, dict) else None,
        response.headers.get("X-RateLimit-Reset"),
    ):
        seconds = parse_seconds(value)
        if seconds is not None:
            return max(seconds, 0.5)
    return DEFAULT_THROTTLE_SECONDS


def _error_code(response: requests.Response) -> int | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


class GetResponseClient:
    """Base URL, session and authenticator built from the connection settings."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        *,
        governor: RateGovernor = GOVERNOR,
        logger: logging.Logger | None = None,
    ) -> None:
        """Build the session pair (API and OAuth token) around one governor."""
        self.logger = logger or LOGGER
        self.base_url = str(config.get("api_url") or RETAIL_API_URL).rstrip("/")
        self.domain = config.get("domain") or None
        self.governor = governor
        user_agent = str(config.get("user_agent") or "tap-getresponse")
        timeout = float(config.get("request_timeout") or 60)
        parallel = int(config.get("max_parallel_requests") or MAX_IN_FLIGHT)
        self.max_parallel_requests = max(1, min(MAX_IN_FLIGHT, parallel))
        base_path = urlsplit(self.base_url).path
        session_args = {
            "governor": governor,
            "base_path": base_path,
            "domain": self.domain,
            "user_agent": user_agent,
            "timeout": timeout,
        }
        self.session = GetResponseSession(**session_args)  # type: ignore[arg-type]
        token_session = GetResponseSession(**session_args)  # type: ignore[arg-type]
        self.authenticator: APIAuthenticatorBase = build_authenticator(
            config,
            token_url=f"{self.base_url}/token",
            token_session=token_session,
        )
        self.session.auth = self.authenticator
        if isinstance(self.authenticator, GetResponseOAuthAuthenticator):
            self.session.oauth = self.authenticator
        secrets = tuple(str(config[name]) for name in SECRET_SETTINGS if config.get(name))
        self.session.secrets = token_session.secrets = secrets
        self._secrets = secrets

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, t.Any],
        logger: logging.Logger | None = None,
    ) -> GetResponseClient:
        """A client for validated connection settings."""
        return cls(config, logger=logger)

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

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, t.Any] | None = None,
        json: t.Any = None,  # noqa: ANN401 - any JSON document
        retry_post: bool = False,
    ) -> requests.Response:
        """Send one request (retried as the session's policy allows); raise on a final error."""
        prepared = self.session.prepare_request(
            requests.Request(method.upper(), self.url(path), params=params, json=json),
        )
        response = self.session.send(prepared, retry_post=retry_post)
        if not response.ok:
            raise GetResponseAPIError.from_response(response, self.secrets)
        return response

    def check_connection(self) -> str:
        """One cheap call (GET /accounts) and a plain-words verdict on URL, auth and domain."""
        where = f"{self.base_url}" + (f" with X-Domain {self.domain}" if self.domain else "")
        try:
            account = self.request("GET", "/accounts").json()
        except requests.exceptions.RequestException as error:
            msg = f"Could not reach {where}: {type(error).__name__}. Check `api_url`."
            raise ConnectionError(msg) from None
        except GetResponseAPIError as error:
            raise GetResponseAPIError(
                http_status=error.http_status,
                code=error.code,
                message=f"{_explain(error, self.domain)} ({error.message})",
                method=error.method,
                path=error.path,
            ) from None
        account_id = account.get("accountId", "?") if isinstance(account, dict) else "?"
        return f"Connection OK: authenticated to GetResponse account {account_id} at {where}."


def _explain(error: GetResponseAPIError, domain: str | None) -> str:
    """Which setting a failed connection check points at."""
    if error.http_status == HTTP_UNAUTHORIZED or error.code == AUTH_ERROR_CODE:
        hint = "GetResponse rejected the credentials: check `api_key` / `access_token` / OAuth"
        if domain:
            return f"{hint}, and that `domain` is this MAX account's domain"
        return f"{hint} (GetResponse MAX accounts also need `domain`)"
    if error.http_status == 403:  # noqa: PLR2004
        return "GetResponse refused access: check `domain` and the account's permissions"
    if error.http_status == 404:  # noqa: PLR2004
        return "No GetResponse API v3 at this URL: check `api_url` (it should end in /v3)"
    return "GetResponse answered with an error"
