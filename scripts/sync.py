"""`make sync`: your GetResponse account (credentials from `.env`) -> the embedded PostgreSQL.

The demo's job and check on a real account: `meltano --environment=local run
getresponse-to-warehouse` into an embedded PostgreSQL kept in `.meltano/sync/postgres`, with
Meltano's state in `.meltano/sync/meltano.db`, so every run after the first is incremental.
Only the `TAP_GETRESPONSE_*` variables are read from `.env` (and from the shell, which wins, as
in Meltano); the warehouse variables there are for `--environment=prod` and are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import typing as t
from pathlib import Path

from dotenv import dotenv_values

from scripts.console import run_and_check, say, serve, show, shown_path, stop_on_sigterm
from scripts.postgres import EmbeddedPostgres, PostgresError
from scripts.runner import (
    PER_CONTACT_STREAMS,
    PROJECT_ROOT,
    Meltano,
    MeltanoError,
    select_all_but,
)

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SYNC_DIR = PROJECT_ROOT / ".meltano" / "sync"
ENVIRONMENT = "local"  # meltano.yml: tap settings from the environment, the embedded warehouse
SCHEMA = "getresponse"  # the tap's `load_schema` in meltano.yml
PLUGINS = ("tap-getresponse", "target-postgres")
JOB = "getresponse-to-warehouse"  # meltano.yml: tap-getresponse target-postgres
ACCOUNT_PREFIX = "TAP_GETRESPONSE_"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="make sync", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env-file", type=Path, default=PROJECT_ROOT / ".env", help="default: .env"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=SYNC_DIR, help="database, state, logs (.meltano/sync)"
    )
    parser.add_argument(
        "--all-streams",
        action="store_true",
        help=f"also {', '.join(PER_CONTACT_STREAMS)} (one request per contact)",
    )
    parser.add_argument("--fresh", action="store_true", help="drop the database and state first")
    parser.add_argument(
        "--serve", action="store_true", help="keep PostgreSQL running afterwards until Ctrl-C"
    )
    return parser.parse_args(argv)


def account_settings(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The non-empty `TAP_GETRESPONSE_*` variables of `env_file`, overridden by `environ`'s."""
    found = {**dotenv_values(env_file), **environ}
    return {
        name: value for name, value in found.items() if name.startswith(ACCOUNT_PREFIX) and value
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Sync the account; exit 1 when the run fails or a stream's rows do not match its records."""
    args = parse_args(argv)
    if not args.env_file.is_file():
        show(
            f"no {args.env_file}: copy .env.example to it and set your account's credentials",
            error=True,
        )
        return 2
    account = account_settings(args.env_file, os.environ)
    if not account:
        show(
            f"no TAP_GETRESPONSE_* setting in {args.env_file}: set TAP_GETRESPONSE_API_KEY "
            "(or the OAuth settings; see .env.example)",
            error=True,
        )
        return 2
    data_dir = args.data_dir.resolve()
    if args.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    show(f"GetResponse sync: your account -> tap-getresponse -> PostgreSQL (env {ENVIRONMENT})")

    started = time.monotonic()
    meltano = Meltano(
        system_db=data_dir / "meltano.db", log_dir=data_dir / "logs", environment=ENVIRONMENT
    )
    try:
        meltano.install(*PLUGINS)
    except MeltanoError as error:
        show(error, error=True)
        return 1
    say("plugins", f"{', '.join(PLUGINS)} ({time.monotonic() - started:.1f} s)")
    say(
        "account",
        f"{account.get(ACCOUNT_PREFIX + 'API_URL', 'https://api.getresponse.com/v3')}"
        f"  (settings: {', '.join(sorted(account))})",
    )

    database = EmbeddedPostgres(data_dir / "postgres")
    stop_on_sigterm()
    try:
        with database:
            say(
                "warehouse",
                f"{database.url()}  schema {SCHEMA}  (data in {shown_path(data_dir / 'postgres')})",
            )
            meltano.env = {
                **account,
                "TARGET_POSTGRES_HOST": database.host,
                "TARGET_POSTGRES_PORT": str(database.port),
            }
            if args.all_streams:
                say("streams", "as selected in meltano.yml")
            else:
                meltano.env[f"{ACCOUNT_PREFIX}_SELECT"] = select_all_but(*PER_CONTACT_STREAMS)
                say(
                    "streams", f"all but {', '.join(PER_CONTACT_STREAMS)} (--all-streams adds them)"
                )
            ok = run_and_check(meltano, database, JOB, SCHEMA, "tap-getresponse")
            if ok:
                show("Run `make sync` again for an incremental run.")
            say("total", f"{time.monotonic() - started:.1f} s")
            if args.serve:
                serve(database)
    except PostgresError as error:
        show(error, error=True)
        return 1
    except KeyboardInterrupt:
        show("interrupted", error=True)
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
