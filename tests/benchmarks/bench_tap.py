"""Tap contacts: the record path against a bare loop, records/s against the API's; API calls.

One sandbox of `contacts` contacts with GetResponse's documented limits. Its pages (and as many
contact details, with custom fields) first go through memory_tap.py, no HTTP: the tap's record
path against a bare msgspec loop over the same pages and the SDK's default emission, each timed
from first page to last line. Then at each latency the tap runs with `max_parallel_requests=1`
and with its default; the default's stream rate (first `/contacts` request to last record) is
set against what the API allows: min(80 pages/s, 10 pages in flight / latency) x 1,000.
The call counts come from the sandbox's request log: a full sync of every stream but the two
per-contact ones, then a rerun with its state and nothing changed.
"""

from __future__ import annotations

import gc
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from http import HTTPStatus
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
from tests.benchmarks.memory_tap import FIELDS_SUFFIX
from tests.sandbox import Limits, Sandbox, Scale

if TYPE_CHECKING:
    from tests.sandbox.server import LoggedRequest

PAGE = 1000
#: GetResponse's limits: pages a second in a burst, requests in flight (README, rate limits).
BURST_PAGES = 80
IN_FLIGHT = 10
#: memory_tap.py's last stderr line.
MEMORY_LINE = re.compile(r"record path: (\d+) records in ([\d.]+) s")
#: Runs of the bare loop and the tap's record path, in turns, per in-memory figure.
PAIRS = 5
#: The per-contact streams (one request per contact) are measured in bench_details.
PER_CONTACT = {"contact_details", "contact_activities"}


def dump_pages(sb: Sandbox, path: Path) -> int:
    """Write every contacts page body, as the sandbox serves it, one per line; return the pages."""
    headers = {"X-Auth-Token": f"api-key {sb.api_key}"}
    count = 0
    with requests.Session() as session, path.open("wb") as out:
        while True:
            count += 1
            params: dict[str, str | int] = {
                "page": count,
                "perPage": PAGE,
                "sort[changedOn]": "asc",
            }
            response = session.get(f"{sb.url}/contacts", params=params, headers=headers, timeout=60)
            while response.status_code == HTTPStatus.TOO_MANY_REQUESTS:  # 80 a second at most
                time.sleep(1)
                response = session.get(
                    f"{sb.url}/contacts", params=params, headers=headers, timeout=60
                )
            response.raise_for_status()
            out.write(response.content.replace(b"\n", b"") + b"\n")
            if count >= int(response.headers["TotalPages"]):
                return count


def dump_details(sb: Sandbox, path: Path, count: int) -> None:
    """Pages of 1,000 `GET /contacts/{id}` answers of the first `count` contacts, and the fields.

    Built from the sandbox's own store (what it would answer, custom field values included)
    rather than asked for one by one; the account's custom fields go next to them.
    """
    store = sb.data.contacts_store
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, count, PAGE):
            page = [store.details(row) for row in range(start, min(count, start + PAGE))]
            out.write(json.dumps(page, separators=(",", ":")) + "\n")
    fields = [{k: v for k, v in f.items() if not k.startswith("_")} for f in sb.data.custom_fields]
    Path(f"{path}{FIELDS_SUFFIX}").write_text(json.dumps(fields), encoding="utf-8")


def in_memory(pages: Path, mode: str, stream: str = "contacts") -> float:
    """Records/s of one run of memory_tap.py (its own timing of the path)."""
    command = [sys.executable, "-m", "tests.benchmarks.memory_tap", str(pages), mode, stream]
    run = run_process(command).check(f"in-memory {mode} ({stream})")
    records, seconds = MEMORY_LINE.findall(run.stderr)[-1]
    assert run.records == int(records), (run.records, records)
    return int(records) / float(seconds)


