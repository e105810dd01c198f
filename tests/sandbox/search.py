"""`POST /search-contacts/contacts` (OpenAPI `getContactsFromSearchContactsConditions`).

The body is `SearchContactsBySearchForm`; the answer is a page of `SearchedContactDetails`. Removed
contacts keep their contactId, with `reason` and `deletedOn`; a fixed set per list was removed
before the sandbox started. Unconfirmed (double opt-in) contacts are a fixed set per list too.
Conditions are not evaluated: a section with conditions is refused with the documented 400 shape,
so a caller never gets a silently wrong set.
"""
# ruff: noqa: EM101, EM102, TRY003 - messages here are API error bodies, not exception text

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.contacts import ContactStore
from tests.sandbox.listing import ListSpec, paginate
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, route
from tests.sandbox.util import SEED_END, SEED_START, b62, fmt_ts

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

SUBSCRIBERS_TYPES = ("subscribed", "undelivered", "removed", "unconfirmed")
CYCLES = ("receiving_autoresponder", "not_receiving_autoresponder")
OPERATORS = ("or", "and")
SUBSCRIPTION_DATES = (
    "all_time", "today", "yesterday", "last_7_days", "last_30_days", "this_week", "last_week",
    "this_month", "last_month", "last_2_months", "custom",
)  # fmt: skip
#: `SearchedContactDetails.reason` enum (official OpenAPI).
REASONS = (
    "api", "automation", "blacklisted", "bounce", "cleaner", "complaint", "support",
    "unsubscribe", "user",
)  # fmt: skip
#: `SearchedContactDetails.origin` enum: it lacks some list origins, answered as "www" here.
SEARCH_ORIGINS = frozenset(
    ("import", "email", "www", "panel", "leads", "sale", "api", "forward", "survey", "iphone",
     "copy", "landing_page", "webinar", "course", "premium_newsletter")
)  # fmt: skip
MAX_SECTIONS = 8  # the segments manual: at most 8 sections per search
UNCONFIRMED_PER_LIST = 2
REMOVED_PER_LIST = 2
SPEC = ListSpec("contactId", sorts={"createdOn": "createdOn", "name": "name", "email": "email"})


def _invalid(field: str, description: str) -> errors.ApiError:
    return errors.validation(validationType="body", fieldName=field, errorDescription=description)


def _enum_list(value: Any, field: str, allowed: Sequence[str]) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _invalid(field, "This value should not be blank")
    if any(v not in allowed for v in value):
        raise _invalid(field, f"One or more of the given values is invalid ({', '.join(allowed)})")
    return list(value)


