"""The wire under GetResponseSession: one total deadline per request and a cap on answer size.

requests' `timeout` bounds each socket operation, not the request: a server that sends a byte
every few seconds keeps a request alive for ever. Here every read of a response, status line,
headers and body alike, first checks the request's deadline and shortens the socket's timeout to
what is left of it, so `request_timeout` bounds the whole answer. The deadline is set per
thread around one request (`deadline`), because a connection is used by one thread at a time.

Bodies are read here too, as they arrive and decoded (gzip included), and a body larger than
the cap is refused as soon as it passes it: a small compressed answer cannot fill the memory.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
import typing as t
from contextlib import contextmanager

from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

if t.TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    import requests
    from _typeshed import WriteableBuffer
    from urllib3.poolmanager import PoolManager

#: Bytes read from the socket per step of a body (decoded steps are at most this long too).
CHUNK_BYTES = 64 * 1024

_CURRENT = threading.local()


class DeadlinePassedError(TimeoutError):
    """A response was still incomplete when its request's deadline passed."""


class ResponseTooLarge(Exception):  # noqa: N818 - a condition the session turns into an error
    """A response body passed the size cap; `size` is how much had been read by then."""

    def __init__(self, size: int) -> None:
        """Keep how many decoded bytes had arrived."""
        self.size = size
        super().__init__(f"more than {size} bytes")


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every response this thread reads inside the block must be complete within `seconds`."""
    previous = getattr(_CURRENT, "deadline", None)
    _CURRENT.deadline = until = time.monotonic() + seconds
    try:
        yield until
    finally:
        _CURRENT.deadline = previous


def read_whole(response: requests.Response, limit: int, until: float) -> None:
    """Read the body now (decoded) and keep it as `response.content`; at most `limit` bytes.

    Raises ResponseTooLarge once the body passes `limit` and DeadlinePassedError once `until`
    has passed (the socket reads check it too: this covers answers that do not come from one).
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            response.close()
            raise ResponseTooLarge(size)
        if time.monotonic() > until:
            response.close()
            raise DeadlinePassedError
        chunks.append(chunk)
    # requests keeps a read body here; `content`, `text` and `json()` all read it from there.
    response._content = b"".join(chunks)  # noqa: SLF001


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side whose every read ends by the request's deadline."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._until = until
        self._timeout = sock.gettimeout()

    @override
    def readable(self) -> bool:
        return True

    @override
    def fileno(self) -> int:
        return self._raw.fileno()

    @override
    def readinto(self, buffer: WriteableBuffer) -> int | None:
        left = self._until - time.monotonic()
        if left <= 0:
            raise DeadlinePassedError
        if self._timeout is None or left < self._timeout:
            self._timeout = left
            self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    @override
    def close(self) -> None:
        self._raw.close()
        super().close()


class _SocketView:
    """All http.client.HTTPResponse asks of a socket: `makefile`, here under a deadline."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        self._sock = sock
        self._until = until

    def makefile(self, _mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._until))


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading its socket under the deadline of this thread's request."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        until: float | None = getattr(_CURRENT, "deadline", None)
        view = sock if until is None else _SocketView(sock, until)
        super().__init__(view, debuglevel, method, url)  # type: ignore[arg-type]


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections whose responses honour the thread's deadline."""

    @override
    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    @override
    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # An HTTP(S) proxy uses the plain pools; a SOCKS proxy keeps its own (no deadline there
        # but the session's check between body chunks).
        if type(manager) is ProxyManager:
            manager.pool_classes_by_scheme = _POOLS
        return manager
