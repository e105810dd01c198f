"""Peak RSS of a full contacts sync at growing sizes: pages in flight are bounded, so it stays flat.

Each size gets its own sandbox; the tap runs as a child process with its default settings and its
peak resident set size is read from the kernel when it exits (`wait4`'s `ru_maxrss`).
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import Figure, TapRunner, ratio, say
from tests.sandbox import Limits, Sandbox, Scale


def memory(sizes: list[int], workdir: Path) -> list[Figure]:
    """Peak RSS per size, each against the smallest size's."""
    peaks: dict[int, float] = {}
    for contacts in sizes:
        say(f"peak RSS: full contacts sync of {contacts:,}")
        with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits()) as sb:
            run = TapRunner(sb, workdir / f"rss-{contacts}", ["contacts"]).run()
        assert run.records == contacts, (run.records, contacts)
        peaks[contacts] = run.peak_rss_mb
    smallest = min(sizes)
    largest = max(sizes)
    return [
        Figure(
            "peak RSS",
            f"tap, {contacts:,} contacts",
            f"{peak:.0f} MB",
            f"{smallest:,} contacts: {peaks[smallest]:.0f} MB",
            ratio(peak, peaks[smallest]),
            "<= 1.5x" if contacts == largest else "",
            peak <= 1.5 * peaks[smallest] if contacts == largest else None,
        )
        for contacts, peak in peaks.items()
    ]
