"""Deterministic seeded resources (campaigns, fields, tags, messages, forms, ...) shaped per §3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.sandbox.util import SEED_END, SEED_START, fmt_ts

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

_CAMPAIGN_NAMES = (
    "newsletter",
    "customers",
    "leads",
    "webinar_guests",
    "vip",
    "partners",
    "events",
)
# (name, type, format, values offered, seed values: the offered ones when empty); §3.4
_AGES = ["18-29", "30-44", "45-64", "65+"]
_INTERESTS = ["sport", "music", "travel", "books"]
_GENDERS = ["Male", "Female", "Prefer not to say"]
_FIELDS: tuple[tuple[str, str, str, list[str], list[str]], ...] = (
    ("age", "string", "single_select", _AGES, []),
    ("customer_tier", "string", "text", [], ["gold", "silver", "bronze"]),
    ("birthday", "date", "text", [], ["1985-04-12", "1990-11-03", "1978-01-30", "2001-07-19"]),
    ("phone_number", "phone", "text", [], ["+48600100200", "+14155550100", "+442071838750"]),
    ("country", "country", "text", [], ["Poland", "United Kingdom", "United States", "Japan"]),
    ("lifetime_value", "number", "text", [], ["0", "19.99", "250", "1200.5"]),
    ("interests", "string", "multi_select", _INTERESTS, []),
    ("last_purchase", "datetime", "text", [], ["2025-03-01 10:00:00", "2026-01-15 18:30:00"]),
    ("gender", "gender", "single_select", _GENDERS, []),
    ("website", "url", "text", [], ["https://shop.test/a", "https://blog.test/b"]),
)  # fmt: skip


def seeded_time(store: DataStore, start: int = SEED_START, end: int = SEED_END) -> int:
    """Return a random epoch in [start, end] from the store's seeded generator."""
    return store.rng.randint(start, end)


def ts(store: DataStore, start: int = SEED_START, end: int = SEED_END) -> str:
    """Return a random seeded timestamp string (§6)."""
    return fmt_ts(seeded_time(store, start, end))


def ref(store: DataStore, kind: str, key: str, ident: str, **extra: Any) -> dict[str, Any]:
    """Return a reference object `{<x>Id, href, ...}`."""
    return {key: ident, "href": f"{store.base}/{kind}/{ident}", **extra}


def campaign_ref(store: DataStore, campaign: dict[str, Any]) -> dict[str, Any]:
    """Return `{campaignId, href, name}`."""
    return ref(store, "campaigns", "campaignId", campaign["campaignId"], name=campaign["name"])


def seed_core(store: DataStore) -> None:
    """Seed from-fields, campaigns, custom fields and tags (the contacts depend on them)."""
    sc = store.scale
    cols = store.collections
    cols["from-fields"] = []
    for i in range(max(1, sc.from_fields)):
        fid = store.new_id(2 + (i % 2))
        cols["from-fields"].append(
            {
                "fromFieldId": fid,
                "href": f"{store.base}/from-fields/{fid}",
                "email": f"sender{i}@brand.test",
                "rewrittenEmail": None,
                "name": f"Sender {i}",
                "isActive": "true",
                "isDefault": "true" if i == 0 else "false",
                "createdOn": ts(store),
                # DKIMWarning is a nullable enum: omitted rather than null (validators reject null).
                "domain": {"status": "confirmed", "hasDMARCWarning": "false"},
            }
        )
    sender = cols["from-fields"][0]
    sender_ref = {"fromFieldId": sender["fromFieldId"], "href": sender["href"]}
    cols["campaigns"] = []
    stamps = sorted(seeded_time(store) for _ in range(max(1, sc.campaigns)))
    for i in range(max(1, sc.campaigns)):
        cid = store.new_id(3 + (i % 2))
        base = _CAMPAIGN_NAMES[i % len(_CAMPAIGN_NAMES)]
        name = base if i < len(_CAMPAIGN_NAMES) else f"{base}_{i}"
        item: dict[str, Any] = {
            "campaignId": cid,
            "href": f"{store.base}/campaigns/{cid}",
            "name": name,
            "description": name,
            "languageCode": "EN" if i % 3 else "PL",
            "isDefault": "true" if i == 0 else "false",
            "createdOn": fmt_ts(stamps[i]),
            "postal": {
                "addPostalToMessages": "true",
                "city": "Gdansk",
                "companyName": "Sandbox Ltd.",
                "country": "Poland",
                "design": "[[name]] from [[city]] in [[country]]",
                "state": "Pomerania",
                "street": "Grunwaldzka 413",
                "zipCode": "80-309",
            },
            "confirmation": {
                "fromField": dict(sender_ref),
                "replyTo": dict(sender_ref),
                "redirectType": "hosted",
                "mimeType": "text/html",
                "redirectUrl": "https://brand.test/thanks",
                "subscriptionConfirmationBodyId": "asS1",
                "subscriptionConfirmationSubjectId": "TEww",
            },
            "optinTypes": {
                "email": "single",
                "api": "single",
                "import": "single",
                "webform": "double",
            },
            "subscriptionNotifications": {"status": "disabled", "recipients": []},
            "profile": {
                "description": f"{name} list",
                "industryTagId": "1",
                "logo": "https://brand.test/logo.png",
                "logoLinkUrl": "https://brand.test",
                "title": name.replace("_", " ").title(),
            },
        }
        if store.max_mode:
            item["techName"] = f"{name}_{cid.lower()}"  # §3.2: techName is MAX-only
        cols["campaigns"].append(item)
    cols["custom-fields"] = []
    for i in range(sc.custom_fields):
        name, type_, fmt, values, seeds = _FIELDS[i % len(_FIELDS)]
        if i >= len(_FIELDS):
            name, type_, fmt, values, seeds = (
                f"extra_field_{i}",
                "string",
                "text",
                [],
                [f"v{i}a", f"v{i}b"],
            )
        fid = store.new_id(3 + (i % 3))
        cols["custom-fields"].append(
            {
                "customFieldId": fid,
                "href": f"{store.base}/custom-fields/{fid}",
                "name": name,
                "type": type_,
                "valueType": type_,
                "format": fmt,
                "fieldType": fmt,
                "hidden": "false" if i % 4 else "true",
                "values": list(values),
                "_seed": list(seeds or values),
            }
        )
    cols["tags"] = []
    stamps = sorted(seeded_time(store) for _ in range(sc.tags))
    tag_names = (
        "vip",
        "newsletter",
        "webinar",
        "trial",
        "customer",
        "churn_risk",
        "partner",
        "beta",
    )
    for i in range(sc.tags):
        tid = store.new_id(4)
        base = tag_names[i % len(tag_names)]
        cols["tags"].append(
            {
                "tagId": tid,
                "href": f"{store.base}/tags/{tid}",
                "name": base if i < len(tag_names) else f"{base}_{i}",
                "color": "",
                "createdAt": fmt_ts(stamps[i]),
            }
        )
    cols["imports"] = []


def seed_rest(store: DataStore) -> None:
    """Seed everything that is not needed by the contacts (filled in by `resources`)."""
    from tests.sandbox import (  # noqa: PLC0415 - seeders
        abtests,
        audience,
        commerce,
        custom_events,
        reports,
        resources,
        sites,
        transactional,
    )

    resources.seed(store)
    custom_events.seed(store)
    audience.seed(store)
    commerce.seed(store)
    transactional.seed(store)
    sites.seed(store)
    abtests.seed(store)
    reports.seed(store)  # its own random.Random: the values seeded above stay the same
