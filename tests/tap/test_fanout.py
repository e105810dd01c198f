"""ReadAhead: partitions fetched ahead are handed out in order, and only in order (no HTTP)."""

from __future__ import annotations

import threading

import pytest

from tap_getresponse.fanout import ReadAhead, ReadAheadError


def test_read_ahead_hands_each_result_to_its_key_in_order() -> None:
    fetched: list[int] = []
    lock = threading.Lock()

    def fetch(key: int) -> int:
        with lock:
            fetched.append(key)
        return key * 10

    ahead = ReadAhead(fetch, range(8), parallel=3)
    assert [ahead.take(key) for key in range(8)] == [key * 10 for key in range(8)]
    assert sorted(fetched) == list(range(8)), "each key fetched once"


@pytest.mark.parametrize("parallel", [1, 3], ids=lambda p: f"parallel={p}")
def test_read_ahead_asked_out_of_order_raises(parallel: int) -> None:
    ahead = ReadAhead(str, ["a", "b", "c"], parallel=parallel)
    assert ahead.take("a") == "a"
    with pytest.raises(ReadAheadError, match=r"'c'.*'b'"):
        ahead.take("c")


def test_read_ahead_asked_past_its_keys_raises() -> None:
    ahead = ReadAhead(str, ["a"], parallel=2)
    assert ahead.take("a") == "a"
    with pytest.raises(ReadAheadError, match="nothing"):
        ahead.take("b")
