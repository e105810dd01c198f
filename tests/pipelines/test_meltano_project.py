"""meltano.yml, .env.example and the connectors' own settings change together."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.runner import PROJECT_ROOT, Meltano

OWN_PLUGINS = {"extractors": "tap-getresponse", "loaders": "target-getresponse"}

#: Meltano `kind` for each JSON Schema type of an --about setting.
KINDS = {
    "string": {"string", "date_iso8601", "options", "email", "file"},
    "integer": {"integer"},
    "number": {"decimal"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


@pytest.fixture(scope="module")
def project():
    return yaml.safe_load((PROJECT_ROOT / "meltano.yml").read_text())


def plugin(project, plugin_type, name):
    return next(p for p in project["plugins"][plugin_type] if p["name"] == name)


def about(name):
    result = subprocess.run(
        [str(Path(sys.executable).with_name(name)), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)


def json_type(schema):
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    return next((t for t in types if t != "null"), None)


@pytest.mark.parametrize(("plugin_type", "name"), OWN_PLUGINS.items(), ids=OWN_PLUGINS.values())
def test_meltano_settings_are_the_connector_settings(project, plugin_type, name):
    declared = {s["name"]: s for s in plugin(project, plugin_type, name)["settings"]}
    live = about(name)["settings"]["properties"]
    assert sorted(declared) == sorted(live)
    for setting, schema in live.items():
        entry = declared[setting]
        assert entry.get("label"), f"{setting}: no label"
        assert entry.get("description"), f"{setting}: no description"
        assert entry.get("kind") in KINDS[json_type(schema)], f"{setting}: kind {entry.get('kind')}"
        secret = bool(schema.get("secret") or schema.get("writeOnly"))
        assert bool(entry.get("sensitive")) == secret, f"{setting}: sensitive should be {secret}"


@pytest.mark.parametrize(("plugin_type", "name"), OWN_PLUGINS.items(), ids=OWN_PLUGINS.values())
def test_meltano_capabilities_are_the_connector_capabilities(project, plugin_type, name):
    declared = plugin(project, plugin_type, name)["capabilities"]
    assert sorted(declared) == sorted(about(name)["capabilities"])


@pytest.mark.parametrize(("plugin_type", "name"), OWN_PLUGINS.items(), ids=OWN_PLUGINS.values())
def test_auth_alternatives_are_declared_settings(project, plugin_type, name):
    entry = plugin(project, plugin_type, name)
    declared = {s["name"] for s in entry["settings"]}
    groups = entry["settings_group_validation"]
    assert ["api_key"] in groups
    assert all(set(group) <= declared for group in groups)


def test_env_example_names_only_declared_settings_and_every_secret(project):
    text = (PROJECT_ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    known = {"MELTANO_ENVIRONMENT", "MELTANO_DATABASE_URI", "MELTANO_STATE_BACKEND_URI"}
    secrets = set()
    for plugin_type in ("extractors", "loaders"):
        for entry in project["plugins"][plugin_type]:
            prefix = entry["name"].upper().replace("-", "_")
            parent = plugin(project, plugin_type, entry.get("inherit_from", entry["name"]))
            settings = parent["settings"]
            for setting in settings:
                var = f"{prefix}_{setting['name'].upper()}"
                known.add(var)
                if setting.get("sensitive") and "inherit_from" not in entry:
                    secrets.add(var)
    assert names - known == set(), "variables that are no setting"
    assert secrets - names == set(), "secrets missing from .env.example"


def test_every_job_and_schedule_is_runnable(project, tmp_path):
    jobs = [job["name"] for job in project["jobs"]]
    assert {s["job"] for s in project["schedules"]} <= set(jobs)
    assert all(s["interval"] == "@daily" for s in project["schedules"])
    # --dry-run resolves every block (plugins, jobs) without running anything.
    Meltano(system_db=tmp_path / "meltano.db", environment="prod").command(
        "run", "--dry-run", *jobs
    )
