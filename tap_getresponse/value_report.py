"""ValueReport: what a stream does with a value its schema cannot hold, and how it says so.

Real accounts send values the tap has never met; none of them ends a run. A value that does not
convert to its declared type becomes null (a whole item or a statistics entry of the wrong shape
is skipped); the first one of each field logs one warning naming the stream, the field and an
example (e-mail addresses masked, long values cut), every one is counted, and the counts come
once more at the end of the run, one line per stream and field (`log_summary`). Records whose
replication key is missing, null or unparsable are emitted, leave the bookmark where it was, and
are counted here too.

With `strict_values` the first value that would be set to null or skipped ends the run instead:
`StrictValuesError`, whose one line names stream, field, record key and value. A missing or null
replication key is not such a value (every schema allows null), so it never stops a run.
"""

from __future__ import annotations

import re
import threading
import typing as t
from collections import Counter
from dataclasses import dataclass

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

__all__ = ["BadValue", "StrictValuesError", "ValueReport", "shown"]

#: The local part of an e-mail address inside a `repr` (up to the quote or space around it).
_EMAIL_LOCAL_PART = re.compile(r"[^\s@'\"<>(),;:\[\]{}]+@(?=[^\s@'\"])")
#: Enough of a value to recognise it in a log line.
_SHOWN_CHARS = 60
#: What happens to a value that does not fit, by what it was.
NULLED = "set to null"
SKIPPED = "skipped"


def shown(value: object) -> str:
    """`repr(value)` for a log line: e-mail addresses as `***@domain`, cut to 60 characters."""
    text = _EMAIL_LOCAL_PART.sub("***@", repr(value))
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


@dataclass(frozen=True, slots=True)
class BadValue:
    """A value that did not fit its schema: where it was, what was expected, what came."""

    stream: str
    #: The field path (`sendMetrics.clickRate`, `variants[].price`); "" is the item itself.
    field: str
    expected: str
    value: object

    @property
    def where(self) -> str:
        """`stream 'x', field 'a.b'` (or `item` for a whole item)."""
        field = f"field '{self.field}'" if self.field else "item"
        return f"stream '{self.stream}', {field}"

    def __str__(self) -> str:
        """One line: where, what was expected, the (masked, shortened) value."""
        return f"{self.where}: expected {self.expected}, got {shown(self.value)}"


class StrictValuesError(ValueError):
    """`strict_values` is on and a value did not fit: the run ends with this one line."""

    def __init__(self, bad: BadValue, record: Mapping[str, t.Any] | None = None) -> None:
        """`record` is the key of the record holding the value (primary key, or its parent)."""
        self.bad = bad
        self.record = dict(record) if record is not None else None
        record_part = f", record {shown(self.record)}" if self.record else ""
        super().__init__(
            f"strict_values: {bad.where}{record_part}: expected {bad.expected}, "
            f"got {shown(bad.value)}"
        )

    def with_record(self, record: Mapping[str, t.Any]) -> StrictValuesError:
        """The same error naming `record` (raised deep in a record, named where it is known)."""
        return self if self.record else StrictValuesError(self.bad, record)


class ValueReport:
    """One stream's values that did not fit: a warning per field, a count per field, a summary.

    Thread-safe: fan-out streams flatten their responses on worker threads. Only bad values cost
    anything here; values that fit never reach it.
    """

    def __init__(self, stream: str, logger: logging.Logger, *, strict: bool = False) -> None:
        """Nothing counted yet; `strict` turns the first bad value into a StrictValuesError."""
        self.stream = stream
        self.logger = logger
        self.strict = strict
        #: Field -> values that did not fit (or records without a usable replication key).
        self.counts: Counter[str] = Counter()
        self._first: dict[str, str] = {}
        self._unkeyed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def bad(
        self,
        field: str,
        expected: str,
        value: object,
        *,
        record: Mapping[str, t.Any] | None = None,
        action: str = NULLED,
    ) -> None:
        """Count a value that did not fit (the caller nulls or skips it); warn on its field's first.

        Raises StrictValuesError instead when `strict_values` is on.
        """
        bad = BadValue(self.stream, field, expected, value)
        if self.strict:
            raise StrictValuesError(bad, record)
        with self._lock:
            self.counts[field] += 1
            first = field not in self._first
            if first:
                self._first[field] = f"{action} (expected {expected}; e.g. {shown(value)})"
        if first:
            self.logger.warning(
                "%s; %s. One warning per field; the end of the run counts them all.", bad, action
            )

    def unkeyed(self, replication_key: str) -> None:
        """Count a record emitted without a usable replication key (the bookmark stays put)."""
        with self._lock:
            self._unkeyed[replication_key] += 1
            first = self._unkeyed[replication_key] == 1
        if first:
            self.logger.warning(
                "Stream '%s': a record has no usable replication key '%s' (missing, null or not "
                "a timestamp); it is emitted, but does not move the bookmark. One warning per "
                "stream; the end of the run counts them all.",
                self.stream,
                replication_key,
            )

    def summary(self) -> list[str]:
        """One line per field with values that did not fit, and per unusable replication key."""
        lines = [
            f"Stream '{self.stream}', "
            f"{f'field {field!r}' if field else 'item'}: {count} value(s) {self._first[field]}"
            for field, count in sorted(self.counts.items())
        ]
        lines += [
            f"Stream '{self.stream}', field '{key}': {count} record(s) without a usable "
            "replication key, emitted without moving the bookmark"
            for key, count in sorted(self._unkeyed.items())
        ]
        return lines

    def log_summary(self) -> None:
        """The run's count of this stream's bad values, one warning line per field."""
        for line in self.summary():
            self.logger.warning("Values summary: %s", line)
