"""A custom report's files: the report's detail, fresh links, CSV rows by header, column types.

Shared by the report streams (reports.py) and `message_activities`. A file's `downloadUrl` is
valid for 5 minutes and is regenerated on every read of the report's detail (OpenAPI
`CustomReportDetails`), so a link that expired, or a transfer that broke off, is retried with a
fresh link from the detail; rows already emitted are skipped, not emitted twice.
"""

from __future__ import annotations

import re
import time
import typing as t
from dataclasses import dataclass

from tap_getresponse.api.downloads import DownloadError, LinkExpiredError
from tap_getresponse.normalize import normalise_datetime

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Mapping

    from tap_getresponse.api.downloads import DownloadClient
    from tap_getresponse.run import SyncRun

#: Where one report's detail is read (OpenAPI `getCustomReportDetails`).
DETAIL_PATH = "/custom-reports/{customReportId}"
#: Reads of one file (the first and the retries with a fresh link) before it counts as failed.
MAX_ATTEMPTS = 3
#: Seconds before the second read of a file, doubled for each further one.
RETRY_SECONDS = 1.0
#: Data rows read at discovery to tell a column's type.
SAMPLE_ROWS = 500
#: Columns every record carries; a file column of the same name gets a suffix.
OWN_COLUMNS = ("customReportId", "customReportFileId", "row_number", "extra_columns")
STRING = {"type": ["string", "null"]}
_INTEGER = re.compile(r"[+-]?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"[+-]?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def snake_case(text: str) -> str:
    """`Bounce date` -> `bounce_date`, `activityDate` -> `activity_date`; never empty."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text.strip())
    words = re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()
    return words or "column"


def unique(names: t.Iterable[str], taken: t.Iterable[str] = ()) -> list[str]:
    """`names` with `_2`, `_3`... added to each that repeats an earlier one or one `taken`."""
    seen, out = set(taken), []
    for name in names:
        candidate, number = name, 1
        while candidate in seen:
            number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        out.append(candidate)
    return out


def column_names(header: list[str]) -> list[str]:
    """The record key of each header cell: snake_case, unique, never one of OWN_COLUMNS."""
    return unique((snake_case(cell) for cell in header), OWN_COLUMNS)


def column_schema(values: t.Iterable[str]) -> dict[str, t.Any]:
    """A column's JSON schema from sample values: integer, number, date, date-time or string.

    Only a column whose every non-empty sample value fits is typed; numbers with a leading zero
    (`00123`, a postal code) stay strings. A column without any value is a string.
    """
    kinds = {_kind(value) for value in values if value != ""}
    if not kinds or "string" in kinds:
        return dict(STRING)
    if kinds <= {"integer"}:
        return {"type": ["integer", "null"]}
    if kinds <= {"integer", "number"}:
        return {"type": ["number", "null"]}
    if kinds == {"date"}:
        return {"type": ["string", "null"], "format": "date"}
    if kinds <= {"date", "date-time"}:
        return {"type": ["string", "null"], "format": "date-time"}
    return dict(STRING)


def _kind(value: str) -> str:
    if _INTEGER.fullmatch(value):
        return "integer"
    if _NUMBER.fullmatch(value):
        return "number"
    if _DATE.fullmatch(value):
        return "date"
    try:
        normalise_datetime(value)
    except ValueError:
        return "string"
    return "date-time" if len(value) > len("2025-01-01") else "string"


def columns_schema(header: list[str], rows: list[list[str]]) -> dict[str, dict[str, t.Any]]:
    """Each column's name and schema, typed from `rows` (sample rows of one file)."""
    names = column_names(header)
    return {
        name: column_schema(row[index] for row in rows if index < len(row))
        for index, name in enumerate(names)
    }


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One entry of a report's `files`: id, status, link (ready files only) and expiry."""

    file_id: str
    status: str
    url: str | None
    expires_at: str

    @classmethod
    def parse(cls, item: object) -> ReportFile | None:
        """The file an item of `files` describes; None when it names no file id."""
        if not isinstance(item, dict) or not isinstance(item.get("customReportFileId"), str):
            return None
        url = item.get("downloadUrl")
        return cls(
            file_id=item["customReportFileId"],
            status=str(item.get("status") or ""),
            url=url if isinstance(url, str) and url else None,
            expires_at=str(item.get("expiresAt") or ""),
        )


def report_detail(run: SyncRun, report_id: str) -> dict[str, t.Any]:
    """`GET /custom-reports/{id}`; StreamUnavailableError when the account cannot read it."""
    page = run.get_page(DETAIL_PATH.format(customReportId=report_id), {}, 1)
    item = page.items[0] if page.items else {}
    return item if isinstance(item, dict) else {}


def report_files(detail: Mapping[str, t.Any]) -> list[ReportFile]:
    """The files a report's detail lists, in its order."""
    files = detail.get("files")
    parsed = (ReportFile.parse(item) for item in files) if isinstance(files, list) else ()
    return [file for file in parsed if file is not None]


def newest_ready(files: list[ReportFile]) -> ReportFile | None:
    """The ready file that expires last, else the one listed last among equal expiries.

    Files carry no generation time; a newer file is kept until later.
    """
    ready = [(file.expires_at, index, file) for index, file in enumerate(files)]
    ready = [entry for entry in ready if entry[2].status == "ready" and entry[2].url]
    return max(ready, key=lambda entry: entry[:2])[2] if ready else None


class FileReader:
    """Reads the files of one report through a credential-free DownloadClient."""

    def __init__(
        self,
        run: SyncRun,
        downloads: DownloadClient,
        report_id: str,
        logger: logging.Logger,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`sleep` waits between attempts (tests pass their own)."""
        self.run = run
        self.downloads = downloads
        self.report_id = report_id
        self.logger = logger
        self.sleep = sleep

    def sample(
        self, file: ReportFile, limit: int = SAMPLE_ROWS
    ) -> tuple[list[str], list[list[str]]]:
        """The header and up to `limit` data rows of `file` (the rest is not downloaded)."""
        with self.downloads.open_csv(self.fresh_url(file, attempt=0)) as csv_file:
            rows = [row for _, row in zip(range(limit), csv_file.rows, strict=False)]
            return csv_file.header, rows

    def rows(self, file: ReportFile) -> Iterator[tuple[int, dict[str, str | None]]]:
        """(row number, values by column name) of every data row of `file`, read once.

        An empty cell is None. A row longer than the header keeps its extra cells as
        `column_<n>`; a shorter one has None for the cells it lacks.
        """
        done = 0
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.downloads.open_csv(self.fresh_url(file, attempt)) as csv_file:
                    names = column_names(csv_file.header)
                    for number, row in enumerate(csv_file.rows, 1):
                        if number > done:
                            done = number
                            yield number, _values(names, row)
            except DownloadError as error:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise
                why = "the link expired" if isinstance(error, LinkExpiredError) else str(error)
                self.logger.info(
                    "Custom report %s, file %s: %s; reading on from row %d with a fresh link",
                    self.report_id,
                    file.file_id,
                    why,
                    done + 1,
                )
                self.sleep(RETRY_SECONDS * 2**attempt)
            else:
                return

    def fresh_url(self, file: ReportFile, attempt: int) -> str:
        """The file's link: as listed for a first attempt, else from a new read of the detail."""
        if attempt == 0 and file.url:
            return file.url
        for listed in report_files(report_detail(self.run, self.report_id)):
            if listed.file_id == file.file_id and listed.url:
                return listed.url
        msg = f"file {file.file_id} is no longer listed with a link in its report's detail"
        raise DownloadError(msg)


def _values(names: list[str], row: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = dict.fromkeys(names)
    for index, cell in enumerate(row):
        key = names[index] if index < len(names) else f"column_{index + 1}"
        values[key] = cell if cell != "" else None
    return values
