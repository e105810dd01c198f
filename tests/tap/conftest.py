"""Helpers for tap tests: run a sync in-process against a sandbox and collect its messages."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
import time
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_getresponse.api import RateGovernor
from tap_getresponse.tap import TapGetResponse

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from tests.sandbox import Sandbox


def fast_governor() -> RateGovernor:
    """The documented 10 in flight, without the 80 calls/s pacing (the sandbox is local)."""
    return RateGovernor(per_second=1_000_000)


@pytest.fixture(autouse=True)
def _fast_governor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TapGetResponse, "governor", fast_governor())


def next_second() -> None:
    """Wait into the next whole second: a run leaves changes of its own first second for later."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def sandbox_config(sb: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    """Tap settings for `sb`: its URL and API key, plus `overrides`."""
    return {"api_url": sb.url, "api_key": sb.api_key, **overrides}


@dataclass
class SyncResult:
    """The Singer messages of one in-process run, sorted by kind."""

    messages: list[dict[str, t.Any]]
    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict[str, t.Any]] = field(default_factory=list)
    schemas: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Index the messages."""
        for message in self.messages:
            kind = message["type"]
            if kind == "RECORD":
                self.records[message["stream"]].append(message["record"])
            elif kind == "STATE":
                self.states.append(message["value"])
            elif kind == "SCHEMA":
                self.schemas[message["stream"]] += 1

    @property
    def state(self) -> dict[str, t.Any]:
        """The last STATE message."""
        return self.states[-1]

    def ids(self, stream: str, key: str) -> list[t.Any]:
        """`key` of every record of `stream`, in order."""
        return [record[key] for record in self.records[stream]]


def select(tap: TapGetResponse, streams: Iterable[str] | None) -> None:
    """Select only `streams` (all when None)."""
    wanted = None if streams is None else set(streams)
    for name, stream in tap.streams.items():
        stream.selected = wanted is None or name in wanted


def run_sync(
    config: dict[str, t.Any],
    *,
    streams: Iterable[str] | None = None,
    state: dict[str, t.Any] | None = None,
    limit: int | None = None,
) -> SyncResult:
    """Sync in-process; with `limit`, stop as if killed after that many RECORD messages."""
    # The SDK keeps and updates the state it is given: pass a copy, as a fresh process would.
    state = copy.deepcopy(state or {})
    tap = TapGetResponse(config=config, state=state, parse_env_config=False)
    if streams is None or any(name.startswith("report_") for name in streams):
        tap.add_account_reports()  # as a sync without a catalog does (TapGetResponse.sync_checked)
    select(tap, streams)
    out = _Stdout(limit)
    with contextlib.suppress(_Killed), contextlib.redirect_stdout(out):
        tap.sync_all()
    return SyncResult([json.loads(line) for line in out.lines])


class _Killed(Exception):  # noqa: N818 - it is a stop signal, not an error
    """Raised by the stdout stand-in to stop a sync mid-way."""


class _Stdout(io.TextIOBase):
    """Collects lines; raises _Killed once `limit` records were written (a killed process)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.records = 0
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            if not line:
                continue
            if self.limit is not None and '"type":"RECORD"' in line.replace(" ", ""):
                if self.records >= self.limit:
                    raise _Killed
                self.records += 1
            self.lines.append(line)
        return len(text)


TAP = str(Path(sys.executable).parent / "tap-getresponse")


@dataclass
class CliRun:
    """A finished `tap-getresponse` process."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> SyncResult:
        """Its Singer messages."""
        return SyncResult([json.loads(line) for line in self.stdout.splitlines() if line])


def catalog_for(config_file: Path, streams: Iterable[str]) -> dict[str, t.Any]:
    """The discovered catalog with only `streams` selected."""
    found = subprocess.run(
        [TAP, "--config", str(config_file), "--discover"],
        capture_output=True,
        text=True,
        check=True,
    )
    catalog: dict[str, t.Any] = json.loads(found.stdout)
    wanted = set(streams)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def write_json(path: Path, value: t.Any) -> Path:
    """Write `value` as JSON to `path`; return the path."""
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def run_cli(
    tmp: Path,
    config: dict[str, t.Any],
    *,
    streams: Iterable[str] | None = None,
    state: dict[str, t.Any] | None = None,
    args: Iterable[str] = (),
) -> CliRun:
    """Run the installed `tap-getresponse` (real governor) and wait for it."""
    command = [TAP, "--config", str(write_json(tmp / "config.json", config)), *args]
    if streams is not None:
        catalog = catalog_for(tmp / "config.json", streams)
        command += ["--catalog", str(write_json(tmp / "catalog.json", catalog))]
    if state is not None:
        command += ["--state", str(write_json(tmp / "state.json", state))]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    return CliRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def sync() -> t.Callable[..., SyncResult]:
    """`run_sync` as a fixture."""
    return run_sync
