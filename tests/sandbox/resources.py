"""Seeded messages, forms, pages, webinars, workflows, SMS, GDPR, shops, segments (§3.6-§3.20)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.sandbox.seeding import campaign_ref, ref, seeded_time, ts
from tests.sandbox.util import SEED_END, SEED_START, fmt_ts, fmt_ts_naive

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

_SUBJECTS = (
    "Spring sale starts now", "Your weekly digest", "New features inside", "Last chance: 20% off",
    "Webinar invitation", "Thank you for joining", "Product update", "Holiday opening hours",
)  # fmt: skip


def _campaign(store: DataStore, n: int) -> dict[str, Any]:
    return store.campaigns[n % len(store.campaigns)]


def _sender(store: DataStore) -> dict[str, Any]:
    sender = store.collections["from-fields"][0]
    return {"fromFieldId": sender["fromFieldId"], "href": sender["href"]}


def _metrics(store: DataStore, total: int, *, finished: bool) -> dict[str, Any]:
    """Return newsletter sendMetrics (all strings, §3.7) and the raw counters behind them."""
    rng = store.rng
    sent = total if finished else int(total * rng.random())
    delivered = int(sent * (0.95 + 0.05 * rng.random()))
    opened = int(delivered * (0.15 + 0.35 * rng.random()))
    clicked = int(opened * (0.05 + 0.3 * rng.random()))

    def rate(x: int) -> str:
        return f"{x / delivered:.2f}" if delivered else "0.00"

    return {
        "status": "finished" if finished else "in_progress",
        "sent": str(sent),
        "total": str(total),
        "delivered": str(delivered),
        "openRate": rate(opened),
        "clickRate": rate(clicked),
        "humanOpenRate": rate(int(opened * 0.8)),
        "humanClickRate": rate(int(clicked * 0.9)),
    }


def _click_tracks(
    store: DataStore, message: dict[str, Any], kind: str, n: int
) -> list[dict[str, Any]]:
    tracks = []
    for i in range(n):
        cid = store.new_id(4)
        track = {
            "clickTrackId": cid,
            "href": f"{store.base}/click-tracks/{cid}",
            "name": f"Link {i + 1}",
            "url": f"https://brand.test/offer/{i + 1}",
            "clicks": store.rng.randint(0, 500),
            "message": {
                "resourceId": message["_id"],
                "type": {
                    "newsletters": "broadcast",
                    "autoresponders": "autoresponder",
                    "rss-newsletters": "rss",
                }[kind],
                "createdOn": message["createdOn"],
                "resourceType": kind,
                "href": f"{store.base}/{kind}/{message['_id']}",
            },
            "createdOn": message["createdOn"],  # not in the official item; filter/sort key (§3.0)
        }
        store.collections["click-tracks"].append(track)
        tracks.append(track)
    return tracks


def _track_refs(tracks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message-detail clickTracks: amount is a string (§3.7)."""
    return [
        {
            "clickTrackId": t["clickTrackId"],
            "url": t["url"],
            "name": t["name"],
            "amount": str(t["clicks"]),
        }
        for t in tracks
    ]


