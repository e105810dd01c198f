"""The connection check's words: which setting a failed GET /accounts points at."""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_getresponse.api.errors import (
    AUTH_ERROR_CODE,
    ConnectionCheckError,
    GetResponseAPIError,
    RedirectRefusedError,
)
from tap_getresponse.api.settings import MAX_HOSTS

_CREDENTIAL_NAMES = {
    "api_key": "the API key (`api_key`)",
    "access_token": "the access token (`access_token`)",
    "oauth": "the OAuth access token obtained with `client_id`/`client_secret`/`refresh_token`",
}


def verdict(body: t.Any, *, host: str, domain: str | None, base_url: str) -> str:  # noqa: ANN401
    """`Connected to GetResponse as ***@<domain> (account <id>) via <host>[, domain X]`.

    The account's address is masked to its domain: the verdict lands in logs and CI output.
    """
    if not isinstance(body, dict) or "accountId" not in body:
        msg = f"{base_url}/accounts answered, but not like the GetResponse API v3: check `api_url`"
        raise ConnectionCheckError(msg, setting="api_url")
    email = mask_email(str(body["email"])) if body.get("email") else "an account without e-mail"
    via = f"{host}, domain {domain}" if domain else host
    return f"Connected to GetResponse as {email} (account {body['accountId']}) via {via}"


def mask_email(email: str) -> str:
    """`***@example.com`: enough to recognise the account, not enough to identify anyone."""
    return f"***@{email.rpartition('@')[2]}" if "@" in email else "***"


def diagnose(
    error: GetResponseAPIError,
    *,
    auth_method: str,
    domain: str | None,
    host: str,
) -> ConnectionCheckError:
    """A plain-words ConnectionCheckError for an API error met by the connection check."""
    cause = str(error)
    if isinstance(error, RedirectRefusedError):
        return _url_failure(error, host, cause)
    if error.path.endswith("/token"):
        return _token_failure(error, cause)
    if (
        error.http_status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
        or error.code == AUTH_ERROR_CODE
    ):
        if error.mentions("x-domain"):
            return _domain_failure(domain, cause)
        if error.mentions("expired"):
            return _expired_token(auth_method, cause)
        return _rejected_credentials(auth_method, domain, host, error.http_status, cause)
    return _url_failure(error, host, cause)


def _url_failure(error: GetResponseAPIError, host: str, cause: str) -> ConnectionCheckError:
    if isinstance(error, RedirectRefusedError):
        msg = f"{host} redirects elsewhere, which the GetResponse API does not: check `api_url`"
    elif error.http_status == HTTPStatus.NOT_FOUND:
        msg = f"No GetResponse API v3 at {host}: check `api_url` (it ends in /v3)"
    else:
        msg = "GetResponse answered the connection check with an error"
    return ConnectionCheckError(msg, setting="api_url", cause=cause)


def _token_failure(error: GetResponseAPIError, cause: str) -> ConnectionCheckError:
    if error.mentions("x-domain"):
        setting = "domain"
    elif error.http_status == HTTPStatus.UNAUTHORIZED:
        setting = "client_secret"
    else:
        setting = "refresh_token"
    return ConnectionCheckError("Could not get an OAuth access token", setting=setting, cause=cause)


def _domain_failure(domain: str | None, cause: str) -> ConnectionCheckError:
    if domain:
        msg = (
            f"GetResponse did not accept X-Domain {domain}: check `domain` (the GetResponse MAX "
            "account's own domain, without scheme or www.)"
        )
    else:
        msg = "GetResponse expects X-Domain: this is a GetResponse MAX account, set `domain`"
    return ConnectionCheckError(msg, setting="domain", cause=cause)


def _expired_token(auth_method: str, cause: str) -> ConnectionCheckError:
    if auth_method == "access_token":
        msg = (
            "The `access_token` has expired and cannot be refreshed: set `client_id`, "
            "`client_secret` and `refresh_token` instead (or a fresh `access_token`)"
        )
        return ConnectionCheckError(msg, setting="access_token", cause=cause)
    msg = "GetResponse still calls the freshly refreshed OAuth access token expired"
    return ConnectionCheckError(msg, setting="refresh_token", cause=cause)


def _rejected_credentials(
    auth_method: str,
    domain: str | None,
    host: str,
    status: int,
    cause: str,
) -> ConnectionCheckError:
    what = _CREDENTIAL_NAMES.get(auth_method, "the credentials")
    verb = "refused access with" if status == HTTPStatus.FORBIDDEN else "rejected"
    msg = f"GetResponse {verb} {what}: check that it is current and belongs to this account"
    setting = {"api_key": "api_key", "access_token": "access_token"}.get(
        auth_method, "refresh_token"
    )
    if domain:
        msg += f", and that `domain` {domain} is this account's domain"
    elif host.split(":", maxsplit=1)[0] in MAX_HOSTS:
        msg += "; GetResponse MAX accounts also need `domain`"
    else:
        msg += " (a GetResponse MAX account needs its MAX `api_url` and `domain`)"
    return ConnectionCheckError(msg, setting=setting, cause=cause)
