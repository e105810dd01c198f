"""target-getresponse end to end through the sandbox: loads, rejects, reruns, limits, faults."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
from pathlib import Path

from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Limits, Scale
from tests.target.conftest import SCHEMA, TARGET, customer, full_emails, rejects, singer_lines

DATA = Path(__file__).parents[1] / "data"

FEW = Scale(contacts=20)
# The batch endpoint's own limits as documented, on an otherwise generous sandbox.
DOCUMENTED_BATCH = Limits(
    frame_calls=10_000_000,
    per_second=1_000_000,
    batch_per_second=1,
    batch_per_frame=80,
    reject_over_concurrency=False,
)


def on_list(sb, campaign_id: str, emails) -> dict[str, int]:
    return {email: len(sb.data.contacts.find(email, campaign_id)) for email in emails}


def test_contacts_land_with_custom_fields_and_tags(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(i, birthday=f"1990-01-0{1 + i % 9}") for i in range(25)]
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == 25
    assert run.summary["rejected"] == 0
    contact = sb.data.contacts.find("customer3@shop.example.org", campaign)[0]
    values = {value["name"]: value["value"] for value in contact["customFieldValues"]}
    assert values["customer_tier"] == ["gold"]
    assert values["lifetime_value"] == ["31.5"]
    assert values["birthday"] == ["1990-01-04"]
    assert {tag["name"] for tag in contact["tags"]} == {"vip"}
    assert any(tag["name"] == "new_customers" for tag in sb.data.tags)  # created on the way


def test_ten_thousand_contacts_land_exactly_within_batch_limits(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW, limits=DOCUMENTED_BATCH)
    campaign = sb.data.campaigns[1]["campaignId"]
    records = [customer(i) for i in range(10_000)]
    run = run_target(sb, singer_lines(records), campaign_id=campaign)
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == 10_000
    batches = [entry for entry in sb.log if entry.path == "/contacts/batch"]
    assert len(batches) == 10
    assert all(len(entry.body["contacts"]) <= 1000 for entry in batches)
    assert all(entry.status == 202 for entry in batches)
    # The sandbox enforces 1 call/s itself: every batch answered 202 proves the pacing held;
    # arrival times are only checked loosely, since thread scheduling jitters them.
    assert all(b.started - a.started >= 0.8 for a, b in itertools.pairwise(batches))
    counts = on_list(sb, campaign, (r["email"] for r in records))
    assert set(counts.values()) == {1}
    for record in records:
        [contact] = sb.data.contacts.find(record["email"], campaign)
        values = {v["name"]: v["value"] for v in contact["customFieldValues"]}
        assert values == {
            "customer_tier": [record["customer_tier"]],
            "lifetime_value": [f"{record['lifetime_value']:.1f}".removesuffix(".0")],
        }
        assert [tag["name"] for tag in contact["tags"]] == record["tags"]


def test_invalid_records_go_to_rejects_and_the_rest_load(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW)
    records = [customer(i) for i in range(5)]
    records += [
        {"email": "not-an-email", "name": "x"},
        {"name": "no email"},
        customer(7, lifetime_value="a lot"),
        customer(8, interests=["sport", "knitting"]),
        customer(9, campaign_id="no-such-list"),
    ]
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == 5
    assert run.summary["rejected"] == 5
    lines = rejects(tmp_path)
    assert len(lines) == 5
    reasons = " | ".join(line["reason"] for line in lines)
    assert "invalid email" in reasons
    assert "lifetime_value" in reasons
    assert "knitting" in reasons
    assert "no-such-list" in reasons
    # Emails are masked unless rejects_include_records is set; no full email in logs either.
    assert not re.search(r"customer\d+@", json.dumps(lines))
    assert full_emails(json.dumps(lines)) == []
    assert full_emails(run.stderr) == []


def test_rejects_include_records_when_asked(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW)
    run = run_target(
        sb, singer_lines([customer(1, lifetime_value="lots")]), rejects_include_records=True
    )
    [line] = rejects(tmp_path)
    assert line["record"]["email"] == "customer1@shop.example.org"
    assert full_emails(run.stderr) == []


def test_fail_on_reject_makes_the_exit_non_zero(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    run = run_target(sb, singer_lines([customer(1), {"email": "bad"}]), fail_on_reject=True)
    assert run.returncode != 0
    assert run.summary["added"] == 1


def test_rerun_is_idempotent(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(i) for i in range(40)]
    first = run_target(sb, singer_lines(records))
    second = run_target(sb, singer_lines(records))
    assert first.returncode == second.returncode == 0
    assert second.summary["existing"] == 40
    assert second.summary["added"] == 0
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}


def test_duplicate_emails_in_one_run_are_merged_last_wins(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(1, name="First"), customer(1, name="Second")]
    run = run_target(sb, singer_lines(records))
    assert run.summary["added"] == 1
    [contact] = sb.data.contacts.find("customer1@shop.example.org", campaign)
    assert contact["name"] == "Second"


def test_upsert_updates_existing_contacts(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    run_target(sb, singer_lines([customer(i) for i in range(6)]))
    changed = [customer(i, name=f"Renamed {i}", customer_tier="platinum") for i in range(6)]
    changed.append(customer(99))
    run = run_target(sb, singer_lines(changed), load_method="upsert")
    assert run.returncode == 0, run.stderr
    assert run.summary["updated"] == 6
    assert run.summary["added"] == 1
    contact = sb.data.contacts.find("customer2@shop.example.org", campaign)[0]
    assert contact["name"] == "Renamed 2"
    values = {value["name"]: value["value"] for value in contact["customFieldValues"]}
    assert values["customer_tier"] == ["platinum"]


def test_dry_run_writes_nothing(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    records = [customer(i, shoe_size=42) for i in range(5)] + [{"email": "bad"}]
    schema = {
        "type": "object",
        "properties": {**SCHEMA["properties"], "shoe_size": {"type": "integer"}},
    }
    run = run_target(
        sb, singer_lines(records, schema=schema), dry_run=True, create_missing_custom_fields=True
    )
    assert run.returncode == 0, run.stderr
    assert "Dry run: target-getresponse summary: received=6 sent=0 added=5" in run.stderr
    assert "rejected=1" in run.stderr
    assert "Dry run: would create tag 'new_customers'" in run.stderr
    assert "Dry run: would create custom field 'shoe_size' (number)" in run.stderr
    assert not [entry for entry in sb.log if entry.method == "POST"]


def test_missing_custom_fields_are_created_typed_from_the_schema(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    campaign = sb.data.campaigns[0]["campaignId"]
    extra = {
        "loyalty_points": {"type": ["integer", "null"]},
        "signup_day": {"type": ["string", "null"], "format": "date"},
        "member_since": {"type": ["string", "null"], "format": "date-time"},
        "favourite_colour": {"type": ["string", "null"]},
        "FavouriteFood": {"type": ["string", "null"]},
    }
    schema = {"type": "object", "properties": {**SCHEMA["properties"], **extra}}
    record = customer(
        1,
        loyalty_points=120,
        signup_day="2026-01-05",
        member_since="2026-01-05T09:30:00Z",
        favourite_colour="green",
        FavouriteFood="pizza",
    )
    run = run_target(sb, singer_lines([record], schema=schema), create_missing_custom_fields=True)
    assert run.returncode == 0, run.stderr
    types = {f["name"]: f["type"] for f in sb.data.custom_fields}
    assert {name: types.get(name) for name in extra} == {
        "loyalty_points": "number",
        "signup_day": "date",
        "member_since": "datetime",
        "favourite_colour": "string",
        "FavouriteFood": None,  # not a valid custom field name (lowercase, digits, _): ignored
    }
    [contact] = sb.data.contacts.find(record["email"], campaign)
    values = {v["name"]: v["value"] for v in contact["customFieldValues"]}
    assert values["loyalty_points"] == ["120"]
    assert values["member_since"] == ["2026-01-05 09:30:00"]
    assert values["favourite_colour"] == ["green"]


def test_unknown_tags_are_rejects_when_creation_is_off(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW)
    records = [customer(1), customer(2)]  # tags: vip (exists) and new_customers (does not)
    run = run_target(sb, singer_lines(records), create_missing_tags=False)
    assert (run.summary["added"], run.summary["rejected"]) == (1, 1)
    [line] = rejects(tmp_path)
    assert "new_customers" in line["reason"]
    assert not any(tag["name"] == "new_customers" for tag in sb.data.tags)


def test_429_storms_and_5xx_lose_and_duplicate_nothing(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW, limits=Limits(per_second=3, reject_over_concurrency=False))
    campaign = sb.data.campaigns[0]["campaignId"]
    sb.faults.fail_next(2, status=503, path="/contacts/batch")
    sb.faults.fail_after_apply_next(1, path="/contacts/batch")  # applied, then answered 500
    records = [customer(i) for i in range(1500)]
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}
    assert any(entry.status == 429 for entry in sb.log)
    # The applied-then-500 batch was sent again: same contacts, nothing added twice.
    bodies = [json.dumps(e.body) for e in sb.log if e.path == "/contacts/batch"]
    assert len(bodies) > len(set(bodies))
    assert sum(result["unchanged"] for result in sb.data.batch_results) >= 1
    assert (run.summary["added"], run.summary["rejected"]) == (1500, 0)
    assert full_emails(run.stderr) == []


def test_state_is_not_emitted_when_the_batch_was_not_accepted(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    sb.faults.fail_next(1, status=403, path="/contacts/batch")
    run = run_target(sb, singer_lines([customer(i) for i in range(3)]))
    assert run.returncode == 1
    assert run.states == []
    # One line that names the request, no traceback.
    assert "Load failed: GetResponse API 403 (code" in run.stderr
    assert "Traceback" not in run.stderr


def test_flat_records_from_a_singer_file(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW, seed=1)
    run = run_target(sb, (DATA / "target_flat_contacts.singer").read_text())
    assert run.returncode == 0, run.stderr
    assert run.states == [{"bookmarks": {"signups": {"loaded_through": "2026-03-01"}}}]
    [ignored] = [line for line in run.stderr.splitlines() if "ACTIVATE_VERSION" in line]
    assert "| INFO " in ignored
    assert (run.summary["received"], run.summary["added"], run.summary["rejected"]) == (4, 2, 2)
    [ann] = sb.data.contacts.find("ann@example.org", "2aVD")  # list `customers`, by name
    assert (ann["name"], ann["dayOfCycle"], ann["scoring"], ann["ipAddress"]) == (
        "Ann",
        "0",
        12,
        "203.0.113.7",
    )
    assert {tag["name"] for tag in ann["tags"]} == {"vip", "spring_sale"}
    values = {v["name"]: v["value"] for v in ann["customFieldValues"]}
    assert values == {
        "age": ["30-44"],
        "interests": ["sport", "books"],
        "birthday": ["1990-05-17"],
        "last_purchase": ["2026-03-01 08:15:00"],
        "lifetime_value": ["1250.5"],
    }
    [bob] = sb.data.contacts.find("bob@example.org", sb.data.campaigns[0]["campaignId"])
    assert [tag["name"] for tag in bob["tags"]] == ["vip"]  # given by id
    assert bob["customFieldValues"] == []  # favourite_colour is no custom field: ignored
    reasons = sorted(line["reason"] for line in rejects(tmp_path))
    assert reasons == ["custom field 'age' does not allow '12'", "invalid email address"]


def test_tap_shaped_records_from_a_singer_file(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW, seed=1)
    run = run_target(sb, (DATA / "target_tap_contacts.singer").read_text(), fail_on_reject=True)
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == 2
    [dora] = sb.data.contacts.find("dora@example.org", "sX4")
    assert (dora["name"], dora["dayOfCycle"], dora["scoring"]) == ("Dora", "4", 3)
    assert [tag["tagId"] for tag in dora["tags"]] == ["FqY4"]
    assert {v["customFieldId"]: v["value"] for v in dora["customFieldValues"]} == {
        "SKa": ["45-64"],
        "bB6": ["music", "travel"],
    }
    assert sb.data.contacts.find("ed@example.org", "sX4")


def test_killed_mid_run_then_rerun_loads_everything_once(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW, limits=DOCUMENTED_BATCH)
    campaign = sb.data.campaigns[0]["campaignId"]
    records = [customer(i) for i in range(4000)]
    config = tmp_path / "kill.json"
    config.write_text(
        json.dumps({"api_url": sb.url, "api_key": sb.api_key, "campaign_id": campaign})
    )
    process = subprocess.Popen(
        [TARGET, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(singer_lines(records))
    process.stdin.flush()
    while not any(entry.path == "/contacts/batch" for entry in sb.log):
        process.poll()
        assert process.returncode is None
    process.kill()
    process.wait()
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    partial = sum(on_list(sb, campaign, (r["email"] for r in records)).values())
    assert 0 < partial < 4000
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert set(on_list(sb, campaign, (r["email"] for r in records)).values()) == {1}


def test_no_secret_in_output(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW, api_key="very-secret-key-123")
    run = run_target(sb, singer_lines([customer(1)]))
    assert run.returncode == 0, run.stderr
    assert "very-secret-key-123" not in run.stdout + run.stderr


def test_generous_limits_default_is_not_used_here() -> None:
    assert GENEROUS_LIMITS.batch_per_second > DOCUMENTED_BATCH.batch_per_second


def test_verify_reports_contacts_refused_after_202(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW, async_delay=0.5)
    records = [customer(1), customer(2), {"email": "someone@refused.test", "name": "R"}]
    run = run_target(sb, singer_lines(records), verify=True, verify_timeout_seconds=3)
    assert run.returncode == 0, run.stderr
    assert run.summary["added"] == 2
    assert run.summary["rejected"] == 1
    [line] = rejects(tmp_path)
    assert line["reason"] == "not_visible_after_verify"
    assert line["email"] == "***@refused.test"


def test_a_tag_object_from_another_account_finds_its_tag_by_name(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW, seed=1)
    tag = sb.data.tags[0]
    foreign = {"tagId": "zz99", "name": tag["name"]}  # the id of another account's tag
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "tags": {"type": "array"}}}
    lines = singer_lines([customer(1, tags=[foreign])], schema=schema)
    run = run_target(sb, lines, fail_on_reject=True)
    assert run.returncode == 0, run.stderr
    [contact] = sb.data.contacts.find(customer(1)["email"], sb.data.campaigns[0]["campaignId"])
    assert [t["tagId"] for t in contact["tags"]] == [tag["tagId"]]
    assert not [t for t in sb.data.tags if t["name"] == "zz99"], "no tag named after the id"
