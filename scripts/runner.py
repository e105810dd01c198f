"""Run Meltano on this repo's `meltano.yml` and read what each plugin reported from its log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Settings prefixes cleared from the environment so a developer's real credentials never leak
#: into a sandbox run (Meltano reads `<PLUGIN>_<SETTING>` variables as setting values).
PLUGIN_ENV_PREFIXES = (
    "TAP_GETRESPONSE",
    "TARGET_GETRESPONSE",
    "TAP_POSTGRES",
    "TARGET_POSTGRES",
    "MELTANO_",
    "GETRESPONSE_",
)


#: tap-getresponse streams that make one request per contact: at the API's 80 calls/s they take
#: minutes on thousands of contacts, so the demo and the pipeline tests leave them out.
PER_CONTACT_STREAMS = ("contact_details", "contact_activities")


def select_all_but(*streams: str) -> str:
    """A `<PLUGIN>__SELECT` value (JSON) selecting every stream except `streams`."""
    return json.dumps(["*.*", *(f"!{stream}.*" for stream in streams)])


def meltano_executable() -> Path:
    """The `meltano` installed next to the running interpreter (the project's .venv)."""
    return Path(sys.executable).with_name("meltano")


class MeltanoError(RuntimeError):
    """A Meltano command failed; the message ends with the tail of its log."""


@dataclass
class RunReport:
    """What a `meltano run` said: exit code, log file, record counts per plugin and stream."""

    returncode: int
    log_path: Path
    #: RECORD messages per plugin and stream, from each SDK plugin's `record_count` metrics:
    #: for a tap, records written to stdout; for a target, records read from stdin.
    record_counts: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def counts(self, plugin: str) -> Counter[str]:
        """Records per stream reported by `plugin` (empty if it reported none)."""
        return self.record_counts.get(plugin, Counter())


def parse_metric(event: Mapping[str, t.Any]) -> Mapping[str, t.Any] | None:
    """The SDK metric point in one Meltano JSON log event, structured or plain-text, if any."""
    point = event.get("metric_info")
    if isinstance(point, dict):
        return point
    message = event.get("event")
    if isinstance(message, str) and message.startswith("METRIC: "):
        try:
            parsed = json.loads(message.removeprefix("METRIC: "))
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def read_run_log(lines: Iterable[str]) -> tuple[dict[str, Counter[str]], list[str]]:
    """Record counts per plugin and stream, and the error events, from `--log-format=json` lines."""
    counts: dict[str, Counter[str]] = {}
    errors: list[str] = []
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        point = parse_metric(event)
        plugin = event.get("name")
        if point and point.get("metric") == "record_count" and isinstance(plugin, str):
            stream = str(point.get("tags", {}).get("stream"))
            counts.setdefault(plugin, Counter())[stream] += int(point.get("value", 0))
        elif event.get("level") in {"error", "critical"}:
            errors.append(str(event.get("event")))
    return counts, errors


@dataclass
class Meltano:
    """The Meltano CLI on this project, with its own system database and a clean environment."""

    #: Where Meltano keeps runs and state (a SQLite file); tests and the demo each use their own.
    system_db: Path
    environment: str = "dev"
    #: Environment variables for plugin settings, e.g. `TAP_GETRESPONSE_API_URL`.
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    project_root: Path = PROJECT_ROOT
    #: The dotenv file Meltano reads settings from; none by default, so a developer's `.env`
    #: (real credentials) never reaches a sandbox run. Settings go in `env` instead.
    env_file: str = os.devnull

    def _global_options(self) -> list[str]:
        return [f"--environment={self.environment}", f"--env-file={self.env_file}"]

    def _environ(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(PLUGIN_ENV_PREFIXES)}
        return base | {
            "MELTANO_DATABASE_URI": f"sqlite:///{self.system_db}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
            **self.env,
        }

    def command(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """`meltano <args>` in the project root; MeltanoError with the output when it fails."""
        result = subprocess.run(
            [str(meltano_executable()), *self._global_options(), *args],
            cwd=self.project_root,
            env=self._environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
            msg = f"meltano {' '.join(args)} exited {result.returncode}:\n{tail}"
            raise MeltanoError(msg)
        return result

    def install(self, *plugins: str) -> None:
        """Install (or check) the plugins' virtual environments under `.meltano/`."""
        self.system_db.parent.mkdir(parents=True, exist_ok=True)
        self.command("install", *plugins)

    def run(self, *blocks: str, timeout: float = 600, extra: Iterable[str] = ()) -> RunReport:
        """`meltano run <blocks>` with JSON logs kept in a file; never raises on a failed run."""
        run_id = str(uuid.uuid4())
        log_dir = self.log_dir or self.system_db.parent / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"run-{run_id}.jsonl"
        self.system_db.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            result = subprocess.run(
                [
                    str(meltano_executable()),
                    *self._global_options(),
                    "--log-format=json",
                    "run",
                    f"--run-id={run_id}",
                    *extra,
                    *blocks,
                ],
                cwd=self.project_root,
                env=self._environ(),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
        with log_path.open() as log:
            counts, errors = read_run_log(log)
        return RunReport(result.returncode, log_path, counts, errors)
