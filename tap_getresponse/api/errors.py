"""Errors the HTTP layer raises, built so that no secret ever reaches a message or a log."""

from __future__ import annotations

import functools
import json
import re
import typing as t
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Context keys whose values are credentials, compared without case, `_` or `-` (an expired token
#: comes back in `context.sentToken`: https://apidocs.getresponse.com/v3/oauth2, "Refresh Token").
SECRET_KEYS = frozenset(
    {
        "senttoken",
        "token",
        "accesstoken",
        "refreshtoken",
        "apikey",
        "clientsecret",
        "password",
        "authorization",
        "xauthtoken",
    },
)
#: Headers that carry credentials (https://apidocs.getresponse.com/v3/authentication).
SECRET_HEADERS = frozenset({"authorization", "x-auth-token"})
REDACTED = "***"
#: Shorter strings are not treated as secrets: replacing them would mangle ordinary words.
_MIN_SECRET_LENGTH = 4
#: This many consecutive characters of a secret count as the secret: an echo that truncates or
#: quotes part of a key still gives that part away.
SECRET_RUN = 8
#: Credentials recognisable by their scheme even when their value is not known in advance.
_CREDENTIAL = re.compile(r"(?i)\b(api-key|bearer|basic)\s+[^\s,;\"'}]+")
#: GetResponse's error code for a failed authentication: missing or unknown credentials, or an
#: expired OAuth access token (https://apidocs.getresponse.com/v3/errors/1014).
AUTH_ERROR_CODE = 1014
#: 4xx answers about every request of a run, not the one sent: the credentials (401), a proxy's
#: (407), a rate limit still met after every wait (429). Any other 4xx refuses one request.
RUN_WIDE_STATUSES = frozenset(
    {
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.PROXY_AUTHENTICATION_REQUIRED,
        HTTPStatus.TOO_MANY_REQUESTS,
    }
)
#: The local part of an e-mail address in free text (an error echoing a value it refused).
_EMAIL_IN_TEXT = re.compile(r"[^\s@\"'<>(),;:=\[\]{}]+@(?=[^\s@]+\.[^\s@]+)")
#: The same in a URL's query (`query[email]=jane%40example.org`).
_EMAIL_IN_URL = re.compile(r"[^\s@&=?/\"'<>(),;:\[\]{}]+%40(?=[^\s&]+\.)", re.IGNORECASE)


_Error = t.TypeVar("_Error", bound="GetResponseAPIError")


class ConfigError(ValueError):
    """A setting is missing, contradictory or malformed; the message names the setting."""


class GetResponseAPIError(Exception):
    """A final (not retried) error answer from GetResponse, read from its body (`ErrorResponse`)."""

    def __init__(  # noqa: PLR0913 - the fields of GetResponse's error body
        self,
        *,
        http_status: int,
        code: int | None,
        message: str,
        method: str,
        path: str,
        context: Mapping[str, t.Any] | None = None,
    ) -> None:
        """Keep the parts of the error body that help a user act on it."""
        self.http_status = http_status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.context: dict[str, t.Any] = dict(context or {})
        super().__init__(str(self))

    @classmethod
    def from_response(
        cls,
        response: requests.Response,
        secrets: Iterable[str] = (),
        *,
        base_path: str = "",
    ) -> GetResponseAPIError:
        """Read `httpStatus`, `code`, `message` and `context`; tolerate bodies that are not JSON.

        A body that is not GetResponse's error resource (a proxy's HTML page, say) is never
        quoted: only the HTTP reason phrase is kept, since such pages can echo request headers.
        """
        body = json_body(response)
        if not isinstance(body, dict) or "message" not in body:
            body = {"message": f"{response.reason or 'error'} (no GetResponse error body)"}
        context = body.get("context")
        secret_values = tuple(secrets)
        path = urlsplit(response.url or "").path
        if base_path and path.startswith(base_path.rstrip("/") + "/"):
            path = path[len(base_path.rstrip("/")) :]
        request = response.request
        return cls(
            http_status=_int_or_none(body.get("httpStatus")) or response.status_code,
            code=_int_or_none(body.get("code")),
            message=redact(str(body.get("message") or ""), secret_values),
            method=(request.method if request is not None else None) or "GET",
            path=path,
            context=redact_context(context, secret_values) if isinstance(context, dict) else None,
        )

    def mentions(self, word: str) -> bool:
        """Whether the message or context names `word` (case-insensitive)."""
        text = " ".join([self.message, *(f"{k}={v}" for k, v in self.context.items())])
        return word.lower() in text.lower()

    def __str__(self) -> str:
        """One line: status, code, request and GetResponse's own message."""
        code = f" (code {self.code})" if self.code is not None else ""
        context = ", ".join(f"{key}={value}" for key, value in self.context.items())
        details = f" [{context}]" if context else ""
        line = (
            f"GetResponse API {self.http_status}{code} on {self.method} {self.path}: "
            f"{self.message}{details}"
        )
        return mask_emails(" ".join(line.split()))

    def copied_as(self, kind: type[_Error]) -> _Error:
        """A new `kind` error with this one's status, code, message, request and context.

        New, not this one: a kept error raised again, or in several threads, is not shared.
        """
        return kind(
            http_status=self.http_status,
            code=self.code,
            message=self.message,
            method=self.method,
            path=self.path,
            context=self.context,
        )


class RequestRefusedError(GetResponseAPIError):
    """GetResponse refused what one request asked for: a 4xx about that request alone.

    The official OpenAPI answers 400 "Request validation error" (`ErrorResponse` code 1000,
    "more details should be in context section") on every operation: a parameter or value the
    API will not take, which says nothing of the account or the other requests. So the stream
    that sent it stops and the run goes on; 401, 407 and 429 (`RUN_WIDE_STATUSES`) still end it.
    """

    @classmethod
    def of(cls, error: GetResponseAPIError, method: str, path: str) -> RequestRefusedError | None:
        """`error` as a refusal of `method path`, or None when it is more than that.

        None for a run-wide status, a 5xx left after the retries, an error of our own making
        (redirect, network) and an error of another request made on the way (an OAuth token
        refresh answers for POST /token): those end the run as they did.
        """
        if (
            type(error) is not GetResponseAPIError
            or not HTTPStatus.BAD_REQUEST <= error.http_status < HTTPStatus.INTERNAL_SERVER_ERROR
            or error.http_status in RUN_WIDE_STATUSES
            or (error.method, error.path) != (method, path)
        ):
            return None
        return error.copied_as(cls)


class RedirectRefusedError(GetResponseAPIError):
    """The API answered with a redirect, which is never followed: credentials stay with the host.

    `requests` would follow it and drop `Authorization` on another host, but forward the
    `X-Auth-Token` and `X-Domain` headers, and a POST to /token would be sent again, secret and
    all. The GetResponse API does not redirect; a redirect means `api_url` is not the API.
    """

    def __init__(self, *, http_status: int, method: str, path: str, location: str | None) -> None:
        """`location` is the absolute redirect target; only its scheme, host and port are named."""
        self.location_origin = origin_of(location) if location else None
        where = f"to {self.location_origin}" if self.location_origin else "without a Location"
        super().__init__(
            http_status=http_status,
            code=None,
            message=(
                f"the API answered with a redirect {where}, which is not followed (credentials "
                "go only to the configured API host): check `api_url`"
            ),
            method=method,
            path=path,
        )


class ForeignHostError(GetResponseAPIError):
    """A request for another host than `api_url`'s, refused before it could carry credentials."""

    def __init__(self, *, method: str, url: str, api_origin: str) -> None:
        """Name the refused origin and the one credentials are for."""
        message = (
            f"not sent to {origin_of(url)}: credentials go only to the configured API host "
            f"{api_origin} (`api_url`)"
        )
        super().__init__(
            http_status=0, code=None, message=message, method=method, path=urlsplit(url).path
        )

    @override
    def __str__(self) -> str:
        return f"Refused {self.method} {self.path}: {self.message}"


class RequestFailedError(GetResponseAPIError, requests.exceptions.ConnectionError):
    """A request that got no usable answer (network, deadline, size), retried as far as allowed.

    A GetResponseAPIError so that both plugins end a run on it with one line, and a requests
    ConnectionError for code that already handles the network's errors. `http_status` is 0.
    """

    def __init__(self, *, method: str, path: str, problem: str) -> None:
        """`problem` says what went wrong and which setting to look at; it names no secret."""
        super().__init__(http_status=0, code=None, message=problem, method=method, path=path)

    @override
    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


class HostUnreachableError(RequestFailedError):
    """The API host could not be connected to (refused, name not resolved, connect timeout)."""


class ResponseTooLargeError(RequestFailedError):
    """An answer larger than the connector reads (`MAX_RESPONSE_BYTES`); it was not kept."""

    def __init__(self, *, method: str, path: str, size: int, limit: int) -> None:
        """`size` bytes (decoded) had arrived when the answer passed `limit`."""
        self.size, self.limit = size, limit
        problem = (
            f"the answer passed {limit // (1024 * 1024)} MB ({size} bytes read, decoded) and "
            "was not read further: far more than any GetResponse page; check `api_url`"
        )
        super().__init__(method=method, path=path, problem=problem)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, without user info, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class ConnectionCheckError(ConnectionError):
    """The connection check failed; the message says in plain words which setting to look at."""

    def __init__(self, message: str, *, setting: str, cause: str | None = None) -> None:
        """`setting` is the config key most likely at fault; `cause` the API's own words."""
        self.setting = setting
        self.cause = cause
        super().__init__(f"{message} ({cause})" if cause else message)


def json_body(response: requests.Response) -> t.Any:  # noqa: ANN401 - any JSON document
    """The decoded JSON body, or None when there is none."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
        return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def mask_emails(text: str) -> str:
    """`text` with every e-mail address in it masked to its domain (`***@example.org`)."""
    if "@" not in text and "%40" not in text.upper():
        return text
    return _EMAIL_IN_URL.sub("***%40", _EMAIL_IN_TEXT.sub("***@", text))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, and anything shaped like a credential, replaced by `***`."""
    return _CREDENTIAL.sub(
        lambda match: f"{match.group(1)} {REDACTED}", mask_secrets(text, secrets)
    )


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every run of `SECRET_RUN` or more characters of a secret replaced by `***`.

    Shorter secrets (4 to 7 characters) are replaced where they appear whole. Plain substring
    matching, no regular expressions: keys may hold any character.
    """
    grams, short = _secret_parts(frozenset(secrets))
    if grams and len(text) >= SECRET_RUN:
        text = _mask_runs(text, grams)
    for secret in short:
        text = text.replace(secret, REDACTED)
    return text


@functools.lru_cache(maxsize=32)
def _secret_parts(secrets: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Every `SECRET_RUN`-character slice of the long secrets, and the short secrets."""
    grams: set[str] = set()
    short: list[str] = []
    # As quoted by repr() (exception texts) or JSON, a backslash or a quote changes form.
    forms = {
        form for value in secrets for form in (value, repr(value)[1:-1], json.dumps(value)[1:-1])
    }
    for secret in forms:
        if len(secret) >= SECRET_RUN:
            grams.update(secret[i : i + SECRET_RUN] for i in range(len(secret) - SECRET_RUN + 1))
        elif len(secret) >= _MIN_SECRET_LENGTH:
            short.append(secret)
    return frozenset(grams), tuple(sorted(short, key=len, reverse=True))


def _mask_runs(text: str, grams: frozenset[str]) -> str:
    """Replace each maximal stretch covered by slices in `grams` with one `***`."""
    pieces: list[str] = []
    kept_from = 0
    start = 0
    last = len(text) - SECRET_RUN
    while start <= last:
        if text[start : start + SECRET_RUN] not in grams:
            start += 1
            continue
        end = start + SECRET_RUN
        # Extend while the next slice also belongs to a secret (overlapping runs merge).
        while end < len(text) and text[end - SECRET_RUN + 1 : end + 1] in grams:
            end += 1
        pieces += (text[kept_from:start], REDACTED)
        kept_from = start = end
    if not pieces:
        return text
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _is_secret_key(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in SECRET_KEYS


def redact_context(context: Mapping[str, t.Any], secrets: Iterable[str] = ()) -> dict[str, t.Any]:
    """A copy of an error `context` without credential values (nested values become strings)."""
    secret_values = tuple(secrets)
    return {
        key: REDACTED if _is_secret_key(str(key)) else redact(str(value), secret_values)
        for key, value in context.items()
    }


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of request headers safe to log: Authorization and X-Auth-Token are masked."""
    return {
        name: REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }
