"""Helpers to run target-getresponse as users do: Singer lines on stdin of the real CLI."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from tap_getresponse.api import GOVERNOR, EndpointLimit
from target_getresponse.target import TargetGetResponse

TARGET = str(Path(sys.executable).parent / "target-getresponse")
SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "customer_tier": {"type": ["string", "null"]},
        "lifetime_value": {"type": ["number", "string", "null"]},
        "birthday": {"type": ["string", "null"], "format": "date"},
        "interests": {"type": ["array", "null"], "items": {"type": "string"}},
        "campaign_id": {"type": ["string", "null"]},
    },
}


def singer_lines(  # noqa: PLR0913 - one switch per part of the input
    records: list[dict],
    *,
    stream: str = "customers",
    state: bool = True,
    state_every: int | None = None,
    schema: dict | None = None,
    key_properties: tuple[str, ...] = ("email",),
) -> str:
    """SCHEMA, the RECORDs, and a STATE (`done`: records before it) at the end or every n."""
    lines = [
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": schema or SCHEMA,
            "key_properties": list(key_properties),
        }
    ]
    for done, record in enumerate(records, start=1):
        lines.append({"type": "RECORD", "stream": stream, "record": record})
        if state_every and done % state_every == 0:
            lines.append({"type": "STATE", "value": {"bookmarks": {stream: {"done": done}}}})
    if state:
        lines.append({"type": "STATE", "value": {"bookmarks": {stream: {"done": len(records)}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def customer(i: int, **extra) -> dict:
    return {
        "email": f"customer{i}@shop.example.org",
        "name": f"Customer {i}",
        "tags": ["vip"] if i % 2 else ["new_customers"],
        "customer_tier": "gold" if i % 3 == 0 else "silver",
        "lifetime_value": i * 10.5,
        **extra,
    }


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def summary(self) -> dict[str, int]:
        line = next(line for line in self.stderr.splitlines() if "summary:" in line)
        pairs = line.split("summary:", 1)[1].split()
        return {key: int(value) for key, value in (pair.split("=") for pair in pairs)}


@pytest.fixture
def run_target(tmp_path):
    def run(sb, lines: str | bytes, **settings) -> TargetRun:
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": sb.data.campaigns[0]["campaignId"],
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            **settings,
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        result = subprocess.run(
            [TARGET, "--config", str(path)],
            input=lines.encode() if isinstance(lines, str) else lines,
            capture_output=True,
            timeout=300,
            check=False,
        )
        return TargetRun(result.returncode, result.stdout.decode(), result.stderr.decode())

    return run


def rejects_file(tmp_path: Path) -> list[dict]:
    """Every line of the rejects file: run markers and rejects."""
    path = tmp_path / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def rejects(tmp_path: Path) -> list[dict]:
    """The rejects of every run so far (without the run markers)."""
    return [line for line in rejects_file(tmp_path) if "run" not in line]


#: Every outcome a record can have: they add up to `received` (README, target section).
OUTCOMES = (
    "added",
    "existing",
    "updated",
    "removed",
    "triggered",
    "deletes_skipped",
    "merged",
    "rejected",
    "unreadable",
)


def adds_up(summary: dict[str, int]) -> bool:
    """Whether the summary accounts for every record received, and for nothing else."""
    return "abandoned" not in summary and summary["received"] == sum(
        summary[name] for name in OUTCOMES
    )


#: An address that is not masked to `***@domain`.
FULL_EMAIL = re.compile(r"(?<![*\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def full_emails(text: str) -> list[str]:
    """Every unmasked address in `text` (logs and rejects must have none)."""
    return FULL_EMAIL.findall(text)


class StampedOutput(io.StringIO):
    """stdout for in-process runs: what was written, and a hook that runs before each write."""

    def __init__(self) -> None:
        super().__init__()
        self.before_write: t.Callable[[str], None] | None = None

    def write(self, text: str) -> int:
        if self.before_write is not None and text.strip():
            self.before_write(text)
        return super().write(text)


@dataclass
class InProcessRun:
    target: TargetGetResponse
    stdout: str
    exit_code: int

    @property
    def states(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def summary(self) -> dict[str, int]:
        pairs = self.target.load_run.tally.summary().split()
        return {key: int(value) for key, value in (pair.split("=") for pair in pairs)}


@pytest.fixture
def governor_limits():
    """Reset the process-wide governor: fast by default, documented limits again afterwards."""

    def reset(*endpoint_limits: EndpointLimit) -> None:
        GOVERNOR.reset(
            per_second=1_000_000,
            endpoint_limits=endpoint_limits
            or (EndpointLimit("POST", "/contacts/batch", per_second=1_000),),
        )

    reset()
    yield reset
    GOVERNOR.reset()


@pytest.fixture
def run_in_process(tmp_path, governor_limits):
    """Run the target in this process (so tests can patch it); stdout is a StampedOutput."""
    del governor_limits  # requested for its reset of the governor around the test

    def run(sb, lines: str, *, stdout: StampedOutput | None = None, **settings) -> InProcessRun:
        config = {
            "api_url": sb.url,
            "api_key": sb.api_key,
            "campaign_id": sb.data.campaigns[0]["campaignId"],
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            **settings,
        }
        target = TargetGetResponse(config=config)
        out = stdout or StampedOutput()
        exit_code = 0
        with contextlib.redirect_stdout(out):
            try:
                target.listen(io.StringIO(lines))
            except SystemExit as exit_:
                exit_code = int(exit_.code or 0)
        return InProcessRun(target, out.getvalue(), exit_code)

    return run
