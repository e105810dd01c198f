"""plugins/*/*.yml, the definitions other Meltano projects add, match the plugins' live --about."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from scripts import plugin_definitions
from scripts.runner import PROJECT_ROOT, Meltano

#: Executable -> Meltano plugin type, and where its definition lives.
PLUGINS = {
    "tap-getresponse": ("extractors", PROJECT_ROOT / "plugins/extractors/tap-getresponse.yml"),
    "target-getresponse": ("loaders", PROJECT_ROOT / "plugins/loaders/target-getresponse.yml"),
}
#: Meltano `kind` for each non-null JSON Schema type of an --about setting.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}


@pytest.fixture(scope="module")
def abouts():
    """Each plugin's live `--about --format=json`, read once per module."""
    found = {}
    for name in PLUGINS:
        result = subprocess.run(
            [str(Path(sys.executable).with_name(name)), "--about", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        found[name] = json.loads(result.stdout)
    return found


def definition(name):
    return yaml.safe_load(PLUGINS[name][1].read_text())


def json_type(schema):
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    return next((t for t in types if t != "null"), None)


def expected_kind(schema):
    if "enum" in schema:
        return "options"
    if json_type(schema) == "string" and schema.get("format") in {"date-time", "date"}:
        return "date_iso8601"
    return KINDS[json_type(schema)]


def repository():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return project["urls"]["Repository"]


@pytest.mark.parametrize("name", PLUGINS)
def test_every_about_setting_is_defined_with_its_kind_description_and_secrecy(abouts, name):
    live = abouts[name]["settings"]["properties"]
    declared = {s["name"]: s for s in definition(name)["settings"]}
    assert sorted(declared) == sorted(live), "settings differ from --about: make plugin-definitions"
    for setting, schema in live.items():
        entry = declared[setting]
        assert entry["kind"] == expected_kind(schema), f"{setting}: kind"
        assert entry.get("label"), f"{setting}: no label"
        assert schema.get("description"), f"{setting}: --about has no description"
        assert entry.get("description") == schema["description"], f"{setting}: description"
        secret = bool(schema.get("secret") or schema.get("writeOnly"))
        assert bool(entry.get("sensitive")) == secret, f"{setting}: sensitive should be {secret}"
        assert entry.get("value") == schema.get("default"), f"{setting}: default value"
        if "enum" in schema:
            options = [option["value"] for option in entry["options"]]
            assert options == [v for v in schema["enum"] if v is not None], f"{setting}: options"


@pytest.mark.parametrize("name", PLUGINS)
def test_capabilities_are_the_about_capabilities(abouts, name):
    assert sorted(definition(name)["capabilities"]) == sorted(abouts[name]["capabilities"])


@pytest.mark.parametrize("name", PLUGINS)
def test_definition_installs_this_repository_and_runs_the_plugin(name):
    entry = definition(name)
    assert entry["name"] == entry["executable"] == name
    assert entry["namespace"] == name.replace("-", "_")
    assert entry["variant"]
    assert entry["pip_url"] == f"git+{repository().rstrip('/')}.git"
    assert entry["repo"] == repository().rstrip("/")


@pytest.mark.parametrize("name", PLUGINS)
def test_credential_groups_name_defined_settings(name):
    entry = definition(name)
    declared = {s["name"] for s in entry["settings"]}
    groups = entry["settings_group_validation"]
    assert ["api_key"] in groups
    assert all(group and set(group) <= declared for group in groups)


@pytest.mark.parametrize("name", PLUGINS)
def test_definition_is_what_make_plugin_definitions_writes(abouts, name):
    current = plugin_definitions.render(name, abouts[name])
    assert PLUGINS[name][1].read_text() == current, "run make plugin-definitions"


def test_meltano_adds_both_definitions_to_a_new_project(tmp_path, abouts):
    project_root = tmp_path / "project"
    project_root.mkdir()
    (project_root / "meltano.yml").write_text(
        "default_environment: dev\nsend_anonymous_usage_stats: false\nenvironments:\n- name: dev\n"
    )
    meltano = Meltano(system_db=tmp_path / "meltano.db", project_root=project_root)
    for name, (_, path) in PLUGINS.items():
        meltano.command("add", name, "--from-ref", str(path), "--no-install")
    added = yaml.safe_load((project_root / "meltano.yml").read_text())["plugins"]
    for name, (plugin_type, _) in PLUGINS.items():
        assert [p["name"] for p in added[plugin_type]] == [name]
        entry = added[plugin_type][0]
        assert entry["pip_url"] == definition(name)["pip_url"]
        settings = {s["name"]: s for s in entry["settings"]}
        assert sorted(settings) == sorted(abouts[name]["settings"]["properties"])
        secrets = {s for s, v in settings.items() if v.get("sensitive")}
        assert "api_key" in secrets
    assert set(added) == {"extractors", "loaders"}
