"""Write endpoints: contacts (single, batch, update, delete), imports, tags, custom fields (§4)."""
# ruff: noqa: EM101, EM102, TRY003 - messages here are API error bodies (§5.1), not exception text

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.endpoints import contact_row
from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, public, route
from tests.sandbox.util import fmt_ts, now, valid_email

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

MAX_BATCH = 1000  # §4.2
TAG_NAME = re.compile(r"^[_a-zA-Z0-9]{2,64}$")  # §3.5
FIELD_NAME = re.compile(r"^[a-z0-9_]{1,128}$")  # §3.4
RESERVED_FIELD_NAMES = {
    "name", "email", "twitter", "facebook", "buzz", "myspace", "linkedin", "digg", "googleplus",
    "pinterest", "responder", "campaign", "change",
}  # fmt: skip
FIELD_TYPES = {
    "string",
    "number",
    "date",
    "datetime",
    "country",
    "currency",
    "phone",
    "gender",
    "ip",
    "url",
}
FIELD_FORMATS = {"text", "textarea", "radio", "checkbox", "single_select", "multi_select"}


def _body(ctx: Ctx) -> dict[str, Any]:
    if not isinstance(ctx.body, dict):
        raise errors.validation("Request body must be a JSON object", validationType="body")
    return ctx.body


def _invalid(field: str, description: str, **more: Any) -> errors.ApiError:
    return errors.validation(
        validationType="body", fieldName=field, errorDescription=description, **more
    )


def _refused(ctx: Ctx, email: str) -> bool:
    return email.rsplit("@", 1)[-1].lower() in ctx.sb.refused_domains


def _campaign_idx(data: DataStore, campaign_id: Any, field: str) -> int:
    if not isinstance(campaign_id, str) or not campaign_id:
        raise _invalid(field, "This value should not be blank")
    idx = data.campaign_idx(campaign_id)
    if idx is None:
        raise errors.related_missing("Campaign not found", fieldName=field, campaignId=campaign_id)
    return idx


def _tag_list(data: DataStore, tags: Any, field: str = "tags") -> list[str]:
    """Validate `[{"tagId": ...}]` (single create / update, §4.1)."""
    if not isinstance(tags, list) or not all(isinstance(t, dict) and "tagId" in t for t in tags):
        raise _invalid(field, 'Expected a list of {"tagId": "..."} objects')
    ids = [str(t["tagId"]) for t in tags]
    return _known_tags(data, ids, field)


def _known_tags(data: DataStore, ids: list[str], field: str) -> list[str]:
    known = {t["tagId"] for t in data.tags}
    for tag_id in ids:
        if tag_id not in known:
            raise errors.related_missing("Tag not found", fieldName=field, tagId=tag_id)
    return list(dict.fromkeys(ids))


def _field_values(
    data: DataStore, values: Any, field: str = "customFieldValues"
) -> dict[str, list[str]]:
    """Validate `[{"customFieldId", "value": [str]}]` (§4.1, §4.6); unknown id -> 400/1001."""
    if not isinstance(values, list):
        raise _invalid(field, "Expected a list")
    known = {f["customFieldId"] for f in data.custom_fields}
    out: dict[str, list[str]] = {}
    for entry in values:
        if not isinstance(entry, dict) or "customFieldId" not in entry:
            raise _invalid(field, 'Expected {"customFieldId": "...", "value": [...]} objects')
        fid = str(entry["customFieldId"])
        value = entry.get("value", entry.get("values"))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            # §4.1: `value` is always an array of strings.
            raise _invalid(f"{field}.value", "Expected an array of strings", customFieldId=fid)
        if fid not in known:
            raise errors.related_missing(
                "Custom field not found", fieldName=field, customFieldId=fid
            )
        out[fid] = list(value)
    return out


