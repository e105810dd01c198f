"""Other read endpoints: from fields, GDPR fields, segments, forms, landing pages, webinars,
workflows, SMS, shops, account sub-resources (§3.6, §3.11-§3.19)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.sandbox import errors
from tests.sandbox.endpoints import CAMPAIGN_CONTACTS
from tests.sandbox.listing import Filter, ListSpec, paginate, project
from tests.sandbox.response import Response
from tests.sandbox.routes import (
    Ctx,
    detail_response,
    drop,
    get_or_404,
    keep,
    list_response,
    public,
    route,
)

# ---- from fields (§3.6) --------------------------------------------------------------------
FROM_FIELDS = ListSpec(
    "fromFieldId",
    filters={
        "email": Filter("like"),
        "name": Filter("like"),
        "isDefault": Filter("eq"),
        "isActive": Filter("eq"),
    },
    sorts={"createdOn": "createdOn"},
)


@route("GET", "/from-fields")
def list_from_fields(ctx: Ctx) -> Response:
    """GET /from-fields."""
    return list_response(ctx, ctx.data.from_fields, FROM_FIELDS)


@route("GET", "/from-fields/{fromFieldId}")
def get_from_field(ctx: Ctx) -> Response:
    """GET /from-fields/{fromFieldId}."""
    return detail_response(ctx, get_or_404(ctx, "from-fields", "fromFieldId"), "fromFieldId")


# ---- GDPR fields (§3.11) -------------------------------------------------------------------
GDPR = ListSpec("gdprFieldId", sorts={"name": "name", "createdOn": "createdOn"})


@route("GET", "/gdpr-fields")
def list_gdpr(ctx: Ctx) -> Response:
    """GET /gdpr-fields (list items have no latestVersion)."""
    return list_response(ctx, ctx.data.gdpr_fields, GDPR, drop("latestVersion"))


@route("GET", "/gdpr-fields/{gdprFieldId}")
def get_gdpr(ctx: Ctx) -> Response:
    """GET /gdpr-fields/{gdprFieldId}."""
    return detail_response(ctx, get_or_404(ctx, "gdpr-fields", "gdprFieldId"), "gdprFieldId")


# ---- search contacts / segments (§3.12) ----------------------------------------------------
SEGMENTS = ListSpec(
    "searchContactId",
    filters={"name": Filter("like"), "createdOn": Filter("range")},
    sorts={"name": "name", "createdOn": "createdOn"},
)
SEGMENT_CONTACTS = ListSpec("contactId", sorts={k: k for k in ("name", "email", "createdOn")})


@route("GET", "/search-contacts")
def list_segments(ctx: Ctx) -> Response:
    """GET /search-contacts."""
    return list_response(
        ctx,
        ctx.data.search_contacts,
        SEGMENTS,
        keep("searchContactId", "name", "createdOn", "href"),
    )


@route("GET", "/search-contacts/{searchContactId}")
def get_segment(ctx: Ctx) -> Response:
    """GET /search-contacts/{searchContactId}."""
    return detail_response(
        ctx, get_or_404(ctx, "search-contacts", "searchContactId"), "searchContactId"
    )


@route("GET", "/search-contacts/{searchContactId}/contacts")
def segment_contacts(ctx: Ctx) -> Response:
    """Contacts of a saved segment: its campaign's contacts whose e-mail contains its needle."""
    segment = get_or_404(ctx, "search-contacts", "searchContactId")
    ctx.query.check(SEGMENT_CONTACTS)
    data = ctx.data
    cs = data.contacts_store
    with data.lock:
        # Reuse the contact selection: the segment's single condition is an e-mail LIKE.
        ctx.query.filters["email"] = segment["_needle"]
        ctx.query.check(CAMPAIGN_CONTACTS)
        rows = cs.select(ctx.query, segment["_campaign_idx"])
        page = paginate(rows, ctx.query)
        items = [_searched(cs, r) for r in page.items]
    return Response(200, [project(i, ctx.query, "contactId") for i in items], page.headers)


