"""Custom field definitions, and a record's value in the string-array form a field takes (pure).

A definition is the OpenAPI schema `CustomField` (operations `getCustomFieldList`,
`createCustomField`); a contact's value is schema `NewContactCustomFieldValue`: every value a
string inside an array, several only for the multi-value formats.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from target_getresponse.mapping import RejectError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: Formats that take several values (schema `CustomFieldFormatEnum`).
MULTI_VALUE_FORMATS = frozenset({"multi_select", "checkbox"})
#: Formats whose values must be among the field's own `values`.
CHOICE_FORMATS = frozenset({"radio", "single_select", "multi_select", "checkbox"})
#: Schema `CustomField`, `name`: lowercase letters, digits and underscores, 1-128 of them.
_FIELD_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_FIELD_NAME_MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class CustomField:
    """A GetResponse custom field definition (schema `CustomField`)."""

    field_id: str
    name: str
    value_type: str
    field_format: str
    values: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, item: Mapping[str, t.Any]) -> CustomField:
        """Accept both the current (`type`+`format`) and the legacy (`type`=format) shape."""
        kind = str(item.get("type") or "string")
        field_format = str(item.get("format") or item.get("fieldType") or "text")
        value_type = str(item.get("valueType") or kind)
        if kind in {"text", "textarea", "radio", "checkbox", "single_select", "multi_select"}:
            field_format, value_type = kind, str(item.get("valueType") or "string")
        return cls(
            field_id=str(item["customFieldId"]),
            name=str(item["name"]),
            value_type=value_type,
            field_format=field_format,
            values=tuple(str(v) for v in item.get("values") or ()),
        )


def valid_field_name(name: str) -> bool:
    """Whether GetResponse would accept `name` for a new custom field."""
    return 1 <= len(name) <= _FIELD_NAME_MAX_LENGTH and set(name) <= _FIELD_NAME_CHARS


def infer_field_type(schema: Mapping[str, t.Any] | None) -> str:
    """A custom field `type` (schema `CustomFieldTypeEnum`) from the record's JSON schema."""
    schema = schema or {}
    types = schema.get("type") or []
    types = {types} if isinstance(types, str) else set(types)
    if schema.get("format") == "date-time":
        return "datetime"
    if schema.get("format") == "date":
        return "date"
    if types & {"integer", "number"} and "boolean" not in types:
        return "number"
    return "string"


def field_values(custom_field: CustomField, value: t.Any) -> list[str]:  # noqa: ANN401
    """GetResponse's string-array form of `value`; RejectError when it cannot fit the field."""
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if v is not None and v != ""]
    if len(values) > 1 and custom_field.field_format not in MULTI_VALUE_FORMATS:
        msg = f"custom field '{custom_field.name}' takes one value, got {len(values)}"
        raise RejectError(msg)
    converted = [_field_value(custom_field, item) for item in values]
    if custom_field.values and custom_field.field_format in CHOICE_FORMATS:
        unknown = [v for v in converted if v not in custom_field.values]
        if unknown:
            msg = f"custom field '{custom_field.name}' does not allow {unknown[0]!r}"
            raise RejectError(msg)
    return converted


def _field_value(custom_field: CustomField, item: t.Any) -> str:  # noqa: ANN401 - any JSON value
    if custom_field.value_type == "number":
        return _number(custom_field, item)
    if custom_field.value_type == "date":
        return _moment(custom_field, item).date().isoformat()
    if custom_field.value_type == "datetime":
        return _moment(custom_field, item).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _number(custom_field: CustomField, item: t.Any) -> str:  # noqa: ANN401
    if isinstance(item, bool):
        msg = f"custom field '{custom_field.name}' needs a number, got a boolean"
        raise RejectError(msg)
    try:
        number = Decimal(str(item).strip())
    except InvalidOperation:
        msg = f"custom field '{custom_field.name}' needs a number, got {item!r}"
        raise RejectError(msg) from None
    if not number.is_finite():
        msg = f"custom field '{custom_field.name}' needs a finite number"
        raise RejectError(msg)
    return str(number.normalize()) if number != number.to_integral() else str(int(number))


def _moment(custom_field: CustomField, item: t.Any) -> dt.datetime:  # noqa: ANN401
    if isinstance(item, dt.datetime):
        moment = item
    elif isinstance(item, dt.date):
        moment = dt.datetime(item.year, item.month, item.day, tzinfo=dt.UTC)
    else:
        text = str(item).strip().replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            kind = custom_field.value_type
            msg = f"custom field '{custom_field.name}' needs a {kind}, got {item!r}"
            raise RejectError(msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
