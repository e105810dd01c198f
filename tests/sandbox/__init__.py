"""Local GetResponse API v3 emulator for tests: `Sandbox(scale=Scale(...), seed=1).start()`.

See server.Sandbox for the knobs; the request log paths are relative to `Sandbox.url`.
"""

from __future__ import annotations

from tests.sandbox.server import Answer, Faults, Limits, LoggedRequest, OAuthApp, Sandbox
from tests.sandbox.store import DataStore, Scale

__all__ = [
    "Answer",
    "DataStore",
    "Faults",
    "Limits",
    "LoggedRequest",
    "OAuthApp",
    "Sandbox",
    "Scale",
]
