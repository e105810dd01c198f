"""Windows and page re-reads over collections that change between page requests (no HTTP)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import typing as t

import pytest

from tap_getresponse import windows
from tap_getresponse.api.collections import Page, iter_pages

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def stamp(seconds: int) -> str:
    return windows.format_filter_time(T0 + dt.timedelta(seconds=seconds))


class FakeStream:
    """Just enough of GetResponseStream for windows.py: a sorted, filterable, mutable collection."""

    name = "fake"
    primary_keys = ("id",)
    logger = logging.getLogger("fake")

    def __init__(self, size: int, page_size: int, parallel: int = 1) -> None:
        self.rows = {f"r{i:05d}": stamp(i // 3) for i in range(size)}  # ties on purpose
        self.page_size = page_size
        self.parallel = parallel
        self.requests = 0
        self.on_request: t.Callable[[int], None] | None = None
        self.next_id = size

    def fetch_page(self, path: str, params: dict[str, t.Any], number: int) -> Page:
        del path
        self.requests += 1
        if self.on_request:
            self.on_request(self.requests)
        low = params.get("query[changedOn][from]")
        high = params.get("query[changedOn][to]")
        rows = sorted(
            (changed, ident)
            for ident, changed in self.rows.items()
            if (low is None or changed >= low) and (high is None or changed <= high)
        )
        start = (number - 1) * self.page_size
        chunk = rows[start : start + self.page_size]
        pages = -(-len(rows) // self.page_size)
        return Page(
            number=number,
            items=[{"id": ident, "changedOn": changed} for changed, ident in chunk],
            total_pages=pages,
            total_count=len(rows),
        )

    def iter_pages(
        self, path: str, params: dict[str, t.Any], *, parallel: int | None = None
    ) -> t.Iterator[Page]:
        return iter_pages(
            lambda n: self.fetch_page(path, params, n),
            page_size=self.page_size,
            parallel=self.parallel if parallel is None else parallel,
        )


def read_window(stream: FakeStream, end: int) -> list[dict[str, t.Any]]:
    window = windows.Window("changedOn", None, T0 + dt.timedelta(seconds=end))
    pages = windows.iter_window_pages(stream, "/x", {}, window)  # type: ignore[arg-type]
    records = []
    for page in pages:
        for item in page.items:
            # Like the tap's normaliser, change the records in place once handed on.
            item["changedOn"] = item["changedOn"].replace("+0000", "+00:00")
            records.append(item)
    return records


@pytest.mark.parametrize("parallel", [1, 4], ids=lambda p: f"parallel={p}")
@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed={s}")
def test_window_loses_no_stable_record_while_records_leave(seed: int, parallel: int) -> None:
    rng = random.Random(seed)
    stream = FakeStream(size=400, page_size=17, parallel=parallel)
    end = 10_000
    stable = set(stream.rows)
    touched: set[str] = set()

    def mutate(_: int) -> None:
        for _ in range(rng.randint(0, 3)):
            ident = rng.choice(sorted(stream.rows))
            touched.add(ident)
            if rng.random() < 0.5:
                del stream.rows[ident]  # deleted
            else:
                stream.rows[ident] = stamp(end + 5)  # updated after the run started
        new = f"n{stream.next_id:05d}"
        stream.next_id += 1
        stream.rows[new] = stamp(end + 5)  # inserted after the run started

    stream.on_request = mutate
    records = read_window(stream, end)
    seen = [record["id"] for record in records]
    assert stable - touched <= set(seen)
    changed = [record["changedOn"] for record in records]
    assert changed == sorted(changed), "records must arrive in ascending order for the bookmark"


def test_window_params_are_inclusive_bounds_in_api_format() -> None:
    window = windows.Window("changedOn", T0, T0 + dt.timedelta(hours=1))
    assert window.params() == {
        "sort[changedOn]": "asc",
        "query[changedOn][from]": "2024-01-01T00:00:00+0000",
        "query[changedOn][to]": "2024-01-01T01:00:00+0000",
    }
    assert "sort[changedOn]" not in windows.Window("createdOn", None, T0, sort=False).params()


@pytest.mark.parametrize(
    ("state", "config", "expected"),
    [
        ({}, {}, None),
        ({}, {"start_date": "2023-05-01T00:00:00Z"}, "2023-05-01T00:00:00+00:00"),
        (
            {"replication_key": "changedOn", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {},
            "2024-01-01T09:00:00+00:00",
        ),
        (
            {"replication_key": "changedOn", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {"start_date": "2024-01-01T09:30:00Z"},
            "2024-01-01T09:30:00+00:00",
        ),
        (
            {"replication_key": "other", "replication_key_value": "2024-01-01T10:00:00+00:00"},
            {"start_date": "2020-01-01"},
            "2020-01-01T00:00:00+00:00",
        ),
    ],
    ids=["nothing", "start-date", "bookmark-less-lookback", "start-date-wins", "other-key"],
)
def test_window_start(state: dict[str, str], config: dict[str, str], expected: str | None) -> None:
    start = windows.window_start(config, state, "changedOn", dt.timedelta(hours=1))
    assert (start.isoformat() if start else None) == expected


@pytest.mark.parametrize("parallel", [1, 4], ids=lambda p: f"parallel={p}")
@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed={s}")
def test_full_table_rereads_positions_after_deletes(seed: int, parallel: int) -> None:
    rng = random.Random(seed)
    stream = FakeStream(size=300, page_size=10, parallel=parallel)
    stable = set(stream.rows)
    deleted: set[str] = set()

    def delete(_: int) -> None:
        for _ in range(rng.randint(0, 2)):
            ident = rng.choice(sorted(stream.rows))
            deleted.add(ident)
            del stream.rows[ident]

    stream.on_request = delete
    pages = windows.iter_stable_pages(stream, "/x", {})  # type: ignore[arg-type]
    seen = [item["id"] for page in pages for item in page.items]
    assert stable - deleted <= set(seen)
    assert len(seen) == len(set(seen)), "re-read records are not handed on twice"


def test_a_boundary_reread_that_slides_under_itself_is_read_again() -> None:
    # Page 3 comes late (as after a retried 5xx): 20 records left before it, so the re-read of
    # the gap spans two pages, and a record leaves between those two pages as well.
    stream = FakeStream(size=100, page_size=10)
    gone: set[str] = set()

    def mutate(request: int) -> None:
        if request == 3:  # before page 3: everything already handed on leaves
            for ident in sorted(stream.rows)[:20]:
                gone.add(ident)
                del stream.rows[ident]
        if request == 5:  # between the re-read's two pages
            gone.add("r00022")
            del stream.rows["r00022"]

    stream.on_request = mutate
    records = read_window(stream, 10_000)
    seen = {record["id"] for record in records}
    assert {f"r{i:05d}" for i in range(100)} - gone <= seen
    assert len(seen) == len(records)
    changed = [record["changedOn"] for record in records]
    assert changed == sorted(changed)
