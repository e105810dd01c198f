"""`message_activities`: sends, opens and clicks in bulk, from one custom report per run (README).

`contact_activities` costs one request per contact on every run. Here the run schedules one
one-time `message_activity_report` (OpenAPI `createCustomReport`, schema
`CreateMessageActivityReport`) for its window, for every message sent in or before it, waits
for the report's file and emits a record per row: a handful of requests whatever the number of
contacts. Only with `activity_reports` on, because each run leaves one report in the account
(the API has no call to delete one).

The file's columns are not documented: they are read by header name (snake_case), the known
ones (`COLUMN_KEYS`) mapped to the fields `contact_activities` has, any other kept in
`extra_columns`.
"""

from __future__ import annotations

import time
import typing as t
from functools import cached_property
from http import HTTPStatus

from typing_extensions import override

from tap_getresponse import windows
from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.downloads import DownloadClient, DownloadError
from tap_getresponse.client import GetResponseStream
from tap_getresponse.run import PLAN_GATED_STATUSES, ParentCollection, StreamUnavailableError
from tap_getresponse.streams.contacts import EARLIEST, NO_ID
from tap_getresponse.streams.report_files import FileReader, newest_ready, report_detail
from tap_getresponse.streams.report_files import report_files as files_of
from tap_getresponse.streams.reports import OWN_REPORTS

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

    from tap_getresponse.streams.report_files import ReportFile

STRING = {"type": ["string", "null"]}
#: Activity kinds the report is asked for (OpenAPI `MessageActivityReportActivityTypesEnum`).
ACTIVITY_TYPES = ("open", "click", "send")
#: Message ids per report; a longer list is split over several reports. Our choice: the
#: official docs name no maximum for `filters.messageId`.
MESSAGES_PER_REPORT = 500
#: How long a run waits for its reports' files, then leaves them for the next run.
WAIT_SECONDS = 30 * 60.0
#: First pause between two reads of a report's detail; doubled up to LONGEST_PAUSE.
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
#: Header names (snake_case) the tap knows -> the field they fill (as `contact_activities`).
COLUMN_KEYS = {
    "contact_id": "contactId",
    "email": "email",
    "message_id": "resourceId",
    "resource_id": "resourceId",
    "activity": "activity",
    "activity_type": "activity",
    "activity_date": "createdOn",
    "created_on": "createdOn",
    "click_track_id": "clickTrackId",
    "message_subject": "subject",
    "subject": "subject",
    "url": "url",
    "link_url": "url",
}
#: The state key of reports a run scheduled but could not wait for (the next run reads them).
PENDING = "pending_reports"
#: Key parts a row may lack (only clicks have a click track): "-", as in contact_activities.
KEY_PARTS = ("activity", "resourceId", "clickTrackId")


def sent_messages(end: dt.datetime) -> ParentCollection:
    """Newsletters sent in or before the window ending `end` (drafts never are)."""

    def keep(item: Mapping[str, t.Any]) -> bool:
        if item.get("type") == "draft":
            return False
        try:
            return windows.parse_moment(str(item.get("sendOn"))) <= end
        except (ValueError, OverflowError):
            return False

    return ParentCollection("/newsletters", "newsletterId", ("sendOn", "type"), keep)


def report_body(name: str, messages: list[str], start: dt.date, end: dt.date) -> dict[str, t.Any]:
    """`CreateMessageActivityReport` for the days `start` to `end` (the API takes dates)."""
    return {
        "name": name,
        "type": "message_activity_report",
        "filters": {"activityType": list(ACTIVITY_TYPES), "messageId": messages},
        "scheduling": {
            "frequency": "one_time",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
        },
    }


def report_name(start: dt.date, end: dt.date, part: int, parts: int) -> str:
    """`tap-getresponse message_activities 2025-01-01..2025-01-31` (`2/3` when split)."""
    name = f"{OWN_REPORTS} {start.isoformat()}..{end.isoformat()}"
    return f"{name} {part}/{parts}" if parts > 1 else name


def activity_record(values: Mapping[str, str | None]) -> dict[str, t.Any]:
    """One row as a record: known columns by name, the others in `extra_columns`."""
    record: dict[str, t.Any] = dict.fromkeys(set(COLUMN_KEYS.values()))
    extra: dict[str, str | None] = {}
    for column, value in values.items():
        key = COLUMN_KEYS.get(column)
        if key is not None and record[key] is None:
            record[key] = value
        else:
            extra[column] = value
    for key in KEY_PARTS:
        record[key] = record[key] or NO_ID
    record["extra_columns"] = extra
    return record


