"""`make sync` (python -m scripts.sync) on an account: the sandbox, named in a `.env`.

The entry point runs as a user runs it, in a child process whose environment holds no plugin
settings, so only the test's `.env` file names the account.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from scripts.runner import PLUGIN_ENV_PREFIXES, PROJECT_ROOT
from tests.sandbox import Sandbox, Scale

API_KEY = "sync-test-key"
CONTACTS = 300


@pytest.fixture(scope="module")
def account():
    with Sandbox(scale=Scale(contacts=CONTACTS), seed=5, api_key=API_KEY) as sandbox:
        yield sandbox


def run_sync(*args, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLUGIN_ENV_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "scripts.sync", *map(str, args)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def table_row(output, stream):
    """(tap records, rows written, rows in table, dup keys, status) of one stream's line."""
    match = re.search(rf"^{stream} +(\d+) +(\d+) +(\d+) +(\d+) +(\w+)$", output, re.MULTILINE)
    assert match, output
    *numbers, status = match.groups()
    return (*map(int, numbers), status)


def test_sync_loads_the_account_then_resumes_incrementally(account, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TAP_GETRESPONSE_API_URL={account.url}\n"
        f"TAP_GETRESPONSE_API_KEY={API_KEY}\n"
        # The warehouse settings are prod's: make sync loads into its own embedded database.
        "TARGET_POSTGRES_HOST=warehouse.invalid\n"
    )
    data = tmp_path / "sync"

    first = run_sync("--env-file", env_file, "--data-dir", data)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Schema getresponse: records emitted by tap-getresponse vs rows in PostgreSQL" in (
        first.stdout
    )
    assert table_row(first.stdout, "contacts") == (CONTACTS, CONTACTS, CONTACTS, 0, "OK")
    assert "MISMATCH" not in first.stdout
    assert (data / "postgres" / "PG_VERSION").exists(), "the database is kept between runs"
    assert API_KEY not in first.stdout + first.stderr

    second = run_sync("--env-file", env_file, "--data-dir", data)
    assert second.returncode == 0, second.stdout + second.stderr
    records, written, rows, duplicates, status = table_row(second.stdout, "contacts")
    assert records < CONTACTS, "the second run reads only the lookback window before the bookmark"
    assert (written, rows, duplicates, status) == (records, CONTACTS, 0, "OK")
    assert all(entry.x_domain is None for entry in account.log)


def test_sync_with_a_wrong_key_fails_in_lines_without_the_key(account, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TAP_GETRESPONSE_API_URL={account.url}\nTAP_GETRESPONSE_API_KEY=nope-123\n"
    )
    result = run_sync("--env-file", env_file, "--data-dir", tmp_path / "sync")
    assert result.returncode == 1
    assert "meltano run failed" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "nope-123" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "copy .env.example to it"),
        (
            "# nothing set\nTAP_GETRESPONSE_API_KEY=\nTARGET_POSTGRES_HOST=db\n",
            "no TAP_GETRESPONSE_",
        ),
    ],
    ids=["no .env", "no account settings"],
)
def test_sync_without_credentials_says_so_in_one_line(tmp_path, content, expected):
    env_file = tmp_path / ".env"
    if content is not None:
        env_file.write_text(content)
    result = run_sync("--env-file", env_file, "--data-dir", tmp_path / "sync", timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert expected in result.stderr
