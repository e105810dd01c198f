"""Sign-up surfaces: forms, popups, legacy forms, landing pages (new and legacy), webinars.

Each carries visit and sign-up counters that change without any time field changing, so each is
read in full every run (they are small collections: one request per 1000 items).
"""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class FormsStream(GetResponseStream):
    """Forms (`/forms`) with their statistics."""

    name = "forms"
    path = "/forms"
    primary_keys = ("formId",)
    sort_field = "createdOn"


class PopupsStream(GetResponseStream):
    """Forms and popups (`/popups`, OpenAPI `getPopupList`; GMT timestamps without an offset)."""

    name = "popups"
    path = "/popups"
    primary_keys = ("popupId",)
    sort_field = "createdAt"


class WebformsStream(GetResponseStream):
    """Legacy forms (`/webforms`); `modifiedOn` does not move when their statistics do."""

    name = "webforms"
    path = "/webforms"
    primary_keys = ("webformId",)


class LandingPagesStream(GetResponseStream):
    """Landing pages (`/lps`; timestamps are GMT without an offset, OpenAPI `getLpsList`)."""

    name = "landing_pages"
    path = "/lps"
    primary_keys = ("lpsId",)
    sort_field = "createdAt"


class LegacyLandingPagesStream(GetResponseStream):
    """Legacy landing pages (`/landing-pages`)."""

    name = "legacy_landing_pages"
    path = "/landing-pages"
    primary_keys = ("landingPageId",)
    sort_field = "createdOn"


class WebinarsStream(GetResponseStream):
    """Webinars with registrant, visitor and attendee counts."""

    name = "webinars"
    path = "/webinars"
    primary_keys = ("webinarId",)
    sort_field = "createdOn"
