"""Small helpers shared by the sandbox self-tests."""

from __future__ import annotations

from typing import Any

import requests

from tests.sandbox import Sandbox

TIMEOUT = 10


def session(sb: Sandbox, *, key: str | None = None, domain: str | None = None) -> requests.Session:
    """Return a session authenticated with the sandbox's API key (or `key`)."""
    s = requests.Session()
    s.headers["X-Auth-Token"] = f"api-key {key if key is not None else sb.api_key}"
    if domain is not None:
        s.headers["X-Domain"] = domain
    return s


def get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    """GET `path` with the API key."""
    with session(sb) as s:
        return s.get(f"{sb.url}{path}", params=params, timeout=TIMEOUT)


def post(sb: Sandbox, path: str, body: Any) -> requests.Response:
    """POST JSON to `path` with the API key."""
    with session(sb) as s:
        return s.post(f"{sb.url}{path}", json=body, timeout=TIMEOUT)


def assert_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    """Check the §5.1 error body and return it."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {
        "httpStatus", "code", "codeDescription", "message", "moreInfo", "context", "uuid",
    }  # fmt: skip
    assert body["httpStatus"] == status
    assert body["code"] == code
    assert isinstance(body["context"], dict)
    return body
