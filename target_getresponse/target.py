"""TargetGetResponse: settings, the run-wide directory and loader, and the end-of-run summary."""

from __future__ import annotations

import sys
import typing as t
from functools import cached_property

import requests
from singer_sdk import Target
from singer_sdk import typing as th
from typing_extensions import override

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    GetResponseAPIError,
    GetResponseClient,
    plugin_config_errors,
)
from target_getresponse.loader import ContactLoader
from target_getresponse.mapping import mask_email, mask_emails_in
from target_getresponse.rejects import Rejects, Tally
from target_getresponse.resolver import Resolver
from target_getresponse.sender import Sender
from target_getresponse.sinks import ContactsSink

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from singer_sdk.plugin_base import _ConfigInput


TARGET_SETTINGS = th.PropertiesList(
    th.Property(
        "campaign_id",
        th.StringType,
        description="Default list (campaign id) for records that name none.",
    ),
    th.Property(
        "campaign_property",
        th.StringType,
        default="campaign_id",
        description="Record property naming a record's own list by id (`campaign_name` for a "
        "list name also works).",
    ),
    th.Property(
        "custom_field_mapping",
        th.ObjectType(additional_properties=th.StringType),
        description="Record property -> custom field name or id; overrides matching by name.",
    ),
    th.Property(
        "create_missing_tags",
        th.BooleanType,
        default=True,
        description="Create tags named in records that the account does not have yet.",
    ),
    th.Property(
        "create_missing_custom_fields",
        th.BooleanType,
        default=False,
        description="Create a custom field for every other record property (type from its "
        "JSON schema) instead of ignoring properties that match no custom field.",
    ),
    th.Property(
        "load_method",
        th.StringType(allowed_values=["add", "upsert"]),
        default="add",
        description="`add`: batch-add new contacts, leave existing ones as they are. `upsert`: "
        "also update existing contacts' name, custom field values and tags.",
    ),
    th.Property(
        "rejects_file",
        th.StringType,
        default="output/getresponse-rejects.jsonl",
        description="JSON-lines file listing every refused record and why.",
    ),
    th.Property(
        "rejects_include_records",
        th.BooleanType,
        default=False,
        description="Write whole records to the rejects file (emails are masked otherwise).",
    ),
    th.Property(
        "fail_on_reject",
        th.BooleanType,
        default=False,
        description="Exit non-zero at the end when any record was rejected.",
    ),
    th.Property(
        "verify",
        th.BooleanType,
        default=False,
        description="After loading, check that every added contact became visible; report "
        "the ones GetResponse refused silently after accepting them (202).",
    ),
    th.Property(
        "verify_timeout_seconds",
        th.IntegerType(minimum=0),
        default=300,
        description="How long `verify` waits for added contacts to become visible.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Validate and resolve every record and report, without writing anything.",
    ),
)


