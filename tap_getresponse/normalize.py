"""RecordNormaliser: schema-driven fixes for GetResponse's wire types (booleans, counters, dates).

GetResponse sends booleans as `"true"`/`"false"` strings, many counters as numeric strings,
timestamps with a colon-less offset (`+0000`) or none at all (GMT), and newsletter `flags` as a
comma-joined string in lists (OpenAPI schemas `StringBooleanEnum`, `MessageFlagsString`,
`LpsListItem.createdAt`). Each stream compiles its Singer schema once into a plan of the few paths
that need converting; `normalise` then touches only those paths.

Conversions, by the type the schema declares:

- boolean: `true`/`false`, `1`/`0`, `yes`/`no` (any case, as strings) and the numbers 1/0;
- integer: integer strings, and integral floats or float strings (`"12.0"`);
- number: numeric strings (integers stay `int`);
- string with format date-time: RFC 3339 with seconds and a `+hh:mm` offset (`Z` becomes
  `+00:00`, `+0000` becomes `+00:00`, a missing offset means GMT as `LpsListItem` documents,
  a date alone means midnight GMT);
- string with format date: `YYYY-MM-DD`, checked and kept;
- array of strings: a comma-joined string becomes a list.

An empty string in a boolean, numeric or date field becomes None (GetResponse's way of saying
"unset"). Any other value that does not convert raises `NormalisationError` naming the stream and
the field path. Values already of the right type and other types pass unchanged.

Keys an object's schema does not declare are dropped, with one warning per path, as the SDK's own
type conformance does; the streams switch that conformance off (it walks every value of every
record) because this plan already leaves records exactly as the SDK would.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Convert = Callable[[object], object]

__all__ = [
    "NormalisationError",
    "RecordNormaliser",
    "interval_start",
    "normalise_datetime",
]

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<hm>\d{2}:\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<offset>[zZ]|[+-]\d{2}(?::?\d{2})?)?)?",
)


class NormalisationError(ValueError):
    """A value that its schema type cannot hold (names the stream and the field path)."""

    def __init__(self, stream: str, path: str, expected: str, value: object) -> None:
        """Describe the bad value without dumping long payloads."""
        where = f"stream '{stream}', field '{path}'" if stream else f"field '{path}'"
        shown = repr(value)
        if len(shown) > 60:  # noqa: PLR2004 - enough to recognise the value
            shown = shown[:57] + "..."
        super().__init__(f"{where}: expected {expected}, got {shown}")
        self.stream = stream
        self.path = path
        self.value = value


def normalise_datetime(value: str) -> str:
    """RFC 3339 text for a GetResponse timestamp (`+0000`, no offset = GMT, date = midnight)."""
    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        msg = f"not a timestamp: {value!r}"
        raise ValueError(msg)
    date, hm, seconds, frac, offset = match.group("date", "hm", "s", "frac", "offset")
    if hm is None:
        text = f"{date}T00:00:00+00:00"
    else:
        if offset is None or offset in {"Z", "z"}:
            offset = "+00:00"
        elif len(offset) == 3:  # noqa: PLR2004 - "+hh"
            offset += ":00"
        elif len(offset) == 5:  # noqa: PLR2004 - "+hhmm"
            offset = f"{offset[:3]}:{offset[3:]}"
        fraction = f".{frac}" if frac else ""
        text = f"{date}T{hm}:{seconds or '00'}{fraction}{offset}"
    dt.datetime.fromisoformat(text)  # range check: month 13, hour 24, offset +25:00 raise
    return text


def interval_start(time_interval: str) -> str:
    """The RFC 3339 start of a `start/duration` interval (`MessageStatisticsListElement`)."""
    start, _, _ = time_interval.partition("/")
    return normalise_datetime(start)


class RecordNormaliser:
    """Converts one stream's records to the types its Singer schema declares."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        *,
        stream_name: str = "",
        logger: logging.Logger | None = None,
    ) -> None:
        """Compile `schema` into the list of paths to convert (done once per stream)."""
        self.stream_name = stream_name
        self.logger = logger or logging.getLogger(__name__)
        #: path -> conversion kind, for logs and tests (`a.b[].c`: `[]` steps into arrays).
        self.conversions: dict[str, str] = {}
        #: Undeclared keys already warned about (one warning per path and run).
        self.dropped: set[str] = set()
        self._convert = self._compile_object(schema, "")

    def normalise(self, record: dict[str, Any]) -> dict[str, Any]:
        """Convert `record` in place and return it."""
        if self._convert is not None:
            self._convert(record)
        return record

    def _compile_properties(
        self, schema: Mapping[str, Any], prefix: str
    ) -> tuple[tuple[str, Convert], ...]:
        plan = []
        for key, child in (schema.get("properties") or {}).items():
            convert = self._compile(child, f"{prefix}.{key}" if prefix else key)
            if convert is not None:
                plan.append((key, convert))
        return tuple(plan)

    def _drop_undeclared(self, value: dict[str, Any], declared: frozenset[str], path: str) -> None:
        """Remove keys the schema does not declare; warn once per path."""
        undeclared = [key for key in value if key not in declared]
        for key in undeclared:
            del value[key]
        new = {f"{path}.{key}" if path else key for key in undeclared} - self.dropped
        if new:
            self.dropped |= new
            self.logger.warning(
                "Properties %s were present in the '%s' stream but not found in its schema. "
                "Ignoring.",
                tuple(sorted(new)),
                self.stream_name,
            )

    def _compile(self, schema: Mapping[str, Any], path: str) -> Convert | None:  # noqa: PLR0911
        schema = _single_branch(schema)
        kinds = _kinds(schema)
        fmt = schema.get("format")
        if kinds == {"object"}:
            return self._compile_object(schema, path)
        if kinds == {"array"}:
            return self._compile_array(schema, path)
        if kinds == {"boolean"}:
            return self._leaf(path, "boolean", _to_boolean)
        if kinds == {"integer"}:
            return self._leaf(path, "integer", _to_integer)
        if kinds in ({"number"}, {"integer", "number"}):
            return self._leaf(path, "number", _to_number)
        if kinds == {"string"} and fmt == "date-time":
            return self._leaf(path, "date-time", _to_datetime)
        if kinds == {"string"} and fmt == "date":
            return self._leaf(path, "date", _to_date)
        return None

    def _compile_object(self, schema: Mapping[str, Any], path: str) -> Convert | None:
        plan = self._compile_properties(schema, path)
        closed = "properties" in schema and not schema.get("additionalProperties")
        declared = frozenset(schema.get("properties") or ())
        if not plan and not closed:
            return None

        def convert_object(value: object) -> object:
            if type(value) is dict:
                if closed and not declared.issuperset(value):
                    self._drop_undeclared(value, declared, path)
                for key, convert in plan:
                    child = value.get(key)
                    if child is not None:
                        value[key] = convert(child)
            return value

        return convert_object

    def _compile_array(self, schema: Mapping[str, Any], path: str) -> Convert | None:
        items = schema.get("items")
        items = _single_branch(items) if isinstance(items, dict) else {}
        item_convert = self._compile(items, f"{path}[]")
        splits = _kinds(items) == {"string"} and "format" not in items
        if item_convert is None and not splits:
            return None
        if splits:
            self.conversions[path] = "comma-list"

        def convert_array(value: object) -> object:
            if splits and isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if item_convert is not None and type(value) is list:
                value = [None if item is None else item_convert(item) for item in value]
            return value

        return convert_array

    def _leaf(self, path: str, kind: str, convert: Convert) -> Convert:
        self.conversions[path] = kind
        stream = self.stream_name

        def convert_leaf(value: object) -> object:
            try:
                return convert(value)
            except (TypeError, ValueError):
                raise NormalisationError(stream, path, kind, value) from None

        return convert_leaf


