"""Carts, product categories and order lines of the seeded shops: `GET /shops/{shopId}/carts`,
`/shops/{shopId}/categories[/{categoryId}]` (OpenAPI `getCarts`, `getCategories`,
`getCategoryById`), and the `selectedVariants` of every seeded order, which
`GET /shops/{shopId}/orders/{orderId}` (others.py, `getOrderById`) answers.

Seeded from a generator of this module's own (derived from the store's seed), so adding these
changes no other seeded value; orders keep every field but `selectedVariants` (empty before).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, route
from tests.sandbox.util import SEED_END, b62, fmt_ts, parse_filter_time

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

CARTS_PER_SHOP = 6
#: Category names per shop; the first is the shop's default, the last two are its children.
CATEGORY_NAMES = ("All products", "Headwear", "Shoes", "Caps", "Sneakers")
#: Lines per order cycle through these counts (an order has at least one).
LINES_PER_ORDER = (1, 2, 3)
CARTS = ListSpec(
    "cartId",
    filters={"createdOn": Filter("range"), "externalId": Filter("eq")},
    sorts={"createdOn": "createdOn"},
)
# `search[createdAt][from|to]` (sic, not `query`) is accepted and not applied.
CATEGORIES = ListSpec(
    "categoryId",
    filters={"name": Filter("like"), "parentId": Filter("eq"), "externalId": Filter("eq")},
    sorts={"name": "name", "createdAt": "createdOn"},
)


def _rng(store: DataStore) -> random.Random:
    """This module's generator: never the store's, so other seeded values stay as they were."""
    return random.Random(f"commerce-{store.seed}")


def _variants(store: DataStore, shop_id: str) -> list[dict[str, Any]]:
    """Every variant of the shop's products."""
    products = [p for p in store.collections["products"] if p["_shop"] == shop_id]
    return [variant for product in products for variant in product["variants"]]


def _line(rng: random.Random, variant: dict[str, Any]) -> dict[str, Any]:
    """One `OrderSelectedProductVariant` (or cart `NewCartSelectedProductVariant`)."""
    return {
        "variantId": variant["variantId"],
        "href": variant["href"],
        "price": variant["price"],
        "priceTax": variant["priceTax"],
        "quantity": rng.randint(1, 4),
    }


def seed(store: DataStore) -> None:
    """Seed categories and carts per shop, and the lines of every seeded order."""
    rng = _rng(store)
    cols = store.collections
    cols["categories"] = []
    cols["carts"] = []
    for number, shop in enumerate(store.collections["shops"]):
        created = int(parse_filter_time(shop["createdOn"], end_of_day=False) or 0)
        _seed_categories(store, rng, shop, created, number)
        variants = _variants(store, shop["shopId"])
        stamps = sorted(rng.randint(created, SEED_END) for _ in range(CARTS_PER_SHOP))
        for stamp in stamps:
            picked = rng.sample(variants, min(len(variants), rng.choice(LINES_PER_ORDER)))
            add_cart(store, shop["shopId"], stamp, [_line(rng, v) for v in picked])
    for index, order in enumerate(cols["orders"]):
        variants = _variants(store, order["_shop"])
        count = min(len(variants), LINES_PER_ORDER[index % len(LINES_PER_ORDER)])
        order["selectedVariants"] = [
            {**_line(rng, v), "taxes": [], "categories": []} for v in rng.sample(variants, count)
        ]


def _seed_categories(
    store: DataStore, rng: random.Random, shop: dict[str, Any], created: int, number: int
) -> None:
    root = ""
    for position, name in enumerate(CATEGORY_NAMES):
        ident = f"K1{b62(number, 2)}{b62(position, 1)}"
        made = rng.randint(created, SEED_END)
        item: dict[str, Any] = {
            "categoryId": ident,
            "href": f"{shop['href']}/categories/{ident}",
            "name": name,
            "isDefault": position == 0,
            "url": f"https://shop{number + 1}.test/category/{position}",
            "externalId": f"cat-{number}-{position}",
            "createdOn": fmt_ts(made),
            "updatedOn": fmt_ts(min(made + rng.randint(0, 30 * 86_400), SEED_END)),
            "_shop": shop["shopId"],
        }
        if position >= len(CATEGORY_NAMES) - 2:
            item["parentId"] = root
        root = root or ident
        store.collections["categories"].append(item)


def add_cart(
    store: DataStore, shop_id: str, created: int, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """Add a cart to a shop (seeding, or a test creating one at run time); return it."""
    with store.lock:
        shop = next(s for s in store.collections["shops"] if s["shopId"] == shop_id)
        ident = "C1" + b62(len(store.collections["carts"]), 3)
        total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
        cart = {
            "cartId": ident,
            "href": f"{shop['href']}/carts/{ident}",
            "contactId": (
                store.contacts_store.contact_id(created % store.scale.contacts)
                if store.scale.contacts
                else ""
            ),
            "totalPrice": total,
            "totalTaxPrice": round(total * 1.23, 2),
            "currency": shop["currency"],
            "selectedVariants": lines,
            "externalId": f"cart-{ident}",
            "cartUrl": f"https://shop.test/cart/{ident}",
            "createdOn": fmt_ts(created),
            "updatedOn": fmt_ts(created),
            "_shop": shop_id,
        }
        store.collections["carts"].append(cart)
        return cart


def order_lines(store: DataStore) -> list[tuple[str, str, str]]:
    """(shopId, orderId, variantId) of every order line the sandbox holds."""
    return [
        (order["_shop"], order["orderId"], line["variantId"])
        for order in store.collections["orders"]
        for line in order["selectedVariants"]
    ]


def _of_shop(ctx: Ctx, collection: str) -> list[dict[str, Any]]:
    shop = get_or_404(ctx, "shops", "shopId")
    return [i for i in ctx.data.collections[collection] if i["_shop"] == shop["shopId"]]


@route("GET", "/shops/{shopId}/carts")
def list_carts(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/carts (`query[createdOn]`, `query[externalId]`, `sort[createdOn]`)."""
    return list_response(ctx, _of_shop(ctx, "carts"), CARTS)


@route("GET", "/shops/{shopId}/categories")
def list_categories(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/categories (`sort[createdAt]` orders by `createdOn`)."""
    return list_response(ctx, _of_shop(ctx, "categories"), CATEGORIES)


@route("GET", "/shops/{shopId}/categories/{categoryId}")
def get_category(ctx: Ctx) -> Response:
    """GET /shops/{shopId}/categories/{categoryId}."""
    items = _of_shop(ctx, "categories")
    item = next((c for c in items if c["categoryId"] == ctx.args["categoryId"]), None)
    return detail_response(ctx, item, "categoryId")
