"""Target: contacts/s and calls for new contacts vs the batch ceiling and a per-contact loader.

Three loads of the same new contacts, each into a fresh sandbox with GetResponse's documented
limits (§5.3: `POST /contacts/batch` 1 call/s and 80 per 10 minutes, 1000 contacts per call;
80 calls/s and 10 in flight for everything else):

- `target-getresponse` as users run it, a CLI reading Singer lines on stdin (wall time includes
  start-up, reading, resolving tags and custom fields, and the membership check);
- the batch ceiling: a bare loop posting pre-built 1000-contact batches through the shared
  rate governor, nothing else (and the documented 1000 contacts/s it cannot beat);
- a per-contact loader: one `POST /contacts` per contact from 10 threads under the same
  governor. It is measured on a sample sized to take about half a minute (20,000 contacts at
  80 calls/s is over four minutes; `--full` loads them all); its calls are one per contact.

`changes` measures removals (`process_deletes`) and tag replacements (`tags_mode` replace) of
contacts a list holds: one call per contact (`deleteContact`, `updateContact`), up to
`max_parallel_requests` at a time under the shared governor. Calls/s is counted by the sandbox
(those calls divided by first arrival to last answer), against min(80, 10 / latency).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tap_getresponse.api import GOVERNOR, GetResponseClient
from tests.benchmarks.harness import (
    TARGET,
    Figure,
    no_429s,
    rate_limited,
    ratio,
    run_process,
    say,
)
from tests.sandbox import Limits, Sandbox, Scale
from tests.target.conftest import customer, singer_lines

BATCH = 1000
#: §5.3: one batch call per second, 1000 contacts each.
DOCUMENTED_CEILING = 1000.0
#: Contacts the per-contact loader sends by default (about 25 s at 80 calls/s).
PER_CONTACT_SAMPLE = 2000


def campaign_of(sb: Sandbox) -> str:
    """The list every load adds to."""
    return str(sb.data.campaigns[1]["campaignId"])


def target_load(contacts: int, workdir: Path) -> tuple[float, int, int, int]:
    """target-getresponse over `contacts` new contacts: (seconds, calls, batch calls, 429s)."""
    lines = singer_lines([customer(i) for i in range(contacts)], state_every=5000).encode()
    with Sandbox(scale=Scale(contacts=0), seed=1, limits=Limits()) as sb:
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": campaign_of(sb),
            "rejects_file": str(workdir / "rejects.jsonl"),
        }
        path = workdir / "target.json"
        path.write_text(json.dumps(config))
        run = run_process([TARGET, "--config", str(path)], stdin=lines).check("target")
        on_list = sum(
            1
            for contact in sb.data.contacts
            if contact["campaign"]["campaignId"] == campaign_of(sb)
        )
        assert on_list == contacts, (on_list, contacts)
        batches = sum(1 for entry in sb.log if entry.path == "/contacts/batch")
        return run.seconds, len(sb.log), batches, rate_limited(sb)


def batch_loop(contacts: int) -> tuple[float, int]:
    """Pre-built batches posted back to back under the governor: (seconds, 429s)."""
    with Sandbox(scale=Scale(contacts=0), seed=1, limits=Limits()) as sb:
        client = GetResponseClient({"api_url": sb.url, "api_key": sb.api_key}, governor=GOVERNOR)
        campaign = campaign_of(sb)
        bodies = [
            {
                "campaignId": campaign,
                "contacts": [
                    {"email": customer(i)["email"], "name": customer(i)["name"]}
                    for i in range(start, min(start + BATCH, contacts))
                ],
            }
            for start in range(0, contacts, BATCH)
        ]
        started = time.monotonic()
        for body in bodies:
            client.request("POST", "/contacts/batch", json=body)
        return time.monotonic() - started, rate_limited(sb)


def per_contact_loop(contacts: int) -> tuple[float, int, int]:
    """One POST /contacts per contact, 10 at a time: (seconds, calls, 429s)."""
    with Sandbox(scale=Scale(contacts=0), seed=1, limits=Limits()) as sb:
        client = GetResponseClient({"api_url": sb.url, "api_key": sb.api_key}, governor=GOVERNOR)
        campaign = campaign_of(sb)

        def add(i: int) -> None:
            person = customer(i)
            body = {
                "email": person["email"],
                "name": person["name"],
                "campaign": {"campaignId": campaign},
            }
            client.request("POST", "/contacts", json=body)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(add, range(contacts)))
        return time.monotonic() - started, len(sb.log), rate_limited(sb)


def target(contacts: int, workdir: Path, *, full: bool) -> list[Figure]:
    """The three loads and their figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"target: {contacts:,} new contacts")
    seconds, calls, batches, target_429 = target_load(contacts, workdir)
    say("target: bare batch loop")
    loop_seconds, loop_429 = batch_loop(contacts)
    sample = contacts if full else min(contacts, PER_CONTACT_SAMPLE)
    say(f"target: per-contact loader over {sample:,}")
    single_seconds, single_calls, single_429 = per_contact_loop(sample)
    rate = contacts / seconds
    loop_rate = contacts / loop_seconds
    single_rate = sample / single_seconds
    per_contact_calls = round(single_calls * contacts / sample)
    name = f"target {contacts:,} new contacts"
    return [
        Figure(
            name,
            f"target-getresponse ({batches} batch calls)",
            f"{rate:,.0f} contacts/s",
            f"documented ceiling {DOCUMENTED_CEILING:,.0f} contacts/s",
            ratio(rate, DOCUMENTED_CEILING),
            ">= 0.9x",
            rate >= 0.9 * DOCUMENTED_CEILING,
        ),
        Figure(
            name,
            "target-getresponse",
            f"{rate:,.0f} contacts/s",
            f"bare batch loop {loop_rate:,.0f} contacts/s",
            ratio(rate, loop_rate),
        ),
        Figure(
            name,
            "target-getresponse",
            f"{rate:,.0f} contacts/s",
            f"per-contact loader {single_rate:,.0f} contacts/s ({sample:,} sent)",
            ratio(rate, single_rate),
        ),
        Figure(
            name,
            "API calls",
            f"{calls} calls",
            f"per-contact loader {per_contact_calls:,} calls",
            ratio(per_contact_calls, calls),
            ">= 100x fewer",
            per_contact_calls >= 100 * calls,
        ),
        Figure(
            name,
            "429 answers",
            f"target {target_429}, loop {loop_429}, per-contact {single_429}",
            floor="0 (target)",
            met=target_429 == 0,
        ),
    ]


