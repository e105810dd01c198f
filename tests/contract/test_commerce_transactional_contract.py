"""The sandbox's carts, categories, order details, RSS statistics and transactional emails against
GetResponse's official OpenAPI (the machinery of test_sandbox_responses.py)."""

from __future__ import annotations

import re

import pytest
from openapi_core import Config, OpenAPI

from scripts.generate_schemas import load_spec
from tests.conftest import GENEROUS_LIMITS
from tests.contract.test_sandbox_responses import (
    SPEC_BASE,
    _date_time,
    call,
    header_problems,
    violations,
)
from tests.sandbox import Sandbox, Scale

#: (path regex, field path regex, failed check) -> why the spec, not the sandbox, is wrong.
ALLOWED: dict[tuple[str, str, str], str] = {
    (r"/rss-newsletters/[^/]+/statistics", r"\d+/timeInterval", "pattern"): (
        "the spec writes the pattern PHP-style (/^...$/): its own example fails it"
    ),
    (r"/transactional-emails/statistics", r"\d+/timeFrame", "pattern"): (
        "the same PHP-style pattern in schema TransactionalEmailStatistics"
    ),
}


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    spec = load_spec()
    spec["servers"] = [{"url": SPEC_BASE}]
    return OpenAPI.from_dict(spec, config=Config(extra_format_validators={"date-time": _date_time}))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(
        scale=Scale(contacts=40), limits=GENEROUS_LIMITS, transactional_enabled=True
    ) as sandbox:
        yield sandbox


def unexplained(path: str, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [
        (field, check, message)
        for field, check, message in found
        if not any(
            re.fullmatch(path_re, path) and re.fullmatch(field_re, field) and check == failed
            for path_re, field_re, failed in ALLOWED
        )
    ]


def paths(sb) -> dict[str, tuple[str, dict[str, str]]]:
    """Case name -> (path, query) of every endpoint this file covers."""
    shop = sb.data.shops[0]["shopId"]
    order = next(o for o in sb.data.orders if o["_shop"] == shop)
    category = next(c for c in sb.data.categories if c["_shop"] == shop)
    rss = sb.data.rss_newsletters[0]["rssNewsletterId"]
    window = {"query[createdOn][from]": "2025-01-01", "query[createdOn][to]": "2026-12-31"}
    return {
        "order-details": (f"/shops/{shop}/orders/{order['orderId']}", {}),
        "carts": (f"/shops/{shop}/carts", {**window, "sort[createdOn]": "asc", "perPage": "4"}),
        "categories": (f"/shops/{shop}/categories", {"sort[createdAt]": "asc", "perPage": "4"}),
        "category": (f"/shops/{shop}/categories/{category['categoryId']}", {}),
        "rss-statistics": (f"/rss-newsletters/{rss}/statistics", {"query[groupBy]": "day"}),
        "transactional-emails": (
            "/transactional-emails",
            {
                "query[sentOn][from]": "2025-01-01",
                "query[sentOn][to]": "2026-12-31",
                "perPage": "5",
            },
        ),
        "transactional-statistics-day": (
            "/transactional-emails/statistics",
            {"query[groupBy]": "day", "query[timeFrame][from]": "2025-01-01"},
        ),
        "transactional-statistics-total": (
            "/transactional-emails/statistics",
            {"query[groupBy]": "total"},
        ),
    }


CASES = [
    "order-details",
    "carts",
    "categories",
    "category",
    "rss-statistics",
    "transactional-emails",
    "transactional-statistics-day",
    "transactional-statistics-total",
]
PAGED = {"carts", "categories", "rss-statistics", "transactional-emails"}


@pytest.mark.parametrize("case", CASES)
def test_endpoints_match_the_official_schemas(openapi, sb, case) -> None:
    path, params = paths(sb)[case]
    request, response = call(sb, "GET", path, params=params)
    assert response.status_code == 200
    body = response.json()
    assert body, f"{case}: an empty answer proves nothing"
    where = "/transactional-emails/statistics" if "statistics-" in case else path
    assert unexplained(where, violations(openapi, request, response)) == []
    if case in PAGED:
        assert header_problems(response, page=1) == []


def test_order_details_carry_their_selected_variants(sb) -> None:
    for order in sb.data.orders[:5]:
        _, response = call(sb, "GET", f"/shops/{order['_shop']}/orders/{order['orderId']}")
        lines = response.json()["selectedVariants"]
        assert lines
        assert all({"variantId", "price", "quantity"} <= line.keys() for line in lines)


def test_transactional_statistics_require_group_by(sb) -> None:
    _, response = call(sb, "GET", "/transactional-emails/statistics")
    assert response.status_code == 400
    assert response.json()["context"]["fieldName"] == "groupBy"


def test_transactional_emails_need_the_add_on(make_sandbox) -> None:
    plain = make_sandbox(scale=Scale(contacts=5))
    for path in ("/transactional-emails", "/transactional-emails/statistics"):
        _, response = call(plain, "GET", path, params={"query[groupBy]": "day"})
        assert response.status_code == 403
        assert {"httpStatus", "code", "message", "context", "uuid"} <= response.json().keys()
