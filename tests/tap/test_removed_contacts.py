"""Removed and unconfirmed contacts through the sandbox's `POST /search-contacts/contacts`."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from tap_getresponse.streams import removals
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Scale
from tests.sandbox.search import removed, seeded_removals, unconfirmed
from tests.sandbox.util import now
from tests.tap.conftest import next_second, run_sync, sandbox_config
from tests.tap.test_robustness import sync_checked

DAY = 86_400


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=Scale(contacts=60, campaigns=5), seed=7)


def remove(sb, index: int, reason: str, when: int | None = None) -> str:
    """Remove the index-th live contact as GetResponse would; return its id."""
    contact_id = sb.data.contacts[index]["contactId"]
    with sb.data.lock:
        store = sb.data.contacts_store
        store.delete(store.row_of(contact_id), reason=reason, when=when)
    return contact_id


def every_removed(sb) -> set[str]:
    return {c["contactId"] for c in removed(sb.data)}


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_a_full_sync_emits_every_removed_contact_with_reason_and_deleted_on(sb):
    old = now() - 3 * DAY
    expected = {
        remove(sb, 0, "unsubscribe", old): "unsubscribe",
        remove(sb, 5, "bounce", old): "bounce",
    }
    expected[remove(sb, 9, "api", now() - 60)] = "api"
    expected |= {c["contactId"]: c["reason"] for c in seeded_removals(sb.data)}
    result = run_sync(sandbox_config(sb), streams=["removed_contacts"])
    records = result.records["removed_contacts"]
    assert {r["contactId"]: r["reason"] for r in records} == expected
    assert all(moment(r["deletedOn"]).tzinfo is not None for r in records)
    assert {"email", "campaign", "createdOn", "origin", "score"} <= records[0].keys()
    bookmark = result.state["bookmarks"]["removed_contacts"]["replication_key_value"]
    assert moment(bookmark) == max(moment(r["deletedOn"]) for r in records)


def test_a_rerun_emits_only_contacts_removed_after_the_bookmark_less_the_lookback(sb):
    bookmark = now() - 3 * DAY
    at_bookmark = remove(sb, 0, "unsubscribe", bookmark)
    config = sandbox_config(sb, lookback_minutes=60)
    first = run_sync(config, streams=["removed_contacts"])
    assert len(first.records["removed_contacts"]) == len(removed(sb.data))
    remove(sb, 2, "support", bookmark - 7_200)  # before the bookmark less the lookback
    within_lookback = remove(sb, 3, "complaint", bookmark - 600)
    later = remove(sb, 4, "user", now() - DAY)
    second = run_sync(config, streams=["removed_contacts"], state=first.state)
    emitted = {r["contactId"] for r in second.records["removed_contacts"]}
    assert emitted == {at_bookmark, within_lookback, later}
    searches = [r for r in sb.log if r.path == removals.SEARCH_PATH]
    assert all(r.query.get("sort[createdOn]") == "asc" for r in searches)


def test_lists_are_split_into_sections_and_requests_where_the_limits_require(sb, monkeypatch):
    monkeypatch.setattr(removals, "LISTS_PER_SECTION", 2)
    monkeypatch.setattr(removals, "MAX_SECTIONS", 2)
    for index in range(0, 40, 4):
        remove(sb, index, "api", now() - DAY)
    result = run_sync(sandbox_config(sb), streams=["removed_contacts"])
    assert {r["contactId"] for r in result.records["removed_contacts"]} == every_removed(sb)
    bodies = [r.body for r in sb.log if r.path == removals.SEARCH_PATH]
    # 5 lists: sections of 2, 2 and 1 list, sent as 2 + 1 sections.
    assert [len(b["section"]) for b in bodies] == [2, 1]
    named = [c for b in bodies for s in b["section"] for c in s["campaignIdsList"]]
    assert sorted(named) == sorted(c["campaignId"] for c in sb.data.campaigns)
    assert all(b["subscribersType"] == ["removed"] for b in bodies)
    sections = [s for b in bodies for s in b["section"]]
    assert all(s["subscriptionDate"] == "all_time" for s in sections)
    assert all(set(s["subscriberCycle"]) == set(removals.CYCLES) for s in sections)


def test_removed_contacts_are_paged(sb):
    for index in range(12):
        remove(sb, index, "cleaner", now() - DAY)
    result = run_sync(sandbox_config(sb, page_size=5), streams=["removed_contacts"])
    assert {r["contactId"] for r in result.records["removed_contacts"]} == every_removed(sb)
    pages = sorted(int(r.query["page"]) for r in sb.log if r.path == removals.SEARCH_PATH)
    assert pages == list(range(1, -(-len(every_removed(sb)) // 5) + 1))
    assert len(pages) > 1


def test_unconfirmed_contacts_are_read_in_full(sb):
    result = run_sync(sandbox_config(sb), streams=["unconfirmed_contacts"])
    emitted = {r["contactId"] for r in result.records["unconfirmed_contacts"]}
    assert emitted == {c["contactId"] for c in unconfirmed(sb.data)}
    again = run_sync(sandbox_config(sb), streams=["unconfirmed_contacts"], state=result.state)
    assert {r["contactId"] for r in again.records["unconfirmed_contacts"]} == emitted


def delete_over_http(sb, contact_id: str) -> None:
    """Remove a contact the way a user's API call does: `DELETE /contacts/{contactId}`."""
    response = requests.delete(
        f"{sb.url}/contacts/{contact_id}",
        headers={"X-Auth-Token": f"api-key {sb.api_key}"},
        timeout=10,
    )
    assert response.status_code == 204


