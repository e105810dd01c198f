"""Addresses masked to their domain: in free text, and in every log line of a run, whoever wrote it.

Masking at each call site misses lines the SDK, requests or a traceback write, so the target
installs a log record factory once: each record's message, and the text of an exception it
carries, is masked to `***@domain` when the record is made (only records that will be emitted
are made, so the cost is one regular expression per line written).
"""

from __future__ import annotations

import logging
import re
import typing as t

#: Anything shaped like an address inside free text (API error messages, reasons).
EMAIL_IN_TEXT = re.compile(r"[^\s@\"'<>(),;:=\[\]{}]+@(?=[^\s@]+\.[^\s@]+)")
#: The same inside a URL (an exact-match lookup's `query[email]=jane%40example.org`).
EMAIL_IN_URL = re.compile(r"[^\s@&=?/\"'<>(),;:\[\]{}]+%40(?=[^\s&]+\.)", re.IGNORECASE)

_FORMATTER = logging.Formatter()


def mask_email(email: str) -> str:
    """`***@example.org`: enough to find a domain-wide problem, not enough to identify anyone."""
    return f"***@{email.rpartition('@')[2]}" if "@" in email else "***"


def mask_emails_in(text: str) -> str:
    """Free text (an API error, a reason) with every address in it masked to its domain."""
    return EMAIL_IN_URL.sub("***%40", EMAIL_IN_TEXT.sub("***@", text))


class _MaskingFactory:
    """Wraps the record factory in place, so nothing else that customised it is lost."""

    def __init__(self, base: t.Callable[..., logging.LogRecord]) -> None:
        self.base = base

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> logging.LogRecord:  # noqa: ANN401
        record = self.base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report, later
            return record
        masked = mask_emails_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info:
            record.exc_text = mask_emails_in(_FORMATTER.formatException(record.exc_info))
        return record


def mask_emails_in_logs() -> None:
    """Install the masking record factory (once per process)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _MaskingFactory):
        logging.setLogRecordFactory(_MaskingFactory(current))