def record_paths(sb: Sandbox, contacts: int, details: int, workdir: Path) -> list[Figure]:
    """The tap's record path in memory against the bare loop, for contacts and contact details."""
    pages, detail_pages = workdir / "pages.jsonl", workdir / "details.jsonl"
    dump_pages(sb, pages)
    dump_details(sb, detail_pages, details)
    say(f"in-memory record paths: {contacts:,} contacts, {details:,} contact details")
    sdk = in_memory(pages, "sdk")
    figures = [Figure("record path", "SDK default emission, contacts", f"{sdk:,.0f} rec/s")]
    for stream, source, count in (
        ("contacts", pages, contacts),
        ("contact_details", detail_pages, details),
    ):
        # In pairs, bare loop then tap, so that a busy spell of the machine slows both alike:
        # the ratio is the median of the pairs' ratios, the rates the medians of their runs.
        pairs = [
            (in_memory(source, "bare", stream), in_memory(source, "lean", stream))
            for _ in range(PAIRS)
        ]
        bare = statistics.median(b for b, _ in pairs)
        lean = statistics.median(tap for _, tap in pairs)
        paired = statistics.median(ratio(tap, b) for b, tap in pairs)
        name = f"{stream} {count:,}, in memory"
        figures.append(
            Figure(
                name,
                "tap's record path",
                f"{lean:,.0f} rec/s",
                f"bare msgspec loop {bare:,.0f} rec/s",
                paired,
                ">= 0.7x",
                paired >= 0.7,
            )
        )
        if stream == "contacts":
            figures.append(
                Figure(
                    name,
                    "tap's record path",
                    f"{lean:,.0f} rec/s",
                    f"SDK default emission {sdk:,.0f} rec/s",
                    ratio(lean, sdk),
                    ">= 1.3x",
                    lean >= 1.3 * sdk,
                )
            )
    return figures


def ceiling(latency: float) -> float:
    """Records/s the API allows: min(80 pages/s, 10 pages in flight / latency) x 1,000."""
    pages_per_second = min(BURST_PAGES, IN_FLIGHT / latency) if latency else BURST_PAGES
    return pages_per_second * PAGE


def stream_rate(sb: Sandbox, run: Run, contacts: int) -> float:
    """Records/s from the first `/contacts` request to the last record out (start-up left out)."""
    first = min(entry.started for entry in sb.log if entry.path == "/contacts")
    assert run.last_record_at is not None
    return contacts / max(run.last_record_at - first, 1e-9)


def throughput(
    contacts: int, latencies: list[float], workdir: Path, details: int = 0
) -> list[Figure]:
    """In-memory record paths; then records/s at each latency, sequential and parallel."""
    workdir.mkdir(parents=True, exist_ok=True)
    with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits()) as sb:
        figures = record_paths(sb, contacts, details or contacts, workdir)
        # Every contact is built by now (record_paths read them all) and kept for the rest of
        # the run: the collector need not walk them again. Its full passes over them held all
        # ten requests in flight in the sandbox (this process) for up to 0.3 s at a time.
        gc.freeze()
        try:
            tap = TapRunner(sb, workdir / "tap", ["contacts"])
            for latency in latencies:
                sb.latency = latency
                figures += at_latency(tap, contacts, latency)
        finally:
            gc.unfreeze()
    return figures


def at_latency(tap: TapRunner, contacts: int, latency: float) -> list[Figure]:
    """Sequential and parallel syncs at `latency`: process rates, stream rate against the API's."""
    label = f"{latency * 1000:.0f} ms"
    say(f"tap contacts at {label}: sequential, then parallel")
    sequential = tap.run(max_parallel_requests=1)
    seq_429 = rate_limited(tap.sb)
    parallel = tap.run()
    par_429 = rate_limited(tap.sb)
    for run in (sequential, parallel):
        assert run.records == contacts, run.records
    seq_rate, par_rate = contacts / sequential.seconds, contacts / parallel.seconds
    streamed, limit = stream_rate(tap.sb, parallel, contacts), ceiling(latency)
    floors = latency >= 0.3
    name = f"tap contacts {contacts:,}"
    return [
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
            f"{label}, default (10), first request to last record",
            f"{streamed:,.0f} rec/s",
            f"API ceiling {limit:,.0f} rec/s",
            ratio(streamed, limit),
            ">= 0.85x" if floors else "",
            streamed >= 0.85 * limit if floors else None,
        ),
        no_429s(name, label, seq_429, par_429),
    ]


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
        # Performance statistics answer range totals and re-ask their lookback days one by one
        # (streams/performance.py): counted apart, not against the 2 per partition.
        ranged = Counter({k: n for k, n in per_path.items() if "/statistics/" in str(k)})
        busiest, most = (per_path - ranged).most_common(1)[0]
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
                f"most on one path: {most} ({busiest}); performance items: "
                f"{max(ranged.values(), default=0)} at most",
                None,
                "<= 2 per stream/partition (performance streams apart)",
                most <= 2,
            ),
        ]
