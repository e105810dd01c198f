"""§4 writes: single create, batch, update, upserts, imports, tags and custom fields."""

from __future__ import annotations

import time

from tests.sandbox import Limits, Scale
from tests.sandbox_selftest.helpers import assert_error, get, post

SMALL = Scale(contacts=30)
FAST = Limits(batch_per_second=1000)


def _exact(sb, email):
    return get(sb, "/contacts", **{"query[email]": email, "additionalFlags": "exactMatch"}).json()


def _wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_create_is_202_empty_and_visible_after_the_delay(make_sandbox):
    sb = make_sandbox(scale=SMALL, async_delay=0.3)
    campaign = sb.data.campaigns[1]["campaignId"]
    tag = sb.data.tags[0]["tagId"]
    field = sb.data.custom_fields[1]["customFieldId"]
    body = {
        "email": "new.person@brand.test",
        "name": "New Person",
        "campaign": {"campaignId": campaign},
        "dayOfCycle": "3",
        "tags": [{"tagId": tag}],
        "customFieldValues": [{"customFieldId": field, "value": ["gold"]}],
    }
    started = time.monotonic()
    response = post(sb, "/contacts", body)
    assert response.status_code == 202
    assert response.content == b""
    assert sb.log[-1].body == body
    assert _exact(sb, "new.person@brand.test") == []
    assert _wait_for(lambda: _exact(sb, "new.person@brand.test"))
    assert time.monotonic() - started >= 0.3
    contact = _exact(sb, "new.person@brand.test")[0]
    assert contact["origin"] == "api"
    assert contact["dayOfCycle"] == "3"
    detail = get(sb, f"/contacts/{contact['contactId']}").json()
    assert [t["tagId"] for t in detail["tags"]] == [tag]
    assert detail["customFieldValues"][0]["value"] == ["gold"]


