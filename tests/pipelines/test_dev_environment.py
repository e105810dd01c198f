"""`meltano --environment=dev run <job>` for every job, against the services of `make dev`.

The services start as the README says (python -m scripts.dev, in a child process) on
the fixed addresses meltano.yml's dev environment names, with their data in a temp folder;
Meltano gets its own system database, so a developer's `.meltano/` is never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
import requests
import yaml

from scripts.dev import JOBS, POSTGRES_PORT, READY, SANDBOX_API_KEY, SANDBOX_PORT
from scripts.runner import PLUGIN_ENV_PREFIXES, PROJECT_ROOT, Meltano
from scripts.warehouse import compare, count_table, render

SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}/v3"
WAREHOUSE = f"postgresql://postgres@127.0.0.1:{POSTGRES_PORT}/postgres"
CONTACTS = 200


def wait_for_line(process, output, expected, timeout):
    """The child's output once it printed the line `expected`; fails with its output if never."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        text = output.read_text()
        if expected in text.splitlines():
            return text
        time.sleep(0.2)
    pytest.fail(f"`make dev` never said {expected!r}:\n{output.read_text()[-3000:]}")
    return ""


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dev")
    data, output = folder / "postgres", folder / "output.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLUGIN_ENV_PREFIXES)}
    command = ["-m", "scripts.dev", "--contacts", str(CONTACTS), "--data-dir", str(data)]
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield wait_for_line(process, output, READY, timeout=180)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    assert process.returncode == 0, output.read_text()[-3000:]
    assert (data / "PG_VERSION").exists(), "the dev database is kept between runs"


@pytest.fixture(scope="module")
def meltano(tmp_path_factory, services):  # noqa: ARG001 - the services must be up
    home = tmp_path_factory.mktemp("meltano-dev")
    runner = Meltano(system_db=home / "meltano.db", log_dir=home / "logs", environment="dev")
    runner.install()
    return runner


def api_get(path, **params):
    response = requests.get(
        f"{SANDBOX}{path}",
        params=params,
        headers={"X-Auth-Token": f"api-key {SANDBOX_API_KEY}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def run(meltano, job):
    report = meltano.run(job)
    assert report.returncode == 0, "\n".join(report.errors[-20:])
    return report


def test_dev_lists_every_job_of_meltano_yml(services):
    project = yaml.safe_load((PROJECT_ROOT / "meltano.yml").read_text())
    assert {job["name"] for job in project["jobs"]} == set(JOBS)
    for job in JOBS:
        assert f"meltano --environment=dev run {job}" in services


def test_getresponse_to_warehouse(meltano):
    since_ms = int(time.time() * 1000) - 1000
    report = run(meltano, "getresponse-to-warehouse")
    emitted = report.counts("tap-getresponse")
    assert emitted["contacts"] == CONTACTS
    assert emitted["contact_details"] == CONTACTS, "dev selects every stream"
    with psycopg.connect(WAREHOUSE, autocommit=True) as conn:
        checks = compare(conn, "getresponse", emitted, since_ms)
    # The sandbox seeds some contacts the same send twice (its generator can pick one newsletter
    # twice: same contact, newsletter and second), so that stream's records outnumber its keys.
    # It only has to load: one row per key, none missing.
    repeated = "contact_activities"
    strict = [check for check in checks if check.stream != repeated]
    assert all(check.ok for check in strict), render(checks, title="dev")
    activities = next(check for check in checks if check.stream == repeated)
    assert activities.table is not None
    assert 0 < activities.table.written <= activities.emitted
    assert activities.table.duplicate_keys == 0


def test_getresponse_max_to_warehouse(meltano):
    report = run(meltano, "getresponse-max-to-warehouse")
    for account in ("brand_a", "brand_b"):
        assert (
            report.counts(f"tap-getresponse--{account.replace('_', '-')}")["contacts"] == CONTACTS
        )
        with psycopg.connect(WAREHOUSE, autocommit=True) as conn:
            assert count_table(conn, f"getresponse_{account}", "contacts").rows == CONTACTS


def customer_tier(email):
    contact = api_get("/contacts", **{"query[email]": email})[0]
    details = api_get(f"/contacts/{contact['contactId']}")
    return {v["name"]: v["value"] for v in details["customFieldValues"]}["customer_tier"]


def test_warehouse_to_getresponse_sends_only_changed_rows(meltano):
    first = run(meltano, "warehouse-to-getresponse")
    assert first.counts("target-getresponse") == {"contacts": 40}
    assert customer_tier("customer10@shop.example.com") == ["gold"]

    # Nothing changed: only the row at the saved bookmark (the newest `updated_at`) is read again.
    unchanged = run(meltano, "warehouse-to-getresponse")
    assert unchanged.counts("tap-postgres") == {"crm-customers": 1}

    with psycopg.connect(WAREHOUSE, autocommit=True) as conn:
        conn.execute(
            "UPDATE crm.customers SET customer_tier = 'platinum', updated_at = now() WHERE id = 10"
        )
    edited = run(meltano, "warehouse-to-getresponse")
    assert edited.counts("tap-postgres") == {"crm-customers": 2}  # the edit and the bookmark row
    assert customer_tier("customer10@shop.example.com") == ["platinum"]
