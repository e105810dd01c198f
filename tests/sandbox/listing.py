"""Collection mechanics shared by every list endpoint: paging (§2.1), sort (§2.2), filters (§2.3),
`fields` projection (§2.4) and `additionalFlags` (§2.5)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from tests.sandbox import errors
from tests.sandbox.util import parse_filter_time

DEFAULT_PER_PAGE = 100  # §2.1
MAX_PER_PAGE = 1000  # §2.1

FilterKind = Literal["like", "eq", "in", "range", "param"]
Getter = Callable[[Mapping[str, Any]], Any]

_KEY_RE = re.compile(r"^([A-Za-z_]+)((?:\[[^\]]*\])*)$")


def _get_path(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@functools.lru_cache(maxsize=65536)
def _ts(value: str) -> int | None:
    return parse_filter_time(value, end_of_day=False)


@dataclass(frozen=True)
class Filter:
    """One allowed `query[name]` filter: how it matches an item."""

    kind: FilterKind
    path: str = ""


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint allows (the §3.0 table row)."""

    id_key: str
    filters: Mapping[str, Filter] = field(default_factory=dict)
    sorts: Mapping[str, str] = field(default_factory=dict)  # sort name -> item path
    paginated: bool = True
    projectable: bool = True
    required: tuple[str, ...] = ()