def test_create_errors(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    campaign = sb.data.campaigns[0]["campaignId"]
    existing = sb.data.contacts.find(sb.data.contacts[0]["email"])[0]
    dup = {
        "email": existing["email"],
        "campaign": {"campaignId": existing["campaign"]["campaignId"]},
    }
    assert assert_error(post(sb, "/contacts", dup), 409, 1008)["context"] == {
        "value": existing["email"]
    }
    bad = {"email": "not-an-email", "campaign": {"campaignId": campaign}}
    assert_error(post(sb, "/contacts", bad), 400, 1000)
    assert_error(
        post(sb, "/contacts", {"email": "a@b.test", "campaign": {"campaignId": "zz"}}), 400, 1001
    )
    field = {"email": "a@b.test", "campaign": {"campaignId": campaign}}
    field["customFieldValues"] = [{"customFieldId": "nope", "value": ["x"]}]
    assert_error(post(sb, "/contacts", field), 400, 1001)
    # the same e-mail on another list is a different contact (§3.21)
    other = sb.data.campaigns[2]["campaignId"]
    assert post(sb, "/contacts", {**dup, "campaign": {"campaignId": other}}).status_code == 202


def test_refused_domain_is_dropped_after_202(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    campaign = sb.data.campaigns[0]["campaignId"]
    response = post(
        sb, "/contacts", {"email": "x@invalid.test", "campaign": {"campaignId": campaign}}
    )
    assert response.status_code == 202
    time.sleep(0.1)
    assert _exact(sb, "x@invalid.test") == []


def test_batch_adds_new_skips_existing_and_drops_invalid(make_sandbox):
    sb = make_sandbox(scale=SMALL, async_delay=0.2, limits=FAST)
    campaign = sb.data.campaigns[0]["campaignId"]
    existing = next(c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign)
    tag = sb.data.tags[1]["tagId"]
    contacts = [
        {"email": "b1@brand.test", "name": "B One", "tags": {"ids": [tag]}},
        {"email": existing["email"], "name": "Should Not Change"},
        {"email": "bad-address"},
        {"email": "c@invalid.test"},
        {"email": "b1@brand.test", "name": "Duplicate In Batch"},
    ]
    assert (
        post(sb, "/contacts/batch", {"campaignId": campaign, "contacts": contacts}).status_code
        == 202
    )
    assert _exact(sb, "b1@brand.test") == []
    assert _wait_for(lambda: _exact(sb, "b1@brand.test"))
    added = _exact(sb, "b1@brand.test")
    assert len(added) == 1
    assert added[0]["name"] == "B One"
    assert sb.data.contacts.get(existing["contactId"])["name"] == existing["name"]
    assert sb.data.batch_results[-1] == {"received": 5, "added": 1, "unchanged": 2, "dropped": 2}
    detail = get(sb, f"/contacts/{added[0]['contactId']}").json()
    assert [t["tagId"] for t in detail["tags"]] == [tag]


def test_batch_validation(make_sandbox):
    sb = make_sandbox(scale=SMALL, limits=FAST)
    campaign = sb.data.campaigns[0]["campaignId"]
    wrong_tags = {
        "campaignId": campaign,
        "contacts": [{"email": "a@b.test", "tags": [{"tagId": "x"}]}],
    }
    assert_error(post(sb, "/contacts/batch", wrong_tags), 400, 1000)
    assert_error(post(sb, "/contacts/batch", {"contacts": [{"email": "a@b.test"}]}), 400, 1000)
    unknown = {"campaignId": "nope", "contacts": [{"email": "a@b.test"}]}
    assert_error(post(sb, "/contacts/batch", unknown), 400, 1001)


def test_update_replaces_collections_and_bumps_changed_on(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    contact = sb.data.contacts[3]
    tag = sb.data.tags[2]["tagId"]
    field = sb.data.custom_fields[1]["customFieldId"]
    body = {
        "name": "Renamed",
        "tags": [{"tagId": tag}],
        "customFieldValues": [{"customFieldId": field, "value": ["x"]}],
    }
    response = post(sb, f"/contacts/{contact['contactId']}", body)
    assert response.status_code == 200
    detail = response.json()
    assert detail["name"] == "Renamed"
    assert [t["tagId"] for t in detail["tags"]] == [tag]
    assert [v["customFieldId"] for v in detail["customFieldValues"]] == [field]
    assert detail["changedOn"] > contact["changedOn"]
    assert detail["changedOn"][:4] == time.strftime("%Y", time.gmtime())
    cleared = post(sb, f"/contacts/{contact['contactId']}", {"tags": []}).json()
    assert cleared["tags"] == []
    assert [v["customFieldId"] for v in cleared["customFieldValues"]] == [field]
    assert_error(post(sb, "/contacts/zzzzz", {"name": "x"}), 404, 1013)


def test_incremental_filter_sees_the_update(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    since = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 5))
    assert get(sb, "/contacts", **{"query[changedOn][from]": since}).json() == []
    target = sb.data.contacts[5]["contactId"]
    sb.data.update_contact(target, name="Changed Here")
    changed = get(
        sb, "/contacts", **{"query[changedOn][from]": since, "sort[changedOn]": "asc"}
    ).json()
    assert [c["contactId"] for c in changed] == [target]


def test_upsert_helpers_and_delete(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    contact_id = sb.data.contacts[0]["contactId"]
    before = {t["tagId"] for t in sb.data.contacts.get(contact_id)["tags"]}
    tag = sb.data.tags[-1]["tagId"]
    tags = post(sb, f"/contacts/{contact_id}/tags", {"tags": [{"tagId": tag}]}).json()
    assert {t["tagId"] for t in tags} == before | {tag}
    field = sb.data.custom_fields[5]["customFieldId"]
    values = post(
        sb, f"/contacts/{contact_id}/custom-fields",
        {"customFieldValues": [{"customFieldId": field, "value": ["42"]}]},
    ).json()  # fmt: skip
    assert {"customFieldId": field, "values": ["42"]} in values
    import requests  # noqa: PLC0415

    deleted = requests.delete(
        f"{sb.url}/contacts/{contact_id}",
        headers={"X-Auth-Token": f"api-key {sb.api_key}"},
        timeout=10,
    )
    assert deleted.status_code == 204
    assert_error(get(sb, f"/contacts/{contact_id}"), 404, 1013)
    assert contact_id not in {c["contactId"] for c in get(sb, "/contacts", perPage=1000).json()}


def test_import_adds_and_updates(make_sandbox):
    sb = make_sandbox(scale=SMALL, import_delay=0.2)
    campaign = sb.data.campaigns[0]["campaignId"]
    existing = next(c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign)
    body = {
        "campaignId": campaign,
        "fieldMapping": ["email", "name", "customer_tier", "tag:imported_vip"],
        "contacts": [
            [existing["email"], "Updated Name", "silver", "1"],
            ["fresh@brand.test", "Fresh", "gold", "0"],
            ["broken", "X", "", "1"],
        ],
    }
    response = post(sb, "/imports", body)
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "uploaded"
    assert created["statistics"] == {"uploaded": 3, "invalid": 0, "updated": 0, "addedToList": 0}
    assert_error(post(sb, "/imports", body), 409, 1008)  # one active import per campaign (§4.5)
    assert _wait_for(
        lambda: get(sb, f"/imports/{created['importId']}").json()["status"] == "finished"
    )
    done = get(sb, f"/imports/{created['importId']}").json()
    assert done["statistics"] == {"uploaded": 3, "invalid": 1, "updated": 1, "addedToList": 1}
    assert done["finishedOn"].endswith("+0000")
    updated = sb.data.contacts.get(existing["contactId"])
    assert updated["name"] == "Updated Name"
    assert "imported_vip" in {t["name"] for t in updated["tags"]}
    tier = next(v for v in updated["customFieldValues"] if v["name"] == "customer_tier")
    assert tier["value"] == ["silver"]
    fresh = sb.data.contacts.find("fresh@brand.test")[0]
    assert fresh["origin"] == "import"
    assert fresh["tags"] == []
    bad_column = {**body, "fieldMapping": ["email", "name", "no_such_field", "tag:x1"]}
    assert_error(post(sb, "/imports", bad_column), 400, 1001)


def test_tags_and_custom_fields_create(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    tag = post(sb, "/tags", {"name": "brand_new"})
    assert tag.status_code == 201
    assert tag.json()["name"] == "brand_new"
    assert_error(post(sb, "/tags", {"name": "brand_new"}), 409, 1008)
    assert_error(post(sb, "/tags", {"name": "bad name!"}), 400, 1000)
    field = post(
        sb, "/custom-fields",
        {"name": "shoe_size", "type": "number", "format": "text", "hidden": "false", "values": []},
    )  # fmt: skip
    assert field.status_code == 201
    assert field.json()["hidden"] == "false"
    listed = get(sb, "/custom-fields", **{"query[name]": "shoe_size"}).json()
    assert [f["customFieldId"] for f in listed] == [field.json()["customFieldId"]]
