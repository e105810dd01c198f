"""Messages (newsletters, autoresponders, RSS, SMS), their statistics and activities, senders."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

from typing_extensions import override

from tap_getresponse import windows
from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream
from tap_getresponse.normalize import interval_start
from tap_getresponse.run import ParentCollection
from tap_getresponse.streams.statistics import DailyStatisticsStream

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: GetResponse keeps newsletter activities for the last 30 days only (`getNewsletterActivities`).
NEWSLETTER_ACTIVITY_DAYS = 30
STRING = {"type": ["string", "null"]}


def _sent(newsletter: Mapping[str, t.Any]) -> bool:
    """Drafts were never sent, so they have neither statistics nor activities."""
    return newsletter.get("type") != "draft"


NEWSLETTERS = ParentCollection("/newsletters", "newsletterId", ("type",), _sent)
AUTORESPONDERS = ParentCollection("/autoresponders", "autoresponderId")
RSS_NEWSLETTERS = ParentCollection("/rss-newsletters", "rssNewsletterId")


class NewslettersStream(GetResponseStream):
    """Newsletters (`getNewsletterList`); `sendMetrics` and `status` change: read in full."""

    name = "newsletters"
    path = "/newsletters"
    primary_keys = ("newsletterId",)
    sort_field = "createdOn"


class AutorespondersStream(GetResponseStream):
    """Autoresponders (`getAutoresponderList`); `statistics` change: read in full."""

    name = "autoresponders"
    path = "/autoresponders"
    primary_keys = ("autoresponderId",)
    sort_field = "createdOn"


class RssNewslettersStream(GetResponseStream):
    """RSS newsletters (`getRssNewslettersList`); mutable after creation, so read in full."""

    name = "rss_newsletters"
    path = "/rss-newsletters"
    primary_keys = ("rssNewsletterId",)
    sort_field = "createdOn"


class ClickTracksStream(GetResponseStream):
    """Tracked links and their click counters (`getClickTrackList`), read in full."""

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
    """Sender addresses (`getFromFieldList`); `isActive`/`isDefault` change: read in full."""

    name = "from_fields"
    path = "/from-fields"
    primary_keys = ("fromFieldId",)
    sort_field = "createdOn"


class MessageStatisticsStream(DailyStatisticsStream):
    """Daily statistics of one message per request, bookmarked per message on `intervalStart`."""

    replication_key = "intervalStart"

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        for item in items:
            if type(item) is not dict or not item.get("timeInterval"):
                continue  # no intervalStart: emitted, but it cannot move the bookmark
            try:
                item["intervalStart"] = interval_start(str(item["timeInterval"]))
            except ValueError:
                self.value_report.bad(
                    "timeInterval",
                    "an interval starting with a timestamp",
                    item["timeInterval"],
                    record={self.parent_key: parent_id},
                )
                item["timeInterval"] = None
        return super().rows(items, parent_id)


class NewsletterStatisticsStream(MessageStatisticsStream):
    """`GET /newsletters/{id}/statistics?query[groupBy]=day` for every sent newsletter."""

    name = "newsletter_statistics"
    path = "/newsletters/{newsletterId}/statistics"
    parent = NEWSLETTERS
    parent_key = "newsletterId"
    primary_keys = ("newsletterId", "intervalStart")


class AutoresponderStatisticsStream(MessageStatisticsStream):
    """`GET /autoresponders/{id}/statistics?query[groupBy]=day` for every autoresponder."""

    name = "autoresponder_statistics"
    path = "/autoresponders/{autoresponderId}/statistics"
    parent = AUTORESPONDERS
    parent_key = "autoresponderId"
    primary_keys = ("autoresponderId", "intervalStart")


class RssNewsletterStatisticsStream(MessageStatisticsStream):
    """`GET /rss-newsletters/{id}/statistics?query[groupBy]=day` for every RSS newsletter."""

    name = "rss_newsletter_statistics"
    path = "/rss-newsletters/{rssNewsletterId}/statistics"
    parent = RSS_NEWSLETTERS
    parent_key = "rssNewsletterId"
    primary_keys = ("rssNewsletterId", "intervalStart")


class NewsletterActivitiesStream(BatchedFanOutStream):
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
    def parent_window(self, saved: Mapping[str, t.Any]) -> windows.Window | None:
        window = super().parent_window(saved)
        if window is None:
            return None
        horizon = self.run.window_end - dt.timedelta(days=NEWSLETTER_ACTIVITY_DAYS)
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
            if type(item) is dict:  # a contact of the wrong shape is the normaliser's to report
                contact = item.get("contact")
                item["contactId"] = contact.get("contactId") if type(contact) is dict else None
        return super().rows(items, parent_id)
