"""Pure functions from a Singer record to GetResponse contact payloads (reference §4)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: Deliberately simple: GetResponse does the full check; this catches what can never be an email.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: Anything shaped like an address inside free text (API error messages, reasons).
EMAIL_IN_TEXT = re.compile(r"[^\s@\"'<>(),;:=\[\]{}]+@(?=[^\s@]+\.[^\s@]+)")
#: The same inside a URL (an exact-match lookup's `query[email]=jane%40example.org`).
EMAIL_IN_URL = re.compile(r"[^\s@&=?/\"'<>(),;:\[\]{}]+%40(?=[^\s&]+\.)", re.IGNORECASE)
#: §4.1: a contact name is 1-128 characters.
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
#: Custom field formats that take several values (§3.4).
MULTI_VALUE_FORMATS = frozenset({"multi_select", "checkbox"})


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


@dataclass(frozen=True, slots=True)
class CustomField:
    """A GetResponse custom field definition (§3.4)."""

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


def read_contact(
    record: Mapping[str, t.Any],
    *,
    campaign_property: str = "campaign_id",
    custom_field_mapping: Mapping[str, str] | None = None,
) -> Contact:
    """A Contact from a flat record or from the tap's own `contacts`/`contact_details` shape."""
    email = str(record.get("email") or "").strip()
    if not email:
        msg = "missing required property 'email'"
        raise RejectError(msg)
    if not EMAIL.match(email):
        msg = "invalid email address"
        raise RejectError(msg)
    contact = Contact(email=email)
    _read_campaign(record, campaign_property, contact)
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
    """A standard contact property checked and in the API's type (§4.1); None drops it."""
    if api_name == "name":
        name = str(value).strip()
        if len(name) > MAX_NAME_LENGTH:
            msg = f"name is longer than {MAX_NAME_LENGTH} characters"
            raise RejectError(msg)
        return name or None
    if api_name == "dayOfCycle":
        # §4.1: a string holding a whole number of days (0 = the day of subscribing).
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
            f"tag objects, got {_json_type(tags)}"
        )
        raise RejectError(msg)
    refs = []
    for tag in tags:
        ref = tag.get("tagId") or tag.get("name") if isinstance(tag, dict) else tag
        if ref is None or ref == "":
            continue
        if not isinstance(ref, str):
            msg = f"tags must name tags by string, got {_json_type(ref)}"
            raise RejectError(msg)
        if ref.strip():
            refs.append(ref.strip())
    return refs


def _json_type(value: t.Any) -> str:  # noqa: ANN401 - any JSON value
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


def field_values(custom_field: CustomField, value: t.Any) -> list[str]:  # noqa: ANN401
    """GetResponse's string-array form of `value`; RejectError when it cannot fit the field."""
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if v is not None and v != ""]
    if len(values) > 1 and custom_field.field_format not in MULTI_VALUE_FORMATS:
        msg = f"custom field '{custom_field.name}' takes one value, got {len(values)}"
        raise RejectError(msg)
    converted = []
    for item in values:
        if custom_field.value_type == "number":
            converted.append(_number(custom_field, item))
        elif custom_field.value_type == "date":
            converted.append(_moment(custom_field, item).date().isoformat())
        elif custom_field.value_type == "datetime":
            converted.append(_moment(custom_field, item).strftime("%Y-%m-%d %H:%M:%S"))
        elif isinstance(item, bool):
            converted.append("true" if item else "false")
        else:
            converted.append(str(item))
    if custom_field.values and custom_field.field_format in {
        "radio",
        "single_select",
        "multi_select",
        "checkbox",
    }:
        unknown = [v for v in converted if v not in custom_field.values]
        if unknown:
            msg = f"custom field '{custom_field.name}' does not allow {unknown[0]!r}"
            raise RejectError(msg)
    return converted


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


def batch_contact(
    contact: Contact, tag_ids: list[str], custom: dict[str, list[str]]
) -> dict[str, t.Any]:
    """One contact of a `POST /contacts/batch` body (tags take the `{"ids": []}` shape, §4.2)."""
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


def mask_email(email: str) -> str:
    """`***@example.org`: enough to find a domain-wide problem, not enough to identify anyone."""
    return f"***@{email.rpartition('@')[2]}" if "@" in email else "***"


def mask_emails_in(text: str) -> str:
    """Free text (an API error, a reason) with every address in it masked to its domain."""
    return EMAIL_IN_URL.sub("***%40", EMAIL_IN_TEXT.sub("***@", text))
