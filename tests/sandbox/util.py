"""Small helpers for the sandbox: timestamps, identifiers, deterministic hashing, date parsing."""

from __future__ import annotations

import calendar
import functools
import re
import time
from datetime import UTC, datetime

# Seeded data spreads its timestamps over this window (fixed, so runs are reproducible).
SEED_START = calendar.timegm((2025, 1, 1, 0, 0, 0))
SEED_END = calendar.timegm((2026, 6, 30, 23, 59, 59))

CANONICAL_API = "https://api.getresponse.com/v3"  # §1.1 retail host, used in `href` values
MAX_API = "https://api3.getresponse360.com/v3"  # §1.1 MAX US host, used in `href` in MAX mode

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MASK64 = (1 << 64) - 1


def now() -> int:
    """Return the current time as whole epoch seconds."""
    return int(time.time())


#: Entries kept by the caches below: every timestamp and id of a million-contact sandbox's pages.
_MEMO = 1 << 21


@functools.lru_cache(maxsize=_MEMO)  # a page of 1,000 contacts formats 2,000 (benchmarks)
def fmt_ts(epoch: float) -> str:
    """Return the GetResponse timestamp form `2017-12-19T13:11:48+0000` (§6)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


def fmt_ts_naive(epoch: float) -> str:
    """Return a timestamp without offset, as `/lps` and SMS `sendOn.date` use (§6)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def fmt_date(epoch: float) -> str:
    """Return `YYYY-MM-DD` for an epoch (UTC)."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DT_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+\- ]\d{2}:?\d{2})?$"
)


def parse_filter_time(value: str, *, end_of_day: bool) -> int | None:
    """Parse a `DateOrDateTime` filter value (§2.3, §6) to epoch seconds, or None if malformed.

    Accepts `YYYY-MM-DD` and ISO date-times with `+0000`, `+00:00` or `Z`; an unencoded `+`
    arrives as a space (§2.3 warns about it) and is accepted as `+`. A date-only value is
    inclusive: as `from` it means 00:00:00 and as `to` 23:59:59 of that UTC day (the reference
    marks the boundary semantics UNCONFIRMED, §6; inclusive is the documented intent).
    """
    value = value.strip()
    if _DATE_RE.match(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            return None
        base = int(day.timestamp())
        return base + 86399 if end_of_day else base
    match = _DT_RE.match(value)
    if not match:
        return None
    date_part, hh, mm, ss, offset = match.groups()
    year, month, mday = (int(x) for x in date_part.split("-"))
    try:
        moment = datetime(year, month, mday, int(hh), int(mm), int(ss or 0), tzinfo=UTC)
    except ValueError:
        return None
    epoch = int(moment.timestamp())
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


@functools.lru_cache(maxsize=_MEMO)  # every contact id of every page, again on each page read
def b62(number: int, width: int = 0) -> str:
    """Encode a non-negative integer in base 62, left-padded to `width`."""
    out = []
    while number:
        number, rem = divmod(number, 62)
        out.append(_B62[rem])
    text = "".join(reversed(out)) or "0"
    return text.rjust(width, "0")


def unb62(text: str) -> int | None:
    """Decode base 62, or None when `text` is not base 62."""
    number = 0
    for char in text:
        digit = _B62.find(char)
        if digit < 0:
            return None
        number = number * 62 + digit
    return number


class IdCodec:
    """A bijection between row numbers and short GetResponse-looking ids (like `pV3r`)."""

    def __init__(self, width: int, multiplier: int, offset: int) -> None:
        """Build a codec whose ids have `width` base-62 characters."""
        self.width = width
        self.modulus: int = 62**width
        self.multiplier = multiplier
        self.offset: int = offset
        self.inverse: int = pow(multiplier, -1, self.modulus)

    def encode(self, row: int) -> str:
        """Return the id of `row`."""
        return b62((row * self.multiplier + self.offset) % self.modulus, self.width)

    def decode(self, ident: str) -> int | None:
        """Return the row of `ident`, or None when it cannot be one of ours."""
        if len(ident) != self.width:
            return None
        number = unb62(ident)
        if number is None:
            return None
        return ((number - self.offset) * self.inverse) % self.modulus


def mix(seed: int, row: int, salt: int) -> int:
    """Deterministic 64-bit hash of (seed, row, salt) (splitmix64 finaliser)."""
    z = (seed * 0x9E3779B97F4A7C15 + row * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def valid_email(value: object) -> bool:
    """Return whether `value` is a syntactically valid e-mail address."""
    return isinstance(value, str) and len(value) <= 128 and EMAIL_RE.match(value) is not None
