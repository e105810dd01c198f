"""`make dev`: the services meltano.yml's `dev` environment points at, up until Ctrl-C.

The GetResponse sandbox on 127.0.0.1:8765 and an embedded PostgreSQL on 127.0.0.1:55432 (data
kept in `.meltano/dev/postgres`), with a `crm.customers` table for the reverse job, so that
`meltano --environment=dev run <job>` works for every job in meltano.yml from another terminal.
"""

from __future__ import annotations

import argparse
import errno
import shutil
import socket
import sys
import typing as t
from pathlib import Path

from scripts.console import (
    psql_command,
    say,
    show,
    shown_path,
    stop_on_sigterm,
    wait_until_interrupted,
)
from scripts.postgres import EmbeddedPostgres, PostgresError
from scripts.runner import PROJECT_ROOT
from tests.sandbox import Sandbox, Scale

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

DEV_DIR = PROJECT_ROOT / ".meltano" / "dev"
#: The addresses in meltano.yml's `dev` environment.
SANDBOX_PORT = 8765
SANDBOX_API_KEY = "sandbox-api-key"
POSTGRES_PORT = 55432
JOBS = ("getresponse-to-warehouse", "getresponse-max-to-warehouse", "warehouse-to-getresponse")
#: Printed once both services are up; tests wait for it.
READY = "dev services ready"

#: The reverse job's source: one row per contact, `updated_at` its replication key (meltano.yml,
#: tap-postgres `metadata`). The rows are a minute apart, as rows edited over time would be.
CUSTOMERS = """
CREATE SCHEMA IF NOT EXISTS crm;
CREATE TABLE IF NOT EXISTS crm.customers (
    id integer PRIMARY KEY,
    email text NOT NULL,
    name text,
    campaign_name text,   -- the GetResponse list, by name
    customer_tier text,   -- a custom field, matched by name
    tags text,            -- tag names, comma-separated
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO crm.customers
SELECT g, 'customer' || g || '@shop.example.com', 'Customer ' || g, 'customers',
       CASE WHEN g % 2 = 0 THEN 'gold' ELSE 'silver' END,
       CASE WHEN g % 5 = 0 THEN 'vip,customer' ELSE 'customer' END,
       now() - (41 - g) * interval '1 minute'
FROM generate_series(1, 40) AS g
ON CONFLICT (id) DO NOTHING;
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000, help="sandbox size (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="sandbox data seed (default 1)")
    parser.add_argument(
        "--data-dir", type=Path, default=DEV_DIR / "postgres", help="(.meltano/dev/postgres)"
    )
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    return parser.parse_args(argv)


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port` already."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: connections of a stopped server waiting out TIME_WAIT don't count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def seed_customers(conn: psycopg.Connection[t.Any]) -> int:
    """Create and fill `crm.customers` unless it exists; its row count."""
    conn.execute(CUSTOMERS)
    row = conn.execute("SELECT count(*) FROM crm.customers").fetchone()
    return int(row[0]) if row else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the sandbox and the database until Ctrl-C."""
    args = parse_args(argv)
    for port in (SANDBOX_PORT, POSTGRES_PORT):
        if port_in_use(port):
            show(f"port {port} on 127.0.0.1 is in use (is `make dev` running already?)", error=True)
            return 1
    data = args.data_dir.resolve()
    if args.fresh and data.exists():
        shutil.rmtree(data)
    database = EmbeddedPostgres(data, port=POSTGRES_PORT)
    sandbox = Sandbox(
        scale=Scale(contacts=args.contacts),
        seed=args.seed,
        api_key=SANDBOX_API_KEY,
        port=SANDBOX_PORT,
    )
    stop_on_sigterm()
    try:
        with database, sandbox:
            with database.connect() as conn:
                customers = seed_customers(conn)
            show("Services for `meltano --environment=dev` (Ctrl-C stops them):")
            say("sandbox", f"{sandbox.url}  api key {SANDBOX_API_KEY}, {args.contacts} contacts")
            say("warehouse", f"{database.url()}  (data in {shown_path(data)})")
            say("source", f"crm.customers: {customers} rows (the reverse job reads them)")
            say("query", psql_command(database))
            show("In another terminal:")
            for job in JOBS:
                show(f"  .venv/bin/meltano --environment=dev run {job}")
            show(READY)
            wait_until_interrupted()
    except PostgresError as error:
        show(error, error=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
