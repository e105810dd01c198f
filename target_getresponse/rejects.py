"""What happened to every record: the run's counters, the rejects file and the summary line."""

from __future__ import annotations

import json
import threading
import typing as t
from dataclasses import dataclass, field, fields
from http import HTTPStatus
from pathlib import Path

from target_getresponse.logs import mask_email, mask_emails_in
from target_getresponse.mapping import RejectError

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tap_getresponse.api import GetResponseAPIError

#: Outcomes: every record read ends in exactly one of them, so they add up to `received`.
OUTCOMES = (
    "added",
    "existing",
    "updated",
    "removed",
    "triggered",
    "deletes_skipped",
    "merged",
    "rejected",
    "unreadable",
)
SUMMARY_FIELDS = ("received", "sent", *OUTCOMES, "api_calls")
#: Client errors that are the same for every record: they end the run.
RUN_ERRORS = frozenset(
    {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS}
)


@dataclass
class Tally:
    """Counters for the summary line; `api_calls` is filled in from the governor at the end.

    `received` counts RECORD messages and input lines that could not be read (they may have
    been records); `merged` counts records replaced by a later one for the same email and list
    in the same batch; `removed` counts contacts taken off their list (or already gone) for
    records with `_sdc_deleted_at`, `deletes_skipped` such records while `process_deletes` is
    off; `triggered` counts custom events triggered; `sent` counts contacts (and events) sent
    to the API, which is no outcome of its own.
    """

    received: int = 0
    sent: int = 0
    added: int = 0
    existing: int = 0
    updated: int = 0
    removed: int = 0
    triggered: int = 0
    deletes_skipped: int = 0
    merged: int = 0
    rejected: int = 0
    unreadable: int = 0
    api_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, **increments: int) -> None:
        """Add to counters (thread-safe: upserts run in a small thread pool)."""
        with self._lock:
            for name, increment in increments.items():
                setattr(self, name, getattr(self, name) + increment)

    @property
    def accounted(self) -> int:
        """Records with an outcome; equals `received` once every batch has loaded."""
        return sum(getattr(self, name) for name in OUTCOMES)

    def summary(self) -> str:
        """One line: `received=… sent=… added=… existing=… updated=… merged=… rejected=… …`."""
        names = [f.name for f in fields(self) if f.name in SUMMARY_FIELDS]
        return " ".join(f"{name}={getattr(self, name)}" for name in names)


def is_record_problem(error: GetResponseAPIError) -> bool:
    """Whether an API refusal concerns one record (a reject) rather than the whole run.

    Credentials (401), permissions (403), limits (429, already waited out by the client) and
    server errors (5xx, already retried) are the same for every record: they end the run.
    """
    status = error.http_status
    return (
        HTTPStatus.BAD_REQUEST <= status < HTTPStatus.INTERNAL_SERVER_ERROR
        and status not in RUN_ERRORS
    )


def refused(error: GetResponseAPIError, what: str = "") -> RejectError:
    """A RejectError carrying GetResponse's answer: the line, its `code` and `context`."""
    prefix = f"{what}: " if what else ""
    return RejectError(f"{prefix}{error}", code=error.code, context=error.context)


class Rejects:
    """Refused records as JSON lines, each run's opened by a `{"run": {...}}` marker line.

    A line names the stream, the input line number, the record's key properties (the email
    masked to its domain), the reason, and GetResponse's `code` and `context` when the API
    refused it. The file is appended to, so a rerun never hides what an earlier run refused.
    """

    def __init__(self, path: str, *, include_records: bool, run: Mapping[str, str]) -> None:
        """The file is created, and the `run` marker written, when the first record is refused."""
        self.path = Path(path)
        self.include_records = include_records
        self.run = dict(run)
        self.count = 0
        self._lock = threading.Lock()

    def add(  # noqa: PLR0913 - one line of the rejects file
        self,
        *,
        stream: str | None,
        record: Mapping[str, t.Any] | None,
        error: RejectError,
        key_properties: Sequence[str] = (),
        line: int | None = None,
        message_type: str | None = None,
    ) -> None:
        """Append one refused record (or unreadable input line)."""
        entry: dict[str, t.Any] = {"stream": stream, "line": line}
        if message_type is not None:
            entry["type"] = message_type
        record = record or {}
        key = {k: record.get(k) for k in key_properties if k != "email" and k in record}
        if key:
            entry["key"] = mask_values(key)
        email = record.get("email")
        entry.update(
            email=mask_email(str(email)) if email else None,
            reason=mask_emails_in(str(error)),
            code=error.code,
        )
        if error.context:
            entry["context"] = mask_values(error.context)
        if self.include_records and record:
            entry["record"] = dict(record)
        text = json.dumps(entry, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                if self.count == 0:
                    handle.write(json.dumps({"run": self.run}) + "\n")
                handle.write(text)
            self.count += 1


def mask_values(values: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A copy with every address inside the values masked (key properties, an error context).

    A value that is one word with an `@` is masked whole, however odd its characters (an
    error context quotes the address GetResponse refused, which may be no valid one).
    """
    return {
        key: _masked(value) if isinstance(value, str) else value for key, value in values.items()
    }


def _masked(value: str) -> str:
    if "@" in value and len(value.split()) == 1:
        return mask_email(value)
    return mask_emails_in(value)
