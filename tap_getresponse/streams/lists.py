"""Campaigns, which the API v3 calls what the app calls contact lists (reference §3.2)."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class CampaignsStream(GetResponseStream):
    """Contact lists; no server-side time filter, so read in full every run."""

    name = "campaigns"
    path = "/campaigns"
    primary_keys = ("campaignId",)
