"""Seeders and read endpoints for the remaining resources (messages, forms, pages, shops, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore


def seed(store: DataStore) -> None:
    """Seed the remaining collections."""
    _ = store
