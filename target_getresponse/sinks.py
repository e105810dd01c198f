"""ContactsSink: every stream carries contacts; records become prepared contacts per list."""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from typing_extensions import override

from tap_getresponse.api import ConfigError, GetResponseAPIError
from tap_getresponse.api.limits import MAX_BATCH_CONTACTS
from target_getresponse.mapping import Prepared, RejectError, read_contact
from target_getresponse.removals import DELETED_AT, is_deletion

#: What a sink reads a record into (a prepared contact, a pending event).
Read = t.TypeVar("Read")

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk import Target
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_getresponse.run import LoadRun


class ContactsSink(BatchSink):
    """Validates and resolves each record, then loads up to 1000 contacts at a time.

    Four private SDK hooks are overridden (each says why): the SDK would end the run, or log
    whole records, where this target rejects one record and goes on.
    """

    MAX_SIZE_DEFAULT = MAX_BATCH_CONTACTS

    @property
    @override
    def max_size(self) -> int:
        """At most one batch call's worth, also when `batch_size_rows` asks for more."""
        return max(1, min(super().max_size, MAX_BATCH_CONTACTS))

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, t.Any],
        key_properties: Sequence[str] | None,
        *,
        load_run: LoadRun,
    ) -> None:
        """A sink of `load_run`: it shares the run's directory, loader and tally."""
        super().__init__(target, stream_name, schema, key_properties)
        self.load_run = load_run
        self._invalid: str | None = None

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Validation runs in `_validate_and_parse`, where a failure becomes a reject."""
        self.record_validator = super().get_validator()
        return None

    @override
    def _validate_and_parse(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """A record that does not match its schema is a reject, not the end of the run.

        Private SDK hook, kept: the SDK's own logs a failing record with its values and raises
        on a date it cannot parse, and no public hook is around either.
        """
        self._invalid = None
        try:
            if self.record_validator is not None:
                self.record_validator.validate(record)
            return super()._validate_and_parse(record)
        except (InvalidRecord, ValueError) as error:
            detail = error.error_message if isinstance(error, InvalidRecord) else str(error)
            self._invalid = f"record does not match the stream's schema: {detail}"
            return record

    @override
    def _remove_sdc_metadata_from_record(self, record: dict[str, t.Any]) -> None:
        """The SDK's metadata columns go, but `_sdc_deleted_at` stays: it asks for a removal.

        Private SDK hook, kept because the SDK drops that column before any public hook sees
        the record (unless `add_record_metadata`, which adds columns no contact has).
        """
        deleted_at = record.get(DELETED_AT)
        super()._remove_sdc_metadata_from_record(record)
        if deleted_at is not None:
            record[DELETED_AT] = deleted_at

    @override
    def _singer_validate_message(self, record: dict[str, t.Any]) -> None:
        """A record missing its stream's key properties is a reject, not the end of the run.

        Private SDK hook, kept because the SDK raises here (ending the run) with no public
        switch to turn the check off.
        """

    @override
    def _after_process_record(self, context: dict[str, t.Any]) -> None:
        """No per-record debug line: the SDK's would print the batch, emails and all.

        Private SDK hook, kept because it is where the SDK writes that line.
        """

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Resolve the record into the batch; whatever is wrong with it makes it a reject."""
        run = self.load_run
        skip = is_deletion(record) and not run.settings.process_deletes
        prepared = self.read_or_reject(record, self.prepare, skip_as_deletion=skip)
        if prepared is None:
            return
        campaign_id = prepared.contact.campaign or ""
        # The same email twice for one list in a batch: merged, the last record wins.
        contacts = context.setdefault("contacts", {})
        key = (campaign_id, prepared.key)
        if key in contacts:
            run.tally.count(merged=1)
        contacts[key] = prepared

    def read_or_reject(
        self,
        record: dict[str, t.Any],
        read: t.Callable[[dict[str, t.Any], int | None], Read],
        *,
        skip_as_deletion: bool,
    ) -> Read | None:
        """`read(record, line)`, counted; None when the record is skipped or rejected.

        Whatever is wrong with one record makes it a reject with its reason; only what no record
        can fix (credentials, permissions, the network) is raised.
        """
        run = self.load_run
        run.tally.count(received=1)
        line = run.reader.line_number
        try:
            if self._invalid is not None:
                raise RejectError(self._invalid)  # noqa: TRY301 - one path for every reject
            if skip_as_deletion:
                run.tally.count(deletes_skipped=1)
                return None
            return read(record, line)
        except RejectError as error:
            run.reject_record(self.stream_name, record, error, self.key_properties, line)
        except (GetResponseAPIError, ConfigError, requests.exceptions.RequestException):
            raise
        except Exception as error:  # noqa: BLE001 - one odd value never ends the load
            reason = RejectError(f"could not be read ({type(error).__name__}: {error})")
            run.reject_record(self.stream_name, record, reason, self.key_properties, line)
        return None

    def prepare(self, record: dict[str, t.Any], line: int | None = None) -> Prepared:
        """Read the record (mapping.py), then resolve its names (resolver.py)."""
        settings = self.load_run.settings
        contact = read_contact(
            record,
            campaign_property=settings.campaign_property,
            custom_field_mapping=settings.custom_field_mapping,
            default_campaign=settings.campaign_id,
        )
        prepared = Prepared(
            contact=contact,
            stream=self.stream_name,
            record=record,
            key_properties=self.key_properties,
            line=line,
            deleted=is_deletion(record),
        )
        resolver = self.load_run.resolver
        if prepared.deleted:
            # A removal needs the list only: tags or fields it names are not looked at.
            if contact.campaign is None:
                msg = "record names no list and no default `campaign_id` is configured"
                raise RejectError(msg)
            contact.campaign = resolver.campaign_id(
                contact.campaign, is_name=contact.campaign_is_name
            )
            return prepared
        resolver.resolve(prepared, self.schema.get("properties", {}))
        return prepared

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Hand the batch to the LoadRun's sender: it loads while the next batch is read."""
        by_list: dict[str, list[Prepared]] = {}
        for (campaign_id, _), prepared in context.get("contacts", {}).items():
            by_list.setdefault(campaign_id, []).append(prepared)
        self.load_run.submit(by_list)
