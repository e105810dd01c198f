"""Contacts and their children against the sandbox: paging, windows, incremental reruns, kills."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.sandbox import Scale
from tests.tap.conftest import next_second, run_sync, sandbox_config

CONTACT_STREAMS = ("contacts", "contact_details")


@pytest.fixture
def small(make_sandbox):
    return make_sandbox(scale=Scale(contacts=450), seed=3)


def test_full_sync_reads_every_contact_across_pages(small):
    result = run_sync(sandbox_config(small, page_size=40), streams=CONTACT_STREAMS)
    expected = {contact["contactId"] for contact in small.data.contacts}
    assert len(expected) == 450
    assert sorted(result.ids("contacts", "contactId")) == sorted(expected)
    assert sorted(result.ids("contact_details", "contactId")) == sorted(expected)
    pages = [r for r in small.log if r.path == "/contacts"]
    assert len(pages) == -(-450 // 40)
    assert {r.query["perPage"] for r in pages} == {"40"}
    details = [r for r in small.log if r.path.startswith("/contacts/")]
    assert len(details) == 450, "one detail call per contact, no more"


def test_contacts_window_filter_and_sort_are_sent(small):
    run_sync(sandbox_config(small, start_date="2020-01-01T00:00:00Z"), streams=["contacts"])
    (page,) = [r for r in small.log if r.path == "/contacts"]
    assert page.query["sort[changedOn]"] == "asc"
    assert page.query["query[changedOn][from]"] == "2020-01-01T00:00:00+0000"
    assert page.query["query[changedOn][to]"].endswith("+0000")
    assert page.query["perPage"] == "1000"


def test_details_carry_tags_and_custom_fields_and_follow_parent_order(small):
    result = run_sync(sandbox_config(small, page_size=100), streams=CONTACT_STREAMS)
    assert result.ids("contact_details", "contactId") == result.ids("contacts", "contactId")
    detail = result.records["contact_details"][0]
    assert {"tags", "customFieldValues", "geolocation"} <= set(detail)


def test_rerun_with_state_reads_new_and_changed_contacts_and_little_else(small, sync):
    config = sandbox_config(small, page_size=100)
    first = sync(config, streams=CONTACT_STREAMS)
    bookmark = first.state["bookmarks"]["contacts"]["replication_key_value"]
    assert bookmark == max(first.ids("contacts", "changedOn"))

    data = small.data
    contacts = list(data.contacts)
    updated = {c["contactId"] for c in contacts[:20]}
    for ident in updated:
        data.update_contact(ident, name="Renamed")
    deleted = {c["contactId"] for c in contacts[20:25]}
    for ident in deleted:
        data.delete_contact(ident)
    added = {data.add_contact(f"new.{i}@brand.test") for i in range(10)}
    next_second()

    second = sync(config, state=first.state, streams=CONTACT_STREAMS)
    live = [r for r in second.records["contacts"] if not r.get("_sdc_deleted_at")]
    seen = {r["contactId"] for r in live}
    assert updated | added <= seen
    assert not deleted & seen
    soft = {r["contactId"] for r in second.records["contacts"] if r.get("_sdc_deleted_at")}
    assert deleted <= soft, "contacts removed since the bookmark come as soft deletes"
    assert set(second.ids("contact_details", "contactId")) == seen
    assert all(
        r["name"] == "Renamed" for r in second.records["contacts"] if r["contactId"] in updated
    )
    # Only the lookback overlap is sent again: contacts changed in the hour before the bookmark.
    overlap = seen - updated - added
    lookback_from = _minus_minutes(bookmark, 60)
    expected_overlap = {
        r["contactId"]
        for r in first.records["contacts"]
        if r["changedOn"] >= lookback_from and r["contactId"] not in updated | deleted
    }
    assert overlap == expected_overlap
    assert len(overlap) < 0.05 * len(first.records["contacts"])


def _minus_minutes(stamp, minutes):
    moment = dt.datetime.fromisoformat(stamp) - dt.timedelta(minutes=minutes)
    return moment.isoformat()


def test_no_change_rerun_makes_one_call_and_emits_only_the_overlap(small, sync):
    config = sandbox_config(small, page_size=100)
    latest = max(c["changedOn"] for c in small.data.contacts)
    latest_ts = dt.datetime.strptime(latest, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    for minutes in (50, 30, 10):  # several records inside the lookback, below the bookmark
        small.data.add_contact(f"recent.{minutes}@brand.test", created_on=latest_ts - 60 * minutes)
    first = sync(config, streams=["contacts", "tags"])
    small.clear_log()
    second = sync(config, state=first.state, streams=["contacts", "tags"])
    calls = [r.path for r in small.log]
    assert calls.count("/contacts") == 1
    assert calls.count("/tags") == 1
    bookmark = first.state["bookmarks"]["contacts"]["replication_key_value"]
    assert all(r["changedOn"] >= _minus_minutes(bookmark, 60) for r in second.records["contacts"])
    assert len(second.records["contacts"]) >= 4
    assert second.state["bookmarks"]["contacts"] == first.state["bookmarks"]["contacts"]


def test_records_on_the_bookmark_are_read_again(small, sync):
    config = sandbox_config(small, lookback_minutes=0)
    first = sync(config, streams=["contacts"])
    bookmark = first.state["bookmarks"]["contacts"]["replication_key_value"]
    same_second = dt.datetime.fromisoformat(bookmark).timestamp()
    late = small.data.add_contact("late.arrival@brand.test", created_on=same_second)
    second = sync(config, state=first.state, streams=["contacts"])
    assert late in second.ids("contacts", "contactId")


@pytest.mark.parametrize("parallel", [1, 10], ids=lambda p: f"parallel={p}")
@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"seed={s}")
def test_changes_between_page_requests_lose_nothing(make_sandbox, sync, seed, parallel):
    sb = make_sandbox(scale=Scale(contacts=600), seed=seed)
    rng = random.Random(seed)
    before = {c["contactId"] for c in sb.data.contacts}
    touched: set[str] = set()
    inserted: set[str] = set()

    def mutate(request):
        if request.path != "/contacts" or "page" not in request.query:
            return
        alive = sorted({c["contactId"] for c in sb.data.contacts} - inserted)
        for ident in rng.sample(alive, 3):
            touched.add(ident)
            if rng.random() < 0.5:
                sb.data.delete_contact(ident)
            else:
                sb.data.update_contact(ident, note="changed mid-sync")
        inserted.add(sb.data.add_contact(f"mid.{len(inserted)}@brand.test"))

    sb.on_request = mutate
    config = sandbox_config(sb, page_size=25, max_parallel_requests=parallel)
    first = sync(config, streams=["contacts"])
    sb.on_request = None
    next_second()
    seen = set(first.ids("contacts", "contactId"))
    assert before - touched <= seen, "a contact nobody touched was skipped"
    changed = [r["changedOn"] for r in first.records["contacts"]]
    assert changed == sorted(changed)

    second = sync(config, state=first.state, streams=["contacts"])
    now_alive = {c["contactId"] for c in sb.data.contacts}
    assert now_alive <= seen | set(second.ids("contacts", "contactId"))
