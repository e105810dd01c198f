"""Custom reports (OpenAPI tag "Custom Reports"): list, detail with files, one-time scheduling.

Files are CSV, served by the second host (downloads.py) at a fresh signed `downloadUrl` on every
detail read. The official docs give no column layout: the one served here is an assumption,
written down in README.md ("Custom reports"), and the tap reads columns by header name.
Seeded reports use their own random.Random, never the store's, so other seeded values stay the
same whether or not reports are seeded.
"""

# ruff: noqa: EM101, TRY003 - messages here are API error bodies, not exception text

from __future__ import annotations

import csv
import io
import random
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.messages import contact_activities
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, get_or_404, keep, list_response, route
from tests.sandbox.util import SEED_END, fmt_ts, now, parse_filter_time

if TYPE_CHECKING:
    from tests.sandbox.store import DataStore

COLLECTION = "custom-reports"
#: OpenAPI `CustomReportTypesEnum`.
TYPES = frozenset(
    {
        "subscription_rejections",
        "message_stats",
        "unsubscribe_contacts_lists_report",
        "standard_subscriber_activity_report",
        "bounces",
        "account_summary_report",
        "user_activity",
        "list_summary_report",
        "isp_message_stats_report",
        "webinar_participants_report",
        "import_error_report",
        "message_clicks_report",
        "unconfirmed_contacts_stats_report",
        "transactional_email_bounce_report",
        "message_activity_report",
    }
)
#: OpenAPI `MessageActivityReportActivityTypesEnum`.
ACTIVITY_TYPES = frozenset({"click", "open", "send"})
#: The assumed header of a `message_activity_report` file (README.md, "Custom reports").
ACTIVITY_HEADER = (
    "Message ID",
    "Message subject",
    "Contact ID",
    "Email",
    "Activity",
    "Activity date",
    "Click track ID",
    "URL",
)
REPORTS = ListSpec(
    "customReportId",
    filters={"name": Filter("like")},
    sorts={"name": "name", "frequency": "frequency", "generatedAt": "generatedAt"},
)
LIST_VIEW = keep("customReportId", "name", "href", "frequency", "createdAt", "generatedAt")
#: Salt of the reports' own generator (never the store's shared one).
SALT = 0x5EED_0017


# ---- seeded reports --------------------------------------------------------------------------
def seed(store: DataStore) -> None:
    """A few reports: bounces (two ready files, one pending), a list summary, unsubscribes
    (BOM, a quoted newline, a column the tap has never seen), a report with no ready file yet,
    and one whose name differs only in punctuation from the first."""
    rng = random.Random(store.seed ^ SALT)
    stamp = now()
    reports = [
        ("Bounces weekly", "bounces", "weekly", [_bounces, _bounces, None]),
        ("List summary 2025", "list_summary_report", "monthly", [_list_summary]),
        ("Unsubscribes: Q1", "unsubscribe_contacts_lists_report", "one_time", [_unsubscribes]),
        ("Scheduled next", "message_stats", "daily", [None]),
        ("bounces-weekly", "bounces", "one_time", [_bounces]),
    ]
    store.collections[COLLECTION] = []
    for number, (name, kind, frequency, makers) in enumerate(reports):
        created = SEED_END - 86400 * 30 + 3600 * number  # seeded: the same every start
        report = _report(store, f"cR{number + 1}", name, kind, frequency, created)
        for index, make in enumerate(makers):
            content = None if make is None else make(rng)
            fid = f"{report['customReportId']}F{index + 1}"
            report["_files"].append(_file(fid, content, stamp + 86400 * (7 + index)))
        store.collections[COLLECTION].append(report)