def _contact_fields(  # noqa: C901, PLR0912 - one block per documented property
    data: DataStore, body: dict[str, Any], *, batch: bool
) -> dict[str, Any]:
    """Validate the optional contact properties shared by create, batch and update (§4.1-§4.3)."""
    fields: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 128):
            raise _invalid("name", "Name must be 1-128 characters")
        fields["name"] = name
    if "dayOfCycle" in body:
        day = body["dayOfCycle"]
        if day is not None and not isinstance(day, (str, int)):
            raise _invalid("dayOfCycle", "Expected a string")
        fields["dayOfCycle"] = None if day is None else str(day)
    if "scoring" in body:
        score = body["scoring"]
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise _invalid("scoring", "Expected a number")
        fields["scoring"] = score
    if "ipAddress" in body:
        if body["ipAddress"] is not None and not isinstance(body["ipAddress"], str):
            raise _invalid("ipAddress", "Expected an IP address")
        fields["ipAddress"] = body["ipAddress"]
    if "note" in body and not batch:
        note = body["note"]
        if note is not None and (not isinstance(note, str) or len(note) > 255):
            raise _invalid("note", "Note must be at most 255 characters")
        fields["note"] = note
    if "tags" in body:
        if batch:
            # §4.2: batch contacts use {"ids": [...]}, unlike the single create's [{"tagId"}].
            tags = body["tags"]
            if not isinstance(tags, dict) or not isinstance(tags.get("ids"), list):
                raise _invalid("tags", 'Batch tags must be {"ids": ["tagId", ...]}')
            fields["tags"] = _known_tags(data, [str(t) for t in tags["ids"]], "tags")
        else:
            fields["tags"] = _tag_list(data, body["tags"])
    if "customFieldValues" in body:
        fields["customFieldValues"] = _field_values(data, body["customFieldValues"])
    return fields


# ---- POST /contacts (§4.1) -----------------------------------------------------------------
@route("POST", "/contacts")
def create_contact(ctx: Ctx) -> Response:
    """Validate, answer 202 with no body, and add the contact after `async_delay`."""
    body = _body(ctx)
    data = ctx.data
    email = body.get("email")
    if not valid_email(email):
        raise _invalid("email", "This value is not a valid email address", value=str(email))
    campaign = body.get("campaign")
    if not isinstance(campaign, dict):
        raise _invalid("campaign", 'Expected {"campaignId": "..."}')
    with data.lock:
        idx = _campaign_idx(data, campaign.get("campaignId"), "campaign")
        fields = _contact_fields(data, body, batch=False)
        key = (idx, str(email).lower())
        pending = data.pending_emails
        if key in pending or data.contacts_store.find(idx, str(email)) is not None:
            raise errors.conflict(str(email))  # §4.1: already on that campaign -> 409 / 1008
        pending.add(key)
        refused = _refused(ctx, str(email))

        def apply() -> None:
            pending.discard(key)
            if refused or data.contacts_store.find(idx, str(email)) is not None:
                return  # §4.1: rejected after 202, silently
            data.contacts_store.add(idx, str(email), origin="api", fields=fields)

        data.schedule(ctx.sb.async_delay, apply)
    return Response(202)


# ---- POST /contacts/batch (§4.2) -----------------------------------------------------------
@route("POST", "/contacts/batch")
def create_batch(ctx: Ctx) -> Response:
    """Up to 1000 contacts, add-only, async; 202 with no body.

    After the 202 the sandbox silently drops contacts whose e-mail is invalid or on a refused
    domain (Sandbox.refused_domains, default invalid.test and refused.test), and leaves
    contacts already on the list unchanged (the reference marks upsert UNCONFIRMED, §4.2;
    SK-C-I calls batch add-only). Structural errors (wrong tags shape, unknown ids, > 1000)
    fail the whole request with 400.
    """
    body = _body(ctx)
    data = ctx.data
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise _invalid("contacts", "This collection should contain 1 element or more.")
    if len(contacts) > MAX_BATCH:
        raise _invalid("contacts", f"This collection should contain {MAX_BATCH} elements or less.")
    with data.lock:
        idx = _campaign_idx(data, body.get("campaignId"), "campaignId")
        prepared: list[tuple[str, dict[str, Any]]] = []
        for n, contact in enumerate(contacts):
            if not isinstance(contact, dict) or not isinstance(contact.get("email"), str):
                raise _invalid(f"contacts[{n}].email", "This value should not be blank")
            prepared.append((contact["email"], _contact_fields(data, contact, batch=True)))
        result = {"received": len(prepared), "added": 0, "unchanged": 0, "dropped": 0}
        data.batch_results.append(result)
        refused = ctx.sb.refused_domains

        def apply() -> None:
            cs = data.contacts_store
            for email, fields in prepared:
                if not valid_email(email) or email.rsplit("@", 1)[-1].lower() in refused:
                    result["dropped"] += 1
                elif cs.find(idx, email) is not None:
                    result["unchanged"] += 1
                else:
                    cs.add(idx, email, origin="api", fields=fields)
                    result["added"] += 1

        data.schedule(ctx.sb.async_delay, apply)
    return Response(202)


