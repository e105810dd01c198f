"""Custom events: definitions (list, detail, create, delete) and triggers, per the official OpenAPI.

Operations `getCustomEventsList`, `getCustomEventById`, `createCustomEvent`, `deleteCustomEvent`
and `triggerCustomEvent`; bodies follow schemas `CustomEvent`, `CustomEventAttribute` and
`TriggerCustomEvent`. Every accepted trigger is kept in `data.triggered_events` for assertions.
"""
# ruff: noqa: EM101, EM102, TRY003 - messages here are API error bodies, not exception text

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, public, route
from tests.sandbox.util import SEED_END, SEED_START, fmt_ts, now

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

#: Schemas `CustomEvent` and `CustomEventAttribute`, `name`.
NAME = re.compile(r"^[a-z0-9_]{3,64}$")
#: Schema `CustomEventAttribute`, `type`.
ATTRIBUTE_TYPES = frozenset({"string", "number", "datetime", "boolean"})
#: Schema `TriggerCustomEventAttributeValue`: a string of 1-255 characters.
MAX_STRING = 255
#: An ISO 8601 date-time, as schema `TriggerCustomEventAttributeValue` describes it.
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$")
INT64 = 2**63
#: Seeded definitions: every attribute type, several per event, and one event with none.
SEEDED: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("lesson_finished", (("lesson_name", "string"), ("score", "number"))),
    ("order_shipped", (("shipped_at", "datetime"), ("express", "boolean"), ("carrier", "string"))),
    ("trial_started", (("plan", "string"), ("seats", "number"), ("ends_at", "datetime"))),
    ("newsletter_clicked", ()),
    ("webinar_attended", (("live", "boolean"), ("minutes", "number"))),
)  # fmt: skip

CUSTOM_EVENTS = ListSpec(
    "customEventId",
    filters={"name": Filter("like"), "hasAttributes": Filter("eq", "_hasAttributes")},
    sorts={"name": "name"},
)


def _event(
    data: DataStore, ident: str, name: str, attributes: list[dict[str, str]], created: int
) -> dict[str, Any]:
    return {
        "customEventId": ident,
        "href": f"{data.base}/custom-events/{ident}",
        "name": name,
        "createdOn": fmt_ts(created),
        "attributes": attributes,
        "_hasAttributes": "true" if attributes else "false",
    }


def seed(store: DataStore) -> None:
    """Seed the definitions from a generator of their own: the store's other values stay put."""
    rng = random.Random(f"custom-events-{store.seed}")
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    used = store._used_ids  # noqa: SLF001 - the store's id registry, so ids never clash

    def new_id(length: int) -> str:
        while True:
            ident = "".join(rng.choice(alphabet) for _ in range(length))
            if ident not in used:
                used.add(ident)
                return ident

    events = []
    for name, attributes in SEEDED:
        listed = [
            {"customEventAttributeId": new_id(3), "name": attribute, "type": kind}
            for attribute, kind in attributes
        ]
        created = rng.randint(SEED_START, SEED_END)
        events.append(_event(store, new_id(3), name, listed, created))
    store.collections["custom-events"] = events
    store.collections["triggered-events"] = []


@route("GET", "/custom-events")
def list_custom_events(ctx: Ctx) -> Response:
    """`getCustomEventsList`: paged; `query[name]`, `query[hasAttributes]`, `sort[name]`."""
    return list_response(ctx, ctx.data.collections["custom-events"], CUSTOM_EVENTS)


@route("GET", "/custom-events/{customEventId}")
def get_custom_event(ctx: Ctx) -> Response:
    """`getCustomEventById`."""
    item = get_or_404(ctx, "custom-events", "customEventId")
    return detail_response(ctx, item, "customEventId")


@route("DELETE", "/custom-events/{customEventId}")
def delete_custom_event(ctx: Ctx) -> Response:
    """`deleteCustomEvent`: 204."""
    with ctx.data.lock:
        ctx.data.remove_item("custom-events", get_or_404(ctx, "custom-events", "customEventId"))
    return Response(204)


def _invalid(field: str, description: str) -> errors.ApiError:
    return errors.validation(validationType="body", fieldName=field, errorDescription=description)


