"""TargetGetResponse, wiring only: settings in, one LoadRun, a ContactsSink for every stream.

What one load shares lives in its LoadRun (run.py). The SDK hooks overridden here hand each event
to it; the private ones among them say why they are needed.
"""

from __future__ import annotations

import functools
import signal
import sys
import typing as t

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
from tap_getresponse.api.config_file import config_file_problem
from target_getresponse.event_sink import CustomEventsSink
from target_getresponse.logs import mask_emails_in_logs
from target_getresponse.mapping import RejectError
from target_getresponse.reader import Abandoned, InputReader
from target_getresponse.run import LoadRun
from target_getresponse.settings import TARGET_SETTINGS, TargetSettings
from target_getresponse.sinks import ContactsSink

if t.TYPE_CHECKING:
    from types import FrameType

    import click
    from singer_sdk.sinks import Sink


class TargetGetResponse(Target):
    """Singer target that batch-adds contacts to GetResponse lists."""

    name = "target-getresponse"
    package_name = "getresponse-singer"
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS.wrapped.values(),
        *TARGET_SETTINGS.wrapped.values(),
    ).to_dict()
    message_reader_class = InputReader
    #: STATE goes out only once every sink is drained: at the end of the input, or when the oldest
    #: record held is this old (the SDK's default is 5 minutes). A kill re-sends at most a
    #: minute's work on the rerun, custom events included, which GetResponse would count twice.
    _MAX_RECORD_AGE_IN_MINUTES = 1.0
    message_reader: InputReader

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401 - the SDK's
        """Settings read once, one LoadRun; one sink drains at a time (they share the run)."""
        mask_emails_in_logs()
        #: None until the config is read: a stop signal before that leaves at once.
        self._load_run: LoadRun | None = None
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1
        self._versions_ignored: set[str] = set()
        self.settings = TargetSettings.from_config(self.config)
        self._load_run = LoadRun(
            self.settings,
            self.message_reader,
            lambda: GetResponseClient.from_config(self.config, logger=self.logger),
            logger=self.logger,
            name=self.name,
        )

    @property
    def load_run(self) -> LoadRun:
        """This run's shared state (run.py)."""
        if self._load_run is None:
            msg = "the target is still reading its config"
            raise RuntimeError(msg)
        return self._load_run

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """CustomEventsSink for `custom_events_stream`, else ContactsSink, with this run's LoadRun.

        The SDK calls the class it gets with the sink's own arguments; the partial adds the run.
        """
        events = stream_name == self.settings.custom_events_stream
        sink = CustomEventsSink if events else ContactsSink
        return t.cast("type[Sink]", functools.partial(sink, load_run=self.load_run))

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's check, with no secret quoted, and the connection settings' own checks.

        Private SDK hook, kept: it is the SDK's only config check, and jsonschema quotes a
        wrong-typed value, which for a secret setting is the secret.
        """
        errors = schema_errors_without_secrets(
            super()._validate_config, self.config, raise_errors=raise_errors
        )
        return errors + plugin_config_errors(self.config, self.logger, raise_errors=raise_errors)

    @override
    def _process_record_message(self, message_dict: dict[str, t.Any]) -> None:
        """A record of a stream no SCHEMA announced is a reject, not the end of the run.

        Private SDK hook, kept: the SDK raises on such a record before any sink sees it.
        """
        stream = message_dict["stream"]
        if stream not in self.mapper.stream_maps:
            run = self.load_run
            run.tally.count(received=1)
            reason = RejectError(f"stream '{stream}' had no SCHEMA message before this record")
            line = run.reader.line_number
            run.reject_record(stream, message_dict["record"], reason, (), line)
            return
        super()._process_record_message(message_dict)

    @override
    def _process_activate_version_message(self, message_dict: dict[str, t.Any]) -> None:
        """Ignored, said once per stream: contacts are added or updated, never removed.

        Private SDK hook, kept: the SDK's public switch (`process_activate_version_messages`)
        would log a warning for every such message.
        """
        stream = str(message_dict.get("stream"))
        if stream not in self._versions_ignored:
            self._versions_ignored.add(stream)
            self.logger.info(
                "ACTIVATE_VERSION for stream '%s' ignored: this target never removes contacts",
                stream,
            )

    @override
    def _process_batch_message(self, message_dict: dict[str, t.Any]) -> None:
        """Refused (LoadRun.refuse_batch) once what came before it is loaded and its STATE out.

        Private SDK hook, kept: the SDK's reads the files into `process_batch`, past the sinks'
        checks. No STATE follows a refused BATCH: it would cover records never loaded.
        """
        self.drain_all()
        self.load_run.refuse_batch(str(message_dict["stream"]))

    @override
    def _write_state_message(self, state: dict[str, t.Any]) -> None:
        """Loads in progress and updates waiting for an import go first: STATE follows them.

        Private SDK hook, kept: it is the one place every STATE passes before it goes out.
        """
        self.load_run.before_state()
        if not self.load_run.state_withheld:
            super()._write_state_message(state)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT: stop reading; a second one (or one this early) leaves at once.

        Private SDK hook, kept: the SDK installs it as the signal handler, and its own drains
        every sink inside the handler, wherever the main thread was, and exits 0. After the
        first signal the target loads what it has read, passes on the last STATE it read,
        prints the summary and exits 128 + the signal's number.
        """
        del frame
        if self._load_run is None:
            raise Abandoned(signum)
        self._load_run.on_stop_signal(signum)

    @override
    def process_endofpipe(self) -> None:
        """Drain the sinks, then end the run (LoadRun.close); exit non-zero when it says so."""
        status = self.load_run.close(drain=super().process_endofpipe)
        if status:
            sys.exit(status)

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
                target.load_run.sender.cancel()
                target.load_run.report()
            cls.logger.error(  # noqa: TRY400 - the traceback adds nothing
                "Stopped by a second %s: the batch in flight was abandoned. The last STATE "
                "passed on covers only what was loaded before it; rerun with it (contacts "
                "already added are not added twice).",
                signal.Signals(stop.signal_number).name,
            )
            sys.exit(128 + stop.signal_number)
        except Exception as error:
            if target is not None:
                target.load_run.report()
            # Credentials are redacted by the HTTP layer; addresses are masked in every log line.
            what = str(error)
            if not isinstance(error, RUN_ENDING_ERRORS):  # a bug on input no test has met
                cls.logger.debug("Load failed", exc_info=True)
                what = f"unexpected {type(error).__name__}: {error}"
            cls.logger.error(  # noqa: TRY400 - the traceback adds nothing
                "Load failed: %s. STATE already emitted covers everything before it; rerun "
                "with it to go on (contacts already added are not added twice).",
                what,
            )
            sys.exit(1)


#: What no record can fix (an API, setting or network error): the load ends with its message.
RUN_ENDING_ERRORS = (GetResponseAPIError, ConfigError, requests.exceptions.RequestException)

if __name__ == "__main__":
    TargetGetResponse.cli()
