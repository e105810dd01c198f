"""TapGetResponse: wiring only. Config schema, streams built around one SyncRun, CLI hooks."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import signal
import sys
import typing as t
from functools import cached_property

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, MapperNotInitialized
from typing_extensions import override

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    GOVERNOR,
    GetResponseAPIError,
    RateGovernor,
    plugin_config_errors,
    schema_errors_without_secrets,
)
from tap_getresponse.api.config_file import config_file_problem
from tap_getresponse.api.pages import json_kind
from tap_getresponse.api.settings import auth_methods
from tap_getresponse.client import GetResponseStream
from tap_getresponse.interrupt import exit_code, exit_now, stop_run
from tap_getresponse.run import InputError, SyncFailedError, SyncRun, state_errors
from tap_getresponse.settings import TAP_SETTINGS, activity_reports_on, tap_setting_errors
from tap_getresponse.streams import STREAMS
from tap_getresponse.streams.contacts import ContactDetailsStream
from tap_getresponse.streams.message_activities import MessageActivitiesStream
from tap_getresponse.streams.reports import catalogued_streams, discovered_streams
from tap_getresponse.value_report import StrictValuesError
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    from types import FrameType

#: `--help` for `--test`, as `cb_test` behaves (the SDK's text describes its own record sync).
TEST_OPTION_HELP = (
    "Check the connection: one GET /accounts, then one line saying whether the API URL, "
    "credentials and domain work (exit code 1 if not). --test=schema writes the SCHEMA "
    "messages without reading any record."
)


class _WithoutSDKErrorLine(logging.Filter):
    """Drops the line the SDK logs before re-raising an error out of a stream.

    The run's own last line names the error and its request (`TapGetResponse.invoke`); the
    SDK's "An unhandled error occurred while syncing" before it would make two lines of one.
    """

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "An unhandled error occurred while syncing '%s'"


WITHOUT_SDK_ERROR_LINE = _WithoutSDKErrorLine()


class TapGetResponse(Tap):
    """Singer tap for the GetResponse REST API v3."""

    # The class docstring is the `--about` description: why `invoke` takes over the SDK's
    # `Tap.invoke` is said at `invoke`.

    name = "tap-getresponse"
    package_name = "getresponse-singer"
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS.wrapped.values(),
        *TAP_SETTINGS.wrapped.values(),
    ).to_dict()

    #: Admission control for every request; the process-wide one, so tap and target share it.
    governor: t.ClassVar[RateGovernor] = GOVERNOR
    #: msgspec-encoded lines, written in blocks and flushed before every STATE (writer.py).
    message_writer_class = BlockWriter
    #: Whether a SIGTERM or SIGINT is being handled already (a second one stops at once).
    _stopping = False

    def __init__(self, *, catalog: t.Any = None, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Keep the catalog document as given: singer-sdk drops the report ids in its metadata."""
        self._catalog_document = catalog
        super().__init__(catalog=catalog, **kwargs)

    def add_account_reports(self) -> None:
        """Add a stream per custom report of the account (GET /custom-reports).

        Called by `--discover` and by a sync without a catalog, never while the tap is built:
        building one (tests, `--test`, a sync with a catalog) sends no request, and a run that
        cannot start (settings, state) reads nothing.
        """
        for stream in discovered_streams(self, self.run):
            with contextlib.suppress(MapperNotInitialized):  # --discover sets up none
                self.mapper.register_raw_stream_schema(
                    stream.name, stream.schema, stream.primary_keys
                )
            stream.logger.addFilter(WITHOUT_SDK_ERROR_LINE)
            self.streams[stream.name] = stream

    @cached_property
    def run(self) -> SyncRun:
        """What this run's streams share (built at discovery; its client only when first used)."""
        return SyncRun(
            self.config, governor=self.governor, logger=self.logger, writer=self.message_writer
        )

    @override
    def discover_streams(self) -> list[GetResponseStream]:
        streams: list[GetResponseStream] = [
            stream_class(tap=self, run=self.run) for stream_class in STREAMS
        ]
        # Custom reports of the input catalog (without one: `add_account_reports`).
        streams += catalogued_streams(self, self.run, self._catalog_document)
        if activity_reports_on(self.config):  # schedules a report in the account: opt-in
            streams.append(MessageActivitiesStream(tap=self, run=self.run))
        for stream in streams:
            stream.logger.addFilter(WITHOUT_SDK_ERROR_LINE)  # once per logger: the same filter
        return streams

    @override
    def run_discovery(self) -> str:
        # With credentials, discovery reads the account: first the connection settings, which
        # the SDK's --discover leaves unchecked (a bad `api_url` port ended in a traceback).
        if auth_methods(self.config):
            plugin_config_errors(self.config, self.logger, raise_errors=True)
        # The custom field columns cost a request: made for discovery, read from the catalog.
        details = self.streams.get("contact_details")
        if isinstance(details, ContactDetailsStream):
            details.discover_columns()
        self.add_account_reports()
        return super().run_discovery()

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # jsonschema quotes a wrong-typed value, which for a secret setting is the secret.
        errors = schema_errors_without_secrets(
            super()._validate_config, self.config, raise_errors=raise_errors
        )
        errors += plugin_config_errors(self.config, self.logger, raise_errors=raise_errors)
        tap_errors = tap_setting_errors(self.config, now=dt.datetime.now(dt.UTC))
        if tap_errors and raise_errors:
            raise ConfigValidationError(tap_errors[0], errors=tap_errors)
        return errors + tap_errors

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Check the state before the SDK reads it: InputError, one line per bad part.

        The SDK reads bookmarks unchecked (a wrong shape or a bookmark that is not a date ended
        in a traceback). Bookmarks of the selected streams are checked, and one after the run's
        start is clamped to it (`SyncRun.review_bookmarks`).
        """
        if problems := state_errors(state):
            raise InputError(problems)
        super().load_state(state)
        streams = {
            stream.name: stream
            for stream in self.streams.values()
            if isinstance(stream, GetResponseStream) and stream.replication_key and stream.selected
        }
        self.run.review_bookmarks(
            self.state,
            {name: str(stream.replication_key) for name, stream in streams.items()},
            lambda name: streams[name].lookback,
        )

    def sync_checked(self) -> None:
        """`sync_all`, then SyncFailedError if a stream failed or no collection answered."""
        if self.input_catalog is None:  # every stream: the account's reports too
            self.add_account_reports()
        self.sync_all()
        if problems := self.run.problems():
            raise SyncFailedError(problems)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK writes its state from inside the handler and exits 0 (interrupt.py).
        del frame
        if self._stopping or not isinstance(self.message_writer, BlockWriter):
            exit_now(exit_code(signum))  # a second signal while the first is handled
        self._stopping = True
        stop_run(
            signum,
            writer=self.message_writer,
            write_state=lambda: self.state_writer.write_state(self.state),
            logger=self.logger,
        )

    @override
    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Sync; what ends a run badly is one line each (no traceback) and exit code 1.

        Bad settings, an unusable `--state` or `--catalog`, an API error (naming the request),
        and at the end streams that failed or a run where no collection answered.
        SIGTERM and SIGINT end it with 143 and 130 (`_handle_termination`, interrupt.py).

        The SDK's `Tap.invoke` steps, taken over: it reads `--state` and `--catalog` unchecked and
        returns nothing to check once `sync_all` is done: a file that is not JSON ended in a
        traceback, and a failed stream could not end the run with exit code 1.
        """
        try:
            super(Tap, cls).invoke(about=about, about_format=about_format)  # --about
            cls.print_version(print_fn=cls.logger.info)
            tap = cls(
                config=config.config if config else None,
                state=_input_file(state, "--state"),
                catalog=_input_file(catalog, "--catalog"),
                parse_env_config=config.parse_env if config else False,
                validate_config=True,
            )
            tap.sync_checked()
        except GetResponseAPIError as error:
            # The message is GetResponse's own, with the request and code; credentials redacted.
            cls.logger.error("Sync failed: %s", error)  # noqa: TRY400 - the traceback adds nothing
            sys.exit(1)
        except StrictValuesError as error:  # the first value that did not fit (value_report.py)
            cls.logger.error("Sync stopped: %s", error)  # noqa: TRY400 - the line says it all
            sys.exit(1)
        except (ConfigValidationError, InputError, SyncFailedError) as error:
            for line in _lines(error):
                cls.logger.error("%s", line)  # noqa: TRY400 - the traceback adds nothing
            sys.exit(1)
        except KeyboardInterrupt:  # Ctrl-C before the tap installed its handler: nothing read
            cls.logger.warning("Stopped by SIGINT before the sync started")
            exit_now(exit_code(signal.SIGINT))
        except Exception as error:  # a bug no test has met, outside any stream: one line
            cls.logger.debug("Sync failed", exc_info=True)
            cls.logger.error("Sync failed: unexpected %s: %s", type(error).__name__, error)  # noqa: TRY400
            sys.exit(1)

    @override
    @classmethod
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """The SDK's `--discover`; a setting that keeps it from reading the account: one line."""
        try:
            super().cb_discover(ctx, param, value)
        except ConfigValidationError as error:
            for line in _lines(error):
                cls.logger.error("%s", line)  # noqa: TRY400 - the traceback adds nothing
            ctx.exit(1)

    @override
    @classmethod
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        for option in command.params:
            if option.name == "test" and isinstance(option, click.Option):
                option.help = TEST_OPTION_HELP
        return command

    @override
    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """`--config` files, each checked first: one line naming a file that is missing or bad."""
        for path in value:
            if problem := config_file_problem(path):
                cls.logger.error("Config: %s", problem)
                ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @override
    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: one cheap call that says in plain words whether URL, auth and domain work."""
        if value != "all":
            try:
                super().cb_test(ctx, param, value)
            except ConfigValidationError as error:
                for line in _lines(error):
                    cls.logger.error("%s", line)  # noqa: TRY400 - the traceback adds nothing
                ctx.exit(1)
            return
        config = ctx.params.get("config")
        try:
            tap = cls(
                config=config.config if config else None,
                catalog={"streams": []},  # no stream is read: custom reports are not listed
                parse_env_config=config.parse_env if config else False,
                validate_config=True,
            )
        except ConfigValidationError as error:
            for line in _lines(error):
                cls.logger.error("%s", line)  # noqa: TRY400 - the traceback adds nothing
            ctx.exit(1)
        try:
            click.echo(tap.run.api.check_connection())
        except (GetResponseAPIError, OSError) as error:
            click.echo(f"Connection check failed: {error}", err=True)
            ctx.exit(1)
        ctx.exit(0)


def _lines(error: ConfigValidationError | InputError | SyncFailedError) -> list[str]:
    """What to log for `error`: one line per problem, each naming its setting or stream."""
    if isinstance(error, ConfigValidationError):
        return [f"Config: {line}" for line in (error.errors or [str(error)])]
    return error.problems


def _input_file(file: t.IO[str] | None, option: str) -> dict[str, t.Any] | None:
    """The JSON object in a `--state` or `--catalog` file (an empty `--state` is no state)."""
    if file is None:
        return None
    text = file.read()
    if option == "--state" and not text.strip():
        return {}
    return _json_object(text, f"{option} {file.name}")


def _json_object(text: str, source: str) -> dict[str, t.Any]:
    """The JSON object in `text` from `source` (`--state <file>`), else InputError naming it."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        msg = f"{source} is not JSON ({error})"
        raise InputError([msg]) from None
    if not isinstance(document, dict):
        msg = f"{source} holds {json_kind(document)}, not a JSON object"
        raise InputError([msg])
    return document


if __name__ == "__main__":
    sys.exit(TapGetResponse.cli())
