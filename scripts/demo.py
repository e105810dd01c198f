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

from scripts import sandbox_activity
from scripts.console import run_and_check, say, serve, show, shown_path, stop_on_sigterm
from scripts.postgres import EmbeddedPostgres, PostgresError
from scripts.runner import (
    PER_CONTACT_STREAMS,
    PROJECT_ROOT,
    Meltano,
    MeltanoError,
    select_all_but,
)
from scripts.warehouse import tables
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
    stop_on_sigterm()
    try:
        with database, sandbox:
            return demo_run(args, meltano, database, sandbox, started)
    except PostgresError as error:
        show(error, error=True)
        return 1
    except KeyboardInterrupt:
        show("interrupted", error=True)
        return 130


def demo_run(
    args: argparse.Namespace,
    meltano: Meltano,
    database: EmbeddedPostgres,
    sandbox: Sandbox,
    started: float,
) -> int:
    """The demo's run, with both servers up: 0 when every stream's rows match its records."""
    with database.connect() as conn:
        rerun = "contacts" in tables(conn, SCHEMA)
    say("sandbox", f"{sandbox.url}  ({args.contacts} contacts, seed {args.seed})")
    data = shown_path(DEMO_DIR / "postgres")
    say("warehouse", f"{database.url()}  schema {SCHEMA}  (data in {data})")
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
    ok = run_and_check(meltano, database, JOB, SCHEMA, "tap-getresponse")
    if ok:
        show("Run `make demo` again for an incremental run; `make demo ARGS=--fresh` starts over.")
    say("total", f"{time.monotonic() - started:.1f} s")
    if args.serve:
        serve(database)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
