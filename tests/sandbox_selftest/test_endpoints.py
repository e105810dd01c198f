"""Every read endpoint answers with the documented shapes (a smoke test per §3.x)."""

from __future__ import annotations

import pytest

from tests.sandbox import Scale
from tests.sandbox_selftest.helpers import assert_error, get

LISTS = [
    "/campaigns", "/contacts", "/custom-fields", "/tags", "/from-fields", "/gdpr-fields",
    "/imports", "/newsletters", "/autoresponders", "/rss-newsletters", "/click-tracks",
    "/search-contacts", "/forms", "/webforms", "/landing-pages", "/lps", "/webinars", "/workflow",
    "/shops", "/accounts/login-history", "/accounts/industries",
]  # fmt: skip


@pytest.mark.parametrize("path", LISTS)
def test_paginated_lists(sandbox, path):
    response = get(sandbox, path)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    assert response.json()
    assert "TotalCount" in response.headers


@pytest.mark.parametrize(
    ("collection", "path", "key"),
    [
        ("campaigns", "/campaigns/{}", "campaignId"),
        ("custom_fields", "/custom-fields/{}", "customFieldId"),
        ("tags", "/tags/{}", "tagId"),
        ("from_fields", "/from-fields/{}", "fromFieldId"),
        ("gdpr_fields", "/gdpr-fields/{}", "gdprFieldId"),
        ("imports", "/imports/{}", "importId"),
        ("newsletters", "/newsletters/{}", "newsletterId"),
        ("autoresponders", "/autoresponders/{}", "autoresponderId"),
        ("rss_newsletters", "/rss-newsletters/{}", "rssNewsletterId"),
        ("click_tracks", "/click-tracks/{}", "clickTrackId"),
        ("search_contacts", "/search-contacts/{}", "searchContactId"),
        ("forms", "/forms/{}", "formId"),
        ("webforms", "/webforms/{}", "webformId"),
        ("landing_pages", "/landing-pages/{}", "landingPageId"),
        ("lps", "/lps/{}", "lpsId"),
        ("webinars", "/webinars/{}", "webinarId"),
        ("workflow", "/workflow/{}", "workflowId"),
        ("shops", "/shops/{}", "shopId"),
    ],
)
def test_details_and_404(sandbox, collection, path, key):
    ident = getattr(sandbox.data, collection)[0][key]
    response = get(sandbox, path.format(ident))
    assert response.status_code == 200
    assert response.json()[key] == ident
    assert_error(get(sandbox, path.format("zz9zz")), 404, 1013)


def test_singletons(sandbox):
    assert get(sandbox, "/accounts").json()["accountId"]
    assert get(sandbox, "/accounts", fields="email").json().keys() == {"accountId", "email"}
    for path in (
        "/accounts/billing",
        "/accounts/blocklists",
        "/accounts/callbacks",
        "/accounts/badge",
    ):
        assert isinstance(get(sandbox, path).json(), dict)
    for path in ("/accounts/sending-limits", "/accounts/timezones"):
        response = get(sandbox, path)
        assert isinstance(response.json(), list)
        assert "TotalCount" not in response.headers


def test_autoresponder_quirks(sandbox):
    item = get(sandbox, "/autoresponders", perPage=1).json()[0]
    assert "campaignId" in item["campaign"]
    detail = get(sandbox, f"/autoresponders/{item['autoresponderId']}").json()
    assert "id" in detail["campaign"]
    assert "campaignId" not in detail["campaign"]


@pytest.mark.parametrize("group", ["total", "hour", "day", "month"])
def test_message_statistics(sandbox, group):
    newsletter = sandbox.data.newsletters[0]["newsletterId"]
    rows = get(sandbox, f"/newsletters/{newsletter}/statistics", **{"query[groupBy]": group}).json()
    assert rows
    assert all("/P" in r["timeInterval"] and "+0000/" in r["timeInterval"] for r in rows)
    assert all(isinstance(r["sent"], int) for r in rows)
    whole = get(sandbox, "/newsletters/statistics", **{"query[newsletterId]": newsletter}).json()
    assert sum(r["sent"] for r in rows) == whole[0]["sent"]


