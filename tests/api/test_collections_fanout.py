"""ordered_map: results in input order, bounded concurrency, failures surface, no work after."""

from __future__ import annotations

import threading
import time

import pytest

from tap_getresponse.api.collections import ordered_map


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.started: list[int] = []

    def fetch(self, item: int) -> int:
        with self.lock:
            self.started.append(item)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(0.001 * ((item * 7) % 5))  # finish out of order
        with self.lock:
            self.in_flight -= 1
        return item * 10


@pytest.mark.parametrize("parallel", [1, 2, 4, 10], ids=lambda p: f"parallel={p}")
def test_results_in_input_order(parallel: int) -> None:
    recorder = Recorder()
    results = list(ordered_map(recorder.fetch, range(50), parallel=parallel))
    assert results == [(i, i * 10) for i in range(50)]
    assert recorder.max_in_flight <= parallel


def test_runs_concurrently() -> None:
    recorder = Recorder()
    list(ordered_map(recorder.fetch, range(40), parallel=4))
    assert recorder.max_in_flight > 1


def test_error_propagates_and_stops_new_work() -> None:
    started: list[int] = []

    def fetch(item: int) -> int:
        started.append(item)
        if item == 3:
            msg = "boom"
            raise RuntimeError(msg)
        return item

    with pytest.raises(RuntimeError, match="boom"):
        list(ordered_map(fetch, range(1000), parallel=4))
    assert len(started) < 20


def test_abandoned_consumer_stops_fetching() -> None:
    recorder = Recorder()
    results = ordered_map(recorder.fetch, range(1000), parallel=3)
    assert next(results) == (0, 0)
    results.close()
    assert len(recorder.started) <= 5
