"""Authenticators for the three ways into GetResponse: API key, access token, OAuth refresh."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import typing as t
from http import HTTPStatus

from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
    BearerTokenAuthenticator,
    OAuthAuthenticator,
)
from typing_extensions import override

from tap_getresponse.api.errors import ConfigError, GetResponseAPIError, json_body
from tap_getresponse.api.token_file import RefreshTokenFile

if t.TYPE_CHECKING:
    import requests

    from tap_getresponse.api.settings import ConnectionSettings

LOGGER = logging.getLogger("getresponse.auth")
#: Refresh this long before the token's announced expiry, so no request carries a stale token.
REFRESH_MARGIN_SECONDS = 120
#: Access tokens live 3600 to 86400 s (`expires_in` in the examples of
#: https://apidocs.getresponse.com/v3/oauth2); when the answer names none, assume the shorter.
DEFAULT_TOKEN_SECONDS = 3600
TOKEN_TIMEOUT_SECONDS = 60
#: Token endpoint answers that refuse the credentials themselves: asking again cannot help.
CREDENTIALS_REFUSED = frozenset(
    {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
)


class GetResponseOAuthAuthenticator(OAuthAuthenticator):
    """OAuth 2.0 refresh grant at `<api_url>/token`, client in HTTP Basic auth.

    The "Refresh Token flow" of https://apidocs.getresponse.com/v3/oauth2.

    Thread-safe: one refresh at a time, and a 401 seen by several threads at once leads to one
    refresh only (a rotated refresh token would not survive a second, concurrent one).

    A refusal of the credentials (400, 401 or 403 from the token endpoint) is raised, never
    logged here: the plugin's one error line is the whole story. It is kept, and raised again by
    every later request without asking the endpoint again, since the same credentials get the
    same answer.
    """

    def __init__(  # noqa: PLR0913 - the OAuth app, its token and where to ask
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        session: requests.Session,
        token_file: RefreshTokenFile | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        """Token requests go through `session`, so they carry X-Domain and obey the governor.

        With `token_file`, a refresh token kept there by an earlier run replaces `refresh_token`,
        and a rotated one is saved there.
        """
        super().__init__(
            auth_endpoint=token_url,
            client_id=client_id,
            client_secret=client_secret,
            default_expiration=DEFAULT_TOKEN_SECONDS,
        )
        self.logger = logger or LOGGER
        self.token_file = token_file
        self.refresh_token = token_file.refresh_token() if token_file else refresh_token
        self._session = session
        self._refreshing = threading.RLock()
        self._refused: GetResponseAPIError | None = None

    @override
    @property
    def oauth_request_body(self) -> dict[str, t.Any]:
        return {"grant_type": "refresh_token", "refresh_token": self.refresh_token}

    @override
    def is_token_valid(self) -> bool:
        if self.access_token is None or self.last_refreshed is None:
            return False
        if not self.expires_in:
            return True
        age = (dt.datetime.now(dt.UTC) - self.last_refreshed).total_seconds()
        return age < self.expires_in - min(REFRESH_MARGIN_SECONDS, self.expires_in / 2)

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._refreshing:
            if not self.is_token_valid():
                self.update_access_token()
            self.auth_headers["Authorization"] = f"Bearer {self.access_token}"
            request.headers["Authorization"] = self.auth_headers["Authorization"]
        return request

    def refresh_after_rejection(self, request: requests.PreparedRequest) -> None:
        """After a 401/1014 "expired": refresh, unless another thread already replaced the token."""
        with self._refreshing:
            if request.headers.get("Authorization") == f"Bearer {self.access_token}":
                self.access_token = None
            self.authenticate_request(request)

    @override
    def update_access_token(self) -> None:
        if self._refused is not None:
            raise self._refused.copied_as(GetResponseAPIError)
        self.logger.info("Requesting a new GetResponse OAuth access token")
        requested_at = dt.datetime.now(dt.UTC)
        response = self._session.post(
            self.auth_endpoint,
            data=self.oauth_request_body,
            auth=(self.client_id or "", self.client_secret or ""),
            timeout=TOKEN_TIMEOUT_SECONDS,
        )
        if not response.ok:
            # No handle_error: the SDK's logs the raw body, and any log line here would be a
            # second ERROR line next to the plugin's own for the error raised.
            error = token_refresh_error(GetResponseAPIError.from_response(response, self.secrets))
            if response.status_code in CREDENTIALS_REFUSED:
                self._refused = error
            raise error
        token = json_body(response)
        if not isinstance(token, dict) or not token.get("access_token"):
            msg = "no access_token in the answer of the token endpoint; check `api_url`"
            raise GetResponseAPIError(
                http_status=response.status_code,
                code=None,
                message=f"OAuth token refresh failed: {msg}",
                method="POST",
                path="/token",
            )
        self.access_token = str(token["access_token"])
        expires_in = token.get("expires_in") or self._default_expiration
        self.expires_in = int(expires_in) if expires_in else None
        self.last_refreshed = requested_at
        rotated = token.get("refresh_token")
        if rotated and rotated != self.refresh_token:
            # Rotation is not documented; when it happens, the old token may stop working.
            self.refresh_token = str(rotated)
            self._keep_rotated(self.refresh_token)

    def _keep_rotated(self, refresh_token: str) -> None:
        """Save a rotated refresh token for the next runs, or say that it will be lost."""
        if self.token_file is None:
            self.logger.warning(
                "GetResponse issued a new OAuth refresh token; it is used for the rest of this "
                "run only. Set `oauth_token_file` so that the next runs can use it too.",
            )
            return
        try:
            self.token_file.save(refresh_token)
        except OSError as error:
            self.logger.error(  # noqa: TRY400 - the reason is the whole story
                "GetResponse issued a new OAuth refresh token, but it could not be kept in %s "
                "(%s); the next run may fail with invalid_grant until `refresh_token` is renewed",
                self.token_file.path,
                error.strerror or type(error).__name__,
            )
            return
        self.logger.info(
            "GetResponse issued a new OAuth refresh token; kept in %s for the next runs",
            self.token_file.path,
        )

    @override
    def handle_error(self, *, content: str, status_code: int | None) -> None:
        """Log nothing: the refusal is raised as a GetResponseAPIError (`update_access_token`).

        The SDK's version logs the raw body, which may echo a token (`context.sentToken`,
        https://apidocs.getresponse.com/v3/oauth2), as an ERROR line of its own.
        """

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential this authenticator holds, for redaction."""
        values = (self.access_token, self.refresh_token, self.client_secret)
        return tuple(value for value in values if value)


