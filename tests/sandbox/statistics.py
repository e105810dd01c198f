"""Campaign statistics (§3.3), computed from the contacts themselves (unpaginated arrays)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tests.sandbox import errors
from tests.sandbox.contacts import _GEO, ORIGINS
from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, route
from tests.sandbox.util import mix

STATS = ListSpec(
    "campaignId",
    filters={
        "campaignId": Filter("param"),
        "groupBy": Filter("param"),
        "createdOn": Filter("range"),
    },
    paginated=False,
    projectable=False,
    required=("campaignId",),
)
SUMMARY = ListSpec(
    "campaignId", filters={"campaignId": Filter("param")}, paginated=False, projectable=False
)
# §3.3 origins keys; "iphone" contacts count as "mobile". The schema misspells
# website_builder_elegant as website_buider_elegant: both keys are sent.
_ORIGIN_KEYS = (
    "import", "email", "www", "panel", "leads", "sale", "api", "forward", "survey", "mobile",
    "copy", "landing_page", "webinar", "premium_newsletter", "course", "website_builder_elegant",
    "chat",
)  # fmt: skip
_REASONS = (
    "unsubscribe",
    "unsubscribe",
    "user",
    "bounce",
    "api",
    "cleaner",
    "automation",
    "complaint",
)
_CONTINENT = {g[3]: g[2] for g in _GEO}


def _key(epoch: int, group: str) -> str:
    """Format a bucket key per groupBy (§3.3 list-size createdOn formats)."""
    t = time.gmtime(epoch)
    if group == "hour":
        return time.strftime("%Y-%m-%d %H:00:00", t)
    if group == "day":
        return time.strftime("%Y-%m-%d", t)
    if group == "month":
        return time.strftime("%Y-%m", t)
    return "total"


def _params(ctx: Ctx, spec: ListSpec) -> tuple[list[int], str, int | None, int | None]:
    ctx.query.check(spec)
    group = ctx.query.filters.get("groupBy", "day").lower()  # default UNCONFIRMED; "day" picked
    if group not in {"hour", "day", "month", "total"}:
        raise errors.validation(
            validationType="searchFilter[query]",
            fieldName="groupBy",
            originalName="query[groupBy]",
            errorDescription="Allowed values: hour, day, month, total",
        )
    raw = ctx.query.filters.get("campaignId")
    ids = (
        [c.strip() for c in raw.split(",")]
        if raw
        else [c["campaignId"] for c in ctx.data.campaigns]
    )
    # §3.3: comma lists UNCONFIRMED, accepted; unknown ids simply have no data.
    idxs = [i for i in (ctx.data.campaign_idx(c) for c in ids) if i is not None]
    low, high = ctx.query.range_bounds("createdOn")
    return idxs, group, low, high


def _rows(ctx: Ctx, idxs: list[int], low: int | None, high: int | None) -> Sequence[int]:
    cs = ctx.data.contacts_store
    wanted = set(idxs)
    lo = low if low is not None else -(1 << 62)
    hi = high if high is not None else 1 << 62
    camp = cs.campaign
    created = cs.created
    return [r for r in cs.live_rows() if camp[r] in wanted and lo <= created[r] <= hi]


def _removals(ctx: Ctx, rows: Sequence[int]) -> list[tuple[int, int, str]]:
    """Seeded removal events (every 20th subscriber leaves later): (epoch, campaign, reason)."""
    cs = ctx.data.contacts_store
    out = []
    for r in rows:
        h = mix(ctx.data.seed, r, 60)
        if h % 20 == 0 and r < cs.seeded:
            out.append((cs.changed[r], cs.campaign[r], _REASONS[(h >> 8) % len(_REASONS)]))
    return out


def _origin_counts(origins: Counter[str]) -> dict[str, int]:
    out = {k: origins.get(k, 0) for k in _ORIGIN_KEYS}
    out["website_buider_elegant"] = out["website_builder_elegant"]
    out["summary"] = sum(origins.values())
    return out


def _origin_name(code: int) -> str:
    name = ORIGINS[code]
    return "mobile" if name == "iphone" else name


@route("GET", "/campaigns/statistics/list-size")
def list_size(ctx: Ctx) -> Response:
    """[{totalSubscribers, addedSubscribers, removedSubscribers, createdOn}] per bucket (§3.3)."""
    idxs, group, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        cs = ctx.data.contacts_store
        before = len(_rows(ctx, idxs, None, low - 1)) if low is not None else 0
        rows = _rows(ctx, idxs, low, high)
        added = Counter(_key(cs.created[r], group) for r in rows)
        removed = Counter(_key(stamp, group) for stamp, _, _ in _removals(ctx, rows))
    total = before
    out = []
    for key in sorted(set(added) | set(removed)):
        total += added.get(key, 0) - removed.get(key, 0)
        out.append(
            {
                "totalSubscribers": total,
                "addedSubscribers": added.get(key, 0),
                "removedSubscribers": removed.get(key, 0),
                "createdOn": key,
            }
        )
    return Response(200, out)


@route("GET", "/campaigns/statistics/locations")
def locations(ctx: Ctx) -> Response:
    """[{countryCode: {amount (string), continentCode, countryCode}}] (§3.3)."""
    idxs, _, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        cs = ctx.data.contacts_store
        counts: Counter[str] = Counter()
        for r in _rows(ctx, idxs, low, high):
            geo = cs.over.get(r, {}).get("geolocation")
            code = geo.get("countryCode") if geo else _GEO[mix(cs.seed, r, 7) % len(_GEO)][3]
            counts[code or "others"] += 1
    body = {
        code: {
            "amount": str(n),
            # The schema calls it continentalCode, the example continentCode (§3.3): both sent.
            "continentCode": _CONTINENT.get(code, ""),
            "continentalCode": _CONTINENT.get(code, ""),
            "countryCode": code,
        }
        for code, n in sorted(counts.items())
    }
    return Response(200, [body] if body else [])


@route("GET", "/campaigns/statistics/origins")
def origins(ctx: Ctx) -> Response:
    """[{campaignId: {origin: int, ..., summary}}] (§3.3)."""
    idxs, _, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        cs = ctx.data.contacts_store
        per: dict[int, Counter[str]] = {i: Counter() for i in idxs}
        for r in _rows(ctx, idxs, low, high):
            per[cs.campaign[r]][_origin_name(cs.origin[r])] += 1
    body = {cs.campaign_ids[i]: _origin_counts(c) for i, c in per.items()}
    return Response(200, [body])


@route("GET", "/campaigns/statistics/subscriptions")
def subscriptions(ctx: Ctx) -> Response:
    """[{date: {campaignId: {origin counts, summary}}}] (§3.3)."""
    idxs, group, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        cs = ctx.data.contacts_store
        per: dict[str, dict[str, Counter[str]]] = {}
        for r in _rows(ctx, idxs, low, high):
            day = per.setdefault(_key(cs.created[r], group), {})
            day.setdefault(cs.campaign_ids[cs.campaign[r]], Counter())[
                _origin_name(cs.origin[r])
            ] += 1
    return Response(
        200,
        [{k: {cid: _origin_counts(c) for cid, c in v.items()}} for k, v in sorted(per.items())],
    )


@route("GET", "/campaigns/statistics/removals")
def removals(ctx: Ctx) -> Response:
    """[{date: {reason: int}}] (only present reasons, §3.3)."""
    idxs, group, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        events = _removals(ctx, _rows(ctx, idxs, None, None))
    per: dict[str, Counter[str]] = {}
    for stamp, _, reason in events:
        if (low is None or stamp >= low) and (high is None or stamp <= high):
            per.setdefault(_key(stamp, group), Counter())[reason] += 1
    return Response(200, [{k: dict(v)} for k, v in sorted(per.items())])


@route("GET", "/campaigns/statistics/balance")
def balance(ctx: Ctx) -> Response:
    """[{date: {removals: {reason: int}, subscriptions: {origin counts, summary}}}] (§3.3)."""
    idxs, group, low, high = _params(ctx, STATS)
    with ctx.data.lock:
        cs = ctx.data.contacts_store
        subs: dict[str, Counter[str]] = {}
        for r in _rows(ctx, idxs, low, high):
            subs.setdefault(_key(cs.created[r], group), Counter())[_origin_name(cs.origin[r])] += 1
        rem: dict[str, Counter[str]] = {}
        for stamp, _, reason in _removals(ctx, _rows(ctx, idxs, None, None)):
            if (low is None or stamp >= low) and (high is None or stamp <= high):
                rem.setdefault(_key(stamp, group), Counter())[reason] += 1
    out: list[dict[str, Any]] = [
        {
            key: {
                "removals": dict(rem.get(key, {})),
                "subscriptions": _origin_counts(subs.get(key, Counter())),
            }
        }
        for key in sorted(set(subs) | set(rem))
    ]
    return Response(200, out)


@route("GET", "/campaigns/statistics/summary")
def summary(ctx: Ctx) -> Response:
    """[{campaignId: {totalSubscribers, totalNewsletters, ... (strings)}}] (§3.3)."""
    idxs, _, _, _ = _params(ctx, SUMMARY)
    data = ctx.data
    with data.lock:
        cs = data.contacts_store
        counts = Counter(cs.campaign[r] for r in _rows(ctx, idxs, None, None))
    body = {}
    for i in idxs:
        cid = cs.campaign_ids[i]
        body[cid] = {
            "totalSubscribers": str(counts.get(i, 0)),
            "totalNewsletters": str(
                sum(1 for n in data.newsletters if n["campaign"]["campaignId"] == cid)
            ),
            "totalTriggers": str(sum(1 for a in data.autoresponders if a["campaignId"] == cid)),
            "totalLandingPages": str(
                sum(1 for p in data.landing_pages if p["campaign"]["campaignId"] == cid)
            ),
            "totalWebforms": str(
                sum(1 for w in data.webforms if w["campaign"]["campaignId"] == cid)
            ),
        }
    return Response(200, [body])
