"""Measure target-getresponse: contacts/s and API calls through the sandbox's documented limits.

    .venv/bin/python -m tests.target.bench_target [--contacts 20000] [--latency-ms 0]

The sandbox runs in this process with GetResponse's documented limits
(https://apidocs.getresponse.com/v3/limits: 30,000 calls per 10-minute frame, 80 calls/s, 10 in
flight; OpenAPI `createBatchContacts`: 1 call/s and 80 per frame, 1000 contacts per call); the
target runs as users run it, a CLI reading Singer lines on stdin.
Three runs: the first load, the same input again (all existing), and an upsert of 1,500 of them.
Not a test: it prints figures.
"""

# ruff: noqa: T201 - a measuring script: its output is the point

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.sandbox import Limits, Sandbox, Scale
from tests.target.conftest import TARGET, customer, singer_lines


def run(sb: Sandbox, lines: str, workdir: Path, **settings: object) -> tuple[float, dict[str, int]]:
    """One CLI run; wall seconds and its summary line."""
    config = {
        "api_url": sb.url,
        "api_key": sb.api_key,
        "campaign_id": sb.data.campaigns[1]["campaignId"],
        "rejects_file": str(workdir / "rejects.jsonl"),
        **settings,
    }
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    started = time.monotonic()
    result = subprocess.run(
        [TARGET, "--config", str(path)],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    seconds = time.monotonic() - started
    line = next(line for line in result.stderr.splitlines() if "summary:" in line)
    pairs = line.split("summary:", 1)[1].split()
    return seconds, {key: int(value) for key, value in (pair.split("=") for pair in pairs)}


def report(title: str, seconds: float, summary: dict[str, int], sb: Sandbox) -> None:
    """Print one run's figures."""
    batches = [e for e in sb.log if e.path == "/contacts/batch"]
    gaps = [b.started - a.started for a, b in itertools.pairwise(batches)]
    loaded = summary["added"] + summary["existing"] + summary["updated"]
    print(f"## {title}")
    print(f"  wall time        {seconds:8.1f} s")
    print(f"  contacts/s       {loaded / seconds:8.0f}   ({loaded} contacts handled)")
    print(f"  summary          {' '.join(f'{k}={v}' for k, v in summary.items())}")
    by_endpoint: dict[str, int] = {}
    for entry in sb.log:
        path = re.sub(r"^/(contacts|imports)/(?!batch$)[^/]+", r"/\1/{id}", entry.path)
        if entry.method == "GET" and "query[email]" in entry.query:
            path += " (exact-match lookup)"
        by_endpoint[f"{entry.method} {path}"] = by_endpoint.get(f"{entry.method} {path}", 0) + 1
    print(f"  calls seen       {len(sb.log)}: {by_endpoint}")
    print(f"  429 answers      {sum(1 for e in sb.log if e.status == 429)}")
    if batches:
        sizes = sorted({len(e.body["contacts"]) for e in batches})
        print(f"  batch calls      {len(batches)} (sizes {sizes})")
        print(
            f"  gaps between     {min(gaps, default=0):.2f} s min, {max(gaps, default=0):.2f} s max"
        )


def main() -> None:
    """Start the sandbox, run the three loads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    records = [customer(i, birthday="1990-01-02") for i in range(args.contacts)]
    lines = singer_lines(records, state_every=5_000)
    with (
        Sandbox(
            scale=Scale(contacts=0), seed=1, limits=Limits(), latency=args.latency_ms / 1000
        ) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        print(f"{args.contacts} contacts, documented limits, latency {args.latency_ms} ms")
        seconds, summary = run(sb, lines, workdir)
        report("first load (load_method=add)", seconds, summary, sb)
        sb.clear_log()
        seconds, summary = run(sb, lines, workdir)
        report("rerun of the same input (all existing)", seconds, summary, sb)
        sb.clear_log()
        changed = [customer(i, name=f"Renamed {i}", customer_tier="platinum") for i in range(1_500)]
        seconds, summary = run(sb, singer_lines(changed), workdir, load_method="upsert")
        report(
            "upsert of 1,500 existing (1,000 one by one, 500 by one import)", seconds, summary, sb
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
