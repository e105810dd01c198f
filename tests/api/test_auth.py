"""OAuth refresh with requests-mock: token request shape, expiry margin, 401 replay, rotation."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import requests_mock as rm
from singer_sdk.authenticators import APIKeyAuthenticator, BearerTokenAuthenticator

from tap_getresponse.api import GetResponseAPIError, GetResponseClient, RateGovernor
from tap_getresponse.api.auth import GetResponseOAuthAuthenticator
from tests.sandbox import OAuthApp, Scale

BASE = "https://api3.getresponse360.com/v3"
SECRET = "client-secret-value"
OAUTH = {
    "api_url": BASE,
    "domain": "brand.example.com",
    "client_id": "cid",
    "client_secret": SECRET,
    "refresh_token": "refresh-1",
}
EXPIRED = {
    "httpStatus": 401,
    "code": 1014,
    "message": "The access token provided is expired",
    "context": {"sentToken": "access-1"},
}


def tokens(*access: str, refresh: str | None = None, expires_in: int = 3600):
    issued = iter(access)

    def answer(_request, _context) -> dict:
        body = {"access_token": next(issued), "expires_in": expires_in, "token_type": "Bearer"}
        if refresh:
            body["refresh_token"] = refresh
        return body

    return answer


def oauth_client(**overrides) -> GetResponseClient:
    client = GetResponseClient({**OAUTH, **overrides}, governor=RateGovernor())
    client.session.sleep = lambda _seconds: None
    return client


def token_calls(mock: rm.Mocker) -> list:
    return [request for request in mock.request_history if request.path.endswith("/token")]


def test_authenticators_are_the_sdk_ones_built_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        key = GetResponseClient({"api_key": "k"}, governor=RateGovernor()).authenticator
        bearer = GetResponseClient({"access_token": "t"}, governor=RateGovernor()).authenticator
        oauth = oauth_client().authenticator
    assert isinstance(key, APIKeyAuthenticator)
    assert isinstance(bearer, BearerTokenAuthenticator)
    assert isinstance(oauth, GetResponseOAuthAuthenticator)


def test_token_request_shape(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/token", json=tokens("access-1"))
    requests_mock.get(f"{BASE}/accounts", json={"accountId": "A1"})
    oauth_client(user_agent="ua/1").request("GET", "/accounts")
    (token,) = token_calls(requests_mock)
    basic = base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert token.headers["Authorization"] == f"Basic {basic}"
    # MAX token requests carry X-Domain too (https://apidocs.getresponse.com/v3/oauth2).
    assert token.headers["X-Domain"] == "brand.example.com"
    assert token.headers["User-Agent"] == "ua/1"
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token.text == "grant_type=refresh_token&refresh_token=refresh-1"
    api = requests_mock.last_request
    assert api.headers["Authorization"] == "Bearer access-1"
    assert api.headers["X-Domain"] == "brand.example.com"


def test_token_requests_go_through_the_governor(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/token", json=tokens("access-1"))
    requests_mock.get(f"{BASE}/accounts", json={})
    client = oauth_client()
    client.request("GET", "/accounts")
    assert client.governor.stats.calls_by_endpoint == {"POST /token": 1, "GET /accounts": 1}


def test_token_is_reused_until_shortly_before_expiry(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/token", json=tokens("access-1", "access-2", expires_in=3600))
    requests_mock.get(f"{BASE}/accounts", json={})
    client = oauth_client()
    client.request("GET", "/accounts")
    client.request("GET", "/accounts")
    assert len(token_calls(requests_mock)) == 1
    auth = client.authenticator
    assert isinstance(auth, GetResponseOAuthAuthenticator)
    assert auth.last_refreshed is not None
    auth.last_refreshed -= dt.timedelta(seconds=3600 - 100)  # inside the 120 s margin
    client.request("GET", "/accounts")
    assert len(token_calls(requests_mock)) == 2
    assert requests_mock.last_request.headers["Authorization"] == "Bearer access-2"


def test_expired_token_is_refreshed_once_and_the_request_replayed(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(f"{BASE}/token", json=tokens("access-1", "access-2"))
    requests_mock.get(
        f"{BASE}/accounts",
        [{"status_code": 401, "json": EXPIRED}, {"status_code": 200, "json": {"accountId": "A1"}}],
    )
    assert oauth_client().request("GET", "/accounts").json() == {"accountId": "A1"}
    assert len(token_calls(requests_mock)) == 2
    assert requests_mock.last_request.headers["Authorization"] == "Bearer access-2"


def test_a_second_401_is_not_refreshed_again(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/token", json=tokens("access-1", "access-2", "access-3"))
    requests_mock.get(f"{BASE}/accounts", status_code=401, json=EXPIRED)
    with pytest.raises(GetResponseAPIError) as caught:
        oauth_client().request("GET", "/accounts")
    assert caught.value.code == 1014
    assert "access-1" not in str(caught.value)
    assert len(token_calls(requests_mock)) == 2


def test_401_without_oauth_is_final(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", status_code=401, json=EXPIRED)
    client = GetResponseClient(
        {"api_url": BASE, "access_token": "access-1"}, governor=RateGovernor()
    )
    with pytest.raises(GetResponseAPIError):
        client.request("GET", "/accounts")
    assert requests_mock.call_count == 1


def test_rotated_refresh_token_is_used_next_and_logged_without_its_value(
    requests_mock: rm.Mocker, caplog
) -> None:
    caplog.set_level("INFO")
    requests_mock.post(f"{BASE}/token", json=tokens("access-1", "access-2", refresh="refresh-2"))
    requests_mock.get(
        f"{BASE}/accounts", [{"status_code": 401, "json": EXPIRED}, {"status_code": 200}]
    )
    client = oauth_client()
    client.request("GET", "/accounts")
    first, second = token_calls(requests_mock)
    assert "refresh_token=refresh-1" in first.text
    assert "refresh_token=refresh-2" in second.text
    assert client.authenticator.refresh_token == "refresh-2"
    assert "new OAuth refresh token" in caplog.text
    for secret in ("refresh-1", "refresh-2", "access-1", "access-2", SECRET):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "hint"),
    [
        (401, {"httpStatus": 401, "code": 1014, "message": "Unable to authenticate"}, "client_id"),
        (
            400,
            {"httpStatus": 400, "code": 1000, "message": "Invalid refresh token"},
            "refresh_token",
        ),
        (404, {"httpStatus": 404, "code": 1013, "message": "Resource not found"}, "api_url"),
        (502, "<html>refresh-1 client-secret-value</html>", "refresh_token"),
    ],
    ids=["client-refused", "refresh-token-refused", "no-token-endpoint", "html"],
)
def test_refused_refresh_names_the_setting_and_echoes_no_secret(
    requests_mock: rm.Mocker, caplog, status, body, hint
) -> None:
    answer = {"json": body} if isinstance(body, dict) else {"text": body}
    requests_mock.post(f"{BASE}/token", status_code=status, **answer)
    with pytest.raises(GetResponseAPIError) as caught:
        oauth_client().request("GET", "/accounts")
    message = str(caught.value)
    assert message.startswith(f"GetResponse API {status}")
    assert "on POST /token: OAuth token refresh failed" in message
    assert f"`{hint}`" in message
    for secret in ("refresh-1", SECRET):
        assert secret not in message
        assert secret not in caplog.text
    assert "<html>" not in caplog.text


def test_token_answer_without_access_token(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/token", json={"error": "nope"})
    with pytest.raises(GetResponseAPIError, match="no access_token"):
        oauth_client().request("GET", "/accounts")


def test_a_refused_client_is_asked_once_and_nothing_is_logged_at_error(
    requests_mock: rm.Mocker, caplog
) -> None:
    refused = {"httpStatus": 401, "code": 1014, "message": "Unable to authenticate"}
    requests_mock.post(f"{BASE}/token", status_code=401, json=refused)
    client = oauth_client()
    for _ in range(2):
        with pytest.raises(GetResponseAPIError, match="check `client_id` and `client_secret`"):
            client.request("GET", "/accounts")
    assert len(token_calls(requests_mock)) == 1  # the same credentials get the same answer
    assert [record for record in caplog.records if record.levelname == "ERROR"] == []


@pytest.mark.parametrize(
    ("app", "hint"),
    [
        (
            OAuthApp(client_id="cid", client_secret="right-" + SECRET, refresh_token="refresh-1"),
            "(check `client_id` and `client_secret`)",
        ),
        (
            OAuthApp(client_id="cid", client_secret=SECRET, refresh_token="refresh-2"),
            "(the `refresh_token` is invalid, expired or already used)",
        ),
    ],
    ids=["wrong-client-secret", "wrong-refresh-token"],
)
def test_both_plugins_end_in_one_line_when_the_token_is_refused(
    make_sandbox, tmp_path, app, hint
) -> None:
    sb = make_sandbox(scale=Scale(contacts=3, newsletters=1, campaigns=1), oauth=app)
    tap_config = {**OAUTH, "api_url": sb.url}
    del tap_config["domain"]  # the sandbox is a retail account
    target_config = {**tap_config, "campaign_id": "CPZ", "rejects_file": str(tmp_path / "r")}
    records = [
        {"type": "SCHEMA", "stream": "customers", "key_properties": ["email"],
         "schema": {"type": "object", "properties": {"email": {"type": "string"}}}},
        {"type": "RECORD", "stream": "customers", "record": {"email": "a@example.org"}},
    ]  # fmt: skip
    lines = "\n".join(json.dumps(message) for message in records) + "\n"
    for plugin, config in (("tap", tap_config), ("target", target_config)):
        path = tmp_path / f"{plugin}.json"
        path.write_text(json.dumps(config))
        command = [str(Path(sys.executable).parent / f"{plugin}-getresponse"), "--config", path]
        run = subprocess.run(
            command, input=lines, capture_output=True, text=True, check=False, timeout=120
        )
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
        assert len(errors) == 1, run.stderr
        assert f"OAuth token refresh failed {hint}" in errors[0]
        for secret in (SECRET, "refresh-1"):
            assert secret not in run.stdout + run.stderr
