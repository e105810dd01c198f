"""`POST /search-contacts/contacts` in the sandbox against the official OpenAPI: items and 400s."""

from __future__ import annotations

import pytest

from tests.contract.test_sandbox_responses import (
    call,
    header_problems,
    openapi,
    unexplained,
    violations,
)
from tests.sandbox import Scale
from tests.sandbox.search import REASONS, removed

__all__ = ["openapi"]  # the fixture, imported so pytest finds it here

PATH = "/search-contacts/contacts"


def form(sb, kind: str, **section) -> dict:
    lists = [c["campaignId"] for c in sb.data.campaigns]
    return {
        "subscribersType": [kind],
        "sectionLogicOperator": "or",
        "section": [
            {
                "campaignIdsList": lists,
                "logicOperator": "or",
                "subscriberCycle": ["receiving_autoresponder", "not_receiving_autoresponder"],
                "subscriptionDate": "all_time",
                **section,
            }
        ],
    }


@pytest.fixture
def sb(make_sandbox):
    sandbox = make_sandbox(scale=Scale(contacts=30))
    sandbox.removed_ids = []
    for reason in ("api", "unsubscribe", "bounce"):
        contact_id = sandbox.data.contacts[0]["contactId"]
        row = sandbox.data.contacts_store.row_of(contact_id)
        sandbox.data.contacts_store.delete(row, reason=reason)
        sandbox.removed_ids.append(contact_id)
    return sandbox


@pytest.mark.parametrize("kind", ["removed", "unconfirmed", "subscribed", "undelivered"])
def test_searched_contacts_match_the_official_schema(openapi, sb, kind) -> None:
    params = {"sort[createdOn]": "asc", "perPage": 2, "page": 1}
    request, response = call(sb, "POST", PATH, params=params, json=form(sb, kind))
    assert response.status_code == 200
    assert unexplained(PATH, violations(openapi, request, response)) == []
    assert header_problems(response, page=1) == []
    if kind in {"removed", "unconfirmed"}:
        assert response.json()


def test_removed_contacts_keep_their_id_with_reason_and_deleted_on(sb) -> None:
    _, response = call(sb, "POST", PATH, json=form(sb, "removed"))
    items = response.json()
    assert len(items) == len(removed(sb.data))
    assert {i["reason"] for i in items} == set(REASONS), "every reason of the spec's enum"
    by_id = {i["contactId"]: i["reason"] for i in items}
    assert {by_id[c] for c in sb.removed_ids} == {"api", "unsubscribe", "bounce"}
    assert all(i["deletedOn"] and sb.data.contacts.get(i["contactId"]) is None for i in items)


BAD = {
    "no-type": {"subscribersType": None},
    "two-types": {"subscribersType": ["removed", "subscribed"]},
    "unknown-type": {"subscribersType": ["gone"]},
    "bad-operator": {"sectionLogicOperator": "xor"},
    "no-section": {"section": []},
    "nine-sections": "nine",
    "unknown-list": {"campaignIdsList": ["nope"]},
    "bad-cycle": {"subscriberCycle": ["sometimes"]},
    "bad-date": {"subscriptionDate": "forever"},
}


@pytest.mark.parametrize("name", BAD)
def test_a_refused_form_is_a_documented_400(openapi, sb, name) -> None:
    body = form(sb, "removed")
    change = BAD[name]
    if change == "nine":
        body["section"] = body["section"] * 9
    elif set(change) <= {"campaignIdsList", "subscriberCycle", "subscriptionDate"}:
        body["section"][0].update(change)
    else:
        body.update(change)
    request, response = call(sb, "POST", PATH, json=body)
    assert response.status_code == 400
    assert response.json()["code"] in {1000, 1001}
    assert violations(openapi, request, response) == []
