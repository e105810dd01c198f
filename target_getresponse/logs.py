"""Every log line of a target run with its addresses masked, whoever wrote it.

Masking at each call site misses lines the SDK, requests or a traceback write, so the target
installs a log record factory once: each record's message, and the text of an exception it
carries, is masked to `***@domain` when the record is made (only records that will be emitted
are made, so the cost is one regular expression per line written).
"""

from __future__ import annotations

import logging
import typing as t

from target_getresponse.mapping import mask_emails_in

_FORMATTER = logging.Formatter()


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
