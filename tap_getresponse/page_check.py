"""PageCheck: a whole page checked against a stream's schema in one msgspec call, in C.

RecordNormaliser (normalize.py) walks each record in Python: undeclared keys, then every
field's type, nested objects and arrays included. Even when every value already fits, that was
the largest cost of a record (3.5 us a contact, more than reading and writing it). Most pages
do fit, so the schema is compiled here, once per stream, into a msgspec type that accepts
exactly the values the normaliser leaves as they are: strings, integers, numbers and booleans of
their declared type, enum values, objects without undeclared keys (where the schema closes
them), arrays of such items, and null anywhere. `msgspec.convert` checks a page against it; its
result is thrown away, the page's own dicts go on (their key order is the API's).

What the normaliser rewrites even when it is right is done record by record with the
normaliser's own converters (`RecordNormaliser.normalise_page`): timestamps (made RFC 3339 with
`+00:00`), dates, and top-level booleans, integers and numbers, which GetResponse often sends as
strings (custom field columns, `StringBooleanEnum`). A top-level timestamp is checked here all
the same, as a `datetime` (msgspec reads RFC 3339 and the API's `+0000`), so that the usual
`...+0000` needs only its colon put in (`stamped`); any other timestamp, a date, or a top-level
field holding one of these further down stays `Any` and is left whole to the normaliser.

A page that does not fit (a value of another type, an undeclared key, an element that is no
object) goes through the normaliser record by record, as before: what it converts, drops and
reports is then converted, dropped and reported exactly as it always was.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

import msgspec

from tap_getresponse.schema_kinds import kinds, plain_kind, single_branch, typed_kind

if t.TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PageCheck"]

#: A type msgspec checks values against, built at run time from a schema (mypy cannot follow).
MsgspecType: t.TypeAlias = t.Any

#: Plain kinds (`schema_kinds.plain_kind`) as the msgspec type that accepts what they accept.
_PLAIN: dict[str, t.Any] = {
    "string": str | None,
    "object": dict[str, t.Any] | None,
    "array": list[t.Any] | None,
}
#: Typed kinds (`schema_kinds.typed_kind`) likewise: msgspec refuses a bool for int and float.
_TYPED: dict[str, t.Any] = {
    "boolean": bool | None,
    "integer": int | None,
    "number": int | float | None,
}


class _Converted(Exception):  # noqa: N818 - a signal, not an error
    """The normaliser rewrites values of this schema node: it cannot be checked alone."""


@dataclass(frozen=True, slots=True)
class PageCheck:
    """A stream's pages checked in C, as strictly as possible first (module docstring)."""

    #: Every top-level boolean, integer and number of its type already.
    strict: t.Any
    #: Those left `Any`, for the normaliser's checks (a page with a number as a string).
    lenient: t.Any
    #: Top-level properties whose values the normaliser converts on every record.
    rewritten: frozenset[str]
    #: Top-level booleans, integers and numbers (left to the normaliser on a lenient fit).
    typed: frozenset[str]
    #: Top-level timestamps checked as such (of `rewritten`: the converter still writes them).
    stamped: frozenset[str] = frozenset()

    @classmethod
    def compile(cls, schema: Mapping[str, t.Any]) -> PageCheck | None:
        """The check for records of `schema` (an object schema); None where msgspec cannot."""
        strict: list[tuple[str, t.Any, t.Any]] = []
        lenient: list[tuple[str, t.Any, t.Any]] = []
        rewritten: set[str] = set()
        typed: set[str] = set()
        stamped: set[str] = set()
        properties: Mapping[str, t.Any] = schema.get("properties") or {}
        for index, (key, child) in enumerate(properties.items()):
            shape: MsgspecType = t.Any
            exact: MsgspecType = t.Any
            if (kind := typed_kind(child)) is not None:
                exact = _TYPED[kind]
                typed.add(key)
            elif _is_timestamp(child):
                shape = exact = dt.datetime | None
                rewritten.add(key)
                stamped.add(key)
            else:
                try:
                    shape = exact = _field(child, f"Record_{index}")
                except _Converted:
                    rewritten.add(key)
            strict.append((f"f{index}", exact, msgspec.UNSET))
            lenient.append((f"f{index}", shape, msgspec.UNSET))
        check = cls(
            list[_struct(schema, "Record", strict)],  # type: ignore[misc]
            list[_struct(schema, "LenientRecord", lenient)],  # type: ignore[misc]
            frozenset(rewritten),
            frozenset(typed),
            frozenset(stamped),
        )
        try:
            msgspec.convert([], check.strict)  # msgspec compiles the types here
            msgspec.convert([], check.lenient)
        except TypeError:  # a type it does not support (an enum of huge integers...)
            return None
        return check

    def fits(self, rows: list[t.Any], *, strict_first: bool = True) -> bool | None:
        """True: `rows` fit `strict`; False: they fit `lenient`; None: neither (normalise them).

        Not `strict_first`: only `lenient` is tried (what fits `strict` fits it too, and the
        normaliser's checks of a lenient fit leave values of their type as they are).
        """
        tried = ((self.strict, True), (self.lenient, False))
        for page_type, fit in tried if strict_first else tried[1:]:
            try:
                msgspec.convert(rows, page_type)
            except msgspec.ValidationError:
                continue
            return fit
        return None


