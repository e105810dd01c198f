"""Messages: newsletters (§3.7), autoresponders (§3.9), RSS (§3.20), click tracks, message
statistics (§3.8), contact activities (§3.1) and newsletter activities (§3.7)."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Mapping
from typing import Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListQuery, ListSpec, paginate, project
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, detail_response, get_or_404, list_response, public, route
from tests.sandbox.util import fmt_ts, mix, now

DAY = 86400
GROUP_BY = ("total", "hour", "day", "month")

# ---- newsletters (§3.7) --------------------------------------------------------------------
NEWSLETTERS = ListSpec(
    "newsletterId",
    filters={
        "subject": Filter("like"),
        "name": Filter("like"),
        "status": Filter("eq"),
        "type": Filter("eq"),
        "campaignId": Filter("in", "campaign.campaignId"),
        "createdOn": Filter("range"),
        "sendOn": Filter("range"),
    },
    sorts={"createdOn": "createdOn", "sendOn": "sendOn"},
)
_NEWSLETTER_LIST_KEYS = (
    "newsletterId", "href", "name", "type", "status", "editor", "subject", "campaign", "sendOn",
    "sendSettings", "sendMetrics", "createdOn",
)  # fmt: skip


def newsletter_list_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """List element: flags is a comma string, sendSettings only timeTravel/perfectTiming (§3.7)."""
    out = {k: item[k] for k in _NEWSLETTER_LIST_KEYS}
    settings = item["sendSettings"]
    out["sendSettings"] = {
        "timeTravel": settings["timeTravel"],
        "perfectTiming": settings["perfectTiming"],
    }
    out["flags"] = ",".join(item["_flags"])
    return out


def newsletter_detail_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """Detail: flags is an array, clickTracks with string amounts (§3.7)."""
    out = public(item)
    out["flags"] = list(item["_flags"])
    out["clickTracks"] = _track_refs(item["_tracks"])
    if out["sendSettings"].get("externalLexpad") is None:
        out["sendSettings"] = {
            k: v for k, v in out["sendSettings"].items() if k != "externalLexpad"
        }
    return out


def _track_refs(tracks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "clickTrackId": t["clickTrackId"],
            "url": t["url"],
            "name": t["name"],
            "amount": str(t["clicks"]),
        }
        for t in tracks
    ]


# ---- message statistics (§3.8) -------------------------------------------------------------
STATS_SPEC = {
    "newsletters": ListSpec(
        "timeInterval",
        filters={
            "groupBy": Filter("param"),
            "newsletterId": Filter("param"),
            "campaignId": Filter("param"),
            "createdOn": Filter("range"),
        },
    ),
    "autoresponders": ListSpec(
        "timeInterval",
        filters={
            "groupBy": Filter("param"),
            "autoreponderId": Filter("param"),  # sic: the official name lacks the "s" (§3.0)
            "campaignId": Filter("param"),
            "createdOn": Filter("range"),
        },
    ),
    "rss-newsletters": ListSpec(
        "timeInterval",
        filters={
            "groupBy": Filter("param"),
            "rssNewsletterId": Filter("param"),
            "campaignId": Filter("param"),
            "createdOn": Filter("range"),
        },
    ),
}
ONE_STATS = ListSpec(
    "timeInterval", filters={"groupBy": Filter("param"), "createdOn": Filter("range")}
)
_COUNTERS = (
    "sent", "totalOpened", "totalHumanOpened", "uniqueOpened", "uniqueHumanOpened", "totalClicked",
    "totalHumanClicked", "uniqueClicked", "uniqueHumanClicked", "goals", "uniqueGoals", "forwarded",
    "unsubscribed", "bounced", "complaints",
)  # fmt: skip
_SPREAD = (0.6, 0.25, 0.1, 0.05)  # share of opens/clicks on the send day and the next three


def _totals(item: Mapping[str, Any]) -> dict[str, int]:
    metrics = item.get("sendMetrics")
    if metrics is not None:
        sent = int(metrics["sent"])
        delivered = int(metrics["delivered"])
        open_rate = float(metrics["openRate"])
        click_rate = float(metrics["clickRate"])
    else:
        sent = int(item.get("_total", 0))
        delivered = int(sent * 0.97)
        stats = item.get("statistics") or {}
        open_rate = float(stats.get("openRate", 0.3))
        click_rate = float(stats.get("clickRate", 0.05))
    unique_opened = int(delivered * open_rate)
    unique_clicked = int(delivered * click_rate)
    return {
        "sent": sent,
        "totalOpened": int(unique_opened * 1.4),
        "totalHumanOpened": int(unique_opened * 1.1),
        "uniqueOpened": unique_opened,
        "uniqueHumanOpened": int(unique_opened * 0.8),
        "totalClicked": int(unique_clicked * 1.3),
        "totalHumanClicked": int(unique_clicked * 1.2),
        "uniqueClicked": unique_clicked,
        "uniqueHumanClicked": int(unique_clicked * 0.9),
        "goals": unique_clicked // 4,
        "uniqueGoals": unique_clicked // 5,
        "forwarded": unique_opened // 50,
        "unsubscribed": sent // 200,
        "bounced": sent - delivered,
        "complaints": sent // 2000,
    }


def _events(item: Mapping[str, Any]) -> list[tuple[int, dict[str, int]]]:
    """Spread a message's totals over its send day and the three days after (hourly stamps)."""
    if item.get("type") == "draft":
        return []
    totals = _totals(item)
    start = int(item["_send"])
    out = []
    for day, share in enumerate(_SPREAD):
        counters = {
            k: (v if day == 0 else 0) if k in {"sent", "bounced"} else int(v * share)
            for k, v in totals.items()
        }
        out.append((start + day * DAY, counters))
    return out


