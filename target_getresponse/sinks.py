"""ContactsSink: every stream carries contacts; records become prepared contacts per list."""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from typing_extensions import override

from tap_getresponse.api import ConfigError, GetResponseAPIError
from target_getresponse.loader import BATCH_SIZE, Prepared
from target_getresponse.mapping import RejectError, field_values, read_contact

if t.TYPE_CHECKING:
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_getresponse.target import TargetGetResponse


class ContactsSink(BatchSink):
    """Validates and resolves each record, then loads up to 1000 contacts at a time."""

    MAX_SIZE_DEFAULT = BATCH_SIZE

    @property
    @override
    def max_size(self) -> int:
        """At most one batch call's worth (§4.2), also when `batch_size_rows` asks for more."""
        return max(1, min(super().max_size, BATCH_SIZE))

    def __init__(self, target: TargetGetResponse, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Keep the target: it holds the run-wide directory, loader and tally."""
        super().__init__(target, *args, **kwargs)
        self.run = target
        self._invalid: str | None = None

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Validation runs in `_validate_and_parse`, where a failure becomes a reject."""
        self.record_validator = super().get_validator()
        return None

    @override
    def _validate_and_parse(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """A record that does not match its schema is a reject, not the end of the run.

        (The SDK would log the record's values and stop the run.)
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
    def _singer_validate_message(self, record: dict[str, t.Any]) -> None:
        """A record missing its stream's key properties is a reject, not the end of the run."""

    @override
    def _after_process_record(self, context: dict[str, t.Any]) -> None:
        """No per-record debug line: the SDK's would print the batch, emails and all."""

    @override
    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        """Resolve the record into the batch; whatever is wrong with it makes it a reject."""
        tally = self.run.tally
        tally.count(received=1)
        line = self.run.input_line
        try:
            if self._invalid is not None:
                raise RejectError(self._invalid)  # noqa: TRY301 - one path for every reject
            prepared = self.prepare(record, line)
        except RejectError as error:
            self.run.reject_record(self.stream_name, record, error, self.key_properties, line)
            return
        except (GetResponseAPIError, ConfigError, requests.exceptions.RequestException):
            raise  # what no record can fix (credentials, permissions, the network...)
        except Exception as error:  # noqa: BLE001 - one odd value never ends the load
            reason = RejectError(f"could not be read ({type(error).__name__}: {error})")
            self.run.reject_record(self.stream_name, record, reason, self.key_properties, line)
            return
        campaign_id = prepared.contact.campaign or ""
        # The same email twice for one list in a batch: merged, the last record wins.
        contacts = context.setdefault("contacts", {})
        key = (campaign_id, prepared.key)
        if key in contacts:
            tally.count(merged=1)
        contacts[key] = prepared

    def prepare(self, record: dict[str, t.Any], line: int | None = None) -> Prepared:
        """Read, validate and resolve one record; RejectError says why it cannot be loaded."""
        config = self.config
        contact = read_contact(
            record,
            campaign_property=config.get("campaign_property") or "campaign_id",
            custom_field_mapping=config.get("custom_field_mapping"),
        )
        resolver = self.run.resolver
        if contact.campaign is None:
            if not config.get("campaign_id"):
                msg = "record names no list and no default `campaign_id` is configured"
                raise RejectError(msg)
            contact.campaign = str(config["campaign_id"])
        contact.campaign = resolver.campaign_id(contact.campaign, is_name=contact.campaign_is_name)
        prepared = Prepared(
            contact=contact,
            stream=self.stream_name,
            record=record,
            key_properties=self.key_properties,
            line=line,
        )
        for ref in contact.tags:
            prepared.tag_ids.append(resolver.tag_id(ref))
            prepared.tag_names.append(resolver.tag_name(prepared.tag_ids[-1]) or ref)
        self._add_custom_values(prepared)
        for field_id, values in contact.custom_ids.items():
            custom_field = resolver.fields_by_id.get(field_id) or resolver.fields_by_name.get(
                field_id
            )
            if custom_field is None:
                msg = f"custom field {field_id!r} does not exist in this account"
                raise RejectError(msg)
            prepared.custom[custom_field.field_id] = field_values(custom_field, values)
            prepared.custom_names[custom_field.name] = prepared.custom[custom_field.field_id]
        return prepared

    def _add_custom_values(self, prepared: Prepared) -> None:
        """Values of record properties that are (or become) custom fields of the account."""
        resolver = self.run.resolver
        properties = self.schema.get("properties", {})
        for ref, value in prepared.contact.custom.items():
            try:
                custom_field = resolver.custom_field(ref, properties.get(ref))
            except RejectError:
                if value is None or value in ("", []):
                    continue  # no value for the field GetResponse would not create: no loss
                raise
            if custom_field is None:
                continue  # not a custom field of this account: other columns are ignored
            values = field_values(custom_field, value)
            if values:
                prepared.custom[custom_field.field_id] = values
                prepared.custom_names[custom_field.name] = values

    @override
    def process_batch(self, context: dict[str, t.Any]) -> None:
        """Hand the batch to the sender: it loads while the next batch is read."""
        by_list: dict[str, list[Prepared]] = {}
        for (campaign_id, _), prepared in context.get("contacts", {}).items():
            by_list.setdefault(campaign_id, []).append(prepared)
        loader, sender = self.run.loader, self.run.sender

        def load() -> None:
            for campaign_id, contacts in by_list.items():
                if sender.cancelled.is_set():
                    return
                loader.load(campaign_id, contacts)

        sender.submit(load)