# ---- POST /contacts/{id} and friends (§4.3, §4.4) ------------------------------------------
@route("POST", "/contacts/{contactId}")
def update_contact(ctx: Ctx) -> Response:
    """Update; supplied tags / customFieldValues replace whole collections; 200 ContactDetails."""
    body = _body(ctx)
    data = ctx.data
    with data.lock:
        cs = data.contacts_store
        row = contact_row(ctx)
        fields = _contact_fields(data, body, batch=False)
        new_idx: int | None = None
        if "campaign" in body:
            campaign = body["campaign"]
            if not isinstance(campaign, dict):
                raise _invalid("campaign", 'Expected {"campaignId": "..."}')
            new_idx = _campaign_idx(data, campaign.get("campaignId"), "campaign")
        email = cs.email(row)
        if "email" in body:
            if not valid_email(body["email"]):
                raise _invalid("email", "This value is not a valid email address")
            email = body["email"]
            fields["email"] = email
        target = cs.campaign[row] if new_idx is None else new_idx
        other = cs.find(target, email)
        if other is not None and other != row:
            raise errors.conflict(email)  # §4.3: email/campaign conflict -> 409 / 1008
        cs.update(row, fields, campaign_idx=new_idx)
        item = cs.details(row)
    return Response(200, item)


@route("POST", "/contacts/{contactId}/tags")
def upsert_contact_tags(ctx: Ctx) -> Response:
    """Add tags, never remove (§4.4); 200 with the contact's tags."""
    body = _body(ctx)
    data = ctx.data
    with data.lock:
        cs = data.contacts_store
        row = contact_row(ctx)
        added = _tag_list(data, body.get("tags"))
        tags = list(dict.fromkeys([*cs.tags_of(row), *added]))
        cs.update(row, {"tags": tags})
        by_id = {t["tagId"]: t for t in data.tags}
        out = [
            {k: by_id[t][k] for k in ("tagId", "name", "href", "color", "createdAt")} for t in tags
        ]
    return Response(200, out)


@route("POST", "/contacts/{contactId}/custom-fields")
def upsert_contact_fields(ctx: Ctx) -> Response:
    """Replace the listed fields' values, never remove others (§4.4); 200 with all values."""
    body = _body(ctx)
    data = ctx.data
    with data.lock:
        cs = data.contacts_store
        row = contact_row(ctx)
        values = cs.custom_values(row)
        values.update(_field_values(data, body.get("customFieldValues")))
        cs.update(row, {"customFieldValues": values})
        out = [{"customFieldId": k, "values": v} for k, v in values.items()]
    return Response(200, out)


@route("DELETE", "/contacts/{contactId}")
def delete_contact(ctx: Ctx) -> Response:
    """204; the contact disappears (§4.4)."""
    with ctx.data.lock:
        ctx.data.contacts_store.delete(contact_row(ctx))
    return Response(204)


# ---- tags and custom fields (§3.4, §3.5) ---------------------------------------------------
@route("POST", "/tags")
def create_tag(ctx: Ctx) -> Response:
    """201 Tag; name `^[_a-zA-Z0-9]{2,64}$`; duplicate name -> 409 / 1008."""
    body = _body(ctx)
    name = body.get("name")
    if not isinstance(name, str) or not TAG_NAME.match(name):
        raise _invalid("name", "Tag name must match ^[_a-zA-Z0-9]{2,64}$")
    data = ctx.data
    with data.lock:
        if any(t["name"] == name for t in data.tags):
            raise errors.conflict(name)
        tid = data.new_id(4)
        item = {
            "tagId": tid,
            "href": f"{data.base}/tags/{tid}",
            "name": name,
            "color": "",
            "createdAt": fmt_ts(now()),
        }
        data.add_item("tags", item)
    return Response(201, public(item))


@route("DELETE", "/tags/{tagId}")
def delete_tag(ctx: Ctx) -> Response:
    """204."""
    with ctx.data.lock:
        ctx.data.remove_item("tags", get_or_404(ctx, "tags", "tagId"))
    return Response(204)


