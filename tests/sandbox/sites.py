"""Forms and popups, websites, and the performance of popups, landing pages and websites.

Items follow the official schemas `PopupListItem` and `Website`. Every popup, website and landing
page (`/lps`) keeps its activity per UTC day and device in `_daily` (`{"2025-03-01": {"desktop":
{...}, "mobile": {...}}}`), seeded only on or after its creation day. The performance endpoints
(`getPopupGeneralPerformance`, `getLpsGeneralPerformanceStats`, `getWbeGeneralPerformanceStats`)
answer one object of totals over `query[date][from]`/`[to]` (both days included, as every other
date filter here; no range: all time) and `query[device]`; `query[location]` and `query[page]`
are answered 400 (the sandbox keeps no location or page breakdown, never a wrong total).
Unique visitors of a range are the sum of the days' (the sandbox keeps no visitor identities).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListSpec, project
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, route
from tests.sandbox.util import SEED_END, SEED_START, fmt_date, fmt_ts_naive, parse_filter_time

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

DAY = 86_400
POPUPS = 6
WEBSITES = 5
DEVICES = ("desktop", "mobile")
#: Counters kept per day and device: popups, and pages (landing pages and websites).
POPUP_COUNTERS = ("views", "clicks", "leads")
PAGE_COUNTERS = ("pageViews", "visits", "uniqueVisitors")

POPUP_LIST = ListSpec(
    "popupId",
    filters={"name": Filter("like"), "status": Filter("eq")},
    sorts={
        "name": "name",
        "status": "status",
        "createdAt": "createdAt",
        "updatedAt": "updatedAt",
        "views": "statistics.views",
        "uniqueVisitors": "statistics.uniqueVisitors",
        "leads": "statistics.leads",
        "ctr": "statistics.ctr",
    },
)
WEBSITE_LIST = ListSpec(
    "websiteId",
    filters={"name": Filter("like"), "status": Filter("eq")},
    sorts={
        "name": "name",
        "createdAt": "createdAt",
        "updatedAt": "updatedAt",
        "pageViews": "statistics.pageViews",
        "visits": "statistics.visits",
        "uniqueVisitors": "statistics.uniqueVisitors",
    },
)
#: What the performance endpoints accept (validated as list filters are: 400/1000 otherwise).
PERFORMANCE = ListSpec(
    "",
    filters={
        "date": Filter("range"),
        "device": Filter("eq"),
        "location": Filter("eq"),
        "page": Filter("eq"),
    },
    paginated=False,
)


def _rng(store: DataStore) -> random.Random:
    """This module's own generator: the store's shared one is left untouched."""
    return random.Random(store.seed * 1_000_003 + 14)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _day_start(epoch: int) -> int:
    return epoch - epoch % DAY


def _popup_day(rng: random.Random) -> dict[str, int]:
    views = rng.randint(0, 300)
    clicks = rng.randint(0, views)
    return {"views": views, "clicks": clicks, "leads": rng.randint(0, clicks)}


def _page_day(rng: random.Random) -> dict[str, int]:
    page_views = rng.randint(0, 400)
    visits = rng.randint(0, page_views)
    return {"pageViews": page_views, "visits": visits, "uniqueVisitors": rng.randint(0, visits)}


def _seed_daily(
    rng: random.Random, created: int, day: Callable[[random.Random], dict[str, int]]
) -> dict[str, dict[str, dict[str, int]]]:
    """A few active days in the month after `created` (never before its day)."""
    first = _day_start(created)
    days = sorted(rng.sample(range(31), rng.randint(3, 9)))
    daily = {}
    for offset in days:
        counts = {device: day(rng) for device in DEVICES}
        counts["desktop"] = {k: v + 1 for k, v in counts["desktop"].items()}  # never all zero
        daily[fmt_date(first + offset * DAY)] = counts
    return daily


def _totals(daily: Mapping[str, Mapping[str, Mapping[str, int]]], names: tuple[str, ...]) -> dict:
    out = dict.fromkeys(names, 0)
    for devices in daily.values():
        for counts in devices.values():
            for name in names:
                out[name] += counts[name]
    return out


def seed(store: DataStore) -> None:
    """Seed popups and websites, and the daily activity of those and of the landing pages."""
    rng = _rng(store)
    cols = store.collections
    cols["popups"] = []
    for i, created in enumerate(sorted(rng.randint(SEED_START, SEED_END) for _ in range(POPUPS))):
        popup_id = _uuid(rng)
        daily = _seed_daily(rng, created, _popup_day)
        totals = _totals(daily, POPUP_COUNTERS)
        views = totals["views"]
        cols["popups"].append(
            {
                "popupId": popup_id,
                "href": f"{store.base}/popups/{popup_id}",
                "name": f"Popup #{i + 1}",
                "status": "published" if i % 3 else "unpublished",
                "type": "popup" if i % 2 else "inline",
                "createdAt": fmt_ts_naive(created),
                "updatedAt": fmt_ts_naive(created + rng.randint(0, 40 * DAY)),
                "statistics": {
                    "views": views,
                    "uniqueVisitors": rng.randint(0, views),
                    "leads": totals["leads"],
                    "ctr": 100 * totals["clicks"] // views if views else 0,
                },
                "_daily": daily,
            }
        )
    cols["websites"] = []
    for i, created in enumerate(sorted(rng.randint(SEED_START, SEED_END) for _ in range(WEBSITES))):
        website_id = _uuid(rng)
        daily = _seed_daily(rng, created, _page_day)
        cols["websites"].append(
            {
                "websiteId": website_id,
                "href": f"{store.base}/websites/{website_id}",
                "name": f"Predesigned #{i + 17:03d}",
                "status": "published" if i % 2 == 0 else "unpublished",
                "domainUrl": f"predesigned-{i + 17:03d}-5261{i}.grweb.site",
                "thumbnailUrl": f"https://img.brand.test/websites/{website_id}.png?width=208",
                "isChatsEnabled": "true" if i % 2 else "false",
                "createdAt": fmt_ts_naive(created),
                "updatedAt": fmt_ts_naive(created + rng.randint(0, 40 * DAY)),
                "statistics": _totals(daily, PAGE_COUNTERS),
                "_daily": daily,
            }
        )
    for page in cols.get("lps", []):
        created = parse_filter_time(page["createdAt"], end_of_day=False) or SEED_START
        page["_daily"] = _seed_daily(rng, created, _page_day)


def record_activity(
    store: DataStore, item: dict[str, Any], epoch: int, device: str = "desktop", **counts: int
) -> None:
    """Add `counts` (e.g. `views=3`) to `item`'s day of `epoch` (tests: activity after a run)."""
    with store.lock:
        day = item.setdefault("_daily", {}).setdefault(fmt_date(epoch), {})
        kept = day.setdefault(device, {})
        for name, value in counts.items():
            kept[name] = kept.get(name, 0) + value


