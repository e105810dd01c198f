"""GetResponseClient: base URL, session and authenticator built from the connection settings.

Requests go through a GetResponseSession (`session.py`), which owns the rate limits and the retry
policy; the client turns a final error answer into a GetResponseAPIError and runs the connection
check.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import requests

from tap_getresponse.api.auth import LOGGER as AUTH_LOGGER
from tap_getresponse.api.auth import GetResponseOAuthAuthenticator, build_authenticator
from tap_getresponse.api.check import diagnose, verdict
from tap_getresponse.api.errors import (
    ConnectionCheckError,
    GetResponseAPIError,
    HostUnreachableError,
    RequestFailedError,
    json_body,
    origin_of,
)
from tap_getresponse.api.governor import GOVERNOR, RateGovernor
from tap_getresponse.api.log_filter import SECRET_LOG_FILTER
from tap_getresponse.api.retries import DEFAULT_RETRY_SECONDS
from tap_getresponse.api.session import LOGGER, GetResponseSession, Reachability
from tap_getresponse.api.settings import ConnectionSettings, check_connection_settings

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

#: The connection check answers quickly rather than retrying an unreachable URL for minutes.
CHECK_RETRY_SECONDS = 10.0


class GetResponseClient:
    """Base URL, session and authenticator built from the connection settings."""

    def __init__(
        self,
        config: ConnectionSettings | Mapping[str, t.Any],
        *,
        governor: RateGovernor = GOVERNOR,
        logger: logging.Logger | None = None,
        max_retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        """Build the session pair (API and OAuth token) around one governor.

        A plain config mapping is read into ConnectionSettings (secret and header settings
        trimmed of surrounding whitespace). The client registers with the process's
        SecretLogFilter, which masks its secrets, raw and trimmed, in every log record.
        """
        settings = (
            config
            if isinstance(config, ConnectionSettings)
            else ConnectionSettings.from_config(config)
        )
        self.settings = settings
        self.logger = logger or LOGGER
        self.base_url = settings.base_url
        self.domain = settings.domain
        self.governor = governor
        methods = settings.auth_methods
        self.auth_method = methods[0] if methods else "none"
        self.max_parallel_requests = settings.max_parallel_requests
        # Both sessions give up on a host that never answers together (session.py).
        self._reach = Reachability()
        self.session = self._new_session(max_retry_seconds)
        # Token requests get their own session: same headers and governor, but no OAuth replay.
        token_session = self._new_session(max_retry_seconds)
        self.authenticator: APIAuthenticatorBase = build_authenticator(
            settings,
            token_url=f"{self.base_url}/token",
            token_session=token_session,
            logger=self.logger,
        )
        self.session.auth = self.authenticator
        if isinstance(self.authenticator, GetResponseOAuthAuthenticator):
            self.session.oauth = self.authenticator
        self._secrets = settings.secrets
        self.session.secrets = token_session.secrets = self._secrets
        SECRET_LOG_FILTER.watch(self)
        SECRET_LOG_FILTER.install(self.logger, LOGGER, AUTH_LOGGER)

    def _new_session(self, max_retry_seconds: float) -> GetResponseSession:
        return GetResponseSession(
            governor=self.governor,
            base_path=urlsplit(self.base_url).path,
            domain=self.domain,
            user_agent=self.settings.user_agent,
            timeout=float(self.settings.request_timeout),
            max_parallel=self.max_parallel_requests,
            max_retry_seconds=max_retry_seconds,
            logger=self.logger,
            api_origin=origin_of(self.base_url),
            reach=self._reach,
        )

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
        except HostUnreachableError as error:
            msg = error.message[:1].upper() + error.message[1:]
            raise ConnectionCheckError(msg, setting="api_url") from None
        except RequestFailedError as error:
            msg = f"Could not reach {self.base_url}: {error.message}"
            raise ConnectionCheckError(msg, setting="api_url") from None
        except GetResponseAPIError as error:
            raise diagnose(
                error, auth_method=self.auth_method, domain=self.domain, host=host
            ) from None
        return verdict(body, host=host, domain=self.domain, base_url=self.base_url)