# SearchedContactDetails.origin has a shorter enum than contacts (§3.12); others map to "www".
_SEARCH_ORIGINS = {
    "import", "email", "www", "panel", "leads", "sale", "api", "forward", "survey", "iphone",
    "copy", "landing_page", "webinar", "course", "premium_newsletter",
}  # fmt: skip


def _searched(cs: Any, row: int) -> dict[str, Any]:
    """SearchedContactDetails (§3.12): score is a string, reason/deletedOn null for active ones."""
    base = cs.list_element(row)
    score = base.get("scoring")
    return {
        "contactId": base["contactId"],
        "name": base.get("name"),
        "email": base["email"],
        "origin": base["origin"] if base["origin"] in _SEARCH_ORIGINS else "www",
        "dayOfCycle": base["dayOfCycle"],
        "createdOn": base["createdOn"],
        "campaign": base["campaign"],
        "score": None if score is None else str(int(score)),
        "deletedOn": None,  # active contacts: no removal `reason` (a nullable enum, omitted)
    }


# ---- forms, legacy forms (§3.13) -----------------------------------------------------------
FORMS = ListSpec(
    "formId",
    filters={
        "name": Filter("like"),
        "campaignId": Filter("in", "campaign.campaignId"),
        "status": Filter("param"),
        "createdOn": Filter("range"),
    },
    sorts={
        "createdOn": "createdOn",
        "name": "name",
        "visitors": "statistics.visitors",
        "uniqueVisitors": "statistics.uniqueVisitors",
        "subscribed": "statistics.subscribed",
        "subscriptionRate": "statistics.subscriptionRate",
    },
)
WEBFORMS = ListSpec(
    "webformId",
    filters={
        "name": Filter("like"),
        "campaignId": Filter("in", "campaign.campaignId"),
        "modifiedOn": Filter("range"),
    },
    sorts={"modifiedOn": "modifiedOn"},
)


@route("GET", "/forms")
def list_forms(ctx: Ctx) -> Response:
    """GET /forms; query[status]: enabled = published, disabled = unpublished + draft (§3.13)."""
    items: list[dict[str, Any]] = ctx.data.forms
    status = ctx.query.filters.get("status")
    if status is not None:
        wanted = {"enabled": {"published"}, "disabled": {"unpublished", "draft"}}.get(
            status, {status}
        )
        items = [f for f in items if f["status"] in wanted]
    return list_response(ctx, items, FORMS, drop("settings", "variants"))


@route("GET", "/forms/{formId}")
def get_form(ctx: Ctx) -> Response:
    """GET /forms/{formId}."""
    return detail_response(ctx, get_or_404(ctx, "forms", "formId"), "formId")


@route("GET", "/forms/{formId}/variants")
def form_variants(ctx: Ctx) -> Response:
    """GET /forms/{formId}/variants (not paginated, winner "yes"/"no", §3.13)."""
    form = get_or_404(ctx, "forms", "formId")
    out = [
        {
            "formId": form["formId"],
            "webformId": form["webformId"],
            "variant": v["variant"],
            "variantName": v["variantName"],
            "winner": "yes" if v["winner"] == "true" else "no",
            "status": v["status"],
            "createdOn": v["createdOn"],
            "numberOfVisitors": v["statistics"]["visitors"],
            "numberOfUniqueVisitors": v["statistics"]["uniqueVisitors"],
            "numberOfSubscribers": v["statistics"]["subscribed"],
            "subscriptionRate": v["statistics"]["subscriptionRate"],
        }
        for v in form["variants"]
    ]
    return Response(200, [project(i, ctx.query, "formId") for i in out])


@route("GET", "/webforms")
def list_webforms(ctx: Ctx) -> Response:
    """GET /webforms (legacy forms; incremental on modifiedOn, §3.0)."""
    return list_response(ctx, ctx.data.webforms, WEBFORMS)


