"""§5.3 rate limits: frame and per-second 429s, batch limits, concurrency tracking."""

from __future__ import annotations

import threading
import time

from tests.sandbox import Limits, Scale
from tests.sandbox_selftest.helpers import assert_error, get, post

SMALL = Scale(contacts=20)


def test_frame_quota_then_429_with_headers(make_sandbox):
    sb = make_sandbox(scale=SMALL, limits=Limits(frame_calls=5))
    remaining = [get(sb, "/accounts").headers["X-RateLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    response = get(sb, "/accounts")
    body = assert_error(response, 429, 1015)
    assert body["context"]["currentLimit"] == 5
    assert body["context"]["timeToReset"].endswith(" seconds")
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    seconds = int(response.headers["X-RateLimit-Reset"].split()[0])
    assert 590 <= seconds <= 600


def test_frame_resets_after_frame_seconds(make_sandbox):
    sb = make_sandbox(scale=SMALL, limits=Limits(frame_calls=2, frame_seconds=0.5))
    assert [get(sb, "/accounts").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.6)
    assert get(sb, "/accounts").status_code == 200


def test_per_second_429_sends_retry_after(make_sandbox):
    sb = make_sandbox(scale=SMALL, limits=Limits(per_second=3))
    statuses = [get(sb, "/accounts") for _ in range(4)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    response = statuses[3]
    body = assert_error(response, 429, 1015)
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Reset"] == "1 seconds"
    assert body["context"] == {"currentLimit": 3, "timeToReset": "1 seconds"}
    time.sleep(1.05)
    assert get(sb, "/accounts").status_code == 200


def test_batch_has_its_own_limits_and_a_1000_cap(make_sandbox):
    sb = make_sandbox(scale=SMALL, limits=Limits(batch_per_second=1, batch_per_frame=3))
    campaign = sb.data.campaigns[0]["campaignId"]

    def batch(n, start=0):
        contacts = [{"email": f"b{start + i}@batch.test"} for i in range(n)]
        return post(sb, "/contacts/batch", {"campaignId": campaign, "contacts": contacts})

    assert batch(1).status_code == 202
    second = batch(1, 10)
    assert_error(second, 429, 1015)
    assert second.headers["Retry-After"] == "1"
    assert get(sb, "/accounts").status_code == 200  # other endpoints are not held back
    time.sleep(1.05)
    assert_error(batch(1001), 400, 1000)  # over the cap (this call still counts)
    time.sleep(1.05)
    assert batch(1000, 100).status_code == 202
    time.sleep(1.05)
    frame = batch(1, 5000)
    assert assert_error(frame, 429, 1015)["context"]["currentLimit"] == 3


def test_concurrency_is_recorded_and_the_eleventh_is_refused(make_sandbox):
    sb = make_sandbox(scale=SMALL, latency=0.4, limits=Limits(reject_over_concurrency=True))
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def call():
        barrier.wait()
        code = get(sb, "/accounts").status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sb.max_in_flight_seen >= 11
    assert sb.concurrency_violations >= 1
    assert 429 in statuses
    assert max(r.in_flight for r in sb.log) == sb.max_in_flight_seen


def test_ten_at_once_are_fine(make_sandbox):
    sb = make_sandbox(scale=SMALL, latency=0.3, limits=Limits(reject_over_concurrency=True))
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def call():
        barrier.wait()
        statuses.append(get(sb, "/accounts").status_code)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 10
    assert sb.max_in_flight_seen == 10
    assert sb.concurrency_violations == 0
