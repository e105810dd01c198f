"""The sandbox's second host: custom report files behind signed `downloadUrl`s, on 127.0.0.2.

A real `downloadUrl` points to a storage host, not the API (OpenAPI `CustomReportDetails`): this
server stands for it. It answers 403 to any request carrying `X-Auth-Token`, `Authorization` or
`X-Domain` (credentials must never leave for it) and logs every request, so tests can assert on
what reached it. A link is valid for `ttl` seconds (5 minutes, as documented); an expired or
unknown link answers 403, as a signed storage URL does.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: The loopback address of the download host: another host than the API's 127.0.0.1.
HOST = "127.0.0.2"
#: Headers that carry GetResponse credentials or the MAX domain.
CREDENTIAL_HEADERS = ("X-Auth-Token", "Authorization", "X-Domain")
#: A link's life (OpenAPI `CustomReportDetails.files.downloadUrl`: valid for 5 minutes).
LINK_TTL = 300.0
#: Bytes written per step, so a large file reaches the client as a stream.
CHUNK = 64 * 1024


@dataclass
class DownloadRequest:
    """One request as the download host saw it."""

    method: str
    path: str
    status: int
    #: Which of CREDENTIAL_HEADERS it carried (any one is refused with 403).
    credential_headers: tuple[str, ...]
    user_agent: str | None


class DownloadServer:
    """Serves report files; `resolve(file_id)` gives a file's bytes (None: no such file)."""

    def __init__(self, resolve: Callable[[str], bytes | None], ttl: float = LINK_TTL) -> None:
        """Not serving yet: `start()`."""
        self.resolve = resolve
        self.ttl = ttl
        #: Seconds a scheduled report stays `pending` before its file is `ready`.
        self.ready_after = 0.2
        #: The next this many files are cut off halfway (the connection closes mid-body).
        self.break_next = 0
        self.log: list[DownloadRequest] = []
        self._links: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        """`http://127.0.0.2:PORT`."""
        if self._server is None:
            msg = "download server not started"
            raise RuntimeError(msg)
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread."""
        handler = type("BoundDownloadHandler", (_Handler,), {"downloads": self})
        server = ThreadingHTTPServer((HOST, 0), handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, args=(0.05,), name="sandbox-downloads", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def link(self, file_id: str) -> str:
        """A new signed link to `file_id`, valid for `ttl` seconds."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._links[token] = (file_id, time.monotonic() + self.ttl)
        return f"{self.base}/files/{file_id}.csv?signature={token}"

    def expire_links(self) -> None:
        """Make every link handed out so far expired (as after 5 minutes)."""
        with self._lock:
            self._links = {token: (fid, 0.0) for token, (fid, _) in self._links.items()}

    def clear_log(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.log.clear()

    def credentials_seen(self) -> list[DownloadRequest]:
        """Requests that carried a credential header (a test wants none)."""
        with self._lock:
            return [entry for entry in self.log if entry.credential_headers]

    def answer(self, path: str, query: str, headers: Any) -> tuple[int, bytes]:
        """Status and body for one GET (credentials, link and file checked in that order)."""
        if any(headers.get(name) is not None for name in CREDENTIAL_HEADERS):
            return 403, b"Credentials are not accepted here"
        token = (parse_qs(query).get("signature") or [""])[0]
        with self._lock:
            file_id, expires = self._links.get(token, ("", 0.0))
        wanted = path.removeprefix("/files/").removesuffix(".csv")
        if not file_id or file_id != wanted or expires <= time.monotonic():
            return 403, b"Request has expired"
        content = self.resolve(file_id)
        return (404, b"No such file") if content is None else (200, content)

    def take_break(self) -> bool:
        """Whether this answer is to be cut off (counts down `break_next`)."""
        with self._lock:
            if self.break_next <= 0:
                return False
            self.break_next -= 1
            return True

    def record(self, entry: DownloadRequest) -> None:
        """Append to the log."""
        with self._lock:
            self.log.append(entry)


class _Handler(BaseHTTPRequestHandler):
    downloads: DownloadServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet (the request log is the record)."""

    def do_GET(self) -> None:
        """Serve a file, or refuse."""
        parts = urlsplit(self.path)
        status, body = self.downloads.answer(parts.path, parts.query, self.headers)
        carried = tuple(name for name in CREDENTIAL_HEADERS if self.headers.get(name) is not None)
        self.downloads.record(
            DownloadRequest("GET", parts.path, status, carried, self.headers.get("User-Agent"))
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/csv" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status == 200 and self.downloads.take_break():
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            for start in range(0, len(body), CHUNK):
                self.wfile.write(body[start : start + CHUNK])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
