"""Window and full reads over collections that change between page requests (no HTTP)."""

from __future__ import annotations

import datetime as dt
import random
import typing as t

import pytest

from tap_getresponse.api.collections import (
    FilterRange,
    Page,
    PageReader,
    Repair,
    _at_or_above,
    iter_stable_pages,
    iter_window_pages,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def stamp(seconds: int) -> str:
    """A filter value in GetResponse's own form, `seconds` after T0."""
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeCollection:
    """A sorted, filterable collection that changes between page requests, read by `fetch`."""

    def __init__(self, size: int, page_size: int, parallel: int = 1) -> None:
        self.rows = {f"r{i:05d}": stamp(i // 3) for i in range(size)}  # ties on purpose
        self.page_size = page_size
        self.parallel = parallel
        self.requests = 0
        self.on_request: t.Callable[[int], None] | None = None
        self.next_id = size
        self.repairs: list[Repair] = []

    def fetch(self, params: t.Mapping[str, t.Any], number: int) -> Page:
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

    @property
    def reader(self) -> PageReader:
        return PageReader(self.fetch, page_size=self.page_size, parallel=self.parallel)


def read_window(collection: FakeCollection, end: int) -> list[dict[str, t.Any]]:
    window = FilterRange("changedOn", None, stamp(end))
    pages = iter_window_pages(
        collection.reader, {}, window, key="id", on_repair=collection.repairs.append
    )
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
    collection = FakeCollection(size=400, page_size=17, parallel=parallel)
    end = 10_000
    stable = set(collection.rows)
    touched: set[str] = set()

    def mutate(_: int) -> None:
        for _ in range(rng.randint(0, 3)):
            ident = rng.choice(sorted(collection.rows))
            touched.add(ident)
            if rng.random() < 0.5:
                del collection.rows[ident]  # deleted
            else:
                collection.rows[ident] = stamp(end + 5)  # updated after the run started
        new = f"n{collection.next_id:05d}"
        collection.next_id += 1
        collection.rows[new] = stamp(end + 5)  # inserted after the run started

    collection.on_request = mutate
    records = read_window(collection, end)
    seen = [record["id"] for record in records]
    assert stable - touched <= set(seen)
    changed = [record["changedOn"] for record in records]
    assert changed == sorted(changed), "records must arrive in ascending order for the bookmark"
    assert collection.repairs, "records left between pages: the boundary is re-read and reported"


def test_filter_range_params_are_inclusive_bounds_and_narrow_with_raw_values() -> None:
    window = FilterRange("changedOn", stamp(0), stamp(3600))
    assert window.params() == {
        "sort[changedOn]": "asc",
        "query[changedOn][from]": "2024-01-01T00:00:00+0000",
        "query[changedOn][to]": "2024-01-01T01:00:00+0000",
    }
    narrowed = window.params(stamp(60), stamp(120))
    assert narrowed["query[changedOn][from]"] == "2024-01-01T00:01:00+0000"
    assert narrowed["query[changedOn][to]"] == "2024-01-01T00:02:00+0000"
    assert "sort[createdOn]" not in FilterRange("createdOn", None, stamp(0), sort=False).params()


@pytest.mark.parametrize("parallel", [1, 4], ids=lambda p: f"parallel={p}")
@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed={s}")
def test_full_table_rereads_positions_after_deletes(seed: int, parallel: int) -> None:
    rng = random.Random(seed)
    collection = FakeCollection(size=300, page_size=10, parallel=parallel)
    stable = set(collection.rows)
    deleted: set[str] = set()

    def delete(_: int) -> None:
        for _ in range(rng.randint(0, 2)):
            ident = rng.choice(sorted(collection.rows))
            deleted.add(ident)
            del collection.rows[ident]

    collection.on_request = delete
    pages = iter_stable_pages(collection.reader, {}, key="id", on_repair=collection.repairs.append)
    seen = [item["id"] for page in pages for item in page.items]
    assert stable - deleted <= set(seen)
    assert len(seen) == len(set(seen)), "re-read records are not handed on twice"
    assert collection.repairs, "records left between pages: their positions are re-read"


def test_a_boundary_reread_that_slides_under_itself_is_read_again() -> None:
    # Page 3 comes late (as after a retried 5xx): 20 records left before it, so the re-read of
    # the gap spans two pages, and a record leaves between those two pages as well.
    collection = FakeCollection(size=100, page_size=10)
    gone: set[str] = set()

    def mutate(request: int) -> None:
        if request == 3:  # before page 3: everything already handed on leaves
            for ident in sorted(collection.rows)[:20]:
                gone.add(ident)
                del collection.rows[ident]
        if request == 5:  # between the re-read's two pages
            gone.add("r00022")
            del collection.rows["r00022"]

    collection.on_request = mutate
    records = read_window(collection, 10_000)
    seen = {record["id"] for record in records}
    assert {f"r{i:05d}" for i in range(100)} - gone <= seen
    assert len(seen) == len(records)
    changed = [record["changedOn"] for record in records]
    assert changed == sorted(changed)
    first = collection.repairs[0]
    assert (first.left, first.after, first.before) == (20, 2, 3)
    assert first.reread > 0


def test_an_unpaginated_reader_makes_one_request() -> None:
    collection = FakeCollection(size=50, page_size=10)
    reader = PageReader(collection.fetch, page_size=10, paginated=False)
    pages = list(reader.pages({}))
    assert [page.number for page in pages] == [1]
    assert collection.requests == 1


@pytest.mark.parametrize("seed", range(40))
def test_the_high_water_filter_keeps_what_the_item_by_item_rule_keeps(seed: int) -> None:
    # The usual page (every value a timestamp at or above the mark) is judged in one C pass;
    # any page with missing, null, numeric or lower values must keep exactly the same items.
    rng = random.Random(seed)
    high = stamp(50)
    values: list[t.Any] = [stamp(50), stamp(51), stamp(99), stamp(49), None, "", 7]
    items = []
    for _ in range(rng.randrange(0, 8)):
        item: dict[str, t.Any] = {"id": len(items)}
        if rng.random() < 0.9:
            item["changedOn"] = rng.choice(values[:3] if seed % 2 else values)
        items.append(item)
    kept = _at_or_above(items, "changedOn", high)
    assert kept == [item for item in items if str(item.get("changedOn") or "") >= high]
