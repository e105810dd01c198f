"""Host name lookups are bounded by the connect timeout (`name_lookup.py`, `transport.py`).

A resolver that never answers is played by a stand-in `getaddrinfo` blocked on an Event: the
request must fail with its one line while the stand-in is still blocked. No real DNS is asked.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from tap_getresponse.api import GetResponseClient, HostUnreachableError, RateGovernor
from tap_getresponse.api.name_lookup import NameResolver, needs_lookup
from tap_getresponse.api.transport import DeadlineAdapter
from tests.api.loopback import LoopbackServer
from tests.api.test_waits import HANG_GUARD_SECONDS, outcome_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from tap_getresponse.api.name_lookup import AddressInfo

KEY = "lookup-test-key-1234"
BLOCKED = "api.blocked-resolver.test"


class StuckResolver:
    """A `getaddrinfo` that blocks until released: a resolver that never answers."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.release = threading.Event()
        self.returned = threading.Event()

    def __call__(self, host: str, _port: int, _family: int, _kind: int) -> Sequence[AddressInfo]:
        self.asked.append(host)
        try:
            self.release.wait(HANG_GUARD_SECONDS)
        finally:
            self.returned.set()
        raise socket.gaierror(socket.EAI_AGAIN, "released by the test")


def client_through(
    origin: str, resolver: NameResolver, retry_seconds: float = 0.0, **config: Any
) -> GetResponseClient:
    """A client of `origin` whose connections look names up through `resolver`."""
    settings = {"api_url": f"{origin}/v3", "api_key": KEY, **config}
    client = GetResponseClient(settings, governor=RateGovernor(), max_retry_seconds=retry_seconds)
    client.session.sleep = lambda _seconds: None
    adapter = DeadlineAdapter(resolver=resolver)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    return client


def test_a_resolver_that_never_answers_ends_the_request_in_one_line() -> None:
    stuck = StuckResolver()
    client = client_through(f"https://{BLOCKED}", NameResolver(stuck), request_timeout=1)
    try:
        error = outcome_of(lambda: client.request("GET", "/accounts"))
        still_blocked = not stuck.returned.is_set()
    finally:
        stuck.release.set()
    assert still_blocked  # the wait ended, not the lookup
    assert isinstance(error, HostUnreachableError)
    line = str(error)
    assert line.startswith(
        f"GET /accounts: could not connect to https://{BLOCKED}: "
        f"the host name {BLOCKED} did not resolve within 1 s ("
    )
    assert line.endswith("; check `api_url` and the network")
    assert "\n" not in line
    assert KEY not in line
    assert stuck.asked == [BLOCKED]


def test_attempts_after_a_stuck_lookup_wait_on_it_instead_of_starting_more() -> None:
    stuck = StuckResolver()
    client = client_through(
        f"http://{BLOCKED}", NameResolver(stuck), retry_seconds=3, request_timeout=1
    )
    try:
        error = outcome_of(lambda: client.request("GET", "/accounts"))
        still_blocked = not stuck.returned.is_set()
    finally:
        stuck.release.set()
    assert still_blocked
    assert isinstance(error, HostUnreachableError)
    assert client.governor.stats.calls >= 2  # retried within the connect budget...
    assert stuck.asked == [BLOCKED]  # ...on the one lookup still running: one thread per host


def test_a_name_connects_to_its_address_and_the_request_keeps_the_name() -> None:
    with LoopbackServer("127.0.0.1") as server:
        port = int(server.origin.rsplit(":", 1)[1])
        asked: list[str] = []

        def loopback(host: str, port: int, _family: int, _kind: int) -> list[AddressInfo]:
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        name = "api.named-loopback.test"
        client = client_through(f"http://{name}:{port}", NameResolver(loopback))
        assert client.request("GET", "/accounts").status_code == 200
    assert asked == [name]
    assert server.log[0].headers["Host"] == f"{name}:{port}"


