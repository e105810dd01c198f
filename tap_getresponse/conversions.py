"""One value converted to the type a schema declares, or refused: what each type accepts.

The rules (RecordNormaliser applies them field by field; normalize.py lists them): booleans from
`true`/`false`, `1`/`0`, `yes`/`no` and 1/0; integers from integer strings and integral floats;
numbers from numeric strings; strings from numbers and booleans (their JSON text); timestamps
as RFC 3339 with seconds and a `+hh:mm` offset; dates checked and kept; enums checked. Each
converter returns the value or raises ValueError or TypeError; the caller reports and nulls.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    Convert = Callable[[object], object]

__all__ = [
    "OFFSET_MARKS",
    "OFFSET_STAMP_LENGTH",
    "TYPED",
    "common_datetime",
    "enum_check",
    "general_datetime",
    "interval_start",
    "normalise_datetime",
    "number_or_boolean_text",
    "to_boolean",
    "to_date",
    "to_datetime",
    "to_integer",
    "to_number",
    "to_string",
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
#: The separators of `YYYY-MM-DDThh:mm:ss+hh...` at 4, 7, 10, 13, 16, 19 (`common_datetime`).
OFFSET_MARKS = frozenset({"--T::+", "--T::-"})
#: ...and of `YYYY-MM-DD hh:mm:ss` (custom fields of type datetime), at 4, 7, 10, 13, 16.
_NAIVE_MARKS = frozenset({"--T::", "--t::", "-- ::"})
#: The length of `YYYY-MM-DDThh:mm:ss+hhmm`, the shape of almost every GetResponse timestamp.
OFFSET_STAMP_LENGTH = 24
#: Bound once: `common_datetime` runs for nearly every timestamp of every record.
_fromisoformat = dt.datetime.fromisoformat


def normalise_datetime(value: str) -> str:
    """RFC 3339 text for a GetResponse timestamp (`+0000`, no offset = GMT, date = midnight)."""
    return common_datetime(value) or general_datetime(value)


def general_datetime(value: str) -> str:
    """`normalise_datetime` of any shape, by the regular expression."""
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


def common_datetime(value: str) -> str | None:
    """`normalise_datetime` of the shapes GetResponse sends, without its regular expression.

    `YYYY-MM-DDThh:mm:ss+hhmm` (almost every timestamp), `...+hh:mm`, `...Z` and
    `YYYY-MM-DD hh:mm:ss` (custom fields of type datetime): three times faster. The separators
    are checked here; `fromisoformat` refuses any other character out of place (non-ASCII digits
    too), so what passes is what the expression would have matched, and the text is the same.
    None: not one of these shapes (the general path decides).
    """
    size = len(value)
    marks = value[4:20:3]  # the separators at 4, 7, 10, 13, 16 and 19, in one slice
    if size == OFFSET_STAMP_LENGTH and marks in OFFSET_MARKS:  # "+hhmm", the usual shape
        text = value[:22] + ":" + value[22:]
    elif size == 25 and marks in OFFSET_MARKS and value[22] == ":":  # noqa: PLR2004 - "+hh:mm"
        text = value
    elif size == 20 and marks == "--T::Z":  # noqa: PLR2004
        text = value[:19] + "+00:00"
    elif size == 19 and marks in _NAIVE_MARKS:  # noqa: PLR2004 - no offset: GMT
        text = f"{value[:10]}T{value[11:]}+00:00"
    else:
        return None
    _fromisoformat(text)  # the range check, as below
    return text


def interval_start(time_interval: str) -> str:
    """The RFC 3339 start of a `start/duration` interval (`MessageStatisticsListElement`)."""
    start, _, _ = time_interval.partition("/")
    return normalise_datetime(start)


def enum_check(allowed: list[Any]) -> Convert:
    """A check that a value is one of `allowed` (null aside)."""
    values = frozenset(value for value in allowed if value is not None)

    def check(value: object) -> object:
        if value not in values:
            raise ValueError(value)
        return value

    return check


def number_or_boolean_text(value: object) -> str | None:
    """A number's or boolean's JSON text (`5`, `1.5`, `true`); None for anything else."""
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int or type(value) is float:
        return repr(value)
    return None


def to_string(value: object) -> str:
    """A string as it is; a number or boolean as its JSON text."""
    if type(value) is str:
        return value
    text = number_or_boolean_text(value)
    if text is None:
        raise TypeError(value)
    return text


def to_boolean(value: object) -> bool:
    """`true`/`false`, `1`/`0`, `yes`/`no` (any case) and the numbers 1/0 as a boolean."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    elif type(value) is int and value in {0, 1}:
        return value == 1
    raise ValueError(value)


def to_integer(value: object) -> int:
    """An integer, an integer string, or an integral float (or float string)."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            value = float(text)
    if type(value) is float and value.is_integer():
        return int(value)
    raise ValueError(value)


def to_number(value: object) -> float | int:
    """A number, or a finite numeric string (integers stay `int`)."""
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text) and math.isfinite(number := float(text)):
            return number
    raise ValueError(value)


def to_datetime(value: object) -> str:
    """`normalise_datetime` of a string."""
    if not isinstance(value, str):
        raise TypeError(value)
    return normalise_datetime(value)


def to_date(value: object) -> str:
    """A `YYYY-MM-DD` date, checked and kept."""
    if not isinstance(value, str):
        raise TypeError(value)
    text = value.strip()
    if _DATE.fullmatch(text) is None:
        raise ValueError(value)
    dt.date.fromisoformat(text)
    return text


#: Typed scalar kinds: the Python types that pass as they are, and the conversion for the rest.
TYPED: dict[str, tuple[frozenset[type], Convert]] = {
    "boolean": (frozenset({bool}), to_boolean),
    "integer": (frozenset({int}), to_integer),
    "number": (frozenset({int, float}), to_number),
}
