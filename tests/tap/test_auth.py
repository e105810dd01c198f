"""Retail, MAX, OAuth bearer and refresh; credentials never reach stdout, stderr or state."""

from __future__ import annotations

import json

from tests.sandbox import OAuthApp, Scale
from tests.tap.conftest import run_cli, run_sync

SCALE = Scale(contacts=30, newsletters=3, campaigns=2)
STREAMS = ("contacts", "contact_details", "campaigns", "newsletter_statistics")
API_KEY = "k3y-" + "7f1c9a" * 5
CLIENT_SECRET = "s3cret-" + "b2" * 12
REFRESH_TOKEN = "rt-" + "9e" * 12


def assert_complete(sb, result):
    assert sorted(result.ids("contact_details", "contactId")) == sorted(
        c["contactId"] for c in sb.data.contacts
    )
    assert len(result.records["campaigns"]) == 2


def test_retail_api_key(make_sandbox):
    sb = make_sandbox(scale=SCALE, api_key=API_KEY)
    result = run_sync({"api_url": sb.url, "api_key": API_KEY}, streams=STREAMS)
    assert_complete(sb, result)
    assert {r.auth_kind for r in sb.log} == {"api-key"}
    assert {r.x_domain for r in sb.log} == {None}


def test_max_account_sends_its_domain_on_every_request(make_sandbox):
    sb = make_sandbox(scale=SCALE, domain="brand.example.com")
    config = {"api_url": sb.url, "api_key": sb.api_key, "domain": "brand.example.com"}
    result = run_sync(config, streams=STREAMS)
    assert_complete(sb, result)
    assert {r.x_domain for r in sb.log} == {"brand.example.com"}


def test_oauth_bearer_token(make_sandbox):
    sb = make_sandbox(scale=SCALE)
    token = sb.issue_access_token()
    result = run_sync({"api_url": sb.url, "access_token": token}, streams=STREAMS)
    assert_complete(sb, result)
    assert {r.auth_kind for r in sb.log} == {"bearer"}


def test_oauth_refresh_when_the_token_expires_mid_run(make_sandbox):
    app = OAuthApp(client_id="cid", client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
    sb = make_sandbox(scale=SCALE, oauth=app)
    seen = {"calls": 0}

    def expire_once(_request):
        seen["calls"] += 1
        if seen["calls"] == 25:
            sb.expire_access_tokens()

    sb.on_request = expire_once
    config = {
        "api_url": sb.url,
        "client_id": "cid",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    result = run_sync(config, streams=STREAMS)
    assert_complete(sb, result)
    assert sum(1 for r in sb.log if r.path == "/token") == 2  # first token, then one refresh


def test_no_credential_reaches_stdout_stderr_or_state(make_sandbox, tmp_path):
    app = OAuthApp(client_id="cid", client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
    sb = make_sandbox(scale=SCALE, oauth=app, api_key=API_KEY)
    tokens: list[str] = []
    original = sb.issue_access_token

    def remember(ttl=None):
        tokens.append(original(ttl))
        return tokens[-1]

    sb.issue_access_token = remember
    oauth = {
        "api_url": sb.url,
        "client_id": "cid",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    runs = [
        run_cli(tmp_path, {"api_url": sb.url, "api_key": API_KEY}, streams=STREAMS),
        run_cli(tmp_path, oauth, streams=STREAMS),
        run_cli(tmp_path, {"api_url": sb.url, "api_key": API_KEY + "x"}, streams=["campaigns"]),
    ]
    sb.expire_access_tokens()  # an expired token comes back in the error body (context.sentToken)
    runs.append(run_cli(tmp_path, {"api_url": sb.url, "access_token": tokens[0]}, streams=STREAMS))
    assert [run.returncode for run in runs] == [0, 0, 1, 1]
    assert tokens
    for run in runs:
        text = run.stdout + run.stderr
        for secret in (API_KEY, CLIENT_SECRET, REFRESH_TOKEN, *tokens):
            assert secret not in text
        for state in run.result.states:
            assert API_KEY not in json.dumps(state)


def test_a_wrong_client_secret_is_one_line_for_a_sync_and_for_test(make_sandbox, tmp_path):
    app = OAuthApp(client_id="cid", client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
    sb = make_sandbox(scale=SCALE, oauth=app)
    wrong = CLIENT_SECRET[::-1]
    config = {
        "api_url": sb.url,
        "client_id": "cid",
        "client_secret": wrong,
        "refresh_token": REFRESH_TOKEN,
    }
    sync = run_cli(tmp_path, config)
    assert sync.returncode == 1
    errors = [line for line in sync.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, sync.stderr
    assert "Sync failed: GetResponse API 401 (code 1014) on POST /token" in errors[0]
    assert "check `client_id` and `client_secret`" in errors[0]
    # Discovery and the first stream both need a token: the refusal is not asked for twice.
    assert sum(1 for r in sb.log if r.path == "/token") == 1
    check = run_cli(tmp_path, config, args=["--test"])
    assert check.returncode == 1
    assert [line for line in check.stderr.splitlines() if "| ERROR" in line] == []
    said = [line for line in check.stderr.splitlines() if "Connection check failed" in line]
    assert len(said) == 1, check.stderr
    assert "check `client_id` and `client_secret`" in said[0]
    for run in (sync, check):
        assert "Traceback" not in run.stderr
        for secret in (wrong, CLIENT_SECRET, REFRESH_TOKEN):
            assert secret not in run.stdout + run.stderr
