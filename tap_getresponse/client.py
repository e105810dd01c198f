"""GetResponseStream and its fan-out variants: URL, paging, windows, plan gating, record types."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from functools import cached_property

from singer_sdk import RESTStream, metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_getresponse import meters, windows
from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.collections import Page, iter_pages, ordered_map
from tap_getresponse.meters import Progress
from tap_getresponse.normalize import RecordNormaliser
from tap_getresponse.schemas import load_schema

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import requests
    from singer_sdk.helpers.types import Context

    from tap_getresponse.api import GetResponseClient
    from tap_getresponse.tap import TapGetResponse

#: HTTP statuses that mean "this account has no such feature" on a collection (issue: plan gating).
PLAN_GATED_STATUSES = frozenset({403, 404})
#: Most requests GetResponse serves at once per user (§5.3); no pool here goes above it.
API_MAX_IN_FLIGHT = 10


class StreamUnavailableError(Exception):
    """The account cannot read this collection (feature not in its plan, or no such parent)."""

    def __init__(self, path: str, error: GetResponseAPIError) -> None:
        """Keep the status so callers can tell "no feature" from "parent gone"."""
        self.path = path
        self.http_status = error.http_status
        super().__init__(str(error))


class GetResponseStream(RESTStream[int]):
    """A GetResponse v3 collection: declarative streams set `path` and, when they can, a window."""

    #: The collection's path under the API base URL; `{placeholders}` come from the context.
    path: str = ""
    #: A STATE message at least every this many records, so a killed run resumes close by.
    STATE_MSG_FREQUENCY = 1000
    #: The normaliser already types every value and drops undeclared keys as the SDK would;
    #: the SDK's own pass would walk every value of every record again (normalize.py).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: Server-side time filter (`query[<field>][from|to]`) backing the replication key, if any.
    window_field: t.ClassVar[str | None] = None
    #: Whether the collection can sort by `window_field` (adds `sort[<field>]=asc`).
    window_sort: t.ClassVar[bool] = True
    #: No server-side filter, but a modified timestamp: read everything, emit what changed.
    client_filtered: t.ClassVar[bool] = False
    #: A documented sort field that keeps full-table paging stable (new records go last).
    sort_field: t.ClassVar[str | None] = None
    #: Whether the collection is paginated (§3.0 "Pg" column); unpaginated lists are one request.
    paginated: t.ClassVar[bool] = True
    #: Extra query parameters sent on every request of this stream.
    extra_params: t.ClassVar[Mapping[str, str]] = {}
    #: Keys copied from the partition context into every record (e.g. the parent's id).
    context_keys: t.ClassVar[tuple[str, ...]] = ()
    #: Properties the tap adds to records beyond the generated schema (keys lifted to the top).
    extra_properties: t.ClassVar[Mapping[str, Mapping[str, t.Any]]] = {}

    def __init__(self, tap: TapGetResponse) -> None:
        """Load the schema named after the stream."""
        schema = load_schema(self.name)
        for key, prop in self.extra_properties.items():
            schema["properties"].setdefault(key, dict(prop))
        super().__init__(tap=tap, schema=schema)
        self._tap_ref = tap
        self._unavailable = False
        self._client_floor: dt.datetime | None = None

    @property
    def api(self) -> GetResponseClient:
        """The tap's shared HTTP client (one governor, one session for every stream)."""
        return self._tap_ref.api

    @override
    @property
    def url_base(self) -> str:
        return self.api.base_url

    @override
    @property
    def requests_session(self) -> requests.Session:
        return self.api.session

    @override
    @property
    def authenticator(self) -> t.Any:
        return self.api.authenticator

    @property
    def window_end(self) -> dt.datetime:
        """The upper bound of every window of this run, and of every bookmark (tap.py)."""
        return self._tap_ref.window_end

    @property
    def page_size(self) -> int:
        """Items per request; 1000 is GetResponse's maximum (§2.1)."""
        return int(self.config.get("page_size", 1000))

    @property
    def parallel_requests(self) -> int:
        """Requests this stream runs at once (never above the API's 10 in flight)."""
        return max(1, min(API_MAX_IN_FLIGHT, self.api.max_parallel_requests))

    @property
    def lookback(self) -> dt.timedelta:
        """How far before its bookmark an incremental read starts again."""
        return dt.timedelta(minutes=float(self.config.get("lookback_minutes", 60)))

    @cached_property
    def normaliser(self) -> RecordNormaliser:
        """Schema-driven type conversions, compiled once per stream."""
        return RecordNormaliser(self.schema, stream_name=self.name, logger=self.logger)

    @override
    def get_record_counter(
        self,
        *,
        endpoint: str | None = None,
        log_interval: float = metrics.DEFAULT_LOG_INTERVAL,
    ) -> metrics.Counter:
        # Fan-out contexts hold up to 1,000 ids: metric lines carry a short form (meters.py).
        return meters.record_counter(self.name, endpoint=endpoint, log_interval=log_interval)

    @override
    def get_sync_timer(self) -> metrics.Timer:
        return meters.sync_timer(self.name)

    @override
    def get_http_request_counter(self) -> metrics.Counter:
        return meters.http_request_counter(self.name, self.path)

    @override
    @property
    def check_sorted(self) -> bool:
        # A sorted window starts before the saved bookmark (the lookback), so its first records
        # are below it; order within the run is guaranteed by windows.py instead.
        return not (self.is_sorted and self.state_partitioning_keys is None)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> dt.datetime | None:
        # A bookmark never passes the run's start: records changed later are read next run.
        return self.window_end if self.is_timestamp_replication_key else None

    def get_path(self, context: Mapping[str, t.Any] | None) -> str:
        """The request path with `{placeholders}` filled from the context."""
        return self.path.format(**(context or {})) if self.path else ""

    def base_params(self, context: Context | None) -> dict[str, t.Any]:  # noqa: ARG002
        """Query parameters for every page of this stream (filters, sort, groupBy...)."""
        params = dict(self.extra_params)
        if self.sort_field and not self.window_field:
            params[f"sort[{self.sort_field}]"] = "asc"
        return params

    def window(self, context: Context | None) -> windows.Window:
        """This run's window on `window_field`, from the state of `context`."""
        assert self.window_field is not None  # noqa: S101 - callers check
        assert self.replication_key is not None  # noqa: S101 - windowed streams have one
        start = windows.window_start(
            self.config, self.get_context_state(context), self.replication_key, self.lookback
        )
        return windows.Window(self.window_field, start, self.window_end, self.window_sort)

    def fetch_page(self, path: str, params: Mapping[str, t.Any], number: int) -> Page:
        """One request for one page; raises StreamUnavailableError for plan-gated collections."""
        query = dict(params)
        if self.paginated:
            query |= {"page": number, "perPage": self.page_size}
        try:
            response = self.api.request("GET", path, params=query)
        except GetResponseAPIError as error:
            if error.http_status in PLAN_GATED_STATUSES:
                raise StreamUnavailableError(path, error) from error
            raise
        return Page.from_response(number, response)

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, t.Any],
        *,
        parallel: int | None = None,
    ) -> Iterator[Page]:
        """Every page of `path` with `params`, in order."""
        if not self.paginated:
            yield self.fetch_page(path, params, 1)
            return
        yield from iter_pages(
            lambda number: self.fetch_page(path, params, number),
            page_size=self.page_size,
            parallel=self.parallel_requests if parallel is None else parallel,
        )

    def skip_unavailable(self, error: StreamUnavailableError, context: Context | None) -> None:
        """Log why the stream (or, for a vanished parent, one partition) yields nothing."""
        if context and error.http_status == 404 and self.parent_stream_type is not None:  # noqa: PLR2004
            self.logger.info("Stream '%s': parent %s is gone, skipped", self.name, dict(context))
            return
        self._unavailable = True
        self.logger.warning(
            "Skipping stream '%s': the account cannot read it (%s). The run goes on.",
            self.name,
            error,
        )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if self._unavailable:
            return
        try:
            yield from self.request_records(context)
        except StreamUnavailableError as error:
            self.skip_unavailable(error, context)
        finally:
            # Records are written in blocks (writer.py); the SDK writes no STATE after an
            # unchanged bookmark, so the last block of each partition goes out here.
            self._tap_ref.flush_output()

    def on_page(self, page: Page) -> None:
        """Called with each page before its records are handed on (parents batch children here)."""

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        path = self.get_path(context)
        params = self.base_params(context)
        if self.client_filtered and self.replication_key:
            self._client_floor = windows.window_start(
                self.config, self.get_context_state(context), self.replication_key, self.lookback
            )
        if self.window_field and self.replication_key:
            pages = windows.iter_window_pages(self, path, params, self.window(context))
        else:
            pages = windows.iter_stable_pages(self, path, params)
        progress = Progress(self.name, "records", self.logger)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            for page in pages:
                counter.increment()
                self.on_page(page)
                yield from page.items
                progress.advance(len(page.items), page.total_count)

    @override
    def post_process(
        self,
        row: dict[str, t.Any],
        context: Context | None = None,
    ) -> dict[str, t.Any] | None:
        for key in self.context_keys:
            if context is not None and key in context:
                row[key] = context[key]
        record = self.normaliser.normalise(row)
        if self._client_floor is not None and self.replication_key:
            value = record.get(self.replication_key)
            if value and windows.parse_moment(value) < self._client_floor:
                return None
        return record


