"""The Airflow DAGs for the Meltano schedules load in a DagBag, with the expected tasks.

Airflow runs in a child process: importing it configures logging and settings process-wide and
writes to AIRFLOW_HOME, which must not leak into the rest of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scripts.runner import PLUGIN_ENV_PREFIXES, PROJECT_ROOT

pytestmark = pytest.mark.airflow

DAG_FOLDER = PROJECT_ROOT / "orchestrate" / "airflow" / "dags"

LOAD_DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "schedule": str(getattr(dag.timetable, "expression", dag.timetable)),
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "tasks": {task.task_id: task.bash_command for task in dag.tasks},
        }
        for dag_id, dag in bag.dags.items()
    },
}))
"""

RUN = "cd /srv/getresponse && meltano --environment=prod run"
EXPECTED = {
    "meltano_daily-getresponse-to-warehouse": {
        "getresponse-to-warehouse": f"{RUN} getresponse-to-warehouse",
    },
    "meltano_daily-getresponse-max-to-warehouse": {
        "getresponse-max-to-warehouse.tap-getresponse--brand-a": (
            f"{RUN} tap-getresponse--brand-a target-postgres"
        ),
        "getresponse-max-to-warehouse.tap-getresponse--brand-b": (
            f"{RUN} tap-getresponse--brand-b target-postgres"
        ),
    },
    "meltano_daily-warehouse-to-getresponse": {
        "warehouse-to-getresponse": f"{RUN} warehouse-to-getresponse",
    },
}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith((*PLUGIN_ENV_PREFIXES, "AIRFLOW"))
    }
    env |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        # Where a deployment keeps the project; the DAG only reads meltano.yml from the real one.
        "MELTANO_PROJECT_ROOT": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", LOAD_DAGBAG, str(DAG_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dags_import_without_errors(dagbag):
    assert dagbag["import_errors"] == {}


def test_one_dag_per_schedule_one_task_per_job_and_account(dagbag):
    tasks = {
        dag_id: {
            task_id: command.replace(str(PROJECT_ROOT), "/srv/getresponse")
            for task_id, command in dag["tasks"].items()
        }
        for dag_id, dag in dagbag["dags"].items()
    }
    assert tasks == EXPECTED


def test_dags_run_daily_one_at_a_time(dagbag):
    for dag in dagbag["dags"].values():
        assert dag["schedule"] == "0 0 * * *"
        assert dag["max_active_runs"] == 1
        assert dag["catchup"] is False
