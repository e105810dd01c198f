"""CustomEventsSink: records of the `custom_events_stream` trigger custom events (events.py)."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from target_getresponse.event_records import read_event
from target_getresponse.mapping import Contact, Prepared, RejectError, read_contact
from target_getresponse.removals import is_deletion
from target_getresponse.sinks import ContactsSink

if t.TYPE_CHECKING:
    from target_getresponse.events import PendingEvent


class CustomEventsSink(ContactsSink):
    """Reads each record into an event, then triggers up to 1000 of them at a time.

    ContactsSink's overrides of the SDK's hooks hold here too: a bad record is a reject.
    """

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Read and check the event into the batch; whatever is wrong with it makes it a reject."""
        # An event that happened cannot be taken back: a deletion triggers nothing.
        pending = self.read_or_reject(record, self.pending, skip_as_deletion=is_deletion(record))
        if pending is None:
            return
        context.setdefault("events", []).append(pending)

    def pending(self, record: dict[str, t.Any], line: int | None) -> PendingEvent:
        """The record's event and contact: by `contactId`, or by email on its list."""
        event = read_event(record)
        if event.contact_id is not None:
            contact = Contact(email=str(record.get("email") or ""))
        elif record.get("email"):
            contact = self.contact(record)
        else:
            msg = "record names its contact by neither `contactId` nor `email`"
            raise RejectError(msg)
        prepared = Prepared(
            contact=contact,
            stream=self.stream_name,
            record=record,
            key_properties=self.key_properties,
            line=line,
        )
        schema = self.schema.get("properties", {}).get("attributes") or {}
        return self.load_run.events.pending(prepared, event, schema)

    def contact(self, record: dict[str, t.Any]) -> Contact:
        """The email and list of a record without `contactId`, read as for contacts."""
        settings = self.load_run.settings
        names = ("email", settings.campaign_property, "campaign", "campaign_name")
        contact = read_contact(
            {key: record[key] for key in names if key in record},
            campaign_property=settings.campaign_property,
            default_campaign=settings.campaign_id,
        )
        if contact.campaign is None:
            msg = "record names no contactId, no list and no default `campaign_id` is configured"
            raise RejectError(msg)
        resolver = self.load_run.resolver
        contact.campaign = resolver.campaign_id(contact.campaign, is_name=contact.campaign_is_name)
        return contact

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Hand the batch to the LoadRun's sender: it triggers while the next batch is read."""
        batch: list[PendingEvent] = list(context.get("events", []))
        if not batch:
            return
        events, cancelled = self.load_run.events, self.load_run.sender.cancelled
        self.load_run.sender.submit(lambda: events.trigger(batch, cancelled))
