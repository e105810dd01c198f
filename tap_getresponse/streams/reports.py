"""GetResponse's own custom reports as streams, one per report with a ready file (README).

The streams are discovered, not declared: a report named "Bounces weekly" becomes
`report_bounces_weekly`, its columns typed from the header and first rows of its newest ready
file, and its id kept in the stream's metadata (`custom-report-id`). A sync with a catalog builds
them from the catalog and asks the API nothing until it reads; without credentials there are
none. Each ready file is read once: the state lists the files already read (`files_read`),
because a file has no generation time to bookmark.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, fields
from functools import cached_property

from singer_sdk.singerlib import MetadataMapping, StreamMetadata
from typing_extensions import override

from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.collections import PageReader
from tap_getresponse.api.downloads import DownloadClient, DownloadError
from tap_getresponse.api.settings import auth_methods
from tap_getresponse.client import GetResponseStream
from tap_getresponse.run import STREAM_FAILURES, StreamUnavailableError
from tap_getresponse.streams import report_files
from tap_getresponse.streams.report_files import (
    STRING,
    FileReader,
    newest_ready,
    report_detail,
    snake_case,
    unique,
)
from tap_getresponse.streams.report_files import report_files as files_of

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.pages import Page
    from tap_getresponse.run import SyncRun

PREFIX = "report_"
LIST_PATH = "/custom-reports"
#: The root metadata key naming the report a stream reads.
REPORT_ID_KEY = "custom-report-id"
#: The state key listing the files a report stream has read.
FILES_READ = "files_read"
#: Names of the reports `message_activities` schedules: not streams of their own.
OWN_REPORTS = "tap-getresponse message_activities"
OWN_SCHEMA = {
    "customReportId": {"type": ["string"]},
    "customReportFileId": {"type": ["string"]},
    "row_number": {"type": ["integer"]},
    #: Columns of a file that the stream's schema (its newest file at discovery) lacks, by name.
    "extra_columns": {
        "type": ["object", "null"],
        "additionalProperties": {"type": ["string", "null"]},
    },
}
#: What discovery may fail on for one report: that report is left out, with a warning.
SKIPPED_REPORT = (GetResponseAPIError, StreamUnavailableError, DownloadError, *STREAM_FAILURES)


@dataclass(slots=True)
class ReportMetadata(StreamMetadata):
    """Root metadata with the report's id (singer-sdk's StreamMetadata has no such field)."""

    custom_report_id: str | None = None


class ReportStream(GetResponseStream):
    """The rows of one custom report's CSV files, each file read once (README)."""

    name = "report"
    primary_keys = ("customReportFileId", "row_number")
    #: The report's id; None when the catalog did not keep it (found by name when read).
    report_id: t.ClassVar[str | None] = None
    #: The report's columns (record key -> schema).
    columns: t.ClassVar[Mapping[str, Mapping[str, t.Any]]] = {}

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """Appended file by file: INCREMENTAL, though no record field orders it (`files_read`)."""
        super().__init__(tap, run)
        self.forced_replication_method = self.forced_replication_method or "INCREMENTAL"

    @override
    def stream_schema(self) -> dict[str, t.Any]:
        props = {**OWN_SCHEMA, **{key: dict(value) for key, value in self.columns.items()}}
        return {"type": "object", "properties": props}

    @override
    @property
    def metadata(self) -> MetadataMapping:
        mapping = super().metadata
        root = mapping.root
        if not isinstance(root, ReportMetadata) and self.report_id:
            values = {field.name: getattr(root, field.name) for field in fields(root)}
            mapping[()] = ReportMetadata(**values, custom_report_id=self.report_id)
        return mapping

    @cached_property
    def downloads(self) -> DownloadClient:
        """The credential-free session for this stream's files."""
        connection = self.settings.connection
        return DownloadClient(
            user_agent=connection.user_agent, read_timeout=float(connection.request_timeout)
        )

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        # The SDK's bookmark is a record field's highest value; here the state is the list of
        # files read, written once a file's last row is out (`request_records`).
        return

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        report_id = self.report_id or find_report_id(self.run, self.name)
        if report_id is None:
            self.logger.warning("Stream '%s': no such custom report any more", self.name)
            return
        state = self.get_context_state(context)
        read = [str(ident) for ident in state.get(FILES_READ, ())]
        files = files_of(report_detail(self.run, report_id))
        reader = FileReader(self.run, self.downloads, report_id, self.logger)
        failed: list[str] = []
        for file in files:
            if file.file_id in read or file.status != "ready":
                continue
            try:
                for number, values in reader.rows(file):
                    yield {
                        **self.known_and_extra(values),
                        "customReportId": report_id,
                        "customReportFileId": file.file_id,
                        "row_number": number,
                    }
            except DownloadError as error:  # the other files are read; this one next run
                self.logger.warning(
                    "Stream '%s': file %s not read: %s", self.name, file.file_id, error
                )
                failed.append(file.file_id)
                continue
            read.append(file.file_id)
            self.remember(state, read, files)
        if failed:
            problem = DownloadError(f"file(s) {', '.join(failed)} not read; a later run reads them")
            self.run.stream_failed(self.name, problem, state)
        waiting = [file.file_id for file in files if file.status in {"pending", "in-progress"}]
        if waiting:
            self.logger.info(
                "Stream '%s': %d file(s) not ready yet (%s), read by a later run",
                self.name,
                len(waiting),
                ", ".join(waiting),
            )

    def known_and_extra(self, values: dict[str, str | None]) -> dict[str, t.Any]:
        """The row's columns of the schema; any other (an older file's layout) in `extra_columns`.

        Read by name, never by position: a column the schema lacks is kept, not dropped.
        """
        if values.keys() <= self.columns.keys():
            return values
        extra = {key: value for key, value in values.items() if key not in self.columns}
        known = {key: value for key, value in values.items() if key in self.columns}
        return {**known, "extra_columns": extra}

    def remember(
        self, state: dict[str, t.Any], read: list[str], files: list[report_files.ReportFile]
    ) -> None:
        """Save the files read, less those the report no longer lists (deleted on expiry)."""
        listed = {file.file_id for file in files}
        state[FILES_READ] = [ident for ident in read if ident in listed]
        # The SDK writes a STATE only when its own bookmark code marked the state changed.
        self.state_manager.is_flushed = False


