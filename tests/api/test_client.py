"""GetResponseClient: retries, 429 waits, OAuth refresh and error messages (requests-mock)."""

from __future__ import annotations

import pytest
import requests
import requests_mock as rm

from tap_getresponse.api import GetResponseAPIError, GetResponseClient, RateGovernor
from tap_getresponse.api import client as client_module

BASE = "https://api.getresponse.com/v3"
KEY = "k3y-that-must-not-leak"


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """Retries back off with time.sleep; the tests only count them."""
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


class FakeTime:
    """A clock that moves only when the governor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_client(**config) -> GetResponseClient:
    fake = FakeTime()
    governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
    return GetResponseClient({"api_key": KEY, **config}, governor=governor)


def error_body(status: int, code: int, message: str, **context) -> dict:
    return {
        "httpStatus": status,
        "code": code,
        "codeDescription": "",
        "message": message,
        "moreInfo": f"https://apidocs.getresponse.com/v3/errors/{code}",
        "context": context,
        "uuid": "0",
    }


def test_api_key_header_and_domain(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", json={"accountId": "A1"})
    make_client(domain="brand.example.com").request("GET", "/accounts")
    sent = requests_mock.last_request.headers
    assert sent["X-Auth-Token"] == f"api-key {KEY}"
    assert sent["X-Domain"] == "brand.example.com"


def test_429_waits_what_the_answer_names_then_succeeds(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{BASE}/contacts",
        [
            {
                "status_code": 429,
                "json": error_body(429, 1015, "limit", currentLimit=30000, timeToReset="7 seconds"),
            },
            {"status_code": 200, "json": []},
        ],
    )
    client = make_client()
    assert client.request("GET", "/contacts").status_code == 200
    assert client.governor.stats.throttled == 1
    assert client.governor.stats.seconds_waited >= 7


def test_get_5xx_and_resets_are_retried(requests_mock: rm.Mocker, no_sleep) -> None:
    requests_mock.get(
        f"{BASE}/campaigns",
        [
            {"status_code": 503, "text": "busy"},
            {"exc": requests.exceptions.ConnectionError("reset")},
            {"status_code": 200, "json": [{"campaignId": "c"}]},
        ],
    )
    assert make_client().request("GET", "/campaigns").json() == [{"campaignId": "c"}]
    assert len(no_sleep) == 2


def test_post_5xx_is_not_resent_unless_the_caller_allows_it(requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE}/contacts", [{"status_code": 500}, {"status_code": 202}])
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("POST", "/contacts", json={"email": "a@b.c"})
    assert caught.value.http_status == 500
    assert make_client().request("POST", "/contacts", json={}, retry_post=True).status_code == 202


def test_final_error_is_one_line_from_the_error_body(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{BASE}/contacts",
        status_code=400,
        json=error_body(400, 1000, "Validation error", fieldName="nope"),
    )
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("GET", "/contacts")
    message = str(caught.value)
    assert message.startswith("GetResponse API 400 (code 1000) on GET /v3/contacts")
    assert "fieldName=nope" in message
    assert "\n" not in message


def test_secrets_in_error_bodies_are_redacted(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{BASE}/accounts",
        status_code=401,
        json=error_body(401, 1014, f"bad token {KEY}", sentToken=KEY),
    )
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("GET", "/accounts")
    assert KEY not in str(caught.value)


def test_oauth_refreshes_then_replays_once_on_expired_token(requests_mock: rm.Mocker) -> None:
    tokens = iter(["access-1", "access-2"])
    requests_mock.post(
        f"{BASE}/token",
        json=lambda _request, _context: {
            "access_token": next(tokens),
            "expires_in": 3600,
            "token_type": "Bearer",
            "refresh_token": "rotated-refresh",
        },
    )
    requests_mock.get(
        f"{BASE}/accounts",
        [
            {
                "status_code": 401,
                "json": error_body(401, 1014, "The access token provided is expired"),
            },
            {"status_code": 200, "json": {"accountId": "A1"}},
        ],
    )
    client = GetResponseClient(
        {"client_id": "cid", "client_secret": "csecret", "refresh_token": "refresh-1"},
        governor=RateGovernor(),
    )
    assert client.request("GET", "/accounts").json() == {"accountId": "A1"}
    token_calls = [r for r in requests_mock.request_history if r.path.endswith("/token")]
    assert len(token_calls) == 2
    assert "refresh_token=refresh-1" in token_calls[0].text
    assert "refresh_token=rotated-refresh" in token_calls[1].text
    assert token_calls[0].headers["Authorization"].startswith("Basic ")
    assert requests_mock.last_request.headers["Authorization"] == "Bearer access-2"