@route("GET", "/webforms/{webformId}")
def get_webform(ctx: Ctx) -> Response:
    """GET /webforms/{webformId}."""
    return detail_response(ctx, get_or_404(ctx, "webforms", "webformId"), "webformId")


# ---- landing pages (§3.14) -----------------------------------------------------------------
LEGACY_PAGES = ListSpec(
    "landingPageId",
    filters={
        "domain": Filter("like"),
        "status": Filter("eq"),
        "subdomain": Filter("like"),
        "metaTitle": Filter("like"),
        "userDomain": Filter("like"),
        "campaignId": Filter("in", "campaign.campaignId"),
        "createdOn": Filter("range"),
    },
    sorts={
        "createdOn": "createdOn",
        "domain": "domain",
        "campaignId": "campaign.campaignId",
        "metaTitle": "metaTitle",
    },
)
_LEGACY_DETAIL_ONLY = (
    "metaDescription", "metaNoindex", "dayOfCycle", "optin", "favicoUrl", "thankYouPageType",
    "thankYouPageUrl", "url", "variants",
)  # fmt: skip
LPS = ListSpec(
    "lpsId",
    filters={"name": Filter("like"), "status": Filter("eq")},
    sorts={
        "name": "name",
        "createdAt": "createdAt",
        "updatedAt": "updatedAt",
        "visits": "statistics.visits",
        "leads": "statistics.leads",
        "subscriptionRate": "statistics.subscriptionRate",
    },
)


@route("GET", "/landing-pages")
def list_legacy_pages(ctx: Ctx) -> Response:
    """GET /landing-pages (legacy)."""
    return list_response(ctx, ctx.data.landing_pages, LEGACY_PAGES, drop(*_LEGACY_DETAIL_ONLY))


@route("GET", "/landing-pages/{landingPageId}")
def get_legacy_page(ctx: Ctx) -> Response:
    """GET /landing-pages/{landingPageId}.

    The official schema says the detail is an array (§3.14, probable spec quirk); the sandbox
    answers a single object like every other detail endpoint.
    """
    return detail_response(ctx, get_or_404(ctx, "landing-pages", "landingPageId"), "landingPageId")


@route("GET", "/lps")
def list_lps(ctx: Ctx) -> Response:
    """GET /lps (`stats[from]`/`stats[to]` accepted and ignored; timestamps without offset)."""
    return list_response(
        ctx, ctx.data.lps, LPS, drop("pages", "pageViews", "visits", "uniqueVisitors")
    )


@route("GET", "/lps/{lpsId}")
def get_lps(ctx: Ctx) -> Response:
    """GET /lps/{lpsId}."""
    return detail_response(ctx, get_or_404(ctx, "lps", "lpsId"), "lpsId")


# ---- webinars (§3.15), workflows (§3.16) ---------------------------------------------------
WEBINARS = ListSpec(
    "webinarId",
    filters={
        "name": Filter("like"),
        "campaignId": Filter("param"),
        "status": Filter("eq"),
        "type": Filter("eq"),
    },
    sorts={"name": "name", "createdOn": "createdOn", "startsOn": "startsOn"},
)
WORKFLOWS = ListSpec("workflowId")


@route("GET", "/webinars")
def list_webinars(ctx: Ctx) -> Response:
    """GET /webinars (query[campaignId] is a list matched against `campaigns`)."""
    items: list[dict[str, Any]] = ctx.data.webinars
    wanted = ctx.query.filters.get("campaignId")
    if wanted is not None:
        ids = {c.strip() for c in wanted.split(",")}
        items = [w for w in items if any(c["campaignId"] in ids for c in w["campaigns"])]
    return list_response(ctx, items, WEBINARS)


@route("GET", "/webinars/{webinarId}")
def get_webinar(ctx: Ctx) -> Response:
    """GET /webinars/{webinarId}."""
    return detail_response(ctx, get_or_404(ctx, "webinars", "webinarId"), "webinarId")


@route("GET", "/workflow")
def list_workflows(ctx: Ctx) -> Response:
    """GET /workflow (singular path, §3.16)."""
    return list_response(ctx, ctx.data.workflow, WORKFLOWS)


