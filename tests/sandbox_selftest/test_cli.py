"""The CLI serves until SIGTERM and prints the URL and the key."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_until_sigterm(tmp_path):
    ready = tmp_path / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.sandbox",
            "--port",
            "0",
            "--contacts",
            "50",
            "--seed",
            "2",
            "--domain",
            "brand.example.com",
            "--latency-ms",
            "10",
            "--ready-file",
            str(ready),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (ready.exists() and ready.read_text().strip()):
            assert time.monotonic() < deadline
            assert proc.poll() is None
            time.sleep(0.05)
        url = ready.read_text().strip()
        headers = {"X-Auth-Token": "api-key sandbox-api-key", "X-Domain": "brand.example.com"}
        response = requests.get(f"{url}/contacts", headers=headers, timeout=10)
        assert response.headers["TotalCount"] == "50"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert f"url: {url}" in out
    assert "api_key: sandbox-api-key" in out
