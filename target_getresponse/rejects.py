"""What happened to every record: the run's counters, the rejects file and the summary line."""

from __future__ import annotations

import json
import threading
import typing as t
from dataclasses import dataclass, field, fields
from pathlib import Path

from target_getresponse.mapping import mask_email, mask_emails_in

if t.TYPE_CHECKING:
    from collections.abc import Mapping

SUMMARY_FIELDS = ("received", "sent", "added", "existing", "updated", "rejected", "api_calls")


@dataclass
class Tally:
    """Counters for the summary line; `api_calls` is filled in from the governor at the end."""

    received: int = 0
    sent: int = 0
    added: int = 0
    existing: int = 0
    updated: int = 0
    rejected: int = 0
    api_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, **increments: int) -> None:
        """Add to counters (thread-safe: upserts run in a small thread pool)."""
        with self._lock:
            for name, increment in increments.items():
                setattr(self, name, getattr(self, name) + increment)

    def summary(self) -> str:
        """One line: `received=… sent=… added=… existing=… updated=… rejected=… api_calls=…`."""
        names = [f.name for f in fields(self) if f.name in SUMMARY_FIELDS]
        return " ".join(f"{name}={getattr(self, name)}" for name in names)


class Rejects:
    """Refused records as JSON lines: stream, key or masked email, reason, GetResponse code."""

    def __init__(self, path: str, *, include_records: bool) -> None:
        """The file is created only when the first record is refused."""
        self.path = Path(path)
        self.include_records = include_records
        self.count = 0
        self._lock = threading.Lock()

    def add(  # noqa: PLR0913 - one line of the rejects file
        self,
        *,
        stream: str,
        record: Mapping[str, t.Any],
        email: str | None,
        reason: str,
        code: int | None = None,
        key_properties: t.Sequence[str] = (),
    ) -> None:
        """Append one refused record."""
        line: dict[str, t.Any] = {"stream": stream}
        if self.include_records:
            line.update(reason=reason, code=code, record=dict(record))
        else:
            key = {k: record.get(k) for k in key_properties if k != "email" and k in record}
            if key:
                line["key"] = key
            line.update(
                email=mask_email(email) if email else None,
                reason=mask_emails_in(reason),
                code=code,
            )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str) + "\n")
            self.count += 1
