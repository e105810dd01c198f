"""CustomEventsSink: records of the `custom_events_stream` trigger custom events (events.py)."""

from __future__ import annotations

import typing as t

import requests
from typing_extensions import override

from tap_getresponse.api import ConfigError, GetResponseAPIError
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
        run = self.load_run
        run.tally.count(received=1)
        line = run.reader.line_number
        try:
            if self._invalid is not None:
                raise RejectError(self._invalid)  # noqa: TRY301 - one path for every reject
            if is_deletion(record):
                # An event that happened cannot be taken back: nothing to trigger.
                run.tally.count(deletes_skipped=1)
                return
            pending = self.pending(record, line)
        except RejectError as error:
            run.reject_record(self.stream_name, record, error, self.key_properties, line)
            return
        except (GetResponseAPIError, ConfigError, requests.exceptions.RequestException):
            raise  # what no record can fix (credentials, permissions, the network...)
        except Exception as error:  # noqa: BLE001 - one odd value never ends the load
            reason = RejectError(f"could not be read ({type(error).__name__}: {error})")
            run.reject_record(self.stream_name, record, reason, self.key_properties, line)
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