class DailyStatistics(GetResponseStream):
    """Statistics grouped by day: windows step back whole days (`statistics_lookback_days`)."""

    @override
    @property
    def lookback(self) -> dt.timedelta:
        return dt.timedelta(days=int(self.config.get("statistics_lookback_days", 7)))


class FanOutStream(GetResponseStream):
    """One request (or a few pages) per parent, run concurrently, emitted in parent order.

    A context carries a batch of parent ids under `batch_key`; the stream fetches those parents'
    records with `ordered_map` (bounded by `max_parallel_requests`) and hands them on in the
    batch's order. State is one bookmark for the whole stream (`state_partitioning_keys = []`).
    """

    #: The parent id placed in the path and injected into every record (e.g. `contactId`).
    parent_key: t.ClassVar[str]
    #: The context key holding a batch of parent ids (e.g. `contactIds`).
    batch_key: t.ClassVar[str]

    #: Keep a bookmark per parent (contexts are `{parent_key: id}`), not one per stream.
    per_parent_state: t.ClassVar[bool] = False

    def __init__(self, tap: TapGetResponse) -> None:
        """No saved state read yet."""
        super().__init__(tap)
        self._snapshot: Mapping[str, t.Any] | None = None

    @override
    @property
    def state_partitioning_keys(self) -> list[str] | None:
        # Batches share one stream bookmark; per-parent contexts are the partitions themselves.
        return None if self.per_parent_state else []

    @state_partitioning_keys.setter
    def state_partitioning_keys(self, new_value: t.Sequence[str] | None) -> None:
        del new_value  # decided by `per_parent_state`

    def parent_state(self, parent_id: str) -> Mapping[str, t.Any]:  # noqa: ARG002
        """The saved state that bounds this parent's window (read-only; safe from workers)."""
        if self._snapshot is None:
            self._snapshot = dict(self.stream_state)
        return self._snapshot

    def parent_window(self, parent_id: str) -> windows.Window | None:
        """The window for one parent's records, if the stream has one."""
        if not (self.window_field and self.replication_key):
            return None
        start = windows.window_start(
            self.config, self.parent_state(parent_id), self.replication_key, self.lookback
        )
        return windows.Window(self.window_field, start, self.window_end, self.window_sort)

    def parent_params(self, parent_id: str) -> dict[str, t.Any]:  # noqa: ARG002
        """Query parameters naming the parent when the path does not (campaign statistics)."""
        return {}

    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        """Records from one parent's raw items (flattening streams override); parent id injected."""
        for item in items:
            item[self.parent_key] = parent_id
        return items

    def fetch_parent(self, parent_id: str) -> list[dict[str, t.Any]]:
        """Every record of one parent (runs on a worker thread; touches no shared state)."""
        path = self.get_path({self.parent_key: parent_id})
        params = self.base_params(None) | self.parent_params(parent_id)
        window = self.parent_window(parent_id)
        if window is not None:
            params |= window.params()
        try:
            items = [
                item for page in self.iter_pages(path, params, parallel=1) for item in page.items
            ]
        except StreamUnavailableError as error:
            if error.http_status != 404:  # noqa: PLR2004 - 403: the feature is missing
                raise
            self.logger.debug("Stream '%s': %s %s is gone", self.name, self.parent_key, parent_id)
            return []
        records = self.rows(items, parent_id)
        if self.is_sorted and self.replication_key:
            key = self.replication_key
            records.sort(key=lambda record: windows.parse_moment(str(record[key])))
        return records

    def fetch_batch(self, parent_ids: Iterable[str]) -> Iterator[dict[str, t.Any]]:
        """Every record of `parent_ids`, fetched concurrently, in the batch's order."""
        for _, records in ordered_map(
            self.fetch_parent, parent_ids, parallel=self.parallel_requests
        ):
            yield from records

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        parent_ids = list((context or {}).get(self.batch_key) or ())
        self.parent_state("")  # snapshot saved bookmarks on this thread before workers start
        with self.get_http_request_counter() as counter:
            yield from self.fetch_batch(parent_ids)
            counter.increment(len(parent_ids))


