"""iter_pages: every page once, in order, with at most `parallel` in flight."""

from __future__ import annotations

import threading
import time

import pytest

from tap_getresponse.api.collections import Page, iter_pages


class FakeCollection:
    """Serves `total` items in pages of `size`, recording concurrency."""

    def __init__(self, total: int, size: int, *, headers: bool = True) -> None:
        self.total, self.size, self.headers = total, size, headers
        self.requested: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def fetch(self, number: int) -> Page:
        with self.lock:
            self.requested.append(number)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(0.002 * (number % 3))  # finish out of order
        start = (number - 1) * self.size
        items = [{"id": i} for i in range(start, min(start + self.size, self.total))]
        pages = -(-self.total // self.size)
        with self.lock:
            self.in_flight -= 1
        return Page(
            number=number,
            items=items,
            total_pages=pages if self.headers else None,
            total_count=self.total if self.headers else None,
        )


@pytest.mark.parametrize("parallel", [1, 3, 10], ids=lambda p: f"parallel={p}")
@pytest.mark.parametrize(
    ("total", "size"),
    [(0, 10), (9, 10), (10, 10), (11, 10), (1000, 7)],
    ids=str,
)
def test_every_item_once_in_order(total: int, size: int, parallel: int) -> None:
    collection = FakeCollection(total, size)
    pages = list(iter_pages(collection.fetch, page_size=size, parallel=parallel))
    items = [item["id"] for page in pages for item in page.items]
    assert items == list(range(total))
    assert [page.number for page in pages] == sorted(page.number for page in pages)
    assert collection.max_in_flight <= parallel


def test_pages_requested_are_pages_needed() -> None:
    collection = FakeCollection(total=95, size=10)
    list(iter_pages(collection.fetch, page_size=10, parallel=4))
    assert sorted(collection.requested) == list(range(1, 11))


def test_without_paging_headers_reads_until_a_short_page() -> None:
    collection = FakeCollection(total=25, size=10, headers=False)
    pages = list(iter_pages(collection.fetch, page_size=10, parallel=4))
    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert collection.requested == [1, 2, 3]


def test_parallel_fetching_overlaps_requests() -> None:
    collection = FakeCollection(total=200, size=10)
    list(iter_pages(collection.fetch, page_size=10, parallel=4))
    assert collection.max_in_flight > 1
