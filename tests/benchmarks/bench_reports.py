"""Email activity in bulk: `message_activities` (one custom report) against `contact_activities`
(one request per contact), on one sandbox, in the same benchmark run.

Both read the same window (`start_date` before any seeded activity) with GetResponse's
documented limits. API calls are counted in the sandbox's log (the report file comes from the
download host, which is no API call and is counted apart); seconds are each tap process's own.
The rows must be the same, each as often: the figure says so.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import typing as t
from collections import Counter
from pathlib import Path

from tests.benchmarks.harness import TAP, Figure, TapRunner, rate_limited, ratio, say
from tests.sandbox import Limits, Sandbox, Scale

if t.TYPE_CHECKING:
    from collections.abc import Iterable

START = "2024-01-01"
#: The issue's floor: this many times fewer calls, at 20,000 contacts.
FLOOR = 1000
FLOOR_CONTACTS = 20_000
KEY = ("contactId", "activity", "createdOn", "resourceId", "clickTrackId")


class ReportsRunner(TapRunner):
    """A TapRunner whose config turns `activity_reports` on (discovery lists the stream)."""

    def config(self, **settings: t.Any) -> dict[str, t.Any]:
        """The sandbox settings, `activity_reports` and the window's start."""
        return super().config(activity_reports=True, start_date=START, **settings)


def sync(tap: ReportsRunner, stream: str) -> tuple[Counter[tuple[str, ...]], int, float, int]:
    """One run reading `stream` only: its rows' keys, API calls, seconds and 429 answers."""
    config = tap.write("config.json", tap.config())
    catalog = json.loads(tap.catalog.read_text())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    chosen = tap.write(f"catalog-{stream}.json", catalog)
    tap.sb.clear_log()
    tap.sb.downloads.clear_log()
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(
            [TAP, "--config", str(config), "--catalog", str(chosen)],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
        seconds = time.monotonic() - started
        if done.returncode != 0:
            msg = f"tap-getresponse failed:\n{done.stderr.decode(errors='replace')[-3000:]}"
            raise RuntimeError(msg)
        out.seek(0)
        keys = Counter(_keys(out, stream))
    return keys, len(tap.sb.log), seconds, rate_limited(tap.sb)


def _keys(lines: Iterable[bytes], stream: str) -> Iterable[tuple[str, ...]]:
    for line in lines:
        if line.startswith(b'{"type":"RECORD"'):
            message = json.loads(line)
            if message["stream"] == stream:
                yield tuple(str(message["record"][key]) for key in KEY)


def reports(contacts: int, workdir: Path) -> list[Figure]:
    """Calls, seconds and rows of both streams for the email activity of `contacts` contacts."""
    with Sandbox(scale=Scale(contacts=contacts), seed=1, limits=Limits()) as sb:
        tap = ReportsRunner(sb, workdir / "reports", ["contact_activities"])
        say(f"email activity of {contacts:,} contacts: contact_activities (one call per contact)")
        per_contact, base_calls, base_seconds, base_429 = sync(tap, "contact_activities")
        say(f"email activity of {contacts:,} contacts: message_activities (one custom report)")
        bulk, calls, seconds, bulk_429 = sync(tap, "message_activities")
        downloads = len(sb.downloads.log)
    name = f"email activity {contacts:,}"
    fewer = ratio(base_calls, calls)
    judged = contacts >= FLOOR_CONTACTS
    return [
        Figure(
            name,
            "API calls, message_activities",
            f"{calls:,} calls (+{downloads} file download{'s' * (downloads != 1)})",
            f"contact_activities {base_calls:,} calls",
            fewer,
            f">= {FLOOR}x" + ("" if judged else f" (at {FLOOR_CONTACTS:,})"),
            fewer >= FLOOR if judged else None,
        ),
        Figure(
            name,
            "seconds, message_activities",
            f"{seconds:.1f} s",
            f"contact_activities {base_seconds:.1f} s",
            ratio(base_seconds, seconds),
        ),
        Figure(
            name,
            "same rows as contact_activities",
            f"{bulk.total():,} rows",
            f"contact_activities {per_contact.total():,} rows",
            floor="equal",
            met=bulk == per_contact and bulk.total() > 0,
        ),
        Figure(
            name,
            "429 answers",
            f"{base_429} + {bulk_429}",
            floor="0",
            met=not (base_429 or bulk_429),
        ),
    ]
