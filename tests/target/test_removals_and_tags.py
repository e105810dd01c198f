"""Removals (`_sdc_deleted_at`, `process_deletes`) and exact tags (`tags_mode`), via the sandbox."""

from __future__ import annotations

from tests.sandbox import Scale
from tests.target.conftest import (
    StampedOutput,
    adds_up,
    customer,
    full_emails,
    rejects,
    singer_lines,
)

FEW = Scale(contacts=20)
DELETED = {"_sdc_deleted_at": "2026-01-02T03:04:05+00:00"}
SCHEMA_DELETES = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def emails(*numbers: int) -> list[str]:
    return [f"customer{i}@shop.example.org" for i in numbers]


def on_list(sb, email: str) -> bool:
    return bool(sb.data.contacts.find(email, sb.data.campaigns[0]["campaignId"]))


def tag_names(sb, email: str) -> set[str]:
    [contact] = sb.data.contacts.find(email, sb.data.campaigns[0]["campaignId"])
    return {tag["name"] for tag in contact["tags"]}


def deletes(sb) -> list[str]:
    return [entry.path for entry in sb.log if entry.method == "DELETE"]


def loaded(sb, run_target, count: int = 6):
    """A list holding customer0..customer{count-1} (and the sandbox's own contacts)."""
    first = run_target(sb, singer_lines([customer(i) for i in range(count)]))
    assert first.returncode == 0, first.stderr
    return first


def removal_input() -> str:
    """customer0 and customer1 deleted, customer2 as it was, a deleted one never on the list."""
    records = [
        {"email": emails(0)[0], **DELETED},
        {"email": emails(1)[0], **DELETED},
        {"email": emails(2)[0], "name": "Customer 2"},
        {"email": "never.there@shop.example.org", **DELETED},
    ]
    return singer_lines(records, schema=SCHEMA_DELETES)


