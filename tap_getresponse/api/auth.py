"""Authenticators for the three ways into GetResponse: API key, access token, OAuth refresh."""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
    BearerTokenAuthenticator,
    OAuthAuthenticator,
)
from typing_extensions import override

from tap_getresponse.api.errors import GetResponseAPIError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

LOGGER = logging.getLogger("getresponse.auth")
#: Refresh this long before the token's announced expiry, so no request carries a stale token.
REFRESH_MARGIN_SECONDS = 120


class GetResponseOAuthAuthenticator(OAuthAuthenticator):
    """OAuth 2.0 refresh grant at `<api_url>/token`, client in HTTP Basic auth (§1.4)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        session: requests.Session,
    ) -> None:
        """Token requests go through `session`, so they carry X-Domain and obey the governor."""
        super().__init__(
            auth_endpoint=token_url,
            client_id=client_id,
            client_secret=client_secret,
            default_expiration=3600,
        )
        self.refresh_token = refresh_token
        self._session = session

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
        return age < self.expires_in - REFRESH_MARGIN_SECONDS

    def expire(self) -> None:
        """Forget the access token, so the next request fetches a new one (after a 401/1014)."""
        self.access_token = None

    @override
    def update_access_token(self) -> None:
        LOGGER.info("Requesting a new OAuth access token")
        requested_at = dt.datetime.now(dt.UTC)
        response = self._session.post(
            self.auth_endpoint,
            data=self.oauth_request_body,
            auth=(self.client_id or "", self.client_secret or ""),
            timeout=60,
        )
        if not response.ok:
            error = GetResponseAPIError.from_response(response, self.secrets)
            msg = (
                "OAuth token refresh failed; check client_id, client_secret and refresh_token. "
                f"{error}"
            )
            raise GetResponseAPIError(
                http_status=error.http_status,
                code=error.code,
                message=msg,
                method="POST",
                path=error.path,
            )
        token = response.json()
        self.access_token = str(token["access_token"])
        expires_in = token.get("expires_in") or self._default_expiration
        self.expires_in = int(expires_in) if expires_in else None
        self.last_refreshed = requested_at
        rotated = token.get("refresh_token")
        if rotated and rotated != self.refresh_token:
            self.refresh_token = str(rotated)
            LOGGER.info("GetResponse rotated the OAuth refresh token; using the new one this run")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential this authenticator holds, for redaction."""
        return tuple(s for s in (self.access_token, self.refresh_token, self.client_secret) if s)


def build_authenticator(
    config: Mapping[str, t.Any],
    *,
    token_url: str,
    token_session: requests.Session,
) -> APIAuthenticatorBase:
    """The authenticator for the one auth method the (validated) config names."""
    if config.get("api_key"):
        return APIKeyAuthenticator(
            key="X-Auth-Token",
            value=f"api-key {config['api_key']}",
            location="header",
        )
    if config.get("access_token"):
        return BearerTokenAuthenticator(token=str(config["access_token"]))
    return GetResponseOAuthAuthenticator(
        token_url=token_url,
        client_id=str(config["client_id"]),
        client_secret=str(config["client_secret"]),
        refresh_token=str(config["refresh_token"]),
        session=token_session,
    )
