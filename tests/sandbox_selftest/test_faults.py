"""Fault knobs, the on_request hook, latency and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox import Scale
from tests.sandbox_selftest.helpers import assert_error, get, post

SMALL = Scale(contacts=30)


def test_fail_next_matches_paths(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    sb.faults.fail_next(2, status=503, path="/contacts")
    assert get(sb, "/campaigns").status_code == 200
    assert get(sb, f"/contacts/{sb.data.contacts[0]['contactId']}").status_code == 200
    assert_error(get(sb, "/contacts"), 503, 1)
    assert get(sb, "/contacts").status_code == 503
    assert get(sb, "/contacts").status_code == 200
    sb.faults.fail_next(1, status=429, path="/contacts/*")
    assert_error(get(sb, f"/contacts/{sb.data.contacts[0]['contactId']}"), 429, 1015)
    sb.faults.fail_next(1)
    assert_error(get(sb, "/tags"), 500, 1)


def test_drop_next_closes_without_answer(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    sb.faults.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        get(sb, "/contacts")
    assert sb.log[-1].dropped
    assert sb.log[-1].status is None
    assert get(sb, "/contacts").status_code == 200


def test_fail_after_apply_applies_then_answers_500(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    contact_id = sb.data.contacts[0]["contactId"]
    sb.faults.fail_after_apply_next(1)
    assert get(sb, "/contacts").status_code == 200  # GETs do not consume it
    assert_error(post(sb, f"/contacts/{contact_id}", {"name": "Applied Anyway"}), 500, 1)
    assert sb.data.contacts.get(contact_id)["name"] == "Applied Anyway"
    assert post(sb, f"/contacts/{contact_id}", {"name": "Second"}).status_code == 200


def test_on_request_hook_changes_data_between_pages(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    first = get(sb, "/contacts", perPage=10, page=1).json()

    def hook(entry):
        if entry.path == "/contacts" and entry.query.get("page") == "2":
            sb.data.delete_contact(first[0]["contactId"])
            sb.on_request = None

    sb.on_request = hook
    second = get(sb, "/contacts", perPage=10, page=2)
    assert second.headers["TotalCount"] == "29"
    # the deletion shifted every row up by one: page 2 now starts with the old 12th contact
    everything = get(sb, "/contacts", perPage=100).json()
    assert [c["contactId"] for c in second.json()] == [c["contactId"] for c in everything[10:20]]


def test_latency_and_log(make_sandbox):
    sb = make_sandbox(scale=SMALL, latency=0.15)
    started = time.monotonic()
    get(sb, "/contacts", perPage=2, **{"sort[createdOn]": "desc"})
    assert time.monotonic() - started >= 0.15
    entry = sb.log[-1]
    assert entry.method == "GET"
    assert entry.path == "/contacts"
    assert entry.raw_path == "/v3/contacts"
    assert entry.query == {"perPage": "2", "sort[createdOn]": "desc"}
    assert entry.auth_kind == "api-key"
    assert entry.status == 200
    assert entry.in_flight == 1
    sb.clear_log()
    assert sb.log == []


def test_mutation_methods(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    campaign = sb.data.campaigns[2]["campaignId"]
    contact_id = sb.data.add_contact("added@brand.test", campaign, name="Added")
    listed = get(
        sb, "/contacts", **{"query[campaignId]": campaign, "sort[createdOn]": "desc"}
    ).json()
    assert listed[0]["contactId"] == contact_id
    assert listed[0]["createdOn"][:4] == time.strftime("%Y", time.gmtime())
    updated = sb.data.update_contact(contact_id, name="Updated")
    assert updated["name"] == "Updated"
    sb.data.delete_contact(contact_id)
    assert_error(get(sb, f"/contacts/{contact_id}"), 404, 1013)


def test_unknown_path_is_404_1013(sandbox):
    assert_error(get(sandbox, "/no-such-thing"), 404, 1013)
    assert_error(get(sandbox, "/newsletters/zzzz"), 404, 1013)
    response = requests.get(sandbox.url.replace("/v3", "/v2/contacts"), timeout=10)
    assert_error(response, 404, 1013)
