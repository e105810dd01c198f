"""Every stream through the sandbox: counts over many pages, request parameters, record schemas."""

from __future__ import annotations

import logging
import re
from collections import Counter

import jsonschema
import pytest

from tap_getresponse.streams import STREAMS
from tap_getresponse.tap import TapGetResponse
from tap_getresponse.windows import parse_moment
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.tap.conftest import fast_governor, run_sync, sandbox_config

#: Streams that read one sandbox collection in full: stream -> (collection, id key).
COLLECTIONS = {
    "campaigns": ("campaigns", "campaignId"),
    "custom_fields": ("custom-fields", "customFieldId"),
    "custom_events": ("custom-events", "customEventId"),
    "tags": ("tags", "tagId"),
    "imports": ("imports", "importId"),
    "segments": ("search-contacts", "searchContactId"),
    "suppressions": ("suppressions", "suppressionId"),
    "from_fields": ("from-fields", "fromFieldId"),
    "gdpr_fields": ("gdpr-fields", "gdprFieldId"),
    "newsletters": ("newsletters", "newsletterId"),
    "autoresponders": ("autoresponders", "autoresponderId"),
    "rss_newsletters": ("rss-newsletters", "rssNewsletterId"),
    "click_tracks": ("click-tracks", "clickTrackId"),
    "sms": ("sms", "smsId"),
    "forms": ("forms", "formId"),
    "webforms": ("webforms", "webformId"),
    "landing_pages": ("lps", "lpsId"),
    "popups": ("popups", "popupId"),
    "websites": ("websites", "websiteId"),
    "ab_tests": ("ab-tests", "abTestId"),
    "splittests": ("splittests", "splittestId"),
    "legacy_landing_pages": ("landing-pages", "landingPageId"),
    "webinars": ("webinars", "webinarId"),
    "workflows": ("workflow", "workflowId"),
    "shops": ("shops", "shopId"),
    "products": ("products", "productId"),
    "orders": ("orders", "orderId"),
    "carts": ("carts", "cartId"),
    "categories": ("categories", "categoryId"),
    "transactional_emails": ("transactional-emails", "transactionalEmailId"),
}
SCALE = Scale(
    contacts=60, campaigns=7, tags=23, custom_fields=9, newsletters=31, autoresponders=12,
    from_fields=5, forms=6, webforms=5, landing_pages=6, lps=6, webinars=5, workflows=6, sms=5,
    gdpr_fields=4, shops=4, products_per_shop=9, orders_per_shop=11, search_contacts=5,
    imports=4, rss_newsletters=5, activities_per_contact=4,
)  # fmt: skip


PAGE_SIZE = 3


@pytest.fixture(scope="module")
def full_sync():
    """One full sync of every stream with 3 items per page, shared by the tests below."""
    saved = TapGetResponse.governor
    TapGetResponse.governor = fast_governor()
    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    try:
        add_ons = {"sms_enabled": True, "transactional_enabled": True}
        with Sandbox(scale=SCALE, seed=7, limits=GENEROUS_LIMITS, **add_ons) as sb:
            result = run_sync(sandbox_config(sb, page_size=PAGE_SIZE))
            result.warnings = warnings.messages
            yield sb, result
    finally:
        logging.getLogger().removeHandler(warnings)
        TapGetResponse.governor = saved


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


UNMAPPED = re.compile(r"Properties \((.*)\) were present in the '(\w+)' stream but not found")


def test_no_field_is_dropped_for_want_of_a_schema_property(full_sync):
    _, result = full_sync
    dropped = {
        (match.group(2), name.strip(" ',"))
        for message in result.warnings
        if (match := UNMAPPED.search(message))
        for name in match.group(1).split(",")
        if name.strip(" ',")
    }
    assert not dropped


def test_click_tracks_carry_their_creation_time(full_sync):
    # The official ClickTrack schema omits createdOn; the list filters and sorts on it.
    sb, result = full_sync
    created = {t["clickTrackId"]: t["createdOn"] for t in sb.data.collections["click-tracks"]}
    records = result.records["click_tracks"]
    assert records
    for record in records:
        sent = parse_moment(created[record["clickTrackId"]])
        assert parse_moment(record["createdOn"]) == sent, record


def test_discovery_lists_every_stream():
    tap = TapGetResponse(config={"api_key": "k"}, parse_env_config=False)
    catalog = tap.catalog_dict["streams"]
    assert sorted(entry["stream"] for entry in catalog) == sorted(cls.name for cls in STREAMS)


