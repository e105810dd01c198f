"""The embedded PostgreSQL runs from any folder, changes no folder's mode, adds no user.

pytest's own temp folders are private (0700), like a checkout under a 0700 home or a CI
workspace other users cannot enter: a kept cluster under `tmp_path` is that case.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from scripts.postgres import (
    SERVER_USER_WHEN_ROOT,
    EmbeddedPostgres,
    PostgresError,
    temporary_postgres,
    unreachable_parent,
)

AS_ROOT = os.geteuid() == 0


def modes(path):
    """Mode and owner of `path`'s existing parents (and itself, if it exists)."""
    folders = [path, *path.parents]
    return {
        str(folder): (folder.stat().st_mode, folder.stat().st_uid)
        for folder in folders
        if folder.exists()
    }


def users():
    return sorted(entry.pw_name for entry in pwd.getpwall())


def test_kept_cluster_under_a_private_folder_survives_a_restart_and_no_mode_changes(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    pgdata = home / "checkout" / ".meltano" / "demo" / "postgres"
    pgdata.parent.mkdir(parents=True)
    before, accounts = modes(pgdata.parent), users()

    with EmbeddedPostgres(pgdata) as database, database.connect() as conn:
        conn.execute("CREATE TABLE kept (n integer)")
        conn.execute("INSERT INTO kept VALUES (1)")
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
        owner = Path(data_directory).owner()
    with EmbeddedPostgres(pgdata) as database, database.connect() as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 1

    assert modes(pgdata.parent) == before
    assert users() == accounts
    assert (pgdata / "PG_VERSION").exists()
    assert pgdata.stat().st_mode & 0o777 == 0o700
    if AS_ROOT:
        # PostgreSQL refuses root: the server ran as `nobody` on a private copy in the temp dir.
        assert owner == SERVER_USER_WHEN_ROOT
        assert not data_directory.startswith(str(tmp_path))
        assert pgdata.stat().st_uid == 0
    else:
        assert owner == pwd.getpwuid(os.geteuid()).pw_name
        assert data_directory == str(pgdata)


def test_throwaway_cluster_leaves_nothing_behind():
    with temporary_postgres() as database, database.connect() as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not Path(data_directory).exists()


def test_a_folder_that_is_no_cluster_is_refused_in_one_line(tmp_path):
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    (pgdata / "notes.txt").write_text("mine")
    with pytest.raises(PostgresError) as raised:
        EmbeddedPostgres(pgdata).start()
    assert str(raised.value) == f"PostgreSQL: {pgdata} is not empty and holds no PostgreSQL cluster"
    assert (pgdata / "notes.txt").read_text() == "mine"


def test_a_busy_port_fails_in_one_line_naming_it():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PostgresError) as raised:
            EmbeddedPostgres(port=port).start()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("PostgreSQL: pg_ctl failed")
    assert "could not bind" in message
    assert "Address already in use" in message


def test_unreachable_parent_names_the_first_folder_others_cannot_enter():
    base = Path(tempfile.mkdtemp(dir="/tmp"))  # /tmp: every user can enter it
    try:
        base.chmod(0o755)
        private = base / "private"
        private.mkdir(mode=0o700)
        (private / "open").mkdir(mode=0o755)
        assert unreachable_parent(private / "open" / "x") == private
        assert unreachable_parent(private / "x") == private
        assert unreachable_parent(base / "x") is None
    finally:
        shutil.rmtree(base)


def test_temp_dir_the_server_user_cannot_enter(tmp_path, monkeypatch):
    private = tmp_path / "private-tmp"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    if AS_ROOT:
        with pytest.raises(PostgresError) as raised:
            EmbeddedPostgres().start()
        assert str(raised.value).startswith("PostgreSQL runs as 'nobody', which cannot enter ")
        assert "TMPDIR" in str(raised.value)
        assert list(private.iterdir()) == [], "the private copy is removed"
    else:
        # As a normal user the server runs as that user, who can enter their own folder.
        with EmbeddedPostgres() as database, database.connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