def seed(store: DataStore) -> None:  # noqa: C901, PLR0912, PLR0915 - one block per resource
    """Seed the remaining collections deterministically."""
    sc = store.scale
    cols = store.collections
    rng = store.rng
    cols["click-tracks"] = []
    content = {
        "html": "<h1>Hello [[firstname]]</h1><p>News.</p>",
        "plain": "Hello [[firstname]] News.",
    }

    # ---- newsletters (§3.7) ----
    cols["newsletters"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.newsletters))):
        nid = store.new_id(4)
        camp = _campaign(store, i)
        kind = "draft" if i % 7 == 6 else "broadcast"
        send_on = created + rng.randint(600, 7 * 86400)
        total = rng.randint(50, 5000)
        item: dict[str, Any] = {
            "_id": nid,
            "newsletterId": nid,
            "href": f"{store.base}/newsletters/{nid}",
            "name": f"Newsletter {i + 1}",
            "type": kind,
            "status": "enabled" if kind == "broadcast" else "disabled",
            "editor": ("getresponse", "custom", "html2", "text")[i % 4],
            "subject": _SUBJECTS[i % len(_SUBJECTS)],
            "fromField": _sender(store),
            "replyTo": _sender(store),
            "campaign": campaign_ref(store, camp),
            "sendOn": fmt_ts(min(send_on, SEED_END)),
            "attachments": [],
            "sendSettings": {
                "selectedCampaigns": [camp["campaignId"]],
                "selectedSegments": [],
                "selectedSuppressions": [],
                "excludedCampaigns": [],
                "excludedSegments": [],
                "selectedContacts": [],
                "timeTravel": "false",
                "perfectTiming": "true" if i % 5 == 0 else "false",
                "externalLexpad": None,
            },
            "sendMetrics": _metrics(store, total, finished=kind == "broadcast"),
            "createdOn": fmt_ts(created),
            "content": content,
            "_flags": ["clicktrack", "google_analytics"] if i % 2 == 0 else ["clicktrack"],
            "_send": min(send_on, SEED_END),
        }
        if kind == "draft":
            item["sendMetrics"] = {**item["sendMetrics"], "status": "scheduled", "sent": "0"}
        item["_tracks"] = _click_tracks(store, item, "newsletters", 1 + i % 3)
        cols["newsletters"].append(item)

    # ---- autoresponders (§3.9) ----
    cols["autoresponders"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.autoresponders))):
        aid = store.new_id(3)
        camp = _campaign(store, i)
        item = {
            "_id": aid,
            "autoresponderId": aid,
            "href": f"{store.base}/autoresponders/{aid}",
            "name": f"Day {i} follow-up",
            "subject": _SUBJECTS[(i + 3) % len(_SUBJECTS)],
            "campaignId": camp["campaignId"],
            "status": "enabled" if i % 4 else "disabled",
            "fromField": _sender(store),
            "replyTo": _sender(store),
            "content": content,
            "flags": ["clicktrack", "google_analytics"],
            "trackOpens": "true",
            "triggerSettings": {
                "type": "onday",
                "dayOfCycle": i,
                "autoresponder": None,
                "newsletter": None,
                "clickTrackId": None,
                "goal": None,
                "custom": None,
                "newCustomValue": None,
                "action": None,
                "selectedCampaigns": [camp["campaignId"]],
            },
            "statistics": {
                "delivered": float(rng.randint(0, 3000)),
                "openRate": round(rng.random() * 0.6, 2),
                "clickRate": round(rng.random() * 0.2, 2),
            },
            "createdOn": fmt_ts(created),
            "sendSettings": {
                "type": "delay" if i % 2 else "signup",
                "timeTravel": "false",
                "excludedDaysOfWeek": ["Sunday"] if i % 3 == 0 else [],
                "delayInHours": i % 24,
                "sendAtHour": (9 + i) % 24,
            },
            "editor": "getresponse",
            "_campaign": camp,
            "_send": created + 86400,
        }
        item["_total"] = int(item["statistics"]["delivered"]) + rng.randint(0, 50)
        item["_tracks"] = _click_tracks(store, item, "autoresponders", 1 + i % 2)
        cols["autoresponders"].append(item)

    # ---- RSS newsletters (§3.20) ----
    cols["rss-newsletters"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.rss_newsletters))):
        rid = store.new_id(4)
        camp = _campaign(store, i)
        item = {
            "_id": rid,
            "rssNewsletterId": rid,
            "href": f"{store.base}/rss-newsletters/{rid}",
            "rssFeedUrl": f"https://blog.brand.test/feed/{i}",
            "subject": f"Blog digest {i + 1}",
            "name": f"rss_digest_{i + 1}",
            "status": "enabled",
            "editor": "custom",
            "fromField": _sender(store),
            "replyTo": _sender(store),
            "content": content,
            "sendSettings": {
                "frequency": "asap",
                "filter": "recent",
                "maxArticles": 5,
                "selectedCampaigns": [camp["campaignId"]],
                "selectedSegments": [],
                "selectedSuppressions": [],
                "excludedCampaigns": [],
                "excludedSegments": [],
            },
            "createdOn": fmt_ts(created),
            "_flags": ["clicktrack"],
            "_campaign": camp,
            "_send": created + 3600,
            "_total": rng.randint(50, 2000),
        }
        item["_tracks"] = _click_tracks(store, item, "rss-newsletters", 1)
        cols["rss-newsletters"].append(item)

    # ---- segments / search-contacts (§3.12) ----
    cols["search-contacts"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.search_contacts))):
        sid = store.new_id(4)
        camp = _campaign(store, i)
        cols["search-contacts"].append(
            {
                "searchContactId": sid,
                "name": f"segment_{i + 1}",
                "createdOn": fmt_ts(created),
                "href": f"{store.base}/search-contacts/{sid}",
                "subscribersType": ["subscribed"],
                "sectionLogicOperator": "or",
                "section": [
                    {
                        "campaignIdsList": [camp["campaignId"]],
                        "logicOperator": "and",
                        "subscriberCycle": [
                            "receiving_autoresponder",
                            "not_receiving_autoresponder",
                        ],
                        "subscriptionDate": "all_time",
                        "conditions": [
                            {
                                "conditionType": "email",
                                "operatorType": "string_operator",
                                "operator": "contains",
                                "value": ("mail", "inbox", "post", "letters")[i % 4],
                            }
                        ],
                    }
                ],
                "_campaign_idx": i % len(store.campaigns),
                "_needle": ("mail", "inbox", "post", "letters")[i % 4],
            }
        )

    # ---- forms (§3.13) ----
    cols["forms"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.forms))):
        fid = store.new_id(4)
        camp = _campaign(store, i)
        visitors = rng.randint(100, 9000)
        unique = int(visitors * 0.85)
        subscribed = int(unique * rng.random() * 0.6)
        stats = {
            "visitors": visitors,
            "uniqueVisitors": unique,
            "subscribed": subscribed,
            "subscriptionRate": round(subscribed / unique, 2) if unique else 0.0,
        }
        variants = [
            {
                "variant": str(v),
                "variantName": f"Variant {'AB'[v]}",
                "winner": "true" if v == 0 else "false",
                "status": "published",
                "createdOn": fmt_ts(created + v * 3600),
                "statistics": stats,
            }
            for v in range(1 + i % 2)
        ]
        cols["forms"].append(
            {
                "formId": fid,
                "webformId": fid,
                "name": f"Signup form {i + 1}",
                "href": f"{store.base}/forms/{fid}",
                "hasVariants": len(variants) > 1,
                "scriptUrl": f"https://app.getresponse.com/view_webform_v2.js?u=S&webforms_id={fid}",
                "status": ("published", "unpublished", "draft")[i % 3],
                "createdOn": fmt_ts(created),
                "statistics": stats,
                "campaign": campaign_ref(store, camp),
                "settings": {
                    "optin": "single",
                    "phase": None,
                    "thankYouType": "default",
                    "thankYouUrl": None,
                    "alreadySubscribedType": "default",
                    "alreadySubscribedUrl": None,
                    "secondStageCaptcha": "false",
                    "forwardDataRequestType": "POST",
                    "trackingCustomFieldValue": None,
                },
                "variants": variants,
            }
        )

    # ---- legacy forms / webforms (§3.13) ----
    cols["webforms"] = []
    for i, modified in enumerate(sorted(seeded_time(store) for _ in range(sc.webforms))):
        wid = store.new_id(4)
        cols["webforms"].append(
            {
                "webformId": wid,
                "name": f"Legacy form {i + 1}",
                "href": f"{store.base}/webforms/{wid}",
                "scriptUrl": f"https://app.getresponse.com/view_webform.js?wid={wid}",
                "status": "enabled" if i % 3 else "disabled",
                "modifiedOn": fmt_ts(modified),
                "statistics": {"opened": rng.randint(0, 5000), "subscribed": rng.randint(0, 500)},
                "campaign": campaign_ref(store, _campaign(store, i)),
            }
        )

    # ---- legacy landing pages (§3.14) ----
    cols["landing-pages"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.landing_pages))):
        lid = store.new_id(4)
        cols["landing-pages"].append(
            {
                "landingPageId": lid,
                "href": f"{store.base}/landing-pages/{lid}",
                "metaTitle": f"Landing page {i + 1}",
                "domain": "gr8.new",
                "subdomain": f"offer-{i + 1}",
                "userDomain": "",
                "userDomainPath": "",
                "campaign": campaign_ref(store, _campaign(store, i)),
                "status": "enabled" if i % 2 == 0 else "disabled",
                "userDomainStatus": "inactive",
                "testAB": "false",
                "createdOn": fmt_ts(created),
                "updatedOn": fmt_ts(min(created + rng.randint(0, 90 * 86400), SEED_END)),
                "metaDescription": "Seeded landing page",
                "metaNoindex": "no",
                "dayOfCycle": None,
                "optin": "single",
                "favicoUrl": None,
                "thankYouPageType": "default",
                "thankYouPageUrl": f"https://offer-{i + 1}.gr8.new/thanks",
                "url": f"https://offer-{i + 1}.gr8.new",
                "variants": [
                    {
                        "variantId": store.new_id(4),
                        "variant": "0",
                        "winner": True,
                        "visitors": "120",
                        "uniqueVisitors": "100",
                        "subscribed": "12",
                    }
                ],
            }
        )

    # ---- landing pages /lps (§3.14): UUID ids, timestamps without offset ----
    cols["lps"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.lps))):
        lps_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        visits = rng.randint(0, 5000)
        leads = int(visits * rng.random() * 0.3)
        cols["lps"].append(
            {
                "lpsId": lps_id,
                "href": f"{store.base}/lps/{lps_id}",
                "name": f"Predesigned #{i + 1:03d}",
                "status": "published" if i % 2 == 0 else "unpublished",
                "domainUrl": f"predesigned-{i + 1:03d}.grweb.site",
                "thumbnailUrl": f"https://img.brand.test/lps/{i + 1}.png",
                "isChatsEnabled": "false",
                "createdAt": fmt_ts_naive(created),
                "updatedAt": fmt_ts_naive(min(created + rng.randint(0, 60 * 86400), SEED_END)),
                "statistics": {
                    "visits": visits,
                    "leads": leads,
                    "subscriptionRate": int(100 * leads / visits) if visits else 0,
                },
                "pages": [
                    {
                        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "name": "Home",
                        "status": "active",
                        "url": "/",
                        "redirectUrl": "",
                        "createdAt": fmt_ts_naive(created),
                    }
                ],
                "pageViews": visits + rng.randint(0, 500),
                "visits": visits,
                "uniqueVisitors": int(visits * 0.8),
            }
        )

    # ---- webinars (§3.15) ----
    cols["webinars"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.webinars))):
        wid = store.new_id(4)
        starts = min(created + rng.randint(86400, 30 * 86400), SEED_END)
        cols["webinars"].append(
            {
                "webinarId": wid,
                "href": f"{store.base}/webinars/{wid}",
                "name": f"Webinar {i + 1}",  # not in the official schema, but filterable (§3.15)
                "createdOn": fmt_ts(created),
                "startsOn": fmt_ts(starts),
                "webinarUrl": f"https://app.getresponse.com/webinars/{wid}",
                "status": ("finished", "upcoming", "published", "unpublished")[i % 4],
                "type": ("live", "on_demand", "all")[i % 3],
                "campaigns": [campaign_ref(store, _campaign(store, i))],
                "newsletters": [
                    ref(store, "newsletters", "newsletterId", n["newsletterId"])
                    for n in cols["newsletters"][i : i + 1]
                ],
                "statistics": {
                    "registrants": rng.randint(10, 400),
                    "visitors": rng.randint(5, 300),
                    "attendees": rng.randint(1, 200),
                },
            }
        )

    # ---- workflows (§3.16) ----
    cols["workflow"] = []
    for i in range(sc.workflows):
        start = seeded_time(store)
        cols["workflow"].append(
            {
                "workflowId": store.new_id(3),
                "name": f"Workflow {i + 1}",
                "status": ("active", "inactive", "incomplete")[i % 3],
                "dateStart": fmt_ts(start),
                "dateStop": fmt_ts(min(start + 60 * 86400, SEED_END)),
                "subscriberStatistics": {
                    "completedCount": rng.randint(0, 900),
                    "inProgressCount": rng.randint(0, 300),
                },
            }
        )

    # ---- SMS (MAX + add-on, §3.17) ----
    cols["sms"] = []
    for i in range(sc.sms):
        sms_id = store.new_id(4)
        modified = seeded_time(store)
        cols["sms"].append(
            {
                "smsId": sms_id,
                "href": f"{store.base}/sms/{sms_id}",
                "name": f"SMS {i + 1}",
                "campaign": campaign_ref(store, _campaign(store, i)),
                "modifiedOn": fmt_ts(modified),
                "type": "sms" if i % 3 else "draft",
                "sendOn": {
                    "date": fmt_ts_naive(min(modified + 3600, SEED_END)),
                    "timeZone": {
                        "timeZoneId": 282,
                        "timeZoneName": "Europe/Warsaw",
                        "timeZoneOffset": "+01:00",
                    },
                },
                "recipientsType": "contacts",
                "senderName": "BRAND",
                "content": "Flash sale today only",
                "sendMetrics": {"progress": "100", "status": "sent"},
                "statistics": {"sent": 120, "delivered": 118, "clicks": 9},
                "sendSettings": {
                    "contacts": {
                        "selectedCampaigns": [_campaign(store, i)["campaignId"]],
                        "selectedSegments": [],
                        "excludedCampaigns": [],
                        "excludedSegments": [],
                        "selectedContacts": [],
                        "phoneNumberCustomFieldId": store.custom_fields[0]["customFieldId"]
                        if store.custom_fields
                        else "c2",
                    },
                },
                "clickTracks": [],
            }
        )
    cols["sms-sender-names"] = [
        {"senderNameId": store.new_id(3), "name": "BRAND", "status": "active", "isDefault": True}
    ]

    # ---- GDPR fields (§3.11) ----
    cols["gdpr-fields"] = []
    for i, created in enumerate(sorted(seeded_time(store) for _ in range(sc.gdpr_fields))):
        gid = store.new_id(3)
        cols["gdpr-fields"].append(
            {
                "gdprFieldId": gid,
                "name": f"Consent #{i + 1}",
                "createdOn": fmt_ts(created),
                "href": f"{store.base}/gdpr-fields/{gid}",
                "latestVersion": {
                    "gdprFieldVersionId": store.new_id(3),
                    "content": f"Version 1 of consent #{i + 1}",
                    "createdOn": fmt_ts(created + 3600),
                },
            }
        )

    # ---- shops, products, orders (§3.19) ----
    cols["shops"] = []
    cols["products"] = []
    cols["orders"] = []
    for s in range(sc.shops):
        shop_id = store.new_id(3)
        created = seeded_time(store, SEED_START, SEED_START + 60 * 86400)
        shop: dict[str, Any] = {
            "shopId": shop_id,
            "href": f"{store.base}/shops/{shop_id}",
            "name": f"Shop {s + 1}",
            "locale": ("PL", "EN")[s % 2],
            "currency": ("PLN", "USD")[s % 2],
            "createdOn": fmt_ts(created),
            "updatedOn": fmt_ts(created + 86400),
            "productCount": sc.products_per_shop,
            "productRevenue": 0.0,
            "revenueCurrency": ("PLN", "USD")[s % 2],
        }
        cols["shops"].append(shop)
        for p in range(sc.products_per_shop):
            pid = store.new_id(3)
            made = seeded_time(store, created)
            price = float(rng.randint(5, 300))
            cols["products"].append(
                {
                    "productId": pid,
                    "href": f"{shop['href']}/products/{pid}",
                    "name": f"Product {p + 1}",
                    "type": ("Headwear", "Shoes", "Books")[p % 3],
                    "url": f"https://shop{s + 1}.test/products/{p + 1}",
                    "vendor": "Sandbox",
                    "externalId": f"ext-{s}-{p}",
                    "categories": [],
                    "variants": [
                        {
                            "variantId": store.new_id(3),
                            "href": f"{shop['href']}/products/{pid}/variants/v{p}",
                            "name": f"Product {p + 1} standard",
                            "url": f"https://shop{s + 1}.test/products/{p + 1}",
                            "sku": f"SKU-{s}-{p}",
                            "price": price,
                            "priceTax": round(price * 1.23, 2),
                            "previousPrice": None,
                            "previousPriceTax": None,
                            "quantity": rng.randint(0, 100),
                            "position": 1,
                            "barcode": f"59{s}{p:06d}",
                            "externalId": f"var-{s}-{p}",
                            "description": "Seeded product",
                            "images": [],
                            "metaFields": [],
                            "taxes": [],
                        }
                    ],
                    "metaFields": [],
                    "createdOn": fmt_ts(made),
                    "updatedOn": fmt_ts(min(made + rng.randint(0, 30 * 86400), SEED_END)),
                    "_shop": shop_id,
                }
            )
        for o in range(sc.orders_per_shop):
            oid = store.new_id(3)
            processed = seeded_time(store, created)
            order_total = round(rng.uniform(10, 900), 2)
            row = rng.randrange(max(1, store.scale.contacts))
            address = {
                "addressId": store.new_id(3),
                "countryCode": "POL",
                "countryName": "Poland",
                "name": "home",
                "firstName": "Anna",
                "lastName": "Nowak",
                "address1": "Arkonska 6",
                "address2": "",
                "city": "Gdansk",
                "zip": "80-387",
                "province": "pomorskie",
                "provinceCode": "",
                "phone": "+48585000000",
                "company": "",
                "createdOn": fmt_ts(processed),
                "updatedOn": fmt_ts(processed),
            }
            address["href"] = f"{store.base}/addresses/{address['addressId']}"
            cols["orders"].append(
                {
                    "orderId": oid,
                    "href": f"{shop['href']}/orders/{oid}",
                    "contactId": store.contacts_store.contact_id(row)
                    if store.scale.contacts
                    else "",
                    "orderUrl": f"https://shop{s + 1}.test/orders/{o + 1}",
                    "externalId": f"ORD-{s}-{o}",
                    "totalPrice": order_total,
                    "totalPriceTax": round(order_total * 0.23, 2),
                    "currency": shop["currency"],
                    "status": ("NEW", "PAID", "SHIPPED")[o % 3],
                    "cartId": store.new_id(5),
                    "description": f"Order {o + 1}",
                    "shippingPrice": 10.0,
                    "shippingAddress": address,
                    "billingStatus": ("PENDING", "PAID")[o % 2],
                    "billingAddress": address,
                    "processedAt": fmt_ts(processed),
                    "metaFields": [],
                    "selectedVariants": [],
                    "createdOn": fmt_ts(processed),
                    "updatedOn": fmt_ts(processed),
                    "_shop": shop_id,
                }
            )
            shop["productRevenue"] = round(float(shop["productRevenue"]) + order_total, 2)

    # ---- seeded imports (§3.10) ----
    for i in range(sc.imports):
        iid = store.new_id(4)
        created = seeded_time(store)
        camp = _campaign(store, i)
        uploaded = rng.randint(10, 500)
        invalid = rng.randint(0, uploaded // 10)
        updated = rng.randint(0, (uploaded - invalid) // 2)
        cols["imports"].append(
            {
                "importId": iid,
                "href": f"{store.base}/imports/{iid}",
                "campaign": campaign_ref(store, camp),
                "status": "finished",
                "statistics": {
                    "uploaded": uploaded,
                    "invalid": invalid,
                    "updated": updated,
                    "addedToList": uploaded - invalid - updated,
                },
                "errorStatistics": {
                    "syntaxErrors": invalid,
                    "alreadyInQueue": 0,
                    "invalidDomains": 0,
                    "blacklist": 0,
                    "policyFailures": 0,
                    "mismatchedCriteria": 0,
                },
                "createdOn": fmt_ts(created),
                "finishedOn": fmt_ts(created + rng.randint(30, 3600)),
            }
        )
    cols["imports"].sort(key=lambda i: str(i["createdOn"]))
    cols["login-history"] = [
        {
            "loginTime": ts(store),
            "logoutTime": None,
            "isSuccessful": "true" if n % 5 else "false",
            "ip": f"198.51.100.{n + 1}",
        }
        for n in range(6)
    ]
    cols["login-history"].sort(key=lambda i: str(i["loginTime"]))