# -- removals and tag replacements: one call per contact, in parallel under the governor ----------

#: GetResponse's limits (https://apidocs.getresponse.com/v3/limits): calls/s and in flight.
PER_SECOND = 80
IN_FLIGHT = 10
DELETED_AT = "2026-01-02T03:04:05+00:00"
CHANGES_SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
#: What each kind of change sends: its records, its settings, and the calls that do the work.
CHANGES = {
    "removals": (
        lambda email: {"email": email, "_sdc_deleted_at": DELETED_AT},
        {"process_deletes": True},
        lambda entry: entry.method == "DELETE",
    ),
    "tag replacements": (
        lambda email: {"email": email, "tags": ["newsletter", "beta"]},
        {"tags_mode": "replace"},
        lambda entry: entry.method == "POST" and entry.path.count("/") == 2,
    ),
}


def change_rate(sb: Sandbox, kind: str) -> tuple[int, float]:
    """The change's calls in the sandbox log and their rate: first arrival to last answer."""
    is_change = CHANGES[kind][2]
    calls = [entry for entry in sb.log if is_change(entry)]
    if not calls:
        return 0, 0.0
    first = min(entry.started for entry in calls)
    last = max(entry.finished or entry.started for entry in calls)
    return len(calls), len(calls) / max(last - first, 1e-9)


def change_load(kind: str, contacts: int, latency: float, workdir: Path) -> tuple[int, float, int]:
    """target-getresponse changing `contacts` contacts a list holds: (calls, calls/s, 429s)."""
    make_record, settings, _ = CHANGES[kind]
    emails = [customer(i)["email"] for i in range(contacts)]
    lines = singer_lines([make_record(e) for e in emails], schema=CHANGES_SCHEMA).encode()
    with Sandbox(scale=Scale(contacts=0), seed=1, limits=Limits(), latency=latency) as sb:
        campaign = campaign_of(sb)
        vip = next(str(tag["tagId"]) for tag in sb.data.tags if tag["name"] == "vip")
        for email in emails:
            sb.data.add_contact(email, campaign, name="Listed", tags=[vip])
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": campaign,
            "rejects_file": str(workdir / "rejects.jsonl"),
            "fail_on_reject": True,
            **settings,
        }
        path = workdir / "target.json"
        path.write_text(json.dumps(config))
        run_process([TARGET, "--config", str(path)], stdin=lines).check("target")
        left = [c for c in sb.data.contacts if c["campaign"]["campaignId"] == campaign]
        if kind == "removals":
            assert not left, f"{len(left)} contacts still on the list"
        else:
            assert len(left) == contacts
            assert all({t["name"] for t in c["tags"]} == {"newsletter", "beta"} for c in left)
        calls, rate = change_rate(sb, kind)
        assert calls == contacts, (kind, calls, contacts)
        return calls, rate, rate_limited(sb)


def changes(contacts: int, latencies: list[float], workdir: Path) -> list[Figure]:
    """Removals and tag replacements at each latency: calls/s against min(80, 10 / latency)."""
    figures = []
    for kind in CHANGES:
        for latency in latencies:
            label = f"{latency * 1000:.0f} ms"
            ceiling = min(PER_SECOND, IN_FLIGHT / latency) if latency else PER_SECOND
            say(f"target {kind} at {label}: {contacts:,} contacts")
            workdir.mkdir(parents=True, exist_ok=True)
            calls, rate, limited = change_load(kind, contacts, latency, workdir)
            name = f"target {kind} {contacts:,}"
            figures += [
                Figure(
                    name,
                    f"{label}, default ({calls:,} calls)",
                    f"{rate:.1f} calls/s",
                    f"ceiling min(80, 10/latency) = {ceiling:.1f}",
                    ratio(rate, ceiling),
                    ">= 0.9x",
                    rate >= 0.9 * ceiling,
                ),
                no_429s(name, label, limited),
            ]
    return figures
