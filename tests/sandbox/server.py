"""The HTTP side of the sandbox: Sandbox, limits (§5.3), auth (§1.3-§1.5), faults, request log."""
# ruff: noqa: EM101, TRY003, TRY301 - messages here are API error bodies (§5.1), not exception text

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import json
import math
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import msgspec

from tests.sandbox import errors, reports, routes
from tests.sandbox.downloads import DownloadServer
from tests.sandbox.errors import ApiError
from tests.sandbox.listing import ListQuery
from tests.sandbox.response import Response
from tests.sandbox.store import DataStore, Scale

API_PREFIX = "/v3"


@dataclass
class Limits:
    """Rate limits (§5.3); defaults are the documented ones."""

    frame_seconds: float = 600.0
    frame_calls: int = 30_000
    per_second: int = 80
    batch_per_second: int = 1  # §5.3: POST /contacts/batch 1 call/s
    batch_per_frame: int = 80  # §5.3: POST /contacts/batch 80 calls per frame
    max_concurrent: int = 10  # §5.3: up to 10 simultaneous requests
    reject_over_concurrency: bool = True  # answer 429 to the 11th simultaneous request
    # X-RateLimit-Reset is whole seconds; which way it is rounded is not documented: "up" or "down"
    reset_rounding: str = "up"


@dataclass
class OAuthApp:
    """A registered OAuth application (§1.4) and its current refresh token."""

    client_id: str = "cid"
    client_secret: str = "csecret"
    refresh_token: str = "rt-1"
    access_token_ttl: int = 3600
    rotate_refresh_token: bool = False
    access_token: str | None = None  # a pre-issued, valid access token (optional)


@dataclass
class LoggedRequest:
    """One request as the sandbox saw it.

    `path` is relative to `Sandbox.url` (so `/contacts`, not `/v3/contacts`); `raw_path` is the
    full request path. `query` maps each decoded parameter name to its (last) value. `status` is
    None until answered (and stays None for dropped connections, with `dropped` True).
    """

    method: str
    path: str
    query: dict[str, str]
    auth_kind: str | None
    x_domain: str | None
    in_flight: int
    status: int | None = None
    body: Any = None
    raw_path: str = ""
    started: float = 0.0
    finished: float | None = None
    dropped: bool = False
    user_agent: str | None = None
    content_type: str | None = None


@dataclass
class Answer:
    """What `Faults.answer_next` puts in place of a route's answer (None: the route's own)."""

    body: Any = None
    raw: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] | None = None

    def apply(self, response: Response) -> Response:
        """The route's `response` with this answer's body, raw bytes and headers over it."""
        if self.raw is not None:
            response = Response(response.status, raw=self.raw, content_type=self.content_type)
        elif self.body is not None:
            response = Response(response.status, self.body, dict(response.headers))
        response.headers.update(self.headers or {})
        return response


@dataclass
class _Fault:
    kind: str
    status: int
    path: str | None
    remaining: int
    answer: Answer | None = None


