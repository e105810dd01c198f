"""Custom event records read and their attributes converted to the event's types (pure functions).

A definition is the OpenAPI schema `CustomEventDetails` (operation `getCustomEventsList`): a name
and attributes typed `string`, `number`, `datetime` or `boolean` (schema `CustomEventAttribute`).
A trigger's values take the forms of schema `TriggerCustomEventAttributeValue`: a string of 1-255
characters, a JSON boolean, an ISO 8601 date-time string, or an int64 for a number.
A reason never quotes a value: an attribute may hold an address.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from target_getresponse.mapping import RejectError, json_type

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: Schemas `CustomEvent` and `CustomEventAttribute`, `name`.
EVENT_NAME = re.compile(r"^[a-z0-9_]{3,64}$")
#: Schema `CustomEventAttribute`, `type`.
ATTRIBUTE_TYPES = frozenset({"string", "number", "datetime", "boolean"})
#: Schema `TriggerCustomEventAttributeValue`: strings of 1-255 characters, integers of 64 bits.
MAX_STRING_LENGTH = 255
INT64 = 2**63
#: Spellings of a boolean taken from text (any case), besides JSON booleans.
BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """A custom event of the account: its id, name and attribute types by attribute name."""

    event_id: str
    name: str
    attributes: Mapping[str, str]

    @classmethod
    def from_api(cls, item: Mapping[str, t.Any]) -> EventDefinition:
        """Schema `CustomEventDetails`."""
        return cls(
            event_id=str(item["customEventId"]),
            name=str(item["name"]),
            attributes={
                str(a["name"]): str(a.get("type") or "string")
                for a in item.get("attributes") or ()
                if isinstance(a, dict) and a.get("name")
            },
        )


@dataclass(slots=True)
class EventRecord:
    """One event as read from a record: which event, for whom, with what attributes."""

    name: str
    contact_id: str | None = None
    attributes: dict[str, t.Any] = field(default_factory=dict)


def read_event(record: Mapping[str, t.Any]) -> EventRecord:
    """The event name, `contactId` and attributes of a record.

    The contact's email and list are read as for contacts (mapping.read_contact).
    """
    name = record.get("name")
    if name is not None and not isinstance(name, str):
        msg = f"property 'name' (the custom event's name) must be text, got {json_type(name)}"
        raise RejectError(msg)
    if name is None or not name.strip():
        msg = "missing required property 'name' (the custom event's name)"
        raise RejectError(msg)
    contact_id = record.get("contactId")
    if contact_id is not None and not isinstance(contact_id, (str, int)):
        msg = "contactId must be a string"
        raise RejectError(msg)
    attributes = record.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        msg = "attributes must be an object keyed by attribute name"
        raise RejectError(msg)
    return EventRecord(
        name=name.strip(),
        contact_id=(str(contact_id).strip() or None) if contact_id is not None else None,
        attributes={str(k): v for k, v in attributes.items() if v is not None and v != ""},
    )


def trigger_attributes(
    definition: EventDefinition, values: Mapping[str, t.Any]
) -> list[dict[str, t.Any]]:
    """Schema `TriggerCustomEventAttribute` items: each value in its attribute's type."""
    out: list[dict[str, t.Any]] = []
    for name, value in values.items():
        kind = definition.attributes.get(name)
        if kind is None:
            msg = f"custom event '{definition.name}' has no attribute '{name}'"
            raise RejectError(msg)
        out.append({"name": name, "value": attribute_value(definition.name, name, kind, value)})
    return out


def attribute_value(event: str, name: str, kind: str, value: t.Any) -> t.Any:  # noqa: ANN401
    """`value` in the form an attribute of type `kind` takes; RejectError naming the attribute."""
    where = f"custom event '{event}', attribute '{name}'"
    if isinstance(value, (dict, list)):
        msg = f"{where} ({kind}) got {json_type(value)}"
        raise RejectError(msg)
    if kind == "boolean":
        return _boolean(where, value)
    if kind == "number":
        return _integer(where, value)
    if kind == "datetime":
        return _date_time(where, value)
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if len(text) > MAX_STRING_LENGTH:
        msg = f"{where} is longer than {MAX_STRING_LENGTH} characters"
        raise RejectError(msg)
    return text


def infer_attribute_type(value: t.Any, schema: Mapping[str, t.Any] | None = None) -> str:  # noqa: ANN401
    """A type for a new event's attribute: from its JSON schema, else from the record's value."""
    schema = schema or {}
    types = schema.get("type") or []
    types = {types} if isinstance(types, str) else set(types)
    if schema.get("format") in {"date-time", "date"}:
        return "datetime"
    if types - {"null"} == {"boolean"} or (not types and isinstance(value, bool)):
        return "boolean"
    numeric = types - {"null"} and types - {"null"} <= {"integer", "number"}
    if numeric or (not types and isinstance(value, (int, float))):
        return "number"
    return "string"


def _boolean(where: str, value: t.Any) -> bool:  # noqa: ANN401
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[value.strip().lower()]
    msg = f"{where} needs a boolean (true/false), got {json_type(value)}"
    raise RejectError(msg)


def _integer(where: str, value: t.Any) -> int:  # noqa: ANN401
    """A whole number: the trigger takes `number` attributes as int64 only."""
    number = None
    if not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        msg = f"{where} needs a number, got {json_type(value)}"
        raise RejectError(msg)
    if number != number.to_integral_value():
        msg = f"{where} needs a whole number (GetResponse takes integers), got a fraction"
        raise RejectError(msg)
    if not -INT64 <= int(number) < INT64:
        msg = f"{where} is out of the 64-bit integer range"
        raise RejectError(msg)
    return int(number)


def _date_time(where: str, value: t.Any) -> str:  # noqa: ANN401
    """`2019-01-01T08:00:00+0000`, the form the spec's example uses, in UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            msg = f"{where} needs an ISO 8601 date or date-time, got {json_type(value)}"
            raise RejectError(msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
