"""RecordNormaliser: every value of a record converted to the type its schema declares, or null.

GetResponse sends booleans as `"true"`/`"false"` strings, many counters as numeric strings,
timestamps with a colon-less offset (`+0000`) or none at all (GMT), and newsletter `flags` as a
comma-joined string in lists (OpenAPI schemas `StringBooleanEnum`, `MessageFlagsString`,
`LpsListItem.createdAt`). Each stream compiles its Singer schema once into a plan of the paths to
convert and the fields whose type to check; `normalise` then touches only those, and an object
whose checked fields have types already seen to fit costs one set lookup. What one value may be
converted from is conversions.py's.

Conversions, by the type the schema declares:

- boolean: `true`/`false`, `1`/`0`, `yes`/`no` (any case, as strings) and the numbers 1/0;
- integer: integer strings, and integral floats or float strings (`"12.0"`);
- number: numeric strings (integers stay `int`);
- string: numbers and booleans become their JSON text;
- string with format date-time: RFC 3339 with seconds and a `+hh:mm` offset (`Z` becomes
  `+00:00`, `+0000` becomes `+00:00`, a missing offset means GMT as `LpsListItem` documents,
  a date alone means midnight GMT);
- string with format date: `YYYY-MM-DD`, checked and kept;
- string with an `enum`: one of its values;
- array of strings: a comma-joined string becomes a list.

Any other value becomes null and goes to the stream's `ValueReport` (value_report.py): strings
that are not numbers, dates or booleans (the empty string included), objects where a scalar or
an array is declared, scalars where an object or an array is, values outside an enum. A record
that is not an object at all is skipped the same way. Nothing here ends a run, unless the report
is strict (`strict_values`). Values already of the right type and untyped fields pass unchanged.

Keys an object's schema does not declare are dropped, with one warning per path, as the SDK's own
type conformance does; the streams switch that conformance off (it walks every value of every
record) because this plan already leaves records exactly as the SDK would.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tap_getresponse.conversions import (
    OFFSET_MARKS,
    OFFSET_STAMP_LENGTH,
    TYPED,
    common_datetime,
    enum_check,
    general_datetime,
    interval_start,
    normalise_datetime,
    number_or_boolean_text,
    to_boolean,
    to_date,
    to_integer,
    to_number,
    to_string,
)
from tap_getresponse.page_check import PageCheck
from tap_getresponse.schema_kinds import kinds, plain_kind, single_branch, typed_kind
from tap_getresponse.value_report import SKIPPED, StrictValuesError, ValueReport

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Convert = Callable[[object], object]
    Fix = Callable[[dict[str, Any], tuple[str, ...]], None]
    Plan = tuple[tuple[str, Convert], ...]
    Checks = tuple[tuple[tuple[str, ...], frozenset[type], Fix], ...]

__all__ = ["RecordNormaliser", "interval_start", "normalise_datetime"]

#: Type signatures remembered per object schema (a few per schema are the norm).
MAX_SIGNATURES = 512
#: Declared types checked by the value's Python type alone (None always passes).
_PLAIN_TYPES: dict[str, type] = {"string": str, "object": dict, "array": list}


class RecordNormaliser:
    """Converts one stream's records to the types its Singer schema declares, or to null."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        *,
        stream_name: str = "",
        logger: logging.Logger | None = None,
        report: ValueReport | None = None,
    ) -> None:
        """Compile `schema` into the paths to convert and check (done once per stream)."""
        self.stream_name = stream_name
        self.logger = logger or logging.getLogger(__name__)
        #: Where values that do not fit go (counted, warned about, or a stop when strict).
        self.report = report or ValueReport(stream_name, self.logger)
        #: path -> conversion kind, for logs and tests (`a.b[].c`: `[]` steps into arrays).
        self.conversions: dict[str, str] = {}
        #: Undeclared keys already warned about (one warning per path and run).
        self.dropped: set[str] = set()
        plan, checks = self._compile_properties(schema, "")
        self._convert = self._compile_object(schema, "", (plan, checks))
        #: Pages whose values fit checked in one msgspec call (page_check.py); None: never.
        self._page_check = PageCheck.compile(schema)
        check = self._page_check
        #: On a page that fits: the converters of the fields the check leaves to the normaliser
        #: (and whether the check read the field as a timestamp: `normalise_page`),
        self._page_plan = tuple(
            (key, c, key in check.stamped) for key, c in plan if check and key in check.rewritten
        )
        #: and, where it fits only leniently, the checks of its top-level typed fields.
        self._page_checks = tuple(c for c in checks if check and c[0][0] in check.typed)
        #: Whether the next page is checked strictly first (`normalise_page`).
        self._strict_first = True

    def normalise(self, record: object) -> dict[str, Any] | None:
        """Convert `record` in place and return it; None (reported) when it is not an object."""
        if type(record) is not dict:
            self.report.bad("", "object", record, action=SKIPPED)
            return None
        if self._convert is not None:
            self._convert(record)
        return record

    def normalise_page(
        self, rows: list[Any], primary_keys: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """`normalise` of every row, those it skips left out: a page at a time where it fits.

        A page that `PageCheck` finds fitting needs only its converted fields done, record by
        record, with the converters `normalise` uses (same values, same reports; the colon of a
        checked `+hhmm` timestamp is put in here, as `common_datetime` would); any other page is
        normalised record by record. `primary_keys` name the record in the line of a
        `strict_values` stop.
        """
        check = self._page_check
        fits = check.fits(rows, strict_first=self._strict_first) if check is not None else None
        if fits is None:
            return self._normalise_rows(rows, primary_keys)
        misfit = self._convert_fitting(rows, () if fits else self._page_checks, primary_keys)
        # Fitting only leniently (custom field columns of numbers come as text): the next page
        # is checked leniently first (one msgspec call, not two), until one needs no fix.
        self._strict_first = fits or not misfit
        return list(rows)

    def _convert_fitting(
        self, rows: list[Any], checks: Checks, primary_keys: tuple[str, ...]
    ) -> bool:
        """Convert what a fitting page still needs (`normalise_page`); whether a check fixed any."""
        length, marks = OFFSET_STAMP_LENGTH, OFFSET_MARKS
        misfit = False
        row: Any = None
        try:
            for row in rows:
                for key, convert, stamp in self._page_plan:
                    child = row.get(key)
                    if child is None:
                        continue
                    # A valid timestamp (`PageCheck`), usually `...+0000`: a colon to put in.
                    # (Text: the check would pass a datetime object too, which is reported.)
                    if (
                        stamp
                        and type(child) is str
                        and len(child) == length
                        and child[4:20:3] in marks
                    ):
                        row[key] = child[:22] + ":" + child[22:]
                    else:
                        row[key] = convert(child)
                if checks and self._check(row, checks):
                    misfit = True
        except StrictValuesError as error:
            raise error.with_record(_named(row, primary_keys)) from None
        return misfit

    def _normalise_rows(
        self, rows: list[Any], primary_keys: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """`normalise` of every row, those it skips left out."""
        records = []
        row: Any = None
        try:
            for row in rows:
                if (record := self.normalise(row)) is not None:
                    records.append(record)
        except StrictValuesError as error:
            raise error.with_record(_named(row, primary_keys)) from None
        return records

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
        schema = single_branch(schema)
        found = kinds(schema)
        fmt = schema.get("format")
        if "enum" in schema:
            return self._leaf(path, "enum", enum_check(schema["enum"]))
        if found == {"object"}:
            return self._compile_object(schema, path)
        if found == {"array"}:
            return self._compile_array(schema, path)
        if found == {"boolean"}:
            return self._leaf(path, "boolean", to_boolean)
        if found == {"integer"}:
            return self._leaf(path, "integer", to_integer)
        if found in ({"number"}, {"integer", "number"}):
            return self._leaf(path, "number", to_number)
        if found == {"string"} and fmt == "date-time":
            return self._datetime_leaf(path)
        if found == {"string"} and fmt == "date":
            return self._leaf(path, "date", to_date)
        if found == {"string"}:
            return self._leaf(path, "string", to_string, record=False)
        return None

    def _compile_properties(self, schema: Mapping[str, Any], path: str) -> tuple[Plan, Checks]:
        """Fields to convert one by one, and plain fields to check in bulk, by kind."""
        plan: list[tuple[str, Convert]] = []
        plain: dict[str, list[str]] = {}
        typed: dict[str, list[str]] = {}
        for key, child in (schema.get("properties") or {}).items():
            child_path = f"{path}.{key}" if path else key
            kind = plain_kind(child)
            if kind is not None:
                plain.setdefault(kind, []).append(key)
            elif (kind := typed_kind(child)) is not None:
                typed.setdefault(kind, []).append(key)
                self.conversions[child_path] = kind
            elif (convert := self._compile(child, child_path)) is not None:
                plan.append((key, convert))
        checks = tuple(
            (tuple(keys), frozenset({_PLAIN_TYPES[kind], type(None)}), self._fix_plain(kind, path))
            for kind, keys in plain.items()
        ) + tuple(
            (tuple(keys), TYPED[kind][0] | {type(None)}, self._fix_typed(kind, path))
            for kind, keys in typed.items()
        )
        return tuple(plan), checks

    def _compile_object(
        self, schema: Mapping[str, Any], path: str, compiled: tuple[Plan, Checks] | None = None
    ) -> Convert:
        plan, checks = compiled or self._compile_properties(schema, path)
        closed = "properties" in schema and not schema.get("additionalProperties")
        declared = frozenset(schema.get("properties") or ())
        report = self.report
        checked = tuple(key for keys, _, _ in checks for key in keys)
        #: Type signatures (the checked fields' types, in order) already seen to fit.
        fitting: set[tuple[type, ...]] = set()

        def convert_object(value: object) -> object:
            if type(value) is not dict:
                report.bad(path, "object", value)
                return None
            if closed and not declared.issuperset(value):
                self._drop_undeclared(value, declared, path)
            for key, convert in plan:
                child = value.get(key)
                if child is not None:
                    value[key] = convert(child)
            # One C-level pass over the checked fields' types; a known fit is one set lookup.
            signature = tuple(map(type, map(value.get, checked)))
            if signature in fitting:
                return value
            if not self._check(value, checks) and len(fitting) < MAX_SIGNATURES:
                fitting.add(signature)
            return value

        return convert_object

    @staticmethod
    def _check(value: dict[str, Any], checks: Checks) -> bool:
        """Fix the fields of `value` whose type does not fit; whether any did not."""
        misfit = False
        for keys, allowed, fix in checks:
            if not allowed.issuperset(map(type, map(value.get, keys))):
                fix(value, keys)
                misfit = True
        return misfit

    def _fix_plain(self, kind: str, path: str) -> Fix:
        """Convert (strings) or null the fields of one plain kind whose values do not fit."""
        wanted = _PLAIN_TYPES[kind]
        report = self.report

        def fix(value: dict[str, Any], keys: tuple[str, ...]) -> None:
            for key in keys:
                child = value.get(key)
                if child is None or type(child) is wanted:
                    continue
                converted = number_or_boolean_text(child) if kind == "string" else None
                value[key] = converted
                if converted is None:
                    report.bad(f"{path}.{key}" if path else key, kind, child)

        return fix

    def _fix_typed(self, kind: str, path: str) -> Fix:
        """Convert the fields of one typed kind whose values are not that type yet, or null them.

        Booleans, integers and numbers are checked in bulk like plain fields (most already come
        as their type): only a value of another type pays for a conversion.
        """
        wanted, convert = TYPED[kind]
        report = self.report

        def fix(value: dict[str, Any], keys: tuple[str, ...]) -> None:
            for key in keys:
                child = value.get(key)
                if child is None or type(child) in wanted:
                    continue
                try:
                    value[key] = convert(child)
                except (TypeError, ValueError, OverflowError):
                    value[key] = None
                    report.bad(f"{path}.{key}" if path else key, kind, child)

        return fix

    def _compile_array(self, schema: Mapping[str, Any], path: str) -> Convert:
        items = schema.get("items")
        items = single_branch(items) if isinstance(items, dict) else {}
        item_convert = self._compile(items, f"{path}[]")
        splits = kinds(items) == {"string"} and "format" not in items and "enum" not in items
        if splits:
            self.conversions[path] = "comma-list"
        report = self.report
        plain = plain_kind(items)
        #: Item types that need no conversion (plain items: checked in one pass, like objects).
        fitting = frozenset({_PLAIN_TYPES[plain], type(None)}) if plain else frozenset()

        def convert_array(value: object) -> object:
            if type(value) is not list:
                if not (splits and isinstance(value, str)):
                    report.bad(path, "array", value)
                    return None
                value = [part.strip() for part in value.split(",") if part.strip()]
            if item_convert is not None and not fitting.issuperset(map(type, value)):
                value = [None if item is None else item_convert(item) for item in value]
            return value

        return convert_array

    def _datetime_leaf(self, path: str) -> Convert:
        """`_leaf(path, "date-time", to_datetime)` in one call, not four: most values are these."""
        self.conversions[path] = "date-time"
        report = self.report

        def convert_datetime(value: object) -> object:
            if type(value) is str:
                try:
                    return common_datetime(value) or general_datetime(value)
                except (ValueError, OverflowError):
                    pass
            report.bad(path, "date-time", value)
            return None

        return convert_datetime

    def _leaf(self, path: str, kind: str, convert: Convert, *, record: bool = True) -> Convert:
        if record:
            self.conversions[path] = kind
        report = self.report

        def convert_leaf(value: object) -> object:
            try:
                return convert(value)
            except (TypeError, ValueError, OverflowError):
                report.bad(path, kind, value)
                return None

        return convert_leaf


def _named(row: object, primary_keys: tuple[str, ...]) -> dict[str, Any]:
    """The primary keys of `row`, to name it in the line of a `strict_values` stop."""
    return {key: row.get(key) for key in primary_keys} if type(row) is dict else {}
