"""TapGetResponse: wiring only. Config schema, streams built around one SyncRun, CLI hooks."""

from __future__ import annotations

import signal
import sys
import typing as t
from functools import cached_property

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    GOVERNOR,
    GetResponseAPIError,
    RateGovernor,
    plugin_config_errors,
    schema_errors_without_secrets,
)
from tap_getresponse.interrupt import exit_code, exit_now, stop_run
from tap_getresponse.run import SyncRun
from tap_getresponse.settings import TAP_SETTINGS
from tap_getresponse.streams import STREAMS
from tap_getresponse.value_report import StrictValuesError
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_getresponse.client import GetResponseStream

#: `--help` for `--test`, as `cb_test` behaves (the SDK's text describes its own record sync).
TEST_OPTION_HELP = (
    "Check the connection: one GET /accounts, then one line saying whether the API URL, "
    "credentials and domain work (exit code 1 if not). --test=schema writes the SCHEMA "
    "messages without reading any record."
)


class TapGetResponse(Tap):
    """Singer tap for the GetResponse REST API v3."""

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

    @cached_property
    def run(self) -> SyncRun:
        """What this run's streams share (built at discovery; its client only when first used)."""
        return SyncRun(
            self.config, governor=self.governor, logger=self.logger, writer=self.message_writer
        )

    @override
    def discover_streams(self) -> list[GetResponseStream]:
        return [stream_class(tap=self, run=self.run) for stream_class in STREAMS]

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # jsonschema quotes a wrong-typed value, which for a secret setting is the secret.
        errors = schema_errors_without_secrets(
            super()._validate_config, self.config, raise_errors=raise_errors
        )
        return errors + plugin_config_errors(self.config, self.logger, raise_errors=raise_errors)

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
        """Sync; an API error ends the run with one line naming the request, and exit code 1.

        SIGTERM and SIGINT end it with 143 and 130 (`_handle_termination`, interrupt.py).
        """
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, state=state, catalog=catalog
            )
        except GetResponseAPIError as error:
            # The message is GetResponse's own, with the request and code; credentials redacted.
            cls.logger.error("Sync failed: %s", error)  # noqa: TRY400 - the traceback adds nothing
            sys.exit(1)
        except StrictValuesError as error:  # the first value that did not fit (value_report.py)
            cls.logger.error("Sync stopped: %s", error)  # noqa: TRY400 - the line says it all
            sys.exit(1)
        except KeyboardInterrupt:  # Ctrl-C before the tap installed its handler: nothing read
            cls.logger.warning("Stopped by SIGINT before the sync started")
            exit_now(exit_code(signal.SIGINT))

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
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: one cheap call that says in plain words whether URL, auth and domain work."""
        if value != "all":
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        tap = cls(
            config=config.config if config else None,
            parse_env_config=config.parse_env if config else False,
            validate_config=True,
        )
        try:
            click.echo(tap.run.api.check_connection())
        except (GetResponseAPIError, OSError) as error:
            click.echo(f"Connection check failed: {error}", err=True)
            ctx.exit(1)
        ctx.exit(0)


if __name__ == "__main__":
    sys.exit(TapGetResponse.cli())