def _struct(
    schema: Mapping[str, t.Any], name: str, fields: list[tuple[str, t.Any, t.Any]]
) -> MsgspecType:
    """A Struct of `fields` (`f0`, `f1`...) named as `schema`'s properties, closed as it says."""
    closed = "properties" in schema and not schema.get("additionalProperties")
    rename = {f"f{index}": key for index, key in enumerate(schema.get("properties") or {})}
    return msgspec.defstruct(
        name, fields, rename=rename, forbid_unknown_fields=closed, gc=False, omit_defaults=True
    )


def _is_timestamp(schema: Mapping[str, t.Any]) -> bool:
    """Whether `schema` is a date-time string (nullable or not), as `normalize._compile` sees it."""
    schema = single_branch(schema)
    return (
        "enum" not in schema and kinds(schema) == {"string"} and schema.get("format") == "date-time"
    )


def _object(schema: Mapping[str, t.Any], name: str) -> MsgspecType:
    """A Struct accepting an object of `schema` (`normalize._compile_object`'s checks)."""
    properties: Mapping[str, t.Any] = schema.get("properties") or {}
    fields = [
        (f"f{index}", _field(child, f"{name}_{index}"), msgspec.UNSET)
        for index, child in enumerate(properties.values())
    ]
    return _struct(schema, name, fields)


def _field(schema: Mapping[str, t.Any], name: str) -> MsgspecType:
    """The msgspec type of one property (`normalize._compile_properties`: plain, typed, other)."""
    if (kind := plain_kind(schema)) is not None:
        return _PLAIN[kind]
    if (kind := typed_kind(schema)) is not None:
        return _TYPED[kind]
    return _shape(schema, name)


def _shape(schema: Mapping[str, t.Any], name: str) -> MsgspecType:  # noqa: PLR0911
    """The msgspec type of one value (`normalize._compile`, branch for branch)."""
    schema = single_branch(schema)
    found = kinds(schema)
    if "enum" in schema:
        values = tuple(value for value in schema["enum"] if value is not None)
        if not values or any(type(value) not in {str, int} for value in values):
            raise _Converted
        return t.Literal[values] | None
    if found == {"object"}:
        return _object(schema, name) | None if "properties" in schema else _PLAIN["object"]
    if found == {"array"}:
        items = schema.get("items")
        items = single_branch(items) if isinstance(items, dict) else {}
        return list[_shape(items, f"{name}_items") | None] | None  # type: ignore[misc]
    if found == {"boolean"}:
        return _TYPED["boolean"]
    if found == {"integer"}:
        return _TYPED["integer"]
    if found in ({"number"}, {"integer", "number"}):
        return _TYPED["number"]
    if found == {"string"} and schema.get("format") in {"date-time", "date"}:
        raise _Converted  # rewritten (timestamps) or stripped (dates)
    if found == {"string"}:
        return _PLAIN["string"]
    return t.Any
