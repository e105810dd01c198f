"""Transactional emails: `GET /transactional-emails` and `/transactional-emails/statistics`
(OpenAPI `getTransactionalEmailsList`, `getTransactionalEmailsStatistics`).

Both are labelled "GetResponse MAX, Add-on required": they answer 403 / 1023 unless the sandbox
runs with `transactional_enabled=True` (as `/sms*` with `sms_enabled`). Seeded from a generator
of this module's own (derived from the store's seed), so adding them changes no other value.
"""

from __future__ import annotations

import calendar
import random
import time
from typing import TYPE_CHECKING, Any

from tests.sandbox import errors
from tests.sandbox.listing import Filter, ListSpec
from tests.sandbox.response import Response
from tests.sandbox.routes import Ctx, list_response, route
from tests.sandbox.util import SEED_END, SEED_START, b62, fmt_ts, parse_filter_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tests.sandbox.store import DataStore

TRANSACTIONAL_EMAILS = 14
COLLECTION = "transactional-emails"
DAY = 86_400
#: Recipient statuses of seeded emails (schema `TransactionalEmailRecipient`), all sent.
STATUSES = ("sent", "opened", "opened", "bounced", "reported_spam", "sent", "opened")
EMAILS = ListSpec(
    "transactionalEmailId",
    filters={
        "sentOn": Filter("range", "recipients.to.statuses.sentOn"),
        "tagId": Filter("eq", "tag.tagId"),
        "tagged": Filter("param"),
    },
)
STATISTICS = ListSpec(
    "timeFrame",
    filters={
        "groupBy": Filter("param"),
        "timeFrame": Filter("range"),
        "tagged": Filter("param"),
        "tagId": Filter("param"),
    },
    paginated=False,
)
_COUNTERS = ("sent", "opened", "bounced", "complaint", "clicks")


def _rng(store: DataStore) -> random.Random:
    """This module's generator: never the store's, so other seeded values stay as they were."""
    return random.Random(f"transactional-{store.seed}")


def seed(store: DataStore) -> None:
    """Seed transactional emails, one recipient each, sent over the seeded period."""
    rng = _rng(store)
    stamps = sorted(rng.randint(SEED_START, SEED_END) for _ in range(TRANSACTIONAL_EMAILS))
    store.collections[COLLECTION] = []
    for stamp in stamps:
        add_email(store, stamp, STATUSES[len(store.collections[COLLECTION]) % len(STATUSES)])


def add_email(store: DataStore, sent: int, status: str = "sent") -> dict[str, Any]:
    """Add a transactional email sent at `sent` (seeding, or a test at run time); return it."""
    with store.lock:
        emails = store.collections[COLLECTION]
        number = len(emails)
        ident = "T1" + b62(number, 3)
        sender = store.collections["from-fields"][0]
        item: dict[str, Any] = {
            "transactionalEmailId": ident,
            "href": f"{store.base}/transactional-emails/{ident}",
            "fromField": {"fromFieldId": sender["fromFieldId"], "href": sender["href"]},
            "recipients": {
                "to": {
                    "email": f"buyer{number}@shop.test",
                    "name": f"Buyer {number}",
                    "status": status,
                    "statuses": {"sentOn": fmt_ts(sent)},
                }
            },
            "subject": f"Order confirmation #{number + 1}",
            "_clicks": 1 if status == "opened" else 0,
        }
        if number % 3 == 0:
            item["tag"] = {"tagId": "tt" + b62(number % 2, 1)}
        emails.append(item)
        return item


def _enabled(ctx: Ctx) -> None:
    if not ctx.sb.transactional_enabled:
        # Labelled "GetResponse MAX, Add-on required"; the refusal is not documented: 403 / 1023,
        # the same answer as `/sms*` without its add-on.
        raise errors.ApiError(
            403,
            1023,
            message="Transactional emails add-on is not enabled for this account",
            context={"addon": "transactional_emails"},
        )


def _sent_on(item: Mapping[str, Any]) -> int:
    return int(parse_filter_time(item["recipients"]["to"]["statuses"]["sentOn"], end_of_day=False))


def statistics(items: Iterable[Mapping[str, Any]], group: str) -> list[dict[str, Any]]:
    """`TransactionalEmailStatistics` rows: one per day with sends, or one `total`."""
    buckets: dict[int, dict[str, int]] = {}
    first = last = None
    for item in items:
        sent = _sent_on(item)
        first = sent if first is None else min(first, sent)
        last = sent if last is None else max(last, sent)
        t = time.gmtime(sent)
        day = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0)) if group == "day" else 0
        acc = buckets.setdefault(day, dict.fromkeys(_COUNTERS, 0))
        status = item["recipients"]["to"]["status"]
        acc["sent"] += 1
        acc["opened"] += status == "opened"
        acc["bounced"] += status == "bounced"
        acc["complaint"] += status == "reported_spam"
        acc["clicks"] += int(item.get("_clicks", 0))
    if first is None or last is None:
        return []
    if group == "total":
        days, rest = divmod(last - first + 1, DAY)
        hours, rest = divmod(rest, 3600)
        span = f"P{days}DT{hours}H{rest // 60}M{rest % 60}S"
        return [{"timeFrame": f"{fmt_ts(first)}/{span}", **buckets[0]}]
    return [{"timeFrame": f"{fmt_ts(day)}/P1D", **acc} for day, acc in sorted(buckets.items())]


@route("GET", "/transactional-emails")
def list_emails(ctx: Ctx) -> Response:
    """GET /transactional-emails (`query[sentOn]`, `query[tagId]`; no sort: sent order)."""
    _enabled(ctx)
    return list_response(ctx, ctx.data.collections[COLLECTION], EMAILS)


@route("GET", "/transactional-emails/statistics")
def email_statistics(ctx: Ctx) -> Response:
    """GET /transactional-emails/statistics: `query[groupBy]` (required) total or day."""
    _enabled(ctx)
    ctx.query.check(STATISTICS)
    group = ctx.query.filters.get("groupBy", "").lower()
    if group not in {"total", "day"}:
        raise errors.validation(
            validationType="searchFilter[query]",
            fieldName="groupBy",
            originalName="query[groupBy]",
            errorDescription="Required; allowed values: total, day",
        )
    low, high = ctx.query.range_bounds("timeFrame")
    with ctx.data.lock:
        chosen = [
            item
            for item in ctx.data.collections[COLLECTION]
            if (low is None or _sent_on(item) >= low) and (high is None or _sent_on(item) <= high)
        ]
    return Response(200, statistics(chosen, group))
