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


def guessing(collection: Collection, guess: int, parallel: int = 4) -> AheadReader:
    return AheadReader(collection.fetch, page_size=PAGE_SIZE, parallel=parallel, guess=guess)


def test_guessed_pages_go_out_with_page_1_before_it_answers():
    collection = Collection(20, held=[1])
    pages = guessing(collection, guess=3).pages({})
    first: list[Page] = []
    stream = threading.Thread(target=lambda: first.append(next(pages)))
    stream.start()
    # Page 1 is held: pages 2 to 4 were asked for all the same, and nothing past them (page 1
    # has not said how many there are).
    assert collection.wait_until_asked(4)
    assert sorted(collection.asked) == [1, 2, 3, 4]
    collection.released[1].set()
    stream.join(WAIT)
    assert [first[0].number] + [page.number for page in pages] == list(range(1, 21))
    assert sorted(collection.asked) == list(range(1, 21))
    assert collection.most_in_flight <= 4


class FullPages(Collection):
    """Every page full, as many as the headers say, and `TotalCount` agreeing; none after."""

    def fetch(self, params: t.Mapping[str, t.Any], number: int) -> Page:
        super().fetch(params, number)
        size = PAGE_SIZE if number <= self.pages else 0
        items = [{"id": f"{number}-{i}"} for i in range(size)]
        return Page(number, items, total_pages=self.pages, total_count=self.pages * PAGE_SIZE)


@pytest.mark.parametrize("pages", [1, 2, 3])
def test_guessed_pages_past_the_last_are_not_handed_on(pages):
    collection = FullPages(pages, held=[1])
    got: list[int] = []
    read = guessing(collection, guess=5, parallel=10).pages({})
    stream = threading.Thread(target=lambda: got.extend(page.number for page in read))
    stream.start()
    # Page 1 held back: page 2 went out with it (and more, until one came back short).
    assert collection.wait_until_asked(2)
    collection.released[1].set()
    stream.join(WAIT)
    assert got == list(range(1, pages + 1))  # those past the last came back empty: dropped
    assert set(collection.asked) <= set(range(1, 7))
    assert collection.in_flight == 0  # and were waited for


def test_more_pages_than_page_1_said_are_read_one_by_one_after_the_guess():
    collection = Collection(8)  # a page of 10 items on pages 1-7, 3 on page 8
    collection.pages = 2  # ...but its headers say 2 pages
    got = [page.number for page in guessing(collection, guess=2).pages({})]
    assert got == list(range(1, 9))
    assert sorted(collection.asked) == list(range(1, 9))


def test_a_failed_page_1_is_raised_after_the_guessed_pages_came_back():
    collection = Collection(12)
    collection.failing = {1}
    with pytest.raises(RuntimeError, match="page 1 failed"):
        next(guessing(collection, guess=3).pages({}))
    assert collection.in_flight == 0
