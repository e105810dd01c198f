"""The limits in limits.py are the ones the official OpenAPI document states."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tap_getresponse.api import RateGovernor
from tap_getresponse.api import limits as api

SPEC = Path(__file__).parents[1] / "contract" / "openapi" / "getresponse-v3-official.json"


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def plain(text: str) -> str:
    """Markdown without emphasis and with one space between words."""
    return " ".join(text.replace("*", "").split())


def test_account_limits_match_the_spec(spec) -> None:
    limits = plain(spec["info"]["description"])
    minutes = int(api.FRAME_SECONDS // 60)
    assert f"The time frame duration is {minutes} minutes" in limits
    assert f"{api.MAX_CALLS_PER_FRAME:,} API calls per time frame" in limits
    assert f"{api.MAX_CALLS_PER_SECOND} API calls per second" in limits
    assert f"up to {api.MAX_IN_FLIGHT} simultaneous requests" in limits


def test_page_size_limit_matches_the_spec(spec) -> None:
    per_page = spec["components"]["parameters"]["PerPage"]["schema"]
    assert per_page["maximum"] == api.MAX_PAGE_SIZE


def test_batch_limits_match_the_spec(spec) -> None:
    operation = spec["paths"][api.BATCH_PATH][api.BATCH_METHOD.lower()]
    assert operation["operationId"] == "createBatchContacts"
    note = plain(operation["description"])
    assert f"{api.BATCH_CALLS_PER_FRAME} calls per time frame" in note
    assert re.search(rf"only {api.BATCH_CALLS_PER_SECOND} call per second", note)
    assert f"batch size is {api.MAX_BATCH_CONTACTS} contacts" in note


def test_the_governor_enforces_the_batch_limits() -> None:
    limit = RateGovernor().endpoint_limit(api.BATCH_METHOD, api.BATCH_PATH)
    assert limit is not None
    assert (limit.per_second, limit.per_frame, limit.frame_seconds) == (
        api.BATCH_CALLS_PER_SECOND,
        api.BATCH_CALLS_PER_FRAME,
        api.FRAME_SECONDS,
    )