@route("POST", "/custom-fields")
def create_custom_field(ctx: Ctx) -> Response:
    """201 CustomField; requires name, type, format, hidden, values (§3.4)."""
    body = _body(ctx)
    for required in ("name", "type", "hidden", "values"):
        if required not in body:
            raise _invalid(required, "This value should not be blank")
    name = body["name"]
    if not isinstance(name, str) or not FIELD_NAME.match(name) or name in RESERVED_FIELD_NAMES:
        raise _invalid("name", "Use lowercase letters, digits and underscores; not a merge word")
    type_ = str(body["type"])
    fmt = str(body.get("format") or "text")
    if type_ in FIELD_FORMATS and type_ not in FIELD_TYPES:
        # §3.4: the legacy form puts a format value in `type`; accept both.
        fmt, type_ = type_, "string"
    if type_ not in FIELD_TYPES or fmt not in FIELD_FORMATS:
        raise _invalid("type", "Unknown custom field type or format")
    values = body["values"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _invalid("values", "Expected an array of strings")
    if fmt in {"radio", "single_select", "multi_select"} and len(values) < 2:
        raise _invalid("values", "This format needs at least 2 values")
    data = ctx.data
    with data.lock:
        if any(f["name"] == name for f in data.custom_fields):
            raise errors.conflict(name)
        fid = data.new_id(5)
        item = {
            "customFieldId": fid,
            "href": f"{data.base}/custom-fields/{fid}",
            "name": name,
            "type": type_,
            "valueType": type_,
            "format": fmt,
            "fieldType": fmt,
            "hidden": "true" if str(body["hidden"]).lower() == "true" else "false",
            "values": list(values),
        }
        data.add_item("custom-fields", item)
    return Response(201, public(item))


# ---- imports (§4.5, §3.10) -----------------------------------------------------------------
IMPORTS = ListSpec(
    "importId",
    filters={"campaignId": Filter("in", "campaign.campaignId"), "createdOn": Filter("range")},
    sorts={
        "createdOn": "createdOn",
        "finishedOn": "finishedOn",
        "campaignName": "campaign.name",
        "uploadedContacts": "statistics.uploaded",
        "updatedContacts": "statistics.updated",
        "addedContacts": "statistics.addedToList",
        "invalidContacts": "statistics.invalid",
        "status": "status",
    },
)
_STANDARD_COLUMNS = {"email", "name", "ip", "dayofcycle", "scoring", "note"}


def _import_columns(data: DataStore, mapping: Any) -> list[tuple[str, str]]:
    """Return (kind, key) per column: std/name, tag/<tag name>, field/<customFieldId>."""
    if not isinstance(mapping, list) or not all(isinstance(c, str) for c in mapping):
        raise _invalid("fieldMapping", "Expected an array of column names")
    if "email" not in mapping:
        raise _invalid("fieldMapping", "The email column is required")
    by_name = {f["name"]: f["customFieldId"] for f in data.custom_fields}
    columns: list[tuple[str, str]] = []
    for column in mapping:
        if column.lower() in _STANDARD_COLUMNS:
            columns.append(("std", column.lower()))
        elif column.startswith("tag:"):
            tag = column[4:]
            if not TAG_NAME.match(tag):
                raise _invalid("fieldMapping", f"Invalid tag name in column {column}")
            columns.append(("tag", tag))
        elif column in by_name:
            columns.append(("field", by_name[column]))
        else:
            raise errors.related_missing(
                "Custom field not found", fieldName="fieldMapping", name=column
            )
    return columns


@route("POST", "/imports")
def create_import(ctx: Ctx) -> Response:
    """201 Import (status uploaded); finished after `Sandbox.import_delay` (§4.5).

    Adds new contacts and updates existing ones on the campaign; custom fields are mapped by
    name, `tag:<name>` columns attach the tag on "1" (and create it if needed), "0" does nothing.
    """
    body = _body(ctx)
    data = ctx.data
    with data.lock:
        idx = _campaign_idx(data, body.get("campaignId"), "campaignId")
        columns = _import_columns(data, body.get("fieldMapping"))
        rows = body.get("contacts")
        if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == len(columns) and all(isinstance(v, str) for v in r)
            for r in rows
        ):
            raise _invalid(
                "contacts", "Each contact must be an array of strings aligned to fieldMapping"
            )
        campaign = data.campaigns[idx]
        busy = [
            i
            for i in data.imports
            if i["campaign"]["campaignId"] == campaign["campaignId"] and i["status"] == "uploaded"
        ]
        if busy:
            raise errors.conflict(campaign["campaignId"])  # §4.5: one active import per campaign
        iid = data.new_id(4)
        item: dict[str, Any] = {
            "importId": iid,
            "href": f"{data.base}/imports/{iid}",
            "campaign": {
                "campaignId": campaign["campaignId"],
                "href": campaign["href"],
                "name": campaign["name"],
            },
            "status": "uploaded",
            "statistics": {"uploaded": len(rows), "invalid": 0, "updated": 0, "addedToList": 0},
            "errorStatistics": {
                "syntaxErrors": 0,
                "alreadyInQueue": 0,
                "invalidDomains": 0,
                "blacklist": 0,
                "policyFailures": 0,
                "mismatchedCriteria": 0,
            },
            "createdOn": fmt_ts(now()),
        }
        data.add_item("imports", item)
        refused = ctx.sb.refused_domains

        def finish() -> None:
            _apply_import(data, idx, columns, rows, item, refused)

        data.schedule(ctx.sb.import_delay, finish)
    return Response(201, public(item))