class Faults:
    """Injected failures, consumed in order by matching requests."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def fail_next(self, n: int = 1, status: int = 500, path: str | None = None) -> None:
        """Answer the next `n` matching requests with `status` (path: exact or a glob)."""
        with self._lock:
            self._faults.append(_Fault("fail", status, path, n))

    def drop_next(self, n: int = 1, path: str | None = None) -> None:
        """Close the socket of the next `n` matching requests without answering."""
        with self._lock:
            self._faults.append(_Fault("drop", 0, path, n))

    def answer_next(
        self, n: int = 1, path: str | None = None, answer: Answer | None = None
    ) -> None:
        """Answer the next `n` matching requests the route's way, but with `answer` over it."""
        with self._lock:
            self._faults.append(_Fault("answer", 200, path, n, answer or Answer()))

    def fail_after_apply_next(self, n: int = 1, path: str | None = None) -> None:
        """Apply the next `n` matching POSTs, then answer 500."""
        with self._lock:
            self._faults.append(_Fault("after", 500, path, n))

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()

    def take(self, kind: str, method: str, path: str) -> _Fault | None:
        """Consume one matching fault of `kind`, if any (paths with or without `/v3`)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != kind or fault.remaining <= 0:
                    continue
                if kind == "after" and method != "POST":
                    continue
                wanted = fault.path
                if wanted is not None and wanted.startswith(API_PREFIX + "/"):
                    wanted = wanted[len(API_PREFIX) :]
                if wanted is not None and not (path == wanted or fnmatch.fnmatchcase(path, wanted)):
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None


class _RateLimiter:
    """Frame, per-second and batch limits (§5.3)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.lock = threading.Lock()
        self.frame_start: float | None = None
        self.frame_used = 0
        self.batch_used = 0
        self.recent: deque[float] = deque()
        self.batch_recent: deque[float] = deque()

    def _roll(self, moment: float) -> None:
        if self.frame_start is None or moment - self.frame_start >= self.limits.frame_seconds:
            self.frame_start = moment
            self.frame_used = 0
            self.batch_used = 0

    def _reset_in(self, moment: float) -> int:
        start = self.frame_start if self.frame_start is not None else moment
        rounded = math.floor if self.limits.reset_rounding == "down" else math.ceil
        return max(0, rounded(start + self.limits.frame_seconds - moment))

    def headers(self) -> dict[str, str]:
        """Return the X-RateLimit-* headers for the current frame (§5.3)."""
        with self.lock:
            moment = time.monotonic()
            self._roll(moment)
            return {
                "X-RateLimit-Limit": str(self.limits.frame_calls),
                "X-RateLimit-Remaining": str(max(0, self.limits.frame_calls - self.frame_used)),
                "X-RateLimit-Reset": f"{self._reset_in(moment)} seconds",
            }

    def admit(self, *, batch: bool, moment: float | None = None) -> None:
        """Count one call arriving at `moment` or raise the 429 the API would answer (§5.3)."""
        lim = self.limits
        with self.lock:
            # Limits are judged at arrival, as a gateway would: reading and parsing a large body
            # must not shift a request into another one-second window.
            moment = time.monotonic() if moment is None else moment
            self._roll(moment)
            while self.recent and moment - self.recent[0] >= 1.0:
                self.recent.popleft()
            while self.batch_recent and moment - self.batch_recent[0] >= 1.0:
                self.batch_recent.popleft()
            reset = self._reset_in(moment)
            if self.frame_used >= lim.frame_calls:
                raise self._too_many(lim.frame_calls, reset, per_second=False)
            if len(self.recent) >= lim.per_second:
                # §5.3 (SK-N-G live observation): per-second 429s describe the 1-second window
                # in X-RateLimit-* and carry Retry-After: 1. A sliding 1-second window is used.
                raise self._too_many(lim.per_second, 1, per_second=True)
            if batch:
                if self.batch_used >= lim.batch_per_frame:
                    raise self._too_many(lim.batch_per_frame, reset, per_second=False)
                if len(self.batch_recent) >= lim.batch_per_second:
                    raise self._too_many(lim.batch_per_second, 1, per_second=True)
                self.batch_used += 1
                self.batch_recent.append(moment)
            self.frame_used += 1
            self.recent.append(moment)

    def _too_many(self, limit: int, reset: int, *, per_second: bool) -> ApiError:
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{reset} seconds",
        }
        if per_second:
            headers["Retry-After"] = str(max(1, reset))
        return ApiError(
            429,
            1015,
            context={"currentLimit": limit, "timeToReset": f"{reset} seconds"},
            headers=headers,
        )