def _enum(value: Any, field: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _invalid(
            field, f"The value you selected is not a valid choice ({', '.join(allowed)})"
        )
    return str(value)


def _section(data: DataStore, section: Any, at: str) -> tuple[set[int], set[str]]:
    """Check one `SearchContactSection`; return its list indexes and subscriber cycles."""
    if not isinstance(section, dict):
        raise _invalid(at, "This value should be of type object")
    ids = section.get("campaignIdsList")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _invalid(f"{at}.campaignIdsList", "This value should not be blank")
    unknown = [i for i in ids if data.campaign_idx(i) is None]
    if unknown:
        raise errors.related_missing(
            validationType="body", fieldName=f"{at}.campaignIdsList", value=unknown[0]
        )
    _enum(section.get("logicOperator"), f"{at}.logicOperator", OPERATORS)
    cycles = _enum_list(section.get("subscriberCycle"), f"{at}.subscriberCycle", CYCLES)
    date = _enum(section.get("subscriptionDate"), f"{at}.subscriptionDate", SUBSCRIPTION_DATES)
    if date != "all_time":
        raise _invalid(f"{at}.subscriptionDate", "The sandbox answers all_time only")
    if section.get("conditions"):
        raise errors.bad_filter("conditions", f"{at}.conditions", "The sandbox evaluates none")
    indexes = {i for i in (data.campaign_idx(c) for c in ids) if i is not None}
    return indexes, set(cycles)


def _form(data: DataStore, body: Any) -> tuple[str, list[tuple[set[int], set[str]]]]:
    """Check a `SearchContactsBySearchForm`; return the subscriber type and the sections."""
    if not isinstance(body, dict):
        raise errors.validation("Request body must be a JSON object", validationType="body")
    types = _enum_list(body.get("subscribersType"), "subscribersType", SUBSCRIBERS_TYPES)
    if len(types) != 1:
        raise _invalid("subscribersType", "Only one subscription status")
    _enum(body.get("sectionLogicOperator"), "sectionLogicOperator", OPERATORS)
    sections = body.get("section")
    if not isinstance(sections, list) or not sections:
        raise _invalid("section", "This value should not be blank")
    if len(sections) > MAX_SECTIONS:
        raise _invalid("section", f"This collection should contain {MAX_SECTIONS} or less")
    return types[0], [_section(data, s, f"section[{n}]") for n, s in enumerate(sections)]


def _in_sections(
    sections: list[tuple[set[int], set[str]]], campaign: int, *, cycling: bool
) -> bool:
    cycle = CYCLES[0] if cycling else CYCLES[1]
    return any(campaign in lists and cycle in cycles for lists, cycles in sections)


def searched(cs: ContactStore, row: int) -> dict[str, Any]:
    """Return the `SearchedContactDetails` of a row, live or removed."""
    element = cs.list_element(row)
    removed = cs.removed.get(row)
    score = element["scoring"]
    item = {
        "contactId": element["contactId"],
        "name": element.get("name"),
        "email": element["email"],
        "origin": element["origin"] if element["origin"] in SEARCH_ORIGINS else "www",
        "dayOfCycle": element["dayOfCycle"],
        "createdOn": element["createdOn"],
        "campaign": element["campaign"],
        "score": None if score is None else str(score),
        "reason": None if removed is None else removed[1],
        "deletedOn": None if removed is None else fmt_ts(removed[0]),
    }
    return _without_null_reason(item)


def _without_null_reason(item: dict[str, Any]) -> dict[str, Any]:
    """Omit a null `reason`: the spec's nullable enum does not list null (as `continentCode`)."""
    return {k: v for k, v in item.items() if k != "reason" or v is not None}


def _fixed(data: DataStore, prefix: str, per_list: int) -> list[dict[str, Any]]:
    """A fixed set of searched contacts per list, none of which `/contacts` lists.

    Ids are six characters: seeded contact ids have five, so they never collide.
    """
    cs = data.contacts_store
    out = []
    for idx, campaign_id in enumerate(cs.campaign_ids):
        for n in range(per_list):
            number = idx * per_list + n
            out.append(
                {
                    "contactId": prefix + b62(number, 4),
                    "name": None,
                    "email": f"{prefix}.{number}@mail.test",
                    "origin": "www",
                    "dayOfCycle": None,
                    "createdOn": fmt_ts(SEED_START + 86_400 * (number + 1)),
                    "campaign": {
                        "campaignId": campaign_id,
                        "href": f"{cs.base}/campaigns/{campaign_id}",
                        "name": cs.campaign_names[idx],
                    },
                    "score": None,
                    "deletedOn": None,
                }
            )
    return out


def unconfirmed(data: DataStore) -> list[dict[str, Any]]:
    """Unconfirmed contacts: a fixed set per list (double opt-in not yet confirmed)."""
    return _fixed(data, "uc", UNCONFIRMED_PER_LIST)


def seeded_removals(data: DataStore) -> list[dict[str, Any]]:
    """Contacts removed before the sandbox started: a fixed set per list, every `reason` used."""
    out = _fixed(data, "rm", REMOVED_PER_LIST)
    for number, item in enumerate(out):
        item["reason"] = REASONS[number % len(REASONS)]
        item["deletedOn"] = fmt_ts(SEED_END - 86_400 * (number + 1))
    return out


def removed(data: DataStore) -> list[dict[str, Any]]:
    """Every removed contact: the seeded ones, then those removed since (DELETE /contacts/{id})."""
    cs = data.contacts_store
    return [*seeded_removals(data), *(searched(cs, row) for row in sorted(cs.removed))]


def _matches(data: DataStore, kind: str, sections: list[tuple[set[int], set[str]]]) -> list[Any]:
    cs = data.contacts_store
    if kind == "undelivered":
        return []
    if kind == "subscribed":
        items = [searched(cs, row) for row in cs.live_rows()]
    else:
        items = removed(data) if kind == "removed" else unconfirmed(data)
    return [
        i
        for i in items
        if _in_sections(
            sections,
            cs.campaign_index[i["campaign"]["campaignId"]],
            cycling=i["dayOfCycle"] is not None,
        )
    ]


def _sort(items: list[dict[str, Any]], ctx: Ctx) -> None:
    ctx.query.check(SPEC)
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "createdOn": lambda i: i["createdOn"],
        "name": lambda i: (i["name"] or "").lower(),
        "email": lambda i: i["email"].lower(),
    }
    for name, descending in reversed(ctx.query.sort):
        items.sort(key=keys[name], reverse=descending)


@route("POST", "/search-contacts/contacts")
def search_contacts(ctx: Ctx) -> Response:
    """200, a page of `SearchedContactDetails`; 400 for a body the form refuses."""
    with ctx.data.lock:
        kind, sections = _form(ctx.data, ctx.body)
        items = _matches(ctx.data, kind, sections)
    _sort(items, ctx)
    page = paginate(items, ctx.query)
    return Response(200, list(page.items), page.headers)


__all__ = ["REASONS", "removed", "search_contacts", "searched", "seeded_removals", "unconfirmed"]
