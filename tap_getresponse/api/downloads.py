"""Report file downloads: a custom report's `downloadUrl`, read without credentials, as CSV rows.

A file's `downloadUrl` points to another host than the API (OpenAPI `CustomReportDetails`:
"regenerated each time the report details are queried and is valid for 5 minutes"). So it is
read by a session of its own that holds no credential and no `X-Domain`: not the API session,
whose headers and authenticator would go with every request it sends. The session ignores the
environment (`trust_env`), so no `.netrc` login is added either; redirects are followed, since
there is nothing to carry. The URL's query is its signature: errors name the origin and path only.

The body is streamed into the csv module (quoted newlines, a UTF-8 BOM): memory stays flat
however large the file.
"""

from __future__ import annotations

import csv
import io
import typing as t
from contextlib import contextmanager
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as TransferError

from tap_getresponse.api.errors import origin_of
from tap_getresponse.api.session import default_user_agent
from tap_getresponse.api.transport import DeadlineAdapter, deadline

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Answers that mean the link is no longer valid: ask the report's detail for a fresh one.
EXPIRED_STATUSES = frozenset(
    {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.GONE}
)
#: Redirects a download may take (a storage front end); none of them can carry a credential.
MAX_REDIRECTS = 5
#: Seconds to wait for the connection (the host name lookup included); reads wait the run's
#: `request_timeout` each.
CONNECT_TIMEOUT = 30.0
#: The longest one file may take to arrive whole: a host sending a byte now and then passes
#: every read's timeout, never this.
DOWNLOAD_SECONDS = 3600.0


class DownloadError(Exception):
    """A report file could not be read; the message names its origin and path, never its query."""


class LinkExpiredError(DownloadError):
    """The download host refused the link (expired or unknown): fetch the report's detail again."""


def where(url: str) -> str:
    """`url` fit for a log line: origin and path, without the signed query."""
    return origin_of(url) + urlsplit(url).path


class CsvFile:
    """One report file being read: its header and an iterator over its data rows."""

    def __init__(self, header: list[str], rows: Iterator[list[str]]) -> None:
        """Keep the header (names as the file spells them) and the row iterator."""
        self.header = header
        self.rows = rows


class DownloadClient:
    """Reads report files from their download host with a session that holds no credential."""

    def __init__(self, *, user_agent: str | None = None, read_timeout: float = 60.0) -> None:
        """A fresh session: only User-Agent and Accept headers, nothing from the environment."""
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.max_redirects = MAX_REDIRECTS
        adapter = DeadlineAdapter()  # bounded name lookups, reads under `deadline`
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.clear()
        self.session.headers.update(
            {"User-Agent": user_agent or default_user_agent(), "Accept": "text/csv, */*"}
        )
        self.read_timeout = read_timeout

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    @contextmanager
    def open_csv(self, url: str) -> Iterator[CsvFile]:
        """The file at `url` as CSV, streamed; the connection closes when the block ends.

        Raises LinkExpiredError when the host refuses the link, DownloadError for any other
        failure (network, another status, a file that is not text CSV).
        """
        with deadline(DOWNLOAD_SECONDS):  # taken by the response's socket when it is made
            response = self._get(url)
        try:
            response.raw.decode_content = True
            response.raw.auto_close = False  # else the text layer reads a closed file at the end
            text = io.TextIOWrapper(
                t.cast("t.IO[bytes]", response.raw),
                encoding="utf-8-sig",
                errors="replace",  # a stray byte spoils one value, not the file
                newline="",
            )
            reader = csv.reader(text)
            header = _next_row(reader, url)
            yield CsvFile(header or [], _rows(reader, url))
        finally:
            response.close()

    def _get(self, url: str) -> requests.Response:
        scheme = urlsplit(url).scheme
        if scheme not in {"http", "https"}:
            msg = f"not a download link: {scheme or 'no'} scheme"
            raise DownloadError(msg)
        try:
            response = self.session.get(
                url, stream=True, timeout=(CONNECT_TIMEOUT, self.read_timeout)
            )
        except requests.RequestException as error:
            # requests' own message quotes the URL, signature and all.
            msg = f"GET {where(url)} failed: {type(error).__name__}"
            raise DownloadError(msg) from None
        if response.status_code in EXPIRED_STATUSES:
            response.close()
            msg = f"GET {where(url)} answered {response.status_code}: the link has expired"
            raise LinkExpiredError(msg)
        if not response.ok:
            response.close()
            msg = f"GET {where(url)} answered {response.status_code}"
            raise DownloadError(msg)
        return response


def _next_row(reader: Iterator[list[str]], url: str) -> list[str] | None:
    """The reader's next row; DownloadError (naming the file) when it is no CSV text."""
    try:
        return next(reader, None)
    except (csv.Error, UnicodeDecodeError) as error:
        msg = f"GET {where(url)}: not a readable CSV file ({type(error).__name__}: {error})"
        raise DownloadError(msg) from None
    except (TransferError, requests.RequestException, OSError) as error:
        # The transfer broke off (timeout, reset): the message would quote the signed URL.
        msg = f"GET {where(url)}: the transfer broke off ({type(error).__name__})"
        raise DownloadError(msg) from None


def _rows(reader: Iterator[list[str]], url: str) -> Iterator[list[str]]:
    """Every data row; blank lines (no field at all) are skipped, as the csv module reads them."""
    while (row := _next_row(reader, url)) is not None:
        if row:
            yield row
