"""How a Singer schema node reads for the normaliser: its JSON types, and which check it needs.

Shared by normalize.py (which converts values) and page_check.py (which checks whole pages in
msgspec): both must read a schema the same way, or a page would pass one and fail the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["kinds", "plain_kind", "single_branch", "typed_kind"]


def single_branch(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one non-null branch of an `anyOf`/`oneOf` (as the SDK writes nullable types)."""
    for key in ("anyOf", "oneOf"):
        branches = [b for b in schema.get(key) or () if kinds(b) != {"null"}]
        if key in schema and len(branches) == 1:
            branch: Mapping[str, Any] = branches[0]
            return branch
    return schema


def kinds(schema: Mapping[str, Any]) -> set[str]:
    """The non-null JSON types `schema` allows (empty when it says nothing)."""
    declared = schema.get("type")
    found = {declared} if isinstance(declared, str) else set(declared or ())
    if "properties" in schema and not found:
        found = {"object"}
    return found if found == {"null"} else found - {"null"}


def plain_kind(schema: Mapping[str, Any]) -> str | None:
    """`string`, `object` or `array` for a field checked by its type alone, else None.

    Plain: a string without format or enum, an object without properties, an array without
    items. These are most fields, so objects check them in bulk (normalize.py).
    """
    schema = single_branch(schema)
    found = kinds(schema)
    if len(found) != 1 or "enum" in schema:
        return None
    (kind,) = found
    extra = {"string": "format", "object": "properties", "array": "items"}.get(kind)
    return kind if extra is not None and extra not in schema else None


def typed_kind(schema: Mapping[str, Any]) -> str | None:
    """`boolean`, `integer` or `number` for a scalar field of that type without an enum."""
    schema = single_branch(schema)
    if "enum" in schema:
        return None
    found = kinds(schema)
    if found in ({"number"}, {"integer", "number"}):
        return "number"
    if found in ({"integer"}, {"boolean"}):
        (kind,) = found
        return kind
    return None
