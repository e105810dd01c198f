"""The HTTP layer against the sandbox: limits, faults and the connection check in every mode."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tap_getresponse.api import GetResponseAPIError, GetResponseClient, RateGovernor
from tests.sandbox import Limits, OAuthApp, Scale

SMALL = Scale(contacts=50)


def client_for(sb, **config) -> GetResponseClient:
    settings = {"api_url": sb.url, **config}
    if not any(k in settings for k in ("api_key", "access_token", "client_id")):
        settings["api_key"] = sb.api_key
    return GetResponseClient(settings, governor=RateGovernor())


def test_eleven_parallel_callers_never_exceed_ten_in_flight(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, latency=0.05, limits=Limits(frame_calls=100_000))
    client = client_for(sb)
    with ThreadPoolExecutor(max_workers=11) as pool:
        statuses = list(
            pool.map(lambda _: client.request("GET", "/campaigns").status_code, range(110))
        )
    assert statuses == [200] * 110
    assert sb.max_in_flight_seen == 10
    assert sb.concurrency_violations == 0


def test_exhausted_frame_is_waited_out_and_no_call_is_lost(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, limits=Limits(frame_calls=15, frame_seconds=2))
    client = client_for(sb)
    started = time.monotonic()
    results = [client.request("GET", "/campaigns").status_code for _ in range(40)]
    assert results == [200] * 40
    assert time.monotonic() - started >= 2  # at least one frame had to roll over
    answered = [entry for entry in sb.log if entry.path == "/campaigns" and entry.status == 200]
    assert len(answered) == 40


def test_per_second_429s_are_retried(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, limits=Limits(per_second=5))
    # A governor that allows more than the server: the server's 429s must be handled.
    client = GetResponseClient(
        {"api_url": sb.url, "api_key": sb.api_key}, governor=RateGovernor(per_second=1000)
    )
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: client.request("GET", "/tags").status_code, range(20)))
    assert statuses == [200] * 20
    assert any(entry.status == 429 for entry in sb.log)


def test_injected_5xx_and_dropped_connections_are_retried(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    client = client_for(sb)
    sb.faults.fail_next(2, status=503)
    sb.faults.drop_next(1)
    assert client.request("GET", "/campaigns").status_code == 200
    assert [entry.status for entry in sb.log][-1] == 200


def test_connection_check_retail(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    assert "Connection OK" in client_for(sb).check_connection()


def test_connection_check_max_needs_the_domain(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, domain="brand.example.com")
    assert (
        "X-Domain brand.example.com"
        in client_for(sb, domain="brand.example.com").check_connection()
    )
    with pytest.raises(GetResponseAPIError, match="domain"):
        client_for(sb).check_connection()
    assert sb.log[-1].x_domain is None


def test_connection_check_oauth_refresh(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, oauth=OAuthApp(rotate_refresh_token=True))
    client = client_for(sb, client_id="cid", client_secret="csecret", refresh_token="rt-1")
    assert "Connection OK" in client.check_connection()
    assert [entry.auth_kind for entry in sb.log] == ["basic", "bearer"]


def test_connection_check_fails_on_a_wrong_key(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    with pytest.raises(GetResponseAPIError, match="api_key"):
        client_for(sb, api_key="wrong-key").check_connection()


def test_connection_check_fails_when_the_token_cannot_be_refreshed(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    client = client_for(sb, client_id="cid", client_secret="csecret", refresh_token="revoked")
    with pytest.raises(GetResponseAPIError, match="refresh"):
        client.check_connection()


def test_tap_test_flag_says_in_plain_words(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(scale=SMALL)
    config = tmp_path / "config.json"
    config.write_text(f'{{"api_url": "{sb.url}", "api_key": "wrong-key-123"}}')
    tap = str(Path(sys.executable).parent / "tap-getresponse")
    result = subprocess.run(
        [tap, "--config", str(config), "--test"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "Connection check failed" in result.stderr
    assert "wrong-key-123" not in result.stdout + result.stderr
    config.write_text(f'{{"api_url": "{sb.url}", "api_key": "{sb.api_key}"}}')
    result = subprocess.run(
        [tap, "--config", str(config), "--test"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Connection OK" in result.stdout
