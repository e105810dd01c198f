"""Connection settings shared by the tap and the target, and their validation."""

from __future__ import annotations

import ipaddress
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_getresponse.api.errors import ConfigError, mask_secrets
from tap_getresponse.api.governor import MAX_IN_FLIGHT

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

RETAIL_API_URL = "https://api.getresponse.com/v3"
#: GetResponse MAX API hosts (reference §1.1); their accounts need `X-Domain` (§1.5).
MAX_HOSTS = frozenset({"api3.getresponse360.com", "api3.getresponse360.pl"})
RETAIL_HOSTS = frozenset({"api.getresponse.com"})
OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("api_key", "access_token", "client_secret", "refresh_token")
#: Settings that end up in a request header or body, where surrounding whitespace is never meant.
TRIMMED_SETTINGS = (*SECRET_SETTINGS, "client_id", "domain", "user_agent")

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
        description="OAuth 2.0 refresh token. When GetResponse rotates it, the new one is kept "
        "in `oauth_token_file` (if set) for the next runs.",
    ),
    th.Property(
        "oauth_token_file",
        th.StringType,
        description="Path of a JSON file (created with mode 0600) where a rotated OAuth refresh "
        "token is kept between runs and read in preference to `refresh_token`.",
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
    methods = [name for name in ("api_key", "access_token") if _is_set(config, name)]
    if any(_is_set(config, name) for name in OAUTH_SETTINGS):
        methods.append("oauth")
    return methods


def _is_set(config: Mapping[str, t.Any], name: str) -> bool:
    value = config.get(name)
    return bool(value.strip() if isinstance(value, str) else value)


def trimmed_settings(config: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """`config` with header and secret settings stripped of surrounding whitespace.

    Keys read from secret files usually end in a newline; sent as is, requests refuses the
    header and quotes it, key and all. A control character inside a value raises ConfigError
    naming the setting (never the value).
    """
    clean = dict(config)
    for name in TRIMMED_SETTINGS:
        value = config.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            msg = f"`{name}` must be a string, not {_json_type(value)}."
            raise ConfigError(msg)
        clean[name] = value.strip()
        if any(ord(char) < ord(" ") or ord(char) == 0x7F for char in clean[name]):  # noqa: PLR2004
            msg = (
                f"`{name}` has a line break or another control character inside it; set it "
                "again from the original (surrounding whitespace alone is trimmed)."
            )
            raise ConfigError(msg)
    return clean


def _json_type(value: object) -> str:
    """How a JSON config would call the type of `value` (never the value itself)."""
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a non-string")


def check_connection_settings(config: Mapping[str, t.Any]) -> list[str]:
    """Raise ConfigError naming the setting at fault; return warnings worth logging."""
    config = trimmed_settings(config)
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
    token_file = config.get("oauth_token_file")
    if token_file:
        _check_token_file(str(token_file))
        if auth_methods(config) != ["oauth"]:
            warnings.append(
                "`oauth_token_file` is set but OAuth refresh (`client_id`, `client_secret`, "
                "`refresh_token`) is not: the file is not used."
            )
    return warnings


def _check_token_file(token_file: str) -> None:
    path = Path(token_file).expanduser()
    if path.is_dir():
        msg = f"`oauth_token_file` must be the path of a file, but {token_file} is a directory."
        raise ConfigError(msg)


def schema_errors_without_secrets(
    schema_check: Callable[..., list[str]],
    config: Mapping[str, t.Any],
    *,
    raise_errors: bool,
) -> list[str]:
    """The SDK's JSON Schema check (`super()._validate_config`), quoting no secret setting.

    jsonschema quotes the offending value ("123 is not of type 'string'"); for a secret setting
    that is the secret. Its errors are rewritten to name the setting and the type only.
    """
    try:
        errors = schema_check(raise_errors=raise_errors)
    except ConfigValidationError as error:
        clean = [_secret_free(message, config) for message in error.errors]
        raise ConfigValidationError(str(error), errors=clean, schema=error.schema) from None
    return [_secret_free(message, config) for message in errors]


def _secret_free(message: str, config: Mapping[str, t.Any]) -> str:
    for name in SECRET_SETTINGS:
        if message.endswith(f"in config[{name!r}]"):
            return f"`{name}` must be a string, not {_json_type(config.get(name))}."
    # Any other error that quotes a value (the whole config, say) loses the secret ones.
    values = [config.get(name) for name in SECRET_SETTINGS if config.get(name) is not None]
    return mask_secrets(message, [form for value in values for form in (str(value), repr(value))])


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
