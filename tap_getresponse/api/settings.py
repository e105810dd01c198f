"""Connection settings shared by the tap and the target, and their validation."""

from __future__ import annotations

import ipaddress
import typing as t
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_getresponse.api.errors import ConfigError
from tap_getresponse.api.governor import MAX_IN_FLIGHT

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

RETAIL_API_URL = "https://api.getresponse.com/v3"
#: GetResponse MAX API hosts (reference §1.1); their accounts need `X-Domain` (§1.5).
MAX_HOSTS = frozenset({"api3.getresponse360.com", "api3.getresponse360.pl"})
RETAIL_HOSTS = frozenset({"api.getresponse.com"})
OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("api_key", "access_token", "client_secret", "refresh_token")

CONNECTION_SETTINGS = th.PropertiesList(
    th.Property(
        "api_url",
        th.StringType,
        default=RETAIL_API_URL,
        description=(
            "Base URL of the API v3: https://api.getresponse.com/v3 (retail), "
            "https://api3.getresponse360.com/v3 or https://api3.getresponse360.pl/v3 (MAX)."
        ),
    ),
    th.Property(
        "api_key",
        th.StringType,
        secret=True,
        description="API key, sent as `X-Auth-Token: api-key <key>`.",
    ),
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        description="OAuth 2.0 access token, sent as `Authorization: Bearer <token>`.",
    ),
    th.Property(
        "client_id",
        th.StringType,
        description="OAuth 2.0 client id; with `client_secret` and `refresh_token` the "
        "connector obtains and refreshes access tokens itself.",
    ),
    th.Property("client_secret", th.StringType, secret=True, description="OAuth 2.0 secret."),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description="OAuth 2.0 refresh token (a rotated one is kept for the rest of the run).",
    ),
    th.Property(
        "domain",
        th.StringType,
        description="GetResponse MAX only: the account's domain, sent as `X-Domain` on every "
        "request (bare domain: no scheme, path or `www.`).",
    ),
    th.Property("user_agent", th.StringType, description="User-Agent header for every request."),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1),
        default=60,
        description="Seconds to wait for one response before retrying it.",
    ),
    th.Property(
        "max_parallel_requests",
        th.IntegerType(minimum=1, maximum=MAX_IN_FLIGHT),
        default=MAX_IN_FLIGHT,
        description="Requests in flight at once; GetResponse allows 10 per user. Lower it when "
        "other integrations share the account.",
    ),
)


def auth_methods(config: Mapping[str, t.Any]) -> list[str]:
    """The authentication methods the config names (`api_key`, `access_token`, `oauth`)."""
    methods = [name for name in ("api_key", "access_token") if config.get(name)]
    if any(config.get(name) for name in OAUTH_SETTINGS):
        methods.append("oauth")
    return methods


def check_connection_settings(config: Mapping[str, t.Any]) -> list[str]:
    """Raise ConfigError naming the setting at fault; return warnings worth logging."""
    _check_auth(config)
    _check_numbers(config)
    host = _check_api_url(str(config.get("api_url") or RETAIL_API_URL))
    domain = config.get("domain")
    warnings: list[str] = []
    if domain:
        _check_domain(str(domain))
        if host in RETAIL_HOSTS:
            warnings.append(
                "`domain` is set but `api_url` is the retail API; X-Domain is only for "
                "GetResponse MAX accounts (api3.getresponse360.com or .pl).",
            )
    elif host in MAX_HOSTS:
        warnings.append(
            f"`api_url` is a GetResponse MAX host ({host}) but `domain` is not set; MAX accounts "
            "need it for the X-Domain header.",
        )
    return warnings


def plugin_config_errors(
    config: Mapping[str, t.Any],
    logger: logging.Logger,
    *,
    raise_errors: bool,
) -> list[str]:
    """The connection part of a plugin's `_validate_config`: log warnings, one-line errors."""
    try:
        for warning in check_connection_settings(config):
            logger.warning(warning)
    except ConfigError as error:
        if raise_errors:
            # The SDK's CLI prints each error as one log line and exits 1, without a traceback.
            raise ConfigValidationError(str(error), errors=[str(error)]) from None
        return [str(error)]
    return []


def _check_auth(config: Mapping[str, t.Any]) -> None:
    methods = auth_methods(config)
    if not methods:
        msg = (
            "No authentication configured: set `api_key`, or `access_token`, or `client_id` + "
            "`client_secret` + `refresh_token`."
        )
        raise ConfigError(msg)
    if len(methods) > 1:
        named = " and ".join(f"`{m}`" if m != "oauth" else "OAuth settings" for m in methods)
        msg = f"Set exactly one authentication method, not {named}."
        raise ConfigError(msg)
    if methods == ["oauth"]:
        missing = [name for name in OAUTH_SETTINGS if not config.get(name)]
        if missing:
            msg = f"OAuth refresh needs `{missing[0]}` too (set client_id, client_secret and "
            msg += "refresh_token together)."
            raise ConfigError(msg)


def _check_numbers(config: Mapping[str, t.Any]) -> None:
    parallel = config.get("max_parallel_requests")
    if parallel is not None and not (isinstance(parallel, int) and 1 <= parallel <= MAX_IN_FLIGHT):
        msg = (
            f"`max_parallel_requests` must be 1 to {MAX_IN_FLIGHT} (GetResponse serves at most "
            f"{MAX_IN_FLIGHT} requests at once per user), got {parallel!r}."
        )
        raise ConfigError(msg)
    timeout = config.get("request_timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        msg = f"`request_timeout` must be a positive number of seconds, got {timeout!r}."
        raise ConfigError(msg)


def _check_api_url(api_url: str) -> str:
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    if parts.scheme not in {"https", "http"} or not host:
        msg = f"`api_url` must be an https URL like {RETAIL_API_URL}, got {api_url!r}."
        raise ConfigError(msg)
    if parts.scheme == "http" and not is_loopback(host):
        msg = f"`api_url` must use https (plain http only for loopback hosts), got {api_url!r}."
        raise ConfigError(msg)
    return host


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_domain(domain: str) -> None:
    problem = None
    if "://" in domain:
        problem = "a scheme"
    elif "/" in domain:
        problem = "a path"
    elif domain.lower().startswith("www."):
        problem = "a `www.` prefix"
    elif "." not in domain or any(c.isspace() for c in domain):
        problem = "no dotted host name"
    if problem:
        msg = f"`domain` must be a bare domain such as example.com, but {domain!r} has {problem}."
        raise ConfigError(msg)
