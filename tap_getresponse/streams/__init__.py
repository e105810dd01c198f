"""The stream registry: adding a stream is a class in its domain module plus one line here."""

from __future__ import annotations

from tap_getresponse.streams.contacts import ContactsStream
from tap_getresponse.streams.lists import CampaignsStream

STREAMS = (
    CampaignsStream,
    ContactsStream,
)

__all__ = ["STREAMS"]
