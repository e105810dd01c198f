"""Scale: a million contacts build, page and filter fast enough."""

from __future__ import annotations

import time

import pytest

from tests.sandbox import Scale
from tests.sandbox_selftest.helpers import get


@pytest.mark.slow
def test_a_million_contacts(make_sandbox):
    started = time.monotonic()
    sb = make_sandbox(scale=Scale(contacts=1_000_000))
    built = time.monotonic() - started
    assert built < 15
    first = get(sb, "/contacts", perPage=1000)
    assert first.headers["TotalCount"] == "1000000"
    assert first.headers["TotalPages"] == "1000"
    started = time.monotonic()
    last = get(sb, "/contacts", perPage=1000, page=1000)
    assert time.monotonic() - started < 1
    assert len(last.json()) == 1000
    changed = get(
        sb, "/contacts",
        **{"query[changedOn][from]": "2026-06-01", "sort[changedOn]": "asc", "perPage": 1000},
    )  # fmt: skip
    stamps = [c["changedOn"] for c in changed.json()]
    assert stamps == sorted(stamps)
    assert stamps[0] >= "2026-06-01"
    email = last.json()[-1]["email"]
    exact = get(sb, "/contacts", **{"query[email]": email, "additionalFlags": "exactMatch"})
    assert [c["email"] for c in exact.json()] == [email]
