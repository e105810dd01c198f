"""The X-RateLimit-* headers as a budget: at most what they say is left leaves before the reset."""

from __future__ import annotations

import pytest

from tap_getresponse.api import GetResponseClient, RateGovernor
from tap_getresponse.api.collections import PageReader, fetch_page
from tap_getresponse.api.frames import RESET_ROUNDING_SECONDS, FrameBudget
from tests.sandbox import Limits, Scale


def reading(budget: FrameBudget, left: int, reset: float, **kwargs) -> None:
    budget.read(remaining=left, reset=reset, limit=None, now=0.0, in_flight=0, **kwargs)


def admissions_before(budget: FrameBudget, now: float, most: int = 1000) -> int:
    """How many requests the budget lets leave at `now`, one after another."""
    count = 0
    while count < most and budget.delay(now, last_call=float("-inf")) <= 0:
        budget.admit(in_flight=0, now=now)
        count += 1
    return count


def test_a_fresh_reading_lets_exactly_what_is_left_leave() -> None:
    budget = FrameBudget()
    reading(budget, left=7, reset=30, ticket=None)
    assert admissions_before(budget, now=0) == 7
    assert budget.delay(0, last_call=0) == 30 + RESET_ROUNDING_SECONDS


def test_requests_in_flight_when_a_reading_was_asked_for_are_taken_from_it() -> None:
    budget = FrameBudget()
    tickets = [budget.admit(in_flight=n, now=0) for n in range(10)]  # ten leave together
    # The first one's answer says 12 left: the nine sent with it may not be counted in that.
    reading(budget, left=12, reset=30, ticket=tickets[0])
    assert budget.left(0) == 12 - 9
    assert admissions_before(budget, now=0) == 3


@pytest.mark.parametrize("later_answered_first", [True, False], ids=["reversed", "in-order"])
def test_the_smallest_budget_of_a_frame_wins_whatever_order_answers_come_in(
    later_answered_first,
) -> None:
    budget = FrameBudget()
    first, second = budget.admit(in_flight=0, now=0), budget.admit(in_flight=1, now=0)
    answers = [(first, 4, 31), (second, 3, 30)]
    for ticket, left, reset in reversed(answers) if later_answered_first else answers:
        reading(budget, left=left, reset=reset, ticket=ticket)
    # The second answer says 3 left, but the first request may have reached the server later.
    assert budget.left(0) == 2
    assert len(budget.frames) == 1


def test_a_new_frame_is_its_own_once_the_old_one_has_ended() -> None:
    budget = FrameBudget()
    reading(budget, left=0, reset=2, ticket=None)
    budget.read(remaining=500, reset=600, limit=None, now=3.5, ticket=None, in_flight=0)
    assert budget.left(3.5) == 500
    assert budget.delay(3.5, last_call=float("-inf")) == 0


# ---- through the sandbox: parallel paging across frame boundaries --------------------------------


@pytest.mark.parametrize("rounding", ["up", "down"], ids=["reset-rounded-up", "reset-rounded-down"])
def test_frame_boundaries_cost_no_429_with_ten_pages_in_flight(make_sandbox, rounding) -> None:
    # 40 calls per 2-second frame; 90 pages of contacts read 10 at a time cross two boundaries.
    limits = Limits(frame_calls=40, frame_seconds=2, per_second=100_000, reset_rounding=rounding)
    sb = make_sandbox(scale=Scale(contacts=900), limits=limits, latency=0.05)
    client = GetResponseClient({"api_url": sb.url, "api_key": sb.api_key}, governor=RateGovernor())
    reader = PageReader(
        lambda params, number: fetch_page(client, "/contacts", params, number, 10),
        page_size=10,
        parallel=10,
    )
    ids = [item["contactId"] for page in reader.pages({}) for item in page.items]
    assert sorted(ids) == sorted(contact["contactId"] for contact in sb.data.contacts)
    assert [entry for entry in sb.log if entry.status == 429] == []
    assert client.governor.stats.throttled == 0
    assert len(sb.log) > 2 * limits.frame_calls  # two frames ran out on the way