def _report(  # noqa: PLR0913, PLR0917 - the fields of one report
    store: DataStore, rid: str, name: str, kind: str, frequency: str, created: int
) -> dict[str, Any]:
    scheduling: dict[str, Any] = {"frequency": frequency, "oneTime": None, "recurring": None}
    if frequency == "one_time":
        scheduling["oneTime"] = {"startDate": fmt_ts(created), "endDate": fmt_ts(created + 86400)}
    else:
        scheduling["recurring"] = {"hour": 6}
    return {
        "customReportId": rid,
        "name": name,
        "href": f"{store.base}/custom-reports/{rid}",
        "type": kind,
        "frequency": frequency,
        "scheduling": scheduling,
        "filters": {},
        "createdAt": fmt_ts(created),
        "generatedAt": fmt_ts(created + 3600),
        "_files": [],
    }


def _file(fid: str, content: bytes | None, expires: int) -> dict[str, Any]:
    status = "pending" if content is None else "ready"
    return {"customReportFileId": fid, "status": status, "_expires": expires, "_content": content}


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]], *, bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def _bounces(rng: random.Random) -> bytes:
    rows = [
        (
            f"bounce{rng.randint(1, 99999)}@brand.test",
            rng.choice(["hard", "soft"]),
            fmt_ts(1_740_000_000 + rng.randint(0, 9_000_000)),
            rng.choice(["newsletter", "customers"]),
            "mailbox unavailable",
        )
        for _ in range(rng.randint(20, 40))
    ]
    return _csv(("Email", "Bounce type", "Bounce date", "List name", "Reason"), rows)


def _list_summary(rng: random.Random) -> bytes:
    rows = [
        (
            name,
            f"2025-{month:02d}-01",
            rng.randint(0, 500),
            rng.randint(0, 50),
            f"{rng.random():.4f}",
        )
        for name in ("newsletter", "customers", "leads")
        for month in range(1, 13)
    ]
    header = ("List", "Date", "Subscribed", "Unsubscribed", "Unsubscribe rate")
    return _csv(header, rows)


def _unsubscribes(rng: random.Random) -> bytes:
    rows = [
        (
            f"gone{i}@brand.test",
            "newsletter",
            fmt_ts(1_735_700_000 + rng.randint(0, 7_000_000)),
            "Too many e-mails,\nand too long" if i % 5 == 0 else "other",
            rng.choice(["link", "complaint"]),
        )
        for i in range(25)
    ]
    header = ("Email", "List name", "Unsubscribed on", "Reason", "Channel (new)")
    return _csv(header, rows, bom=True)


def file_content(data: DataStore, file_id: str) -> bytes | None:
    """The bytes of ready file `file_id` (what the download host serves), or None."""
    with data.lock:
        data.process_due()
        for report in data.collections.get(COLLECTION, ()):
            for file in report["_files"]:
                if file["customReportFileId"] == file_id and file["status"] == "ready":
                    return file["_content"]  # type: ignore[no-any-return]
    return None


# ---- routes ----------------------------------------------------------------------------------
@route("GET", "/custom-reports")
def list_reports(ctx: Ctx) -> Response:
    """GET /custom-reports (`getCustomReportList`): no files in list items."""
    return list_response(ctx, ctx.data.collections.get(COLLECTION, []), REPORTS, LIST_VIEW)


@route("GET", "/custom-reports/{customReportId}")
def get_report(ctx: Ctx) -> Response:
    """GET /custom-reports/{id} (`getCustomReportDetails`): a fresh `downloadUrl` per read."""
    report = get_or_404(ctx, COLLECTION, "customReportId")
    return Response(200, detail(ctx, report))


def detail(ctx: Ctx, report: dict[str, Any]) -> dict[str, Any]:
    """`CustomReportDetails` of `report`; ready files get a new link on the download host."""
    with ctx.data.lock:
        files = [
            {
                "customReportFileId": file["customReportFileId"],
                **(
                    {"downloadUrl": ctx.sb.downloads.link(file["customReportFileId"])}
                    if file["status"] == "ready"
                    else {}
                ),
                "status": file["status"],
                "expiresAt": fmt_ts(file["_expires"]),
            }
            for file in report["_files"]
        ]
        shown = {k: v for k, v in report.items() if not k.startswith("_") and k != "frequency"}
    return {**shown, "files": files}


