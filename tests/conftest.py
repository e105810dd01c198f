"""Shared fixtures: the GetResponse sandbox (tests/sandbox)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.sandbox import Limits, Sandbox

# Limits high enough that only tests about limits ever meet them (they build their own sandbox).
GENEROUS_LIMITS = Limits(
    frame_calls=10_000_000,
    per_second=1_000_000,
    batch_per_second=1_000,
    batch_per_frame=1_000_000,
    reject_over_concurrency=False,
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One shared sandbox (default scale, seed 1, generous limits); treat it as read-mostly."""
    with Sandbox(seed=1, limits=GENEROUS_LIMITS) as sb:
        yield sb


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Factory: `make_sandbox(scale=Scale(contacts=10), limits=Limits(per_second=5), ...)`.

    Takes the Sandbox arguments (limits default to generous ones), returns a started sandbox and
    stops every sandbox it started when the test ends.
    """
    started: list[Sandbox] = []

    def factory(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("limits", GENEROUS_LIMITS)
        sb = Sandbox(**kwargs).start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()
