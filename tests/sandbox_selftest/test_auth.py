"""§1.3-§1.5 and §5.1: API key, Bearer tokens, the OAuth token endpoint, MAX X-Domain."""

from __future__ import annotations

import requests

from tests.sandbox import OAuthApp, Scale
from tests.sandbox_selftest.helpers import TIMEOUT, assert_error, session

SMALL = Scale(contacts=20)


def _token(sb, refresh_token, *, domain=None, client=("cid", "csecret")):
    headers = {} if domain is None else {"X-Domain": domain}
    return requests.post(
        f"{sb.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=client,
        headers=headers,
        timeout=TIMEOUT,
    )


def test_missing_or_wrong_key_is_401_1014_without_the_key(make_sandbox):
    sb = make_sandbox(scale=SMALL, api_key="right-key")
    body = assert_error(requests.get(f"{sb.url}/accounts", timeout=TIMEOUT), 401, 1014)
    assert body["context"] == {"authenticationType": "auth_token"}
    with session(sb, key="wrong-key") as s:
        response = s.get(f"{sb.url}/accounts", timeout=TIMEOUT)
    body = assert_error(response, 401, 1014)
    assert "wrong-key" not in response.text
    assert body["codeDescription"] == "Problem during authentication process, check headers!"
    bare = requests.get(
        f"{sb.url}/accounts", headers={"X-Auth-Token": "right-key"}, timeout=TIMEOUT
    )
    assert_error(bare, 401, 1014)  # §1.3: the "api-key " prefix is required
    with session(sb) as s:
        assert s.get(f"{sb.url}/accounts", timeout=TIMEOUT).status_code == 200
    assert [r.auth_kind for r in sb.log] == [None, "api-key", "api-key", "api-key"]


def test_bearer_token_and_expiry(make_sandbox):
    sb = make_sandbox(scale=SMALL, oauth=OAuthApp(access_token="at-1"))
    ok = requests.get(
        f"{sb.url}/accounts", headers={"Authorization": "Bearer at-1"}, timeout=TIMEOUT
    )
    assert ok.status_code == 200
    assert sb.log[-1].auth_kind == "bearer"
    unknown = requests.get(
        f"{sb.url}/accounts", headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT
    )
    assert "nope" not in unknown.text
    assert_error(unknown, 401, 1014)
    sb.expire_access_tokens()
    expired = requests.get(
        f"{sb.url}/accounts", headers={"Authorization": "Bearer at-1"}, timeout=TIMEOUT
    )
    body = assert_error(expired, 401, 1014)
    assert body["message"] == "The access token provided is expired"
    assert body["context"] == {"sentToken": "at-1"}  # the one documented echo (§1.4)


def test_refresh_without_rotation(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    response = _token(sb, "rt-1")
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["refresh_token"] == "rt-1"
    assert sb.log[-1].auth_kind == "basic"
    api = requests.get(
        f"{sb.url}/contacts",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=TIMEOUT,
    )
    assert api.status_code == 200
    assert _token(sb, "rt-1").status_code == 200


def test_refresh_with_rotation_invalidates_the_old_token(make_sandbox):
    sb = make_sandbox(scale=SMALL, oauth=OAuthApp(rotate_refresh_token=True, access_token_ttl=60))
    first = _token(sb, "rt-1").json()
    assert first["refresh_token"] != "rt-1"
    assert first["expires_in"] == 60
    assert sb.refresh_token == first["refresh_token"]
    stale = _token(sb, "rt-1")
    assert stale.status_code == 400
    assert stale.json()["context"] == {"error": "invalid_grant"}
    assert _token(sb, first["refresh_token"]).status_code == 200


def test_token_endpoint_needs_client_credentials(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    assert_error(_token(sb, "rt-1", client=("cid", "wrong")), 401, 1014)
    logged = [r.body for r in sb.log if r.path == "/token"]
    assert all(b["refresh_token"] == "***" for b in logged)


def test_max_mode_requires_x_domain_everywhere(make_sandbox):
    sb = make_sandbox(scale=SMALL, domain="brand.example.com")
    with session(sb) as s:
        assert_error(s.get(f"{sb.url}/contacts", timeout=TIMEOUT), 401, 1014)
    with session(sb, domain="other.example.com") as s:
        assert_error(s.get(f"{sb.url}/contacts", timeout=TIMEOUT), 401, 1014)
    with session(sb, domain="brand.example.com") as s:
        response = s.get(f"{sb.url}/contacts", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.json()[0]["href"].startswith("https://api3.getresponse360.com/v3/")
    assert_error(_token(sb, "rt-1"), 401, 1014)
    assert _token(sb, "rt-1", domain="brand.example.com").status_code == 200
    assert sb.log[-1].x_domain == "brand.example.com"