def _single_branch(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one non-null branch of an `anyOf`/`oneOf` (as the SDK writes nullable types)."""
    for key in ("anyOf", "oneOf"):
        branches = [b for b in schema.get(key) or () if _kinds(b) != {"null"}]
        if key in schema and len(branches) == 1:
            branch: Mapping[str, Any] = branches[0]
            return branch
    return schema


def _kinds(schema: Mapping[str, Any]) -> set[str]:
    """The non-null JSON types `schema` allows (empty when it says nothing)."""
    declared = schema.get("type")
    kinds = {declared} if isinstance(declared, str) else set(declared or ())
    if "properties" in schema and not kinds:
        kinds = {"object"}
    return kinds if kinds == {"null"} else kinds - {"null"}


def _to_boolean(value: object) -> bool | None:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if not text:
            return None
    elif type(value) is int and value in {0, 1}:
        return value == 1
    raise ValueError(value)


def _to_integer(value: object) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if not text:
            return None
        if _DECIMAL.fullmatch(text):
            value = float(text)
    if type(value) is float and value.is_integer():
        return int(value)
    raise ValueError(value)


def _to_number(value: object) -> float | int | None:
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return float(text)
        if not text:
            return None
    raise ValueError(value)


def _to_datetime(value: object) -> str | None:
    if not isinstance(value, str):
        raise TypeError(value)
    if not value.strip():
        return None
    return normalise_datetime(value)


def _to_date(value: object) -> str | None:
    if not isinstance(value, str):
        raise TypeError(value)
    text = value.strip()
    if not text:
        return None
    if _DATE.fullmatch(text) is None:
        raise ValueError(value)
    dt.date.fromisoformat(text)
    return text