def _body(ctx: Ctx) -> dict[str, Any]:
    if not isinstance(ctx.body, dict):
        raise errors.validation("Request body must be a JSON object", validationType="body")
    return ctx.body


def _definitions(raw: Any) -> list[tuple[str, str]]:
    """(name, type) of each attribute of a `createCustomEvent` body; 400 when one is wrong."""
    if not isinstance(raw, list):
        raise _invalid("attributes", "Expected an array")
    seen: list[tuple[str, str]] = []
    for index, item in enumerate(raw):
        where = f"attributes[{index}]"
        if not isinstance(item, dict):
            raise _invalid(where, "Expected an object")
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not NAME.match(name):
            raise _invalid(f"{where}.name", "Must match ^[a-z0-9_]{3,64}$")
        if kind not in ATTRIBUTE_TYPES:
            raise _invalid(f"{where}.type", "Must be one of string, number, datetime, boolean")
        if any(name == other for other, _ in seen):
            raise _invalid(f"{where}.name", "Attribute names must be unique")
        seen.append((name, str(kind)))
    return seen


@route("POST", "/custom-events")
def create_custom_event(ctx: Ctx) -> Response:
    """`createCustomEvent`: 201 CustomEventDetails; a taken name is 400 / 1000."""
    body = _body(ctx)
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise _invalid("name", "Must match ^[a-z0-9_]{3,64}$")
    if "attributes" not in body:
        raise _invalid("attributes", "This value should not be blank")
    attributes = _definitions(body["attributes"])
    data = ctx.data
    with data.lock:
        if any(event["name"] == name for event in data.collections["custom-events"]):
            # `createCustomEvent` documents no 409: a taken name is a validation error.
            raise _invalid("name", "A custom event with this name already exists")
        listed = [
            {"customEventAttributeId": data.new_id(3), "name": attribute, "type": kind}
            for attribute, kind in attributes
        ]
        item = _event(data, data.new_id(3), name, listed, now())
        data.add_item("custom-events", item)
    return Response(201, public(item))


def _value_fits(kind: str, value: Any) -> bool:
    """Whether `value` is one of schema `TriggerCustomEventAttributeValue`'s forms for `kind`."""
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "number":
        return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64
    if kind == "datetime":
        return isinstance(value, str) and DATE_TIME.match(value) is not None
    return isinstance(value, str) and 1 <= len(value) <= MAX_STRING


def _trigger_attributes(raw: Any, defined: dict[str, str]) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _invalid("attributes", "Expected an array")
    out: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        where = f"attributes[{index}]"
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise _invalid(where, "Expected an object with name and value")
        name = item["name"]
        if not isinstance(name, str) or name not in defined:
            raise _invalid(f"{where}.name", "The attribute is not defined for this custom event")
        if not _value_fits(defined[name], item["value"]):
            raise _invalid(f"{where}.value", f"Value does not fit the {defined[name]} attribute")
        out.append({"name": name, "value": item["value"]})
    return out


@route("POST", "/custom-events/trigger")
def trigger_custom_event(ctx: Ctx) -> Response:
    """`triggerCustomEvent`: 201, empty; unknown event 400 / 1001, unknown contact 404 / 1013."""
    body = _body(ctx)
    name, contact_id = body.get("name"), body.get("contactId")
    if not isinstance(name, str) or not NAME.match(name):
        raise _invalid("name", "Must match ^[a-z0-9_]{3,64}$")
    if not isinstance(contact_id, str) or not contact_id:
        raise _invalid("contactId", "This value should not be blank")
    data = ctx.data
    with data.lock:
        event = next((e for e in data.collections["custom-events"] if e["name"] == name), None)
        if event is None:
            raise errors.related_missing("Custom event not found", name=name)
        defined = {a["name"]: a["type"] for a in event["attributes"]}
        attributes = _trigger_attributes(body.get("attributes"), defined)
        if data.contacts_store.row_of(contact_id) is None:
            raise errors.not_found(contactId=contact_id)
        data.collections["triggered-events"].append(
            {
                "customEventId": event["customEventId"],
                "name": name,
                "contactId": contact_id,
                "attributes": attributes,
                "triggeredOn": fmt_ts(now()),
            }
        )
    return Response(201)