def test_contacts_removed_between_runs_are_emitted_in_contacts_as_soft_deletes(sb):
    first = run_sync(sandbox_config(sb), streams=["contacts"])
    assert not [r for r in first.records["contacts"] if r.get("_sdc_deleted_at")]
    assert not [r for r in sb.log if r.path == removals.SEARCH_PATH], "a first run emits none"
    gone = sb.data.contacts[7]
    delete_over_http(sb, gone["contactId"])
    next_second()  # the removal falls inside the second run's window
    second = run_sync(sandbox_config(sb), streams=["contacts"], state=first.state)
    deleted = {r["contactId"]: r for r in second.records["contacts"] if r.get("_sdc_deleted_at")}
    bookmark = moment(first.state["bookmarks"]["contacts"]["replication_key_value"])
    floor = bookmark - dt.timedelta(minutes=60)  # the default lookback
    expected = {c["contactId"] for c in removed(sb.data) if moment(c["deletedOn"]) >= floor}
    assert gone["contactId"] in expected
    assert set(deleted) == expected
    assert set(second.state["bookmarks"]) == {"contacts"}, "no bookmark of a stream not synced"
    record = deleted[gone["contactId"]]
    (found,) = [c for c in removed(sb.data) if c["contactId"] == gone["contactId"]]
    assert moment(record["_sdc_deleted_at"]) == moment(found["deletedOn"])
    assert record["changedOn"] == record["_sdc_deleted_at"]
    assert (record["email"], record["campaign"]["campaignId"]) == (
        gone["email"],
        gone["campaign"]["campaignId"],
    )
    tap = TapGetResponse(config={"api_key": "k"}, parse_env_config=False)
    assert "_sdc_deleted_at" in tap.streams["contacts"].schema["properties"]


def searches(sb) -> int:
    """Contact search requests the sandbox has answered so far (pages included)."""
    return sum(1 for r in sb.log if r.method == "POST" and r.path == removals.SEARCH_PATH)


def soft_deletes(result) -> dict[str, str]:
    return {
        r["contactId"]: r["_sdc_deleted_at"]
        for r in result.records["contacts"]
        if r.get("_sdc_deleted_at")
    }


def test_contacts_and_removed_contacts_share_one_removal_search_per_run(sb):
    for index in range(12):
        remove(sb, index, "cleaner", now() - DAY)
    config = sandbox_config(sb, page_size=5)
    both = ["contacts", "removed_contacts"]
    first = run_sync(config, streams=both)
    pages = -(-len(every_removed(sb)) // 5)
    assert pages > 1
    assert searches(sb) == pages, "a first run of contacts has no soft deletes to search for"
    remove(sb, 20, "api", now())
    remove(sb, 21, "unsubscribe", now())
    next_second()  # the removals fall inside the second run's window
    pages = -(-len(every_removed(sb)) // 5)
    before = searches(sb)
    second = run_sync(config, streams=both, state=first.state)
    assert searches(sb) - before == pages, "one search (every page of it once) for both streams"
    # Each stream emits, and bookmarks, what it does when it runs alone.
    contacts_alone = run_sync(config, streams=["contacts"], state=first.state)
    removed_alone = run_sync(config, streams=["removed_contacts"], state=first.state)
    assert len(soft_deletes(second)) >= 2
    assert soft_deletes(second) == soft_deletes(contacts_alone)
    assert sorted(second.ids("removed_contacts", "contactId")) == sorted(
        removed_alone.ids("removed_contacts", "contactId")
    )
    for name, alone in (("contacts", contacts_alone), ("removed_contacts", removed_alone)):
        assert second.state["bookmarks"][name] == alone.state["bookmarks"][name]


def test_a_refused_removal_search_is_sent_once_and_stops_both_streams_not_the_run(sb):
    remove(sb, 3, "bounce", now() - DAY)
    config = sandbox_config(sb)
    both = ["contacts", "removed_contacts", "campaigns"]
    first = run_sync(config, streams=both)
    next_second()
    sb.faults.fail_next(1, status=400, path=removals.SEARCH_PATH)
    before = searches(sb)
    result, problems = sync_checked(config, both, first.state)
    assert searches(sb) - before == 1
    request = "GetResponse API 400 (code 1000) on POST /search-contacts/contacts"
    assert problems == [
        f"Stream 'contacts' failed: {request}: Injected fault",
        f"Stream 'removed_contacts' failed: {request}: Injected fault",
    ]
    assert len(result.records["campaigns"]) == len(sb.data.campaigns), "the others went on"
    assert not result.records["removed_contacts"]
    assert not result.records["contacts"], "no soft deletes read: no contact, no bookmark moved"
    for name in ("contacts", "removed_contacts"):
        assert result.state["bookmarks"][name] == first.state["bookmarks"][name]
