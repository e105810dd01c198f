"""GetResponseStream: one GetResponse v3 collection as a Singer stream."""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property, partial
from http import HTTPStatus

from singer_sdk import metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_getresponse import meters, windows
from tap_getresponse.api.collections import PageReader, iter_stable_pages, iter_window_pages
from tap_getresponse.api.errors import ConfigError
from tap_getresponse.meters import Progress
from tap_getresponse.normalize import RecordNormaliser
from tap_getresponse.read_ahead import AheadReader
from tap_getresponse.record_path import PageRecordStream
from tap_getresponse.run import (
    STREAM_FAILURES,
    UNFORESEEN,
    InputError,
    StreamUnavailableError,
    UnforeseenError,
)
from tap_getresponse.schemas import load_schema
from tap_getresponse.value_report import SKIPPED, StrictValuesError, ValueReport, shown

R = t.TypeVar("R")
Record = dict[str, t.Any]
#: Where records without a usable replication key sort: first (they never move a bookmark).
NO_MOMENT = dt.datetime.min.replace(tzinfo=dt.UTC)

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.collections import Page, Repair
    from tap_getresponse.run import SyncRun
    from tap_getresponse.settings import TapSettings

#: ...except these, which end the run on purpose: `strict_values`, unusable state or settings.
RUN_ENDING = (StrictValuesError, windows.BookmarkError, InputError, ConfigError)


