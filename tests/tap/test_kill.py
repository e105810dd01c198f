"""A run killed at any point and rerun from its last STATE loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from tests.sandbox import Scale
from tests.tap.conftest import TAP, catalog_for, run_sync, sandbox_config, write_json

SCALE = Scale(contacts=240, newsletters=8, campaigns=3, tags=30, activities_per_contact=3)
STREAMS = (
    "contacts",
    "contact_details",
    "tags",
    "newsletter_statistics",
    "campaign_subscription_statistics",
    "contact_activities",
)
KEYS = {
    "contacts": ("contactId",),
    "contact_details": ("contactId",),
    "tags": ("tagId",),
    "newsletter_statistics": ("newsletterId", "intervalStart"),
    "campaign_subscription_statistics": ("campaignId", "date", "origin"),
    "contact_activities": ("contactId", "activity", "createdOn", "resourceId", "clickTrackId"),
}


def keys(result, stream):
    return {tuple(r[k] for k in KEYS[stream]) for r in result.records[stream]}


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=SCALE, seed=21)


@pytest.fixture
def complete(sb):
    return run_sync(sandbox_config(sb, page_size=25), streams=STREAMS)


@pytest.mark.parametrize("killed_after", [1, 30, 260, 700, 1500, 4000])
def test_rerun_from_the_last_state_of_a_killed_run_loses_nothing(sb, complete, killed_after):
    config = sandbox_config(sb, page_size=25)
    killed = run_sync(config, streams=STREAMS, limit=killed_after)
    assert sum(len(v) for v in killed.records.values()) <= killed_after
    state = killed.states[-1] if killed.states else {}
    rerun = run_sync(config, streams=STREAMS, state=state)
    for stream in STREAMS:
        missing = keys(complete, stream) - keys(killed, stream) - keys(rerun, stream)
        assert not missing, (stream, sorted(missing)[:3])


def test_killed_process_resumes_from_its_last_state_line(sb, complete, tmp_path):
    config = write_json(tmp_path / "config.json", sandbox_config(sb, page_size=25))
    catalog = write_json(tmp_path / "catalog.json", catalog_for(config, STREAMS))
    command = [TAP, "--config", str(config), "--catalog", str(catalog)]
    total = sum(len(records) for records in complete.records.values())
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as tap:
        assert tap.stdout is not None
        records = 0
        for line in tap.stdout:
            lines.append(line)
            records += '"type":"RECORD"' in line
            if records >= total // 2:
                tap.send_signal(signal.SIGKILL)
                break
        tap.wait()
    states = [json.loads(line)["value"] for line in lines if '"type":"STATE"' in line]
    assert states, "the killed run wrote at least one STATE before dying"
    assert len(lines) < len(complete.messages)
    rerun = run_sync(sandbox_config(sb, page_size=25), streams=STREAMS, state=states[-1])
    first_part = [json.loads(line) for line in lines if line.endswith("\n")]
    seen = {
        stream: {
            tuple(m["record"][k] for k in KEYS[stream])
            for m in first_part
            if m.get("type") == "RECORD" and m["stream"] == stream
        }
        for stream in STREAMS
    }
    for stream in STREAMS:
        missing = keys(complete, stream) - seen[stream] - keys(rerun, stream)
        assert not missing, (stream, sorted(missing)[:3])
