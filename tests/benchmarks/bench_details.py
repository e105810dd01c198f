"""Contact details (one `GET /contacts/{id}` per contact): calls/s vs min(80/s, 10 / latency).

The parallel run reads every contact of a `contacts`-contact sandbox with GetResponse's
documented limits. The sequential run (`max_parallel_requests=1`) reads a smaller sandbox, sized
to take about half a minute, because its rate is one call per latency whatever the count: 5,000
contacts one by one at 300 ms would take 25 minutes (`--full` runs them anyway). Calls/s is
measured on the sandbox: detail calls divided by the time from the first one's arrival to the
last one's answer.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import Figure, TapRunner, no_429s, rate_limited, ratio, say
from tests.sandbox import Limits, Sandbox, Scale

#: GetResponse's limits (§5.3): calls per second, and requests in flight.
PER_SECOND = 80
IN_FLIGHT = 10
#: Seconds the sequential sample is sized to take.
SAMPLE_SECONDS = 30


def detail_rate(sb: Sandbox) -> tuple[int, float]:
    """Detail calls in the sandbox log and their rate (calls/s)."""
    details = [
        entry
        for entry in sb.log
        if entry.path.startswith("/contacts/") and entry.path.count("/") == 2
    ]
    if not details:
        return 0, 0.0
    first = min(entry.started for entry in details)
    last = max(entry.finished or entry.started for entry in details)
    return len(details), len(details) / max(last - first, 1e-9)


def measure(contacts: int, latency: float, workdir: Path) -> tuple[int, float, int]:
    """Sync contacts + contact_details at `latency`; (detail calls, calls/s, 429 answers)."""
    with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits(), latency=latency) as sb:
        tap = TapRunner(sb, workdir, ["contacts", "contact_details"])
        return run_details(tap, contacts)


def run_details(tap: TapRunner, contacts: int, **settings: object) -> tuple[int, float, int]:
    """One sync; checks every contact got its details record."""
    run = tap.run(**settings)
    assert run.records == 2 * contacts, (run.records, contacts)
    calls, rate = detail_rate(tap.sb)
    return calls, rate, rate_limited(tap.sb)


def details(contacts: int, latencies: list[float], workdir: Path, *, full: bool) -> list[Figure]:
    """Sequential and parallel calls/s at each latency, against the ceiling."""
    figures = []
    for latency in latencies:
        label = f"{latency * 1000:.0f} ms"
        ceiling = min(PER_SECOND, IN_FLIGHT / latency)
        sample = contacts if full else max(20, min(contacts, int(SAMPLE_SECONDS / latency)))
        say(f"contact details at {label}: {sample} one by one")
        with Sandbox(scale=Scale(contacts=sample), seed=1, limits=Limits(), latency=latency) as sb:
            tap = TapRunner(sb, workdir / f"seq-{label}", ["contacts", "contact_details"])
            seq_calls, seq_rate, seq_429 = run_details(tap, sample, max_parallel_requests=1)
        say(f"contact details at {label}: {contacts} in parallel")
        par_calls, par_rate, par_429 = measure(contacts, latency, workdir / f"par-{label}")
        name = f"contact details {contacts:,}"
        figures += [
            Figure(
                name,
                f"{label}, max_parallel_requests=1 ({seq_calls:,} calls)",
                f"{seq_rate:.1f} calls/s",
                f"ceiling min(80, 10/latency) = {ceiling:.1f}",
                ratio(seq_rate, ceiling),
            ),
            Figure(
                name,
                f"{label}, default ({par_calls:,} calls)",
                f"{par_rate:.1f} calls/s",
                f"ceiling min(80, 10/latency) = {ceiling:.1f}",
                ratio(par_rate, ceiling),
                ">= 0.9x",
                par_rate >= 0.9 * ceiling,
            ),
            Figure(
                name,
                f"{label}, default vs sequential",
                f"{par_rate:.1f} calls/s",
                f"sequential {seq_rate:.1f} calls/s",
                ratio(par_rate, seq_rate),
            ),
            no_429s(name, label, seq_429, par_429),
        ]
    return figures