def test_autoresponder_statistics_use_the_misspelled_filter(sandbox):
    auto = sandbox.data.autoresponders[0]["autoresponderId"]
    ok = get(sandbox, "/autoresponders/statistics", **{"query[autoreponderId]": auto})
    assert ok.status_code == 200
    assert ok.json()
    assert_error(
        get(sandbox, "/autoresponders/statistics", **{"query[autoresponderId]": auto}), 400, 1000
    )
    rss = sandbox.data.rss_newsletters[0]["rssNewsletterId"]
    assert get(sandbox, "/rss-newsletters/statistics", **{"query[rssNewsletterId]": rss}).json()


@pytest.mark.parametrize(
    "kind", ["list-size", "locations", "origins", "subscriptions", "removals", "balance", "summary"]
)
def test_campaign_statistics(sandbox, kind):
    campaign = sandbox.data.campaigns[0]["campaignId"]
    params = {"query[campaignId]": campaign}
    if kind != "summary":
        params |= {"query[groupBy]": "month", "query[createdOn][from]": "2025-02-01"}
    response = get(sandbox, f"/campaigns/statistics/{kind}", **params)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    assert "TotalCount" not in response.headers
    if kind != "summary":
        assert_error(get(sandbox, f"/campaigns/statistics/{kind}"), 400, 1000)


def test_list_size_counts_match_the_contacts(sandbox):
    campaign = sandbox.data.campaigns[0]["campaignId"]
    rows = get(
        sandbox, "/campaigns/statistics/list-size",
        **{"query[campaignId]": campaign, "query[groupBy]": "total"},
    ).json()  # fmt: skip
    members = [c for c in sandbox.data.contacts if c["campaign"]["campaignId"] == campaign]
    assert rows[0]["createdOn"] == "total"
    assert rows[0]["addedSubscribers"] == len(members)
    summary = get(
        sandbox, "/campaigns/statistics/summary", **{"query[campaignId]": campaign}
    ).json()
    assert summary[0][campaign]["totalSubscribers"] == str(len(members))


def test_activities_default_to_the_last_14_days(sandbox):
    contact = sandbox.data.contacts[0]["contactId"]
    assert get(sandbox, f"/contacts/{contact}/activities").json() == []
    ranged = get(
        sandbox, f"/contacts/{contact}/activities", **{"query[createdOn][from]": "2025-01-01"}
    )
    for item in ranged.json():
        assert "contactId" not in item
        assert item["activity"] in {"send", "open", "click"}
    newsletter = sandbox.data.newsletters[0]["newsletterId"]
    assert get(sandbox, f"/newsletters/{newsletter}/activities").json() == []
    old = get(
        sandbox, f"/newsletters/{newsletter}/activities", **{"query[createdOn][from]": "2025-01-01"}
    )
    assert old.json()
    assert {a["contact"]["contactId"] for a in old.json()}


def test_segment_contacts_and_shop_children(sandbox):
    segment = sandbox.data.search_contacts[0]["searchContactId"]
    assert get(sandbox, f"/search-contacts/{segment}/contacts").status_code == 200
    shop = sandbox.data.shops[0]["shopId"]
    products = get(sandbox, f"/shops/{shop}/products").json()
    orders = get(
        sandbox, f"/shops/{shop}/orders", **{"query[processedAt][from]": "2025-01-01"}
    ).json()
    assert products
    assert orders
    assert get(sandbox, f"/shops/{shop}/products/{products[0]['productId']}").status_code == 200
    assert get(sandbox, f"/shops/{shop}/orders/{orders[0]['orderId']}").status_code == 200
    variants = get(sandbox, f"/forms/{sandbox.data.forms[0]['formId']}/variants").json()
    assert variants[0]["winner"] in {"yes", "no"}


def test_sms_needs_the_add_on(make_sandbox):
    off = make_sandbox(scale=Scale(contacts=5))
    assert_error(get(off, "/sms"), 403, 1023)
    on = make_sandbox(scale=Scale(contacts=5), sms_enabled=True)
    items = get(on, "/sms").json()
    assert items
    assert get(on, f"/sms/{items[0]['smsId']}").status_code == 200
    assert get(on, "/sms/sender-names").status_code == 200