@dataclass(frozen=True, slots=True)
class ParentCollection:
    """The collection whose items a partitioned stream reads one by one."""

    path: str
    key: str
    #: Other fields `keep` needs from each item.
    fields: tuple[str, ...] = ()
    #: Which items have children worth a request (e.g. not drafts); all when None.
    keep: Callable[[Mapping[str, t.Any]], bool] | None = None


class PartitionedStream(FanOutStream):
    """A fan-out stream that lists its own parents (`parent`), so it always covers all of them.

    With `per_parent_state` every parent is a partition with its own bookmark; the next
    `max_parallel_requests` partitions are fetched ahead while the SDK emits the current one.
    Without it, parents come in batches of `page_size` under one stream bookmark.
    """

    parent: t.ClassVar[ParentCollection]

    def __init__(self, tap: TapGetResponse) -> None:
        """Nothing listed or fetched yet."""
        super().__init__(tap)
        self._partitions: list[dict[str, t.Any]] | None = None
        self._ahead: Iterator[tuple[str, list[dict[str, t.Any]]]] | None = None
        self._next: tuple[str, list[dict[str, t.Any]]] | None = None
        self._saved: dict[str, Mapping[str, t.Any]] | None = None

    @property
    def parent_ids(self) -> list[str]:
        """Ids of every parent with children worth a request (listed once per run, then cached)."""
        try:
            return self._tap_ref.list_parents(self.parent, self)
        except StreamUnavailableError as error:
            self.skip_unavailable(error, None)
            return []

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        if self._partitions is None:
            ids = [] if self._unavailable else self.parent_ids
            if self.per_parent_state:
                self._partitions = [{self.parent_key: parent_id} for parent_id in ids]
            else:
                size = self.page_size
                self._partitions = [
                    {self.batch_key: ids[start : start + size]}
                    for start in range(0, len(ids), size)
                ]
        return self._partitions or None

    @override
    def parent_state(self, parent_id: str) -> Mapping[str, t.Any]:
        if not self.per_parent_state:
            return super().parent_state(parent_id)
        if self._saved is None:
            self._saved = {
                str(partition["context"].get(self.parent_key)): dict(partition)
                for partition in self.stream_state.get("partitions", [])
            }
        return self._saved.get(parent_id, {})

    @cached_property
    def parent_progress(self) -> Progress:
        """Parents read so far, of all listed (`contact_activities: 4,000 of 20,000 contacts`)."""
        return Progress(self.name, self.parent.path.rsplit("/", 1)[-1], self.logger)

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if not self.per_parent_state:
            yield from super().request_records(context)
            batch = (context or {}).get(self.batch_key) or ()
            self.parent_progress.advance(len(batch), len(self.parent_ids))
            return
        parent_id = (context or {}).get(self.parent_key)
        if parent_id is not None:
            # No request counter per partition: thousands of partitions, one metric line each.
            yield from self._fetched_ahead(str(parent_id))
            self.parent_progress.advance(1, len(self.parent_ids))

    def _fetched_ahead(self, parent_id: str) -> list[dict[str, t.Any]]:
        """This partition's records, from the read-ahead that runs over every partition in order."""
        if self._ahead is None:
            ids = [str(p[self.parent_key]) for p in self.partitions or ()]
            self.parent_state("")  # snapshot saved bookmarks on this thread before workers start
            self._ahead = ordered_map(self.fetch_parent, ids, parallel=self.parallel_requests)
        if self._next is None:
            self._next = next(self._ahead, None)
        if self._next is not None and self._next[0] == parent_id:
            records, self._next = self._next[1], None
            return records
        return self.fetch_parent(parent_id)
