"""Campaigns (contact lists, OpenAPI `getCampaignList`) and their statistics flattened to rows.

The statistics endpoints (OpenAPI `getCampaignStatistics*`) answer one campaign at a time
(`query[campaignId]`; the spec documents no list of ids) with arrays of objects keyed by campaign
id, date, origin or reason. Each stream turns them into rows with explicit keys. Per-origin
`summary` totals are left out: they are the sum of the other rows and would be counted twice by
anyone summing `count`.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream, FanOutStream
from tap_getresponse.run import ParentCollection
from tap_getresponse.streams.statistics import DailyStatisticsStream

CAMPAIGNS = ParentCollection("/campaigns", "campaignId")
SUMMARY = "summary"
#: The spec spells this origin `website_buider_elegant`, its examples `website_builder_elegant`
#: (OpenAPI `getCampaignStatisticsOrigins`); answers may carry both with the same count. One row,
#: under the right spelling.
ORIGIN_ALIASES = {"website_buider_elegant": "website_builder_elegant"}

Row = dict[str, t.Any]


def origin_counts(counts: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """Counts per origin without the `summary` total and without the misspelled duplicate."""
    out: dict[str, t.Any] = {}
    for origin, count in (counts or {}).items():
        if origin == SUMMARY:
            continue
        name = ORIGIN_ALIASES.get(origin, origin)
        if name != origin and name in (counts or {}):
            continue
        out[name] = count
    return out


class CampaignsStream(GetResponseStream):
    """Contact lists; no server-side time filter, so read in full every run."""

    name = "campaigns"
    path = "/campaigns"
    primary_keys = ("campaignId",)
    sort_field = "createdOn"


class CampaignStatistics(FanOutStream):
    """One request per campaign to a `/campaigns/statistics/*` endpoint (not paginated)."""

    parent = CAMPAIGNS
    parent_key = "campaignId"
    paginated = False

    @override
    def parent_params(self, parent_id: str) -> dict[str, t.Any]:
        return {"query[campaignId]": parent_id}

    @override
    def rows(self, items: list[Row], parent_id: str) -> list[Row]:
        return [
            row for item in items if isinstance(item, dict) for row in self.flatten(item, parent_id)
        ]

    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        """Rows from one element of the response array."""
        return [{**item, "campaignId": campaign_id}]


class CampaignStatisticsStream(CampaignStatistics, BatchedFanOutStream):
    """All-time campaign statistics: campaigns in batches under one stream bookmark."""

    batch_key = "campaignIds"


class DailyCampaignStatisticsStream(CampaignStatistics, DailyStatisticsStream):
    """Campaign statistics per day, bookmarked per campaign, windowed on `createdOn`."""


class CampaignListSizeStatisticsStream(DailyCampaignStatisticsStream):
    """Subscribers on each list per day: `[{totalSubscribers, added..., createdOn}]`."""

    name = "campaign_list_size_statistics"
    path = "/campaigns/statistics/list-size"
    primary_keys = ("campaignId", "createdOn")
    replication_key = "createdOn"


class CampaignSubscriptionStatisticsStream(DailyCampaignStatisticsStream):
    """New subscribers per day and origin: `[{date: {campaignId: {origin: n}}}]`."""

    name = "campaign_subscription_statistics"
    path = "/campaigns/statistics/subscriptions"
    primary_keys = ("campaignId", "date", "origin")
    replication_key = "date"

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign, "date": date, "origin": origin, "count": count}
            for date, campaigns in item.items()
            for campaign, origins in (campaigns or {}).items()
            for origin, count in origin_counts(origins).items()
        ]


class CampaignRemovalStatisticsStream(DailyCampaignStatisticsStream):
    """Removed subscribers per day and reason: `[{date: {reason: n}}]`."""

    name = "campaign_removal_statistics"
    path = "/campaigns/statistics/removals"
    primary_keys = ("campaignId", "date", "reason")
    replication_key = "date"

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign_id, "date": date, "reason": reason, "count": count}
            for date, reasons in item.items()
            for reason, count in (reasons or {}).items()
            if reason != SUMMARY
        ]


class CampaignBalanceStatisticsStream(DailyCampaignStatisticsStream):
    """Subscriptions and removals per day: `[{date: {removals: {...}, subscriptions: {...}}}]`."""

    name = "campaign_balance_statistics"
    path = "/campaigns/statistics/balance"
    primary_keys = ("campaignId", "date", "kind", "name")
    replication_key = "date"

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign_id, "date": date, "kind": kind, "name": name, "count": count}
            for date, kinds in item.items()
            for kind, counts in (kinds or {}).items()
            for name, count in origin_counts(counts).items()
        ]


class CampaignLocationStatisticsStream(CampaignStatisticsStream):
    """Subscribers by location, all time: `[{location: {amount, continentCode, countryCode}}]`."""

    name = "campaign_location_statistics"
    path = "/campaigns/statistics/locations"
    primary_keys = ("campaignId", "location")

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [
            {
                "campaignId": campaign_id,
                "location": location,
                "amount": (values or {}).get("amount"),
                # The schema names it continentalCode, the example continentCode (OpenAPI
                # `getCampaignStatisticsLocations`).
                "continentCode": (values or {}).get("continentCode")
                or (values or {}).get("continentalCode"),
                "countryCode": (values or {}).get("countryCode"),
            }
            for location, values in item.items()
        ]


class CampaignOriginStatisticsStream(CampaignStatisticsStream):
    """Subscribers by origin, all time: `[{campaignId: {origin: n}}]`."""

    name = "campaign_origin_statistics"
    path = "/campaigns/statistics/origins"
    primary_keys = ("campaignId", "origin")

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign, "origin": origin, "count": count}
            for campaign, origins in item.items()
            for origin, count in origin_counts(origins).items()
        ]


class CampaignSummaryStatisticsStream(CampaignStatisticsStream):
    """Totals per list: `[{campaignId: {totalSubscribers, totalNewsletters, ...}}]`."""

    name = "campaign_summary_statistics"
    path = "/campaigns/statistics/summary"
    primary_keys = ("campaignId",)

    @override
    def flatten(self, item: Row, campaign_id: str) -> list[Row]:
        return [{**(totals or {}), "campaignId": campaign} for campaign, totals in item.items()]