def _bucket(epoch: int, group: str) -> tuple[int, str]:
    t = time.gmtime(epoch)
    if group == "hour":
        start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, 0, 0))
        return start, "PT1H"
    if group == "day":
        return calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0)), "P1D"
    return calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)), "P1M"


def _duration(seconds: int) -> str:
    days, rest = divmod(max(seconds, 0), DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{secs}S"


def message_statistics(
    items: Iterable[Mapping[str, Any]], query: ListQuery
) -> list[dict[str, Any]]:
    """Aggregate message events per time interval (§3.8; cross-message sums UNCONFIRMED)."""
    group = query.filters.get("groupBy", "total").lower()
    if group not in GROUP_BY:
        raise errors.validation(
            validationType="searchFilter[query]",
            fieldName="groupBy",
            originalName="query[groupBy]",
            errorDescription="Allowed values: total, hour, day, month",
        )
    low, high = query.range_bounds("createdOn")
    events = [
        (stamp, counters)
        for item in items
        for stamp, counters in _events(item)
        if (low is None or stamp >= low) and (high is None or stamp <= high)
    ]
    if not events:
        return []
    if group == "total":
        first = min(s for s, _ in events)
        last = max(s for s, _ in events)
        sums = {k: sum(c[k] for _, c in events) for k in _COUNTERS}
        return [{"timeInterval": f"{fmt_ts(first)}/{_duration(last - first + 3600)}", **sums}]
    buckets: dict[tuple[int, str], dict[str, int]] = {}
    for stamp, counters in events:
        key = _bucket(stamp, group)
        acc = buckets.setdefault(key, dict.fromkeys(_COUNTERS, 0))
        for k in _COUNTERS:
            acc[k] += counters[k]
    return [
        {"timeInterval": f"{fmt_ts(start)}/{period}", **acc}
        for (start, period), acc in sorted(buckets.items())
    ]


def _stats_response(ctx: Ctx, items: Iterable[Mapping[str, Any]], spec: ListSpec) -> Response:
    ctx.query.check(spec)
    rows = message_statistics(items, ctx.query)
    page = paginate(rows, ctx.query)
    return Response(200, [project(r, ctx.query, "timeInterval") for r in page.items], page.headers)


def _ids(value: str | None) -> set[str] | None:
    return None if value is None else {v.strip() for v in value.split(",") if v.strip()}


def _pick(
    items: list[dict[str, Any]], query: ListQuery, id_param: str, campaign_of: Any
) -> list[dict[str, Any]]:
    ids = _ids(query.filters.get(id_param))
    camps = _ids(query.filters.get("campaignId"))
    return [
        i
        for i in items
        if (ids is None or i["_id"] in ids) and (camps is None or campaign_of(i) in camps)
    ]


@route("GET", "/newsletters/statistics")
def newsletters_statistics(ctx: Ctx) -> Response:
    """GET /newsletters/statistics (§3.8): query[newsletterId], query[campaignId] lists."""
    chosen = _pick(
        ctx.data.newsletters, ctx.query, "newsletterId", lambda i: i["campaign"]["campaignId"]
    )
    return _stats_response(ctx, chosen, STATS_SPEC["newsletters"])


@route("GET", "/newsletters")
def list_newsletters(ctx: Ctx) -> Response:
    """GET /newsletters."""
    return list_response(ctx, ctx.data.newsletters, NEWSLETTERS, newsletter_list_view)


@route("GET", "/newsletters/{newsletterId}")
def get_newsletter(ctx: Ctx) -> Response:
    """GET /newsletters/{newsletterId}."""
    item = get_or_404(ctx, "newsletters", "newsletterId")
    return detail_response(ctx, item, "newsletterId", newsletter_detail_view)


@route("GET", "/newsletters/{newsletterId}/statistics")
def newsletter_statistics(ctx: Ctx) -> Response:
    """GET /newsletters/{newsletterId}/statistics (§3.8)."""
    item = get_or_404(ctx, "newsletters", "newsletterId")
    return _stats_response(ctx, [item], ONE_STATS)


NEWSLETTER_ACTIVITIES = ListSpec(
    "createdOn",
    filters={"activity": Filter("eq"), "createdOn": Filter("range")},
    sorts={"createdOn": "createdOn"},
    projectable=False,
)


@route("GET", "/newsletters/{newsletterId}/activities")
def newsletter_activities(ctx: Ctx) -> Response:
    """Deprecated activities (§3.7): default window is the last 14 days.

    The "only the last 30 days" limit is not enforced, so seeded (older) activity can be read
    with an explicit range. Recipients are sampled deterministically from the seeded contacts.
    """
    item = get_or_404(ctx, "newsletters", "newsletterId")
    data = ctx.data
    cs = data.contacts_store
    index = data.newsletters.index(item)
    events: list[dict[str, Any]] = []
    if item["type"] != "draft" and cs.seeded:
        with data.lock:
            for j in range(min(int(item["sendMetrics"]["sent"]), 60)):
                row = mix(data.seed, index, 1000 + j) % cs.seeded
                if not cs.alive[row]:
                    continue
                contact = {
                    "contactId": cs.contact_id(row),
                    "email": cs.email(row),
                    "href": f"{data.base}/contacts/{cs.contact_id(row)}",
                }
                send = int(item["_send"]) + j * 7
                events.append({"activity": "send", "createdOn": fmt_ts(send), "contact": contact})
                if j % 3 == 0:
                    events.append(
                        {"activity": "open", "createdOn": fmt_ts(send + 5400), "contact": contact}
                    )
                if j % 9 == 0:
                    events.append(
                        {"activity": "click", "createdOn": fmt_ts(send + 6000), "contact": contact}
                    )
    events.sort(key=lambda e: e["createdOn"])
    _default_window(ctx.query)
    return list_response(ctx, events, NEWSLETTER_ACTIVITIES)


def _default_window(query: ListQuery) -> None:
    if "createdOn" not in query.ranges:
        # §3.1 / §3.7: without query[createdOn] only the last 14 days are returned.
        query.ranges["createdOn"] = {"from": fmt_ts(now() - 14 * DAY)}


# ---- autoresponders (§3.9) -----------------------------------------------------------------
AUTORESPONDERS = ListSpec(
    "autoresponderId",
    filters={
        "subject": Filter("like"),
        "name": Filter("like"),
        "status": Filter("eq"),
        "campaignId": Filter("in", "campaignId"),
        "createdOn": Filter("range"),
    },
    sorts={
        "name": "name",
        "subject": "subject",
        "dayOfCycle": "triggerSettings.dayOfCycle",
        "delivered": "statistics.delivered",
        "openRate": "statistics.openRate",
        "clickRate": "statistics.clickRate",
        "createdOn": "createdOn",
    },
)


def autoresponder_list_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """List element: campaign reference uses campaignId (§3.9)."""
    out = {k: v for k, v in public(item).items() if k != "editor"}
    camp = item["_campaign"]
    out["campaign"] = {"campaignId": camp["campaignId"], "href": camp["href"], "name": camp["name"]}
    return out


def autoresponder_detail_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """Detail: the campaign object's id key is `id`, plus clickTracks (§3.9)."""
    out = public(item)
    camp = item["_campaign"]
    out["campaign"] = {"id": camp["campaignId"], "href": camp["href"], "name": camp["name"]}
    out["clickTracks"] = _track_refs(item["_tracks"])
    return out


@route("GET", "/autoresponders/statistics")
def autoresponders_statistics(ctx: Ctx) -> Response:
    """GET /autoresponders/statistics: the id filter is query[autoreponderId] (sic, §3.0)."""
    chosen = _pick(ctx.data.autoresponders, ctx.query, "autoreponderId", lambda i: i["campaignId"])
    return _stats_response(ctx, chosen, STATS_SPEC["autoresponders"])


@route("GET", "/autoresponders")
def list_autoresponders(ctx: Ctx) -> Response:
    """GET /autoresponders."""
    return list_response(ctx, ctx.data.autoresponders, AUTORESPONDERS, autoresponder_list_view)


@route("GET", "/autoresponders/{autoresponderId}")
def get_autoresponder(ctx: Ctx) -> Response:
    """GET /autoresponders/{autoresponderId}."""
    item = get_or_404(ctx, "autoresponders", "autoresponderId")
    return detail_response(ctx, item, "autoresponderId", autoresponder_detail_view)


@route("GET", "/autoresponders/{autoresponderId}/statistics")
def autoresponder_statistics(ctx: Ctx) -> Response:
    """GET /autoresponders/{autoresponderId}/statistics (§3.8)."""
    return _stats_response(ctx, [get_or_404(ctx, "autoresponders", "autoresponderId")], ONE_STATS)


# ---- RSS newsletters (§3.20) ---------------------------------------------------------------
RSS = ListSpec(
    "rssNewsletterId",
    filters={
        "subject": Filter("like"),
        "status": Filter("eq"),
        "campaignId": Filter("in", "_campaign.campaignId"),
        "createdOn": Filter("range"),
    },
    sorts={"createdOn": "createdOn"},
)


def rss_list_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """List element: flags as a comma string."""
    out = public(item)
    out["flags"] = ",".join(item["_flags"])
    return out


def rss_detail_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """Detail: flags array, clickTracks, selectedContacts in sendSettings."""
    out = public(item)
    out["flags"] = list(item["_flags"])
    out["clickTracks"] = _track_refs(item["_tracks"])
    out["sendSettings"] = {**out["sendSettings"], "selectedContacts": []}
    return out


@route("GET", "/rss-newsletters/statistics")
def rss_statistics(ctx: Ctx) -> Response:
    """GET /rss-newsletters/statistics (§3.8)."""
    chosen = _pick(
        ctx.data.rss_newsletters,
        ctx.query,
        "rssNewsletterId",
        lambda i: i["_campaign"]["campaignId"],
    )
    return _stats_response(ctx, chosen, STATS_SPEC["rss-newsletters"])


@route("GET", "/rss-newsletters")
def list_rss(ctx: Ctx) -> Response:
    """GET /rss-newsletters."""
    return list_response(ctx, ctx.data.rss_newsletters, RSS, rss_list_view)


@route("GET", "/rss-newsletters/{rssNewsletterId}")
def get_rss(ctx: Ctx) -> Response:
    """GET /rss-newsletters/{rssNewsletterId}."""
    item = get_or_404(ctx, "rss-newsletters", "rssNewsletterId")
    return detail_response(ctx, item, "rssNewsletterId", rss_detail_view)


@route("GET", "/rss-newsletters/{rssNewsletterId}/statistics")
def rss_one_statistics(ctx: Ctx) -> Response:
    """GET /rss-newsletters/{rssNewsletterId}/statistics (§3.8)."""
    return _stats_response(ctx, [get_or_404(ctx, "rss-newsletters", "rssNewsletterId")], ONE_STATS)


# ---- click tracks (§3.20) ------------------------------------------------------------------
CLICK_TRACKS = ListSpec(
    "clickTrackId", filters={"createdOn": Filter("range")}, sorts={"createdOn": "createdOn"}
)


@route("GET", "/click-tracks")
def list_click_tracks(ctx: Ctx) -> Response:
    """GET /click-tracks."""
    return list_response(ctx, ctx.data.click_tracks, CLICK_TRACKS)


@route("GET", "/click-tracks/{clickTrackId}")
def get_click_track(ctx: Ctx) -> Response:
    """GET /click-tracks/{clickTrackId}."""
    return detail_response(ctx, get_or_404(ctx, "click-tracks", "clickTrackId"), "clickTrackId")


# ---- contact activities (§3.1) -------------------------------------------------------------
CONTACT_ACTIVITIES = ListSpec("createdOn", filters={"createdOn": Filter("range")}, sorts={})


def contact_activities(ctx: Ctx, row: int) -> list[dict[str, Any]]:
    """Seeded activities of one contact (send, then maybe open and click), oldest first."""
    data = ctx.data
    cs = data.contacts_store
    sent = [n for n in data.newsletters if n["type"] != "draft"]
    if row >= cs.seeded or not sent:
        return []
    h = mix(data.seed, row, 50)
    count = h % (data.scale.activities_per_contact + 1)
    out: list[dict[str, Any]] = []
    for k in range(count):
        message = sent[(h >> (5 * k + 3)) % len(sent)]
        send = int(message["_send"]) + (row % 600)
        resource = {
            "resourceId": message["newsletterId"],
            "resourceType": "newsletters",
            "href": message["href"],
        }
        out.append(
            {
                "activity": "send",
                "subject": message["subject"],
                "createdOn": fmt_ts(send),
                "previewUrl": f"https://www.grnewsletters.test/archive/{message['newsletterId']}",
                "resource": resource,
            }
        )
        roll = (h >> (2 * k)) % 4
        if roll >= 1:
            out.append(
                {
                    "activity": "open",
                    "subject": message["subject"],
                    "createdOn": fmt_ts(send + 3600 + k),
                    "previewUrl": None,
                    "resource": resource,
                }
            )
        if roll == 3 and message["_tracks"]:
            track = message["_tracks"][0]
            out.append(
                {
                    "activity": "click",
                    "subject": message["subject"],
                    "createdOn": fmt_ts(send + 3700 + k),
                    "previewUrl": None,
                    "resource": resource,
                    "clickTrack": {
                        "id": track["clickTrackId"],
                        "name": track["name"],
                        "url": track["url"],
                    },
                }
            )
    out.sort(key=lambda a: a["createdOn"])
    return out


@route("GET", "/contacts/{contactId}/activities")
def list_contact_activities(ctx: Ctx) -> Response:
    """GET /contacts/{contactId}/activities: no contactId in items; default last 14 days (§3.1)."""
    row = ctx.data.contacts_store.row_of(ctx.args["contactId"])
    if row is None:
        raise errors.not_found(contactId=ctx.args["contactId"])
    ctx.query.check(CONTACT_ACTIVITIES)
    _default_window(ctx.query)
    return list_response(ctx, contact_activities(ctx, row), CONTACT_ACTIVITIES)
