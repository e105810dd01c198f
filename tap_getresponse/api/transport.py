"""The wire under GetResponseSession: one total deadline per request and a cap on answer size.

requests' `timeout` bounds each socket operation, not the request: a server that sends a byte
every few seconds keeps a request alive for ever. Here every read of a response, status line,
headers and body alike, first checks the request's deadline and shortens the socket's timeout to
what is left of it, so `request_timeout` bounds the whole answer. The deadline is set per
thread around one request (`deadline`), because a connection is used by one thread at a time.

Bodies are read here too, as they arrive and decoded (gzip included), and a body larger than
the cap is refused as soon as it passes it: a small compressed answer cannot fill the memory.

Host names are looked up with a bounded wait too (`name_lookup.py`): the connect timeout covers
the lookup, which urllib3 leaves to a `getaddrinfo` that may never return. The connection then
opens to the address found, while the Host header, TLS SNI and the certificate check keep the
name from `api_url` (urllib3 uses `conn.host` for those, the address only for the socket).
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import sys
import threading
import time
import typing as t
from contextlib import contextmanager

from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from typing_extensions import override
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import ProxyManager
from urllib3.util.connection import allowed_gai_family, create_connection

from tap_getresponse.api.name_lookup import (
    DEFAULT_LOOKUP_SECONDS,
    SYSTEM_RESOLVER,
    LookupTimedOut,
    NameLookupTimedOutError,
    NameResolver,
    needs_lookup,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import requests
    from _typeshed import WriteableBuffer
    from urllib3.poolmanager import PoolManager

    from tap_getresponse.api.name_lookup import AddressInfo

#: Bytes read from the socket per step of a body (decoded steps are at most this long too): a
#: page of 1,000 contacts (500 KB) in one step. In 64 KB steps each took the interpreter lock back
#: from the thread emitting records, and the next request left 19 ms after an answer, not 10.
CHUNK_BYTES = 1024 * 1024

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


class _ResolvingConnection(HTTPConnection):
    """urllib3's connection, its host name looked up by `resolver` with a bounded wait.

    Replaces urllib3's `_new_conn`, whose `create_connection` calls `getaddrinfo` unbounded; the
    errors raised are urllib3's own (NameResolutionError, ConnectTimeoutError,
    NewConnectionError), so the session tells them apart as before.
    """

    resolver: t.ClassVar[NameResolver] = SYSTEM_RESOLVER

    @override
    def _new_conn(self) -> socket.socket:
        if not needs_lookup(self._dns_host):
            return super()._new_conn()
        timeout = self.timeout
        seconds = DEFAULT_LOOKUP_SECONDS
        if isinstance(timeout, int | float) and timeout > 0:  # None or a sentinel: no bound named
            seconds = float(timeout)
        try:
            found = self.resolver.addresses(
                self._dns_host, self.port, allowed_gai_family(), seconds
            )
        except LookupTimedOut:
            raise NameLookupTimedOutError(self.host, self, seconds) from None
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        return self._connect_to(found)

    def _connect_to(self, found: Sequence[AddressInfo]) -> socket.socket:
        """The first address that accepts, tried in the resolver's order as urllib3 does."""
        failure: OSError | None = None
        for _family, _kind, _proto, _name, address in found:
            try:
                sock = create_connection(
                    (address[0], self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as error:
                failure = error
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from failure
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {failure}"
        ) from failure


class _HTTPConnection(_ResolvingConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection, _ResolvingConnection):
    """HTTPS: its `connect` opens the socket through `_ResolvingConnection._new_conn`."""

    response_class = _DeadlineResponse


@functools.cache
def pool_classes(resolver: NameResolver) -> dict[str, type[HTTPConnectionPool]]:
    """The pools, by scheme, whose connections look names up through `resolver`."""
    http_connection: type[HTTPConnection] = _HTTPConnection
    https_connection: type[HTTPConnection] = _HTTPSConnection
    if resolver is not SYSTEM_RESOLVER:
        attributes = {"resolver": resolver}
        http_connection = type("_HTTPConnection", (_HTTPConnection,), attributes)
        https_connection = type("_HTTPSConnection", (_HTTPSConnection,), attributes)
    http_pool = type("_HTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection})
    https_pool = type("_HTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection})
    return {"http": http_pool, "https": https_pool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections whose responses honour the thread's deadline.

    Their host names are looked up through `resolver` (the system's, waited for a bounded time).
    """

    def __init__(
        self,
        *,
        pool_connections: int = DEFAULT_POOLSIZE,
        pool_maxsize: int = DEFAULT_POOLSIZE,
        resolver: NameResolver = SYSTEM_RESOLVER,
    ) -> None:
        """HTTPAdapter's pool sizes, and the resolver of its connections."""
        self._pools = pool_classes(resolver)
        super().__init__(pool_connections=pool_connections, pool_maxsize=pool_maxsize)

    @override
    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools

    @override
    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # An HTTP(S) proxy uses the plain pools; a SOCKS proxy keeps its own (no deadline there
        # but the session's check between body chunks, and the system's unbounded lookup).
        if type(manager) is ProxyManager:
            manager.pool_classes_by_scheme = self._pools
        return manager