class TargetGetResponse(Target):
    """Singer target that batch-adds contacts to GetResponse lists."""

    name = "target-getresponse"
    package_name = "getresponse-singer"
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS.wrapped.values(),
        *TARGET_SETTINGS.wrapped.values(),
    ).to_dict()
    default_sink_class = ContactsSink

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401 - the SDK's
        """One sink drains at a time: all streams share one loader, tally and batch quota."""
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1
        self._versions_ignored: set[str] = set()

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        return errors + plugin_config_errors(self.config, self.logger, raise_errors=raise_errors)

    @cached_property
    def api(self) -> GetResponseClient:
        """The shared HTTP client (governor, retries, auth)."""
        client = GetResponseClient.from_config(self.config, logger=self.logger)
        self._calls_before = client.governor.snapshot().calls
        return client

    @cached_property
    def tally(self) -> Tally:
        """This run's counters."""
        return Tally()

    @cached_property
    def rejects(self) -> Rejects:
        """The rejects file."""
        return Rejects(
            self.config.get("rejects_file") or "output/getresponse-rejects.jsonl",
            include_records=bool(self.config.get("rejects_include_records")),
        )

    @cached_property
    def resolver(self) -> Resolver:
        """Lists, custom fields and tags, read on the first record."""
        return Resolver(
            self.api,
            create_missing_tags=self.config.get("create_missing_tags", True),
            create_missing_custom_fields=bool(self.config.get("create_missing_custom_fields")),
            dry_run=bool(self.config.get("dry_run")),
        )

    @cached_property
    def loader(self) -> ContactLoader:
        """Sends contacts list by list."""
        return ContactLoader(
            self.api,
            self.tally,
            lambda prepared, reason, code: self.reject_record(
                prepared.stream, prepared.record, reason, code, ()
            ),
            load_method=self.config.get("load_method") or "add",
            dry_run=bool(self.config.get("dry_run")),
            parallel=self.api.max_parallel_requests,
            track_sent=bool(self.config.get("verify")) and not self.config.get("dry_run"),
        )

    @cached_property
    def sender(self) -> Sender:
        """Loads batches in the background while the next one is read (sender.py)."""
        return Sender()

    def reject_record(
        self,
        stream: str,
        record: Mapping[str, t.Any],
        reason: str,
        code: int | None,
        key_properties: Sequence[str],
    ) -> None:
        """Count and write one refused record; the run goes on."""
        email = str(record.get("email") or "") or None
        self.tally.count(rejected=1)
        self.rejects.add(
            stream=stream,
            record=record,
            email=email,
            reason=reason,
            code=code,
            key_properties=key_properties,
        )
        who = mask_email(email) if email else "a record"
        self.logger.warning("Rejected %s from stream '%s': %s", who, stream, mask_emails_in(reason))

    @override
    def _process_activate_version_message(self, message_dict: dict[str, t.Any]) -> None:
        """Ignored, said once per stream: contacts are added or updated, never removed."""
        stream = str(message_dict.get("stream"))
        if stream not in self._versions_ignored:
            self._versions_ignored.add(stream)
            self.logger.info(
                "ACTIVATE_VERSION for stream '%s' ignored: this target never removes contacts",
                stream,
            )

    @override
    def _write_state_message(self, state: dict[str, t.Any]) -> None:
        """Loads in progress and updates waiting for an import go first: STATE follows them."""
        if "sender" in self.__dict__:
            self.sender.wait()
        if "loader" in self.__dict__:
            self.loader.flush_deferred()
        super()._write_state_message(state)

    @override
    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        if "sender" in self.__dict__:
            self.sender.close()
        if "loader" in self.__dict__:
            self.loader.flush_deferred()
        if (
            self.config.get("verify")
            and not self.config.get("dry_run")
            and "loader" in self.__dict__
        ):
            self.loader.verify(float(self.config.get("verify_timeout_seconds", 300)))
        if "api" in self.__dict__:
            stats = self.api.governor.snapshot()
            self.tally.api_calls = stats.calls - self._calls_before
            self.logger.info("GetResponse API use: %s", stats.summary())
        prefix = "Dry run: " if self.config.get("dry_run") else ""
        self.logger.info("%starget-getresponse summary: %s", prefix, self.tally.summary())
        if self.tally.rejected and self.config.get("fail_on_reject"):
            self.logger.error(
                "%d records rejected (see %s) and fail_on_reject is set",
                self.tally.rejected,
                self.rejects.path,
            )
            sys.exit(1)

    @override
    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Load; an API or network error ends the run with one line and exit code 1."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except (GetResponseAPIError, requests.exceptions.RequestException) as error:
            # Credentials are redacted by the HTTP layer; addresses are masked here.
            cls.logger.error(  # noqa: TRY400 - the traceback adds nothing
                "Load failed: %s. STATE already emitted covers everything before it; rerun "
                "with it to go on (contacts already added are not added twice).",
                mask_emails_in(str(error)),
            )
            sys.exit(1)


if __name__ == "__main__":
    TargetGetResponse.cli()
