"""GetResponseAPIError and the redaction helpers: one clear line, never a secret."""

from __future__ import annotations

import pytest
import requests

from tap_getresponse.api import GetResponseAPIError, redact, redact_headers
from tap_getresponse.api.errors import redact_context

TOKEN = "0123456789abcdef0123456789abcdef"


def response(status: int, body: str, content_type: str = "application/json") -> requests.Response:
    prepared = requests.Request("GET", "https://api.getresponse.com/v3/accounts?x=1").prepare()
    answer = requests.Response()
    answer.status_code = status
    answer.reason = {401: "Unauthorized", 502: "Bad Gateway"}.get(status, "Error")
    answer._content = body.encode()  # noqa: SLF001 - building a response by hand
    answer.headers["Content-Type"] = content_type
    answer.url = prepared.url or ""
    answer.request = prepared
    return answer


EXPIRED = (
    '{"httpStatus":401,"code":1014,"codeDescription":"Problem during authentication process, '
    'check headers!","message":"The access token provided is expired","moreInfo":'
    '"https://apidocs.getresponse.com/v3/errors/1014","context":{"sentToken":"' + TOKEN + '"},'
    '"uuid":"u"}'
)


def test_error_body_becomes_one_line_with_the_path_below_v3() -> None:
    error = GetResponseAPIError.from_response(response(401, EXPIRED), base_path="/v3")
    assert str(error) == (
        "GetResponse API 401 (code 1014) on GET /accounts: The access token provided is expired "
        "[sentToken=***]"
    )
    assert (error.http_status, error.code, error.method, error.path) == (
        401,
        1014,
        "GET",
        "/accounts",
    )


def test_sent_token_never_appears() -> None:
    error = GetResponseAPIError.from_response(response(401, EXPIRED))
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error.context)


def test_known_secrets_in_message_and_context_are_redacted() -> None:
    body = (
        '{"httpStatus":400,"code":1000,"message":"bad key sk-live-secret-key",'
        '"context":{"detail":{"nested":"sk-live-secret-key"}}}'
    )
    error = GetResponseAPIError.from_response(response(400, body), ["sk-live-secret-key"])
    assert "sk-live-secret-key" not in str(error)
    assert "***" in error.message


@pytest.mark.parametrize(
    "body",
    ["<html><body>Bad Gateway X-Auth-Token: api-key abc</body></html>", "", "[1, 2]", "null"],
    ids=["html", "empty", "json-array", "json-null"],
)
def test_bodies_that_are_not_error_resources_are_not_quoted(body: str) -> None:
    error = GetResponseAPIError.from_response(response(502, body, "text/html"))
    assert str(error) == (
        "GetResponse API 502 on GET /v3/accounts: Bad Gateway (no GetResponse error body)"
    )


def test_newlines_in_messages_are_folded_into_one_line() -> None:
    body = '{"httpStatus":400,"code":1000,"message":"first\\nsecond","context":{}}'
    assert "\n" not in str(GetResponseAPIError.from_response(response(400, body)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("header X-Auth-Token: api-key s3cret", "header X-Auth-Token: api-key ***"),
        ("Authorization: Bearer tok.en-123", "Authorization: Bearer ***"),
        ("Authorization: Basic Y2lkOmNzZWNyZXQ=", "Authorization: Basic ***"),
        ("the known-secret-value leaked", "the *** leaked"),
        ("a key", "a key"),
    ],
    ids=["api-key", "bearer", "basic", "known-value", "short-words-kept"],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, ["known-secret-value", "key"]) == expected


def test_redact_context_masks_credential_keys_whatever_their_spelling() -> None:
    context = {"sentToken": "t", "access_token": "a", "Refresh-Token": "r", "fieldName": "email"}
    assert redact_context(context) == {
        "sentToken": "***",
        "access_token": "***",
        "Refresh-Token": "***",
        "fieldName": "email",
    }


def test_redact_headers() -> None:
    headers = {"X-Auth-Token": "api-key k", "authorization": "Bearer t", "X-Domain": "d.com"}
    assert redact_headers(headers) == {
        "X-Auth-Token": "***",
        "authorization": "***",
        "X-Domain": "d.com",
    }
