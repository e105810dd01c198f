"""Small HTTP servers on loopback for what the sandbox does not play: redirects, echoes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable

#: Headers that carry a credential or name the account.
CREDENTIAL_HEADERS = ("x-auth-token", "authorization", "x-domain")


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the server sends back."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=list)
    #: Bytes sent as the body instead of `body` as JSON (`headers` say what they are).
    raw: bytes | None = None
    #: Send the answer one byte every `drip` seconds, until the client hangs up.
    drip: float | None = None
    #: With `drip`: send the status line and headers at once and drip only the body.
    drip_body_only: bool = False


class LoopbackServer:
    """A threaded HTTP server on `host` that logs every request and answers with `answer(seen)`."""

    def __init__(self, host: str, answer: Callable[[Seen], Answer] | None = None) -> None:
        """Bind a free port on `host` (any 127.0.0.0/8 address is this machine on Linux)."""
        self.log: list[Seen] = []
        self.answer = answer or (lambda _seen: Answer())
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self._server = ThreadingHTTPServer((host, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))

    @property
    def origin(self) -> str:
        """`http://host:port`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def credentials_seen(self) -> list[tuple[str, str]]:
        """Every credential header any request brought (header name, value)."""
        return [
            (name, value)
            for seen in self.log
            for name, value in seen.headers.items()
            if name.lower() in CREDENTIAL_HEADERS
        ]

    def __enter__(self) -> Self:
        """Serve in a daemon thread."""
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_ref: LoopbackServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
        self.server_ref.log.append(seen)
        answer = self.server_ref.answer(seen)
        body = json.dumps(answer.body).encode() if answer.raw is None else answer.raw
        self.send_response(answer.status)
        for name, value in {"Content-Type": "application/json", **answer.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if answer.drip is None:
            self.end_headers()
            self.wfile.write(body)
            return
        head = b"".join(self._headers_buffer)  # what end_headers() would send, and its CRLF
        self._headers_buffer = []
        self._drip(head + b"\r\n", body, answer)

    def _drip(self, head: bytes, body: bytes, answer: Answer) -> None:
        if answer.drip_body_only:
            self.wfile.write(head)
            head = b""
        try:
            for byte in head + body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(answer.drip or 0)
        except OSError:
            self.close_connection = True  # the client gave up: that is the point

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, *_args: object) -> None:
        """Quiet: the test reads `log` instead."""
