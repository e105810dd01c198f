"""`make demo`: sandbox -> tap-getresponse -> embedded PostgreSQL with Meltano, then count rows.

The first run syncs everything; later runs resume from the state Meltano saved (in
`.meltano/demo/`, next to the database) after the sandbox has changed a few contacts, so they
show an incremental sync upserting on primary keys. `--fresh` starts over.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import typing as t

from tests.pipelines import sandbox_activity
from tests.pipelines.postgres import EmbeddedPostgres, postgres_bin
from tests.pipelines.runner import (
    PER_CONTACT_STREAMS,
    PROJECT_ROOT,
    Meltano,
    MeltanoError,
    select_all_but,
)
from tests.pipelines.warehouse import compare, render, tables
from tests.sandbox import Sandbox, Scale

if t.TYPE_CHECKING:
    from collections.abc import Sequence

DEMO_DIR = PROJECT_ROOT / ".meltano" / "demo"
SCHEMA = "getresponse"  # the tap's `load_schema` in meltano.yml
SANDBOX_API_KEY = "sandbox-api-key"
PLUGINS = ("tap-getresponse", "target-postgres")
JOB = "getresponse-to-warehouse"  # meltano.yml: tap-getresponse target-postgres


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=3000, help="sandbox size (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="sandbox data seed (default 1)")
    parser.add_argument("--changes", type=int, default=40, help="contacts changed before a rerun")
    parser.add_argument("--fresh", action="store_true", help="drop the demo database and state")
    parser.add_argument(
        "--serve", action="store_true", help="keep PostgreSQL running afterwards until Ctrl-C"
    )
    return parser.parse_args(argv)


def show(text: str = "", *, error: bool = False) -> None:
    """Print a line of the demo's report."""
    print(text, file=sys.stderr if error else sys.stdout, flush=True)


def say(label: str, text: str) -> None:
    """One aligned progress line."""
    show(f"  {label:<10} {text}")


def serve(database: EmbeddedPostgres) -> None:
    """Keep the database up for the user to query, until Ctrl-C."""
    psql = postgres_bin() / "psql"
    say("query", f"{psql} '{database.url()}'  (Ctrl-C stops the server)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; the exit code is 1 when a stream's rows do not match its records."""
    args = parse_args(argv)
    if args.fresh and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    show("GetResponse demo: sandbox -> tap-getresponse -> PostgreSQL, with Meltano (env dev)")

    started = time.monotonic()
    meltano = Meltano(system_db=DEMO_DIR / "meltano.db", log_dir=DEMO_DIR / "logs")
    try:
        meltano.install(*PLUGINS)
    except MeltanoError as error:
        show(error, error=True)
        return 1
    say(
        "plugins",
        f"{', '.join(PLUGINS)} installed in .meltano/ ({time.monotonic() - started:.1f} s)",
    )

    database = EmbeddedPostgres(DEMO_DIR / "postgres")
    sandbox = Sandbox(scale=Scale(contacts=args.contacts), seed=args.seed, api_key=SANDBOX_API_KEY)
    with database, sandbox:
        with database.connect() as conn:
            rerun = "contacts" in tables(conn, SCHEMA)
        say("sandbox", f"{sandbox.url}  ({args.contacts} contacts, seed {args.seed})")
        say("warehouse", f"{database.url()}  schema {SCHEMA}  (data in {DEMO_DIR / 'postgres'})")
        skipped = ", ".join(PER_CONTACT_STREAMS)
        say("streams", f"all but {skipped} (one request per contact: minutes at 80 calls/s)")
        if rerun:
            changed = sandbox_activity.change_contacts(sandbox.url, SANDBOX_API_KEY, args.changes)
            say("run", f"incremental from saved state; {len(changed)} contacts edited meanwhile")
        else:
            say("run", "first run: full sync")

        meltano.env = {
            "TAP_GETRESPONSE_API_URL": sandbox.url,
            "TAP_GETRESPONSE_API_KEY": SANDBOX_API_KEY,
            "TAP_GETRESPONSE__SELECT": select_all_but(*PER_CONTACT_STREAMS),
            "TARGET_POSTGRES_HOST": database.host,
            "TARGET_POSTGRES_PORT": str(database.port),
        }
        since_ms = int(time.time() * 1000) - 1000  # the target stamps rows with its own start
        sync_started = time.monotonic()
        report = meltano.run(JOB)
        elapsed = time.monotonic() - sync_started
        log = report.log_path.relative_to(PROJECT_ROOT)
        say("sync", f"meltano run {JOB}: {elapsed:.1f} s  (log {log})")
        if report.returncode != 0:
            show(f"\nmeltano run failed (exit {report.returncode}):", error=True)
            for error in report.errors[-10:]:
                show(f"  {error}", error=True)
            return 1

        with database.connect() as conn:
            checks = compare(conn, SCHEMA, report.counts("tap-getresponse"), since_ms)
        title = f"Schema {SCHEMA}: records emitted by the tap vs rows in PostgreSQL"
        show(f"\n{render(checks, title=title)}\n")
        failed = [check.stream for check in checks if not check.ok]
        if failed:
            show(f"MISMATCH in {', '.join(failed)}: see {log}", error=True)
        else:
            show(
                "OK: every record the tap emitted is a row written by this run, and no primary key "
                "appears twice.\nRun `make demo` again for an incremental run; "
                "`make demo ARGS=--fresh` starts over."
            )
        say("total", f"{time.monotonic() - started:.1f} s")
        if args.serve:
            serve(database)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
