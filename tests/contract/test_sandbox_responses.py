"""The sandbox against GetResponse's official OpenAPI (openapi-core): bodies, headers, errors.

openapi-core was picked over schemathesis because the checks here are specific calls with
assertions of our own (paging headers, error bodies, the target's captured request bodies); it
validates a request/response pair against the spec in-process, with a date-time checker we choose.
Where the official spec contradicts the documented behaviour, ALLOWED names the exact field and
check that may fail, with the reason; everything else must validate.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from scripts.generate_schemas import load_spec
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Limits, Sandbox, Scale
from tests.target.conftest import customer, singer_lines

SPEC_BASE = "http://127.0.0.1/v3"
#: RFC 3339, plus GetResponse's own `+hhmm` offset form (§6); nothing else passes as a date-time.
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)")

#: (path regex, field path regex, failed check) -> why the spec, not the sandbox, is wrong.
ALLOWED: dict[tuple[str, str, str], str] = {
    (r"/lps", r"\d+/(createdAt|updatedAt)", "format"): (
        "§6: landing pages' createdAt/updatedAt are GMT without an offset, which the spec types "
        "as date-time"
    ),
    (r"/lps/[^/]+", r"(createdAt|updatedAt|pages/\d+/createdAt)", "format"): (
        "§6: as the /lps list"
    ),
    (r"/accounts", r"timeZone/offset", "pattern"): (
        "the spec writes the pattern PHP-style (/^...$/), which JSON Schema can never match"
    ),
    (r"/(newsletters|autoresponders)/[^/]+/statistics", r"\d+/timeInterval", "pattern"): (
        "PHP-delimited pattern again; the spec's own example fails it"
    ),
    (r"/sms", r"", "type"): "§3.17: the spec types the /sms list as one object; it is an array",
    (r".*\?fields", r"\d+", "required"): (
        "§2.4: a `fields` projection returns only the fields asked for (and the id), so the "
        "item schema's required list cannot hold"
    ),
}


def _date_time(value: object) -> bool:
    return not isinstance(value, str) or DATE_TIME.fullmatch(value) is not None


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    spec = load_spec()
    spec["servers"] = [{"url": SPEC_BASE}]
    return OpenAPI.from_dict(spec, config=Config(extra_format_validators={"date-time": _date_time}))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(scale=Scale(contacts=40), limits=GENEROUS_LIMITS, sms_enabled=True) as sandbox:
        yield sandbox


def call(
    sandbox, method: str, path: str, **kwargs
) -> tuple[requests.PreparedRequest, requests.Response]:
    headers = {"X-Auth-Token": f"api-key {sandbox.api_key}", **kwargs.pop("headers", {})}
    response = requests.request(method, sandbox.url + path, headers=headers, timeout=30, **kwargs)
    spec_request = requests.Request(
        method,
        SPEC_BASE + path,
        headers=headers,
        params=kwargs.get("params"),
        json=kwargs.get("json"),
    ).prepare()
    return spec_request, response


def violations(openapi: OpenAPI, request, response) -> list[tuple[str, str, str]]:
    """(field path, failed check, message) for every schema error openapi-core reports."""
    try:
        openapi.validate_response(
            RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response)
        )
    except Exception as error:  # noqa: BLE001 - any validation failure is a finding
        cause = error.__cause__
        found = getattr(cause, "schema_errors", None)
        if not found:
            return [("", type(error).__name__, str(error)[:300])]
        return [
            ("/".join(str(part) for part in e.absolute_path), str(e.validator), e.message[:200])
            for e in found
        ]
    return []


def header_problems(response: requests.Response, *, page: int) -> list[str]:
    """Paging (§2.1) and rate-limit (§5.3) headers a paginated answer must carry."""
    problems = [
        f"{name} missing or not a number"
        for name in ("TotalCount", "TotalPages", "CurrentPage")
        if not response.headers.get(name, "").isdigit()
    ]
    if (
        response.headers.get("CurrentPage", "").isdigit()
        and int(response.headers["CurrentPage"]) != page
    ):
        problems.append("CurrentPage is not the page asked for")
    problems += [
        f"{name} missing"
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
        if name not in response.headers
    ]
    return problems


def unexplained(path: str, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [
        (field, check, message)
        for field, check, message in found
        if not any(
            re.fullmatch(path_re, path) and re.fullmatch(field_re, field) and check == failed
            for path_re, field_re, failed in ALLOWED
        )
    ]


def first_id(sandbox, collection: str, key: str) -> str:
    _, response = call(sandbox, "GET", f"/{collection}", params={"perPage": 1})
    return str(response.json()[0][key])


LISTS = [
    ("/contacts", {}),
    ("/contacts", {"query[changedOn][from]": "2025-01-01", "sort[changedOn]": "asc"}),
    ("/contacts", {"query[email]": "a", "fields": "email,name", "page": 2, "perPage": 3}),
    ("/campaigns", {"sort[name]": "desc"}),
    ("/custom-fields", {"sort[name]": "asc"}),
    ("/tags", {"query[createdAt][from]": "2025-01-01", "sort[createdAt]": "asc"}),
    ("/from-fields", {}),
    ("/gdpr-fields", {}),
    ("/imports", {"sort[createdOn]": "desc"}),
    ("/newsletters", {"query[status]": "enabled", "sort[createdOn]": "asc"}),
    ("/autoresponders", {"sort[createdOn]": "asc"}),
    ("/rss-newsletters", {}),
    ("/click-tracks", {}),
    ("/search-contacts", {}),
    ("/forms", {}),
    ("/webforms", {"sort[modifiedOn]": "asc"}),
    ("/lps", {}),
    ("/landing-pages", {}),
    ("/webinars", {}),
    ("/workflow", {}),
    ("/sms", {}),
    ("/shops", {}),
]


@pytest.mark.parametrize(("path", "params"), LISTS, ids=lambda v: v if isinstance(v, str) else "")
def test_collections_match_the_official_schemas(openapi, sb, path, params) -> None:
    request, response = call(sb, "GET", path, params={"perPage": 5, **params})
    assert response.status_code == 200
    where = f"{path}?fields" if "fields" in params else path
    assert unexplained(where, violations(openapi, request, response)) == []
    assert header_problems(response, page=int(params.get("page", 1))) == []


DETAILS = [
    ("contacts", "contactId", ""),
    ("contacts", "contactId", "/activities"),
    ("campaigns", "campaignId", ""),
    ("custom-fields", "customFieldId", ""),
    ("tags", "tagId", ""),
    ("newsletters", "newsletterId", ""),
    ("newsletters", "newsletterId", "/statistics"),
    ("autoresponders", "autoresponderId", ""),
    ("autoresponders", "autoresponderId", "/statistics"),
    ("from-fields", "fromFieldId", ""),
    ("imports", "importId", ""),
    ("webforms", "webformId", ""),
    ("lps", "lpsId", ""),
    ("shops", "shopId", "/products"),
    ("shops", "shopId", "/orders"),
]


@pytest.mark.parametrize(("collection", "key", "suffix"), DETAILS, ids=lambda v: v or "detail")
def test_details_and_sub_collections_match(openapi, sb, collection, key, suffix) -> None:
    path = f"/{collection}/{first_id(sb, collection, key)}{suffix}"
    params = {"query[createdOn][from]": "2024-01-01"} if suffix.endswith("activities") else {}
    request, response = call(sb, "GET", path, params=params)
    assert response.status_code == 200
    assert unexplained(path, violations(openapi, request, response)) == []


@pytest.mark.parametrize(
    "stat", ["list-size", "locations", "origins", "subscriptions", "removals", "balance", "summary"]
)
def test_campaign_statistics_match(openapi, sb, stat) -> None:
    campaign = first_id(sb, "campaigns", "campaignId")
    params = {"query[campaignId]": campaign}
    if stat != "summary":
        params |= {"query[groupBy]": "day", "query[createdOn][from]": "2025-01-01"}
    request, response = call(sb, "GET", f"/campaigns/statistics/{stat}", params=params)
    assert response.status_code == 200
    assert (
        unexplained(f"/campaigns/statistics/{stat}", violations(openapi, request, response)) == []
    )


def test_accounts_match(openapi, sb) -> None:
    request, response = call(sb, "GET", "/accounts")
    assert unexplained("/accounts", violations(openapi, request, response)) == []


ERRORS = {
    "unknown-filter": ("/contacts", {"params": {"query[nope]": "x"}}, 400),
    "bad-key": ("/contacts", {"headers": {"X-Auth-Token": "api-key wrong"}}, 401),
    "unknown-id": ("/contacts/doesNotExist", {}, 404),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_error_response(openapi, sb, name) -> None:
    path, kwargs, status = ERRORS[name]
    request, response = call(sb, "GET", path, **copy.deepcopy(kwargs))
    assert response.status_code == status
    assert violations(openapi, request, response) == []
    assert {"httpStatus", "code", "message", "context", "uuid"} <= response.json().keys()


def test_409_duplicate_matches_error_response(openapi, sb) -> None:
    existing = sb.data.contacts[0]
    body = {
        "email": existing["email"],
        "campaign": {"campaignId": existing["campaign"]["campaignId"]},
    }
    request, response = call(sb, "POST", "/contacts", json=body)
    assert response.status_code == 409
    assert violations(openapi, request, response) == []


def test_429_matches_error_response(openapi, make_sandbox) -> None:
    tiny = make_sandbox(scale=Scale(contacts=5), limits=Limits(frame_calls=2, frame_seconds=60))
    responses = [call(tiny, "GET", "/campaigns") for _ in range(3)]
    request, response = responses[-1]
    assert response.status_code == 429
    assert response.json()["code"] == 1015
    assert violations(openapi, request, response) == []


def test_request_bodies_the_target_sends_match_the_spec(openapi, make_sandbox, tmp_path) -> None:
    """Capture what target-getresponse sends (batch, single, update, import) and validate it."""
    target = make_sandbox(scale=Scale(contacts=5))
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "api_url": target.url,
                "api_key": target.api_key,
                "campaign_id": target.data.campaigns[0]["campaignId"],
                "rejects_file": str(tmp_path / "rejects.jsonl"),
            }
        )
    )
    executable = Path(sys.executable).parent / "target-getresponse"
    lines = singer_lines([customer(i) for i in range(3)])
    for settings in ({}, {"load_method": "upsert"}):
        config.write_text(json.dumps({**json.loads(config.read_text()), **settings}))
        subprocess.run(
            [executable, "--config", config],
            input=lines,
            text=True,
            check=True,
            capture_output=True,
        )
    sent = [e for e in target.log if e.method == "POST" and e.body is not None]
    assert any(e.path == "/contacts/batch" for e in sent)
    for entry in sent:
        request = requests.Request(
            "POST",
            SPEC_BASE + entry.path,
            headers={"X-Auth-Token": "api-key x"},
            json=entry.body,
        ).prepare()
        try:
            openapi.validate_request(RequestsOpenAPIRequest(request))
        except Exception as error:  # noqa: BLE001
            cause = error.__cause__
            details = [e.message for e in getattr(cause, "schema_errors", [])] or [str(error)]
            pytest.fail(f"{entry.path}: {details}")


def test_a_broken_field_or_paging_header_is_caught(openapi, sb) -> None:
    """The checks can fail: a wrong field type and a missing paging header are both found."""
    request, response = call(sb, "GET", "/contacts", params={"perPage": 2})
    body = response.json()
    body[0]["campaign"] = "not-an-object"
    response._content = json.dumps(body).encode()  # noqa: SLF001
    assert violations(openapi, request, response) != []
    assert header_problems(response, page=1) == []
    del response.headers["TotalPages"]
    assert header_problems(response, page=1) == ["TotalPages missing or not a number"]
