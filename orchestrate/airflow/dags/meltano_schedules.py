# ruff: noqa: INP001 - Airflow loads DAG files by path; this folder is not a Python package.
"""Airflow DAGs for the schedules in `meltano.yml`: one DAG per schedule, one task per job.

A job whose tasks are several extractor/loader pairs (the MAX job: one extractor per account,
each inheriting from tap-getresponse with its own `domain`) fans out into one task per pair,
so accounts sync in parallel and fail, retry and keep state independently: Meltano keys state
on the extractor/loader pair, so a task's state is the one `meltano run <job>` would use.

The file reads `meltano.yml` (no Meltano import at parse time). Settings, from the environment:
MELTANO_PROJECT_ROOT (default: this repository), MELTANO_BIN (default: `meltano` on PATH) and
MELTANO_ENVIRONMENT (default: prod). Credentials reach the tasks through the worker's
environment (TAP_GETRESPONSE_API_KEY...), never through the DAG.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import typing as t
from pathlib import Path

import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, TaskGroup

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT", Path(__file__).resolve().parents[3]))
MELTANO_BIN = os.environ.get("MELTANO_BIN", "meltano")
MELTANO_ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")

DEFAULT_ARGS: dict[str, t.Any] = {
    "owner": "data",
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=10),
}


def load_project(root: Path) -> dict[str, t.Any]:
    """The parsed `meltano.yml`."""
    project = yaml.safe_load((root / "meltano.yml").read_text())
    if not isinstance(project, dict):
        msg = f"{root / 'meltano.yml'} is not a Meltano project file"
        raise TypeError(msg)
    return project


def job_tasks(project: dict[str, t.Any]) -> dict[str, list[str]]:
    """Each job's tasks as `meltano run` arguments (a task may be a list of blocks)."""
    jobs: dict[str, list[str]] = {}
    for job in project.get("jobs", []):
        tasks = job.get("tasks", [])
        jobs[job["name"]] = [
            " ".join(task) if isinstance(task, list) else str(task)
            for task in ([tasks] if isinstance(tasks, str) else tasks)
        ]
    return jobs


def task_id(blocks: str) -> str:
    """A task id from the first block of a task (the extractor, for an extract/load pair)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", blocks.split(maxsplit=1)[0])


def meltano_run(arguments: str) -> BashOperator:
    """A task running `meltano run <arguments>` in the project, in MELTANO_ENVIRONMENT."""
    command = " ".join(
        [
            "cd",
            shlex.quote(str(PROJECT_ROOT)),
            "&&",
            shlex.quote(MELTANO_BIN),
            f"--environment={shlex.quote(MELTANO_ENVIRONMENT)}",
            "run",
            arguments,
        ]
    )
    return BashOperator(
        task_id=task_id(arguments) if " " in arguments else arguments,
        bash_command=command,
        env={"MELTANO_PROJECT_ROOT": str(PROJECT_ROOT)},
        append_env=True,
    )


def build_dags(project: dict[str, t.Any]) -> dict[str, DAG]:
    """One DAG per schedule that runs a job."""
    jobs = job_tasks(project)
    dags: dict[str, DAG] = {}
    for schedule in project.get("schedules", []):
        job = schedule.get("job")
        if job not in jobs:
            continue  # extractor/loader schedules are left to `meltano schedule run`
        dag_id = f"meltano_{schedule['name']}"
        with DAG(
            dag_id=dag_id,
            description=f"meltano run {job} (schedule {schedule['name']})",
            schedule=schedule.get("interval"),
            start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            catchup=False,
            max_active_runs=1,  # runs of one job share state: never two at once
            default_args=DEFAULT_ARGS,
            tags=["meltano", job],
        ) as dag:
            tasks = jobs[job]
            if len(tasks) == 1:
                meltano_run(job)
            else:
                with TaskGroup(group_id=job):
                    for blocks in tasks:
                        meltano_run(blocks)
        dags[dag_id] = dag
    return dags


globals().update(build_dags(load_project(PROJECT_ROOT)))
