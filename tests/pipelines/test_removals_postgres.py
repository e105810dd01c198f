"""Removed contacts into PostgreSQL: tap (in process) -> target-postgres, two runs.

A contact removed in the sandbox between two runs lands with `_sdc_deleted_at` set, in `contacts`
and in `removed_contacts`. target-postgres (MeltanoLabs) upserts the record: its `hard_delete`
acts only on ACTIVATE_VERSION messages of full-table streams, so the row stays, marked deleted.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from scripts.postgres import temporary_postgres
from scripts.runner import Meltano
from tests.sandbox import Scale
from tests.tap.conftest import next_second, run_sync, sandbox_config

SCHEMA = "removals"  # the queries below name it
STREAMS = ["contacts", "removed_contacts"]


@pytest.fixture(scope="module")
def target_postgres(tmp_path_factory):
    runner = Meltano(system_db=tmp_path_factory.mktemp("meltano") / "meltano.db")
    runner.install("target-postgres")
    return runner.project_root / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"


def load(binary_dir, database, tmp_path, messages, *, hard_delete: bool) -> None:
    config = {
        "host": database.host,
        "port": database.port,
        "user": database.user,
        "password": "trusted",
        "database": "postgres",
        "default_target_schema": SCHEMA,
        "hard_delete": hard_delete,
    }
    path = tmp_path / "target.json"
    path.write_text(json.dumps(config))
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    done = subprocess.run(
        [str(binary_dir / "target-postgres"), "--config", str(path)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("hard_delete", [False, True], ids=["soft", "hard_delete"])
def test_a_contact_removed_between_runs_is_marked_deleted(
    make_sandbox, target_postgres, tmp_path, hard_delete
):
    sb = make_sandbox(scale=Scale(contacts=40, campaigns=3), seed=5)
    with temporary_postgres() as database:
        first = run_sync(sandbox_config(sb), streams=STREAMS)
        load(target_postgres, database, tmp_path, first.messages, hard_delete=hard_delete)
        gone = sb.data.contacts[3]["contactId"]
        response = requests.delete(
            f"{sb.url}/contacts/{gone}",
            headers={"X-Auth-Token": f"api-key {sb.api_key}"},
            timeout=10,
        )
        assert response.status_code == 204
        next_second()
        second = run_sync(sandbox_config(sb), streams=STREAMS, state=first.state)
        load(target_postgres, database, tmp_path, second.messages, hard_delete=hard_delete)
        with database.connect() as conn:
            contact = conn.execute(
                'SELECT "_sdc_deleted_at" FROM removals.contacts WHERE "contactId" = %s', (gone,)
            ).fetchall()
            removal = conn.execute(
                'SELECT reason, "deletedOn" FROM removals.removed_contacts WHERE "contactId" = %s',
                (gone,),
            ).fetchall()
            live = conn.execute(
                'SELECT count(*) FROM removals.contacts WHERE "_sdc_deleted_at" IS NULL'
            ).fetchone()[0]
    assert len(contact) == 1, "the row stays: target-postgres' hard_delete acts on versions only"
    assert len(removal) == 1
    assert contact[0][0] is not None
    assert removal[0][0] == "api"
    assert contact[0][0] == removal[0][1]
    assert live == len(sb.data.contacts)
