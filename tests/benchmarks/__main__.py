"""`python -m tests.benchmarks [--only NAMES] [--quick] [--full]`: run benchmarks, print a table."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from tests.benchmarks.bench_details import details
from tests.benchmarks.bench_events import events
from tests.benchmarks.bench_memory import memory
from tests.benchmarks.bench_reports import reports
from tests.benchmarks.bench_tap import calls, throughput
from tests.benchmarks.bench_target import changes, target
from tests.benchmarks.harness import Figure, say, table

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: Sizes and latencies: as the issue names them, and a quick pass to try the suite out.
FULL_SIZES = {
    "contacts": 100_000,
    "details": 5_000,
    "wide": 20_000,
    "memory": [10_000, 100_000, 1_000_000],
    "target": 20_000,
    "target_changes": 2_000,
    "events": 3_000,
    "reports": 20_000,
}
QUICK_SIZES = {
    "contacts": 5_000,
    "details": 300,
    "wide": 2_000,
    "memory": [1_000, 5_000],
    "target": 2_000,
    "target_changes": 300,
    "events": 300,
    "reports": 2_000,
}
LATENCIES = {
    "tap": [0.0, 0.1, 0.3],
    "details": [0.1, 0.3],
    "target_changes": [0.0, 0.1, 0.3],
    "events": [0.0, 0.1, 0.3],
}
QUICK_LATENCIES = {
    "tap": [0.0, 0.05],
    "details": [0.05],
    "target_changes": [0.0, 0.1],
    "events": [0.0, 0.1],
}


def benchmarks(args: argparse.Namespace, workdir: Path) -> dict[str, Callable[[], list[Figure]]]:
    """Each benchmark by name, bound to this run's sizes."""
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    latencies = QUICK_LATENCIES if args.quick else LATENCIES
    return {
        "tap": lambda: throughput(
            sizes["contacts"], latencies["tap"], workdir / "tap", details=sizes["wide"]
        ),
        "calls": lambda: calls(sizes["contacts"], workdir / "calls"),
        "details": lambda: details(
            sizes["details"], latencies["details"], workdir / "details", full=args.full
        ),
        "memory": lambda: memory(sizes["memory"], workdir / "memory"),
        "target": lambda: target(sizes["target"], workdir / "target", full=args.full),
        "target_changes": lambda: changes(
            sizes["target_changes"], latencies["target_changes"], workdir / "target_changes"
        ),
        "events": lambda: events(sizes["events"], latencies["events"], workdir / "events"),
        "reports": lambda: reports(sizes["reports"], workdir / "reports"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; print the table; exit 1 if a floor was missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: tap,calls,details,memory,target,target_changes,events,reports",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the suite out")
    parser.add_argument("--full", action="store_true", help="no sampling of the slow baselines")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="getresponse-bench-") as tmp:
        chosen = benchmarks(args, Path(tmp))
        names = [name for name in args.only.split(",") if name] or list(chosen)
        unknown = sorted(set(names) - set(chosen))
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; choose from {sorted(chosen)}")
        figures: list[Figure] = []
        started = time.monotonic()
        for name in names:
            try:
                figures += chosen[name]()
            except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the rest
                say(f"benchmark {name} failed: {error!r}")
                figures.append(Figure(name, "failed", type(error).__name__, met=False))
    say(f"done in {time.monotonic() - started:.0f} s")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    sys.stdout.write(f"Benchmarks {when} ({machine}{', quick' if args.quick else ''})\n\n")
    sys.stdout.write(table(figures) + "\n")
    return 1 if any(figure.met is False for figure in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