class Sandbox:
    """A local GetResponse API v3 emulator on 127.0.0.1 (random port unless `port` is given)."""

    def __init__(  # noqa: PLR0913 - every knob is a documented part of the Sandbox API
        self,
        scale: Scale | None = None,
        seed: int = 1,
        api_key: str = "sandbox-api-key",
        *,
        domain: str | None = None,
        oauth: OAuthApp | None = None,
        limits: Limits | None = None,
        latency: float = 0.0,
        async_delay: float = 0.0,
        import_delay: float = 0.2,
        sms_enabled: bool = False,
        transactional_enabled: bool = False,
        port: int = 0,
    ) -> None:
        """Build the data (seeded, deterministic); the server starts with start() or `with`."""
        self.scale = scale or Scale()
        self.seed = seed
        self.api_key = api_key
        self.domain = domain
        self.oauth = oauth or OAuthApp()
        self.limits = limits or Limits()
        self.latency = latency
        self.async_delay = async_delay
        self.import_delay = import_delay
        # §3.17: SMS is MAX + add-on; off by default (answers 403 / 1023 then).
        self.sms_enabled = sms_enabled
        # Transactional emails are MAX + add-on as well (tests/sandbox/transactional.py).
        self.transactional_enabled = transactional_enabled
        # §4.1: rejected after 202. Rule picked here: these domains are refused silently (an
        # example.com rule would break tests that use example.com addresses).
        self.refused_domains: set[str] = {"invalid.test", "refused.test"}
        self.port = port
        self.data = DataStore(self.scale, seed, max_mode=domain is not None)
        #: The second host, serving custom report files (downloads.py).
        self.downloads = DownloadServer(lambda file_id: reports.file_content(self.data, file_id))
        self.faults = Faults()
        self.on_request: Callable[[LoggedRequest], None] | None = None
        self.log: list[LoggedRequest] = []
        self.max_in_flight_seen = 0
        self.concurrency_violations = 0
        self._in_flight = 0
        self._state = threading.Lock()
        self._limiter = _RateLimiter(self.limits)
        self._tokens: dict[str, float] = {}  # access token -> expiry (epoch)
        self._refresh_tokens: set[str] = {self.oauth.refresh_token}
        if self.oauth.access_token:
            self._tokens[self.oauth.access_token] = time.time() + self.oauth.access_token_ttl
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ticking = threading.Event()

    # ---- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Return the base URL, e.g. `http://127.0.0.1:PORT/v3`."""
        if self._server is None:
            msg = "sandbox not started"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._server.server_address[1]}{API_PREFIX}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread."""
        handler = type("BoundHandler", (_Handler,), {"sandbox": self})
        server = _Server(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="sandbox", daemon=True
        )
        self._thread.start()
        self.downloads.start()
        self._ticking.clear()
        ticker = threading.Thread(target=self._tick, name="sandbox-queue", daemon=True)
        ticker.start()
        return self

    def _tick(self) -> None:
        """Apply queued writes when due, even if no request arrives (§4.1 async processing)."""
        while not self._ticking.wait(0.02):
            self.data.process_due()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._ticking.set()
        self.downloads.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        """Start on entering a `with` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    # ---- test helpers ---------------------------------------------------------------------
    def clear_log(self) -> None:
        """Forget the request log (and the in-flight high-water mark)."""
        with self._state:
            self.log.clear()
            self.max_in_flight_seen = 0
            self.concurrency_violations = 0

    def issue_access_token(self, ttl: float | None = None) -> str:
        """Return a new valid OAuth access token (§1.4)."""
        token = secrets.token_hex(16)
        with self._state:
            self._tokens[token] = time.time() + (
                ttl if ttl is not None else self.oauth.access_token_ttl
            )
        return token

    def expire_access_tokens(self) -> None:
        """Expire every issued access token (they then answer 401 / 1014 'expired')."""
        with self._state:
            for token in self._tokens:
                self._tokens[token] = 0.0

    @property
    def refresh_token(self) -> str:
        """Return the currently valid refresh token (changes after a rotating refresh)."""
        with self._state:
            return self.oauth.refresh_token

    # ---- request processing (called by the handler) ---------------------------------------
    def _arrive(self) -> int:
        with self._state:
            self._in_flight += 1
            self.max_in_flight_seen = max(self.max_in_flight_seen, self._in_flight)
            if self._in_flight > self.limits.max_concurrent:
                self.concurrency_violations += 1
            return self._in_flight

    def _leave(self) -> None:
        with self._state:
            self._in_flight -= 1

    def _record(self, entry: LoggedRequest) -> None:
        with self._state:
            self.log.append(entry)

    def _check_domain(self, x_domain: str | None) -> None:
        if self.domain is None:
            return
        if x_domain != self.domain:
            # §1.5: MAX needs X-Domain on every call, token requests included (§1.4). The error
            # is not documented; 401 / 1014 is the closest documented code (§5.2: "problem during
            # authentication ... check headers", missing header).
            raise errors.auth_failed(
                "X-Domain header is missing or does not match the account's domain",
                authenticationType="auth_token",
                header="X-Domain",
            )

    def _authenticate(self, headers: Any) -> None:
        api = headers.get("X-Auth-Token")
        bearer = headers.get("Authorization")
        if api is not None:
            if api == f"api-key {self.api_key}":  # §1.3
                return
            raise errors.auth_failed()
        if bearer is not None and bearer[:7].lower() == "bearer ":
            token = bearer[7:].strip()
            with self._state:
                expiry = self._tokens.get(token)
            if expiry is None:
                raise errors.auth_failed()
            if expiry <= time.time():
                # §1.4: the one documented case that echoes the token (context.sentToken).
                raise errors.auth_failed("The access token provided is expired", sentToken=token)
            return
        raise errors.auth_failed()

    def _token_endpoint(self, headers: Any, raw_body: bytes) -> Response:
        """POST /v3/token (§1.4): Basic client auth; refresh_token and client_credentials grants."""
        auth = headers.get("Authorization") or ""
        client_ok = False
        if auth[:6].lower() == "basic ":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                pair = base64.b64decode(auth[6:].strip()).decode()
                client_ok = pair == f"{self.oauth.client_id}:{self.oauth.client_secret}"
        if not client_ok:
            raise errors.auth_failed(authenticationType="oauth_client")
        text = raw_body.decode("utf-8", "replace")
        form = dict(parse_qsl(text, keep_blank_values=True))
        if not form and text.strip().startswith("{"):
            with contextlib.suppress(ValueError):
                form = {k: str(v) for k, v in json.loads(text).items()}
        grant = form.get("grant_type")
        ttl = self.oauth.access_token_ttl
        if grant == "client_credentials":
            token = self.issue_access_token(ttl)
            return Response(
                200,
                {"access_token": token, "expires_in": ttl, "token_type": "Bearer", "scope": None},
            )
        if grant != "refresh_token":
            err = errors.validation("Unsupported grant type", error="unsupported_grant_type")
            raise err
        sent = form.get("refresh_token", "")
        with self._state:
            if sent not in self._refresh_tokens:
                raise errors.validation("Invalid refresh token", error="invalid_grant")
            new_refresh = sent
            if self.oauth.rotate_refresh_token:
                # Rotation is UNCONFIRMED (§1.4); when on, the old refresh token stops working.
                new_refresh = f"rt-{secrets.token_hex(8)}"
                self._refresh_tokens.discard(sent)
                self._refresh_tokens.add(new_refresh)
                self.oauth.refresh_token = new_refresh
        token = self.issue_access_token(ttl)
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": ttl,
                "token_type": "Bearer",
                "scope": None,
                "refresh_token": new_refresh,
            },
        )


