"""Keys and defaults that don't trap users: keys never empty, per-contact streams opt-in."""

from __future__ import annotations

import json
import subprocess

from tap_getresponse.streams.contacts import NO_ID
from tests.sandbox import Scale
from tests.tap.conftest import TAP, run_sync, sandbox_config, write_json

PER_CONTACT = {"contact_details", "contact_activities"}


def test_no_key_property_is_empty_or_null_in_any_stream(make_sandbox):
    sb = make_sandbox(scale=Scale(contacts=120))
    result = run_sync(sandbox_config(sb))
    keys = {
        message["stream"]: message["key_properties"]
        for message in result.messages
        if message["type"] == "SCHEMA"
    }
    assert set(result.records) >= PER_CONTACT
    empty = [
        (stream, key, record)
        for stream, records in result.records.items()
        for record in records
        for key in keys[stream]
        if record.get(key) in {None, ""}
    ]
    assert not empty, empty[:5]
    activities = result.records["contact_activities"]
    clicks = [a for a in activities if a["activity"] == "click"]
    others = [a for a in activities if a["activity"] != "click"]
    assert clicks, "the sandbox seeds clicks"
    assert all(a["clickTrackId"] != NO_ID for a in clicks)
    assert others, "the sandbox seeds sends and opens"
    assert all(a["clickTrackId"] == NO_ID for a in others)


def test_discover_leaves_the_per_contact_streams_unselected(sandbox, tmp_path):
    config = write_json(tmp_path / "config.json", sandbox_config(sandbox))
    found = subprocess.run(
        [TAP, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    roots = {
        entry["tap_stream_id"]: root["metadata"]
        for entry in json.loads(found.stdout)["streams"]
        for root in entry["metadata"]
        if not root["breadcrumb"]
    }
    assert set(roots) > PER_CONTACT
    for name, root in roots.items():
        chosen = name not in PER_CONTACT
        assert root["selected-by-default"] is chosen, name
        assert root["selected"] is chosen, name


def test_details_selected_later_are_filled_in_for_every_contact(make_sandbox):
    sb = make_sandbox(scale=Scale(contacts=150))
    config = sandbox_config(sb)
    first = run_sync(config, streams=["contacts"])
    contacts = set(first.ids("contacts", "contactId"))
    assert first.state["bookmarks"]["contacts"]["replication_key_value"]
    second = run_sync(config, streams=["contacts", "contact_details"], state=first.state)
    assert set(second.ids("contact_details", "contactId")) == contacts
    # Once: the next run reads from both bookmarks again (less the lookback), not from the start.
    third = run_sync(config, streams=["contacts", "contact_details"], state=second.state)
    assert len(third.records["contact_details"]) < len(contacts)
    assert len(third.records["contacts"]) == len(third.records["contact_details"])
