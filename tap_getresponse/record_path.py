"""PageRecordStream: the SDK's record loop, a page at a time where that emits the same lines.

singer-sdk's `Stream._sync_records` handles each record on its own: post-processing, child
contexts, selection, a `RecordMessage` and a writer call, a state increment, a counter. Around
the tap's own lean steps (normalise, encode) that bookkeeping was most of the cost of a record
(README, "Performance"). Replaced here, where it keeps its meaning, by the same steps done for a
whole page (or a fan-out parent's records: whatever batch the stream reads):

- the page is post-processed in one call (`post_process_batch`), its RECORD lines encoded with
  one msgspec call and handed to the writer as one block (`BlockWriter.write_records`);
- selection is resolved once per sync (deselected properties popped by key);
- the bookmark moves once per page, to the value the SDK's per-record increments would have
  left after its last record (`page_bookmark`), the record counter once per page.

What the SDK's loop does between two records still happens between the same two records: the
page is cut before a record whose child contexts sync children (so their lines and STATE come
after the records before it, and their STATE holds the bookmark of those), and after every
`STATE_MSG_FREQUENCY`-th record, where a STATE is written. So the lines are those of the SDK's
loop, line for line, except that `time_extracted` is read once per page, not per record
(tests/tap/test_record_path.py compares both on every stream).

Where a configured feature changes what a record becomes (stream maps or flattening, `--test`'s
record limit, BATCH messages, the SDK's type conformance, another writer) or a stream overrides
the per-record steps, `pages_at_once` says no and the SDK's own loop runs.
"""

from __future__ import annotations

import copy
import datetime as dt  # noqa: TC003 - msgspec reads `_RecordLine` annotations at run time
import typing as t
from functools import cached_property
from itertools import repeat

import msgspec
from singer_sdk import Stream
from singer_sdk.contrib.msgspec import encoder
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from typing_extensions import override

from tap_getresponse.collector import collector_spared
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    from singer_sdk import metrics
    from singer_sdk.helpers.types import Context

Record = dict[str, t.Any]

#: Per-record steps of the SDK the page path does itself: a stream overriding one keeps its loop.
SDK_STEPS = (
    "_process_record",
    "_write_record_message",
    "_generate_record_messages",
    "_check_max_record_limit",
    "_increment_stream_state",
)


class PageRecordStream(Stream):
    """A singer-sdk Stream whose records are synced a page at a time where that is the same."""

    def record_batches(self, context: Context | None) -> Iterable[list[t.Any]]:
        """`get_records(context)` in the batches the stream reads them in (here: one by one)."""
        for record in self.get_records(context):
            yield [record]

    def post_process_batch(self, rows: list[t.Any], context: Context | None) -> list[Record]:
        """`post_process` of each row, the rows it drops left out."""
        processed = (self.post_process(row, context) for row in rows)
        return [record for record in processed if record is not None]

    def bookmark_records(self, records: list[Record]) -> list[Record]:
        """Those of `records` whose replication key says how far the read got (here: all)."""
        return records

    def usable_bookmarks(self, values: list[t.Any]) -> list[t.Any]:
        """Those of `values` (replication key values) that can be a bookmark: not null here."""
        return [value for value in values if value is not None] if None in values else values

    def count_unkeyed(self, count: int) -> None:
        """`count` records emitted whose replication key cannot be a bookmark (none is kept)."""

    def page_bookmark(self, records: list[Record]) -> Record | None:
        """A record holding what the SDK's per-record increments would leave after `records`.

        The last usable value where the read is in order (`check_sorted` off: the SDK takes each
        new value), else the largest (the SDK keeps a value only when it is not smaller). None:
        no record here can move the bookmark.
        """
        key = self.replication_key
        if not key:
            return None
        values = list(map(dict.get, self.bookmark_records(records), repeat(key)))  # in C
        usable = self.usable_bookmarks(values)
        if len(usable) < len(values):
            self.count_unkeyed(len(values) - len(usable))
        if not usable:
            return None
        return {key: max(usable) if self.check_sorted else usable[-1]}

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # The SDK's loop, one record at a time: the same rule as a page (`page_bookmark`).
        latest = self.page_bookmark([latest_record])
        if latest is not None:
            super()._increment_stream_state(latest, context=context)

    def pages_at_once(self, *, write_messages: bool) -> bool:
        """Whether a page at a time emits what the SDK's loop would (module docstring)."""
        maps = self.stream_maps
        plain_map = (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )
        return (
            write_messages
            and self.selected
            and plain_map
            and self.ABORT_AT_RECORD_COUNT is None
            and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and isinstance(self._tap.message_writer, BlockWriter)
            and all(getattr(type(self), step) is SDK_STEP_FUNCTIONS[step] for step in SDK_STEPS)
        )

    @override
    def _sync_records(
        self,
        context: Context | None = None,
        *,
        write_messages: bool = True,
    ) -> t.Generator[Record, t.Any, t.Any]:
        if self.pages_at_once(write_messages=write_messages):
            return self._sync_pages(context)
        return super()._sync_records(context, write_messages=write_messages)

    def _sync_pages(self, context: Context | None) -> Generator[Record, t.Any, None]:
        """The SDK's `_sync_records` with its per-record steps done per page."""
        counter = self.get_record_counter()
        timer = self.get_sync_timer()
        lines = _PageLines(self)
        with counter, timer, collector_spared():
            for element in [context] if context is not None else self.partitions or [{}]:
                counter.with_context(element)
                timer.with_context(element)
                current = element or None
                partition = self._get_state_partition_context(current)
                self._write_starting_replication_value(current)
                child_context = None if current is None else copy.copy(current)
                for rows in self.record_batches(current):
                    records = self.post_process_batch(rows, current)
                    for key, value in (partition or {}).items():
                        for record in records:
                            record.setdefault(key, value)
                    self._emit_page(records, current, child_context, lines, counter)
                    yield from records
                if current == partition:
                    self._finalize_state(self.get_context_state(current))
        if not context:
            self._finalize_state(self.stream_state)
        self._write_state_message()

    @cached_property
    def _children_to_sync(self) -> bool:
        """Whether any child stream is synced (else child contexts need not be made)."""
        return any(c.selected or c.has_selected_descendents for c in self.child_streams)

    def _emit_page(
        self,
        records: list[Record],
        context: Context | None,
        child_context: Context | None,
        lines: _PageLines,
        counter: metrics.Counter,
    ) -> None:
        """Write `records`, cut before each record whose child contexts sync children."""
        start = 0
        if self._children_to_sync:
            for index, record in enumerate(records):
                cut = False
                for found in self.generate_child_contexts(record=record, context=child_context):
                    if not cut:
                        lines.write(records[start:index], context, counter)
                        start, cut = index, True
                    self._sync_children(copy.copy(found))
        lines.write(records[start:], context, counter)