class MessageActivitiesStream(GetResponseStream):
    """Message activity of every contact from one `message_activity_report` per run (README)."""

    name = "message_activities"
    path = "/custom-reports"
    primary_keys = ("contactId", "activity", "createdOn", "resourceId", "clickTrackId")
    replication_key = "createdOn"
    #: Rows come in the file's order, which nothing documents: the bookmark is the highest
    #: `createdOn` emitted, made final when the stream ends (the SDK's progress markers).
    is_sorted = False
    #: Message ids per report (MESSAGES_PER_REPORT; a test sets a small one on one stream).
    messages_per_report: int = MESSAGES_PER_REPORT
    #: Clock and pause of the wait for a report (tests hand their own to one stream).
    clock: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    @override
    def stream_schema(self) -> dict[str, t.Any]:
        fields: dict[str, dict[str, t.Any]] = {
            key: dict(STRING) for key in set(COLUMN_KEYS.values())
        }
        fields["createdOn"] = {"type": ["string", "null"], "format": "date-time"}
        own = {
            "customReportId": STRING,
            "customReportFileId": STRING,
            "row_number": {"type": ["integer", "null"]},
            "extra_columns": {"type": ["object", "null"], "additionalProperties": STRING},
        }
        return {"type": "object", "properties": {**fields, **own}}

    @cached_property
    def downloads(self) -> DownloadClient:
        """The credential-free session for the report's file."""
        connection = self.settings.connection
        return DownloadClient(
            user_agent=connection.user_agent, read_timeout=float(connection.request_timeout)
        )

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        state = self.get_context_state(context)
        window = self.asked(state)
        if window is None:
            return
        reports, start, end = window
        files = self.wait_for(reports)
        self.state_manager.is_flushed = False  # the SDK writes a STATE only when so told
        if files is None:  # left for the next run, which waits for the same reports
            state[PENDING] = {"ids": reports, "start": start.isoformat(), "end": end.isoformat()}
            return
        state.pop(PENDING, None)
        if not files:  # a report failed: the next run asks for the window again
            return
        try:
            for report_id, file in files.items():
                for record in self.rows(report_id, file):
                    moment = self.replication_moment(record)
                    if moment is None or start <= moment <= end:
                        yield record
        except DownloadError as error:  # the bookmark stays: the next run asks again
            self.run.stream_failed(self.name, error, state)

    def asked(self, state: dict[str, t.Any]) -> tuple[list[str], dt.datetime, dt.datetime] | None:
        """The reports for this run and their window: those an earlier run left, else new ones.

        None when no message was sent by the window's end (nothing to ask for).
        """
        pending = state.get(PENDING)
        if isinstance(pending, dict) and pending.get("ids"):
            start, end = (windows.parse_moment(str(pending[key])) for key in ("start", "end"))
            self.logger.info("Stream '%s': reading the reports the last run waited for", self.name)
            return [str(ident) for ident in pending["ids"]], start, end
        start = self.window_start(state) or EARLIEST
        end = self.run.window_end
        listing = sent_messages(end)
        messages = self.run.list_parents(listing, self.reader(listing.path), self.log_repair)
        if not messages:
            self.logger.info("Stream '%s': no message sent by %s", self.name, end.isoformat())
            return None
        return self.schedule(messages, start.date(), end.date()), start, end

    def schedule(self, messages: list[str], start: dt.date, end: dt.date) -> list[str]:
        """POST one report per `messages_per_report` messages; their ids."""
        size = self.messages_per_report
        chunks = [messages[index : index + size] for index in range(0, len(messages), size)]
        ids = []
        for part, chunk in enumerate(chunks, 1):
            name = report_name(start, end, part, len(chunks))
            body = report_body(name, chunk, start, end)
            try:
                answer = self.run.api.request("POST", self.path, json=body).json()
            except GetResponseAPIError as error:
                # Which reports an account may create depends on its plan (createCustomReport).
                if error.http_status in PLAN_GATED_STATUSES:
                    raise StreamUnavailableError(self.path, error) from error
                raise
            ids.append(str(answer["customReportId"]))
            self.logger.info("Stream '%s': scheduled custom report '%s'", self.name, name)
        return ids

    def wait_for(self, report_ids: list[str]) -> dict[str, ReportFile] | None:
        """Each report's ready file, read from its detail until ready (at most WAIT_SECONDS).

        None when one is not ready by then (the next run waits for the same reports); empty
        when one failed or is gone (the next run asks for the window again). Either way
        nothing is emitted and the bookmark stays.
        """
        started, pause = self.clock(), FIRST_PAUSE
        while True:
            listed = {ident: self.files(ident) for ident in report_ids}
            failed = [ident for ident, files in listed.items() if _failed(files)]
            if failed:
                self.logger.warning(
                    "Stream '%s': custom report(s) %s failed or are gone; nothing read, the "
                    "next run asks for the window again",
                    self.name,
                    ", ".join(failed),
                )
                return {}
            ready = {ident: newest_ready(files or []) for ident, files in listed.items()}
            waiting = [ident for ident, file in ready.items() if file is None]
            if not waiting:
                return {ident: file for ident, file in ready.items() if file is not None}
            waited = self.clock() - started
            if waited >= WAIT_SECONDS:
                self.logger.warning(
                    "Stream '%s': custom report(s) %s not ready after %d min; nothing read, "
                    "the next run reads them",
                    self.name,
                    ", ".join(waiting),
                    WAIT_SECONDS // 60,
                )
                return None
            self.logger.info(
                "Stream '%s': waiting for %d of %d custom report(s) (%s): %.0f s so far, "
                "at most %d min",
                self.name,
                len(waiting),
                len(report_ids),
                ", ".join(waiting),
                waited,
                WAIT_SECONDS // 60,
            )
            self.sleep(min(pause, WAIT_SECONDS - waited))
            pause = min(pause * 2, LONGEST_PAUSE)

    def files(self, report_id: str) -> list[ReportFile] | None:
        """The report's files; None when the report is gone (404)."""
        try:
            return files_of(report_detail(self.run, report_id))
        except StreamUnavailableError as error:
            if error.http_status == HTTPStatus.NOT_FOUND:
                return None
            raise

    def rows(self, report_id: str, file: ReportFile) -> Iterator[dict[str, t.Any]]:
        """The file's rows as records, with the report, file and row number."""
        reader = FileReader(self.run, self.downloads, report_id, self.logger, sleep=self.sleep)
        for number, values in reader.rows(file):
            record = activity_record(values)
            record["customReportId"] = report_id
            record["customReportFileId"] = file.file_id
            record["row_number"] = number
            yield record


def _failed(files: list[ReportFile] | None) -> bool:
    """Whether the report is gone, or its only files ended in `error` (none will be ready)."""
    return files is None or (bool(files) and all(file.status == "error" for file in files))
