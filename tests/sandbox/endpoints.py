"""Read endpoints: accounts, campaigns, contacts, custom fields, tags (§3.0-§3.5, §3.18)."""

from __future__ import annotations

from typing import Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListSpec, paginate, project
from tests.sandbox.response import Response
from tests.sandbox.routes import (
    Ctx,
    detail_response,
    drop,
    get_or_404,
    list_response,
    public,
    route,
)

# ---- accounts (§3.18) ----------------------------------------------------------------------


def account(ctx: Ctx) -> dict[str, Any]:
    """Return the account resource."""
    return {
        "accountId": "VfEy1",
        "email": "owner@brand.test",
        "countryCode": {"countryCodeId": "175", "countryCode": "PL"},
        "industryTag": {"industryTagId": "1"},
        "timeZone": {"name": "Europe/Warsaw", "offset": "+01:00"},
        "href": f"{ctx.data.base}/accounts",
        "firstName": "Sandbox",
        "lastName": "Owner",
        "companyName": "Sandbox Ltd.",
        "phone": "+48585000000",
        "state": "Pomerania",
        "city": "Gdansk",
        "street": "Grunwaldzka 413",
        "zipCode": "80-309",
        "numberOfEmployees": "50",
        "timeFormat": "24h",
    }


@route("GET", "/accounts")
def get_account(ctx: Ctx) -> Response:
    """GET /accounts (single object, §3.18)."""
    return Response(200, project(account(ctx), ctx.query, "accountId"))


# ---- campaigns (§3.2) ----------------------------------------------------------------------
CAMPAIGNS = ListSpec(
    "campaignId",
    filters={"name": Filter("like"), "isDefault": Filter("eq")},
    sorts={"name": "name", "createdOn": "createdOn"},
)
_CAMPAIGN_DETAIL_ONLY = (
    "postal",
    "confirmation",
    "optinTypes",
    "subscriptionNotifications",
    "profile",
)


@route("GET", "/campaigns")
def list_campaigns(ctx: Ctx) -> Response:
    """GET /campaigns."""
    return list_response(ctx, ctx.data.campaigns, CAMPAIGNS, drop(*_CAMPAIGN_DETAIL_ONLY))


@route("GET", "/campaigns/{campaignId}")
def get_campaign(ctx: Ctx) -> Response:
    """GET /campaigns/{campaignId} (detail has no `description`, §3.2)."""
    item = ctx.data.find_item("campaigns", "campaignId", ctx.args["campaignId"])
    return detail_response(ctx, item, "campaignId", drop("description"))


# ---- contacts (§3.1) -----------------------------------------------------------------------
CONTACTS = ListSpec(
    "contactId",
    filters={
        "email": Filter("like"),
        "name": Filter("like"),
        "campaignId": Filter("in"),
        "origin": Filter("eq"),
        "createdOn": Filter("range"),
        "changedOn": Filter("range"),
    },
    sorts={k: k for k in ("email", "name", "createdOn", "changedOn", "campaignId")},
)
CAMPAIGN_CONTACTS = ListSpec(
    "contactId",
    filters={"email": Filter("like"), "name": Filter("like"), "createdOn": Filter("range")},
    sorts={k: k for k in ("email", "name", "createdOn")},
)


def _contact_page(ctx: Ctx, spec: ListSpec, campaign_idx: int | None) -> Response:
    ctx.query.check(spec)
    cs = ctx.data.contacts_store
    with ctx.data.lock:
        rows = cs.select(ctx.query, campaign_idx)
        page = paginate(rows, ctx.query)
        items = [cs.kept_element(r) for r in page.items]  # sent as they are, not changed
    if ctx.query.fields:
        items = [project(i, ctx.query, "contactId") for i in items]
    return Response(200, items, page.headers)


@route("GET", "/contacts")
def list_contacts(ctx: Ctx) -> Response:
    """GET /contacts: list elements only (no tags/customFieldValues, §2.5)."""
    return _contact_page(ctx, CONTACTS, None)


@route("GET", "/campaigns/{campaignId}/contacts")
def list_campaign_contacts(ctx: Ctx) -> Response:
    """GET /campaigns/{campaignId}/contacts (§3.0)."""
    idx = ctx.data.campaign_idx(ctx.args["campaignId"])
    if idx is None:
        raise errors.not_found(campaignId=ctx.args["campaignId"])
    return _contact_page(ctx, CAMPAIGN_CONTACTS, idx)


def contact_row(ctx: Ctx) -> int:
    """Return the live row of the path's contactId, or raise 404 / 1013 (§3.1)."""
    row = ctx.data.contacts_store.row_of(ctx.args["contactId"])
    if row is None:
        raise errors.not_found(contactId=ctx.args["contactId"])
    return row


@route("GET", "/contacts/{contactId}")
def get_contact(ctx: Ctx) -> Response:
    """GET /contacts/{contactId}: ContactDetails."""
    with ctx.data.lock:
        item = ctx.data.contacts_store.details(contact_row(ctx))
    return Response(200, project(item, ctx.query, "contactId"))


# ---- custom fields (§3.4) and tags (§3.5) --------------------------------------------------
CUSTOM_FIELDS = ListSpec("customFieldId", filters={"name": Filter("like")}, sorts={"name": "name"})
TAGS = ListSpec(
    "tagId",
    filters={"name": Filter("like"), "createdAt": Filter("range")},
    sorts={"createdAt": "createdAt", "name": "name"},
)


@route("GET", "/custom-fields")
def list_custom_fields(ctx: Ctx) -> Response:
    """GET /custom-fields."""
    return list_response(ctx, ctx.data.custom_fields, CUSTOM_FIELDS)


@route("GET", "/custom-fields/{customFieldId}")
def get_custom_field(ctx: Ctx) -> Response:
    """GET /custom-fields/{customFieldId}."""
    return detail_response(ctx, get_or_404(ctx, "custom-fields", "customFieldId"), "customFieldId")


@route("GET", "/tags")
def list_tags(ctx: Ctx) -> Response:
    """GET /tags (filter and sort on createdAt, §3.5)."""
    return list_response(ctx, ctx.data.tags, TAGS)


@route("GET", "/tags/{tagId}")
def get_tag(ctx: Ctx) -> Response:
    """GET /tags/{tagId}: TagDetails has no href (§3.5)."""
    return detail_response(ctx, get_or_404(ctx, "tags", "tagId"), "tagId", drop("href"))


__all__ = ["public"]