@route("GET", "/workflow/{workflowId}")
def get_workflow(ctx: Ctx) -> Response:
    """GET /workflow/{workflowId}."""
    return detail_response(ctx, get_or_404(ctx, "workflow", "workflowId"), "workflowId")


# ---- SMS (MAX + add-on, §3.17) -------------------------------------------------------------
SMS = ListSpec(
    "smsId",
    filters={
        "type": Filter("eq"),
        "name": Filter("like"),
        "sendingStatus": Filter("eq", "sendMetrics.status"),
        "campaignId": Filter("in", "campaign.campaignId"),
        "hasLinks": Filter("param"),
    },
    sorts={
        "sendingStatus": "sendMetrics.status",
        "name": "name",
        "sendOn": "sendOn.date",
        "modifiedOn": "modifiedOn",
        "delivered": "statistics.delivered",
        "sent": "statistics.sent",
        "clicks": "statistics.clicks",
    },
)
SENDER_NAMES = ListSpec("senderNameId", filters={"status": Filter("eq")}, paginated=False)


def _sms_enabled(ctx: Ctx) -> None:
    if not ctx.sb.sms_enabled:
        # §3.17: SMS needs MAX plus the add-on. The refusal is not documented; 403 / 1023
        # ("access forbidden", ERR-LIB) follows the rule "authorization errors -> 403" (§5.2).
        raise errors.ApiError(
            403,
            1023,
            message="SMS add-on is not enabled for this account",
            context={"addon": "sms"},
        )


@route("GET", "/sms/sender-names")
def sender_names(ctx: Ctx) -> Response:
    """GET /sms/sender-names (not paginated)."""
    _sms_enabled(ctx)
    return list_response(ctx, ctx.data.sms_sender_names, SENDER_NAMES)


@route("GET", "/sms")
def list_sms(ctx: Ctx) -> Response:
    """GET /sms: an array (the official schema shows a single item, §3.17 quirk)."""
    _sms_enabled(ctx)
    return list_response(ctx, ctx.data.sms, SMS, drop("sendSettings", "clickTracks"))


@route("GET", "/sms/{smsId}")
def get_sms(ctx: Ctx) -> Response:
    """GET /sms/{smsId}."""
    _sms_enabled(ctx)
    return detail_response(ctx, get_or_404(ctx, "sms", "smsId"), "smsId")


# ---- shops (§3.19) -------------------------------------------------------------------------
SHOPS = ListSpec(
    "shopId", filters={"name": Filter("like")}, sorts={"name": "name", "createdOn": "createdOn"}
)
PRODUCTS = ListSpec(
    "productId",
    filters={
        "name": Filter("like"),
        "vendor": Filter("like"),
        "category": Filter("param"),
        "categoryId": Filter("param"),
        "externalId": Filter("eq"),
        "variantName": Filter("param"),
        "metaFieldNames": Filter("param"),
        "metaFieldValues": Filter("param"),
        "createdOn": Filter("range"),
    },
    sorts={"name": "name", "createdOn": "createdOn"},
)
ORDERS = ListSpec(
    "orderId",
    filters={
        "description": Filter("like"),
        "status": Filter("eq"),
        "externalId": Filter("eq"),
        "processedAt": Filter("range"),
    },
    sorts={"createdOn": "createdOn"},
)
_SHOP_LIST_KEYS = ("shopId", "href", "name", "locale", "currency", "createdOn", "updatedOn")


@route("GET", "/shops")
def list_shops(ctx: Ctx) -> Response:
    """GET /shops."""
    return list_response(ctx, ctx.data.shops, SHOPS, keep(*_SHOP_LIST_KEYS))


@route("GET", "/shops/{shopId}")
def get_shop(ctx: Ctx) -> Response:
    """GET /shops/{shopId}."""
    return detail_response(ctx, get_or_404(ctx, "shops", "shopId"), "shopId")


