"""Contacts and what hangs off them: details, activities, custom fields, tags, imports, segments."""

from __future__ import annotations

import datetime as dt
import typing as t
from itertools import repeat

from typing_extensions import override

from tap_getresponse import custom_field_columns, windows
from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.api.settings import auth_methods
from tap_getresponse.client import GetResponseStream
from tap_getresponse.fanout import BatchedFanOutStream
from tap_getresponse.run import STREAM_FAILURES, ParentCollection, StreamUnavailableError
from tap_getresponse.streams import removals

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk import Stream, Tap
    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.collections import Page
    from tap_getresponse.run import SyncRun

STRING = {"type": ["string", "null"]}
#: Before any GetResponse account existed: the lower bound of a first full activities read.
EARLIEST = dt.datetime(1998, 1, 1, tzinfo=dt.UTC)
#: A key part an activity does not have (only clicks have a click track): never "" or null,
#: which loaders with NOT NULL keys refuse; "-" is no GetResponse id.
NO_ID = "-"


class ContactsStream(GetResponseStream):
    """Contacts (OpenAPI `getContactList`), incremental on `changedOn`; one per contact per list."""

    name = "contacts"
    path = "/contacts"
    primary_keys = ("contactId",)
    replication_key = "changedOn"
    window_field = "changedOn"
    is_sorted = True

    #: Set on contacts removed since the last run (README, "Removed contacts"); null otherwise.
    extra_properties: t.ClassVar = {
        removals.DELETED_AT: {"type": ["string", "null"], "format": "date-time"}
    }

    _child_batch: list[str] | None = None

    @override
    def request_batches(self, context: Context | None) -> Iterator[list[t.Any]]:
        # Removals first; they never move the bookmark (`bookmark_records`), so the window of
        # live contacts that follows opens where the last run left off.
        yield self.removed_since_bookmark(context)
        yield from super().request_batches(context)

    @override
    def bookmark_records(self, records: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        # A removal's `changedOn` is its `deletedOn`, which says nothing about how far the read
        # of live contacts got: counted as the bookmark, it skipped every contact changed before
        # the last removal (the window opens from the bookmark, read after the removals).
        deleted = list(map(dict.get, records, repeat(removals.DELETED_AT)))  # in C: usually none
        if deleted.count(None) == len(deleted):
            return records
        return [record for record in records if record.get(removals.DELETED_AT) is None]

    def removed_since_bookmark(self, context: Context | None) -> list[dict[str, t.Any]]:
        """Contacts removed after the bookmark less the lookback, with `_sdc_deleted_at`.

        A first run (no bookmark) has none: it emits only contacts still there. One contact
        search per run, shared with `removed_contacts`; one request per 1,000 removals.
        """
        state = self.get_context_state(context)
        if windows.bookmark(state, self.replication_key or "") is None:
            return []
        start = GetResponseStream.window_start(self, state)
        taker = self._tap.streams.get(removals.RemovedContactsStream.name)
        try:
            found = removals.removed_since(self, start or EARLIEST, taker=taker)
        except StreamUnavailableError as error:
            self.logger.warning("Stream 'contacts': removed contacts not read (%s)", error)
            return []
        return [removals.as_deleted_contact(item) for item in found]

    @override
    def window_start(self, state: Mapping[str, t.Any]) -> dt.datetime | None:
        # Details are read only for the contacts read here: from where they stopped (README).
        return with_details(super().window_start(state), self.child_streams)

    @override
    def on_page(self, page: Page) -> None:
        # Details are fetched a page of contacts at a time, before any of them is emitted, so the
        # bookmark never passes a contact whose details were not emitted (README, fan-out).
        if page.items and self._children_to_sync:
            self._child_batch = [
                str(item["contactId"])
                for item in page.items
                if type(item) is dict and item.get("contactId") is not None
            ]

    @override
    def generate_child_contexts(
        self,
        record: dict[str, t.Any],
        context: Context | None,
    ) -> Iterable[Context | None]:
        if self._child_batch:
            batch, self._child_batch = self._child_batch, None
            yield {"contactIds": batch}


class ContactDetailsStream(BatchedFanOutStream):
    """`GET /contacts/{id}` for the contacts the parent emits in this run (custom fields, tags)."""

    name = "contact_details"
    path = "/contacts/{contactId}"
    parent_stream_type = ContactsStream
    parent_key = "contactId"
    batch_key = "contactIds"
    primary_keys = ("contactId",)
    replication_key = "changedOn"
    paginated = False
    #: One request per contact: chosen, never a default (README, "Per-contact streams").
    selected_by_default = False
    extra_properties: t.ClassVar = custom_field_columns.columns(())  # `tag_names`

    def __init__(self, tap: Tap, run: SyncRun) -> None:
        """The custom field columns of the input catalog, if any (discovery adds them)."""
        super().__init__(tap, run)
        entry = tap.input_catalog.get_stream(self.name) if tap.input_catalog else None
        self.columns = (
            custom_field_columns.declared_columns(entry.schema.to_dict())
            if entry
            else custom_field_columns.columns(())
        )
        self.schema["properties"].update(self.columns)
        self.filler = custom_field_columns.Filler(self.columns)

    def discover_columns(self) -> None:
        """Add a column per custom field of the account (GET /custom-fields; README).

        Without credentials, or when the request fails (one warning), none: the catalog then
        has `tag_names` and the raw `customFieldValues` only.
        """
        if not auth_methods(self.config):
            return
        reader = self.parent_reader(ParentCollection("/custom-fields", "customFieldId"))
        try:
            fields = [item for page in reader.pages({}, parallel=1) for item in page.items]
        except (GetResponseAPIError, StreamUnavailableError, *STREAM_FAILURES) as error:
            self.logger.warning("Stream '%s': no custom field columns: %s", self.name, error)
            return
        self.columns = custom_field_columns.columns(fields)
        self.schema["properties"].update(self.columns)
        self.filler = custom_field_columns.Filler(self.columns)
        self._metadata = None  # the SDK's cached metadata, made from the schema without them

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        for item in items:
            if type(item) is dict:
                self.filler.fill(item)
        return super().rows(items, parent_id)


def with_details(start: dt.datetime | None, children: Iterable[Stream]) -> dt.datetime | None:
    """`start`, or earlier: where selected `contact_details` last stopped (never: from the start).

    So selecting it on a pipeline whose contacts have a bookmark fills in every contact's
    details once, and selecting it again after a pause fills in what changed meanwhile.
    """
    for child in children:
        if isinstance(child, ContactDetailsStream) and child.selected:
            behind = child.window_start(child.stream_state)
            start = None if start is None or behind is None else min(start, behind)
    return start


class ContactActivitiesStream(BatchedFanOutStream):
    """Sends, opens and clicks per contact (OpenAPI `getActivities`) in `createdOn` windows."""

    name = "contact_activities"
    path = "/contacts/{contactId}/activities"
    parent = ParentCollection("/contacts", "contactId")
    parent_key = "contactId"
    batch_key = "contactIds"
    primary_keys = ("contactId", "activity", "createdOn", "resourceId", "clickTrackId")
    replication_key = "createdOn"
    window_field = "createdOn"
    window_sort = False
    extra_properties: t.ClassVar = {"resourceId": STRING, "clickTrackId": STRING}
    #: One request per contact on every run: chosen, never a default (README).
    selected_by_default = False

    @override
    def parent_window(self, saved: Mapping[str, t.Any]) -> windows.Window | None:
        window = super().parent_window(saved)
        if window is None or window.start is not None:
            return window
        # Without a lower bound the API reads the last 14 days only (OpenAPI `getActivities`):
        # ask for all.
        return windows.Window(window.field, EARLIEST, window.end, window.sort)

    @override
    def rows(self, items: list[dict[str, t.Any]], parent_id: str) -> list[dict[str, t.Any]]:
        for item in items:
            if type(item) is not dict:
                continue  # skipped and reported by post_process
            # The item has no id; these lift the parts that tell two activities apart
            # (schema `ContactActivity`: `resource`, `clickTrack`). Parts of the wrong shape are
            # the normaliser's to report.
            item["resourceId"] = _lifted(item.get("resource"), "resourceId")
            item["clickTrackId"] = _lifted(item.get("clickTrack"), "id")
            if item.get("activity") in {None, ""}:
                item["activity"] = NO_ID
        return super().rows(items, parent_id)


def _lifted(part: object, key: str) -> str:
    """`part[key]` as text; NO_ID when missing, empty, or when the part or id is the wrong shape."""
    value = part.get(key) if type(part) is dict else None
    text = str(value) if type(value) in {str, int} else ""
    return text or NO_ID


class CustomFieldsStream(GetResponseStream):
    """Custom field definitions (OpenAPI `getCustomFieldList`): no time filter, read in full."""

    name = "custom_fields"
    path = "/custom-fields"
    primary_keys = ("customFieldId",)


class TagsStream(GetResponseStream):
    """Tags, incremental on `createdAt`: tags cannot be renamed (OpenAPI `updateTag`)."""

    name = "tags"
    path = "/tags"
    primary_keys = ("tagId",)
    replication_key = "createdAt"
    window_field = "createdAt"
    is_sorted = True


class ImportsStream(GetResponseStream):
    """Imports (OpenAPI `getImportList`): statistics change after creation, so read in full."""

    name = "imports"
    path = "/imports"
    primary_keys = ("importId",)
    sort_field = "createdOn"


class SegmentsStream(GetResponseStream):
    """Saved searches (OpenAPI `getSearchContactsList`); editable, so read in full."""

    name = "segments"
    path = "/search-contacts"
    primary_keys = ("searchContactId",)
    sort_field = "createdOn"
