"""In-memory record paths: the sandbox's pages emitted with no HTTP at all, timed in the process.

    python -m tests.benchmarks.memory_tap PAGES_FILE sdk|lean|bare [contacts|contact_details]

PAGES_FILE holds one raw page body (a JSON array of `GET /contacts` items, or of
`GET /contacts/{id}` details with custom fields) per line, as the sandbox sends them.

- `sdk`: a minimal singer-sdk contacts stream with every SDK default (recursive type
  conformance, the SDK's writer, a flush per message): what the SDK itself can emit.
- `lean`: the tap's own stream (`contacts`, or `contact_details` with a column per custom
  field), record path and writer, its pages served from memory instead of over HTTP: the most
  `tap-getresponse` could reach if the API answered instantly.
- `bare`: the floor of any Python tap: a loop that decodes each page with msgspec, rewrites the
  two timestamps (`+0000` to `+00:00`), encodes each RECORD line with msgspec and writes the
  lines in blocks. Nothing else: no schema, no state, no selection.

Each decodes every page from its JSON text when it reads it, as their HTTP versions do. The last
stderr line is `record path: <records> records in <seconds> s`: the time from the first page to
the last line out; start-up, building the tap and reading PAGES_FILE are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import typing as t
from functools import cached_property
from pathlib import Path

import msgspec
from singer_sdk import Stream, Tap
from typing_extensions import override

import tap_getresponse.tap as tap_module
from tap_getresponse import custom_field_columns
from tap_getresponse.api.collections import Page
from tap_getresponse.client import GetResponseStream
from tap_getresponse.run import SyncRun
from tap_getresponse.schemas import load_schema
from tap_getresponse.streams.contacts import ContactDetailsStream, ContactsStream
from tap_getresponse.tap import TapGetResponse

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

PAGES: list[bytes] = []
#: The account's custom fields (`GET /custom-fields` items), for the contact_details columns.
FIELDS: list[dict[str, t.Any]] = []
#: Where the `bare` loop and the pages file keep the custom fields: the pages file's name + this.
FIELDS_SUFFIX = ".fields.json"


class PlainContacts(Stream):
    """Contacts through singer-sdk's defaults: no normalising, SDK conformance and writer."""

    name = "contacts"
    primary_keys = ("contactId",)
    replication_key = "changedOn"
    is_sorted = True

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        for page in PAGES:
            yield from json.loads(page)


class PlainTap(Tap):
    """A minimal tap around PlainContacts."""

    name = "tap-memory-sdk"
    config_jsonschema: t.ClassVar[dict[str, t.Any]] = {"type": "object", "properties": {}}

    @override
    def discover_streams(self) -> list[Stream]:
        return [PlainContacts(self, schema=load_schema("contacts"))]


class MemoryContacts(ContactsStream):
    """The tap's contacts stream with `fetch_page` answered from memory."""

    @override
    def fetch_page(self, path: str, params: Mapping[str, t.Any], number: int) -> Page:
        items = msgspec.json.decode(PAGES[number - 1]) if number <= len(PAGES) else []
        return Page(number, items, total_pages=len(PAGES), total_count=None)


class MemoryDetails(ContactDetailsStream):
    """The tap's contact_details, a stream of its own here, whose pages of details are in memory.

    Over HTTP each detail is one request (80 a second at most): this measures what the tap does
    with wide records once they are read, a page of them at a time.
    """

    parent_stream_type = None  # type: ignore[assignment]
    selected_by_default = True
    #: Pages, not one request per parent: the base class's reading of batches.
    request_records = GetResponseStream.request_records

    def __init__(self, tap: TapGetResponse, run: SyncRun) -> None:
        """A column per custom field of the sandbox's account, as discovery would add."""
        super().__init__(tap, run)
        self.columns = custom_field_columns.columns(FIELDS)
        self.schema["properties"].update(self.columns)

    @override
    def request_batches(self, context: Context | None) -> Iterator[list[t.Any]]:
        filler = custom_field_columns.Filler(self.columns)
        for page in PAGES:
            items = msgspec.json.decode(page)
            for item in items:
                filler.fill(item)
            yield items


class MemoryRun(SyncRun):
    """The tap's run on the local clock (no request at all)."""

    @override
    @cached_property
    def started_at(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)


class MemoryTap(TapGetResponse):
    """tap-getresponse with one in-memory stream and the local clock (no request at all)."""

    #: The stream to sync: `contacts` or `contact_details`.
    stream_name: t.ClassVar[str] = "contacts"

    @override
    @cached_property
    def run(self) -> SyncRun:
        return MemoryRun(
            self.config, governor=self.governor, logger=self.logger, writer=self.message_writer
        )

    @override
    def discover_streams(self) -> list[GetResponseStream]:
        if self.stream_name == "contacts":
            return [MemoryContacts(tap=self, run=self.run)]
        return [MemoryDetails(tap=self, run=self.run)]


def rfc3339(value: str) -> str:
    """`...+0000` as `...+00:00`: the bare loop's whole timestamp work."""
    return f"{value[:-2]}:{value[-2:]}" if value[-5] in "+-" else value


def bare(stream: str) -> int:
    """The bare loop over PAGES; the records written."""
    decoder = msgspec.json.Decoder()
    encoder = msgspec.json.Encoder()
    out = sys.stdout.buffer
    count = 0
    for page in PAGES:
        block = bytearray()
        now = dt.datetime.now(dt.UTC)
        for record in decoder.decode(page):
            record["changedOn"] = rfc3339(record["changedOn"])
            record["createdOn"] = rfc3339(record["createdOn"])
            message = {"type": "RECORD", "stream": stream, "record": record, "time_extracted": now}
            block += encoder.encode(message)
            block += b"\n"
            count += 1
        out.write(block)
    out.flush()
    return count


def main(argv: list[str]) -> None:
    """Load the pages, then emit them the chosen way; say how long that took."""
    pages_file, mode, *rest = argv
    stream = rest[0] if rest else "contacts"
    PAGES.extend(Path(pages_file).read_bytes().splitlines())
    fields = Path(pages_file + FIELDS_SUFFIX)
    if fields.exists():
        FIELDS.extend(json.loads(fields.read_text()))
    config = {"api_url": "http://127.0.0.1:9/v3", "api_key": "in-memory"}
    # Without a catalog the tap lists the account's custom reports: there is no account here.
    vars(tap_module)["discovered_streams"] = lambda *_: []
    MemoryTap.stream_name = stream
    tap = MemoryTap(config=config, parse_env_config=False) if mode == "lean" else None
    plain = PlainTap(config={}, parse_env_config=False) if mode == "sdk" else None
    started = time.perf_counter()
    if tap is not None:
        tap.sync_all()
    elif plain is not None:
        plain.sync_all()
    else:
        bare(stream)
    sys.stdout.flush()
    seconds = time.perf_counter() - started
    records = sum(len(msgspec.json.decode(page)) for page in PAGES)
    sys.stderr.write(f"record path: {records} records in {seconds:.6f} s\n")


if __name__ == "__main__":
    main(sys.argv[1:])
