"""Stream JSON schemas, generated from the official OpenAPI (scripts/generate_schemas.py)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_schema", "schema_names"]


@cache
def _schema_text(name: str) -> str:
    path = resources.files(__name__).joinpath(f"{name}.json")
    if not path.is_file():
        msg = f"No schema for stream {name!r}; known: {', '.join(schema_names())}"
        raise KeyError(msg)
    return path.read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The Singer schema of stream `name` (a fresh dict each call, safe to modify)."""
    schema: dict[str, Any] = json.loads(_schema_text(name))
    return schema


def schema_names() -> list[str]:
    """Names of every stream with a schema file, sorted."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json")
    )
