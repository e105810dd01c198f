"""Connection settings shared by the tap and the target: typed, with defaults, and validated."""

from __future__ import annotations

import ipaddress
import typing as t
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_getresponse.api.errors import ConfigError, mask_secrets
from tap_getresponse.api.limits import MAX_IN_FLIGHT

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

RETAIL_API_URL = "https://api.getresponse.com/v3"
#: GetResponse MAX API hosts (OpenAPI `servers`); their accounts need `X-Domain` on every request
#: (https://apidocs.getresponse.com/v3/case-study/smb-vs-mx).
MAX_HOSTS = frozenset({"api3.getresponse360.com", "api3.getresponse360.pl"})
RETAIL_HOSTS = frozenset({"api.getresponse.com"})
OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
AUTH_SETTINGS = ("api_key", "access_token", *OAUTH_SETTINGS)
SECRET_SETTINGS = ("api_key", "access_token", "client_secret", "refresh_token")
#: Settings that end up in a request header or body, where surrounding whitespace is never meant.
TRIMMED_SETTINGS = (*SECRET_SETTINGS, "client_id", "domain", "user_agent")


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """The connection settings of either plugin, read once from its config: trimmed and typed.

    The field defaults are the one place connection defaults are written: CONNECTION_SETTINGS,
    the JSON Schema both plugins declare, takes its defaults from `DEFAULT_SETTINGS`.
    Secrets are left out of `repr`.
    """

    api_url: str = RETAIL_API_URL
    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    oauth_token_file: str | None = None
    domain: str | None = None
    user_agent: str | None = None
    request_timeout: float = 60
    max_parallel_requests: int = MAX_IN_FLIGHT
    #: Secret settings as configured, before trimming: a library may quote either form.
    untrimmed_secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> ConnectionSettings:
        """Trim header and secret settings (ConfigError names a bad one); unset or empty: default.

        Values are not range-checked here: `check_connection_settings` does that for plugins.
        """
        clean = trimmed_settings(config)
        given = {
            name: _COERCE.get(name, _as_is)(clean[name])
            for name in _CONFIG_NAMES
            if clean.get(name)
        }
        untrimmed = tuple(str(config[name]) for name in SECRET_SETTINGS if config.get(name))
        return cls(**given, untrimmed_secrets=untrimmed)

    @property
    def base_url(self) -> str:
        """`api_url` without a trailing slash."""
        return self.api_url.rstrip("/")

    @property
    def auth_methods(self) -> list[str]:
        """The authentication methods these settings name (`api_key`, `access_token`, `oauth`)."""
        return auth_methods({name: getattr(self, name) for name in AUTH_SETTINGS})

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured credential, as configured and as trimmed (for redaction)."""
        trimmed = (getattr(self, name) for name in SECRET_SETTINGS)
        return tuple(dict.fromkeys((*self.untrimmed_secrets, *(str(v) for v in trimmed if v))))


def _as_is(value: t.Any) -> t.Any:  # noqa: ANN401 - a setting of any JSON type
    return value


def _parallel(value: t.Any) -> int:  # noqa: ANN401 - a validated number
    """Requests in flight for one client: within 1 and GetResponse's cap."""
    return max(1, min(MAX_IN_FLIGHT, int(value)))


#: Config keys read into ConnectionSettings, and how each one's value is typed.
_CONFIG_NAMES = tuple(f.name for f in fields(ConnectionSettings) if f.name != "untrimmed_secrets")
_COERCE: dict[str, Callable[[t.Any], t.Any]] = {
    "api_url": str,
    "oauth_token_file": str,
    "request_timeout": float,
    "max_parallel_requests": _parallel,
}
#: Every connection setting at its default.
DEFAULT_SETTINGS = ConnectionSettings()

CONNECTION_SETTINGS = th.PropertiesList(
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_SETTINGS.api_url,
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
        default=DEFAULT_SETTINGS.request_timeout,
        description="Seconds one answer may take in all (headers and body) before the request "
        "counts as timed out and is retried.",
    ),
    th.Property(
        "max_parallel_requests",
        th.IntegerType(minimum=1, maximum=MAX_IN_FLIGHT),
        default=DEFAULT_SETTINGS.max_parallel_requests,
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
    trimmed = trimmed_settings(config)
    _check_auth(trimmed)
    _check_numbers(trimmed)
    settings = ConnectionSettings.from_config(config)
    host = _check_api_url(settings.api_url)
    warnings: list[str] = []
    if settings.domain:
        _check_domain(settings.domain)
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
    if settings.oauth_token_file:
        _check_token_file(settings.oauth_token_file)
        if settings.auth_methods != ["oauth"]:
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
    if parts.username is not None or parts.password is not None:
        # Not echoed: it holds a password. requests would send it as Basic auth on every call.
        msg = "`api_url` must not hold a user name or password (`user:pass@`): set `api_key`."
        raise ConfigError(msg)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        msg = f"`api_url` has a port that is not a number from 0 to 65535: {api_url!r}."
        raise ConfigError(msg) from None
    host = parts.hostname or ""
    if parts.scheme not in {"https", "http"} or not host:
        msg = f"`api_url` must be an https URL like {RETAIL_API_URL}, got {api_url!r}."
        raise ConfigError(msg)
    if parts.scheme == "http" and not is_loopback(host):
        msg = f"`api_url` must use https (plain http only for loopback hosts), got {api_url!r}."
        raise ConfigError(msg)
    if parts.query or parts.fragment:  # paths are appended to it: `/v3?x=1/contacts` reads nothing
        msg = f"`api_url` must have no query string or fragment (`?`, `#`), got {api_url!r}."
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