@pytest.mark.parametrize("stream", sorted(COLLECTIONS))
def test_collection_counts_match_the_sandbox_across_pages(full_sync, stream):
    sb, result = full_sync
    collection, key = COLLECTIONS[stream]
    expected = sorted(item[key] for item in sb.data.collections[collection])
    assert len(expected) > PAGE_SIZE, "needs more than one page"
    assert sorted(result.ids(stream, key)) == expected


@pytest.mark.parametrize("stream", sorted(cls.name for cls in STREAMS))
def test_every_record_validates_against_its_schema(full_sync, stream):
    _, result = full_sync
    if stream != "newsletter_activities":  # seeded newsletters are older than its 30 days
        assert result.records[stream], f"no records for {stream}"
    tap = TapGetResponse(config={"api_key": "k"}, parse_env_config=False)
    schema = tap.streams[stream].schema
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for record in result.records[stream]:
        errors = [
            f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(record)
        ]
        assert not errors, errors[:5]
        assert set(record) <= set(schema["properties"])


@pytest.mark.parametrize("stream", sorted(cls.name for cls in STREAMS))
def test_primary_keys_are_present_and_unique(full_sync, stream):
    _, result = full_sync
    tap = TapGetResponse(config={"api_key": "k"}, parse_env_config=False)
    keys = tap.streams[stream].primary_keys
    assert keys, f"{stream} has no primary key"
    values = [tuple(record[k] for k in keys) for record in result.records[stream]]
    assert all(v is not None for value in values for v in value)
    by_key: dict[tuple, list[dict]] = {}
    for value, record in zip(values, result.records[stream], strict=True):
        by_key.setdefault(value, []).append(record)
    # Activities have no id: two identical events (the sandbox seeds a few) share a key, and
    # only such exact twins may (a target keeps one of them).
    clashes = [key for key, group in by_key.items() if any(r != group[0] for r in group)]
    assert not clashes, clashes[:5]


def test_one_request_per_parent_for_fan_out_streams(full_sync):
    sb, result = full_sync
    paths = Counter(r.path for r in sb.log)
    contacts = len(sb.data.contacts)
    newsletters = [n for n in sb.data.newsletters if n["type"] != "draft"]
    for contact in sb.data.contacts:
        ident = contact["contactId"]
        assert paths[f"/contacts/{ident}"] == 1
        assert paths[f"/contacts/{ident}/activities"] >= 1  # pages of 3
    assert len(result.records["contact_details"]) == contacts
    for newsletter in newsletters:
        assert paths[f"/newsletters/{newsletter['newsletterId']}/statistics"] >= 1
    assert paths["/campaigns/statistics/balance"] == len(sb.data.campaigns)
    assert {r["newsletterId"] for r in result.records["newsletter_statistics"]} <= {
        n["newsletterId"] for n in newsletters
    }


def test_parent_ids_are_injected(full_sync):
    _, result = full_sync
    for stream, key in [
        ("contact_activities", "contactId"),
        ("newsletter_statistics", "newsletterId"),
        ("autoresponder_statistics", "autoresponderId"),
        ("products", "shopId"),
        ("orders", "shopId"),
        ("order_lines", "orderId"),
        ("carts", "shopId"),
        ("categories", "shopId"),
        ("rss_newsletter_statistics", "rssNewsletterId"),
        ("campaign_list_size_statistics", "campaignId"),
        ("popup_performance", "popupId"),
        ("landing_page_performance", "lpsId"),
        ("website_performance", "websiteId"),
    ]:
        assert all(record.get(key) for record in result.records[stream]), stream


def test_statistics_rows_are_daily_and_start_where_their_interval_starts(full_sync):
    _, result = full_sync
    for row in result.records["newsletter_statistics"]:
        start, _, period = row["timeInterval"].partition("/")
        assert period == "P1D"
        assert row["intervalStart"].startswith(start[:19])
        assert isinstance(row["sent"], int)


def test_campaign_statistics_are_flat_rows_with_integer_counters(full_sync):
    _, result = full_sync
    for row in result.records["campaign_balance_statistics"]:
        assert row["kind"] in {"removals", "subscriptions"}
        assert isinstance(row["count"], int)
        assert row["name"] != "summary"
    for row in result.records["campaign_location_statistics"]:
        assert isinstance(row["amount"], int)
    for row in result.records["campaign_summary_statistics"]:
        assert isinstance(row["totalSubscribers"], int)


def test_newsletter_flags_are_always_a_list(full_sync):
    _, result = full_sync
    assert all(isinstance(n["flags"], list) for n in result.records["newsletters"] if "flags" in n)
