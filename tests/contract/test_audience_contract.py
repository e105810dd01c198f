"""Segment members, suppression lists and blocklists in the sandbox against the official OpenAPI."""

from __future__ import annotations

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
from tests.sandbox.audience import campaign_masks

__all__ = ["openapi"]  # the fixture, imported so pytest finds it here


@pytest.fixture(scope="module")
def sb():
    with Sandbox(scale=Scale(contacts=60, campaigns=5), seed=3, limits=GENEROUS_LIMITS) as sandbox:
        yield sandbox


def checked(openapi, sb, path: str, params: dict | None = None):
    """GET `path`; assert a 200 whose body and headers the spec accepts; return the response."""
    request, response = call(sb, "GET", path, params=params or {})
    assert response.status_code == 200, response.text
    where = f"{path}?fields" if params and "fields" in params else path
    assert unexplained(where, violations(openapi, request, response)) == []
    return response


def members(sb, segment: dict) -> list[str]:
    """What the segment's one condition selects: its list's contacts whose e-mail has the needle."""
    campaign = sb.data.campaigns[segment["_campaign_idx"]]["campaignId"]
    return sorted(
        c["contactId"]
        for c in sb.data.contacts
        if c["campaign"]["campaignId"] == campaign and segment["_needle"] in c["email"]
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"sort[createdOn]": "asc"}, {"sort[email]": "desc", "fields": "email"}],
    ids=["plain", "sorted", "projected"],
)
def test_segment_members_match_searched_contact_details(openapi, sb, params) -> None:
    for segment in sb.data.search_contacts:
        path = f"/search-contacts/{segment['searchContactId']}/contacts"
        response = checked(openapi, sb, path, {"perPage": 1000, **params})
        assert header_problems(response, page=1) == []
        assert sorted(c["contactId"] for c in response.json()) == members(sb, segment)
    assert any(members(sb, s) for s in sb.data.search_contacts), "no segment has members"


def test_segment_members_are_paged(openapi, sb) -> None:
    segment = max(sb.data.search_contacts, key=lambda s: len(members(sb, s)))
    path = f"/search-contacts/{segment['searchContactId']}/contacts"
    seen = []
    for page in (1, 2, 3):
        params = {"perPage": 1, "page": page, "sort[createdOn]": "asc"}
        response = checked(openapi, sb, path, params)
        assert header_problems(response, page=page) == []
        assert response.headers["TotalCount"] == str(len(members(sb, segment)))
        seen += [c["contactId"] for c in response.json()]
    assert len(seen) == min(3, len(members(sb, segment)))
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort[createdOn]": "asc", "perPage": 2, "page": 2},
        {"query[createdOn][from]": "2025-06-01", "query[createdOn][to]": "2026-01-01"},
        {"query[name]": "suppression_1", "sort[name]": "desc"},
    ],
    ids=["plain", "paged", "created-window", "by-name"],
)
def test_suppressions_match_the_official_schema(openapi, sb, params) -> None:
    response = checked(openapi, sb, "/suppressions", params)
    assert header_problems(response, page=int(params.get("page", 1))) == []
    if "query" not in " ".join(params):
        assert response.json()


def test_suppression_created_on_window_keeps_only_that_window(openapi, sb) -> None:
    window = {"query[createdOn][from]": "2025-06-01", "query[createdOn][to]": "2026-01-01"}
    got = {s["suppressionId"] for s in checked(openapi, sb, "/suppressions", window).json()}
    every = sb.data.collections["suppressions"]
    assert 0 < len(got) < len(every)
    assert got == {
        s["suppressionId"] for s in every if "2025-06-01" <= s["createdOn"] < "2026-01-02"
    }


def test_a_suppression_has_its_masks_in_the_details(openapi, sb) -> None:
    first = sb.data.collections["suppressions"][0]
    body = checked(openapi, sb, f"/suppressions/{first['suppressionId']}").json()
    assert body["masks"] == first["_masks"]
    assert body["masks"]


def test_account_blocklist_matches_the_official_schema(openapi, sb) -> None:
    body = checked(openapi, sb, "/accounts/blocklists").json()
    assert body["masks"] == [row["mask"] for row in sb.data.collections["account-blocklist"]]
    searched = checked(openapi, sb, "/accounts/blocklists", {"query[mask]": "@blocked"}).json()
    assert searched["masks"]
    assert all("@blocked" in mask for mask in searched["masks"])


def test_every_list_blocklist_matches_the_official_schema(openapi, sb) -> None:
    counts = []
    for campaign in sb.data.campaigns:
        campaign_id = campaign["campaignId"]
        body = checked(openapi, sb, f"/campaigns/{campaign_id}/blocklists").json()
        assert body["masks"] == campaign_masks(sb.data, campaign_id)
        counts.append(len(body["masks"]))
    assert 0 in counts, "a list without a blocklist"
    assert max(counts) > 1


@pytest.mark.parametrize(
    "path", ["/campaigns/nope/blocklists", "/search-contacts/nope/contacts", "/suppressions/nope"]
)
def test_unknown_parents_answer_the_documented_404(openapi, sb, path) -> None:
    request, response = call(sb, "GET", path)
    assert response.status_code == 404
    assert response.json()["code"] == 1013
    assert violations(openapi, request, response) == []
