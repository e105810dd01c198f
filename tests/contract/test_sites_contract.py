"""Popups, websites, A/B tests and the performance endpoints of the sandbox against the spec."""

from __future__ import annotations

import re

import pytest

from tests.conftest import GENEROUS_LIMITS
from tests.contract.test_sandbox_responses import (
    call,
    header_problems,
    openapi,
    unexplained,
    violations,
)
from tests.sandbox import Sandbox, Scale
from tests.sandbox.sites import active_days

__all__ = ["openapi"]  # the fixture, imported so pytest finds it here

#: (path regex, field path regex, failed check) -> why the spec, not the sandbox, is wrong.
ALLOWED = {
    (r"/(popups|websites)(\?fields)?", r"\d+/(createdAt|updatedAt)", "format"): (
        "schemas `PopupListItem` and `Website` say these are GMT without an offset (their "
        "example `2024-01-10T10:00:00`), which the spec types as date-time"
    ),
    (r"/(popups|websites)/[^/]+", r"(createdAt|updatedAt)", "format"): "as the lists",
}


def unexplained_here(path: str, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [
        (field, check, message)
        for field, check, message in unexplained(path, found)
        if not any(
            re.fullmatch(path_re, path) and re.fullmatch(field_re, field) and check == failed
            for path_re, field_re, failed in ALLOWED
        )
    ]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(scale=Scale(contacts=20), seed=3, limits=GENEROUS_LIMITS) as sandbox:
        yield sandbox


LISTS = [
    ("/popups", {}),
    ("/popups", {"sort[createdAt]": "asc", "query[status]": "published", "page": 2, "perPage": 2}),
    ("/popups", {"fields": "popupId,createdAt", "sort[createdAt]": "asc"}),
    ("/websites", {"sort[createdAt]": "asc"}),
    ("/websites", {"fields": "websiteId,createdAt", "sort[createdAt]": "asc"}),
    ("/ab-tests/subject", {}),
    ("/ab-tests/subject", {"sort[sendOn]": "desc", "query[stage]": "testing"}),
    ("/splittests", {"sort[createdOn]": "asc"}),
    ("/splittests", {"query[status]": "inactive", "sort[createdOn]": "asc"}),
    ("/splittests", {"query[createdOn][from]": "2025-01-01", "query[status]": "active"}),
]


@pytest.mark.parametrize(("path", "params"), LISTS, ids=lambda v: v if isinstance(v, str) else "")
def test_lists_match_the_official_schemas(openapi, sb, path, params) -> None:
    request, response = call(sb, "GET", path, params={"perPage": 5, **params})
    assert response.status_code == 200
    assert response.json(), "an empty answer validates nothing"
    where = f"{path}?fields" if "fields" in params else path
    assert unexplained_here(where, violations(openapi, request, response)) == []
    assert header_problems(response, page=int(params.get("page", 1))) == []


DETAILS = [
    ("popups", "popups", "popupId"),
    ("websites", "websites", "websiteId"),
    ("ab-tests/subject", "ab-tests", "abTestId"),
    ("splittests", "splittests", "splittestId"),
]


@pytest.mark.parametrize(("path", "collection", "key"), DETAILS, ids=[d[0] for d in DETAILS])
def test_details_match(openapi, sb, path, collection, key) -> None:
    ident = sb.data.collections[collection][-1][key]
    request, response = call(sb, "GET", f"/{path}/{ident}")
    assert response.status_code == 200
    assert response.json()[key] == ident
    assert unexplained_here(f"/{path}/{ident}", violations(openapi, request, response)) == []


PERFORMANCE = [
    ("popups", "popups", "popupId"),
    ("lps", "lps", "lpsId"),
    ("wbe", "websites", "websiteId"),
]
RANGES = {
    "all-time": {},
    "one-day": "first active day",
    "range-and-device": {"query[date][from]": "2025-01-01", "query[date][to]": "2026-12-31",
                         "query[device]": "mobile"},
}  # fmt: skip


@pytest.mark.parametrize("query", RANGES)
@pytest.mark.parametrize("endpoint", PERFORMANCE, ids=[p[0] for p in PERFORMANCE])
def test_performance_matches_the_official_schemas(openapi, sb, endpoint, query) -> None:
    kind, collection, key = endpoint
    item = sb.data.collections[collection][0]
    params = RANGES[query]
    if not isinstance(params, dict):
        day = active_days(item)[0]
        params = {"query[date][from]": day, "query[date][to]": day}
    path = f"/statistics/{kind}/{item[key]}/performance"
    request, response = call(sb, "GET", path, params=params)
    assert response.status_code == 200
    body = response.json()
    assert body[key] == item[key]
    assert unexplained_here(path, violations(openapi, request, response)) == []
    counter = "views" if kind == "popups" else "pageViews"
    assert body[counter] > 0


@pytest.mark.parametrize("params", [{"query[location]": "Poland"}, {"query[device]": "tv"}])
def test_filters_the_sandbox_cannot_answer_are_a_documented_400(openapi, sb, params) -> None:
    path = f"/statistics/wbe/{sb.data.websites[0]['websiteId']}/performance"
    request, response = call(sb, "GET", path, params=params)
    assert response.status_code == 400
    assert violations(openapi, request, response) == []