class _Server(ThreadingHTTPServer):
    """A threading server with a deep accept queue (simultaneous connects are not delayed)."""

    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox
    protocol_version = "HTTP/1.1"
    server_version = "GetResponseSandbox/1.0"
    # Headers and body leave in separate small writes; without TCP_NODELAY, Nagle plus delayed
    # ACKs add ~40 ms to every small answer and the sandbox, not the client, sets the pace.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet (the request log is the record)."""

    def do_GET(self) -> None:
        """Serve GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Serve POST."""
        self._handle("POST")

    def do_DELETE(self) -> None:
        """Serve DELETE."""
        self._handle("DELETE")

    def do_PUT(self) -> None:
        """PUT is not part of API v3 (§1.2)."""
        self._handle("PUT")

    def do_PATCH(self) -> None:
        """PATCH is not part of API v3 (§1.2)."""
        self._handle("PATCH")

    def _handle(self, method: str) -> None:  # noqa: C901, PLR0912, PLR0915 - one linear pipeline
        sb = self.sandbox
        in_flight = sb._arrive()  # noqa: SLF001
        started = time.monotonic()
        left = False
        try:
            parts = urlsplit(self.path)
            raw_path = parts.path
            rel = raw_path[len(API_PREFIX) :] if raw_path.startswith(API_PREFIX + "/") else raw_path
            rel = rel.rstrip("/") or "/"
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length > 0 else b""
            body: Any = None
            body_error = False
            if raw_body:
                ctype = (self.headers.get("Content-Type") or "").lower()
                if "json" in ctype or raw_body[:1] in {b"{", b"["}:
                    try:
                        body = json.loads(raw_body)
                    except ValueError:
                        body_error = True
                        body = raw_body.decode("utf-8", "replace")
                else:
                    body = dict(parse_qsl(raw_body.decode("utf-8", "replace")))
            auth_kind = _auth_kind(self.headers)
            entry = LoggedRequest(
                method=method,
                path=rel,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                auth_kind=auth_kind,
                x_domain=self.headers.get("X-Domain"),
                in_flight=in_flight,
                body=body,
                raw_path=raw_path,
                started=started,
                user_agent=self.headers.get("User-Agent"),
                content_type=self.headers.get("Content-Type"),
            )
            # Redact client secrets of token requests from the log body.
            if rel == "/token" and isinstance(body, dict) and "refresh_token" in body:
                entry.body = {**body, "refresh_token": "***"}
            sb._record(entry)  # noqa: SLF001
            if sb.latency > 0:
                time.sleep(sb.latency)
            if sb.faults.take("drop", method, rel) is not None:
                entry.dropped = True
                entry.finished = time.monotonic()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            extra: dict[str, str] = {}
            try:
                if sb.on_request is not None:
                    sb.on_request(entry)
                sb.data.process_due()
                if not raw_path.startswith(API_PREFIX + "/") and raw_path != API_PREFIX:
                    raise errors.not_found(path=raw_path)
                if in_flight > sb.limits.max_concurrent and sb.limits.reject_over_concurrency:
                    # §5.3: up to 10 simultaneous requests; the signal for more is UNCONFIRMED.
                    raise ApiError(
                        429,
                        1015,
                        message="Too many simultaneous requests",
                        context={
                            "currentLimit": sb.limits.max_concurrent,
                            "timeToReset": "1 seconds",
                        },
                        headers={"Retry-After": "1"},
                    )
                sb._check_domain(entry.x_domain)  # noqa: SLF001
                if rel == "/token" and method == "POST":
                    sb._limiter.admit(batch=False, moment=started)  # noqa: SLF001
                    response = sb._token_endpoint(self.headers, raw_body)  # noqa: SLF001
                else:
                    sb._authenticate(self.headers)  # noqa: SLF001
                    sb._limiter.admit(  # noqa: SLF001
                        batch=(method == "POST" and rel == "/contacts/batch"), moment=started
                    )
                    fault = sb.faults.take("fail", method, rel)
                    if fault is not None:
                        code = errors.STATUS_CODE.get(fault.status, 1)
                        raise ApiError(fault.status, code, message="Injected fault")
                    if body_error:
                        raise errors.validation("Malformed JSON body", validationType="body")
                    query = ListQuery.parse(parts.query)
                    response = routes.dispatch(sb, method, rel, query, body)
                    answer = sb.faults.take("answer", method, rel)
                    if answer is not None and answer.answer is not None:
                        response = answer.answer.apply(response)
                    if method == "POST" and sb.faults.take("after", method, rel) is not None:
                        raise ApiError(
                            500, 1, message="Injected fault after the change was applied"
                        )
            except ApiError as err:
                response = Response(err.http_status, err.body())
                extra = err.headers
            except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer §5.1
                response = Response(500, ApiError(500, 1, message=f"Sandbox error: {exc!r}").body())
            headers = sb._limiter.headers()  # noqa: SLF001
            headers.update(response.headers)
            headers.update(extra)
            # Book the answer before writing it: once the client has read it, it may send the next
            # request, which must not find this one still counted as in flight.
            entry.status = response.status
            entry.finished = time.monotonic()
            sb._leave()  # noqa: SLF001
            left = True
            self._send(response, headers)
        finally:
            if not left:
                sb._leave()  # noqa: SLF001

    def _send(self, response: Response, headers: dict[str, str]) -> None:
        payload = b""
        if response.body is not None:
            payload = _encode(response.body)
        content_type = "application/json" if response.body is not None else None
        if response.raw is not None:
            payload, content_type = response.raw, response.content_type
        try:
            self.send_response(response.status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _encode(body: Any) -> bytes:
    """Compact JSON, UTF-8 unescaped, as json.dumps wrote it: msgspec is ten times faster on a
    page of 1,000 contacts, which held up ten requests in flight in the benchmarks. (A float
    that is not finite becomes null, not json's invalid `NaN`: hostile bodies are sent raw.)"""
    try:
        return msgspec.json.encode(body)
    except TypeError:  # keys json turns into strings (None, floats...)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _auth_kind(headers: Any) -> str | None:
    if headers.get("X-Auth-Token") is not None:
        return "api-key"
    auth = (headers.get("Authorization") or "").lower()
    if auth.startswith("bearer"):
        return "bearer"
    if auth.startswith("basic"):
        return "basic"
    return None
