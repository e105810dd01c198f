"""Errors the HTTP layer raises, built so that no secret ever reaches a message or a log."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import requests

#: Context keys whose values are credentials, compared without case, `_` or `-`
#: (§1.4: an expired token comes back in `context.sentToken`).
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
#: Headers that carry credentials (§1.3, §1.4).
SECRET_HEADERS = frozenset({"authorization", "x-auth-token"})
REDACTED = "***"
#: Shorter strings are not treated as secrets: replacing them would mangle ordinary words.
_MIN_SECRET_LENGTH = 4
#: Credentials recognisable by their scheme even when their value is not known in advance.
_CREDENTIAL = re.compile(r"(?i)\b(api-key|bearer|basic)\s+[^\s,;\"'}]+")


class ConfigError(ValueError):
    """A setting is missing, contradictory or malformed; the message names the setting."""


class GetResponseAPIError(Exception):
    """A final (not retried) error answer from GetResponse, described from its error body (§5.1)."""

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
        return " ".join(line.split())


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
    except ValueError:
        return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, and anything shaped like a credential, replaced by `***`."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return _CREDENTIAL.sub(lambda match: f"{match.group(1)} {REDACTED}", text)


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