class GetResponseStream(PageRecordStream):
    """A GetResponse v3 collection: declarative streams set `path` and, when they can, a window.

    A plain singer-sdk `Stream`, not a `RESTStream`: each mechanism a RESTStream brings is
    replaced here, for reasons measured on the sandbox (README, "Performance"):

    - Request path and paginator: `api.collections` (`PageReader`, `iter_window_pages`) over the
      run's one client (`SyncRun.api`). Up to 10 pages in flight in page order (100,000 contacts
      at 300 ms latency: 16,712 records/s against 2,733 one page at a time), one rate governor
      for the whole process, and re-reads where records slid while pages were read.
    - Type conformance: `normalize.RecordNormaliser` types every value and drops undeclared keys
      as the SDK would, so the SDK's recursive pass is off (`TYPE_CONFORMANCE_LEVEL`): it walked
      every value of every record again, 5.5 s of an 18 s profile of 100,000 contacts. A value
      that does not fit becomes null and goes to the stream's `ValueReport` (never a stop,
      unless `strict_values`); the SDK's pass would have passed it on, invalid.
    - State: a record without a usable replication key is emitted but leaves the bookmark alone
      (`usable_bookmarks`); the SDK's state code raised a KeyError on it (or stored it).
    - Writer: `writer.BlockWriter` (the tap's `message_writer_class`) writes msgspec lines in
      64 KB blocks; the SDK's flushed stdout after every record (3.0 s) and encoded with
      simplejson (2.0 s). With the normaliser: 28,013 records/s against 11,762 from memory.
    - Record loop: `record_path.PageRecordStream`, the SDK's bookkeeping once per page.
    So there is no `url_base`, `authenticator`, `requests_session` or paginator to configure.
    """

    #: The collection's path under the API base URL; `{placeholders}` come from the context.
    path: str = ""
    #: A STATE message at least every this many records, so a killed run resumes close by.
    STATE_MSG_FREQUENCY = 1000
    #: The normaliser already types every value (see the class docstring).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: Server-side time filter (`query[<field>][from|to]`) backing the replication key, if any.
    window_field: t.ClassVar[str | None] = None
    #: Whether the collection can sort by `window_field` (adds `sort[<field>]=asc`).
    window_sort: t.ClassVar[bool] = True
    #: No server-side filter, but a modified timestamp: read everything, emit what changed.
    client_filtered: t.ClassVar[bool] = False
    #: A documented sort field that keeps full-table paging stable (new records go last).
    sort_field: t.ClassVar[str | None] = None
    #: Whether the collection pages (OpenAPI parameters `Page`/`PerPage`); if not, one request.
    paginated: t.ClassVar[bool] = True
    #: Extra query parameters sent on every request of this stream.
    extra_params: t.ClassVar[Mapping[str, str]] = {}
    #: Keys copied from the partition context into every record (e.g. the parent's id).
    context_keys: t.ClassVar[tuple[str, ...]] = ()
    #: Properties the tap adds to records beyond the generated schema (keys lifted to the top).
    extra_properties: t.ClassVar[Mapping[str, Mapping[str, t.Any]]] = {}

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """Load the schema named after the stream; `run` is all the stream reaches."""
        schema = self.stream_schema()
        for key, prop in self.extra_properties.items():
            schema["properties"].setdefault(key, dict(prop))
        super().__init__(tap=tap, schema=schema)
        self.run = run
        self._unavailable = False
        self._client_floor: dt.datetime | None = None

    def stream_schema(self) -> dict[str, t.Any]:
        """The stream's schema: its file under `schemas/` (discovered streams build their own)."""
        return load_schema(self.name)

    @property
    def settings(self) -> TapSettings:
        """The run's settings."""
        return self.run.settings

    @property
    def page_size(self) -> int:
        """Items per request (`page_size`)."""
        return self.settings.page_size

    @property
    def lookback(self) -> dt.timedelta:
        """How far before its bookmark an incremental read starts again."""
        return self.settings.lookback

    @cached_property
    def value_report(self) -> ValueReport:
        """This stream's values that did not fit its schema (warned, counted, or a stop)."""
        return ValueReport(self.name, self.logger, strict=self.settings.strict_values)

    @cached_property
    def normaliser(self) -> RecordNormaliser:
        """Schema-driven type conversions, compiled once per stream."""
        return RecordNormaliser(
            self.schema, stream_name=self.name, logger=self.logger, report=self.value_report
        )

    @cached_property
    def _replication_key_has_format(self) -> bool:
        """Whether the normaliser already makes the replication key a timestamp or null."""
        declared = self.schema["properties"].get(self.replication_key or "", {})
        return declared.get("format") in {"date", "date-time"}

    def replication_moment(self, record: Mapping[str, t.Any]) -> dt.datetime | None:
        """The record's replication key as a moment; None when missing, null or unparsable."""
        value = record.get(self.replication_key) if self.replication_key else None
        if value is None:
            return None
        try:
            return windows.parse_moment(str(value))
        except (ValueError, OverflowError):
            return None

    def replication_order(self, record: object) -> dt.datetime:
        """Sort key of raw records by replication key; records without a usable one first."""
        moment = self.replication_moment(record) if isinstance(record, dict) else None
        return NO_MOMENT if moment is None else moment

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

    def http_request_counter(self) -> metrics.Counter:
        """The SDK's request counter for this stream's path, with short contexts."""
        return meters.http_request_counter(self.name, self.path)

    @override
    @property
    def check_sorted(self) -> bool:
        # A sorted window starts before the saved bookmark (the lookback), so its first records
        # are below it; order within the run is guaranteed by api.collections instead.
        return not (self.is_sorted and self.state_partitioning_keys is None)

    @override
    def usable_bookmarks(self, values: list[t.Any]) -> list[t.Any]:
        # A record without a usable key says nothing of how far the read got: counted, not kept.
        values = super().usable_bookmarks(values)
        if self._replication_key_has_format:  # the normaliser made them timestamps or null
            return values
        key = self.replication_key or ""
        return [value for value in values if self.replication_moment({key: value})]

    @override
    def count_unkeyed(self, count: int) -> None:
        for _ in range(count):  # counted, one warning per stream (value_report.py)
            self.value_report.unkeyed(self.replication_key or "")

    @override
    def log_sync_costs(self) -> None:
        # The SDK calls this once per stream at the end of the run: the values summary goes here.
        super().log_sync_costs()
        if "value_report" in vars(self):  # a stream that never read made no report
            self.value_report.log_summary()

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> dt.datetime | None:
        # A bookmark never passes the run's start: records changed later are read next run.
        return self.run.window_end if self.is_timestamp_replication_key else None

    def get_path(self, context: Mapping[str, t.Any] | None) -> str:
        """The request path with `{placeholders}` filled from the context."""
        return self.path.format(**(context or {})) if self.path else ""

    def base_params(self) -> dict[str, t.Any]:
        """Query parameters for every page of this stream (filters, sort, groupBy...)."""
        params = dict(self.extra_params)
        if self.sort_field and not self.window_field:
            params[f"sort[{self.sort_field}]"] = "asc"
        return params

    def window_start(self, state: Mapping[str, t.Any]) -> dt.datetime | None:
        """Where a read from the saved `state` opens: bookmark less lookback, or `start_date`."""
        key = self.replication_key or ""
        return windows.window_start(self.settings.start_date, state, key, self.lookback)

    @property
    def windowed(self) -> bool:
        """Whether reads are bounded by a server-side time window (filter field and bookmark)."""
        return bool(self.window_field and self.replication_key)

    def window(self, state: Mapping[str, t.Any]) -> windows.Window:
        """This run's window on `window_field`, opening from the saved `state`."""
        if self.window_field is None:
            msg = f"Stream '{self.name}' has no window field"
            raise TypeError(msg)
        start = self.window_start(state)
        return windows.Window(self.window_field, start, self.run.window_end, self.window_sort)

    def fetch_page(self, path: str, params: Mapping[str, t.Any], number: int) -> Page:
        """One request for one page; raises StreamUnavailableError for plan-gated collections."""
        query = dict(params)
        if self.paginated:
            query |= {"page": number, "perPage": self.page_size}
        page = self.run.get_page(path, query, number)
        for element in page.dropped:  # no item, whatever it is: skipped and reported
            self.value_report.bad("", "object", element, action=SKIPPED)
        return page

    def reader(self, path: str) -> PageReader:
        """How this stream reads `path`: its page size, the run's parallelism, slots kept busy."""
        return AheadReader(
            partial(self.fetch_page, path),
            page_size=self.page_size,
            parallel=self.run.parallel_requests,
            paginated=self.paginated,
        )

    def log_repair(self, repair: Repair) -> None:
        """Say that records left the collection while it was paged, and what was re-read."""
        self.logger.info(
            "Stream '%s': %d records left the collection during paging; re-read %d records "
            "between pages %d and %d",
            self.name,
            repair.left,
            repair.reread,
            repair.after,
            repair.before,
        )

    def skip_unavailable(self, error: StreamUnavailableError, context: Context | None) -> None:
        """Log why the stream (or, for a vanished parent, one partition) yields nothing."""
        gone = error.http_status == HTTPStatus.NOT_FOUND
        if context and gone and self.parent_stream_type is not None:
            self.logger.info("Stream '%s': parent %s is gone, skipped", self.name, dict(context))
            return
        self._unavailable = True
        self.logger.warning(
            "Skipping stream '%s': the account cannot read it (%s). The run goes on.",
            self.name,
            error,
        )

    @override
    def _sync_records(
        self,
        context: Context | None = None,
        *,
        write_messages: bool = True,
    ) -> t.Generator[dict[str, t.Any], t.Any, t.Any]:
        """The SDK's record loop; an error of our code on data no test has met stops this stream.

        Taken over (the SDK's `sync`, which calls it, is final) so that such a bug (a KeyError,
        TypeError... on an odd answer) is one line naming the stream and the error instead of
        the end of the run: the traceback goes to the debug log, the other streams sync, the
        run ends with exit code 1 and the bookmark stays at what was emitted
        (SyncRun.stream_failed). `strict_values`, bad state and bad settings still end the run.
        """
        try:
            yield from super()._sync_records(context, write_messages=write_messages)
        except UNFORESEEN as error:
            if isinstance(error, RUN_ENDING):
                raise
            self.logger.debug("Stream '%s' failed", self.name, exc_info=True)
            self.run.flush_output()
            problem = UnforeseenError(f"unexpected {type(error).__name__}: {shown(str(error))}")
            self.run.stream_failed(self.name, problem, self.stream_state)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        return self._reading(self.request_records(context), context)

    @override
    def record_batches(self, context: Context | None) -> Iterable[list[t.Any]]:
        # Pages as read, unless a stream reads its records its own way (then one by one).
        if type(self).get_records is not OWN_STEPS["get_records"]:
            return super().record_batches(context)
        if type(self).request_records is OWN_STEPS["request_records"]:
            return self._reading(self.request_batches(context), context)
        return self._reading(([record] for record in self.request_records(context)), context)

    def _reading(self, source: Iterable[R], context: Context | None) -> Iterator[R]:
        """`source` until it ends; a plan-gated or failed stream stops, the run goes on."""
        if self._unavailable or self.name in self.run.failed:
            return
        try:
            yield from source
        except StreamUnavailableError as error:
            self.skip_unavailable(error, context)
        except STREAM_FAILURES as error:  # this stream stops; the run goes on (run.py)
            self.run.stream_failed(self.name, error, self.stream_state)
        finally:
            self.run.flush_output()  # records go out in blocks (writer.py): the last one here

    def on_page(self, page: Page) -> None:
        """Called with each page before its records are handed on (parents batch children here)."""

    def pages(self, context: Context | None) -> Iterator[Page]:
        """Every page of this stream's collection for `context`, re-read where records slid."""
        reader = self.reader(self.get_path(context))
        params = self.base_params()
        key = self.primary_keys[0] if self.primary_keys else None
        if not self.windowed:
            return iter_stable_pages(reader, params, key=key, on_repair=self.log_repair)
        window = self.window(self.get_context_state(context)).filter()
        return iter_window_pages(reader, params, window, key=key, on_repair=self.log_repair)

    def request_batches(self, context: Context | None) -> Iterator[list[t.Any]]:
        """Every record of this stream for `context`, a page at a time."""
        if self.client_filtered and self.replication_key:
            self._client_floor = self.window_start(self.get_context_state(context))
        progress = Progress(self.name, "records", self.logger)
        with self.http_request_counter() as counter:
            counter.with_context(context)
            for page in self.pages(context):
                counter.increment()
                self.on_page(page)
                yield page.items
                progress.advance(len(page.items), page.total_count)

    def request_records(self, context: Context | None) -> Iterable[t.Any]:
        """Every record of this stream for `context` (`request_batches`, one by one)."""
        for batch in self.request_batches(context):
            yield from batch

    @override
    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        records = self._processed([row], context)
        return records[0] if records else None

    @override
    def post_process_batch(self, rows: list[t.Any], context: Context | None) -> list[Record]:
        if type(self).post_process is not OWN_STEPS["post_process"]:
            return super().post_process_batch(rows, context)
        return self._processed(rows, context)

    def _processed(self, rows: list[t.Any], context: Context | None) -> list[Record]:
        """`rows` with context keys, normalised, without those below a client-side floor."""
        if self.context_keys and context is not None:
            for row in rows:
                if type(row) is dict:
                    row.update((k, context[k]) for k in self.context_keys if k in context)
        records = self.normaliser.normalise_page(rows, tuple(self.primary_keys or ()))
        if self._client_floor is None:
            return records
        floor = self._client_floor
        return [r for r in records if (m := self.replication_moment(r)) is None or m >= floor]


#: The steps as defined here: a stream (or a test's spy) replacing one is read record by record.
OWN_STEPS = {
    n: vars(GetResponseStream)[n] for n in ("get_records", "request_records", "post_process")
}
