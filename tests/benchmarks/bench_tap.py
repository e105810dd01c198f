"""Tap contacts: records/s sequential vs parallel vs in-memory ceilings; API calls per sync.

One sandbox of `contacts` contacts with GetResponse's documented limits. At each latency the tap
runs with `max_parallel_requests=1` and with its default; the same pages then go through the two
in-memory taps of memory_tap.py (no HTTP): the SDK's default emission path and the tap's own.
The call counts come from the sandbox's request log: a full sync of every stream but the two
per-contact ones, then a rerun with its state and nothing changed.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from tests.benchmarks.harness import (
    Figure,
    Run,
    TapRunner,
    no_429s,
    rate_limited,
    ratio,
    run_process,
    say,
)
from tests.sandbox import Limits, Sandbox, Scale

if TYPE_CHECKING:
    from tests.sandbox.server import LoggedRequest

PAGE = 1000
#: The per-contact streams (one request per contact) are measured in bench_details.
PER_CONTACT = {"contact_details", "contact_activities"}


def dump_pages(sb: Sandbox, path: Path) -> int:
    """Write every contacts page body, as the sandbox serves it, one per line; return the pages."""
    headers = {"X-Auth-Token": f"api-key {sb.api_key}"}
    count = 0
    with requests.Session() as session, path.open("wb") as out:
        while True:
            count += 1
            params = {"page": count, "perPage": PAGE, "sort[changedOn]": "asc"}
            response = session.get(f"{sb.url}/contacts", params=params, headers=headers, timeout=60)
            response.raise_for_status()
            out.write(response.content.replace(b"\n", b"") + b"\n")
            if count >= int(response.headers["TotalPages"]):
                return count


def in_memory(pages: Path, mode: str) -> Run:
    """One run of memory_tap.py."""
    command = [sys.executable, "-m", "tests.benchmarks.memory_tap", str(pages), mode]
    return run_process(command).check(f"in-memory tap ({mode})")


def throughput(contacts: int, latencies: list[float], workdir: Path) -> list[Figure]:
    """Records/s at each latency, sequential and parallel, against both in-memory ceilings."""
    figures: list[Figure] = []
    workdir.mkdir(parents=True, exist_ok=True)
    with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits()) as sb:
        pages = workdir / "pages.jsonl"
        dump_pages(sb, pages)
        say(f"in-memory ceilings over {contacts} contacts")
        sdk = in_memory(pages, "sdk")
        lean = in_memory(pages, "lean")
        for run in (sdk, lean):
            assert run.records == contacts, run.records
        sdk_rate, lean_rate = contacts / sdk.seconds, contacts / lean.seconds
        name = f"tap contacts {contacts:,}"
        figures.append(
            Figure(
                "record path",
                "tap's record path, in memory",
                f"{lean_rate:,.0f} rec/s",
                f"SDK default emission {sdk_rate:,.0f} rec/s",
                ratio(lean_rate, sdk_rate),
                ">= 1.3x",
                lean_rate >= 1.3 * sdk_rate,
            )
        )
        tap = TapRunner(sb, workdir / "tap", ["contacts"])
        for latency in latencies:
            sb.latency = latency
            label = f"{latency * 1000:.0f} ms"
            say(f"tap contacts at {label}: sequential, then parallel")
            sequential = tap.run(max_parallel_requests=1)
            seq_429 = rate_limited(sb)
            parallel = tap.run()
            par_429 = rate_limited(sb)
            for run in (sequential, parallel):
                assert run.records == contacts, run.records
            seq_rate, par_rate = contacts / sequential.seconds, contacts / parallel.seconds
            floors = latency >= 0.3
            figures += [
                Figure(name, f"{label}, max_parallel_requests=1", f"{seq_rate:,.0f} rec/s"),
                Figure(
                    name,
                    f"{label}, default (10)",
                    f"{par_rate:,.0f} rec/s",
                    f"sequential {seq_rate:,.0f} rec/s",
                    ratio(par_rate, seq_rate),
                    ">= 4x" if floors else "",
                    par_rate >= 4 * seq_rate if floors else None,
                ),
                Figure(
                    name,
                    f"{label}, default (10)",
                    f"{par_rate:,.0f} rec/s",
                    f"SDK in-memory ceiling {sdk_rate:,.0f} rec/s",
                    ratio(par_rate, sdk_rate),
                    ">= 0.7x" if floors else "",
                    par_rate >= 0.7 * sdk_rate if floors else None,
                ),
                Figure(
                    name,
                    f"{label}, default (10)",
                    f"{par_rate:,.0f} rec/s",
                    f"tap's in-memory ceiling {lean_rate:,.0f} rec/s",
                    ratio(par_rate, lean_rate),
                ),
                no_429s(name, label, seq_429, par_429),
            ]
    return figures


def path_template(path: str) -> str:
    """`/newsletters/abc/statistics` -> `/newsletters/{id}/statistics`."""
    parts = path.strip("/").split("/")
    return "/" + "/".join(part if index % 2 == 0 else "{id}" for index, part in enumerate(parts))


def partition_of(entry: LoggedRequest) -> str:
    """What a call reads: its path, plus the list for per-list statistics (`query[campaignId]`).

    A contact search (`POST /search-contacts/contacts`) reads what its body asks for: removed
    and unconfirmed contacts are two reads of one path.
    """
    campaign = entry.query.get("query[campaignId]")
    target = f"{entry.path}?campaignId={campaign}" if campaign else entry.path
    return f"{target} {entry.body}" if entry.method == "POST" else target


def calls(contacts: int, workdir: Path) -> list[Figure]:
    """API calls for a full sync (vs pages needed) and for a no-change rerun."""
    with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits(), sms_enabled=True) as sb:
        tap = TapRunner(sb, workdir / "calls", exclude=PER_CONTACT)
        say(f"full sync of {len(tap.selected)} streams (all but {sorted(PER_CONTACT)})")
        full = tap.run()
        full_calls = Counter(path_template(entry.path) for entry in sb.log)
        needed = math.ceil(contacts / PAGE)
        say("no-change rerun with the saved state")
        rerun = tap.run(state=full.last_state)
        per_path = Counter(partition_of(entry) for entry in sb.log)
        busiest, most = per_path.most_common(1)[0]
        return [
            Figure(
                "API calls",
                f"full sync, contacts stream ({contacts:,} contacts)",
                f"{full_calls['/contacts']} calls to /contacts",
                f"{needed} pages needed",
                ratio(full_calls["/contacts"], needed),
                "pages + O(1)",
                full_calls["/contacts"] <= needed + 1,
            ),
            Figure(
                "API calls",
                f"full sync, {len(tap.selected)} streams",
                f"{full_calls.total()} calls, {full.records:,} records",
                f"{full_calls['/accounts']} of them clock/account reads",
            ),
            Figure(
                "API calls",
                f"no-change rerun, {len(tap.selected)} streams",
                f"{per_path.total()} calls, {len(per_path)} partitions, {rerun.records} records",
                f"most on one path: {most} ({busiest})",
                None,
                "<= 2 per stream/partition",
                most <= 2,
            ),
        ]
