"""Contract-test fixtures: the official OpenAPI spec, parsed once per session."""

from __future__ import annotations

import pytest

from scripts.generate_schemas import load_spec


@pytest.fixture(scope="session")
def official_spec():
    """The vendored official spec (2.4 MB) as a dict; treat it as read-only."""
    return load_spec()
