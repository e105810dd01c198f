"""What `make demo`, `make sync` and `make dev` print, and how they stay up until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
import typing as t

from scripts.postgres import postgres_bin
from scripts.runner import PROJECT_ROOT
from scripts.warehouse import compare, render

if t.TYPE_CHECKING:
    from pathlib import Path

    from scripts.postgres import EmbeddedPostgres
    from scripts.runner import Meltano


def show(text: object = "", *, error: bool = False) -> None:
    """Print a line of the report."""
    print(text, file=sys.stderr if error else sys.stdout, flush=True)


def say(label: str, text: str) -> None:
    """One aligned progress line."""
    show(f"  {label:<10} {text}")


def shown_path(path: Path) -> Path:
    """`path` relative to the checkout when it is inside it."""
    return path.relative_to(PROJECT_ROOT) if PROJECT_ROOT in path.parents else path


def stop_on_sigterm() -> None:
    """Make SIGTERM end the program as Ctrl-C does, so `with` blocks stop the servers."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def psql_command(database: EmbeddedPostgres) -> str:
    """The command line that opens `psql` on the database."""
    return f"{postgres_bin() / 'psql'} '{database.url()}'"


def wait_until_interrupted() -> None:
    """Block until Ctrl-C or SIGTERM."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def serve(database: EmbeddedPostgres) -> None:
    """Keep the database up for the user to query, until Ctrl-C."""
    say("query", f"{psql_command(database)}  (Ctrl-C stops the server)")
    wait_until_interrupted()


def run_and_check(
    meltano: Meltano, database: EmbeddedPostgres, job: str, schema: str, extractor: str
) -> bool:
    """Run `job`, then print the per-table check: records the extractor emitted vs rows loaded.

    True when every stream's records are rows written by this run with no primary key twice.
    """
    since_ms = int(time.time() * 1000) - 1000  # the target stamps rows with its own start
    started = time.monotonic()
    report = meltano.run(job)
    where = shown_path(report.log_path)
    say("sync", f"meltano run {job}: {time.monotonic() - started:.1f} s  (log {where})")
    if report.returncode != 0:
        show(f"\nmeltano run failed (exit {report.returncode}):", error=True)
        for error in report.errors[-10:]:
            show(f"  {error}", error=True)
        return False
    with database.connect() as conn:
        checks = compare(conn, schema, report.counts(extractor), since_ms)
    title = f"Schema {schema}: records emitted by {extractor} vs rows in PostgreSQL"
    show(f"\n{render(checks, title=title)}\n")
    failed = [check.stream for check in checks if not check.ok]
    if failed:
        show(f"MISMATCH in {', '.join(failed)}: see {where}", error=True)
        return False
    show(
        "OK: every record the tap emitted is a row written by this run, and no primary key "
        "appears twice."
    )
    return True
