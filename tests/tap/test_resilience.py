"""Rate limits, server errors and dropped connections: the sync completes and stays within 10."""

from __future__ import annotations

import pytest

from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Limits, Scale
from tests.tap.conftest import run_sync, sandbox_config

SCALE = Scale(contacts=150, newsletters=6, campaigns=3, activities_per_contact=2)
STREAMS = ("contacts", "contact_details", "newsletter_statistics", "campaign_balance_statistics")


def expected_ids(sb):
    return sorted(c["contactId"] for c in sb.data.contacts)


def check_complete(sb, result):
    assert sorted(result.ids("contacts", "contactId")) == expected_ids(sb)
    assert sorted(result.ids("contact_details", "contactId")) == expected_ids(sb)
    sent = {n["newsletterId"] for n in sb.data.newsletters if n["type"] != "draft"}
    assert {r["newsletterId"] for r in result.records["newsletter_statistics"]} == sent
    assert sb.max_in_flight_seen <= 10
    assert sb.concurrency_violations == 0


def test_fan_out_runs_in_parallel_but_never_above_ten_in_flight(make_sandbox):
    sb = make_sandbox(scale=SCALE, latency=0.01)
    result = run_sync(sandbox_config(sb, page_size=20), streams=STREAMS)
    check_complete(sb, result)
    assert sb.max_in_flight_seen > 3, "details should be fetched concurrently"


def test_lower_max_parallel_requests_is_respected(make_sandbox):
    sb = make_sandbox(scale=SCALE, latency=0.01)
    result = run_sync(sandbox_config(sb, page_size=20, max_parallel_requests=3), streams=STREAMS)
    check_complete(sb, result)
    assert sb.max_in_flight_seen <= 6  # pages of the parent and the children's own pool


def test_tight_per_second_limit_is_waited_out(make_sandbox):
    limits = Limits(**{**GENEROUS_LIMITS.__dict__, "per_second": 40})
    sb = make_sandbox(scale=Scale(contacts=60, newsletters=3, campaigns=2), limits=limits)
    result = run_sync(sandbox_config(sb, page_size=20), streams=STREAMS)
    check_complete(sb, result)
    assert any(r.status == 429 for r in sb.log), "the limit was met, then respected"


def test_exhausted_frame_is_waited_out(make_sandbox):
    limits = Limits(**{**GENEROUS_LIMITS.__dict__, "frame_seconds": 1.0, "frame_calls": 60})
    sb = make_sandbox(scale=Scale(contacts=60, newsletters=3, campaigns=2), limits=limits)
    result = run_sync(sandbox_config(sb, page_size=20), streams=STREAMS)
    check_complete(sb, result)


@pytest.mark.parametrize("path", ["/contacts", "/contacts/*", "/newsletters/*/statistics"])
def test_server_errors_and_dropped_connections_are_retried(make_sandbox, path):
    sb = make_sandbox(scale=SCALE)
    # Each retry of one request backs off longer (0.5 s, 1 s, 2 s... with jitter): three in a row.
    sb.faults.fail_next(1, status=500, path=path)
    sb.faults.fail_next(1, status=503, path=path)
    sb.faults.drop_next(1, path=path)
    result = run_sync(sandbox_config(sb, page_size=20), streams=STREAMS)
    check_complete(sb, result)
    assert sum(1 for r in sb.log if r.dropped or (r.status or 0) >= 500) == 3
