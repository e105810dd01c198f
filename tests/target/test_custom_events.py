"""Custom events (`custom_events_stream`): known, unknown and created events, via the sandbox."""

from __future__ import annotations

import json

from target_getresponse.rejects import OUTCOMES
from tests.sandbox import Scale
from tests.target.conftest import StampedOutput, customer, full_emails, rejects, singer_lines

FEW = Scale(contacts=30)
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "contactId": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "campaign_name": {"type": ["string", "null"]},
        "attributes": {
            "type": ["object", "null"],
            "properties": {
                "plan": {"type": ["string", "null"]},
                "seats": {"type": ["integer", "null"]},
                "renews_at": {"type": ["string", "null"], "format": "date-time"},
                "paid": {"type": ["boolean", "null"]},
            },
        },
    },
}


def event_lines(records: list[dict], **kwargs) -> str:
    kwargs.setdefault("schema", EVENT_SCHEMA)
    return singer_lines(records, stream="custom_events", key_properties=(), **kwargs)


def adds_up(summary: dict[str, int]) -> bool:
    """Every record received has exactly one outcome (the target's own list of them)."""
    return "abandoned" not in summary and summary["received"] == sum(
        summary[name] for name in OUTCOMES
    )


def first_list(sb) -> str:
    return sb.data.campaigns[0]["campaignId"]


def contacts_on(sb, campaign_id: str, count: int) -> list[dict]:
    return [c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign_id][:count]


