"""What every benchmark shares: running the real CLIs as child processes, and the result table.

The sandbox runs in the benchmark's own process (its request log is the call counter); the tap
and target run as users run them, as separate processes, so their CPU, start-up and peak memory
are their own. Every figure is printed next to the baseline it is measured against in the same
run, with the ratio and the floor the issue sets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tests.sandbox import Sandbox

BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-getresponse")
TARGET = str(BIN / "target-getresponse")
RECORD_PREFIX = b'{"type":"RECORD"'
STATE_PREFIX = b'{"type":"STATE"'


@dataclass(frozen=True)
class Figure:
    """One line of the result table."""

    bench: str
    measure: str
    value: str
    against: str = ""
    ratio: float | None = None
    floor: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        """The table cells of this figure."""
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = {None: "", True: "yes", False: "NO"}[self.met]
        return [self.bench, self.measure, self.value, self.against, ratio, self.floor, met]


def table(figures: Iterable[Figure]) -> str:
    """A Markdown table of `figures`."""
    header = ["benchmark", "measure", "figure", "baseline (same run)", "ratio", "floor", "met"]
    rows = [header, ["---"] * len(header), *(figure.cells() for figure in figures)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def say(text: str) -> None:
    """Progress on stderr, so stdout stays the table."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Run:
    """One finished tap or target process."""

    returncode: int
    seconds: float
    records: int
    peak_rss_mb: float
    last_state: dict[str, t.Any] | None
    stderr: str
    #: `time.monotonic()` when the last RECORD line was read (None: no record).
    last_record_at: float | None = None

    def check(self, what: str) -> Run:
        """Raise with the end of stderr unless the process succeeded."""
        if self.returncode != 0:
            msg = f"{what} failed with exit {self.returncode}:\n{self.stderr[-3000:]}"
            raise RuntimeError(msg)
        return self


class PeakMemory(threading.Thread):
    """Polls a process's `VmHWM` (peak resident set of its own program, kept by Linux).

    `wait4`'s `ru_maxrss` would not do: the child starts as a fork of this process, which holds
    the sandbox (200 MB at a million contacts), and Linux carries that peak across `exec`.
    """

    def __init__(self, pid: int) -> None:
        """Start polling `pid` every 50 ms until it exits."""
        super().__init__(daemon=True)
        self.proc = Path(f"/proc/{pid}")
        self.peak_kb = 0
        self.start()

    def run(self) -> None:
        """Keep the largest peak read (the peak only grows while the program runs)."""
        ours = Path("/proc/self/cmdline").read_bytes()
        while True:
            try:
                if (self.proc / "cmdline").read_bytes() == ours:
                    time.sleep(0.005)  # not yet its own program: still our fork
                    continue
                text = (self.proc / "status").read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                    break
            else:
                return  # a zombie: no memory left to read
            time.sleep(0.05)


def run_process(command: Sequence[str], *, stdin: bytes | None = None) -> Run:
    """Run `command`, counting RECORD lines on its stdout and reading its peak RSS (Linux)."""
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as given:
        if stdin is not None:
            given.write(stdin)
            given.seek(0)
        started = time.monotonic()
        with subprocess.Popen(
            command, stdin=given, stdout=subprocess.PIPE, stderr=errors
        ) as process:
            peak = PeakMemory(process.pid)
            assert process.stdout is not None
            lines = LineCounter()
            while chunk := process.stdout.read1(1 << 20):
                lines.feed(chunk)
            lines.feed(b"\n")  # a last line without its newline
        seconds = time.monotonic() - started
        peak.join()
        errors.seek(0)
        return Run(
            returncode=process.returncode,
            seconds=seconds,
            records=lines.records,
            peak_rss_mb=peak.peak_kb / 1024,
            last_state=json.loads(lines.last_state)["value"] if lines.last_state else None,
            stderr=errors.read().decode(errors="replace"),
            last_record_at=lines.last_record_at,
        )


class LineCounter:
    """RECORD lines counted and the last STATE line kept, a block of output at a time.

    In C (`bytes.count`, `rfind`), not line by line in Python: this process also serves the
    sandbox, whose threads waited for the interpreter lock while 100,000 lines were looped over.
    """

    def __init__(self) -> None:
        """Nothing read yet; the output starts a line."""
        self.records = 0
        self.last_state: bytes | None = None
        #: `time.monotonic()` when the block holding the last RECORD line was read.
        self.last_record_at: float | None = None
        self._rest = b"\n"  # the newline before the line being read, and what came of it

    def feed(self, chunk: bytes) -> None:
        """Count the whole lines `chunk` completes."""
        data = self._rest + chunk
        end = data.rfind(b"\n")
        whole, self._rest = data[: end + 1], data[end:]
        found = whole.count(b"\n" + RECORD_PREFIX)
        if found:
            self.records += found
            self.last_record_at = time.monotonic()
        state = whole.rfind(b"\n" + STATE_PREFIX)
        if state >= 0:
            self.last_state = whole[state + 1 : whole.index(b"\n", state + 1)]


class TapRunner:
    """Runs `tap-getresponse` against one sandbox with a catalog selecting some streams."""

    def __init__(
        self,
        sb: Sandbox,
        workdir: Path,
        streams: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> None:
        """Discover once; keep a catalog selecting `streams` (all when None) but not `exclude`."""
        self.sb = sb
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.write("discover.json", self.config())
        found = subprocess.run(
            [TAP, "--config", str(config), "--discover"], capture_output=True, check=True
        )
        catalog = json.loads(found.stdout)
        wanted = None if streams is None else set(streams)
        unwanted = set(exclude)
        #: The selected streams' names.
        self.selected: list[str] = []
        for entry in catalog["streams"]:
            name = entry["tap_stream_id"]
            selected = (wanted is None or name in wanted) and name not in unwanted
            if selected:
                self.selected.append(name)
            for item in entry["metadata"]:
                if not item["breadcrumb"]:
                    item["metadata"]["selected"] = selected
        self.catalog = self.write("catalog.json", catalog)

    def config(self, **settings: t.Any) -> dict[str, t.Any]:
        """Tap settings for the sandbox, plus `settings`."""
        return {"api_url": self.sb.url, "api_key": self.sb.api_key, **settings}

    def write(self, name: str, value: t.Any) -> Path:
        """Write `value` as JSON into the work directory."""
        path = self.workdir / name
        path.write_text(json.dumps(value))
        return path

    def run(self, state: dict[str, t.Any] | None = None, **settings: t.Any) -> Run:
        """One sync with `settings`; the sandbox log holds only this run's calls afterwards."""
        command = [TAP, "--config", str(self.write("config.json", self.config(**settings)))]
        command += ["--catalog", str(self.catalog)]
        if state is not None:
            command += ["--state", str(self.write("state.json", state))]
        self.sb.clear_log()
        return run_process(command).check("tap-getresponse")


def rate_limited(sb: Sandbox) -> int:
    """How many 429 answers the sandbox gave since its log was last cleared."""
    return sum(1 for entry in sb.log if entry.status == 429)


def no_429s(bench: str, label: str, *counts: int) -> Figure:
    """The 429 answers of the runs behind a row of figures (the floor is none)."""
    shown = " + ".join(str(count) for count in counts)
    return Figure(bench, f"{label}, 429 answers", shown, floor="0", met=not any(counts))


def ratio(value: float, baseline: float) -> float:
    """value / baseline, 0 when there is no baseline."""
    return value / baseline if baseline else 0.0
