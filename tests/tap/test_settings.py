"""TapSettings: the tap's settings parsed once, with the defaults `--about` shows (no HTTP)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess

import pytest

from tap_getresponse.api.settings import ConnectionSettings
from tap_getresponse.settings import DEFAULTS, TapSettings
from tap_getresponse.streams import STREAMS
from tap_getresponse.tap import TapGetResponse
from tests.tap.conftest import TAP


def test_defaults_are_those_of_the_config_schema() -> None:
    schema = TapGetResponse.config_jsonschema["properties"]
    assert set(DEFAULTS) == {
        "page_size",
        "lookback_minutes",
        "statistics_lookback_days",
        "strict_values",
        "activity_reports",
    }
    assert {name: schema[name]["default"] for name in DEFAULTS} == dict(DEFAULTS)
    assert TapSettings.from_config({}) == TapSettings(
        start_date=None,
        page_size=schema["page_size"]["default"],
        lookback=dt.timedelta(minutes=schema["lookback_minutes"]["default"]),
        statistics_lookback=dt.timedelta(days=schema["statistics_lookback_days"]["default"]),
        connection=ConnectionSettings(),
        strict_values=schema["strict_values"]["default"],
        activity_reports=schema["activity_reports"]["default"],
    )


def test_settings_come_from_the_config() -> None:
    settings = TapSettings.from_config(
        {
            "start_date": "2024-01-01",
            "page_size": 50,
            "lookback_minutes": 5,
            "statistics_lookback_days": 0,
            "api_key": " not a tap setting ",
        }
    )
    assert settings.start_date == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert settings.page_size == 50
    assert settings.lookback == dt.timedelta(minutes=5)
    assert settings.statistics_lookback == dt.timedelta(0)
    assert settings.connection.api_key == "not a tap setting"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.page_size = 7  # type: ignore[misc]


def test_discovery_builds_no_client_and_reads_no_setting() -> None:
    tap = TapGetResponse(
        config={"start_date": "not a date"}, parse_env_config=False, validate_config=False
    )
    assert len(tap.streams) == len(STREAMS)
    assert all(stream.run is tap.run for stream in tap.streams.values())
    assert "api" not in vars(tap.run)
    assert "settings" not in vars(tap.run)


def test_discovery_with_credentials_checks_the_url_first_one_line_no_request(
    make_sandbox, tmp_path
) -> None:
    sb = make_sandbox()
    # The sandbox's own address with a password in it: refused before any request.
    api_url = sb.url.replace("://", "://someone:hunter2@")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": sb.api_key, "api_url": api_url}))
    done = subprocess.run(
        [TAP, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    [error] = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert "`api_url` must not hold a user name or password" in error
    assert "hunter2" not in done.stderr
    assert "Traceback" not in done.stderr
    assert sb.log == []  # nothing was asked of the sandbox


def test_discovery_without_credentials_still_lists_the_streams(tmp_path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_url": "https://api.getresponse.com:x/v3"}))
    done = subprocess.run(
        [TAP, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["streams"]) == len(STREAMS)