def test_known_events_trigger_with_attributes_in_their_types(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    by_id, by_email = contacts_on(sb, first_list(sb), 2)
    other = sb.data.campaigns[1]
    [on_other] = contacts_on(sb, other["campaignId"], 1)
    records = [
        {
            "name": "order_shipped",
            "contactId": by_id["contactId"],
            "attributes": {"shipped_at": "2026-03-04", "express": "yes", "carrier": 7},
        },
        {"name": "lesson_finished", "email": by_email["email"], "attributes": {"score": "12"}},
        {"name": "newsletter_clicked", "email": on_other["email"], "campaign_name": other["name"]},
    ]
    result = run_target(sb, event_lines(records))
    assert result.returncode == 0, result.stderr
    summary = result.summary
    assert summary["triggered"] == 3
    assert summary["rejected"] == 0
    assert adds_up(summary)
    triggered = {e["name"]: e for e in sb.data.triggered_events}
    shipped = triggered["order_shipped"]
    assert shipped["contactId"] == by_id["contactId"]
    assert {a["name"]: a["value"] for a in shipped["attributes"]} == {
        "shipped_at": "2026-03-04T00:00:00+0000",
        "express": True,
        "carrier": "7",
    }
    assert triggered["lesson_finished"]["contactId"] == by_email["contactId"]
    assert triggered["lesson_finished"]["attributes"] == [{"name": "score", "value": 12}]
    assert triggered["newsletter_clicked"]["contactId"] == on_other["contactId"]
    assert full_emails(result.stderr) == []


def test_unknown_events_are_rejects_unless_creating_is_allowed(
    make_sandbox, run_target, tmp_path
) -> None:
    sb = make_sandbox(scale=FEW)
    [contact] = contacts_on(sb, first_list(sb), 1)
    records = [
        {"name": "plan_renewed", "contactId": contact["contactId"], "attributes": {"seats": 3}},
        {"name": "lesson_finished", "contactId": contact["contactId"]},
    ]
    result = run_target(sb, event_lines(records))
    assert result.returncode == 0, result.stderr
    assert (result.summary["triggered"], result.summary["rejected"]) == (1, 1)
    assert adds_up(result.summary)
    [reject] = rejects(tmp_path)
    assert reject["stream"] == "custom_events"
    assert "custom event 'plan_renewed' does not exist" in reject["reason"]
    assert "create_missing_custom_events" in reject["reason"]
    assert not any(e["name"] == "plan_renewed" for e in sb.data.collections["custom-events"])


def test_missing_events_are_created_typed_from_the_schema(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    first, second = contacts_on(sb, first_list(sb), 2)
    attributes = {"plan": "pro", "seats": 3, "renews_at": "2026-05-01T10:00:00+02:00", "paid": True}
    records = [
        {"name": "plan_renewed", "contactId": first["contactId"], "attributes": attributes},
        {"name": "plan_renewed", "contactId": second["contactId"], "attributes": {"seats": 4}},
        {"name": "Not A Name", "contactId": second["contactId"]},
        {"name": "lesson_booked", "contactId": second["contactId"], "attributes": {"At": 1}},
        {"name": "lesson_booked", "contactId": second["contactId"], "attributes": {"room": 1}},
    ]
    result = run_target(sb, event_lines(records), create_missing_custom_events=True)
    assert result.returncode == 0, result.stderr
    assert (result.summary["triggered"], result.summary["rejected"]) == (3, 2)
    assert adds_up(result.summary)
    booked = [e for e in sb.data.collections["custom-events"] if e["name"] == "lesson_booked"]
    assert [a["name"] for a in booked[0]["attributes"]] == ["room"]
    [created] = [e for e in sb.data.collections["custom-events"] if e["name"] == "plan_renewed"]
    types = {a["name"]: a["type"] for a in created["attributes"]}
    assert types == {
        "plan": "string",
        "seats": "number",
        "renews_at": "datetime",
        "paid": "boolean",
    }
    creates = [e for e in sb.log if e.method == "POST" and e.path == "/custom-events"]
    assert len(creates) == 2  # plan_renewed and lesson_booked, once each
    # Triggers run in parallel: found by contact, not by order.
    [renewed] = [
        e
        for e in sb.data.triggered_events
        if e["name"] == "plan_renewed" and e["contactId"] == first["contactId"]
    ]
    assert {a["name"]: a["value"] for a in renewed["attributes"]} == {
        "plan": "pro",
        "seats": 3,
        "renews_at": "2026-05-01T08:00:00+0000",
        "paid": True,
    }


def test_bad_values_and_unknown_contacts_are_rejects_naming_no_address(
    make_sandbox, run_target, tmp_path
) -> None:
    sb = make_sandbox(scale=FEW)
    [contact] = contacts_on(sb, first_list(sb), 1)
    secret = "hidden.person@private.example.org"
    ident = contact["contactId"]
    records = [
        {"name": "lesson_finished", "contactId": ident, "attributes": {"score": secret}},
        {"name": "lesson_finished", "contactId": ident, "attributes": {"score": 2.5}},
        {"name": "lesson_finished", "contactId": ident, "attributes": {"colour": 1}},
        {"name": "lesson_finished", "email": "nobody@shop.example.org"},
        {"name": "lesson_finished", "contactId": "doesNotExist"},
        {"name": "lesson_finished", "attributes": {"score": 1}},
        {"contactId": ident},
        {"name": "lesson_finished", "contactId": ident, "attributes": {"score": 9}},
    ]
    result = run_target(sb, event_lines(records))
    assert result.returncode == 0, result.stderr
    assert (result.summary["triggered"], result.summary["rejected"]) == (1, 7)
    assert adds_up(result.summary)
    # Read problems are rejected while reading, contacts and triggers on the sender: any order.
    reasons = sorted(r["reason"] for r in rejects(tmp_path))
    expected = [
        "attribute 'score' needs a number, got a string",
        "attribute 'score' needs a whole number",
        "has no attribute 'colour'",
        f"no contact with this email on list {first_list(sb)}",
        "contact doesNotExist does not exist",
        "neither `contactId` nor `email`",
        "missing required property 'name'",
    ]
    assert len(reasons) == len(expected)
    for part in expected:
        assert sum(part in reason for reason in reasons) == 1, (part, reasons)
    assert [e["attributes"] for e in sb.data.triggered_events] == [[{"name": "score", "value": 9}]]
    text = result.stderr + (tmp_path / "rejects.jsonl").read_text()
    assert secret not in text
    assert full_emails(text) == []


def test_contacts_and_definitions_are_read_once_per_run(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    people = contacts_on(sb, first_list(sb), 3)
    records = [
        {"name": "lesson_finished", "email": person["email"], "attributes": {"score": n}}
        for n in range(4)
        for person in people
    ]
    sb.clear_log()
    result = run_target(sb, event_lines(records, state_every=3), batch_size_rows=3)
    assert result.returncode == 0, result.stderr
    assert result.summary["triggered"] == 12
    lookups = [e for e in sb.log if e.method == "GET" and e.path == "/contacts"]
    # One page of the list, or one lookup per distinct email: never one per event.
    assert 1 <= len(lookups) <= len(people) + 1
    assert sum(1 for e in sb.log if e.path == "/custom-events") == 1
    assert sum(1 for e in sb.log if e.path == "/custom-events/trigger") == 12


def test_state_passes_on_after_the_events_before_it(make_sandbox, run_in_process) -> None:
    sb = make_sandbox(scale=FEW)
    people = contacts_on(sb, first_list(sb), 5)
    records = [{"name": "lesson_finished", "contactId": p["contactId"]} for p in people * 2]
    seen: list[tuple[int, int]] = []
    out = StampedOutput()

    def check(text: str) -> None:
        done = json.loads(text)["bookmarks"]["custom_events"]["done"]
        seen.append((done, len(sb.data.triggered_events)))

    out.before_write = check
    run = run_in_process(sb, event_lines(records, state_every=4), stdout=out, batch_size_rows=4)
    assert run.exit_code == 0
    # The SDK passes STATE on when it drains every sink: the events before it were sent by then.
    assert seen
    assert seen[-1] == (10, 10), seen
    assert all(triggered >= done for done, triggered in seen), seen


def test_an_event_for_a_contact_added_in_the_same_run(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    person = customer(1)
    contact_lines = singer_lines([person], state=False)
    events = event_lines([{"name": "lesson_finished", "email": person["email"]}])
    result = run_target(sb, contact_lines + events)
    assert result.returncode == 0, result.stderr
    assert (result.summary["added"], result.summary["triggered"]) == (1, 1)
    assert adds_up(result.summary)
    [added] = sb.data.contacts.find(person["email"], first_list(sb))
    assert sb.data.triggered_events[-1]["contactId"] == added["contactId"]


def test_dry_run_triggers_and_creates_nothing(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    [contact] = contacts_on(sb, first_list(sb), 1)
    records = [
        {"name": "lesson_finished", "contactId": contact["contactId"]},
        {"name": "plan_renewed", "contactId": contact["contactId"], "attributes": {"seats": 2}},
    ]
    result = run_target(sb, event_lines(records), dry_run=True, create_missing_custom_events=True)
    assert result.returncode == 0, result.stderr
    assert result.summary["triggered"] == 2
    assert sb.data.triggered_events == []
    assert not any(e.method == "POST" for e in sb.log)
    assert "would create custom event 'plan_renewed'" in result.stderr


def test_another_events_stream_name(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)
    [contact] = contacts_on(sb, first_list(sb), 1)
    record = {"name": "lesson_finished", "contactId": contact["contactId"]}
    lines = singer_lines([record], stream="app_events", schema=EVENT_SCHEMA, key_properties=())
    result = run_target(sb, lines, custom_events_stream="app_events")
    assert result.returncode == 0, result.stderr
    assert result.summary["triggered"] == 1
    assert len(sb.data.triggered_events) == 1


def test_a_record_outside_any_schema_is_a_reject_naming_its_property(
    make_sandbox, run_target, tmp_path
) -> None:
    sb = make_sandbox(scale=FEW)
    [contact] = contacts_on(sb, first_list(sb), 1)
    ident = contact["contactId"]
    records = [
        {"name": 7, "contactId": ident},
        {"name": "lesson_finished", "contactId": ident, "attributes": "score=9"},
    ]
    result = run_target(sb, event_lines(records, schema={"type": "object", "properties": {}}))
    assert result.returncode == 0, result.stderr
    assert (result.summary["triggered"], result.summary["rejected"]) == (0, 2)
    assert [r["reason"] for r in rejects(tmp_path)] == [
        "property 'name' (the custom event's name) must be text, got a number",
        "attributes must be an object keyed by attribute name",
    ]
