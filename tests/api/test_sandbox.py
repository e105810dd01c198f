"""The HTTP layer against the GetResponse sandbox: limits, faults, auth modes, connection check."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tap_getresponse.api import (
    ConnectionCheckError,
    GetResponseAPIError,
    GetResponseClient,
    RateGovernor,
)
from tests.sandbox import Limits, OAuthApp, Scale
from tests.sandbox.listing import ListQuery
from tests.sandbox.util import fmt_ts

SMALL = Scale(contacts=30)
DOMAIN = "brand.example.com"
OAUTH = OAuthApp(client_id="cid", client_secret="csecret-value", refresh_token="rt-initial")
# Only the limit under test is tight; the others stay out of the way.
OPEN = {"frame_calls": 1_000_000, "per_second": 100_000, "reject_over_concurrency": True}


def client_for(sb, governor=None, **config) -> GetResponseClient:
    settings = dict(config)
    if "api_url" not in settings:
        settings["api_url"] = sb.url
    if not {"api_key", "access_token", "client_id"} & settings.keys():
        settings["api_key"] = sb.api_key
    client = GetResponseClient(settings, governor=governor or RateGovernor())
    client.session.sleep = lambda _seconds: time.sleep(0.01)  # keep backoff short
    return client


def hammer(client: GetResponseClient, callers: int, calls_each: int, path: str = "/campaigns"):
    def work(_n: int) -> list[int]:
        return [client.request("GET", path).status_code for _ in range(calls_each)]

    with ThreadPoolExecutor(callers) as pool:
        return [status for statuses in pool.map(work, range(callers)) for status in statuses]


def test_eleven_parallel_callers_never_exceed_ten_in_flight(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, latency=0.03, limits=Limits(**OPEN))
    client = client_for(sb)
    statuses = hammer(client, callers=11, calls_each=6)
    assert statuses == [200] * 66
    assert sb.max_in_flight_seen == 10
    assert max(entry.in_flight for entry in sb.log) <= 10
    assert sb.concurrency_violations == 0
    assert all(entry.status == 200 for entry in sb.log)  # not one 429 for concurrency
    assert client.governor.stats.peak_in_flight == 10


def test_max_parallel_requests_caps_one_client_lower(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, latency=0.02, limits=Limits(**OPEN))
    hammer(client_for(sb, max_parallel_requests=3), callers=8, calls_each=3)
    assert sb.max_in_flight_seen <= 3


def test_two_clients_share_the_process_wide_limit(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, latency=0.03, limits=Limits(**OPEN))
    governor = RateGovernor()
    tap, target = client_for(sb, governor), client_for(sb, governor)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(hammer, c, 8, 4) for c in (tap, target)]
        assert all(run.result() == [200] * 32 for run in runs)
    assert sb.max_in_flight_seen <= 10
    assert sb.concurrency_violations == 0


def test_exhausted_frame_is_waited_out_and_every_call_succeeds(make_sandbox) -> None:
    limits = Limits(frame_calls=20, frame_seconds=3, per_second=100_000)
    sb = make_sandbox(scale=SMALL, limits=limits)
    client = client_for(sb)
    started = time.monotonic()
    statuses = hammer(client, callers=4, calls_each=12)  # 48 calls: three frames
    assert statuses == [200] * 48
    assert time.monotonic() - started >= 2 * 3 - 0.5
    stats = client.governor.stats
    assert stats.waits > 0
    # The frame headers are a budget: no request leaves that the frame cannot take.
    assert sum(entry.status == 429 for entry in sb.log) == 0


def test_per_second_429_with_retry_after_is_waited_out(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, limits=Limits(frame_calls=1_000_000, per_second=5))
    client = client_for(sb)
    statuses = hammer(client, callers=3, calls_each=5)
    assert statuses == [200] * 15
    throttled = [entry for entry in sb.log if entry.status == 429]
    assert throttled
    assert client.governor.stats.throttled == len(throttled)
    assert client.governor.stats.retries == 0  # 429s are waits, not retries


def test_batch_endpoint_is_paced_to_one_call_per_second(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, limits=Limits(**OPEN, batch_per_second=1, batch_per_frame=80))
    client = client_for(sb)
    campaign = sb.data.campaigns[0]["campaignId"]
    for n in range(3):
        body = {"campaignId": campaign, "contacts": [{"email": f"b{n}@example.org"}]}
        assert client.request("POST", "/contacts/batch", json=body).status_code == 202
    batch = [entry for entry in sb.log if entry.path == "/contacts/batch"]
    assert [entry.status for entry in batch] == [202, 202, 202]
    assert batch[-1].started - batch[0].started >= 1.9


def test_injected_5xx_and_dropped_connections_are_retried(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    client = client_for(sb)
    sb.faults.fail_next(2, status=503, path="/campaigns")
    sb.faults.drop_next(1, path="/campaigns")
    assert client.request("GET", "/campaigns").status_code == 200
    campaigns = [entry for entry in sb.log if entry.path == "/campaigns"]
    # The sandbox drops before it fails, whatever order the faults were queued in.
    assert [entry.status for entry in campaigns] == [None, 503, 503, 200]
    assert campaigns[0].dropped
    assert client.governor.stats.retries == 3


def test_a_post_that_may_have_been_applied_is_not_resent_by_default(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    client = client_for(sb)
    campaign = sb.data.campaigns[0]["campaignId"]
    sb.faults.fail_after_apply_next(1, path="/contacts")
    body = {"email": "applied@example.org", "campaign": {"campaignId": campaign}}
    with pytest.raises(GetResponseAPIError) as caught:
        client.request("POST", "/contacts", json=body)
    assert caught.value.http_status == 500
    assert [entry.status for entry in sb.log if entry.path == "/contacts"] == [500]
    # It was applied: re-sending it would have met 409 (already on the list).
    with pytest.raises(GetResponseAPIError) as again:
        client.request("POST", "/contacts", json=body)
    assert again.value.http_status == 409


def test_a_post_is_resent_when_the_caller_allows_it(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    client = client_for(sb)
    campaign = sb.data.campaigns[0]["campaignId"]
    sb.faults.fail_next(1, status=502, path="/contacts")
    sb.faults.drop_next(1, path="/contacts")
    body = {"email": "resend@example.org", "campaign": {"campaignId": campaign}}
    assert client.request("POST", "/contacts", json=body, retry_post=True).status_code == 202
    assert [entry.status for entry in sb.log if entry.path == "/contacts"] == [None, 502, 202]


def test_dropped_post_is_not_resent_by_default(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    sb.faults.drop_next(1, path="/contacts")
    campaign = sb.data.campaigns[0]["campaignId"]
    body = {"email": "dropped@example.org", "campaign": {"campaignId": campaign}}
    with pytest.raises(requests.exceptions.ConnectionError):
        client_for(sb).request("POST", "/contacts", json=body)
    assert len([entry for entry in sb.log if entry.path == "/contacts"]) == 1


# ---- connection check in every auth mode ------------------------------------------------------


def test_check_passes_in_retail_mode(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    verdict = client_for(sb, user_agent="check-test/1").check_connection()
    account = sb.log[-1]
    assert verdict.startswith("Connected to GetResponse as ")
    assert f"via 127.0.0.1:{sb.url.split(':')[2].split('/')[0]}" in verdict
    assert "domain" not in verdict
    assert (account.path, account.auth_kind, account.x_domain) == ("/accounts", "api-key", None)
    assert account.user_agent == "check-test/1"


def test_check_passes_in_max_mode_with_x_domain(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, domain=DOMAIN)
    verdict = client_for(sb, domain=DOMAIN).check_connection()
    assert verdict.endswith(f", domain {DOMAIN}")
    assert all(entry.x_domain == DOMAIN for entry in sb.log)


def test_check_passes_with_oauth_refresh_in_max_mode(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, domain=DOMAIN, oauth=OAUTH)
    client = client_for(
        sb,
        domain=DOMAIN,
        client_id="cid",
        client_secret="csecret-value",
        refresh_token="rt-initial",
    )
    assert client.check_connection().startswith("Connected to GetResponse as ")
    token, account = sb.log
    assert (token.path, token.auth_kind, token.x_domain) == ("/token", "basic", DOMAIN)
    assert (account.auth_kind, account.x_domain) == ("bearer", DOMAIN)


def test_check_passes_with_an_access_token(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    token = sb.issue_access_token()
    assert client_for(sb, access_token=token).check_connection().startswith("Connected")


def test_check_fails_clearly_for_a_wrong_key(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    with pytest.raises(ConnectionCheckError) as caught:
        client_for(sb, api_key="wrong-api-key-value").check_connection()
    message = str(caught.value)
    assert caught.value.setting == "api_key"
    assert "rejected the API key (`api_key`)" in message
    assert "wrong-api-key-value" not in message


def test_check_fails_clearly_without_x_domain(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, domain=DOMAIN)
    with pytest.raises(ConnectionCheckError) as caught:
        client_for(sb).check_connection()
    assert caught.value.setting == "domain"
    assert "set `domain`" in str(caught.value)


def test_check_fails_clearly_for_a_wrong_domain(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, domain=DOMAIN)
    with pytest.raises(ConnectionCheckError) as caught:
        client_for(sb, domain="other.example.com").check_connection()
    assert caught.value.setting == "domain"
    assert "X-Domain other.example.com" in str(caught.value)


def test_check_fails_clearly_for_an_expired_token_that_cannot_be_refreshed(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    token = sb.issue_access_token(ttl=0)
    with pytest.raises(ConnectionCheckError) as caught:
        client_for(sb, access_token=token).check_connection()
    message = str(caught.value)
    assert caught.value.setting == "access_token"
    assert "expired and cannot be refreshed" in message
    assert token not in message


def test_check_fails_clearly_for_a_refused_refresh_token(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, oauth=OAUTH)
    client = client_for(
        sb, client_id="cid", client_secret="csecret-value", refresh_token="rt-revoked"
    )
    with pytest.raises(ConnectionCheckError) as caught:
        client.check_connection()
    message = str(caught.value)
    assert caught.value.setting == "refresh_token"
    assert "OAuth access token" in message
    assert "rt-revoked" not in message
    assert "csecret-value" not in message


def test_check_fails_clearly_for_a_wrong_client_secret(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL, oauth=OAUTH)
    client = client_for(sb, client_id="cid", client_secret="not-the-secret", refresh_token="rt-1")
    with pytest.raises(ConnectionCheckError) as caught:
        client.check_connection()
    assert caught.value.setting == "client_secret"
    assert "not-the-secret" not in str(caught.value)


def test_check_fails_clearly_for_an_unreachable_url(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    url = sb.url
    sb.stop()
    client = client_for(sb, api_url=url)
    with pytest.raises(ConnectionCheckError) as caught:
        client.check_connection()
    assert caught.value.setting == "api_url"
    refused = f"Could not connect to {url.removesuffix('/v3')}: the connection was refused"
    assert str(caught.value).startswith(refused)


def test_check_fails_clearly_for_a_url_without_the_api(make_sandbox) -> None:
    sb = make_sandbox(scale=SMALL)
    with pytest.raises(ConnectionCheckError) as caught:
        client_for(sb, api_url=sb.url.removesuffix("/v3") + "/v2").check_connection()
    assert caught.value.setting == "api_url"


# ---- OAuth during a run ------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_once_and_the_request_replayed(make_sandbox) -> None:
    oauth = OAuthApp(client_id="cid", client_secret="csecret-value", refresh_token="rt-1")
    sb = make_sandbox(scale=SMALL, oauth=oauth)
    client = client_for(sb, client_id="cid", client_secret="csecret-value", refresh_token="rt-1")
    client.request("GET", "/campaigns")
    sb.expire_access_tokens()
    sb.clear_log()
    assert client.request("GET", "/campaigns").status_code == 200
    assert [(entry.path, entry.status) for entry in sb.log] == [
        ("/campaigns", 401),
        ("/token", 200),
        ("/campaigns", 200),
    ]


def test_rotated_refresh_token_is_kept_for_the_rest_of_the_run(make_sandbox, caplog) -> None:
    oauth = OAuthApp(
        client_id="cid",
        client_secret="csecret-value",
        refresh_token="rt-1",
        rotate_refresh_token=True,
    )
    sb = make_sandbox(scale=SMALL, oauth=oauth)
    client = client_for(sb, client_id="cid", client_secret="csecret-value", refresh_token="rt-1")
    caplog.set_level("INFO")
    for _ in range(3):  # each round: the token expires, the latest refresh token gets a new one
        assert client.request("GET", "/campaigns").status_code == 200
        sb.expire_access_tokens()
    assert client.request("GET", "/campaigns").status_code == 200
    assert client.authenticator.refresh_token == sb.refresh_token != "rt-1"
    assert "new OAuth refresh token" in caplog.text
    assert sb.refresh_token not in caplog.text


def test_parallel_401s_lead_to_one_refresh(make_sandbox) -> None:
    oauth = OAuthApp(
        client_id="cid",
        client_secret="csecret-value",
        refresh_token="rt-1",
        rotate_refresh_token=True,
    )
    sb = make_sandbox(scale=SMALL, oauth=oauth, latency=0.02)
    client = client_for(sb, client_id="cid", client_secret="csecret-value", refresh_token="rt-1")
    client.request("GET", "/campaigns")
    sb.expire_access_tokens()
    sb.clear_log()
    assert hammer(client, callers=8, calls_each=1) == [200] * 8
    assert len([entry for entry in sb.log if entry.path == "/token"]) == 1


def test_tap_test_flag_says_in_plain_words(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(scale=SMALL)
    config = tmp_path / "config.json"
    config.write_text(f'{{"api_url": "{sb.url}", "api_key": "wrong-key-123"}}')
    tap = str(Path(sys.executable).parent / "tap-getresponse")
    command = [tap, "--config", str(config), "--test"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 1
    assert "Connection check failed: GetResponse rejected the API key" in result.stderr
    assert "wrong-key-123" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    config.write_text(f'{{"api_url": "{sb.url}", "api_key": "{sb.api_key}"}}')
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Connected to GetResponse as ***@brand.test (account ")
    assert "owner@" not in result.stdout + result.stderr


def test_windows_by_changed_on_are_the_general_selection(make_sandbox):
    # The sandbox serves `sort[changedOn]=asc` windows from one sorted copy per store version
    # (a tap's window ends at its run's start, so every run asked for a new sort): the same
    # rows in the same order as filtering and sorting, through deletes and updates.
    sb = make_sandbox(scale=Scale(contacts=2000), seed=5)
    store = sb.data.contacts_store
    rng = random.Random(5)
    for _ in range(4):
        for _ in range(40):
            row = rng.randrange(len(store.created))
            if store.alive[row]:
                store.update(row, {"note": "x"}) if rng.random() < 0.5 else store.delete(row)
        low, high = sorted(rng.choice(list(store.changed)) for _ in range(2))
        for bounds in ({"from": low, "to": high}, {"to": high}, {}):
            query = ListQuery.parse("")
            query.ranges = (
                {"changedOn": {k: fmt_ts(v) for k, v in bounds.items()}} if bounds else {}
            )
            query.sort = [("changedOn", False)]
            fast = list(store.select(query))
            assert fast == list(store._select(query, None))  # noqa: SLF001
            assert fast
