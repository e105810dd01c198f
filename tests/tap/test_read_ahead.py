"""AheadReader keeps every request slot busy: a finished request makes room at once.

A fake collection stands in for the API: its pages answer when the test lets them, so what the
reader asks for while a page is held back is known exactly (no timing). The sandbox syncs that
read through it are in test_record_path.py and the other tap tests.
"""

from __future__ import annotations

import threading
import typing as t

import pytest

from tap_getresponse.api.collections import Page
from tap_getresponse.read_ahead import AheadReader

PAGE_SIZE = 10
WAIT = 30  # seconds: a bound on every wait, never reached when the reader behaves


class Collection:
    """Full pages up to `short_at` (the last one by default: 3 items), none after; `pages` pages.

    Page numbers in `held` answer only once the test releases them.
    """

    def __init__(self, pages: int, *, held: t.Iterable[int] = (), short_at: int = 0) -> None:
        self.pages = pages
        self.short_at = short_at or pages
        self.released = {number: threading.Event() for number in held}
        self.failing: set[int] = set()
        self.asked: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.changed = threading.Condition()

    def fetch(self, params: t.Mapping[str, t.Any], number: int) -> Page:
        del params
        with self.changed:
            self.asked.append(number)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.changed.notify_all()
        try:
            if number in self.released:
                assert self.released[number].wait(WAIT), f"page {number} never released"
            if number in self.failing:
                problem = f"page {number} failed"
                raise RuntimeError(problem)
            size = PAGE_SIZE if number < self.short_at else 3 if number == self.short_at else 0
            items = [{"id": f"{number}-{i}"} for i in range(size)]
            return Page(number, items, total_pages=self.pages, total_count=None)
        finally:
            with self.changed:
                self.in_flight -= 1

    def wait_until_asked(self, number: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: number in self.asked, timeout=WAIT)


def reader(collection: Collection, parallel: int = 4) -> AheadReader:
    return AheadReader(collection.fetch, page_size=PAGE_SIZE, parallel=parallel)


def test_a_finished_request_makes_room_while_an_earlier_page_is_held():
    collection = Collection(20, held=[2])
    got: list[int] = []
    stream = threading.Thread(
        target=lambda: got.extend(p.number for p in reader(collection).pages({}))
    )
    stream.start()
    # Page 2 is held, the stream waits for it: the slots of pages 3, 4, 5... that answered went
    # on to the next pages (a window moving with the stream would have stopped at page 5), up
    # to 2 x parallel pages ahead of the stream.
    assert collection.wait_until_asked(9)
    assert 10 not in collection.asked
    collection.released[2].set()
    stream.join(WAIT)
    assert got == list(range(1, 21))
    assert sorted(collection.asked) == list(range(1, 21))
    assert collection.most_in_flight <= 4


def test_a_short_page_ends_the_read():
    collection = Collection(20, short_at=6)  # the headers said 20 pages; the collection shrank
    assert [page.number for page in reader(collection, parallel=2).pages({})] == [1, 2, 3, 4, 5, 6]
    assert max(collection.asked) <= 6 + 2 * 2  # what was asked for before page 6 came back


def test_a_failed_page_is_raised_where_the_stream_reaches_it():
    collection = Collection(12)
    collection.failing = {5}
    pages = reader(collection).pages({})
    assert [next(pages).number for _ in range(4)] == [1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="page 5 failed"):
        next(pages)
    assert collection.in_flight == 0  # the read waited for what it had asked for


def test_one_request_at_a_time_is_the_plain_reader():
    collection = Collection(5)
    assert [page.number for page in reader(collection, parallel=1).pages({})] == [1, 2, 3, 4, 5]
    assert collection.asked == [1, 2, 3, 4, 5]
    assert collection.most_in_flight == 1