def test_removals_take_only_the_deleted_records_contacts_off_the_list(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    before = len(sb.data.contacts_store)
    run = run_target(sb, removal_input(), process_deletes=True)
    assert run.returncode == 0, run.stderr
    assert not on_list(sb, emails(0)[0])
    assert not on_list(sb, emails(1)[0])
    assert all(on_list(sb, email) for email in emails(2, 3, 4, 5))
    assert len(sb.data.contacts_store) == before - 2  # nobody else removed
    assert len(deletes(sb)) == 2
    assert run.summary["removed"] == 3  # the one never on the list is already gone: a success
    assert run.summary["existing"] == 1
    assert run.summary["deletes_skipped"] == 0
    assert adds_up(run.summary), run.summary
    assert run.states, "STATE passed on after the removals"
    assert not full_emails(run.stderr)


def test_deleted_records_are_skipped_while_process_deletes_is_off(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    run = run_target(sb, removal_input())
    assert run.returncode == 0, run.stderr
    assert all(on_list(sb, email) for email in emails(0, 1, 2))
    assert deletes(sb) == []
    assert run.summary["deletes_skipped"] == 3
    assert run.summary["removed"] == 0
    assert adds_up(run.summary), run.summary


def test_a_rerun_removes_nothing_twice(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    first = run_target(sb, removal_input(), process_deletes=True)
    before = len(sb.data.contacts_store)
    second = run_target(sb, removal_input(), process_deletes=True)
    assert first.returncode == second.returncode == 0, second.stderr
    assert len(deletes(sb)) == 2  # all from the first run
    assert len(sb.data.contacts_store) == before
    assert second.summary["removed"] == 3
    assert adds_up(second.summary), second.summary


def test_a_contact_gone_between_lookup_and_delete_is_a_success(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    sb.faults.fail_next(1, status=404, path="/contacts/*")
    run = run_target(sb, removal_input(), process_deletes=True)
    assert run.returncode == 0, run.stderr
    assert run.summary["removed"] == 3
    assert run.summary["rejected"] == 0
    assert adds_up(run.summary), run.summary


def test_a_refused_removal_is_a_reject_with_the_apis_reason(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    sb.faults.fail_next(1, status=400, path="/contacts/*")
    run = run_target(sb, removal_input(), process_deletes=True)
    assert run.returncode == 0, run.stderr
    assert run.summary["rejected"] == 1
    assert run.summary["removed"] == 2
    assert adds_up(run.summary), run.summary
    [reject] = rejects(tmp_path)
    assert reject["reason"].startswith("could not be removed: ")
    assert reject["email"] == "***@shop.example.org"


def test_a_contact_added_earlier_in_the_run_is_removed_once_visible(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW, async_delay=0.3)  # batch adds show up 0.3 s after the 202
    email = emails(50)[0]
    records = [{"email": email, "name": "Short stay"}, {"email": email, **DELETED}]
    lines = singer_lines(records, schema=SCHEMA_DELETES, state_every=1)
    run = run_target(sb, lines, process_deletes=True, batch_size_rows=1)
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == run.summary["removed"] == 1
    assert len(deletes(sb)) == 1
    assert not on_list(sb, email)
    assert adds_up(run.summary), run.summary


def test_dry_run_lists_what_it_would_remove(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    run = run_target(sb, removal_input(), process_deletes=True, dry_run=True)
    assert run.returncode == 0, run.stderr
    assert deletes(sb) == []
    assert all(on_list(sb, email) for email in emails(0, 1))
    assert run.stderr.count("Dry run: would remove ***@shop.example.org from list") == 2
    assert run.summary["removed"] == 3
    assert adds_up(run.summary), run.summary


def test_state_follows_the_removals_before_it(make_sandbox, run_in_process):
    sb = make_sandbox(scale=FEW)
    run_in_process(sb, singer_lines([customer(i) for i in range(4)]))
    records = [{"email": email, **DELETED} for email in emails(0, 1, 2)]
    seen_on_list: list[bool] = []
    out = StampedOutput()
    out.before_write = lambda _: seen_on_list.append(on_list(sb, emails(0)[0]))
    run = run_in_process(
        sb,
        singer_lines(records, schema=SCHEMA_DELETES, state_every=1),
        stdout=out,
        process_deletes=True,
    )
    assert run.exit_code == 0
    assert seen_on_list, "no STATE was passed on"
    assert not any(seen_on_list)  # the first STATE comes after customer0's removal
    assert adds_up(run.summary), run.summary


def test_tags_replace_leaves_exactly_the_records_tags(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)  # odd customers carry vip, even ones new_customers
    records = [
        customer(1, tags=["new_customers"]),  # vip goes
        customer(2, tags=[]),  # new_customers goes
        {"email": emails(3)[0], "name": "No tags property"},  # left alone
        customer(40, tags=["vip"]),  # new: tags as today
    ]
    run = run_target(sb, singer_lines(records), tags_mode="replace")
    assert run.returncode == 0, run.stderr
    assert tag_names(sb, emails(1)[0]) == {"new_customers"}
    assert tag_names(sb, emails(2)[0]) == set()
    assert tag_names(sb, emails(3)[0]) == {"vip"}
    assert tag_names(sb, emails(40)[0]) == {"vip"}
    assert run.summary["updated"] == 2
    assert run.summary["existing"] == 1
    assert run.summary["added"] == 1
    assert adds_up(run.summary), run.summary


def test_tags_replace_with_upsert(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    records = [customer(1, name="Renamed", tags=["new_customers"])]
    run = run_target(sb, singer_lines(records), tags_mode="replace", load_method="upsert")
    assert run.returncode == 0, run.stderr
    assert tag_names(sb, emails(1)[0]) == {"new_customers"}
    [contact] = sb.data.contacts.find(emails(1)[0], sb.data.campaigns[0]["campaignId"])
    assert contact["name"] == "Renamed"
    assert run.summary["updated"] == 1
    assert adds_up(run.summary), run.summary


def test_tags_add_keeps_the_contacts_other_tags(make_sandbox, run_target):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    run = run_target(sb, singer_lines([customer(1, tags=["new_customers"])]), load_method="upsert")
    assert run.returncode == 0, run.stderr
    assert tag_names(sb, emails(1)[0]) == {"vip", "new_customers"}
    assert adds_up(run.summary), run.summary


def test_a_refused_tag_replacement_is_a_reject(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW)
    loaded(sb, run_target)
    sb.faults.fail_next(1, status=400, path="/contacts/*")
    records = [customer(1, tags=["new_customers"]), customer(3, tags=["new_customers"])]
    run = run_target(sb, singer_lines(records), tags_mode="replace")
    assert run.returncode == 0, run.stderr
    assert run.summary["rejected"] == run.summary["updated"] == 1
    assert adds_up(run.summary), run.summary
    [reject] = rejects(tmp_path)
    assert reject["reason"].startswith("GetResponse API 400")


def test_removals_in_later_batches_find_members_moved_up_a_page(make_sandbox, run_target):
    # 1,100 members: two pages of 1000. The first batch removes 600 found on page 1; then the
    # remaining members fill one page, and reading on from page 2 would find none of the rest.
    sb = make_sandbox(scale=Scale(contacts=0))
    campaign = sb.data.campaigns[0]["campaignId"]
    listed = [f"member{i}@shop.example.org" for i in range(1_100)]
    for email in listed:
        sb.data.add_contact(email, campaign)
    records = [{"email": email, **DELETED} for email in listed]
    lines = singer_lines(records, schema=SCHEMA_DELETES)
    run = run_target(sb, lines, process_deletes=True, batch_size_rows=600)
    assert run.returncode == 0, run.stderr
    assert [c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign] == []
    assert len(deletes(sb)) == 1_100
    assert run.summary["removed"] == 1_100
    assert adds_up(run.summary), run.summary
