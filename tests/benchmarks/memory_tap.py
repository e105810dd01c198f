"""In-memory ceilings: the sandbox's contact pages emitted by a Singer tap with no HTTP at all.

    python -m tests.benchmarks.memory_tap PAGES_FILE sdk|lean

PAGES_FILE holds one raw `GET /contacts` response body per line, as the sandbox sent them.

- `sdk`: a minimal singer-sdk stream with every SDK default (recursive type conformance, the
  SDK's writer, a flush per message): what the SDK itself can emit, the ceiling the issue names.
- `lean`: the tap's own contacts stream, record path and writer, its pages served from memory
  instead of over HTTP: the most `tap-getresponse` could reach if the API answered instantly.

Both decode each page from its JSON text when it is read, as their HTTP versions do (the SDK's
`response.json()`, the tap's msgspec decoder).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import typing as t
from functools import cached_property
from pathlib import Path

import msgspec
from singer_sdk import Stream, Tap
from typing_extensions import override

from tap_getresponse.api.collections import Page
from tap_getresponse.run import SyncRun
from tap_getresponse.schemas import load_schema
from tap_getresponse.streams.contacts import ContactsStream
from tap_getresponse.tap import TapGetResponse

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk.helpers.types import Context

PAGES: list[bytes] = []


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


class MemoryRun(SyncRun):
    """The tap's run on the local clock (no request at all)."""

    @override
    @cached_property
    def started_at(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)


class MemoryTap(TapGetResponse):
    """tap-getresponse with only MemoryContacts and the local clock (no request at all)."""

    @override
    @cached_property
    def run(self) -> SyncRun:
        return MemoryRun(
            self.config, governor=self.governor, logger=self.logger, writer=self.message_writer
        )

    @override
    def discover_streams(self) -> list[MemoryContacts]:  # type: ignore[override]
        return [MemoryContacts(tap=self, run=self.run)]


def main(argv: list[str]) -> None:
    """Load the pages, then sync with the chosen tap."""
    pages_file, mode = argv
    PAGES.extend(Path(pages_file).read_bytes().splitlines())
    if mode == "sdk":
        PlainTap(config={}, parse_env_config=False).sync_all()
    else:
        config = {"api_url": "http://127.0.0.1:9/v3", "api_key": "in-memory"}
        MemoryTap(config=config, parse_env_config=False).sync_all()


if __name__ == "__main__":
    main(sys.argv[1:])
