"""check_connection verdicts with requests-mock (the sandbox tests cover the live-like cases)."""

from __future__ import annotations

import pytest
import requests
import requests_mock as rm

from tap_getresponse.api import ConnectionCheckError, GetResponseClient, RateGovernor

BASE = "https://api.getresponse.com/v3"
MAX = "https://api3.getresponse360.com/v3"
KEY = "api-key-value-123"
REJECTED = {
    "httpStatus": 401,
    "code": 1014,
    "message": "Unable to authenticate request. Check credentials or authentication method details",
    "context": {"authenticationType": "auth_token"},
}


def check(**config) -> str:
    client = GetResponseClient({"api_key": KEY, **config}, governor=RateGovernor())
    client.session.sleep = lambda _seconds: None
    return client.check_connection()


def failure(**config) -> ConnectionCheckError:
    with pytest.raises(ConnectionCheckError) as caught:
        check(**config)
    assert "\n" not in str(caught.value)
    assert KEY not in str(caught.value)
    return caught.value


def test_verdict_names_account_host_and_domain(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{MAX}/accounts", json={"accountId": "A1", "email": "owner@brand.test"})
    verdict = check(api_url=MAX, domain="brand.example.com")
    assert verdict == (
        "Connected to GetResponse as ***@brand.test (account A1) via api3.getresponse360.com, "
        "domain brand.example.com"
    )
    assert "owner" not in verdict


def test_check_is_one_get_accounts(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", json={"accountId": "A1", "email": "o@b.test"})
    check()
    assert [(r.method, r.path) for r in requests_mock.request_history] == [("GET", "/v3/accounts")]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({}, "a GetResponse MAX account needs its MAX `api_url` and `domain`"),
        ({"api_url": MAX}, "GetResponse MAX accounts also need `domain`"),
        ({"api_url": MAX, "domain": "b.example.com"}, "`domain` b.example.com is this account's"),
    ],
    ids=["retail", "max-without-domain", "max-with-domain"],
)
def test_rejected_key_names_api_key_and_hints_at_domain(
    requests_mock: rm.Mocker, config, words
) -> None:
    requests_mock.get(rm.ANY, status_code=401, json=REJECTED)
    error = failure(**config)
    assert error.setting == "api_key"
    assert "GetResponse rejected the API key (`api_key`)" in str(error)
    assert words in str(error)


def test_403_says_access_was_refused(requests_mock: rm.Mocker) -> None:
    body = {"httpStatus": 403, "code": 1023, "message": "Access forbidden", "context": {}}
    requests_mock.get(f"{BASE}/accounts", status_code=403, json=body)
    assert "refused access with the API key" in str(failure())


def test_404_points_at_api_url(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", status_code=404, text="Not Found")
    error = failure()
    assert error.setting == "api_url"
    assert "No GetResponse API v3 at api.getresponse.com" in str(error)


def test_an_answer_that_is_not_the_api_points_at_api_url(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", text="<html>hello</html>")
    error = failure()
    assert error.setting == "api_url"
    assert "not like the GetResponse API v3" in str(error)


def test_unreachable_url_is_given_up_quickly(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", exc=requests.exceptions.ConnectTimeout("no route"))
    error = failure()
    assert error.setting == "api_url"
    assert str(error).startswith(
        "Could not connect to https://api.getresponse.com: the connection timed out ("
    )
    assert str(error).endswith("; check `api_url` and the network")


def test_tls_failure_points_at_api_url(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", exc=requests.exceptions.SSLError("self-signed"))
    assert "TLS with https://api.getresponse.com failed" in str(failure())


def test_server_errors_are_reported_after_retries(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/accounts", status_code=503, json={"message": "down"})
    error = failure()
    assert "answered the connection check with an error" in str(error)
    assert "GetResponse API 503" in str(error)
