"""The sandbox's custom events against the official OpenAPI: answers, errors and request bodies.

Operations `getCustomEventsList`, `getCustomEventById`, `createCustomEvent`, `deleteCustomEvent`
and `triggerCustomEvent`; the checks are test_sandbox_responses' own.
"""

from __future__ import annotations

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest

from scripts.generate_schemas import load_spec
from tests.conftest import GENEROUS_LIMITS
from tests.contract.test_sandbox_responses import (
    DATE_TIME,
    SPEC_BASE,
    call,
    header_problems,
    unexplained,
    violations,
)
from tests.sandbox import Sandbox, Scale

#: `customEventAttributeId` is readOnly in schema `CustomEventAttributeDetails`, and OpenAPI 3.0
#: says a readOnly property is never required in a request; openapi-core requires it anyway.
READ_ONLY_REQUIRED = "'customEventAttributeId' is a required property"
#: Schema `TriggerCustomEventAttributeValue` is a `oneOf` whose first branch (any string of 1-255
#: characters) also matches its date-time and "true"/"false" branches: such a value, however
#: right, is "valid under each of" them. The spec means `anyOf`.
ONE_OF_OVERLAP = "is valid under each of"


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The official spec, with the date-time check test_sandbox_responses uses."""
    spec = load_spec()
    spec["servers"] = [{"url": SPEC_BASE}]

    def date_time(value: object) -> bool:
        return not isinstance(value, str) or DATE_TIME.fullmatch(value) is not None

    return OpenAPI.from_dict(spec, config=Config(extra_format_validators={"date-time": date_time}))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(scale=Scale(contacts=10), limits=GENEROUS_LIMITS) as sandbox:
        yield sandbox


def request_problems(openapi, path: str, body: object) -> list[str]:
    """What the spec finds wrong with a POST body (none: it validates)."""
    request = requests.Request(
        "POST", SPEC_BASE + path, headers={"X-Auth-Token": "api-key x"}, json=body
    ).prepare()
    try:
        openapi.validate_request(RequestsOpenAPIRequest(request))
    except Exception as error:  # noqa: BLE001 - any validation failure is a finding
        cause = error.__cause__
        found = [e.message for e in getattr(cause, "schema_errors", [])] or [str(error)]
        return [
            message
            for message in found
            if message != READ_ONLY_REQUIRED and ONE_OF_OVERLAP not in message
        ]
    return []


@pytest.mark.parametrize(
    "params",
    [{}, {"sort[name]": "desc"}, {"query[hasAttributes]": "true"}, {"page": 2, "perPage": 2}],
    ids=["plain", "sorted", "with-attributes", "page-2"],
)
def test_list_matches_the_official_schema(openapi, sb, params) -> None:
    request, response = call(sb, "GET", "/custom-events", params={"perPage": 3, **params})
    assert response.status_code == 200
    assert response.json(), "the seeded definitions are listed"
    assert unexplained("/custom-events", violations(openapi, request, response)) == []
    assert header_problems(response, page=int(params.get("page", 1))) == []


def test_every_attribute_type_is_seeded(sb) -> None:
    events = sb.data.collections["custom-events"]
    types = {a["type"] for event in events for a in event["attributes"]}
    assert types == {"string", "number", "datetime", "boolean"}
    assert any(not event["attributes"] for event in events)


def test_detail_and_create_match(openapi, sb) -> None:
    ident = sb.data.collections["custom-events"][0]["customEventId"]
    request, response = call(sb, "GET", f"/custom-events/{ident}")
    assert response.status_code == 200
    assert violations(openapi, request, response) == []
    body = {"name": "cart_saved", "attributes": [{"name": "total", "type": "number"}]}
    assert request_problems(openapi, "/custom-events", body) == []
    request, response = call(sb, "POST", "/custom-events", json=body)
    assert response.status_code == 201
    assert violations(openapi, request, response) == []
    created = response.json()
    assert created["attributes"][0]["customEventAttributeId"]
    request, response = call(sb, "POST", "/custom-events", json=body)
    assert response.status_code == 400  # a taken name: the operation documents no 409
    assert violations(openapi, request, response) == []
    request, response = call(sb, "DELETE", f"/custom-events/{created['customEventId']}")
    assert response.status_code == 204


BAD_CREATES = {
    "name-pattern": {"name": "Has Spaces", "attributes": []},
    "no-attributes": {"name": "fine_name"},
    "attribute-type": {"name": "fine_name", "attributes": [{"name": "abc", "type": "date"}]},
    "attribute-name": {"name": "fine_name", "attributes": [{"name": "a", "type": "string"}]},
}


@pytest.mark.parametrize("case", BAD_CREATES)
def test_create_refuses_what_the_spec_refuses(openapi, sb, case) -> None:
    body = BAD_CREATES[case]
    assert request_problems(openapi, "/custom-events", body) != []
    request, response = call(sb, "POST", "/custom-events", json=body)
    assert response.status_code == 400
    assert violations(openapi, request, response) == []


def test_trigger_answers_201_and_is_recorded(openapi, sb) -> None:
    contact = sb.data.contacts[0]["contactId"]
    body = {
        "name": "order_shipped",
        "contactId": contact,
        "attributes": [
            {"name": "shipped_at", "value": "2026-01-02T03:04:05+0000"},
            {"name": "express", "value": True},
            {"name": "carrier", "value": "post"},
        ],
    }
    assert request_problems(openapi, "/custom-events/trigger", body) == []
    request, response = call(sb, "POST", "/custom-events/trigger", json=body)
    assert response.status_code == 201
    assert violations(openapi, request, response) == []
    last = sb.data.triggered_events[-1]
    assert (last["name"], last["contactId"]) == ("order_shipped", contact)
    assert last["attributes"] == body["attributes"]


BAD_TRIGGERS = {
    "unknown-event": ({"name": "never_defined"}, 400),
    "unknown-contact": ({"contactId": "nope1"}, 404),
    "undefined-attribute": ({"attributes": [{"name": "colour", "value": "red"}]}, 400),
    "value-type": ({"attributes": [{"name": "score", "value": "ten"}]}, 400),
    "no-contact": ({"contactId": ""}, 400),
}


@pytest.mark.parametrize("case", BAD_TRIGGERS)
def test_trigger_errors_match_error_response(openapi, sb, case) -> None:
    change, status = BAD_TRIGGERS[case]
    body = {"name": "lesson_finished", "contactId": sb.data.contacts[0]["contactId"], **change}
    before = len(sb.data.triggered_events)
    request, response = call(sb, "POST", "/custom-events/trigger", json=body)
    assert response.status_code == status
    assert violations(openapi, request, response) == []
    assert len(sb.data.triggered_events) == before
