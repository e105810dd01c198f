"""Errors the HTTP layer raises, built so that no secret ever reaches a message or a log."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests

#: Context keys whose values are credentials (§1.4: an expired token comes back as `sentToken`).
SECRET_CONTEXT_KEYS = frozenset(
    {"sentToken", "token", "accessToken", "refreshToken", "apiKey", "clientSecret", "password"},
)
REDACTED = "***"
#: Shorter strings are not treated as secrets: replacing them would mangle ordinary words.
_MIN_SECRET_LENGTH = 4


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
        context: dict[str, t.Any] | None = None,
    ) -> None:
        """Keep the parts of the error body that help a user act on it."""
        self.http_status = http_status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.context = context or {}
        super().__init__(str(self))

    @classmethod
    def from_response(
        cls,
        response: requests.Response,
        secrets: Iterable[str] = (),
    ) -> GetResponseAPIError:
        """Read `httpStatus`, `code`, `message` and `context`; tolerate bodies that are not JSON."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"message": response.reason or "no error body"}
        context = body.get("context")
        secret_values = tuple(secrets)
        return cls(
            http_status=int(body.get("httpStatus") or response.status_code),
            code=_int_or_none(body.get("code")),
            message=redact(str(body.get("message") or response.reason or ""), secret_values),
            method=(response.request.method if response.request is not None else None) or "GET",
            path=urlsplit(response.url).path,
            context=redact_context(context, secret_values) if isinstance(context, dict) else None,
        )

    def __str__(self) -> str:
        """One line: status, code, request and GetResponse's own message."""
        code = f" (code {self.code})" if self.code is not None else ""
        context = ", ".join(f"{key}={value}" for key, value in self.context.items())
        details = f" [{context}]" if context else ""
        return (
            f"GetResponse API {self.http_status}{code} on {self.method} {self.path}: "
            f"{self.message}{details}"
        )


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return None


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by `***`."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def redact_context(context: dict[str, t.Any], secrets: Iterable[str]) -> dict[str, t.Any]:
    """A copy of an error `context` without credential values."""
    secret_values = tuple(secrets)
    return {
        key: REDACTED if key in SECRET_CONTEXT_KEYS else redact(str(value), secret_values)
        for key, value in context.items()
    }