def _of_shop(ctx: Ctx, collection: str) -> list[dict[str, Any]]:
    shop = get_or_404(ctx, "shops", "shopId")
    return [i for i in ctx.data.collections[collection] if i["_shop"] == shop["shopId"]]


@route("GET", "/shops/{shopId}/products")
def list_products(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/products."""
    return list_response(ctx, _of_shop(ctx, "products"), PRODUCTS)


@route("GET", "/shops/{shopId}/products/{productId}")
def get_product(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/products/{productId}."""
    items = _of_shop(ctx, "products")
    item = next((p for p in items if p["productId"] == ctx.args["productId"]), None)
    return detail_response(ctx, item, "productId")


def _order_list_view(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in public(item).items() if k != "selectedVariants"}


@route("GET", "/shops/{shopId}/orders")
def list_orders(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/orders (incremental on processedAt, §3.0)."""
    return list_response(ctx, _of_shop(ctx, "orders"), ORDERS, _order_list_view)


@route("GET", "/shops/{shopId}/orders/{orderId}")
def get_order(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/orders/{orderId}."""
    items = _of_shop(ctx, "orders")
    item = next((o for o in items if o["orderId"] == ctx.args["orderId"]), None)
    return detail_response(ctx, item, "orderId")


# ---- account sub-resources (§3.18) ---------------------------------------------------------
@route("GET", "/accounts/billing")
def billing(ctx: Ctx) -> Response:
    """GET /accounts/billing."""
    body = {
        "listSize": str(len(ctx.data.contacts_store)),
        "paymentPlan": "Monthly",
        "subscriptionPrice": 49,
        "renewalDate": "2026-12-01",
        "currencyCode": "USD",
        "accountBalance": "0.00",
        "price": 49,
        "paymentMethod": "credit_card",
        "creditCard": {"number": "XXXXXXXXXXXX0123", "expirationDate": "2028-01-01"},
        "addons": [{"name": "Landing Page Creator", "price": 15, "active": "true"}],
    }
    return Response(200, project(body, ctx.query, "listSize"))


@route("GET", "/accounts/login-history")
def login_history(ctx: Ctx) -> Response:
    """GET /accounts/login-history (paginated)."""
    return list_response(ctx, ctx.data.login_history, ListSpec("loginTime"))


@route("GET", "/accounts/sending-limits")
def sending_limits(_ctx: Ctx) -> Response:
    """GET /accounts/sending-limits (not paginated)."""
    return Response(200, [{"timeFrame": 2592000, "limit": 100000, "used": 1234}])


@route("GET", "/accounts/industries")
def industries(ctx: Ctx) -> Response:
    """GET /accounts/industries (paginated)."""
    items = [
        {
            "industryTagId": "1",
            "name": "Marketing agencies",
            "description": "Agencies big and small",
        },
        {"industryTagId": "2", "name": "E-commerce", "description": "Online shops"},
    ]
    return list_response(ctx, items, ListSpec("industryTagId"))


@route("GET", "/accounts/timezones")
def timezones(ctx: Ctx) -> Response:
    """GET /accounts/timezones (not paginated)."""
    items = [
        {"timezoneId": 1, "name": "Europe/Warsaw", "offset": "+01:00", "country": "Poland"},
        {"timezoneId": 2, "name": "Europe/London", "offset": "+00:00", "country": "United Kingdom"},
    ]
    return list_response(ctx, items, ListSpec("timezoneId", paginated=False))


@route("GET", "/accounts/callbacks")
def callbacks(_ctx: Ctx) -> Response:
    """GET /accounts/callbacks."""
    actions = {
        "open": False,
        "click": False,
        "subscribe": True,
        "unsubscribe": True,
        "survey": False,
    }
    return Response(200, {"url": "https://hooks.brand.test/getresponse", "actions": actions})


@route("GET", "/accounts/badge")
def badge(_ctx: Ctx) -> Response:
    """GET /accounts/badge."""
    return Response(200, {"status": "enabled"})
