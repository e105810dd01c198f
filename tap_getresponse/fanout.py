"""Fan-out streams: one request (or a few pages) per parent item, run concurrently, in order.

Two bases, by where the bookmark lives:

- `BatchedFanOutStream`: parents come in batches (a context `{batch_key: [ids]}`) under one
  bookmark for the stream. `contact_details` gets its batches from its parent stream (a page of
  contacts at a time); streams with a `parent` collection list it themselves and take `page_size`
  parents a batch (activities, all-time list statistics).
- `PerParentStream`: every parent is a partition with its own bookmark (daily statistics); while
  the SDK emits one partition, the next ones are fetched ahead (`ReadAhead`).

Parents are fetched on worker threads (`api.collections.ordered_map`, at most
`max_parallel_requests` at once) and handed on in the parents' order. Workers never read the
SDK's live state: each read takes a snapshot of the saved state, copied on the main thread before
the workers start.
"""

from __future__ import annotations

import typing as t
from functools import cached_property, partial
from http import HTTPStatus

from typing_extensions import override

from tap_getresponse.api.collections import PageReader, ordered_map
from tap_getresponse.client import GetResponseStream
from tap_getresponse.meters import Progress
from tap_getresponse.run import STREAM_FAILURES, StreamUnavailableError
from tap_getresponse.value_report import SKIPPED

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_getresponse import windows
    from tap_getresponse.api.pages import Page
    from tap_getresponse.run import ParentCollection, SyncRun

K = t.TypeVar("K")
R = t.TypeVar("R")
Records = list[dict[str, t.Any]]


class ReadAheadError(RuntimeError):
    """A partition was asked for out of the order its read-ahead runs in (a bug, never data)."""


class ReadAhead(t.Generic[K, R]):
    """`fetch(key)` for every key in order, up to `parallel` fetched ahead of the one taken."""

    def __init__(self, fetch: Callable[[K], R], keys: Iterable[K], *, parallel: int) -> None:
        """Start fetching (`ordered_map` runs lazily: the first `take` starts the workers)."""
        self._results: Iterator[tuple[K, R]] = ordered_map(fetch, keys, parallel=parallel)

    def take(self, key: K) -> R:
        """The result for `key`, which must be the next key; any other is a bug and raises."""
        following = next(self._results, None)
        if following is None or following[0] != key:
            ahead = "nothing" if following is None else repr(following[0])
            msg = f"read-ahead asked for {key!r} while the next fetched is {ahead}"
            raise ReadAheadError(msg)
        return following[1]


class FanOutStream(GetResponseStream):
    """What both fan-out bases share: one parent's records per call, and the parent listing."""

    #: The parent id placed in the path and injected into every record (e.g. `contactId`).
    parent_key: t.ClassVar[str]
    #: The collection of parents, for streams that list their parents themselves.
    parent: t.ClassVar[ParentCollection | None] = None

    def parent_window(self, saved: Mapping[str, t.Any]) -> windows.Window | None:
        """The window for one parent's records, opening from the saved state that bounds it."""
        return self.window(saved) if self.windowed else None

    def parent_params(self, parent_id: str) -> dict[str, t.Any]:  # noqa: ARG002
        """Query parameters naming the parent when the path does not (campaign statistics)."""
        return {}

    def rows(self, items: Records, parent_id: str) -> Records:
        """Records from one parent's raw items (flattening streams override); parent id injected."""
        for item in items:
            if type(item) is dict:  # anything else is skipped and reported by post_process
                item[self.parent_key] = parent_id
        return items

    def fetch_parent(self, parent_id: str, saved: Mapping[str, t.Any]) -> Records:
        """Every record of one parent (runs on a worker thread; touches no shared state)."""
        path = self.get_path({self.parent_key: parent_id})
        params = self.base_params() | self.parent_params(parent_id)
        window = self.parent_window(saved)
        if window is not None:
            params |= window.params()
        try:
            pages = self.reader(path).pages(params, parallel=1)
            items = [item for page in pages for item in page.items]
        except StreamUnavailableError as error:
            if error.http_status != HTTPStatus.NOT_FOUND:  # 403: the feature is missing
                raise
            self.logger.debug("Stream '%s': %s %s is gone", self.name, self.parent_key, parent_id)
            return []
        records = self.rows(items, parent_id)
        if self.is_sorted and self.replication_key:
            records.sort(key=self.replication_order)
        return records

    def parent_reader(self, parent: ParentCollection) -> PageReader:
        """Pages of the parent collection: always paged, even where this stream's own are not.

        Without `page`/`perPage` the API answers its default page of 100 (OpenAPI parameter
        `PerPage`): a stream whose own endpoint does not page would see 100 parents at most.
        """

        def fetch(params: Mapping[str, t.Any], number: int) -> Page:
            query = {**params, "page": number, "perPage": self.page_size}
            page = self.run.get_page(parent.path, query, number)
            for element in page.dropped:  # a parent that is no object has no id to fan out on
                self.value_report.bad("", "object", element, action=SKIPPED)
            return page

        return PageReader(fetch, page_size=self.page_size, parallel=self.run.parallel_requests)

    @property
    def parent_ids(self) -> list[str]:
        """Ids of every parent with children worth a request (listed once per run, shared)."""
        if self.parent is None:
            msg = f"Stream '{self.name}' has no parent collection to list"
            raise TypeError(msg)
        try:
            reader = self.parent_reader(self.parent)
            return self.run.list_parents(self.parent, reader, self.log_repair)
        except StreamUnavailableError as error:
            self.skip_unavailable(error, None)
        except STREAM_FAILURES as error:  # listed before any record: the bookmark stays put
            self.run.stream_failed(self.name, error, self.stream_state)
        return []

    @property
    def stopped(self) -> bool:
        """Whether this stream reads nothing more (plan-gated, or failed this run)."""
        return self._unavailable or self.name in self.run.failed

    @cached_property
    def parent_progress(self) -> Progress:
        """Parents read so far, of all listed (`contact_activities: 4,000 of 20,000 contacts`)."""
        unit = self.parent.path.rsplit("/", 1)[-1] if self.parent else "parents"
        return Progress(self.name, unit, self.logger)


