"""Custom event definitions: the events an account can trigger, and their typed attributes."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class CustomEventsStream(GetResponseStream):
    """Custom event definitions (OpenAPI `getCustomEventsList`): no time filter, read in full."""

    name = "custom_events"
    path = "/custom-events"
    primary_keys = ("customEventId",)
