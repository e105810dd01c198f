"""Pure functions from a Singer record to GetResponse contact payloads.

A record becomes a `Contact` (its properties checked and in the API's types), then, once the
resolver has turned list, tag and custom field names into ids, a `Prepared` contact; the payload
builders here shape it for each call: `createBatchContacts`, `createContact`, `updateContact`,
`upsertContactCustoms`, `upsertTags` and `createImport` (operation ids of the official OpenAPI;
request schemas `NewContact`, `UpdateContact`, `NewImport`).
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: Deliberately simple: GetResponse does the full check; this catches what can never be an email.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: Schema `Contact`, `name`: 1-128 characters.
MAX_NAME_LENGTH = 128
#: Record properties with a meaning of their own, in both spellings the target accepts.
CONTACT_PROPERTIES = {
    "email": "email",
    "name": "name",
    "day_of_cycle": "dayOfCycle",
    "dayOfCycle": "dayOfCycle",
    "scoring": "scoring",
    "ip_address": "ipAddress",
    "ipAddress": "ipAddress",
}
#: Properties of the tap's `contacts` shape (and list references) that are never custom fields.
RESERVED = frozenset(
    {
        *CONTACT_PROPERTIES,
        "tags",
        "customFieldValues",
        "campaign",
        "campaign_id",
        "campaignId",
        "campaign_name",
        "contactId",
        "href",
        "origin",
        "timeZone",
        "activities",
        "changedOn",
        "createdOn",
        "engagementScore",
        "note",
        "geolocation",
    },
)


class RejectError(ValueError):
    """A record that cannot become a contact; the message is the reason in the rejects file.

    `code` and `context` are GetResponse's own, when the API refused it (error resource:
    `code` and `context`, which names the field and why).
    """

    def __init__(
        self, reason: str, *, code: int | None = None, context: Mapping[str, t.Any] | None = None
    ) -> None:
        """Keep the API's code and context next to the reason."""
        super().__init__(reason)
        self.code = code
        self.context = dict(context or {})


@dataclass(slots=True)
class Contact:
    """One contact as read from a record, before names are resolved to ids."""

    email: str
    campaign: str | None = None
    campaign_is_name: bool = False
    fields: dict[str, t.Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, t.Any] = field(default_factory=dict)
    custom_ids: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Prepared:
    """A contact with every name resolved, ready for the API."""

    contact: Contact
    stream: str
    record: dict[str, t.Any]
    #: The stream's key properties and the record's input line: how a reject names it.
    key_properties: Sequence[str] = ()
    line: int | None = None
    tag_ids: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    custom: dict[str, list[str]] = field(default_factory=dict)
    custom_names: dict[str, list[str]] = field(default_factory=dict)
    #: The record asks to remove the contact from its list (`_sdc_deleted_at`: removals.py).
    deleted: bool = False

    @property
    def key(self) -> str:
        """The email as GetResponse compares it (case-insensitively)."""
        return self.contact.email.lower()

    @property
    def importable(self) -> bool:
        """Whether one import row can carry everything (see `import_body`).

        Schema `NewImport` maps email, name, ip, custom fields by name and tags, one value each:
        no several values of a field, no `dayOfCycle` or `scoring`.
        """
        return all(len(v) <= 1 for v in self.custom.values()) and not (
            {"dayOfCycle", "scoring"} & self.contact.fields.keys()
        )