@contextlib.contextmanager
def tls_server(certificate: Path, key: Path, names_seen: list[str | None]) -> Iterator[int]:
    """A TLS server on 127.0.0.1 answering `[]` once; it notes the SNI name each client sends."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    context.sni_callback = lambda _sock, name, _context: names_seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _address = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(HANG_GUARD_SECONDS)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += tls.recv(4096)
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
                )

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        worker.join(HANG_GUARD_SECONDS)


def test_tls_checks_the_certificate_and_sends_sni_for_the_name_not_the_address(
    tmp_path: Path,
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    name = "api.tls-named.test"
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(certificate),
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    names_seen: list[str | None] = []
    with tls_server(certificate, key, names_seen) as port:

        def loopback(_host: str, _port: int, _family: int, _kind: int) -> list[AddressInfo]:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        client = client_through(f"https://{name}:{port}", NameResolver(loopback))
        client.session.verify = str(certificate)  # trusted for the name only: no IP in it
        assert client.request("GET", "/accounts").status_code == 200
    assert names_seen == [name]


def test_a_refusal_from_the_resolver_is_a_name_that_does_not_resolve() -> None:
    def no_such_name(host: str, _port: int, _family: int, _kind: int) -> list[AddressInfo]:
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: Name or service not known")

    client = client_through(f"https://{BLOCKED}", NameResolver(no_such_name))
    error = outcome_of(lambda: client.request("GET", "/accounts"))
    assert isinstance(error, HostUnreachableError)
    assert str(error).startswith(
        f"GET /accounts: could not connect to https://{BLOCKED}: the host name does not resolve ("
    )


def test_loopback_and_ip_hosts_are_never_handed_to_the_resolver() -> None:
    asked: list[str] = []

    def refuse(host: str, _port: int, _family: int, _kind: int) -> list[AddressInfo]:
        asked.append(host)
        raise socket.gaierror(socket.EAI_FAIL, "not expected")

    with LoopbackServer("127.0.0.1") as server:
        port = server.origin.rsplit(":", 1)[1]
        for origin in (server.origin, f"http://localhost:{port}"):
            client = client_through(origin, NameResolver(refuse))
            assert client.request("GET", "/accounts").status_code == 200
    assert asked == []
    assert not any(map(needs_lookup, ("127.0.0.1", "[::1]", "::1", "LOCALHOST", "localhost.")))
    assert needs_lookup("api.getresponse.com")


# ---- the command line ----------------------------------------------------------------------------

#: Runs a plugin's CLI with the system's getaddrinfo stuck for one host name.
STUCK_RESOLVER_RUNNER = """
import socket, sys, threading
system_lookup = socket.getaddrinfo
def lookup(host, *args, **kwargs):
    if host == {host!r}:
        threading.Event().wait(3600)
    return system_lookup(host, *args, **kwargs)
socket.getaddrinfo = lookup
from {module} import {plugin}
sys.argv = [{name!r}, "--config", {config!r}]
{plugin}.cli()
"""


def test_both_plugins_end_in_one_line_when_the_resolver_never_answers(tmp_path: Path) -> None:
    tap_config = {"api_url": f"https://{BLOCKED}/v3", "api_key": KEY, "request_timeout": 1}
    target_config = {**tap_config, "campaign_id": "xyz", "rejects_file": str(tmp_path / "r")}
    plugins = {
        "tap": ("tap_getresponse.tap", "TapGetResponse", tap_config),
        "target": ("target_getresponse.target", "TargetGetResponse", target_config),
    }
    records = [
        {"type": "SCHEMA", "stream": "customers", "key_properties": ["email"],
         "schema": {"type": "object", "properties": {"email": {"type": "string"}}}},
        {"type": "RECORD", "stream": "customers", "record": {"email": "a@example.org"}},
    ]  # fmt: skip
    runs = {}
    for name, (module, plugin, config) in plugins.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(config))
        script = STUCK_RESOLVER_RUNNER.format(
            host=BLOCKED, module=module, plugin=plugin, name=f"{name}-getresponse", config=str(path)
        )
        runs[name] = subprocess.Popen(  # both at once: each takes the connect budget
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    lines = "\n".join(json.dumps(message) for message in records) + "\n"
    outputs = {
        name: run.communicate(lines, timeout=HANG_GUARD_SECONDS) for name, run in runs.items()
    }
    for name, (_stdout, stderr) in outputs.items():
        assert runs[name].returncode == 1, stderr
        assert "Traceback" not in stderr
        assert KEY not in stderr
        errors = [line for line in stderr.splitlines() if "| ERROR" in line]
        assert len(errors) == 1, stderr
        assert f"the host name {BLOCKED} did not resolve within 1 s (" in errors[0]
        assert "check `api_url`" in errors[0]
    assert "Sync failed: GET /" in outputs["tap"][1]
    assert "Load failed: GET /" in outputs["target"][1]
