"""TapGetResponse: settings, the shared HTTP client and the stream registry."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import typing as t
from email.utils import parsedate_to_datetime
from functools import cached_property

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from tap_getresponse.api import (
    CONNECTION_SETTINGS,
    GOVERNOR,
    GetResponseAPIError,
    GetResponseClient,
    RateGovernor,
    plugin_config_errors,
    schema_errors_without_secrets,
)
from tap_getresponse.interrupt import exit_code, exit_now, stop_run
from tap_getresponse.streams import STREAMS
from tap_getresponse.windows import iter_stable_pages
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_getresponse.client import GetResponseStream, ParentCollection

#: `--help` for `--test`, as `cb_test` behaves (the SDK's text describes its own record sync).
TEST_OPTION_HELP = (
    "Check the connection: one GET /accounts, then one line saying whether the API URL, "
    "credentials and domain work (exit code 1 if not). --test=schema writes the SCHEMA "
    "messages without reading any record."
)

TAP_SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest change to read on a first run; omit to read the whole history.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=1000),
        default=1000,
        description="Items per request (`perPage`); 1000 is GetResponse's maximum.",
    ),
    th.Property(
        "lookback_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description=(
            "How far before the saved bookmark an incremental run starts reading, so changes "
            "that became visible late are not missed. Re-read records are deduplicated by "
            "targets on primary keys."
        ),
    ),
    th.Property(
        "statistics_lookback_days",
        th.IntegerType(minimum=0),
        default=7,
        description=(
            "Days of daily statistics (message and list statistics) read again before each "
            "saved bookmark, because GetResponse keeps counting opens, clicks and list changes "
            "into recent days after they were first read."
        ),
    ),
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
    def run_started_at(self) -> dt.datetime:
        """When this run started, by GetResponse's own clock (whole seconds, UTC).

        Timestamps such as `changedOn` are stamped by the server, so the window bound that keeps
        changes made during the run out of it must come from the server's clock too: one cheap
        `GET /accounts` is read for its `Date` header. The local clock is the fallback.
        """
        local = dt.datetime.now(dt.UTC).replace(microsecond=0)
        try:
            response = self.api.request("GET", "/accounts", params={"fields": "accountId"})
            server = parsedate_to_datetime(response.headers["Date"])
        except (GetResponseAPIError, OSError, KeyError, TypeError, ValueError) as error:
            self.logger.info("No server clock (%s); windows end at the local clock", error)
            return local
        return server.astimezone(dt.UTC).replace(microsecond=0)

    @property
    def window_end(self) -> dt.datetime:
        """The inclusive upper bound of every time window, and the most a bookmark may reach.

        A second before the run started: anything changed during the run is stamped later and
        falls outside, so paging never sees a record move inside its window (windows.py).
        """
        return self.run_started_at - dt.timedelta(seconds=1)

    @cached_property
    def listings(self) -> dict[ParentCollection, list[str]]:
        """Parent ids listed in this run, shared by every stream that fans out over them."""
        return {}

    def list_parents(self, parent: ParentCollection, reader: GetResponseStream) -> list[str]:
        """Ids of every item of `parent` worth a child request (one listing per run)."""
        if parent not in self.listings:
            params: dict[str, str] = {"fields": ",".join((parent.key, *parent.fields))}
            ids = [
                str(item[parent.key])
                for page in iter_stable_pages(reader, parent.path, params, parent.key)
                for item in page.items
                if parent.keep is None or parent.keep(item)
            ]
            self.listings[parent] = list(dict.fromkeys(ids))
        return self.listings[parent]

    def flush_output(self) -> None:
        """Write out records the block writer still holds."""
        if isinstance(self.message_writer, BlockWriter):
            self.message_writer.flush()

    @cached_property
    def api(self) -> GetResponseClient:
        """One HTTP client, session and rate governor for every stream of this run."""
        return GetResponseClient(self.config, governor=self.governor, logger=self.logger)

    @override
    def discover_streams(self) -> list[GetResponseStream]:
        return [stream_class(tap=self) for stream_class in STREAMS]

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
            click.echo(tap.api.check_connection())
        except (GetResponseAPIError, OSError) as error:
            click.echo(f"Connection check failed: {error}", err=True)
            ctx.exit(1)
        ctx.exit(0)


if __name__ == "__main__":
    sys.exit(TapGetResponse.cli())
