"""A/B tests: subject tests (`GET /ab-tests/subject`) and split tests (`GET /splittests`).

Items follow the official schemas `AbtestsSubjectListItem` and `Splittest`. `getSplittestList`'s
`query[status]` defaults to `active` (the spec's default): without it, inactive split tests are
not listed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, route
from tests.sandbox.util import SEED_END, SEED_START, fmt_ts

if TYPE_CHECKING:
    from tests.sandbox.response import Response
    from tests.sandbox.store import DataStore

DAY = 86_400
AB_TESTS = 5
SPLITTESTS = 7
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_STAGES = ("preparing", "testing", "finished", "sending_winner", "cancelled", "draft", "completed")
_SPLIT_STAGES = ("queued", "schedule_sampling", "evaluate_sampling", "send_winning", "finished")
_SPLIT_TYPES = ("content", "subject", "day", "hour", "from_field")

AB_TEST_LIST = ListSpec(
    "abTestId",
    filters={
        "name": Filter("like"),
        "stage": Filter("eq"),
        "abTestId": Filter("in"),
        "campaignId": Filter("in", "campaign.campaignId"),
    },
    sorts={
        "name": "name",
        "stage": "stage",
        "sendOn": "deliverySettings.sendOn.date",
        "totalDelivered": "_totalDelivered",
    },
)
SPLITTEST_LIST = ListSpec(
    "splittestId",
    filters={
        "name": Filter("like"),
        "type": Filter("eq"),
        "status": Filter("eq"),
        "createdOn": Filter("range"),
    },
    sorts={"name": "name", "createdOn": "createdOn"},
)


def _rng(store: DataStore) -> random.Random:
    """This module's own generator: the store's shared one is left untouched."""
    return random.Random(store.seed * 1_000_003 + 15)


def _id(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


def _ref(store: DataStore, kind: str, key: str, ident: str) -> dict[str, str]:
    return {key: ident, "href": f"{store.base}/{kind}/{ident}"}


def _ab_test(store: DataStore, rng: random.Random, i: int, created: int) -> dict[str, Any]:
    test_id = _id(rng, 3 + i % 2)
    campaign = store.campaigns[i % len(store.campaigns)]
    sender = store.collections["from-fields"][0]["fromFieldId"]
    stage = _STAGES[i % len(_STAGES)]
    sent = created + rng.randint(1, 10) * DAY
    return {
        "abTestId": test_id,
        "href": f"{store.base}/ab-tests/subject/{test_id}",
        "name": f"Subject test {i + 1}",
        "campaign": _ref(store, "campaigns", "campaignId", campaign["campaignId"]),
        "fromField": _ref(store, "from-fields", "fromFieldId", sender),
        "replyTo": _ref(store, "from-fields", "fromFieldId", sender),
        "status": "active" if stage != "cancelled" else "inactive",
        "stage": stage,
        "deliverySettings": {
            "sendOn": {
                "date": None if stage == "draft" else fmt_ts(sent),
                "timeZone": {"timeZoneId": 1, "timeZoneName": None, "timeZoneOffset": None},
            },
            "winnerMode": "automatic" if i % 2 else "manual",
            "winningCriteria": "open" if i % 2 else "click",
            "samplingPercentage": 10 + 5 * i,
            "samplingTime": "86400",
        },
        "flags": ["clicktrack", "openrate"] if i % 2 else ["openrate"],
        "createdOn": fmt_ts(created),
        "updatedOn": fmt_ts(created + rng.randint(0, 20) * DAY),
        "_totalDelivered": rng.randint(0, 5000),
    }


def _newsletter(store: DataStore, rng: random.Random, n: int, sent: int) -> dict[str, Any]:
    ident = _id(rng, 3)
    sender = store.collections["from-fields"][0]["fromFieldId"]
    return {
        "newsletterId": ident,
        "href": f"{store.base}/newsletters/{ident}",
        "name": f"Variant {'AB'[n]}",
        "subject": f"Variant {'AB'[n]} subject",
        "fromField": _ref(store, "from-fields", "fromFieldId", sender),
        "status": ("chosen", "rejected")[n],
        "sendOn": fmt_ts(sent),
        "samplingTargets": str(rng.randint(10, 200)),
        "samplingDelivered": str(rng.randint(0, 10)),
        "scoreOpens": str(rng.randint(0, 60)),
        "scoreClicks": str(rng.randint(0, 20)),
    }


def _splittest(store: DataStore, rng: random.Random, i: int, created: int) -> dict[str, Any]:
    test_id = _id(rng, 3 + i % 2)
    campaign = store.campaigns[i % len(store.campaigns)]
    sent = created + rng.randint(1, 10) * DAY
    finished = i % 3 == 0
    return {
        "splittestId": test_id,
        "href": f"{store.base}/splittests/{test_id}",
        "name": f"Split test {i + 1}",
        "campaign": {
            **_ref(store, "campaigns", "campaignId", campaign["campaignId"]),
            "name": campaign["name"],
        },
        "status": "inactive" if finished else "active",
        "winningCriteria": "open" if i % 2 else "click",
        "winningTarget": str(rng.randint(1, 50)),
        "stage": "finished" if finished else _SPLIT_STAGES[i % 4],
        "type": _SPLIT_TYPES[i % len(_SPLIT_TYPES)],
        "samplingPercentage": str(rng.randint(5, 50)),
        "samplingTime": "86400",
        "chooseWinning": "automatic",
        "winningScoreOpens": str(rng.randint(0, 60)),
        "winningScoreClicks": str(rng.randint(0, 20)),
        "winningDelivered": str(rng.randint(0, 500)),
        "winningScheduleOn": fmt_ts(sent + DAY),
        "nextStepOn": None if finished else fmt_ts(sent + DAY),
        "evaluationSkippedOn": None,
        "canceledOn": None,
        "createdOn": fmt_ts(created),
        "newsletters": [_newsletter(store, rng, n, sent) for n in range(2)],
        "sendSettings": {
            "selectedCampaigns": [campaign["campaignId"]],
            "selectedSegments": [],
            "selectedSupressions": [],
            "excludedCampaigns": [],
            "excludedSegments": [],
        },
    }


def seed(store: DataStore) -> None:
    """Seed subject A/B tests and split tests (both statuses)."""
    rng = _rng(store)
    stamps = sorted(rng.randint(SEED_START, SEED_END) for _ in range(AB_TESTS))
    store.collections["ab-tests"] = [_ab_test(store, rng, i, at) for i, at in enumerate(stamps)]
    stamps = sorted(rng.randint(SEED_START, SEED_END) for _ in range(SPLITTESTS))
    store.collections["splittests"] = [_splittest(store, rng, i, at) for i, at in enumerate(stamps)]


@route("GET", "/ab-tests/subject")
def list_ab_tests(ctx: Ctx) -> Response:
    """GET /ab-tests/subject (`GetAbTestSubjectList`)."""
    return list_response(ctx, ctx.data.collections["ab-tests"], AB_TEST_LIST)


@route("GET", "/ab-tests/subject/{abTestId}")
def get_ab_test(ctx: Ctx) -> Response:
    """GET /ab-tests/subject/{abTestId}."""
    return detail_response(ctx, get_or_404(ctx, "ab-tests", "abTestId"), "abTestId")


@route("GET", "/splittests")
def list_splittests(ctx: Ctx) -> Response:
    """GET /splittests (`getSplittestList`): active ones only unless `query[status]` says."""
    items = ctx.data.splittests
    if "status" not in ctx.query.filters:
        items = [item for item in items if item["status"] == "active"]
    return list_response(ctx, items, SPLITTEST_LIST)


@route("GET", "/splittests/{splittestId}")
def get_splittest(ctx: Ctx) -> Response:
    """GET /splittests/{splittestId}."""
    return detail_response(ctx, get_or_404(ctx, "splittests", "splittestId"), "splittestId")