def token_refresh_error(error: GetResponseAPIError) -> GetResponseAPIError:
    """The token endpoint's refusal, naming the settings to check."""
    if error.mentions("x-domain"):
        hint = "check `domain` (MAX token requests need X-Domain)"
    elif error.http_status == HTTPStatus.UNAUTHORIZED:  # the Basic client credentials
        hint = "check `client_id` and `client_secret`"
    elif error.http_status == HTTPStatus.NOT_FOUND:
        hint = "no token endpoint there: check `api_url`"
    else:
        hint = "the `refresh_token` is invalid, expired or already used"
    return GetResponseAPIError(
        http_status=error.http_status,
        code=error.code,
        message=f"OAuth token refresh failed ({hint}): {error.message}",
        method="POST",
        path="/token",
        context=error.context,
    )


def build_authenticator(
    settings: ConnectionSettings,
    *,
    token_url: str,
    token_session: requests.Session,
    logger: logging.Logger | None = None,
) -> APIAuthenticatorBase:
    """The authenticator for the one auth method the (validated) settings name."""
    if settings.api_key:
        return APIKeyAuthenticator(
            key="X-Auth-Token",
            # The `api-key ` prefix is required: https://apidocs.getresponse.com/v3/authentication
            value=f"api-key {settings.api_key}",
            location="header",
        )
    if settings.access_token:
        return BearerTokenAuthenticator(token=settings.access_token)
    client_id, client_secret = settings.client_id, settings.client_secret
    refresh_token = settings.refresh_token
    if not (client_id and client_secret and refresh_token):
        msg = (
            "No complete authentication configured: set `api_key`, or `access_token`, or "
            "`client_id` + `client_secret` + `refresh_token`."
        )
        raise ConfigError(msg)
    token_file = None
    if settings.oauth_token_file:
        token_file = RefreshTokenFile(
            settings.oauth_token_file,
            client_id=client_id,
            configured=refresh_token,
            logger=logger,
        )
    return GetResponseOAuthAuthenticator(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
        session=token_session,
        token_file=token_file,
        logger=logger,
    )
