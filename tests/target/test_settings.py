"""TargetSettings: one typed, frozen object per run, its defaults taken from the config schema."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from target_getresponse.settings import DEFAULTS, TARGET_SETTINGS, TargetSettings
from target_getresponse.target import TargetGetResponse
from tests.target.conftest import TARGET

SCHEMA = TARGET_SETTINGS.to_dict()["properties"]


def test_every_target_setting_is_a_field_and_every_field_a_setting() -> None:
    assert {f.name for f in dataclasses.fields(TargetSettings)} == set(SCHEMA)


def test_an_empty_config_gives_the_schema_defaults() -> None:
    settings = TargetSettings.from_config({})
    for name, schema in SCHEMA.items():
        expected = schema.get("default")
        if name == "custom_field_mapping":
            assert dict(settings.custom_field_mapping) == {}
        else:
            assert getattr(settings, name) == expected, name
    assert settings.load_method == "add"
    assert settings.create_missing_tags is True
    assert settings.verify_timeout_seconds == 300


@pytest.mark.parametrize("unset", [None, ""], ids=["null", "empty-string"])
def test_null_and_empty_strings_are_unset(unset) -> None:
    config = dict.fromkeys(SCHEMA, unset)
    assert TargetSettings.from_config(config) == TargetSettings.from_config({})


def test_configured_values_win_over_defaults() -> None:
    settings = TargetSettings.from_config(
        {
            "campaign_id": "L1",
            "create_missing_tags": False,
            "load_method": "upsert",
            "verify_timeout_seconds": 0,
            "custom_field_mapping": {"Tier": "customer_tier"},
        }
    )
    assert settings.campaign_id == "L1"
    assert settings.create_missing_tags is False
    assert settings.load_method == "upsert"
    assert settings.verify_timeout_seconds == 0
    assert dict(settings.custom_field_mapping) == {"Tier": "customer_tier"}


def test_settings_cannot_change_during_a_run() -> None:
    settings = TargetSettings.from_config({"custom_field_mapping": {"a": "b"}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.load_method = "upsert"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.custom_field_mapping["c"] = "d"  # type: ignore[index]


@pytest.mark.parametrize(
    ("verify", "dry_run", "verifying"),
    [(True, False, True), (True, True, False), (False, False, False)],
    ids=["verify", "dry-run-adds-nothing", "off"],
)
def test_a_dry_run_verifies_nothing(verify, dry_run, verifying) -> None:
    settings = TargetSettings.from_config({"verify": verify, "dry_run": dry_run})
    assert settings.verifying is verifying


def test_the_plugin_reads_its_settings_once_with_the_same_defaults() -> None:
    target = TargetGetResponse(
        config={"api_key": "sandbox-api-key", "api_url": "http://127.0.0.1:9/v3"},
        validate_config=True,
    )
    assert target.settings == TargetSettings.from_config({})
    assert target.load_run.settings is target.settings
    schema = TargetGetResponse.config_jsonschema["properties"]
    assert {name: schema[name].get("default") for name in SCHEMA} == dict(DEFAULTS)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{", "is not JSON"),
        ("[1, 2]", "holds an array"),
        (None, "No such file"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["not JSON", "not an object", "missing", "nested too deeply", "not UTF-8"],
)
def test_a_config_file_that_is_not_a_json_object_is_one_line_naming_it(tmp_path, content, words):
    path = tmp_path / "config.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    done = subprocess.run(
        [TARGET, "--config", str(path)],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = [text for text in done.stderr.splitlines() if "| ERROR" in text]
    assert f"--config {path}" in line
    assert words in line