def _apply_import(  # noqa: C901, PLR0912, PLR0913, PLR0917 - one pass over the rows
    data: DataStore,
    idx: int,
    columns: list[tuple[str, str]],
    rows: list[list[str]],
    item: dict[str, Any],
    refused: set[str],
) -> None:
    cs = data.contacts_store
    stats = item["statistics"]
    errs = item["errorStatistics"]
    for values in rows:
        record: dict[str, str] = {}
        tags: list[str] = []
        fields: dict[str, list[str]] = {}
        for (kind, key), value in zip(columns, values, strict=True):
            if kind == "std":
                record[key] = value
            elif kind == "tag" and value.strip() == "1":
                tags.append(_ensure_tag(data, key))
            elif kind == "field" and value != "":
                fields[key] = [value]  # §4.5: one value per custom field
        email = record.get("email", "")
        if not valid_email(email):
            stats["invalid"] += 1
            errs["syntaxErrors"] += 1
            continue
        if email.rsplit("@", 1)[-1].lower() in refused:
            stats["invalid"] += 1
            errs["invalidDomains"] += 1
            continue
        changes: dict[str, Any] = {}
        if record.get("name"):
            changes["name"] = record["name"]
        if record.get("ip"):
            changes["ipAddress"] = record["ip"]
        if record.get("note"):
            changes["note"] = record["note"]
        if record.get("dayofcycle"):
            changes["dayOfCycle"] = record["dayofcycle"]
        row = cs.find(idx, email)
        if row is None:
            changes["tags"] = tags
            changes["customFieldValues"] = fields
            cs.add(idx, email, origin="import", fields=changes)
            stats["addedToList"] += 1
            continue
        if tags:
            changes["tags"] = list(dict.fromkeys([*cs.tags_of(row), *tags]))
        if fields:
            merged = cs.custom_values(row)
            merged.update(fields)
            changes["customFieldValues"] = merged
        cs.update(row, changes)
        stats["updated"] += 1
    item["status"] = "finished"
    item["finishedOn"] = fmt_ts(now())


def _ensure_tag(data: DataStore, name: str) -> str:
    for tag in data.tags:
        if tag["name"] == name:
            return str(tag["tagId"])
    tid = data.new_id(4)
    data.add_item(
        "tags",
        {
            "tagId": tid,
            "href": f"{data.base}/tags/{tid}",
            "name": name,
            "color": "",
            "createdAt": fmt_ts(now()),
        },
    )
    return tid


@route("GET", "/imports")
def list_imports(ctx: Ctx) -> Response:
    """GET /imports."""
    return list_response(ctx, ctx.data.imports, IMPORTS)


@route("GET", "/imports/{importId}")
def get_import(ctx: Ctx) -> Response:
    """GET /imports/{importId}."""
    return detail_response(ctx, get_or_404(ctx, "imports", "importId"), "importId")