@dataclass
class ListQuery:
    """A parsed list request: page, perPage, query[...], sort[...], fields, additionalFlags."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    filters: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, dict[str, str]] = field(default_factory=dict)
    raw_sort: list[tuple[str, str]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending), by check()
    fields: list[str] | None = None
    flags: set[str] = field(default_factory=set)
    params: dict[str, str] = field(default_factory=dict)
    raw_filter_keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, query_string: str) -> ListQuery:
        """Parse a raw query string (brackets encoded or not, §2.3)."""
        out = cls()
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            out.params[key] = value
            match = _KEY_RE.match(key)
            if not match:
                continue
            head, brackets = match.groups()
            parts = re.findall(r"\[([^\]]*)\]", brackets)
            if head == "query" and parts:
                name = parts[0]
                out.raw_filter_keys[name] = key
                if len(parts) > 1:
                    out.ranges.setdefault(name, {})[parts[1].lower()] = value
                else:
                    out.filters[name] = value
            elif head == "sort" and parts:
                out.raw_sort.append((parts[0], value))
            elif head == "page" and not parts:
                out.page = _int(value, 1)
            elif head == "perPage" and not parts:
                # §2.1: max 1000. The live API answered 200 for perPage=0 and non-numeric values
                # (§2.1 observation); the sandbox then uses the default and clamps above the max.
                per_page = _int(value, DEFAULT_PER_PAGE)
                out.per_page = min(per_page, MAX_PER_PAGE)
            elif head == "fields" and not parts:
                out.fields = [f.strip() for f in value.split(",") if f.strip()]
            elif head == "additionalFlags" and not parts:
                out.flags = {f.strip() for f in value.split(",") if f.strip()}
        return out

    def check(self, spec: ListSpec) -> None:  # noqa: C901 - one rule per parameter family
        """Reject unknown filters (400/1000, §2.3) and unknown sort fields or directions."""
        for name in [*self.filters, *self.ranges]:
            allowed = spec.filters.get(name)
            if allowed is None:
                raise errors.bad_filter(name, self.raw_filter_keys.get(name, name))
            if name in self.ranges and allowed.kind != "range":
                raise errors.bad_filter(name, self.raw_filter_keys.get(name, name))
            if name in self.filters and allowed.kind == "range":
                raise errors.bad_filter(
                    name, self.raw_filter_keys.get(name, name), "Use [from] and/or [to]"
                )
        for name, bounds in self.ranges.items():
            for bound, value in bounds.items():
                if bound not in {"from", "to"} or _ts(value) is None:
                    raise errors.validation(
                        validationType="searchFilter[query]",
                        fieldName=name,
                        originalName=self.raw_filter_keys.get(name, name),
                        errorDescription="Invalid date format, use YYYY-MM-DD or ISO 8601",
                    )
        for name in spec.required:
            if name not in self.filters:
                raise errors.validation(
                    validationType="searchFilter[query]",
                    fieldName=name,
                    originalName=f"query[{name}]",
                    errorDescription="This value should not be blank",
                )
        normal: list[tuple[str, bool]] = []
        for name, direction in self.raw_sort:
            text = direction.lower()
            # §2.2: official enum ASC/DESC, SDK sends asc/desc: treated case-insensitively.
            if name not in spec.sorts or text not in {"asc", "desc"}:
                # The sort error body is not documented; the filter error shape is reused.
                raise errors.validation(
                    validationType="searchFilter[sort]",
                    fieldName=name,
                    originalName=f"sort[{name}]",
                    errorDescription="Not allowed sort field or direction",
                )
            normal.append((name, text == "desc"))
        self.sort = normal

    def range_bounds(self, name: str) -> tuple[int | None, int | None]:
        """Return the inclusive (from, to) epoch bounds of `query[name][from|to]`."""
        bounds = self.ranges.get(name, {})
        low = bounds.get("from")
        high = bounds.get("to")
        return (
            parse_filter_time(low, end_of_day=False) if low is not None else None,
            parse_filter_time(high, end_of_day=True) if high is not None else None,
        )

    def cache_key(self) -> tuple[Any, ...]:
        """Return a hashable key of everything that decides the matching set and its order."""
        return (
            tuple(sorted(self.filters.items())),
            tuple(sorted((k, tuple(sorted(v.items()))) for k, v in self.ranges.items())),
            tuple(self.sort),
            "exactMatch" in self.flags,
        )


def _int(value: str, default: int) -> int:
    try:
        number = int(value)
    except ValueError:
        return default
    return number if number >= 1 else default


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        stamp = _ts(value) if value[:2].isdigit() and len(value) >= 10 else None
        if stamp is not None:
            return (1, stamp)
        return (2, value.lower())
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def select(
    items: Iterable[Mapping[str, Any]], query: ListQuery, spec: ListSpec
) -> list[Mapping[str, Any]]:
    """Filter and sort small in-memory collections (stored in creation order)."""
    query.check(spec)
    out = list(items)
    exact = "exactMatch" in query.flags
    for name, value in query.filters.items():
        flt = spec.filters[name]
        path = flt.path or name
        if flt.kind == "param":
            continue
        if flt.kind == "like" and not exact:
            needle = value.lower()
            out = [i for i in out if needle in str(_get_path(i, path) or "").lower()]
        elif flt.kind == "in":
            wanted = {v.strip() for v in value.split(",") if v.strip()}
            out = [i for i in out if str(_get_path(i, path)) in wanted]
        else:
            needle = value.lower()
            out = [i for i in out if str(_get_path(i, path) or "").lower() == needle]
    for name in query.ranges:
        low, high = query.range_bounds(name)
        path = spec.filters[name].path or name
        kept = []
        for item in out:
            raw = _get_path(item, path)
            stamp = _ts(str(raw)) if raw is not None else None
            if stamp is None:
                continue
            if (low is None or stamp >= low) and (high is None or stamp <= high):
                kept.append(item)
        out = kept
    for name, descending in reversed(query.sort):
        out.sort(key=_item_key(spec.sorts[name]), reverse=descending)
    return out


def _item_key(path: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    def key(item: Mapping[str, Any]) -> tuple[int, Any]:
        return _sort_key(_get_path(item, path))

    return key


@dataclass
class Page:
    """One page of a collection plus the §2.1 headers."""

    items: Sequence[Any]
    headers: dict[str, str]


def paginate(rows: Sequence[Any], query: ListQuery) -> Page:
    """Slice `rows` per §2.1: TotalCount/TotalPages/CurrentPage, `[]` past the end."""
    total = len(rows)
    start = (query.page - 1) * query.per_page
    chunk = rows[start : start + query.per_page] if start < total else []
    headers = {
        "TotalCount": str(total),
        # ceil(total / perPage): an empty collection reports TotalPages 0 (not documented).
        "TotalPages": str(math.ceil(total / query.per_page)),
        "CurrentPage": str(query.page),
    }
    return Page(chunk, headers)


def project(item: dict[str, Any], query: ListQuery, id_key: str) -> dict[str, Any]:
    """Apply `fields=` (§2.4): keep the listed top-level properties; the id is always kept."""
    if not query.fields:
        return item
    keep = set(query.fields)
    keep.add(id_key)
    return {k: v for k, v in item.items() if k in keep}
