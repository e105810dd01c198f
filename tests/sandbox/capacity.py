"""Measure sandbox capacity: pages/s of `GET /contacts?perPage=1000` with 10 client threads.

Run: `python -m tests.sandbox.capacity [--contacts 100000] [--seconds 10] [--threads 10]`.
The sandbox runs in its own process (started through the CLI) so the clients do not share its
interpreter lock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

API_KEY = "sandbox-api-key"


def _start(contacts: int) -> tuple[subprocess.Popen[bytes], str]:
    ready = Path(tempfile.mkdtemp()) / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.sandbox",
            "--port",
            "0",
            "--contacts",
            str(contacts),
            "--frame-calls",
            "100000000",
            "--per-second",
            "1000000",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    deadline = time.monotonic() + 120
    while not ready.exists() or not ready.read_text().strip():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            msg = "sandbox did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    return proc, ready.read_text().strip()


def measure(url: str, seconds: float, threads: int, total_pages: int) -> tuple[int, float]:
    """Return (pages fetched, elapsed seconds) for `threads` workers paging for `seconds`."""
    stop = time.monotonic() + seconds
    counts = [0] * threads
    errors: list[str] = []

    def worker(n: int) -> None:
        with requests.Session() as session:
            session.headers["X-Auth-Token"] = f"api-key {API_KEY}"
            page = 1 + n
            while time.monotonic() < stop:
                response = session.get(
                    f"{url}/contacts", params={"perPage": 1000, "page": page}, timeout=30
                )
                if response.status_code != 200:
                    errors.append(str(response.status_code))
                    return
                response.json()
                counts[n] += 1
                page = page % total_pages + 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        msg = f"non-200 answers: {errors[:5]}"
        raise RuntimeError(msg)
    return sum(counts), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Print pages/s and contacts/s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args(argv)
    proc, url = _start(args.contacts)
    try:
        pages, elapsed = measure(url, args.seconds, args.threads, max(1, args.contacts // 1000))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rate = pages / elapsed
    sys.stdout.write(
        f"{pages} pages of 1000 contacts in {elapsed:.1f} s with {args.threads} threads: "
        f"{rate:.1f} pages/s ({rate * 1000:,.0f} contacts/s), "
        f"sandbox of {args.contacts:,} contacts\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
