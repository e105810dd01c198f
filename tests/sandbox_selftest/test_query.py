"""§2.2-§2.5: query[...] filters, sort[...], fields projection, additionalFlags=exactMatch."""

from __future__ import annotations

import pytest

from tests.sandbox_selftest.helpers import assert_error, get


def test_email_filter_is_like_unless_exact(sandbox):
    first = get(sandbox, "/contacts", perPage=1).json()[0]
    local = first["email"].split("@")[0]
    partial = get(sandbox, "/contacts", **{"query[email]": local[:-1]}).json()
    assert first["contactId"] in {c["contactId"] for c in partial}
    assert all(local[:-1] in c["email"] for c in partial)
    assert (
        get(sandbox, "/contacts", **{"query[email]": local, "additionalFlags": "exactMatch"}).json()
        == []
    )
    exact = get(
        sandbox, "/contacts", **{"query[email]": first["email"], "additionalFlags": "exactMatch"}
    ).json()
    assert [c["contactId"] for c in exact] == [first["contactId"]]


def test_campaign_and_range_filters(sandbox):
    campaign = sandbox.data.campaigns[1]["campaignId"]
    params = {
        "query[campaignId]": campaign,
        "query[createdOn][from]": "2025-03-01",
        "query[createdOn][to]": "2025-06-30T23:59:59+0000",
        "perPage": 1000,
    }
    items = get(sandbox, "/contacts", **params).json()
    assert items
    assert all(c["campaign"]["campaignId"] == campaign for c in items)
    assert all("2025-03-01" <= c["createdOn"][:10] <= "2025-06-30" for c in items)
    expected = [
        c
        for c in sandbox.data.contacts
        if c["campaign"]["campaignId"] == campaign
        and "2025-03-01" <= c["createdOn"][:10] <= "2025-06-30"
    ]
    assert len(items) == len(expected)


def test_unencoded_plus_in_offset_is_accepted(sandbox):
    # §2.3: an unencoded "+" arrives as a space; the sandbox reads it as "+".
    url = f"{sandbox.url}/contacts?query[changedOn][from]=2026-01-01T00:00:00+0000&perPage=1000"
    import requests  # noqa: PLC0415

    response = requests.get(url, headers={"X-Auth-Token": f"api-key {sandbox.api_key}"}, timeout=10)
    assert response.status_code == 200
    assert all(c["changedOn"] >= "2026-01-01" for c in response.json())


@pytest.mark.parametrize("direction", ["asc", "DESC", "Asc"])
def test_sort_is_case_insensitive(sandbox, direction):
    items = get(sandbox, "/contacts", **{"sort[changedOn]": direction, "perPage": 200}).json()
    stamps = [c["changedOn"] for c in items]
    assert stamps == sorted(stamps, reverse=direction.lower() == "desc")


def test_sort_by_name_then_page_two_continues(sandbox):
    one = get(sandbox, "/contacts", **{"sort[email]": "asc", "perPage": 50, "page": 1}).json()
    two = get(sandbox, "/contacts", **{"sort[email]": "asc", "perPage": 50, "page": 2}).json()
    emails = [c["email"].lower() for c in one + two]
    assert emails == sorted(emails)


def test_fields_projection_keeps_the_id(sandbox):
    items = get(sandbox, "/contacts", fields="email,createdOn", perPage=3).json()
    assert all(set(c) == {"contactId", "email", "createdOn"} for c in items)
    tag = get(sandbox, "/tags", fields="name", perPage=1).json()[0]
    assert set(tag) == {"tagId", "name"}


def test_unknown_filter_is_400_1000_with_context(sandbox):
    body = assert_error(get(sandbox, "/contacts", **{"query[colour]": "red"}), 400, 1000)
    assert body["context"] == {
        "validationType": "searchFilter[query]",
        "fieldName": "colour",
        "originalName": "query[colour]",
        "errorDescription": "Not allowed search field",
    }
    # tags filter on createdAt, not createdOn (§3.5)
    assert_error(get(sandbox, "/tags", **{"query[createdOn][from]": "2025-01-01"}), 400, 1000)
    assert get(sandbox, "/tags", **{"query[createdAt][from]": "2025-01-01"}).status_code == 200


def test_unknown_sort_field_is_400(sandbox):
    assert_error(get(sandbox, "/campaigns", **{"sort[email]": "asc"}), 400, 1000)


def test_campaign_contacts_and_details(sandbox):
    campaign = sandbox.data.campaigns[0]["campaignId"]
    items = get(sandbox, f"/campaigns/{campaign}/contacts", perPage=5).json()
    assert items
    assert all(c["campaign"]["campaignId"] == campaign for c in items)
    assert "tags" not in items[0]
    assert "customFieldValues" not in items[0]
    detail = get(sandbox, f"/contacts/{items[0]['contactId']}").json()
    assert isinstance(detail["tags"], list)
    assert isinstance(detail["customFieldValues"], list)
    for value in detail["customFieldValues"]:
        assert value["value"] == value["values"]
        assert all(isinstance(v, str) for v in value["value"])


def test_string_booleans_and_timestamps(sandbox):
    campaign = get(sandbox, "/campaigns", perPage=1).json()[0]
    assert campaign["isDefault"] in {"true", "false"}
    assert campaign["createdOn"].endswith("+0000")
    newsletter = get(sandbox, "/newsletters", perPage=1).json()[0]
    assert isinstance(newsletter["flags"], str)
    assert all(isinstance(v, str) for v in newsletter["sendMetrics"].values())
    detail = get(sandbox, f"/newsletters/{newsletter['newsletterId']}").json()
    assert isinstance(detail["flags"], list)


def test_seeded_data_is_deterministic(make_sandbox):
    from tests.sandbox import Scale  # noqa: PLC0415

    one = make_sandbox(scale=Scale(contacts=50), seed=3)
    two = make_sandbox(scale=Scale(contacts=50), seed=3)
    other = make_sandbox(scale=Scale(contacts=50), seed=4)
    assert get(one, "/contacts", perPage=50).json() == get(two, "/contacts", perPage=50).json()
    assert get(one, "/newsletters").json() == get(two, "/newsletters").json()
    assert get(one, "/contacts", perPage=50).json() != get(other, "/contacts", perPage=50).json()
