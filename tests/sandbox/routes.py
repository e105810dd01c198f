"""Routing and the generic list/detail handlers; endpoint modules register themselves here."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.listing import ListQuery, ListSpec, paginate, project, select
from tests.sandbox.response import Response

if TYPE_CHECKING:
    from tests.sandbox.server import Sandbox
    from tests.sandbox.store import DataStore


@dataclass
class Ctx:
    """Everything a route handler needs."""

    sb: Sandbox
    data: DataStore
    method: str
    path: str
    query: ListQuery
    body: Any
    args: dict[str, str]


Handler = Callable[[Ctx], Response]
View = Callable[[Mapping[str, Any]], dict[str, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler for `method` and a path pattern like `/contacts/{contactId}`."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, regex, fn))
        return fn

    return register


def dispatch(sb: Sandbox, method: str, path: str, query: ListQuery, body: Any) -> Response:
    """Find and run the handler; unknown paths are 404 / 1013 (§5.1)."""
    _load()
    for verb, regex, fn in _ROUTES:
        match = regex.match(path)
        if match and verb == method:
            ctx = Ctx(sb, sb.data, method, path, query, body, match.groupdict())
            with sb.data.lock:
                sb.data.process_due()
            return fn(ctx)
    raise errors.not_found(path=path, method=method)


_LOADED: list[bool] = []


def _load() -> None:
    if not _LOADED:
        from tests.sandbox import (  # noqa: F401, PLC0415 - importing registers the routes
            abtests,
            audience,
            commerce,
            custom_events,
            endpoints,
            messages,
            others,
            reports,
            search,
            sites,
            statistics,
            transactional,
            writes,
        )

        _LOADED.append(True)


def public(item: Mapping[str, Any]) -> dict[str, Any]:
    """Return the item without sandbox-internal (`_`-prefixed) keys."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


def drop(*keys: str) -> View:
    """Return a view removing detail-only keys (list elements omit some fields, §1.2)."""

    def view(item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_") and k not in keys}

    return view


def keep(*keys: str) -> View:
    """Return a view keeping only `keys`."""

    def view(item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in keys if k in item}

    return view


def list_response(
    ctx: Ctx,
    items: Sequence[Mapping[str, Any]],
    spec: ListSpec,
    view: View = public,
) -> Response:
    """Filter, sort, page and project a small collection (§2.1-§2.4)."""
    with ctx.data.lock:
        rows = select(items, ctx.query, spec)
    if not spec.paginated:
        out = [view(i) for i in rows]
        if spec.projectable:
            out = [project(i, ctx.query, spec.id_key) for i in out]
        return Response(200, out)
    page = paginate(rows, ctx.query)
    out = [view(i) for i in page.items]
    if spec.projectable:
        out = [project(i, ctx.query, spec.id_key) for i in out]
    return Response(200, out, page.headers)


def detail_response(
    ctx: Ctx, item: Mapping[str, Any] | None, id_key: str, view: View = public
) -> Response:
    """Return one resource (404 / 1013 when missing), with `fields` projection (§2.4)."""
    if item is None:
        raise errors.not_found(**{id_key: ctx.args.get(id_key, "")})
    return Response(200, project(view(item), ctx.query, id_key))


def get_or_404(ctx: Ctx, collection: str, id_key: str) -> dict[str, Any]:
    """Return the item named by the path argument `id_key`, or raise 404 / 1013."""
    ident = ctx.args[id_key]
    item = ctx.data.find_item(collection, id_key, ident)
    if item is None:
        raise errors.not_found(**{id_key: ident})
    return item
