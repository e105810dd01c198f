"""Websites built in GetResponse's website builder (`getWebsitesList`)."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class WebsitesStream(GetResponseStream):
    """Websites with their visit counters (which change without `updatedAt`): read in full."""

    name = "websites"
    path = "/websites"
    primary_keys = ("websiteId",)
    sort_field = "createdAt"
