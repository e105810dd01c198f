"""Campaigns (contact lists, OpenAPI `getCampaignList`) and their statistics flattened to rows.

The statistics endpoints (OpenAPI `getCampaignStatistics*`) answer one campaign at a time
(`query[campaignId]`; the spec documents no list of ids) with arrays of objects keyed by campaign
id, date, origin or reason. Each stream turns them into rows with explicit keys. Per-origin
`summary` totals are left out: they are the sum of the other rows and would be counted twice by
anyone summing `count`.

The spec documents these shapes but a response may hold anything at any level: a part of the
wrong shape (a boolean where the counts per origin belong...) is skipped and reported to the
stream's `ValueReport` under a field named for the level (`<date>.<kind>`), like any bad value.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream, FanOutStream
from tap_getresponse.run import ParentCollection
from tap_getresponse.streams.statistics import DailyStatisticsStream
from tap_getresponse.value_report import SKIPPED

CAMPAIGNS = ParentCollection("/campaigns", "campaignId")
SUMMARY = "summary"
#: The spec spells this origin `website_buider_elegant`, its examples `website_builder_elegant`
#: (OpenAPI `getCampaignStatisticsOrigins`); answers may carry both with the same count. One row,
#: under the right spelling.
ORIGIN_ALIASES = {"website_buider_elegant": "website_builder_elegant"}

Row = dict[str, t.Any]


def origin_counts(counts: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Counts per origin without the `summary` total and without the misspelled duplicate."""
    out: dict[str, t.Any] = {}
    for origin, count in counts.items():
        if origin == SUMMARY:
            continue
        name = ORIGIN_ALIASES.get(origin, origin)
        if name != origin and name in counts:
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
            row
            for item in items
            if item is not None and (found := self.part(item, "", parent_id)) is not None
            for row in self.flatten(found, parent_id)
        ]

    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        """Rows from one element of the response array."""
        return [{**item, "campaignId": campaign_id}]

    def part(self, value: object, level: str, campaign_id: str) -> t.Mapping[str, t.Any] | None:
        """`value` when it is an object, empty for null; None (reported) for anything else."""
        if isinstance(value, dict):
            return value
        if value is None:
            return {}
        record = {"campaignId": campaign_id}
        self.value_report.bad(level, "object", value, record=record, action=SKIPPED)
        return None

    def parts(self, value: object, level: str, campaign_id: str) -> t.Mapping[str, t.Any]:
        """`part`, with nothing in it for a part that was skipped (for nested loops)."""
        return self.part(value, level, campaign_id) or {}


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
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign, "date": date, "origin": origin, "count": count}
            for date, campaigns in item.items()
            for campaign, origins in self.parts(campaigns, "<date>", campaign_id).items()
            for origin, count in origin_counts(
                self.parts(origins, "<date>.<campaignId>", campaign_id)
            ).items()
        ]


class CampaignRemovalStatisticsStream(DailyCampaignStatisticsStream):
    """Removed subscribers per day and reason: `[{date: {reason: n}}]`."""

    name = "campaign_removal_statistics"
    path = "/campaigns/statistics/removals"
    primary_keys = ("campaignId", "date", "reason")
    replication_key = "date"

    @override
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign_id, "date": date, "reason": reason, "count": count}
            for date, reasons in item.items()
            for reason, count in self.parts(reasons, "<date>", campaign_id).items()
            if reason != SUMMARY
        ]


class CampaignBalanceStatisticsStream(DailyCampaignStatisticsStream):
    """Subscriptions and removals per day: `[{date: {removals: {...}, subscriptions: {...}}}]`."""

    name = "campaign_balance_statistics"
    path = "/campaigns/statistics/balance"
    primary_keys = ("campaignId", "date", "kind", "name")
    replication_key = "date"

    @override
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign_id, "date": date, "kind": kind, "name": name, "count": count}
            for date, kinds in item.items()
            for kind, counts in self.parts(kinds, "<date>", campaign_id).items()
            for name, count in origin_counts(
                self.parts(counts, "<date>.<kind>", campaign_id)
            ).items()
        ]


class CampaignLocationStatisticsStream(CampaignStatisticsStream):
    """Subscribers by location, all time: `[{location: {amount, continentCode, countryCode}}]`."""

    name = "campaign_location_statistics"
    path = "/campaigns/statistics/locations"
    primary_keys = ("campaignId", "location")

    @override
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        rows = []
        for location, values in item.items():
            found = self.part(values, "<location>", campaign_id)
            if found is None:
                continue
            rows.append(
                {
                    "campaignId": campaign_id,
                    "location": location,
                    "amount": found.get("amount"),
                    # The schema names it continentalCode, the example continentCode (OpenAPI
                    # `getCampaignStatisticsLocations`).
                    "continentCode": found.get("continentCode") or found.get("continentalCode"),
                    "countryCode": found.get("countryCode"),
                }
            )
        return rows


class CampaignOriginStatisticsStream(CampaignStatisticsStream):
    """Subscribers by origin, all time: `[{campaignId: {origin: n}}]`."""

    name = "campaign_origin_statistics"
    path = "/campaigns/statistics/origins"
    primary_keys = ("campaignId", "origin")

    @override
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        return [
            {"campaignId": campaign, "origin": origin, "count": count}
            for campaign, origins in item.items()
            for origin, count in origin_counts(
                self.parts(origins, "<campaignId>", campaign_id)
            ).items()
        ]


class CampaignSummaryStatisticsStream(CampaignStatisticsStream):
    """Totals per list: `[{campaignId: {totalSubscribers, totalNewsletters, ...}}]`."""

    name = "campaign_summary_statistics"
    path = "/campaigns/statistics/summary"
    primary_keys = ("campaignId",)

    @override
    def flatten(self, item: t.Mapping[str, t.Any], campaign_id: str) -> list[Row]:
        return [
            {**found, "campaignId": campaign}
            for campaign, totals in item.items()
            if (found := self.part(totals, "<campaignId>", campaign_id)) is not None
        ]