class BatchedFanOutStream(FanOutStream):
    """Parents in batches (`{batch_key: [ids]}`) under one bookmark for the whole stream."""

    #: The context key holding a batch of parent ids (e.g. `contactIds`).
    batch_key: t.ClassVar[str]

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """One bookmark per stream, not per batch context (the SDK's empty partitioning)."""
        super().__init__(tap, run)
        self.state_partitioning_keys = []
        self._batches: list[dict[str, t.Any]] | None = None
        self._saved: Mapping[str, t.Any] | None = None

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        if self.parent is None:  # a child stream: its parent stream hands it the batches
            return super().partitions
        if self._batches is None:
            ids = [] if self.stopped else self.parent_ids
            size = self.page_size
            self._batches = [
                {self.batch_key: ids[start : start + size]} for start in range(0, len(ids), size)
            ]
        return self._batches or None

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        parent_ids = list((context or {}).get(self.batch_key) or ())
        if self._saved is None:
            # The bookmark as the run found it, copied before any worker reads it: every
            # batch's windows open from it, not from a bookmark moved by earlier batches.
            self._saved = dict(self.stream_state)
        fetch = partial(self.fetch_parent, saved=self._saved)
        with self.http_request_counter() as counter:
            for _, records in ordered_map(fetch, parent_ids, parallel=self.run.parallel_requests):
                yield from records
            counter.increment(len(parent_ids))
        if self.parent is not None:
            self.parent_progress.advance(len(parent_ids), len(self.parent_ids))


class PerParentStream(FanOutStream):
    """Every parent of `parent` is a state partition (`{parent_key: id}`) with its own bookmark."""

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """Nothing listed or fetched yet."""
        super().__init__(tap, run)
        self._partitions: list[dict[str, t.Any]] | None = None
        self._ahead: ReadAhead[str, Records] | None = None

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        if self._partitions is None:
            ids = [] if self.stopped else self.parent_ids
            self._partitions = [{self.parent_key: parent_id} for parent_id in ids]
        return self._partitions or None

    def read_ahead(self) -> ReadAhead[str, Records]:
        """Fetch every partition in the SDK's order, each from its saved bookmark."""
        # Copied on this thread before any worker reads it; the SDK updates the live state.
        saved = {
            str(partition["context"].get(self.parent_key)): dict(partition)
            for partition in self.stream_state.get("partitions", [])
        }
        ids = [str(partition[self.parent_key]) for partition in self.partitions or ()]
        return ReadAhead(
            lambda parent_id: self.fetch_parent(parent_id, saved.get(parent_id, {})),
            ids,
            parallel=self.run.parallel_requests,
        )

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        parent_id = (context or {}).get(self.parent_key)
        if parent_id is None:
            return
        if self._ahead is None:
            self._ahead = self.read_ahead()
        # No request counter per partition: thousands of partitions, one metric line each.
        yield from self._ahead.take(str(parent_id))
        self.parent_progress.advance(1, len(self.parent_ids))