def read_contact(
    record: Mapping[str, t.Any],
    *,
    campaign_property: str = "campaign_id",
    custom_field_mapping: Mapping[str, str] | None = None,
    default_campaign: str | None = None,
) -> Contact:
    """A Contact from a flat record or from the tap's own `contacts`/`contact_details` shape.

    A record that names no list goes to `default_campaign` (the `campaign_id` setting), if any.
    """
    email = str(record.get("email") or "").strip()
    if not email:
        msg = "missing required property 'email'"
        raise RejectError(msg)
    if not EMAIL.match(email):
        msg = "invalid email address"
        raise RejectError(msg)
    contact = Contact(email=email)
    _read_campaign(record, campaign_property, contact)
    if contact.campaign is None and default_campaign:
        contact.campaign = default_campaign
    for key, api_name in CONTACT_PROPERTIES.items():
        if key != "email" and record.get(key) is not None:
            value = contact_field(api_name, record[key])
            if value is not None:
                contact.fields[api_name] = value
    contact.tags = _tag_refs(record.get("tags"))
    contact.custom_ids = _custom_field_values(record.get("customFieldValues"))
    mapping = dict(custom_field_mapping or {})
    for key, value in record.items():
        if key in mapping:
            contact.custom[mapping[key]] = value
        elif key not in RESERVED and key != campaign_property and not key.startswith("_sdc_"):
            contact.custom[key] = value
    return contact


def contact_field(api_name: str, value: t.Any) -> t.Any:  # noqa: ANN401 - any JSON value
    """A standard contact property checked and in the API's type (schema `NewContact`).

    None drops it.
    """
    if api_name == "name":
        name = str(value).strip()
        if len(name) > MAX_NAME_LENGTH:
            msg = f"name is longer than {MAX_NAME_LENGTH} characters"
            raise RejectError(msg)
        return name or None
    if api_name == "dayOfCycle":
        # Schema `Contact`, `dayOfCycle`: a string holding a whole number of days (0 = the day
        # of subscribing).
        number = _plain_number(value)
        if number is None or number != number.to_integral() or number < 0:
            msg = f"dayOfCycle needs a whole number of days, got {value!r}"
            raise RejectError(msg)
        return str(int(number))
    if api_name == "scoring":
        number = _plain_number(value)
        if number is None:
            msg = f"scoring needs a number, got {value!r}"
            raise RejectError(msg)
        return int(number) if number == number.to_integral() else float(number)
    if api_name == "ipAddress":
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            msg = f"ipAddress is not an IPv4 or IPv6 address: {value!r}"
            raise RejectError(msg) from None
    return value


def _plain_number(value: t.Any) -> Decimal | None:  # noqa: ANN401 - any JSON value
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _custom_field_values(values: t.Any) -> dict[str, list[str]]:  # noqa: ANN401
    """The tap's `customFieldValues` (already GetResponse's string arrays), by field id."""
    if not values:
        return {}
    if not isinstance(values, list):
        msg = "customFieldValues must be a list of {customFieldId, value} objects"
        raise RejectError(msg)
    by_id: dict[str, list[str]] = {}
    for item in values:
        if not isinstance(item, dict) or not item.get("customFieldId"):
            msg = "customFieldValues item without a customFieldId"
            raise RejectError(msg)
        raw = item.get("value")
        if raw is None:
            raw = item.get("values")
        raw = raw if isinstance(raw, list) else [] if raw is None else [raw]
        by_id[str(item["customFieldId"])] = [str(v) for v in raw if v is not None]
    return by_id


def _read_campaign(record: Mapping[str, t.Any], campaign_property: str, contact: Contact) -> None:
    nested = record.get("campaign")
    if record.get(campaign_property):
        contact.campaign = str(record[campaign_property])
    elif isinstance(nested, dict) and nested.get("campaignId"):
        contact.campaign = str(nested["campaignId"])
    elif record.get("campaign_name"):
        contact.campaign, contact.campaign_is_name = str(record["campaign_name"]), True


def _tag_refs(tags: t.Any) -> list[str]:  # noqa: ANN401 - any JSON value
    """Tag names or ids from a list of strings, a comma string or the tap's tag objects."""
    if tags is None or tags in ("", []):
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        msg = (
            f"tags must be a list of tag names or ids, a comma-separated string or the tap's "
            f"tag objects, got {json_type(tags)}"
        )
        raise RejectError(msg)
    refs = []
    for tag in tags:
        # A tag object names its tag by name where it has one: ids belong to one account, and
        # the tap's objects (`{"tagId", "name", ...}`) may come from another.
        ref = (tag.get("name") or tag.get("tagId")) if isinstance(tag, dict) else tag
        if ref is None or ref == "":
            continue
        if not isinstance(ref, str):
            msg = f"tags must name tags by string, got {json_type(ref)}"
            raise RejectError(msg)
        if ref.strip():
            refs.append(ref.strip())
    return refs


