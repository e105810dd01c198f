"""Helpers to run target-getresponse as users do: Singer lines on stdin of the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def singer_lines(records: list[dict], *, stream: str = "customers", state: bool = True) -> str:
    lines = [{"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": ["email"]}]
    lines += [{"type": "RECORD", "stream": stream, "record": record} for record in records]
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
    def run(sb, lines: str, **settings) -> TargetRun:
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
            input=lines,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return TargetRun(result.returncode, result.stdout, result.stderr)

    return run


def rejects(tmp_path: Path) -> list[dict]:
    path = tmp_path / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
