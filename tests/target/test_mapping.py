"""Pure record -> payload mapping: shapes, aliases, custom field value formats, rejects."""

from __future__ import annotations

import pytest

from target_getresponse.custom_fields import CustomField, field_values
from target_getresponse.logs import mask_email, mask_emails_in
from target_getresponse.mapping import RejectError, batch_contact, contact_field, read_contact


def field(value_type: str, fmt: str = "text", values: tuple[str, ...] = ()) -> CustomField:
    return CustomField("F1", "f", value_type, fmt, values)


def test_flat_record_with_aliases() -> None:
    contact = read_contact(
        {
            "email": "a@b.org",
            "name": "A",
            "day_of_cycle": 3,
            "ipAddress": "1.2.3.4",
            "scoring": 7,
            "tags": "vip, trial",
            "tier": "gold",
            "_sdc_extracted_at": "x",
        }
    )
    assert contact.fields == {"name": "A", "dayOfCycle": "3", "ipAddress": "1.2.3.4", "scoring": 7}
    assert contact.tags == ["vip", "trial"]
    assert contact.custom == {"tier": "gold"}


def test_tap_contacts_shape_is_accepted() -> None:
    contact = read_contact(
        {
            "email": "a@b.org",
            "contactId": "x1",
            "campaign": {"campaignId": "L1", "name": "list"},
            "tags": [{"tagId": "T1", "name": "vip"}],
            "customFieldValues": [{"customFieldId": "F9", "name": "age", "value": ["30-44"]}],
            "changedOn": "2026-01-01T00:00:00+00:00",
        }
    )
    assert contact.campaign == "L1"
    assert contact.tags == ["vip"]  # by name: a tag id belongs to one account
    assert contact.custom_ids == {"F9": ["30-44"]}
    assert contact.custom == {}


def test_a_tag_object_without_a_name_is_read_by_id() -> None:
    contact = read_contact({"email": "a@b.org", "tags": [{"tagId": "T1"}, {"name": "vip"}]})
    assert contact.tags == ["T1", "vip"]


def test_campaign_by_configured_property_or_name() -> None:
    assert (
        read_contact({"email": "a@b.org", "list": "L2"}, campaign_property="list").campaign == "L2"
    )
    by_name = read_contact({"email": "a@b.org", "campaign_name": "newsletter"})
    assert (by_name.campaign, by_name.campaign_is_name) == ("newsletter", True)


def test_explicit_mapping_overrides_names() -> None:
    contact = read_contact(
        {"email": "a@b.org", "Tier": "gold"}, custom_field_mapping={"Tier": "customer_tier"}
    )
    assert contact.custom == {"customer_tier": "gold"}


@pytest.mark.parametrize(
    "record", [{}, {"email": ""}, {"email": "no-at-sign"}, {"email": "a@b"}, {"email": "a b@c.de"}]
)
def test_bad_emails_are_rejects(record: dict) -> None:
    with pytest.raises(RejectError):
        read_contact(record)


@pytest.mark.parametrize(
    ("custom_field", "value", "expected"),
    [
        (field("number"), 12, ["12"]),
        (field("number"), "12.50", ["12.5"]),
        (field("number"), 1.0, ["1"]),
        (field("date"), "2024-02-29T10:00:00Z", ["2024-02-29"]),
        (field("datetime"), "2024-02-29T10:00:00+02:00", ["2024-02-29 08:00:00"]),
        (field("string"), True, ["true"]),
        (field("string", "multi_select", ("a", "b")), ["a", "b"], ["a", "b"]),
        (field("string", "single_select", ("a", "b")), "b", ["b"]),
        (field("string"), None, []),
    ],
    ids=["int", "decimal", "float", "date", "datetime", "bool", "multi", "single", "null"],
)
def test_values_become_string_arrays(custom_field, value, expected) -> None:
    assert field_values(custom_field, value) == expected


@pytest.mark.parametrize(
    ("custom_field", "value"),
    [
        (field("number"), "lots"),
        (field("number"), True),
        (field("date"), "31/12/2024"),
        (field("string", "single_select", ("a", "b")), "c"),
        (field("string", "single_select", ("a", "b")), ["a", "b"]),
        (field("string"), ["x", "y"]),
    ],
    ids=["nan", "bool-number", "date-format", "not-allowed", "two-for-single", "two-for-text"],
)
def test_values_that_cannot_fit_are_rejects(custom_field, value) -> None:
    with pytest.raises(RejectError):
        field_values(custom_field, value)


def test_legacy_custom_field_shape() -> None:
    legacy = CustomField.from_api(
        {"customFieldId": "c", "name": "age", "type": "single_select", "valueType": "string"}
    )
    assert (legacy.field_format, legacy.value_type) == ("single_select", "string")


def test_batch_payload_uses_the_batch_tag_shape() -> None:
    contact = read_contact({"email": "a@b.org", "name": "A", "dayOfCycle": 5})
    payload = batch_contact(contact, ["T1"], {"F1": ["x"]})
    assert payload == {
        "email": "a@b.org",
        "name": "A",
        "dayOfCycle": "5",
        "tags": {"ids": ["T1"]},
        "customFieldValues": [{"customFieldId": "F1", "value": ["x"]}],
    }


def test_mask_email_keeps_only_the_domain() -> None:
    assert mask_email("jane@example.org") == "***@example.org"


@pytest.mark.parametrize(
    ("api_name", "value", "expected"),
    [
        ("name", "  Ann  ", "Ann"),
        ("name", "", None),
        ("dayOfCycle", 0, "0"),
        ("dayOfCycle", "12", "12"),
        ("dayOfCycle", 3.0, "3"),
        ("scoring", "7", 7),
        ("scoring", 2.5, 2.5),
        ("ipAddress", " 10.1.2.3 ", "10.1.2.3"),
        ("ipAddress", "2001:db8::1", "2001:db8::1"),
    ],
    ids=[
        "name",
        "empty-name",
        "cycle-0",
        "cycle-str",
        "cycle-float",
        "score",
        "score-float",
        "ipv4",
        "ipv6",
    ],
)
def test_standard_properties_take_the_api_types(api_name, value, expected) -> None:
    assert contact_field(api_name, value) == expected


@pytest.mark.parametrize(
    ("api_name", "value"),
    [
        ("name", "x" * 129),
        ("dayOfCycle", -1),
        ("dayOfCycle", "1.5"),
        ("dayOfCycle", True),
        ("scoring", "high"),
        ("ipAddress", "300.1.1.1"),
    ],
    ids=["long-name", "negative-cycle", "fraction-cycle", "bool-cycle", "word-score", "bad-ip"],
)
def test_standard_properties_that_cannot_fit_are_rejects(api_name, value) -> None:
    with pytest.raises(RejectError):
        contact_field(api_name, value)


@pytest.mark.parametrize(
    "values",
    ["not a list", [{"value": ["x"]}], ["F1"]],
    ids=["string", "no-id", "not-an-object"],
)
def test_malformed_custom_field_values_are_rejects(values) -> None:
    with pytest.raises(RejectError):
        read_contact({"email": "a@b.org", "customFieldValues": values})


def test_mask_emails_in_free_text() -> None:
    text = 'Contact "jane.doe+x@mail.example.org" exists [value=bob@example.com]'
    assert mask_emails_in(text) == 'Contact "***@mail.example.org" exists [value=***@example.com]'
    url = "url: /v3/contacts?query%5Bemail%5D=jo.e%2Bx%40example.org&page=1"
    assert mask_emails_in(url) == url.replace("jo.e%2Bx%40", "***%40")