def json_type(value: t.Any) -> str:  # noqa: ANN401 - any JSON value
    """`a number`, `a boolean`...: how a reason names a value's type without quoting it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def batch_contact(
    contact: Contact, tag_ids: list[str], custom: dict[str, list[str]]
) -> dict[str, t.Any]:
    """One contact of a `createBatchContacts` body (tags take the `{"ids": []}` shape)."""
    payload: dict[str, t.Any] = {"email": contact.email}
    for key in ("name", "dayOfCycle", "scoring", "ipAddress"):
        if key in contact.fields:
            payload[key] = contact.fields[key]
    if tag_ids:
        payload["tags"] = {"ids": tag_ids}
    if custom:
        payload["customFieldValues"] = [
            {"customFieldId": field_id, "value": values} for field_id, values in custom.items()
        ]
    return payload


def new_contact(prepared: Prepared, campaign_id: str) -> dict[str, t.Any]:
    """A `createContact` body (schema `NewContact`: tags take the `[{"tagId": ...}]` shape)."""
    payload = batch_contact(prepared.contact, [], prepared.custom)
    payload["campaign"] = {"campaignId": campaign_id}
    if prepared.tag_ids:
        payload["tags"] = [{"tagId": tag} for tag in prepared.tag_ids]
    return payload


def contact_changes(prepared: Prepared) -> dict[str, t.Any]:
    """An `updateContact` body: name, cycle and scoring.

    Only the properties sent change; tags or custom field values sent there would replace all of
    the contact's, so they go through the upserts below.
    """
    return {k: v for k, v in prepared.contact.fields.items() if k != "ipAddress"}


def custom_values_upsert(prepared: Prepared) -> dict[str, t.Any]:
    """An `upsertContactCustoms` body: sets the listed fields, never removes other ones."""
    values = [{"customFieldId": k, "value": v} for k, v in prepared.custom.items()]
    return {"customFieldValues": values}


def tags_replacement(prepared: Prepared) -> dict[str, t.Any]:
    """An `updateContact` body part whose `tags` replace all of the contact's (`tags_mode`)."""
    return {"tags": [{"tagId": tag} for tag in prepared.tag_ids]}


def replaces_tags(prepared: Prepared) -> bool:
    """Whether the record states its tags (an empty list clears them; no property: left alone)."""
    return "tags" in prepared.record


def tags_upsert(prepared: Prepared) -> dict[str, t.Any]:
    """An `upsertTags` body: adds the tags, never removes any."""
    return {"tags": [{"tagId": tag} for tag in prepared.tag_ids]}


def import_body(campaign_id: str, contacts: Iterable[Prepared]) -> dict[str, t.Any]:
    """A `createImport` body (schema `NewImport`): a header row and one row per contact.

    Custom fields are columns by name, tags `tag:<name>` columns ("1" attaches), the IP column is
    `ip` (https://apidocs.getresponse.com/v3/case-study/create-import).
    """
    contacts = list(contacts)
    custom_names = sorted({name for p in contacts for name in p.custom_names})
    tag_names = sorted({name for p in contacts for name in p.tag_names})
    has_ip = any("ipAddress" in p.contact.fields for p in contacts)
    mapping = [
        "email",
        "name",
        *(["ip"] if has_ip else []),
        *custom_names,
        *(f"tag:{name}" for name in tag_names),
    ]
    rows = [
        [
            p.contact.email,
            str(p.contact.fields.get("name") or ""),
            *([str(p.contact.fields.get("ipAddress") or "")] if has_ip else []),
            *("".join(p.custom_names.get(name, [])) for name in custom_names),
            *("1" if name in p.tag_names else "0" for name in tag_names),
        ]
        for p in contacts
    ]
    return {"campaignId": campaign_id, "fieldMapping": mapping, "contacts": rows}
