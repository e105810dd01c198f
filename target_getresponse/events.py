"""Triggering custom events: the account's definitions, the contacts they happen to, the triggers.

The definitions are read once per run (OpenAPI `getCustomEventsList`); an event name the account
lacks is created (`createCustomEvent`, attribute types from the record) only when
`create_missing_custom_events` allows it. A record names its contact by `contactId`, or by email
and list: those are found the way adds find members (membership.py: the list's pages or exact-match
lookups, whichever is cheaper, several at a time), once per run. Each event is one
`triggerCustomEvent` call; a batch's triggers run in parallel under the shared rate governor.
A trigger is never re-sent after an error: a second call would be a second occurrence.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from dataclasses import dataclass
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.collections import iter_items
from tap_getresponse.api.limits import MAX_PAGE_SIZE
from target_getresponse.event_records import (
    EVENT_NAME,
    EventDefinition,
    infer_attribute_type,
    trigger_attributes,
)
from target_getresponse.load_step import LoadStep
from target_getresponse.mapping import RejectError
from target_getresponse.membership import parallel_map
from target_getresponse.rejects import is_record_problem, refused
from target_getresponse.updates import ids_once_visible

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from target_getresponse.event_records import EventRecord
    from target_getresponse.mapping import Prepared

LOGGER = logging.getLogger("target_getresponse.events")


@dataclass(slots=True)
class PendingEvent:
    """An event ready to trigger but for its contact's id (found by email when it has none)."""

    prepared: Prepared
    name: str
    attributes: list[dict[str, t.Any]]
    contact_id: str | None = None


