"""Messages (newsletters, autoresponders, RSS, SMS), their statistics and activities, senders.

Reference §3.6-3.9, §3.17, §3.20.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

from typing_extensions import override

from tap_getresponse import windows
from tap_getresponse.client import (
    DailyStatistics,
    GetResponseStream,
    ParentCollection,
    PartitionedStream,
)
from tap_getresponse.normalize import interval_start

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: GetResponse keeps newsletter activities for the last 30 days only (§3.7).
NEWSLETTER_ACTIVITY_DAYS = 30
STRING = {"type": ["string", "null"]}


def _sent(newsletter: Mapping[str, t.Any]) -> bool:
    """Drafts were never sent, so they have neither statistics nor activities."""
    return newsletter.get("type") != "draft"


NEWSLETTERS = ParentCollection("/newsletters", "newsletterId", ("type",), _sent)
AUTORESPONDERS = ParentCollection("/autoresponders", "autoresponderId")


class NewslettersStream(GetResponseStream):
    """Newsletters; `sendMetrics` and `status` change after creation, so read in full (§3.7)."""

    name = "newsletters"
    path = "/newsletters"
    primary_keys = ("newsletterId",)
    sort_field = "createdOn"


class AutorespondersStream(GetResponseStream):
    """Autoresponders; `statistics` change after creation, so read in full (§3.9)."""

    name = "autoresponders"
    path = "/autoresponders"
    primary_keys = ("autoresponderId",)
    sort_field = "createdOn"


class RssNewslettersStream(GetResponseStream):
    """RSS newsletters; mutable after creation, so read in full (§3.20)."""

    name = "rss_newsletters"
    path = "/rss-newsletters"
    primary_keys = ("rssNewsletterId",)
    sort_field = "createdOn"


class ClickTracksStream(GetResponseStream):
    """Tracked links and their click counters, read in full (§3.20)."""

    name = "click_tracks"
    path = "/click-tracks"
    primary_keys = ("clickTrackId",)
    sort_field = "createdOn"


class SmsStream(GetResponseStream):
    """SMS messages (GetResponse MAX with the SMS add-on; skipped elsewhere), read in full."""

    name = "sms"
    path = "/sms"
    primary_keys = ("smsId",)


class FromFieldsStream(GetResponseStream):
    """Sender addresses; `isActive`/`isDefault` change, so read in full (§3.6)."""

    name = "from_fields"
    path = "/from-fields"
    primary_keys = ("fromFieldId",)
    sort_field = "createdOn"


class MessageStatisticsStream(DailyStatistics, PartitionedStream):
    """Daily statistics of one message per request, bookmarked per message on `intervalStart`."""

    per_parent_state = True
    is_sorted = True
    replication_key = "intervalStart"
    window_field = "createdOn"
    window_sort = False
    extra_params: t.ClassVar = {"query[groupBy]": "day"}

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        for item in items:
            if item.get("timeInterval"):
                item["intervalStart"] = interval_start(str(item["timeInterval"]))
        return super().rows(items, parent_id)


class NewsletterStatisticsStream(MessageStatisticsStream):
    """`GET /newsletters/{id}/statistics?query[groupBy]=day` for every sent newsletter."""

    name = "newsletter_statistics"
    path = "/newsletters/{newsletterId}/statistics"
    parent = NEWSLETTERS
    parent_key = "newsletterId"
    batch_key = "newsletterIds"
    primary_keys = ("newsletterId", "intervalStart")


class AutoresponderStatisticsStream(MessageStatisticsStream):
    """`GET /autoresponders/{id}/statistics?query[groupBy]=day` for every autoresponder."""

    name = "autoresponder_statistics"
    path = "/autoresponders/{autoresponderId}/statistics"
    parent = AUTORESPONDERS
    parent_key = "autoresponderId"
    batch_key = "autoresponderIds"
    primary_keys = ("autoresponderId", "intervalStart")


class NewsletterActivitiesStream(PartitionedStream):
    """Sends, opens and clicks per sent newsletter (deprecated endpoint; last 30 days only)."""

    name = "newsletter_activities"
    path = "/newsletters/{newsletterId}/activities"
    parent = NEWSLETTERS
    parent_key = "newsletterId"
    batch_key = "newsletterIds"
    primary_keys = ("newsletterId", "contactId", "activity", "createdOn")
    replication_key = "createdOn"
    window_field = "createdOn"
    extra_properties: t.ClassVar = {"contactId": STRING}

    _clamp_reported = False
    _clamp_lock = threading.Lock()

    @override
    def parent_window(self, parent_id: str) -> windows.Window | None:
        window = super().parent_window(parent_id)
        if window is None:
            return None
        horizon = self.window_end - dt.timedelta(days=NEWSLETTER_ACTIVITY_DAYS)
        if window.start is not None and window.start >= horizon:
            return window
        with self._clamp_lock:  # parents are fetched on worker threads; say it once
            report, self._clamp_reported = not self._clamp_reported, True
        if report:
            self.logger.warning(
                "Stream '%s': GetResponse keeps newsletter activities for %d days only; reading "
                "from %s instead of %s, so older activities cannot be read.",
                self.name,
                NEWSLETTER_ACTIVITY_DAYS,
                windows.format_filter_time(horizon),
                windows.format_filter_time(window.start) if window.start else "the beginning",
            )
        return windows.Window(window.field, horizon, window.end, window.sort)

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        for item in items:
            item["contactId"] = (item.get("contact") or {}).get("contactId")
        return super().rows(items, parent_id)
