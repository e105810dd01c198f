"""Suppression lists and blocklists: `GET /suppressions[/{id}]`, `/accounts/blocklists`,
`/campaigns/{campaignId}/blocklists` (OpenAPI `getSuppressionsList`, `getSuppressionById`,
`getAccountBlocklist`, `getCampaignBlocklist`).

Seeded from a generator of this module's own (derived from the store's seed), so adding these
collections changes no other seeded value. Saved segments' members
(`/search-contacts/{id}/contacts`) are answered in others.py from the segment's conditions.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, route
from tests.sandbox.util import SEED_END, SEED_START, b62, fmt_ts

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

SUPPRESSIONS = 6
ACCOUNT_MASKS = ("spam.trap@blocked.test", "@blocked.test", "@competitor.test", "abuse@mail.test")
#: Masks per list: (list index % 4) -> how many; the fourth list of every four has none.
MASKS_PER_LIST = (2, 1, 3, 0)
SUPPRESSION_SPEC = ListSpec(
    "suppressionId",
    filters={"name": Filter("like"), "createdOn": Filter("range")},
    sorts={"name": "name", "createdOn": "createdOn"},
)
MASK_SPEC = ListSpec("mask", filters={"mask": Filter("param")}, paginated=False)


def _rng(store: DataStore) -> random.Random:
    """This module's generator: never the store's, so other seeded values stay as they were."""
    return random.Random(f"audience-{store.seed}")


def _masks(rng: random.Random, count: int, tag: str) -> list[str]:
    """`count` distinct masks, e-mail addresses and `@domain`s."""
    out: list[str] = []
    while len(out) < count:
        number = rng.randint(0, 9_999)
        mask = f"{tag}{number}@blocked.test" if number % 3 else f"@{tag}{number}.test"
        if mask not in out:
            out.append(mask)
    return out


def seed(store: DataStore) -> None:
    """Seed suppression lists, the account's blocklist and each list's blocklist."""
    rng = _rng(store)
    stamps = sorted(rng.randint(SEED_START, SEED_END) for _ in range(SUPPRESSIONS))
    suppressions = []
    for number, created in enumerate(stamps):
        ident = "sp" + b62(number, 2)
        suppressions.append(
            {
                "suppressionId": ident,
                "name": f"suppression_{number + 1}",
                "createdOn": fmt_ts(created),
                "href": f"{store.base}/suppressions/{ident}",
                "_masks": _masks(rng, 1 + number % 3, f"sup{number}."),
            }
        )
    store.collections["suppressions"] = suppressions
    store.collections["account-blocklist"] = [{"mask": mask} for mask in ACCOUNT_MASKS]
    store.collections["campaign-blocklists"] = [
        {"campaignId": campaign["campaignId"], "mask": mask}
        for index, campaign in enumerate(store.campaigns)
        for mask in _masks(rng, MASKS_PER_LIST[index % len(MASKS_PER_LIST)], f"list{index}.")
    ]


def campaign_masks(store: DataStore, campaign_id: str) -> list[str]:
    """The blocklist of one list, in the order seeded."""
    rows = store.collections["campaign-blocklists"]
    return [row["mask"] for row in rows if row["campaignId"] == campaign_id]


def _blocklist(ctx: Ctx, masks: list[str]) -> Response:
    """A `Blocklist` answer; `query[mask]` keeps the masks containing it."""
    ctx.query.check(MASK_SPEC)
    needle = ctx.query.filters.get("mask")
    return Response(200, {"masks": [m for m in masks if needle is None or needle in m]})


@route("GET", "/suppressions")
def list_suppressions(ctx: Ctx) -> Response:
    """200, a page of `Suppression` (no masks: those are in the details)."""
    return list_response(ctx, ctx.data.collections["suppressions"], SUPPRESSION_SPEC)


@route("GET", "/suppressions/{suppressionId}")
def get_suppression(ctx: Ctx) -> Response:
    """200, `SuppressionDetails` (with `masks`); 404 / 1013 for an unknown id."""
    item = get_or_404(ctx, "suppressions", "suppressionId")
    return detail_response(ctx, {**item, "masks": list(item["_masks"])}, "suppressionId")


@route("GET", "/accounts/blocklists")
def account_blocklist(ctx: Ctx) -> Response:
    """200, the account's `Blocklist`."""
    rows = ctx.data.collections["account-blocklist"]
    return _blocklist(ctx, [row["mask"] for row in rows])


@route("GET", "/campaigns/{campaignId}/blocklists")
def campaign_blocklist(ctx: Ctx) -> Response:
    """200, the list's `Blocklist`; 404 / 1013 for an unknown list."""
    campaign = get_or_404(ctx, "campaigns", "campaignId")
    return _blocklist(ctx, campaign_masks(ctx.data, campaign["campaignId"]))


def expected(store: DataStore) -> dict[str, int]:
    """How many records a full sync of each stream this module serves must deliver."""
    cols = store.collections
    return {
        "suppressions": len(cols["suppressions"]),
        "account_blocklists": len(cols["account-blocklist"]),
        "campaign_blocklists": len(cols["campaign-blocklists"]),
    }


__all__ = ["campaign_masks", "expected", "seed"]
