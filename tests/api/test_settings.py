"""Connection settings: each mistake is one error line that names the setting."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    ConfigError,
    ConnectionSettings,
    check_connection_settings,
)
from tap_getresponse.api.settings import DEFAULT_SETTINGS

KEY = "s3cr3t-api-key-value"


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({}, "api_key"),
        ({"api_key": KEY, "access_token": "tok-123456"}, "access_token"),
        ({"api_key": KEY, "client_id": "c", "client_secret": "s", "refresh_token": "r"}, "OAuth"),
        ({"client_id": "c", "refresh_token": "r"}, "client_secret"),
        ({"api_key": KEY, "domain": "https://example.com"}, "domain"),
        ({"api_key": KEY, "domain": "example.com/path"}, "domain"),
        ({"api_key": KEY, "domain": "www.example.com"}, "domain"),
        ({"api_key": KEY, "api_url": "http://api.getresponse.com/v3"}, "api_url"),
        ({"api_key": KEY, "api_url": "ftp://x"}, "api_url"),
        ({"api_key": KEY, "api_url": "api.getresponse.com/v3"}, "api_url"),
        ({"access_token": KEY, "client_secret": "s"}, "OAuth"),
        ({"client_id": "c", "client_secret": KEY}, "refresh_token"),
        ({"api_key": KEY, "domain": "brand"}, "domain"),
        ({"api_key": KEY, "max_parallel_requests": 11}, "max_parallel_requests"),
        ({"api_key": KEY, "max_parallel_requests": 0}, "max_parallel_requests"),
        ({"api_key": KEY, "request_timeout": 0}, "request_timeout"),
        ({"api_key": KEY, "api_url": f"https://user:{KEY}@api.getresponse.com/v3"}, "api_url"),
        ({"api_key": KEY, "api_url": "https://api.getresponse.com:99999/v3"}, "api_url"),
        ({"api_key": KEY, "api_url": "https://api.getresponse.com:x/v3"}, "api_url"),
    ],
    ids=[
        "no-auth",
        "two-auths",
        "key-and-oauth",
        "partial-oauth",
        "domain-scheme",
        "domain-path",
        "domain-www",
        "plain-http",
        "bad-scheme",
        "no-scheme",
        "token-and-partial-oauth",
        "partial-oauth-no-refresh-token",
        "domain-not-dotted",
        "parallel-above-10",
        "parallel-zero",
        "timeout-zero",
        "password-in-url",
        "port-out-of-range",
        "port-not-a-number",
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(config: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_connection_settings(config)
    message = str(caught.value)
    assert setting in message
    assert "\n" not in message
    assert KEY not in message


@pytest.mark.parametrize(
    "api_url",
    ["http://127.0.0.1:8080/v3", "http://127.1.2.3/v3", "http://localhost/v3", "http://[::1]:1/v3"],
)
def test_plain_http_is_allowed_on_loopback(api_url: str) -> None:
    assert check_connection_settings({"api_key": KEY, "api_url": api_url}) == []


def test_max_host_without_domain_warns() -> None:
    warnings = check_connection_settings(
        {"api_key": KEY, "api_url": "https://api3.getresponse360.com/v3"}
    )
    assert len(warnings) == 1
    assert "domain" in warnings[0]


def test_retail_host_with_domain_warns() -> None:
    warnings = check_connection_settings({"api_key": KEY, "domain": "example.com"})
    assert len(warnings) == 1
    assert "X-Domain" in warnings[0]


@pytest.mark.parametrize(
    "config",
    [
        {"api_key": KEY},
        {"access_token": KEY},
        {"client_id": "c", "client_secret": KEY, "refresh_token": KEY},
        {"api_key": KEY, "api_url": "https://api3.getresponse360.pl/v3", "domain": "brand.pl"},
    ],
    ids=["api-key", "access-token", "oauth", "max-pl"],
)
def test_good_settings_pass_quietly(config: dict) -> None:
    assert check_connection_settings(config) == []


def test_credentials_are_secret_settings() -> None:
    properties = CONNECTION_SETTINGS.to_dict()["properties"]
    secret = {name for name, schema in properties.items() if schema.get("secret")}
    assert secret == {"api_key", "access_token", "client_secret", "refresh_token"}
    assert properties["max_parallel_requests"]["maximum"] == 10


def test_schema_defaults_are_the_typed_settings_defaults() -> None:
    properties = CONNECTION_SETTINGS.to_dict()["properties"]
    declared = {
        name: schema["default"] for name, schema in properties.items() if "default" in schema
    }
    typed = {
        field.name: getattr(DEFAULT_SETTINGS, field.name)
        for field in dataclasses.fields(ConnectionSettings)
        if getattr(DEFAULT_SETTINGS, field.name) not in (None, ())
    }
    assert declared == typed
    assert declared["max_parallel_requests"] == 10
    assert set(typed) <= set(properties)


def test_settings_are_read_once_trimmed_and_defaulted() -> None:
    settings = ConnectionSettings.from_config(
        {
            "api_key": f" {KEY}\n",
            "api_url": "",
            "request_timeout": None,
            "max_parallel_requests": 3,
            "domain": " brand.example.com ",
            "start_date": "2024-01-01",  # a plugin's own setting is not a connection setting
        }
    )
    assert settings.api_key == KEY
    assert settings.domain == "brand.example.com"
    assert settings.api_url == DEFAULT_SETTINGS.api_url
    assert settings.request_timeout == DEFAULT_SETTINGS.request_timeout
    assert settings.max_parallel_requests == 3
    assert settings.auth_methods == ["api_key"]
    assert set(settings.secrets) == {f" {KEY}\n", KEY}
    assert KEY not in repr(settings)


@pytest.mark.parametrize("executable", ["tap-getresponse", "target-getresponse"])
def test_cli_rejects_bad_config_without_traceback_or_secret(tmp_path, executable: str) -> None:
    if executable == "target-getresponse":
        pytest.importorskip("target_getresponse.target", reason="the target is not built yet")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": KEY, "domain": "https://brand.example.com"}))
    result = subprocess.run(
        [str(Path(sys.executable).parent / executable), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        input="",
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "`domain`" in output
    assert "Traceback" not in output
    assert KEY not in output
