"""TargetGetResponse: settings, the run-wide directory and loader, and the end-of-run summary."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import typing as t
from functools import cached_property

import requests
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.plugin_base import _ConfigInput
from typing_extensions import override

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    ConfigError,
    GetResponseAPIError,
    GetResponseClient,
    plugin_config_errors,
    schema_errors_without_secrets,
)
from target_getresponse.loader import ContactLoader
from target_getresponse.logs import mask_emails_in_logs
from target_getresponse.mapping import RejectError, mask_email, mask_emails_in
from target_getresponse.reader import Abandoned, InputReader, Unreadable
from target_getresponse.rejects import Rejects, Tally
from target_getresponse.resolver import Resolver
from target_getresponse.sender import Sender
from target_getresponse.sinks import ContactsSink

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType


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
    message_reader_class = InputReader
    message_reader: InputReader

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401 - the SDK's
        """One sink drains at a time: all streams share one loader, tally and batch quota."""
        mask_emails_in_logs()
        self.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1
        self._versions_ignored: set[str] = set()
        self._ended_mid_line: Unreadable | None = None
        self.message_reader.on_unreadable = self.skip_unreadable

    @property
    def input_line(self) -> int:
        """The number of the input line being processed (rejects name it)."""
        return self.message_reader.line_number

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # jsonschema quotes a wrong-typed value, which for a secret setting is the secret.
        errors = schema_errors_without_secrets(
            super()._validate_config, self.config, raise_errors=raise_errors
        )
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
            run={"started_at": self.started_at, "target": self.name},
        )

    @cached_property
    def resolver(self) -> Resolver:
        """Lists, custom fields and tags, read on the first record."""
        return Resolver(
            self.api,
            create_missing_tags=self.config.get("create_missing_tags", True),
            create_missing_custom_fields=bool(self.config.get("create_missing_custom_fields")),
            dry_run=bool(self.config.get("dry_run")),
            default_campaign=self.config.get("campaign_id") or None,
        )

    @cached_property
    def loader(self) -> ContactLoader:
        """Sends contacts list by list."""
        return ContactLoader(
            self.api,
            self.tally,
            lambda prepared, error: self.reject_record(
                prepared.stream, prepared.record, error, prepared.key_properties, prepared.line
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
        error: RejectError,
        key_properties: Sequence[str],
        line: int | None,
    ) -> None:
        """Count and write one refused record; the run goes on."""
        self.tally.count(rejected=1)
        self.rejects.add(
            stream=stream, record=record, error=error, key_properties=key_properties, line=line
        )
        email = record.get("email")
        who = mask_email(str(email)) if email else "a record"
        where = f" (input line {line})" if line else ""
        self.logger.warning(
            "Rejected %s from stream '%s'%s: %s", who, stream, where, mask_emails_in(str(error))
        )

    def skip_unreadable(self, unreadable: Unreadable) -> None:
        """A line that is no usable message: counted, written to the rejects file, skipped.

        Reported by number and message type, never by content (it may hold anything). A line
        cut off by the end of the input means the process writing it stopped: the run ends
        non-zero once what was read before it is loaded.
        """
        self.tally.count(received=1, unreadable=1)
        kind = unreadable.message_type or "message of unknown type"
        stream = f" of stream '{unreadable.stream}'" if unreadable.stream else ""
        problem = unreadable.problem
        if unreadable.truncated and problem.startswith("is not valid JSON"):
            problem = "was cut off: the input ended in the middle of it"
            self._ended_mid_line = unreadable
        self.rejects.add(
            stream=unreadable.stream,
            record=None,
            error=RejectError(f"input line {problem}"),
            line=unreadable.line,
            message_type=unreadable.message_type,
        )
        self.logger.warning(
            "Skipped input line %d (%s%s): it %s", unreadable.line, kind, stream, problem
        )

    @override
    def _process_record_message(self, message_dict: dict[str, t.Any]) -> None:
        """A record of a stream no SCHEMA announced is a reject, not the end of the run."""
        stream = message_dict["stream"]
        if stream not in self.mapper.stream_maps:
            self.tally.count(received=1)
            reason = RejectError(f"stream '{stream}' had no SCHEMA message before this record")
            self.reject_record(stream, message_dict["record"], reason, (), self.input_line)
            return
        super()._process_record_message(message_dict)

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
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT: stop reading; a second one (or one this early) leaves at once.

        (The SDK's handler drains every sink inside the handler, wherever the main thread was,
        and exits 0.) After the first signal the target loads what it has read, passes on the
        last STATE it read, prints the summary and exits 128 + the signal's number.
        """
        del frame
        reader = self.__dict__.get("message_reader")
        if not isinstance(reader, InputReader) or reader.stop_signal is not None:
            if "sender" in self.__dict__:
                self.sender.cancel()
            raise Abandoned(signum)
        if "loader" in self.__dict__:
            self.loader.stopping.set()
        reader.request_stop(signum)

    @override
    def process_endofpipe(self) -> None:
        stop = self.message_reader.stop_signal
        if stop is not None:
            self.logger.warning(
                "%s received at input line %d: loading what was read, then stopping",
                signal.Signals(stop).name,
                self.input_line,
            )
        super().process_endofpipe()
        if "sender" in self.__dict__:
            self.sender.close()
        if "loader" in self.__dict__:
            self.loader.flush_deferred()
        stop = self.message_reader.stop_signal
        verify = self.config.get("verify") and not self.config.get("dry_run")
        if verify and "loader" in self.__dict__:
            if stop is None:
                self.loader.verify(float(self.config.get("verify_timeout_seconds", 300)))
            else:
                self.logger.warning("verify skipped: the run was asked to stop")
        self.report()
        stop = self.message_reader.stop_signal  # also a signal that came during `verify`
        if stop is not None:
            self.logger.error(
                "Stopped by %s at input line %d: what was read is loaded or rejected, and the "
                "last STATE passed on covers no more than that; rerun with it to go on.",
                signal.Signals(stop).name,
                self.input_line,
            )
            sys.exit(128 + stop)
        if self._ended_mid_line is not None:
            self.logger.error(
                "Input ended in the middle of line %d: the process writing it stopped. "
                "Everything before it was loaded or rejected and the last STATE passed on "
                "covers it; rerun with that STATE to go on.",
                self._ended_mid_line.line,
            )
            sys.exit(1)
        refused = self.tally.rejected + self.tally.unreadable
        if refused and self.config.get("fail_on_reject"):
            self.logger.error(
                "%d records rejected (see %s) and fail_on_reject is set",
                refused,
                self.rejects.path,
            )
            sys.exit(1)

    def report(self) -> None:
        """The API use, the summary line and where this run's rejects are."""
        if "api" in self.__dict__:
            stats = self.api.governor.snapshot()
            self.tally.api_calls = stats.calls - self._calls_before
            self.logger.info("GetResponse API use: %s", stats.summary())
        prefix = "Dry run: " if self.config.get("dry_run") else ""
        summary = self.tally.summary()
        abandoned = self.tally.received - self.tally.accounted
        if abandoned:
            # Only a run cut short: records read whose batch was never sent or never answered.
            summary += f" abandoned={abandoned}"
        self.logger.info("%starget-getresponse summary: %s", prefix, summary)
        if "rejects" in self.__dict__ and self.rejects.count:
            self.logger.info(
                "%d refused records and unreadable lines of this run are in %s, after the line "
                '{"run": {"started_at": "%s", ...}}',
                self.rejects.count,
                self.rejects.path,
                self.started_at,
            )

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
        """The SDK's `Target.invoke`, keeping the target so a run that fails still reports.

        An API, network or setting error, or a second stop signal, ends the run with the
        summary and one line: no traceback, addresses masked, exit code 1 (128 + the signal's
        number for a signal).
        """
        super(Target, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        target: TargetGetResponse | None = None
        try:
            target = cls(
                config=config.config, validate_config=True, parse_env_config=config.parse_env
            )
            target.listen(file_input)
        except Abandoned as stop:
            if target is not None:
                target.report()
            cls.logger.error(  # noqa: TRY400 - the traceback adds nothing
                "Stopped by a second %s: the batch in flight was abandoned. The last STATE "
                "passed on covers only what was loaded before it; rerun with it (contacts "
                "already added are not added twice).",
                signal.Signals(stop.signal_number).name,
            )
            sys.exit(128 + stop.signal_number)
        except (GetResponseAPIError, ConfigError, requests.exceptions.RequestException) as error:
            if target is not None:
                target.report()
            # Credentials are redacted by the HTTP layer; addresses are masked in every log line.
            cls.logger.error(  # noqa: TRY400 - the traceback adds nothing
                "Load failed: %s. STATE already emitted covers everything before it; rerun "
                "with it to go on (contacts already added are not added twice).",
                error,
            )
            sys.exit(1)


if __name__ == "__main__":
    TargetGetResponse.cli()
