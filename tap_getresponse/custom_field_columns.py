"""Custom fields as typed columns of `contact_details`: `cf_<field name>` each, and `tag_names`.

A contact carries its custom field values as a list of `{customFieldId, name, value: [...]}`
(OpenAPI schema `ContactDetails`, `customFieldValues`), which every warehouse user would pivot
in SQL. The account's fields (OpenAPI `getCustomFieldList`) become one column each, typed from
the field's `type` and `format` (OpenAPI schema `CustomField`). The values are placed raw: the
stream's normaliser converts them to the column's type, or makes them null and reports them.
"""

from __future__ import annotations

import copy
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

PREFIX = "cf_"
TAG_NAMES = "tag_names"
#: Formats whose fields hold several values (OpenAPI schema `CustomFieldFormatEnum`).
MULTI_VALUE_FORMATS = frozenset({"checkbox", "multi_select"})
STRINGS: Mapping[str, t.Any] = {"type": ["array", "null"], "items": {"type": ["string", "null"]}}
#: Column schemas by the field's `type` (OpenAPI schema `CustomFieldTypeEnum`); else a string.
BY_TYPE: Mapping[str, Mapping[str, t.Any]] = {
    "number": {"type": ["number", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
}
STRING: Mapping[str, t.Any] = {"type": ["string", "null"]}


def column_schema(field: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The JSON schema of one field's column (`fieldType` is the deprecated name of `format`)."""
    if (field.get("format") or field.get("fieldType")) in MULTI_VALUE_FORMATS:
        return copy.deepcopy(dict(STRINGS))
    return copy.deepcopy(
        dict(BY_TYPE.get(str(field.get("type") or field.get("valueType")), STRING))
    )


def columns(fields: Iterable[object]) -> dict[str, dict[str, t.Any]]:
    """`cf_<name>` -> schema for every field with a name, plus `tag_names`."""
    found: dict[str, dict[str, t.Any]] = {}
    for field in fields:
        if type(field) is dict and isinstance(field.get("name"), str) and field["name"]:
            found[PREFIX + field["name"]] = column_schema(field)
    found[TAG_NAMES] = copy.deepcopy(dict(STRINGS))
    return found


def declared_columns(schema: Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """The custom field columns and `tag_names` a stream schema (from a catalog) declares."""
    properties: Mapping[str, t.Any] = schema.get("properties") or {}
    return {
        name: dict(prop)
        for name, prop in properties.items()
        if name.startswith(PREFIX) or name == TAG_NAMES
    }


class Filler:
    """Fills the declared columns of records, its plan made once per stream (10,000s of records).

    A column the contact has no value for is null. A single-value column gets the one value;
    several values stay a list, which the normaliser then reports as not fitting the column.
    Parts of the wrong shape are skipped here (the normaliser reports the raw ones).
    """

    def __init__(self, declared: Mapping[str, Mapping[str, t.Any]]) -> None:
        """Each column with the field name it is filled from and whether it holds a list."""
        self.plan = tuple(
            (column, column[len(PREFIX) :], "array" in (schema.get("type") or ()))
            for column, schema in declared.items()
            if column != TAG_NAMES
        )
        self.tags = TAG_NAMES in declared

    def fill(self, record: dict[str, t.Any]) -> None:
        """Set every declared column of `record` from its `customFieldValues` and `tags`."""
        values: dict[str, list[object]] = {}
        for entry in _objects(record.get("customFieldValues")):
            name, value = entry.get("name"), entry.get("value")
            if type(name) is str and type(value) is list:
                values[name] = value
        for column, name, many in self.plan:
            found = values.get(name)
            if many or found is None:
                record[column] = found
            else:  # one value: that value; none: null; several: the list (reported)
                record[column] = found[0] if len(found) == 1 else found or None
        if self.tags:
            record[TAG_NAMES] = [
                tag["name"] for tag in _objects(record.get("tags")) if tag.get("name") is not None
            ]


def _objects(value: object) -> list[dict[str, t.Any]]:
    """The objects of a list (anything else: none)."""
    return [item for item in value if type(item) is dict] if type(value) is list else []