def report_stream_class(
    name: str, report_id: str | None, columns: Mapping[str, Mapping[str, t.Any]]
) -> type[ReportStream]:
    """A ReportStream subclass for one report (the SDK names streams by class attribute)."""
    attributes = {"name": name, "report_id": report_id, "columns": dict(columns)}
    return type(f"ReportStream_{name}", (ReportStream,), attributes)


def list_reports(run: SyncRun) -> list[dict[str, t.Any]]:
    """Every custom report of the account (`getCustomReportList`), oldest first."""
    page_size = 1000

    def fetch(params: Mapping[str, t.Any], number: int) -> Page:
        query = {**params, "page": number, "perPage": page_size}
        return run.get_page(LIST_PATH, query, number)

    reader = PageReader(fetch, page_size=page_size)
    items = [item for page in reader.pages({}) for item in page.items if isinstance(item, dict)]
    items = [item for item in items if isinstance(item.get("customReportId"), str)]
    return sorted(items, key=lambda item: (str(item.get("createdAt")), item["customReportId"]))


def stream_names(reports: list[dict[str, t.Any]]) -> dict[str, str]:
    """Stream name -> report id: `report_<snake_case name>`, `_2`... where names collide."""
    kept = [item for item in reports if not str(item.get("name", "")).startswith(OWN_REPORTS)]
    names = unique(PREFIX + snake_case(str(item.get("name") or "")) for item in kept)
    return {name: item["customReportId"] for name, item in zip(names, kept, strict=True)}


def find_report_id(run: SyncRun, name: str) -> str | None:
    """The id of the report stream `name` reads (a catalog without `custom-report-id`)."""
    return stream_names(list_reports(run)).get(name)


def discovered_streams(tap: Tap, run: SyncRun) -> list[ReportStream]:
    """Streams for the account's reports with a ready file; none without credentials.

    A listing the account cannot read, or one report whose newest file cannot be read, leaves
    those out with one warning; discovery goes on.
    """
    if not auth_methods(tap.config):
        return []
    try:
        named = stream_names(list_reports(run))
    except StreamUnavailableError as error:  # the plan has no custom reports
        tap.logger.warning("No custom report streams: %s", error)
        return []
    except (*SKIPPED_REPORT, OSError) as error:  # the run's own requests say what is wrong
        tap.logger.info("No custom report streams: %s", error)
        return []
    streams = []
    for name, report_id in named.items():
        try:
            columns = newest_columns(run, report_id, tap)
        except SKIPPED_REPORT as error:
            tap.logger.warning("Custom report %s left out: %s", report_id, error)
            continue
        if columns is not None:
            streams.append(report_stream_class(name, report_id, columns)(tap=tap, run=run))
    return streams


def newest_columns(run: SyncRun, report_id: str, tap: Tap) -> dict[str, dict[str, t.Any]] | None:
    """The columns of the report's newest ready file; None when it has no ready file."""
    newest = newest_ready(files_of(report_detail(run, report_id)))
    if newest is None:
        return None
    connection = run.settings.connection
    client = DownloadClient(user_agent=connection.user_agent)
    try:
        reader = FileReader(run, client, report_id, tap.logger)
        header, rows = reader.sample(newest)
    finally:
        client.close()
    return report_files.columns_schema(header, rows)


def catalogued_streams(tap: Tap, run: SyncRun, raw_catalog: object) -> list[ReportStream]:
    """Report streams as the input catalog declares them (schema, and id when it kept it)."""
    catalog = tap.input_catalog
    if catalog is None:
        return []
    ids = catalog_report_ids(raw_catalog)
    streams = []
    for name, entry in catalog.items():
        if not name.startswith(PREFIX):
            continue
        properties = entry.schema.to_dict().get("properties", {})
        columns = {key: value for key, value in properties.items() if key not in OWN_SCHEMA}
        cls = report_stream_class(name, ids.get(name), columns or {"value": STRING})
        streams.append(cls(tap=tap, run=run))
    return streams


def catalog_report_ids(raw_catalog: object) -> dict[str, str]:
    """Stream name -> `custom-report-id` from a catalog document (singer-sdk drops the key)."""
    entries = raw_catalog.get("streams") if isinstance(raw_catalog, dict) else None
    ids = {}
    for entry in entries if isinstance(entries, list) else ():
        for item in entry.get("metadata", ()) if isinstance(entry, dict) else ():
            if isinstance(item, dict) and item.get("breadcrumb") == []:
                ident = (item.get("metadata") or {}).get(REPORT_ID_KEY)
                if isinstance(ident, str):
                    ids[str(entry.get("tap_stream_id"))] = ident
    return ids
