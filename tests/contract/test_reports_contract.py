"""Custom reports in the sandbox against the official OpenAPI (`getCustomReportList`,
`getCustomReportDetails`, `createCustomReport`), and the tap's own report request against
`CreateMessageActivityReport`."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest

from tap_getresponse.streams.message_activities import report_body, report_name
from tests.contract.test_sandbox_responses import (
    SPEC_BASE,
    call,
    header_problems,
    openapi,
    unexplained,
    violations,
)
from tests.sandbox import Scale

__all__ = ["openapi"]  # the fixture, imported so pytest finds it here

START, END = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=Scale(contacts=30))


def tap_body(sb) -> dict:
    messages = [n["newsletterId"] for n in sb.data.newsletters if n["type"] != "draft"]
    return report_body(report_name(START, END, 1, 1), messages, START, END)


def request_problems(openapi, body) -> list[str]:
    """What the official spec finds wrong with a POST /custom-reports carrying `body`."""
    request = requests.Request(
        "POST",
        SPEC_BASE + "/custom-reports",
        headers={"X-Auth-Token": "api-key x"},
        json=body,
    ).prepare()
    try:
        openapi.validate_request(RequestsOpenAPIRequest(request))
    except Exception as error:  # noqa: BLE001 - any validation failure is a finding
        cause = error.__cause__
        found = getattr(cause, "schema_errors", None) or [error]
        return [getattr(e, "message", str(e))[:200] for e in found]
    return []


def test_the_list_matches_the_official_schema(openapi, sb):
    request, response = call(sb, "GET", "/custom-reports", params={"perPage": 2, "page": 1})
    assert response.status_code == 200
    assert len(response.json()) == 2
    assert unexplained("/custom-reports", violations(openapi, request, response)) == []
    assert header_problems(response, page=1) == []
    assert all("files" not in item for item in response.json()), "list items carry no files"


@pytest.mark.parametrize("report_id", ["cR1", "cR2", "cR3", "cR4", "cR5"])
def test_each_detail_matches_the_official_schema(openapi, sb, report_id):
    path = f"/custom-reports/{report_id}"
    request, response = call(sb, "GET", path)
    assert response.status_code == 200
    assert unexplained(path, violations(openapi, request, response)) == []
    for file in response.json()["files"]:
        assert file["status"] in {"pending", "in-progress", "ready", "error"}
        assert ("downloadUrl" in file) == (file["status"] == "ready")


def test_a_new_link_on_every_read_of_the_detail(sb):
    _, first = call(sb, "GET", "/custom-reports/cR1")
    _, second = call(sb, "GET", "/custom-reports/cR1")
    links = [f["files"][0]["downloadUrl"] for f in (first.json(), second.json())]
    assert links[0] != links[1]
    assert all(link.startswith(sb.downloads.base) for link in links)
    assert not sb.url.startswith(sb.downloads.base), "files come from another host"


def test_the_tap_asks_for_a_report_the_spec_allows(openapi, sb):
    body = tap_body(sb)
    assert request_problems(openapi, body) == []
    assert len(body["name"]) <= 70
    request, response = call(sb, "POST", "/custom-reports", json=body)
    assert response.status_code == 201
    assert unexplained("/custom-reports", violations(openapi, request, response)) == []
    created = response.json()
    assert created["files"][0]["status"] == "pending"
    assert created["filters"] == body["filters"]
    time.sleep(sb.downloads.ready_after + 0.3)
    _, detail = call(sb, "GET", f"/custom-reports/{created['customReportId']}")
    assert detail.json()["files"][0]["status"] == "ready"


@pytest.mark.parametrize(
    "change",
    [
        {"name": "ab"},
        {"type": "nope"},
        {"filters": {"activityType": ["open"]}},
        {"filters": {"activityType": ["bounce"], "messageId": ["x"]}},
        {"scheduling": {"frequency": "daily", "startDate": "2025-01-01", "endDate": "2025-01-02"}},
        {
            "scheduling": {
                "frequency": "one_time",
                "startDate": "2025-01-31",
                "endDate": "2025-01-01",
            }
        },
    ],
    ids=["short-name", "type", "no-message-ids", "activity-type", "frequency", "dates"],
)
def test_a_body_the_spec_refuses_is_a_documented_400(openapi, sb, change):
    body = {**tap_body(sb), **change}
    request, response = call(sb, "POST", "/custom-reports", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 1000
    assert unexplained("/custom-reports", violations(openapi, request, response)) == []