@route("POST", "/custom-reports")
def create_report(ctx: Ctx) -> Response:
    """POST /custom-reports (`createCustomReport`, schema `BaseCreateCustomReport`): one-time.

    The file is `pending` for `sb.downloads.ready_after` seconds, then `ready`.
    """
    body = ctx.body if isinstance(ctx.body, dict) else {}
    name, kind, start, end = _checked(body)
    filters = _checked_filters(body) if kind == "message_activity_report" else {}
    data = ctx.data
    with data.lock:
        rid = f"cRn{len(data.collections.setdefault(COLLECTION, [])) + 1}"
        report = _report(data, rid, name, kind, "one_time", now())
        report["scheduling"]["oneTime"] = {"startDate": fmt_ts(start), "endDate": fmt_ts(end)}
        report["filters"] = filters
        file = _file(f"{rid}F1", None, now() + 7 * 86400)
        report["_files"].append(file)
        data.add_item(COLLECTION, report)

    def ready() -> None:
        content = b""
        if kind == "message_activity_report":
            content = activity_csv(data, filters, start, end)
        file["_content"], file["status"] = content, "ready"
        report["generatedAt"] = fmt_ts(now())

    data.schedule(ctx.sb.downloads.ready_after, ready)
    return Response(201, detail(ctx, report))


def _checked(body: dict[str, Any]) -> tuple[str, str, int, int]:
    name, kind, scheduling = body.get("name"), body.get("type"), body.get("scheduling")
    if not isinstance(name, str) or not 3 <= len(name) <= 70:
        raise errors.validation("name must be 3 to 70 characters", fieldName="name")
    if kind not in TYPES:
        raise errors.validation("Unknown report type", fieldName="type")
    if not isinstance(scheduling, dict) or scheduling.get("frequency") != "one_time":
        raise errors.validation("scheduling.frequency must be one_time", fieldName="scheduling")
    start = parse_filter_time(str(scheduling.get("startDate", "")), end_of_day=False)
    end = parse_filter_time(str(scheduling.get("endDate", "")), end_of_day=True)
    dates = [str(scheduling.get(key, "")) for key in ("startDate", "endDate")]
    if start is None or end is None or any(len(day) != 10 for day in dates) or end < start:
        raise errors.validation("startDate and endDate are Y-m-d dates", fieldName="scheduling")
    return str(name), str(kind), start, end


def _checked_filters(body: dict[str, Any]) -> dict[str, Any]:
    """`CreateMessageActivityReportFilters`: activityType and messageId are required."""
    filters = body.get("filters")
    kinds = filters.get("activityType") if isinstance(filters, dict) else None
    ids = filters.get("messageId") if isinstance(filters, dict) else None
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= ACTIVITY_TYPES:
        raise errors.validation("filters.activityType: click, open, send", fieldName="filters")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise errors.validation("filters.messageId: message ids", fieldName="filters")
    return {"activityType": list(kinds), "messageId": list(ids)}


def activity_csv(data: DataStore, filters: dict[str, Any], start: int, end: int) -> bytes:
    """A `message_activity_report` file: the activities `GET /contacts/{id}/activities` answers
    for every live contact, for the filtered messages and types, `start` to `end` inclusive."""
    messages, kinds = set(filters["messageId"]), set(filters["activityType"])
    low, high = fmt_ts(start), fmt_ts(end)
    view: Any = SimpleNamespace(data=data)
    rows = []
    with data.lock:
        cs = data.contacts_store
        for row in cs.live_rows():
            for item in contact_activities(view, row):
                resource = item["resource"]["resourceId"]
                if item["activity"] not in kinds or resource not in messages:
                    continue
                if not low <= item["createdOn"] <= high:
                    continue
                track = item.get("clickTrack") or {}
                rows.append(
                    (
                        resource,
                        item["subject"],
                        cs.contact_id(row),
                        cs.email(row),
                        item["activity"],
                        item["createdOn"][:19].replace("T", " "),
                        track.get("id", ""),
                        track.get("url", ""),
                    )
                )
    return _csv(ACTIVITY_HEADER, rows)