#: The SDK's per-record steps as they are here (a subclass or a test's spy replacing one: no).
SDK_STEP_FUNCTIONS = {step: getattr(PageRecordStream, step) for step in SDK_STEPS}


class _RecordLine(msgspec.Struct, gc=False):
    """A RECORD message as the SDK's writer lays it out, key for key (`version` when set).

    Encoded by msgspec in one call for a run of records, no dict built per record: a third of
    the time of encoding the records alone and splicing the envelope in around each.
    """

    type: str
    stream: str
    record: Record
    version: int | msgspec.UnsetType = msgspec.UNSET
    time_extracted: dt.datetime | msgspec.UnsetType = msgspec.UNSET


class _PageLines:
    """RECORD lines of one stream's sync, written a run of records at a time."""

    def __init__(self, stream: PageRecordStream) -> None:
        """The line's fixed parts and the selection, resolved once per sync."""
        self.stream = stream
        self.writer = t.cast("BlockWriter", stream._tap.message_writer)  # noqa: SLF001
        version = stream._stream_version  # noqa: SLF001
        self.version: int | msgspec.UnsetType = msgspec.UNSET if version is None else version
        deselected = [crumb for crumb, selected in stream.mask.items() if crumb and not selected]
        #: Top-level properties to drop, or None when a nested one is deselected (SDK's walk).
        self.dropped: list[str] | None = [crumb[-1] for crumb in deselected]
        if any(len(crumb) != 2 for crumb in deselected):  # noqa: PLR2004 - ("properties", key)
            self.dropped = None
        #: Records written since the sync began (the SDK's `record_index`).
        self.written = 0

    def write(
        self, records: list[Record], context: Context | None, counter: metrics.Counter
    ) -> None:
        """Write `records`, with a STATE after every `STATE_MSG_FREQUENCY`-th of the sync."""
        frequency = self.stream.STATE_MSG_FREQUENCY
        start = 0
        while start < len(records):
            end = min(len(records), start + frequency - self.written % frequency)
            part = records[start:end]
            self.block(part)
            stream = self.stream
            stream.state_manager.is_flushed = False
            latest = stream.page_bookmark(part)
            if latest is not None:
                Stream._increment_stream_state(stream, latest, context=context)  # noqa: SLF001
            self.written += len(part)
            if self.written % frequency == 0:
                stream._write_state_message()  # noqa: SLF001
            counter.increment(len(part))
            start = end

    def block(self, records: list[Record]) -> None:
        """Pop deselected properties, encode the RECORD lines, hand them to the writer."""
        if self.dropped is None:
            for record in records:
                pop_deselected_record_properties(record, self.stream.schema, self.stream.mask)
        elif self.dropped:
            for record in records:
                for key in self.dropped:
                    record.pop(key, None)
        name, version, now = self.stream.name, self.version, utc_now()
        lines = [_RecordLine("RECORD", name, record, version, now) for record in records]
        self.writer.write_records(encoder.encode_lines(lines))
