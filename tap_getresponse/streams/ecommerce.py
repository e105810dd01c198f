"""E-commerce: shops and, per shop, products, orders and their lines, carts, categories."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping

    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.collections import Page

#: A key part a line does not have (no `variantId`): never "" or null, which loaders with
#: NOT NULL keys refuse; "-" is no GetResponse id.
NO_ID = "-"


class ShopsStream(GetResponseStream):
    """Shops, read in full; each one is a partition of its products, orders, carts, categories."""

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

    @override
    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        # The SDK finalizes selected children only, so `order_lines` selected without `orders`
        # kept its bookmark as progress markers, which the next run drops: every run a first.
        if not state:
            for child in self.child_streams:
                if not child.selected and child.has_selected_descendents:
                    child.finalize_state_progress_markers()
        super().finalize_state_progress_markers(state)


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
    """Orders of each shop (status changes move `updatedOn`); parent of `order_lines`."""

    name = "orders"
    path = "/shops/{shopId}/orders"
    primary_keys = ("shopId", "orderId")

    _child_batch: list[str] | None = None

    @override
    def window_start(self, state: Mapping[str, t.Any]) -> dt.datetime | None:
        # Lines are read only for the orders emitted here: from where `order_lines` stopped,
        # so selecting it later fills in the lines of every order once (as contact_details).
        # Unselected, orders are read for their lines only: their own bookmark does not count.
        floors = [super().window_start(state)] if self.selected else []
        floors += [
            child.window_start(child.stream_state)
            for child in self.child_streams
            if isinstance(child, OrderLinesStream) and child.selected
        ]
        if not floors or None in floors:
            return None
        return min(t.cast("list[dt.datetime]", floors))

    @override
    def on_page(self, page: Page) -> None:
        # The lines of a page of orders are fetched (concurrently) before any of its orders is
        # emitted, so the bookmark never passes an order whose lines were not emitted.
        self._child_batch = None
        if page.items and any(s.selected or s.has_selected_descendents for s in self.child_streams):
            self._child_batch = [
                str(item["orderId"])
                for item in page.items
                if type(item) is dict and item.get("orderId") is not None and self._emitted(item)
            ]

    def _emitted(self, item: Mapping[str, t.Any]) -> bool:
        """Whether `post_process` will emit this order (not below the client-side floor)."""
        moment = self.replication_moment(item)
        return self._client_floor is None or moment is None or moment >= self._client_floor

    @override
    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> Iterable[Context | None]:
        if self._child_batch and context:
            batch, self._child_batch = self._child_batch, None
            yield {"shopId": context["shopId"], "orderIds": batch}


class OrderLinesStream(BatchedFanOutStream):
    """The selected variants of every order `orders` emits (`getOrderById`), one row each."""

    name = "order_lines"
    path = "/shops/{shopId}/orders/{orderId}"
    parent_stream_type = OrdersStream
    parent_key = "orderId"
    batch_key = "orderIds"
    primary_keys = ("shopId", "orderId", "variantId")
    replication_key = "updatedOn"
    paginated = False

    #: The shop of the batch being read: set on the main thread before the batch's workers start
    #: (the SDK syncs one child context at a time), read by them for the path and the rows.
    _shop_id = ""

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        self._shop_id = str((context or {}).get("shopId") or "")
        if self._shop_id:
            yield from super().request_records(context)

    @override
    def get_path(self, context: Mapping[str, t.Any] | None) -> str:
        return super().get_path({"shopId": self._shop_id, **(context or {})})

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        lines: list[dict[str, t.Any]] = []
        for order in items:
            if type(order) is not dict:
                lines.append(order)  # skipped and reported by post_process
                continue
            variants = order.get("selectedVariants")
            for line in variants if type(variants) is list else ():
                if type(line) is dict:
                    line["variantId"] = _key_part(line.get("variantId"))
                    line["shopId"] = self._shop_id
                    line["updatedOn"] = order.get("updatedOn")
                lines.append(line)
        return super().rows(lines, parent_id)


def _key_part(value: object) -> str:
    """An id as text; NO_ID when missing, empty or of the wrong shape."""
    text = str(value) if type(value) in {str, int} else ""
    return text or NO_ID


class CartsStream(GetResponseStream):
    """Carts of each shop (`getCarts`), incremental on `createdOn` (the only time filter)."""

    name = "carts"
    path = "/shops/{shopId}/carts"
    parent_stream_type = ShopsStream
    context_keys = ("shopId",)
    primary_keys = ("shopId", "cartId")
    replication_key = "createdOn"
    window_field = "createdOn"
    is_sorted = True


class CategoriesStream(ShopChildStream):
    """Product categories of each shop (`getCategories`; sorts by `createdAt`, sic)."""

    name = "categories"
    path = "/shops/{shopId}/categories"
    primary_keys = ("shopId", "categoryId")
    sort_field = "createdAt"
