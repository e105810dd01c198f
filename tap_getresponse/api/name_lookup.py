"""Host name lookups with a bounded wait: `getaddrinfo` has no timeout of its own.

requests' and urllib3's timeouts start once there is a socket; the lookup before it waits as long
as the system resolver takes (a broken resolver: minutes, or for ever). Here the lookup runs in a
daemon thread and its caller waits at most the connect timeout (`transport.py`), then fails with
NameLookupTimedOutError.

A blocked `getaddrinfo` cannot be cancelled, so a lookup its caller gave up on keeps its thread
until the resolver answers. A later connection to the same host waits on that same lookup rather
than starting another: a broken resolver costs one thread per host, not one per attempt, and as
daemon threads they never hold up the end of the process.

IP literals and `localhost` skip all this (`needs_lookup`): nothing to ask a resolver.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import typing as t
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import NameResolutionError

if t.TYPE_CHECKING:
    from urllib3.connection import HTTPConnection

#: `getaddrinfo(host, port, family, type)`'s answer: (family, type, proto, canonname, sockaddr).
AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[t.Any, ...]]
#: What looks a name up: `socket.getaddrinfo`, or a stand-in in tests.
Lookup = t.Callable[[str, int, int, int], t.Sequence[AddressInfo]]
#: The wait when a connection names no connect timeout (the session always names one).
DEFAULT_LOOKUP_SECONDS = 10.0


class LookupTimedOut(TimeoutError):  # noqa: N818 - a condition the connection turns into an error
    """The resolver had not answered within the wait."""


class NameLookupTimedOutError(NameResolutionError):
    """A host name was still being looked up when the connect timeout passed.

    A NameResolutionError, so that the session treats it as a request that never left.
    """

    def __init__(self, host: str, conn: HTTPConnection, seconds: float) -> None:
        """Keep the host and the wait, for the session's one line."""
        self.host = host
        self.seconds = seconds
        reason = socket.gaierror(socket.EAI_AGAIN, f"no answer within {seconds:g} s")
        super().__init__(host, conn, reason)


def needs_lookup(host: str) -> bool:
    """Whether `host` is a name a resolver must answer (not an IP literal, not `localhost`)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return False
    try:
        ipaddress.ip_address(name.split("%", 1)[0])  # an IPv6 zone (`%eth0`) is no name
    except ValueError:
        return True
    return False


def lookup_timed_out(error: BaseException) -> NameLookupTimedOutError | None:
    """The NameLookupTimedOutError inside requests' ConnectionError, if that is what it was."""
    cause = error.args[0] if isinstance(error, requests.RequestException) and error.args else None
    reason = getattr(cause, "reason", cause)
    return reason if isinstance(reason, NameLookupTimedOutError) else None


@dataclass(slots=True)
class _Pending:
    """One lookup in its thread: set `done` once `found` or `error` is there."""

    done: threading.Event = field(default_factory=threading.Event)
    found: list[AddressInfo] = field(default_factory=list)
    error: tuple[int, str] | None = None


class NameResolver:
    """Looks host names up in daemon threads; callers wait a bounded time for the answer."""

    def __init__(self, lookup: Lookup | None = None) -> None:
        """`lookup` defaults to `socket.getaddrinfo` (looked up at call time)."""
        self._lookup = lookup
        self._lock = threading.Lock()
        self._running: dict[tuple[str, int, int], _Pending] = {}

    def addresses(self, host: str, port: int, family: int, seconds: float) -> list[AddressInfo]:
        """`getaddrinfo(host, port, family, SOCK_STREAM)`, waiting at most `seconds` for it.

        Raises socket.gaierror when the name does not resolve and LookupTimedOut when the
        resolver is still silent after `seconds`.
        """
        key = (host, port, family)
        with self._lock:
            pending = self._running.get(key)
            if pending is None:
                pending = self._running[key] = _Pending()
                worker = threading.Thread(
                    target=self._look_up,
                    args=(key, pending),
                    name=f"name-lookup-{host}",
                    daemon=True,
                )
                worker.start()
        if not pending.done.wait(seconds):
            raise LookupTimedOut(host)
        if pending.error is not None:
            # A new exception per caller: several may share one lookup.
            raise socket.gaierror(*pending.error)
        return list(pending.found)

    def _look_up(self, key: tuple[str, int, int], pending: _Pending) -> None:
        host, port, family = key
        lookup: Lookup = self._lookup or socket.getaddrinfo
        try:
            pending.found = list(lookup(host, port, family, socket.SOCK_STREAM))
            if not pending.found:
                pending.error = (socket.EAI_NONAME, "no address for the name")
        except socket.gaierror as error:
            pending.error = (error.errno or socket.EAI_FAIL, error.strerror or str(error))
        except Exception as error:  # noqa: BLE001 - a name the resolver cannot take (idna)
            pending.error = (socket.EAI_FAIL, f"{type(error).__name__}: {error}")
        finally:
            with self._lock:
                if self._running.get(key) is pending:
                    del self._running[key]
            pending.done.set()


#: The resolver of every connection but those of a test that brings its own.
SYSTEM_RESOLVER = NameResolver()
