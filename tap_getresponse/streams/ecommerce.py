"""E-commerce: shops and, per shop, products and orders (`getShopList`, `getProductList`...)."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class ShopsStream(GetResponseStream):
    """Shops, read in full; each one is a partition of `products` and `orders`."""

    name = "shops"
    path = "/shops"
    primary_keys = ("shopId",)
    sort_field = "createdOn"

    @override
    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> Iterable[Context | None]:
        # A shop without an id (a value the normaliser nulled) has no path to its children.
        if record.get("shopId") is not None:
            yield {"shopId": record["shopId"]}


class ShopChildStream(GetResponseStream):
    """A per-shop collection: read in full, emitted when `updatedOn` is past the bookmark."""

    parent_stream_type = ShopsStream
    context_keys = ("shopId",)
    replication_key = "updatedOn"
    client_filtered = True
    sort_field = "createdOn"


class ProductsStream(ShopChildStream):
    """Products of each shop."""

    name = "products"
    path = "/shops/{shopId}/products"
    primary_keys = ("shopId", "productId")


class OrdersStream(ShopChildStream):
    """Orders of each shop (status changes move `updatedOn`)."""

    name = "orders"
    path = "/shops/{shopId}/orders"
    primary_keys = ("shopId", "orderId")
