"""GetResponseClient with requests-mock: headers, retry policy, 429 waits, errors."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
import requests_mock as rm
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tap_getresponse.api import (
    ConfigError,
    ConnectionSettings,
    GetResponseAPIError,
    GetResponseClient,
    GetResponseSession,
    RateGovernor,
    RequestFailedError,
)
from tap_getresponse.api.retries import throttle_seconds

BASE = "https://api.getresponse.com/v3"
KEY = "k3y-that-must-not-leak"


class FakeTime:
    """A clock that moves only when the governor or the session sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake):
    def factory(max_retry_seconds: float = 180.0, **config) -> GetResponseClient:
        governor = RateGovernor(clock=fake.clock, sleep=fake.sleep)
        settings = {"api_key": KEY, **config}
        client = GetResponseClient(settings, governor=governor, max_retry_seconds=max_retry_seconds)
        client.session.sleep = fake.sleep
        return client

    return factory


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


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the request never left."""
    reason = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


# ---- headers -----------------------------------------------------------------------------------


def test_api_key_domain_and_user_agent_headers(requests_mock: rm.Mocker, make_client) -> None:
    requests_mock.get(f"{BASE}/accounts", json={"accountId": "A1"})
    make_client(domain="brand.example.com", user_agent="my-agent/2").request("GET", "/accounts")
    sent = requests_mock.last_request.headers
    assert sent["X-Auth-Token"] == f"api-key {KEY}"
    assert sent["X-Domain"] == "brand.example.com"
    assert sent["User-Agent"] == "my-agent/2"


def test_default_user_agent_names_the_connector(requests_mock: rm.Mocker, make_client) -> None:
    requests_mock.get(f"{BASE}/accounts", json={})
    make_client().request("GET", "/accounts")
    assert requests_mock.last_request.headers["User-Agent"].startswith("tap-getresponse")
    assert "X-Domain" not in requests_mock.last_request.headers


def test_access_token_is_sent_as_bearer(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", json={})
    GetResponseClient({"access_token": "tok-1"}, governor=RateGovernor()).request("GET", "accounts")
    assert requests_mock.last_request.headers["Authorization"] == "Bearer tok-1"


def test_max_api_url_is_the_base_url(requests_mock: rm.Mocker, make_client) -> None:
    url = "https://api3.getresponse360.pl/v3"
    requests_mock.get(f"{url}/campaigns", json=[])
    client = make_client(api_url=url + "/", domain="brand.example.pl")
    assert client.base_url == url
    client.request("GET", "/campaigns", params={"page": 2})
    assert requests_mock.last_request.qs == {"page": ["2"]}


def test_request_timeout_is_applied(requests_mock: rm.Mocker, make_client) -> None:
    requests_mock.get(f"{BASE}/accounts", json={})
    make_client(request_timeout=7).request("GET", "/accounts")
    assert requests_mock.last_request.timeout == (7, 7)  # connect, then each read
    make_client(request_timeout=60).request("GET", "/accounts")
    assert requests_mock.last_request.timeout == (10, 60)  # connecting takes 10 s at most


def test_typed_settings_configure_the_client_like_a_config(requests_mock: rm.Mocker) -> None:
    url = "https://api3.getresponse360.com/v3"
    requests_mock.get(f"{url}/accounts", json={})
    settings = ConnectionSettings(
        api_url=url, api_key=KEY, domain="brand.example.com", request_timeout=9
    )
    client = GetResponseClient(settings, governor=RateGovernor())
    client.request("GET", "/accounts")
    sent = requests_mock.last_request
    assert sent.headers["X-Auth-Token"] == f"api-key {KEY}"
    assert sent.headers["X-Domain"] == "brand.example.com"
    assert sent.timeout == (9, 9)
    assert client.settings is settings


def test_from_config_validates_and_logs_warnings(caplog) -> None:
    with pytest.raises(ConfigError, match="`domain`"):
        GetResponseClient.from_config({"api_key": KEY, "domain": "https://x.example.com"})
    client = GetResponseClient.from_config(
        {"api_key": KEY, "api_url": "https://api3.getresponse360.com/v3"}
    )
    assert client.base_url == "https://api3.getresponse360.com/v3"
    assert "`domain` is not set" in caplog.text


# ---- 429 ---------------------------------------------------------------------------------------


def test_429_waits_what_the_answer_names_then_succeeds(
    requests_mock: rm.Mocker, make_client, fake
) -> None:
    body = error_body(429, 1015, "limit", currentLimit=30000, timeToReset="7 seconds")
    requests_mock.get(
        f"{BASE}/contacts", [{"status_code": 429, "json": body}, {"status_code": 200, "json": []}]
    )
    client = make_client()
    assert client.request("GET", "/contacts").status_code == 200
    assert client.governor.stats.throttled == 1
    assert fake.now >= 7
    assert client.governor.stats.retries == 0


def test_429s_do_not_use_up_the_retry_budget(requests_mock: rm.Mocker, make_client) -> None:
    throttled = {"status_code": 429, "headers": {"X-RateLimit-Reset": "600 seconds"}}
    requests_mock.get(
        f"{BASE}/contacts",
        [throttled, throttled, {"status_code": 503}, {"status_code": 200, "json": []}],
    )
    client = make_client(max_retry_seconds=5)
    assert client.request("GET", "/contacts").status_code == 200  # after 1200 s of 429 waits


def response_with(status=429, headers=None, json=None) -> requests.Response:
    with rm.Mocker() as mock:
        mock.get("https://x.test/", status_code=status, headers=headers or {}, json=json)
        return requests.get("https://x.test/", timeout=1)


@pytest.mark.parametrize(
    ("headers", "json", "seconds"),
    [
        ({"Retry-After": "1", "X-RateLimit-Reset": "432 seconds"}, None, 1),
        ({"X-RateLimit-Reset": "432 seconds"}, {"context": {"timeToReset": "100 seconds"}}, 100),
        ({"X-RateLimit-Reset": "432 seconds"}, {"context": []}, 432),
        ({}, None, 5),
        ({"Retry-After": "0"}, None, 0.5),
    ],
    ids=["retry-after-first", "time-to-reset-next", "reset-header-last", "nothing", "zero"],
)
def test_throttle_seconds(headers, json, seconds) -> None:
    assert throttle_seconds(response_with(headers=headers, json=json)) == seconds


def test_retry_after_may_be_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= throttle_seconds(response_with(headers={"Retry-After": later})) <= 31


# ---- retries -----------------------------------------------------------------------------------


def test_get_5xx_resets_and_timeouts_are_retried(
    requests_mock: rm.Mocker, make_client, fake
) -> None:
    requests_mock.get(
        f"{BASE}/campaigns",
        [
            {"status_code": 503, "text": "busy"},
            {"exc": requests.exceptions.ConnectionError("reset by peer")},
            {"exc": requests.exceptions.ReadTimeout("slow")},
            {"exc": requests.exceptions.ChunkedEncodingError("cut")},
            {"status_code": 200, "json": [{"campaignId": "c"}]},
        ],
    )
    client = make_client()
    assert client.request("GET", "/campaigns").json() == [{"campaignId": "c"}]
    assert len(fake.sleeps) == 4
    assert client.governor.stats.retries == 4


def test_backoff_grows_exponentially_with_jitter(requests_mock: rm.Mocker, make_client, fake):
    requests_mock.get(f"{BASE}/campaigns", [{"status_code": 500}] * 6 + [{"status_code": 200}])
    make_client().request("GET", "/campaigns")
    caps = [0.5, 1, 2, 4, 8, 16]
    assert all(0 <= slept <= cap for slept, cap in zip(fake.sleeps, caps, strict=True))


def test_retries_stop_when_the_budget_is_spent(requests_mock: rm.Mocker, make_client, fake):
    requests_mock.get(f"{BASE}/campaigns", status_code=502)
    with pytest.raises(GetResponseAPIError) as caught:
        make_client(max_retry_seconds=60).request("GET", "/campaigns")
    assert caught.value.http_status == 502
    assert sum(fake.sleeps) >= 60 - 30  # the last sleep may be the one that passed the budget
    assert all(slept <= 30 for slept in fake.sleeps)


def test_connection_errors_are_raised_when_the_budget_is_spent(
    requests_mock: rm.Mocker, make_client
):
    requests_mock.get(f"{BASE}/campaigns", exc=requests.exceptions.ConnectionError("down"))
    with pytest.raises(RequestFailedError) as caught:
        make_client(max_retry_seconds=10).request("GET", "/campaigns")
    # One line that names the request and what happened; still a ConnectionError for callers.
    assert isinstance(caught.value, requests.exceptions.ConnectionError)
    assert str(caught.value).startswith(
        "GET /campaigns: the connection was lost before the answer was complete ("
    )


def test_tls_errors_are_not_retried(requests_mock: rm.Mocker, make_client, fake) -> None:
    requests_mock.get(f"{BASE}/campaigns", exc=requests.exceptions.SSLError("bad certificate"))
    with pytest.raises(RequestFailedError) as caught:
        make_client().request("GET", "/campaigns")
    assert "TLS with https://api.getresponse.com failed" in str(caught.value)
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 500},
        {"exc": requests.exceptions.ReadTimeout("sent, no answer")},
        {"exc": requests.exceptions.ConnectionError("reset after sending")},
    ],
    ids=["5xx", "read-timeout", "reset"],
)
def test_post_is_not_resent_unless_the_caller_allows_it(
    requests_mock: rm.Mocker, make_client, failure
) -> None:
    requests_mock.post(f"{BASE}/contacts", [failure, {"status_code": 202}])
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("POST", "/contacts", json={"email": "a@b.c"})
    assert requests_mock.call_count == 1
    if "exc" in failure:
        assert "not sent again, as it may have been applied" in str(caught.value)
    requests_mock.reset_mock()
    response = make_client().request("POST", "/contacts", json={}, retry_post=True)
    assert response.status_code == 202


@pytest.mark.parametrize(
    "failure",
    [refused, lambda: requests.exceptions.ConnectTimeout("no connection")],
    ids=["refused", "connect-timeout"],
)
def test_post_that_never_left_is_resent(requests_mock: rm.Mocker, make_client, failure) -> None:
    requests_mock.post(f"{BASE}/contacts", [{"exc": failure()}, {"status_code": 202}])
    assert make_client().request("POST", "/contacts", json={}).status_code == 202


def test_delete_is_not_resent_after_a_5xx_by_default(requests_mock: rm.Mocker, make_client):
    requests_mock.delete(f"{BASE}/contacts/c1", [{"status_code": 500}, {"status_code": 204}])
    with pytest.raises(GetResponseAPIError):
        make_client().request("DELETE", "/contacts/c1")


def test_final_4xx_is_not_retried(requests_mock: rm.Mocker, make_client, fake) -> None:
    requests_mock.get(
        f"{BASE}/contacts",
        status_code=400,
        json=error_body(400, 1000, "Validation error", fieldName="nope"),
    )
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("GET", "/contacts")
    assert str(caught.value) == (
        "GetResponse API 400 (code 1000) on GET /contacts: Validation error [fieldName=nope]"
    )
    assert requests_mock.call_count == 1
    assert fake.sleeps == []


def test_secrets_in_error_bodies_are_redacted(requests_mock: rm.Mocker, make_client) -> None:
    requests_mock.get(
        f"{BASE}/accounts",
        status_code=401,
        json=error_body(401, 1014, f"bad token {KEY}", sentToken=KEY),
    )
    with pytest.raises(GetResponseAPIError) as caught:
        make_client().request("GET", "/accounts")
    assert KEY not in str(caught.value)


def test_retry_log_lines_hold_no_secret(requests_mock: rm.Mocker, make_client, caplog) -> None:
    requests_mock.get(f"{BASE}/contacts", [{"status_code": 503}, {"status_code": 200}])
    make_client().request("GET", "/contacts", params={"query[email]": KEY})
    assert "Retrying GET /contacts in " in caplog.text
    assert ": HTTP 503" in caplog.text
    assert KEY not in caplog.text


def test_session_names_endpoints_below_the_base_path() -> None:
    session = GetResponseSession(governor=RateGovernor(), base_path="/v3/")
    request = requests.Request("POST", f"{BASE}/contacts/batch?x=1").prepare()
    assert session.endpoint(request) == "/contacts/batch"