def active_days(item: Mapping[str, Any]) -> list[str]:
    """The days (`YYYY-MM-DD`) on which `item` had any activity: the rows a full read yields."""
    return sorted(
        day
        for day, devices in item.get("_daily", {}).items()
        if any(value for counts in devices.values() for value in counts.values())
    )


def _performance(ctx: Ctx, item: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    """Totals of `item` over the request's `query[date]` range and `query[device]`."""
    query = ctx.query
    query.check(PERFORMANCE)
    for name in ("location", "page"):
        if name in query.filters:
            raise errors.bad_filter(
                name, f"query[{name}]", "The sandbox does not evaluate this filter"
            )
    device = query.filters.get("device")
    if device is not None and device not in DEVICES:
        refused = errors.bad_filter("device", "query[device]", "Allowed values: desktop, mobile")
        raise refused
    low, high = query.range_bounds("date")
    out = dict.fromkeys(names, 0)
    with ctx.data.lock:
        for day, devices in item.get("_daily", {}).items():
            start = parse_filter_time(day, end_of_day=False) or 0
            if (low is not None and start + DAY - 1 < low) or (high is not None and start > high):
                continue
            for name_of_device, counts in devices.items():
                if device is None or name_of_device == device:
                    for name in names:
                        out[name] += counts.get(name, 0)
    return out


@route("GET", "/popups")
def list_popups(ctx: Ctx) -> Response:
    """GET /popups (`getPopupList`; `stats[from]`/`stats[to]` accepted and ignored)."""
    return list_response(ctx, ctx.data.popups, POPUP_LIST)


@route("GET", "/popups/{popupId}")
def get_popup(ctx: Ctx) -> Response:
    """GET /popups/{popupId}."""
    return detail_response(ctx, get_or_404(ctx, "popups", "popupId"), "popupId")


@route("GET", "/websites")
def list_websites(ctx: Ctx) -> Response:
    """GET /websites (`getWebsitesList`; `stats[from]`/`stats[to]` accepted and ignored)."""
    return list_response(ctx, ctx.data.websites, WEBSITE_LIST)


@route("GET", "/websites/{websiteId}")
def get_website(ctx: Ctx) -> Response:
    """GET /websites/{websiteId}."""
    return detail_response(ctx, get_or_404(ctx, "websites", "websiteId"), "websiteId")


@route("GET", "/statistics/popups/{popupId}/performance")
def popup_performance(ctx: Ctx) -> Response:
    """`PopupGeneralPerformanceStats` of one form or popup."""
    popup = get_or_404(ctx, "popups", "popupId")
    totals = _performance(ctx, popup, POPUP_COUNTERS)
    ctr = 100 * totals["clicks"] // totals["views"] if totals["views"] else 0
    body = {"popupId": popup["popupId"], **totals, "ctr": ctr}
    return Response(200, project(body, ctx.query, "popupId"))


def _page_performance(ctx: Ctx, item: Mapping[str, Any], key: str) -> Response:
    body = {
        key: item[key],
        "name": item["name"],
        **_performance(ctx, item, PAGE_COUNTERS),
        "thumbnailUrl": item["thumbnailUrl"],
    }
    return Response(200, project(body, ctx.query, key))


@route("GET", "/statistics/lps/{lpsId}/performance")
def landing_page_performance(ctx: Ctx) -> Response:
    """`LpsStats` of one landing page."""
    return _page_performance(ctx, get_or_404(ctx, "lps", "lpsId"), "lpsId")


@route("GET", "/statistics/wbe/{websiteId}/performance")
def website_performance(ctx: Ctx) -> Response:
    """`WebsiteStats` of one website."""
    return _page_performance(ctx, get_or_404(ctx, "websites", "websiteId"), "websiteId")
