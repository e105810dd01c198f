"""The loader in this process: batch limits, member lookups, upserts, fallbacks, STATE order."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from tap_getresponse.api import EndpointLimit
from tests.sandbox import Limits, Scale
from tests.target.conftest import StampedOutput, customer, rejects, singer_lines

FEW = Scale(contacts=20)


def on_list(sb, campaign_id: str, emails) -> dict[str, int]:
    return {email: len(sb.data.contacts.find(email, campaign_id)) for email in emails}


def calls(sb, method: str, path: str) -> list:
    return [e for e in sb.log if e.method == method and e.path == path]


def test_a_shrunk_batch_frame_is_kept_without_a_429(make_sandbox, run_in_process, governor_limits):
    # The documented 1 call/s and 80 per 10 minutes, with the frame shrunk to 3 calls per 3 s.
    governor_limits(
        EndpointLimit("POST", "/contacts/batch", per_second=1, per_frame=3, frame_seconds=3)
    )
    limits = Limits(
        frame_seconds=3,
        frame_calls=10_000_000,
        per_second=1_000_000,
        batch_per_second=1,
        batch_per_frame=3,
        reject_over_concurrency=False,
    )
    sb = make_sandbox(scale=FEW, limits=limits)
    campaign = sb.data.campaigns[1]["campaignId"]
    records = [customer(i) for i in range(7_000)]
    run = run_in_process(sb, singer_lines(records), campaign_id=campaign)
    assert run.exit_code == 0
    assert run.summary["added"] == 7_000
    batches = calls(sb, "POST", "/contacts/batch")
    assert len(batches) == 7
    assert all(entry.status == 202 for entry in batches)
    assert not any(entry.status == 429 for entry in sb.log)
    assert all(b.started - a.started >= 1.0 for a, b in itertools.pairwise(batches))
    assert all(d.started - a.started >= 3.0 for a, d in zip(batches, batches[3:], strict=False))
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}


@pytest.fixture(scope="module")
def big_list():
    """A list of ~6,000 members (6 pages), shared read-only by the lookup tests."""
    from tests.conftest import GENEROUS_LIMITS  # noqa: PLC0415
    from tests.sandbox import Sandbox  # noqa: PLC0415

    with Sandbox(scale=Scale(contacts=30_000), seed=3, limits=GENEROUS_LIMITS) as sb:
        sizes = {c["campaignId"]: 0 for c in sb.data.campaigns}
        for contact in sb.data.contacts:
            sizes[contact["campaign"]["campaignId"]] += 1
        campaign, size = max(sizes.items(), key=lambda item: item[1])
        members = [c["email"] for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign]
        yield sb, campaign, size, members


def test_a_few_contacts_into_a_big_list_are_looked_up_one_by_one(big_list, run_in_process):
    sb, campaign, size, members = big_list
    sb.clear_log()
    records = [{"email": members[-1], "name": "Old"}, customer(900_001), customer(900_002)]
    run = run_in_process(sb, singer_lines(records), campaign_id=campaign, dry_run=True)
    assert run.summary["existing"] == 1
    assert run.summary["added"] == 2
    pages = [e for e in calls(sb, "GET", "/contacts") if "query[email]" not in e.query]
    lookups = [e for e in calls(sb, "GET", "/contacts") if "query[email]" in e.query]
    assert math.ceil(size / 1000) >= 5
    assert [e.query["page"] for e in pages] == ["1"]
    assert len(lookups) <= 3
    assert all(e.query["additionalFlags"] == "exactMatch" for e in lookups)


def test_many_contacts_into_a_big_list_read_the_list_once(big_list, run_in_process):
    sb, campaign, size, members = big_list
    sb.clear_log()
    records = [{"email": email} for email in members[-20:]]
    records += [customer(i) for i in range(20)]
    run = run_in_process(sb, singer_lines(records), campaign_id=campaign, dry_run=True)
    assert run.summary["existing"] == 20
    assert run.summary["added"] == 20
    pages = [e for e in calls(sb, "GET", "/contacts") if "query[email]" not in e.query]
    assert sorted(int(e.query["page"]) for e in pages) == list(range(1, math.ceil(size / 1000) + 1))
    assert not [e for e in calls(sb, "GET", "/contacts") if "query[email]" in e.query]


def test_upsert_beyond_the_threshold_uses_one_import_before_the_state(
    make_sandbox, run_in_process, monkeypatch
):
    monkeypatch.setattr("target_getresponse.updates.UPSERT_IMPORT_THRESHOLD", 2)
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    for i in range(7):
        sb.data.add_contact(customer(i)["email"], campaign, name=f"Customer {i}")
    changed = [customer(i, name=f"Renamed {i}", customer_tier="platinum") for i in range(6)]
    # Two values of a multi-select field do not fit an import row: updated one by one.
    changed.append(customer(6, name="Renamed 6", interests=["sport", "music"]))
    out = StampedOutput()
    imports_done_when_state_written = []
    out.before_write = lambda _: imports_done_when_state_written.append(
        [e.status for e in sb.log if e.path.startswith("/imports")]
    )
    run = run_in_process(sb, singer_lines(changed), stdout=out, load_method="upsert")
    assert run.exit_code == 0
    assert run.summary["updated"] == 7
    assert len(calls(sb, "POST", "/imports")) == 1
    [import_call] = calls(sb, "POST", "/imports")
    assert len(import_call.body["contacts"]) == 4
    assert len([e for e in sb.log if e.method == "POST" and e.path.endswith("/custom-fields")]) == 3
    # The STATE went out after the import was created and polled to its end.
    [statuses] = imports_done_when_state_written
    assert statuses[0] == 201
    assert statuses[-1] == 200
    for i in range(7):
        [contact] = sb.data.contacts.find(customer(i)["email"], campaign)
        assert contact["name"] == f"Renamed {i}"
        values = {v["name"]: v["value"] for v in contact["customFieldValues"]}
        assert values.get("customer_tier") == (["platinum"] if i < 6 else ["gold"])


@pytest.mark.parametrize("load_method", ["add", "upsert"])
def test_the_same_email_in_two_batches(make_sandbox, run_in_process, load_method) -> None:
    sb = make_sandbox(scale=FEW, async_delay=0.3)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(1, name="First"), customer(2), customer(1, name="Last")]
    run = run_in_process(sb, singer_lines(records), batch_size_rows=2, load_method=load_method)
    assert run.exit_code == 0
    sb.data.flush()
    [contact] = sb.data.contacts.find(customer(1)["email"], campaign)
    if load_method == "add":
        # `add` leaves contacts on the list as they are, also ones this run added.
        assert (run.summary["added"], run.summary["existing"]) == (2, 1)
        assert contact["name"] == "First"
    else:
        assert (run.summary["added"], run.summary["updated"]) == (2, 1)
        assert contact["name"] == "Last"


@pytest.mark.parametrize("status", [400, 409])
def test_a_refused_batch_is_sent_one_by_one(make_sandbox, run_in_process, status) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    sb.faults.fail_next(1, status=status, path="/contacts/batch")
    records = [customer(i) for i in range(5)]
    run = run_in_process(sb, singer_lines(records))
    assert run.exit_code == 0
    assert run.summary["added"] == 5
    assert len(calls(sb, "POST", "/contacts")) == 5
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}


def test_single_creates_of_contacts_already_there_count_as_existing(
    make_sandbox, run_in_process
) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(i) for i in range(4)]

    def arrive_meanwhile(entry) -> None:
        # Between the member check and the single creates, two contacts arrive from elsewhere.
        if entry.path == "/contacts/batch" and entry.status is None:
            for record in records[:2]:
                if not sb.data.contacts.find(record["email"], campaign):
                    sb.data.add_contact(record["email"], campaign)

    sb.on_request = arrive_meanwhile
    sb.faults.fail_next(1, status=400, path="/contacts/batch")
    run = run_in_process(sb, singer_lines(records))
    sb.on_request = None
    assert (run.summary["added"], run.summary["existing"]) == (2, 2)
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}


def test_state_follows_the_batches_that_cover_it(make_sandbox, run_in_process, monkeypatch):
    # Drain at every record, so every STATE is emitted mid-run right after its drain.
    monkeypatch.setattr(
        "target_getresponse.target.TargetGetResponse._MAX_RECORD_AGE_IN_MINUTES", 0.0
    )
    sb = make_sandbox(scale=FEW)
    records = [customer(i) for i in range(12)]
    out = StampedOutput()
    violations: list[str] = []

    def check(line: str) -> None:
        done = json.loads(line)["bookmarks"]["customers"]["done"]
        accepted = {
            contact["email"]
            for entry in sb.log
            if entry.path == "/contacts/batch" and entry.status == 202
            for contact in entry.body["contacts"]
        }
        violations.extend(r["email"] for r in records[:done] if r["email"] not in accepted)

    out.before_write = check
    run = run_in_process(sb, singer_lines(records, state_every=3), stdout=out)
    assert run.exit_code == 0
    assert len(run.states) >= 4
    assert violations == []


def test_records_not_matching_their_schema_are_rejects(make_sandbox, run_in_process, tmp_path):
    sb = make_sandbox(scale=FEW)
    records = [customer(1), customer(2, lifetime_value={"not": "a number"})]
    run = run_in_process(sb, singer_lines(records))
    assert run.exit_code == 0
    assert (run.summary["added"], run.summary["rejected"]) == (1, 1)
    [line] = rejects(tmp_path)
    assert "schema" in line["reason"]
    assert line["email"] == "***@shop.example.org"


def test_batch_size_rows_above_1000_is_capped(make_sandbox, run_in_process) -> None:
    sb = make_sandbox(scale=FEW)
    records = [customer(i) for i in range(2_500)]
    run = run_in_process(sb, singer_lines(records), batch_size_rows=5_000)
    assert run.summary["added"] == 2_500
    assert [len(e.body["contacts"]) for e in calls(sb, "POST", "/contacts/batch")] == [
        1000,
        1000,
        500,
    ]


def test_activate_version_is_ignored_politely(make_sandbox, run_in_process) -> None:
    sb = make_sandbox(scale=FEW)
    lines = singer_lines([customer(1)])
    version = json.dumps({"type": "ACTIVATE_VERSION", "stream": "customers", "version": 1})
    lines += f"{version}\n{version}\n"
    run = run_in_process(sb, lines)
    assert run.exit_code == 0
    assert run.summary["added"] == 1


def test_verify_checks_few_missing_contacts_by_exact_lookups(make_sandbox, run_in_process):
    sb = make_sandbox(scale=Scale(contacts=3_000), seed=2, async_delay=0.2)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(1), {"email": "someone@refused.test"}]
    run = run_in_process(
        sb, singer_lines(records), campaign_id=campaign, verify=True, verify_timeout_seconds=2
    )
    assert (run.summary["added"], run.summary["rejected"]) == (1, 1)
    lookups = [e for e in calls(sb, "GET", "/contacts") if "query[email]" in e.query]
    assert lookups
    assert all(e.query["query[email]"] != customer(1)["email"] for e in lookups[-1:])