class Events(LoadStep):
    """The account's custom events, created when allowed, and the triggers of a run."""

    def __init__(self, *args: t.Any, create_missing: bool, **kwargs: t.Any) -> None:  # noqa: ANN401
        """LoadStep's arguments; `create_missing`: create event names the account lacks."""
        super().__init__(*args, **kwargs)
        self.create_missing = create_missing
        self._definitions: dict[str, EventDefinition] | None = None
        #: Names GetResponse refused to create, with its answer: not asked again this run.
        self._refused: dict[str, RejectError] = {}
        self._lock = threading.Lock()

    # -- on the reading thread: the event and its attributes --------------------------------

    def pending(
        self, prepared: Prepared, event: EventRecord, schema: Mapping[str, t.Any]
    ) -> PendingEvent:
        """The event of a record, attributes converted; RejectError says what is wrong.

        `schema` is the stream's `attributes` property: a created event takes its types there.
        """
        definition = self.definition(event.name, event.attributes, schema)
        return PendingEvent(
            prepared=prepared,
            name=definition.name,
            attributes=trigger_attributes(definition, event.attributes),
            contact_id=event.contact_id,
        )

    def definition(
        self, name: str, values: Mapping[str, t.Any], schema: Mapping[str, t.Any]
    ) -> EventDefinition:
        """The account's event `name`; created (or, in a dry run, pretended) when allowed."""
        with self._lock:
            if self._definitions is None:
                items = iter_items(self.client, "/custom-events", None, page_size=MAX_PAGE_SIZE)
                found = [EventDefinition.from_api(item) for item in items]
                self._definitions = {d.name: d for d in found}
            known = self._definitions.get(name)
            if known is not None:
                return known
            if name in self._refused:
                raise self._refused[name]
            if not self.create_missing:
                msg = (
                    f"custom event '{name}' does not exist in this account "
                    "(create_missing_custom_events is off)"
                )
                raise RejectError(msg)
            if not EVENT_NAME.match(name):
                msg = (
                    f"custom event '{name}' does not exist and is no valid name for a new one "
                    "(3-64 lowercase letters, digits or underscores, as createCustomEvent requires)"
                )
                raise RejectError(msg)
            created = self._create(name, values, schema)
            self._definitions[name] = created
            return created

    def _create(
        self, name: str, values: Mapping[str, t.Any], schema: Mapping[str, t.Any]
    ) -> EventDefinition:
        """`createCustomEvent` with the record's attributes, typed from its schema or values."""
        bad = next((key for key in values if not EVENT_NAME.match(key)), None)
        if bad is not None:
            msg = (
                f"custom event '{name}' does not exist, and '{bad}' is no valid attribute name "
                "for a new one (3-64 lowercase letters, digits or underscores)"
            )
            raise RejectError(msg)
        properties = schema.get("properties") or {}
        attributes = [
            {"name": key, "type": infer_attribute_type(value, properties.get(key))}
            for key, value in values.items()
        ]
        if self.dry_run:
            LOGGER.info("Dry run: would create custom event %r with %s", name, attributes)
            return EventDefinition("", name, {a["name"]: a["type"] for a in attributes})
        body = {"name": name, "attributes": attributes}
        try:
            item = self.client.request("POST", "/custom-events", json=body).json()
        except GetResponseAPIError as error:
            if not is_record_problem(error):
                raise
            # A name taken since the run read the definitions: read it back.
            params = {"query[name]": name}
            again = iter_items(self.client, "/custom-events", params, page_size=MAX_PAGE_SIZE)
            found = next((i for i in again if i.get("name") == name), None)
            if found is not None:
                return EventDefinition.from_api(found)
            reject = refused(error, f"custom event '{name}' could not be created")
            self._refused[name] = reject
            LOGGER.warning("GetResponse refused to create custom event %r: %s", name, error)
            raise reject from None
        LOGGER.info("Created custom event %r with %s", name, attributes)
        return EventDefinition.from_api({"name": name, "attributes": attributes, **item})

    # -- on the sender's thread: contacts, then the triggers --------------------------------

    def trigger(self, batch: Sequence[PendingEvent], cancelled: threading.Event) -> None:
        """Find the contacts of events named by email, then trigger every event, in parallel."""
        by_list: dict[str, list[PendingEvent]] = {}
        for event in batch:
            if event.contact_id is None:
                campaign = event.prepared.contact.campaign or ""
                by_list.setdefault(campaign, []).append(event)
        for campaign_id, events in by_list.items():
            if cancelled.is_set():
                return
            self._find_contacts(campaign_id, events)
        ready = [event for event in batch if event.contact_id is not None]
        if self.dry_run:
            self.tally.count(triggered=len(ready))
            return
        # An abandoned run (a second stop signal) sends nothing more: those stay unaccounted.
        done = sum(
            parallel_map(
                lambda event: not cancelled.is_set() and self._trigger_one(event),
                ready,
                self.membership.parallel,
            )
        )
        self.tally.count(sent=done, triggered=done)

    def _find_contacts(self, campaign_id: str, events: Sequence[PendingEvent]) -> None:
        """Give each event its contact's id on the list; an email not on it is a reject."""
        known = self.membership.members(campaign_id, [e.prepared.key for e in events])
        # Contacts this run added have no id until GetResponse shows them (adds answer 202).
        added = {e.prepared.key: e.prepared for e in events if e.prepared.key in known}
        waiting = [prepared for key, prepared in added.items() if known[key] is None]
        found, unseen = ids_once_visible(self.membership, campaign_id, waiting)
        ids = {key: cid for key, cid in known.items() if cid is not None}
        ids |= {prepared.key: cid for prepared, cid in found}
        unseen_keys = {prepared.key for prepared in unseen}
        for event in events:
            event.contact_id = ids.get(event.prepared.key)
            if event.contact_id is not None:
                continue
            if event.prepared.key in unseen_keys:
                reason = "its contact was added earlier in this run and is not visible yet"
            else:
                reason = f"no contact with this email on list {campaign_id}"
            self.reject(event.prepared, RejectError(reason))

    def _trigger_one(self, event: PendingEvent) -> bool:
        """One `triggerCustomEvent`; False: rejected."""
        body: dict[str, t.Any] = {"name": event.name, "contactId": event.contact_id}
        if event.attributes:
            body["attributes"] = event.attributes
        try:
            self.client.request("POST", "/custom-events/trigger", json=body)
        except GetResponseAPIError as error:
            if not is_record_problem(error):
                raise
            what = (
                f"contact {event.contact_id} does not exist"
                if error.http_status == HTTPStatus.NOT_FOUND
                else f"custom event '{event.name}' could not be triggered"
            )
            self.reject(event.prepared, refused(error, what))
            return False
        return True
