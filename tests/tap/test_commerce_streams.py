"""order_lines, carts, categories and rss_newsletter_statistics through the sandbox."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tap_getresponse.normalize import interval_start
from tap_getresponse.streams import STREAMS as STREAM_CLASSES
from tap_getresponse.windows import format_filter_time, parse_moment
from tests.sandbox import Scale
from tests.sandbox.commerce import add_cart, order_lines
from tests.sandbox.listing import ListQuery
from tests.sandbox.messages import message_statistics
from tests.sandbox.util import fmt_ts, now
from tests.tap.conftest import run_sync, sandbox_config

STREAMS = ("order_lines", "carts", "categories", "rss_newsletter_statistics")
SCALE = Scale(contacts=20, shops=3, products_per_shop=4, orders_per_shop=7, rss_newsletters=3)
LOOKBACK = dt.timedelta(minutes=60)  # lookback_minutes' default
ORDER_DETAILS = re.compile(r"/shops/[^/]+/orders/[^/]+")


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=SCALE, seed=11)


def daily_rows(sb) -> set[tuple[str, str]]:
    """(rssNewsletterId, intervalStart) of every daily statistics row the sandbox answers."""
    day = ListQuery.parse("query[groupBy]=day")
    return {
        (item["rssNewsletterId"], interval_start(row["timeInterval"]))
        for item in sb.data.rss_newsletters
        for row in message_statistics([item], day)
    }


def sandbox_rows(sb) -> dict[str, set[tuple[str, ...]]]:
    """Primary keys of every record the sandbox holds, per stream."""
    return {
        "order_lines": set(order_lines(sb.data)),
        "carts": {(c["_shop"], c["cartId"]) for c in sb.data.carts},
        "categories": {(c["_shop"], c["categoryId"]) for c in sb.data.categories},
        "rss_newsletter_statistics": daily_rows(sb),
    }


def emitted(result, stream: str) -> list[tuple[str, ...]]:
    (cls,) = [cls for cls in STREAM_CLASSES if cls.name == stream]
    return [tuple(record[key] for key in cls.primary_keys) for record in result.records[stream]]


def bookmark(state, stream: str, shop: str | None = None) -> dt.datetime:
    saved = state["bookmarks"][stream]
    if shop is not None:
        (saved,) = [p for p in saved["partitions"] if p["context"] == {"shopId": shop}]
    return parse_moment(saved["replication_key_value"])


def test_a_full_sync_delivers_exactly_the_sandboxs_records(sb):
    result = run_sync(sandbox_config(sb, page_size=2), streams=STREAMS)
    expected = sandbox_rows(sb)
    for stream in STREAMS:
        rows = emitted(result, stream)
        assert len(rows) == len(set(rows)), f"{stream}: a key emitted twice"
        assert set(rows) == expected[stream], stream
        assert expected[stream], f"{stream}: the sandbox seeded nothing"
        assert all(part not in {None, ""} for row in rows for part in row), stream
    assert not result.records["orders"], "orders is read for its lines, not emitted"
    details = [r.path for r in sb.log if ORDER_DETAILS.fullmatch(r.path)]
    assert sorted(details) == sorted(
        f"/shops/{o['_shop']}/orders/{o['orderId']}" for o in sb.data.orders
    )
    carts = [r for r in sb.log if r.path.endswith("/carts")]
    assert all(r.query.get("sort[createdOn]") == "asc" for r in carts)
    assert all(r.query.get("query[groupBy]") == "day" for r in sb.log if "/statistics" in r.path)


def test_order_lines_carry_what_the_order_details_say(sb):
    result = run_sync(sandbox_config(sb), streams=["order_lines"])
    orders = {o["orderId"]: o for o in sb.data.orders}
    for record in result.records["order_lines"]:
        order = orders[record["orderId"]]
        (line,) = [v for v in order["selectedVariants"] if v["variantId"] == record["variantId"]]
        assert (record["price"], record["quantity"]) == (line["price"], line["quantity"])
        assert parse_moment(record["updatedOn"]) == parse_moment(order["updatedOn"])


def test_lines_are_read_only_for_the_orders_emitted_in_the_same_run(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["orders", "order_lines"])
    assert {o for _, o, _ in emitted(first, "order_lines")} == set(first.ids("orders", "orderId"))
    changed = sb.data.orders[4]
    with sb.data.lock:
        changed["updatedOn"] = fmt_ts(now())
        product = next(p for p in sb.data.products if p["_shop"] == changed["_shop"])
        variant = product["variants"][0]
        changed["selectedVariants"] = [
            {"variantId": variant["variantId"], "price": 1.0, "quantity": 9, "taxes": []}
        ]
    sb.clear_log()
    second = run_sync(config, streams=["orders", "order_lines"], state=first.state)
    again = set(second.ids("orders", "orderId"))
    assert changed["orderId"] in again
    assert len(again) < len(sb.data.orders), "orders changed before the bookmark are not read"
    assert {o for _, o, _ in emitted(second, "order_lines")} == again
    assert (changed["_shop"], changed["orderId"], variant["variantId"]) in emitted(
        second, "order_lines"
    )
    details = {r.path.rsplit("/", 1)[-1] for r in sb.log if ORDER_DETAILS.fullmatch(r.path)}
    assert details == again, "one detail request per order emitted, none for the others"


def test_order_lines_selected_later_are_read_for_every_order_once(sb):
    first = run_sync(sandbox_config(sb), streams=["orders"])
    second = run_sync(sandbox_config(sb), streams=["orders", "order_lines"], state=first.state)
    assert set(emitted(second, "order_lines")) == set(order_lines(sb.data))


def test_carts_are_read_from_their_bookmark_less_the_lookback(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["carts"])
    shop = sb.data.shops[0]["shopId"]
    saved = bookmark(first.state, "carts", shop)
    newest = max(parse_moment(c["createdOn"]) for c in sb.data.carts if c["_shop"] == shop)
    assert saved == newest
    new = add_cart(sb.data, shop, now() - 5, [])
    sb.clear_log()
    second = run_sync(config, streams=["carts"], state=first.state)
    rows = set(emitted(second, "carts"))
    assert (shop, new["cartId"]) in rows
    for cart in sb.data.carts:
        floor = bookmark(first.state, "carts", cart["_shop"]) - LOOKBACK
        expected = parse_moment(cart["createdOn"]) >= floor
        assert ((cart["_shop"], cart["cartId"]) in rows) == expected, cart["cartId"]
    requests = [r for r in sb.log if r.path == f"/shops/{shop}/carts"]
    assert requests
    assert all(
        r.query["query[createdOn][from]"] == format_filter_time(saved - LOOKBACK) for r in requests
    )
    assert bookmark(second.state, "carts", shop) == parse_moment(new["createdOn"])


def test_categories_rerun_emits_only_what_changed_since_the_bookmark(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["categories"])
    second = run_sync(config, streams=["categories"], state=first.state)
    expected = {
        (c["_shop"], c["categoryId"])
        for c in sb.data.categories
        if parse_moment(c["updatedOn"])
        >= bookmark(first.state, "categories", c["_shop"]) - LOOKBACK
    }
    assert set(emitted(second, "categories")) == expected
    assert len(expected) < len(sb.data.categories)
    requests = [r for r in sb.log if r.path.endswith("/categories")]
    assert all(r.query.get("sort[createdAt]") == "asc" for r in requests)


def test_rss_statistics_rerun_steps_back_the_statistics_lookback(sb):
    config = sandbox_config(sb, statistics_lookback_days=2)
    first = run_sync(config, streams=["rss_newsletter_statistics"])
    sb.clear_log()
    second = run_sync(config, streams=["rss_newsletter_statistics"], state=first.state)
    saved = {
        p["context"]["rssNewsletterId"]: parse_moment(p["replication_key_value"])
        for p in first.state["bookmarks"]["rss_newsletter_statistics"]["partitions"]
    }
    assert set(saved) == {r["rssNewsletterId"] for r in sb.data.rss_newsletters}
    floor = {rss: moment - dt.timedelta(days=2) for rss, moment in saved.items()}
    expected = {(rss, start) for rss, start in daily_rows(sb) if parse_moment(start) >= floor[rss]}
    assert set(emitted(second, "rss_newsletter_statistics")) == expected
    assert len(expected) < len(daily_rows(sb))
    for rss, moment in floor.items():
        (request,) = [r for r in sb.log if r.path == f"/rss-newsletters/{rss}/statistics"]
        assert request.query["query[createdOn][from]"] == format_filter_time(moment)


def test_order_lines_alone_keep_their_bookmark_and_a_rerun_reads_only_changed_orders(sb):
    config = sandbox_config(sb)
    first = run_sync(config, streams=["order_lines"])
    saved = bookmark(first.state, "order_lines")
    assert saved == max(parse_moment(o["updatedOn"]) for o in sb.data.orders)
    sb.clear_log()
    second = run_sync(config, streams=["order_lines"], state=first.state)
    again = {
        o["orderId"] for o in sb.data.orders if parse_moment(o["updatedOn"]) >= saved - LOOKBACK
    }
    assert {o for _, o, _ in emitted(second, "order_lines")} == again
    assert len(again) < len(sb.data.orders)
    details = {r.path.rsplit("/", 1)[-1] for r in sb.log if ORDER_DETAILS.fullmatch(r.path)}
    assert details == again
