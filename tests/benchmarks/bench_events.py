"""Target custom events: triggers/s against min(80, 10 / latency), and 429 answers.

`target-getresponse` as users run it triggers custom events (records of its `custom_events`
stream) into a sandbox with GetResponse's documented limits (80 calls/s, 10 in flight) and a
latency per request. Each event is one `triggerCustomEvent` call, up to `max_parallel_requests`
at a time under the shared governor, so the ceiling is min(80, 10 / latency) calls/s. The rate is
counted by the sandbox: trigger calls divided by first arrival to last answer. Events name their
contact by `contactId`, or (one row) by email, which adds the list's membership read.
"""

from __future__ import annotations

import json
import typing as t

from tests.benchmarks.harness import TARGET, Figure, no_429s, rate_limited, ratio, run_process, say
from tests.sandbox import Limits, Sandbox, Scale
from tests.target.conftest import singer_lines

if t.TYPE_CHECKING:
    from pathlib import Path

#: The documented limits: calls per second, and requests in flight.
PER_SECOND = 80.0
IN_FLIGHT = 10
TRIGGER = "/custom-events/trigger"
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "contactId": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "attributes": {"type": ["object", "null"]},
    },
}


def trigger_rate(sb: Sandbox) -> tuple[int, float]:
    """Answered trigger calls in the sandbox log and their rate: first arrival to last answer."""
    calls = [entry for entry in sb.log if entry.path == TRIGGER and entry.status == 201]
    if not calls:
        return 0, 0.0
    first = min(entry.started for entry in calls)
    last = max(entry.finished or entry.started for entry in calls)
    return len(calls), len(calls) / max(last - first, 1e-9)


def event_load(
    events: int, latency: float, workdir: Path, *, by_email: bool
) -> tuple[int, float, float, int]:
    """target-getresponse triggering `events` events: (calls, triggers/s, seconds, 429s)."""
    with Sandbox(scale=Scale(contacts=500), seed=1, limits=Limits(), latency=latency) as sb:
        campaign = str(sb.data.campaigns[0]["campaignId"])
        people = [c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign]
        records = [
            {
                "name": "lesson_finished",
                **(
                    {"email": people[i % len(people)]["email"]}
                    if by_email
                    else {"contactId": people[i % len(people)]["contactId"]}
                ),
                "attributes": {"score": i, "lesson_name": f"lesson {i % 12}"},
            }
            for i in range(events)
        ]
        lines = singer_lines(
            records, stream="custom_events", schema=SCHEMA, key_properties=(), state_every=1000
        )
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": campaign,
            "rejects_file": str(workdir / "rejects.jsonl"),
            "fail_on_reject": True,
        }
        path = workdir / "target.json"
        path.write_text(json.dumps(config))
        sb.clear_log()
        run = run_process([TARGET, "--config", str(path)], stdin=lines.encode()).check("target")
        calls, rate = trigger_rate(sb)
        assert calls == events == len(sb.data.triggered_events), (calls, events)
        return len(sb.log), rate, run.seconds, rate_limited(sb)


def events(count: int, latencies: list[float], workdir: Path) -> list[Figure]:
    """Triggers at each latency (by contactId; by email at the first): rate against the ceiling."""
    workdir.mkdir(parents=True, exist_ok=True)
    figures = []
    runs = [(latency, False) for latency in latencies] + [(latencies[0], True)]
    for latency, by_email in runs:
        label = f"{latency * 1000:.0f} ms" + (", by email" if by_email else "")
        ceiling = min(PER_SECOND, IN_FLIGHT / latency) if latency else PER_SECOND
        say(f"target events at {label}: {count:,} events")
        calls, rate, seconds, limited = event_load(count, latency, workdir, by_email=by_email)
        name = f"target events {count:,}"
        figures += [
            Figure(
                name,
                f"{label} ({calls:,} calls, {count / seconds:.1f} events/s overall)",
                f"{rate:.1f} triggers/s",
                f"ceiling min(80, 10/latency) = {ceiling:.1f}",
                ratio(rate, ceiling),
                ">= 0.9x",
                rate >= 0.9 * ceiling,
            ),
            no_429s(name, label, limited),
        ]
    return figures
