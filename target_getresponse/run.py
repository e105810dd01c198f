"""LoadRun: what one load shares, from the first input line to the summary.

The plugin class (target.py) only wires the SDK to it, and sinks are handed it. A LoadRun owns
the tally, the rejects file, the resolver, the loader's parts (membership, adds, updates) and the
sender; `before_state` says what must happen before a STATE is passed on, and `close` ends the
run at the end of the input: the last loads, the imports still waiting, `verify`, the summary.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import typing as t
from dataclasses import dataclass

from target_getresponse.adds import Adds
from target_getresponse.events import Events
from target_getresponse.logs import mask_email, mask_emails_in
from target_getresponse.mapping import RejectError
from target_getresponse.membership import Membership
from target_getresponse.reader import Abandoned, Unreadable
from target_getresponse.rejects import Rejects, Tally
from target_getresponse.removals import Removals
from target_getresponse.resolver import Resolver
from target_getresponse.sender import Sender
from target_getresponse.updates import Updates

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping, Sequence

    from tap_getresponse.api import GetResponseClient
    from target_getresponse.mapping import Prepared
    from target_getresponse.reader import InputReader
    from target_getresponse.settings import TargetSettings


@dataclass(frozen=True, slots=True)
class Loader:
    """The loader's parts, made on the first batch: list membership, adds, updates, removals."""

    membership: Membership
    adds: Adds
    updates: Updates
    removals: Removals


class LoadRun:
    """One load: its counters, rejects, account directory, loader and background sender."""

    def __init__(
        self,
        settings: TargetSettings,
        reader: InputReader,
        connect: Callable[[], GetResponseClient],
        *,
        logger: logging.Logger,
        name: str,
    ) -> None:
        """Nothing is read from the API until the first record needs it (`connect` then)."""
        self.settings = settings
        self.reader = reader
        self.logger = logger
        self.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.tally = Tally()
        self.rejects = Rejects(
            settings.rejects_file,
            include_records=settings.rejects_include_records,
            run={"started_at": self.started_at, "target": name},
        )
        #: Loads batches in the background while the next one is read (sender.py).
        self.sender = Sender()
        #: Set when the run is asked to stop: `verify` stops waiting.
        self.stopping = threading.Event()
        self._connect = connect
        self._client: GetResponseClient | None = None
        self._calls_before = 0
        self._resolver: Resolver | None = None
        self._loader: Loader | None = None
        self._events: Events | None = None
        self._ended_mid_line: Unreadable | None = None
        #: BATCH messages refused (reader.BATCH_REFUSED): their records were not loaded.
        self._batches_refused = 0
        reader.on_unreadable = self.skip_unreadable

    # -- the run's parts, made when first needed ------------------------------------------

    @property
    def client(self) -> GetResponseClient:
        """The shared HTTP client (governor, retries, auth); a run without records makes none."""
        if self._client is None:
            self._client = self._connect()
            self._calls_before = self._client.governor.snapshot().calls
        return self._client

    @property
    def resolver(self) -> Resolver:
        """Lists, custom fields and tags, read on the first record."""
        if self._resolver is None:
            settings = self.settings
            self._resolver = Resolver(
                self.client,
                create_missing_tags=settings.create_missing_tags,
                create_missing_custom_fields=settings.create_missing_custom_fields,
                dry_run=settings.dry_run,
                default_campaign=settings.campaign_id,
            )
        return self._resolver

    @property
    def loader(self) -> Loader:
        """The loader's parts, sharing one membership index per list."""
        if self._loader is None:
            client = self.client
            membership = Membership(client, parallel=client.max_parallel_requests)
            dry_run = self.settings.dry_run
            self._loader = Loader(
                membership=membership,
                adds=Adds(
                    client,
                    membership,
                    self.tally,
                    self.reject_prepared,
                    dry_run=dry_run,
                    track_sent=self.settings.verifying,
                ),
                updates=Updates(
                    client,
                    membership,
                    self.tally,
                    self.reject_prepared,
                    dry_run=dry_run,
                    replace_tags=self.settings.tags_mode == "replace",
                ),
                removals=Removals(
                    client, membership, self.tally, self.reject_prepared, dry_run=dry_run
                ),
            )
        return self._loader

    @property
    def events(self) -> Events:
        """Custom event definitions and triggers (events.py), sharing the membership index."""
        if self._events is None:
            self._events = Events(
                self.client,
                self.loader.membership,
                self.tally,
                self.reject_prepared,
                dry_run=self.settings.dry_run,
                create_missing=self.settings.create_missing_custom_events,
            )
        return self._events

    # -- loading ----------------------------------------------------------------------------

    def submit(self, by_list: Mapping[str, Sequence[Prepared]]) -> None:
        """Hand one batch, by list, to the sender: it loads while the next batch is read."""
        loader, cancelled = self.loader, self.sender.cancelled

        def load() -> None:
            for campaign_id, contacts in by_list.items():
                if cancelled.is_set():
                    return
                self._load_list(loader, campaign_id, contacts)

        self.sender.submit(load)

    def _load_list(self, loader: Loader, campaign_id: str, contacts: Sequence[Prepared]) -> None:
        """Remove the deleted; add the new contacts; count or update the ones the list holds."""
        removed = [p for p in contacts if p.deleted]
        if removed:
            keys = [p.key for p in removed]
            loader.updates.discard(campaign_id, keys)
            for key in keys:
                loader.adds.sent.get(campaign_id, {}).pop(key, None)  # not to `verify`
            loader.removals.remove(campaign_id, removed)
            contacts = [p for p in contacts if not p.deleted]
        known = loader.membership.members(campaign_id, [p.key for p in contacts])
        new = [p for p in contacts if p.key not in known]
        on_list = [p for p in contacts if p.key in known]
        if self.settings.load_method == "upsert":
            loader.updates.upsert(campaign_id, on_list, known)
        elif self.settings.tags_mode == "replace":
            loader.updates.retag(campaign_id, on_list, known)
        else:
            self.tally.count(existing=len(on_list))
        loader.adds.add(campaign_id, new)

    @property
    def state_withheld(self) -> bool:
        """Whether STATE is no longer passed on: a BATCH message's records were not loaded.

        A STATE after it would tell the tap those records are done; the last one passed on
        is from before it, so a rerun with it sends them again.
        """
        return self._batches_refused > 0

    def before_state(self) -> None:
        """Loads in progress and updates waiting for an import go first: STATE follows them."""
        self.sender.wait()
        if self._loader is not None:
            self._loader.updates.flush_deferred()

    # -- what could not be loaded -----------------------------------------------------------

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

    def reject_prepared(self, prepared: Prepared, error: RejectError) -> None:
        """A contact the API refused or that never became visible: a reject of its record."""
        self.reject_record(
            prepared.stream, prepared.record, error, prepared.key_properties, prepared.line
        )

    def refuse_batch(self, stream: str) -> None:
        """A BATCH message: not loaded, reported as an unreadable line; the run ends non-zero.

        The target does not declare the `batch` capability: the SDK would hand the files'
        records to `process_batch` without the sinks reading them (no checks, no rejects).
        """
        reason = "is a BATCH message: this target loads RECORD messages only"
        self.skip_unreadable(Unreadable(self.reader.line_number, "BATCH", stream, reason))
        self._batches_refused += 1

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

    # -- stopping and ending ----------------------------------------------------------------

    def on_stop_signal(self, signum: int) -> None:
        """SIGTERM or SIGINT: the first stops reading; a second leaves at once (Abandoned)."""
        if self.reader.stop_signal is not None:
            self.sender.cancelled.set()  # the rest (Sender.cancel) once out of the handler
            raise Abandoned(signum)
        self.stopping.set()
        self.reader.request_stop(signum)

    def close(self, drain: Callable[[], None]) -> int:
        """End of input: `drain` the sinks (the last STATE follows), verify, report.

        Returns the exit status: 128 + the signal's number for a stopped run, 1 for input cut
        off mid-line or rejects under `fail_on_reject`, else 0.
        """
        stop = self.reader.stop_signal
        if stop is not None:
            self.logger.warning(
                "%s received at input line %d: loading what was read, then stopping",
                signal.Signals(stop).name,
                self.reader.line_number,
            )
        drain()
        self.sender.close()
        if self._loader is not None:
            self._loader.updates.flush_deferred()
            self._verify(self._loader)
        self.report()
        return self._exit_status()

    def _verify(self, loader: Loader) -> None:
        if not self.settings.verifying:
            return
        if self.reader.stop_signal is None:
            timeout = float(self.settings.verify_timeout_seconds)
            loader.updates.verify(loader.adds.sent, timeout, self.stopping)
        else:
            self.logger.warning("verify skipped: the run was asked to stop")

    def _exit_status(self) -> int:
        stop = self.reader.stop_signal  # also a signal that came during `verify`
        if stop is not None:
            self.logger.error(
                "Stopped by %s at input line %d: what was read is loaded or rejected, and the "
                "last STATE passed on covers no more than that; rerun with it to go on.",
                signal.Signals(stop).name,
                self.reader.line_number,
            )
            return 128 + stop
        if self._ended_mid_line is not None:
            self.logger.error(
                "Input ended in the middle of line %d: the process writing it stopped. "
                "Everything before it was loaded or rejected and the last STATE passed on "
                "covers it; rerun with that STATE to go on.",
                self._ended_mid_line.line,
            )
            return 1
        if self._batches_refused:
            self.logger.error(
                "%d BATCH messages were not loaded: this target loads RECORD messages only. "
                "No STATE was passed on after the first; turn off the tap's `batch_config` "
                "and rerun with the last STATE passed on.",
                self._batches_refused,
            )
            return 1
        refused = self.tally.rejected + self.tally.unreadable
        if refused and self.settings.fail_on_reject:
            self.logger.error(
                "%d records rejected (see %s) and fail_on_reject is set",
                refused,
                self.rejects.path,
            )
            return 1
        return 0

    def report(self) -> None:
        """The API use, the summary line and where this run's rejects are."""
        if self._client is not None:
            stats = self._client.governor.snapshot()
            self.tally.api_calls = stats.calls - self._calls_before
            self.logger.info("GetResponse API use: %s", stats.summary())
        prefix = "Dry run: " if self.settings.dry_run else ""
        summary = self.tally.summary()
        abandoned = self.tally.received - self.tally.accounted
        if abandoned:
            # Only a run cut short: records read whose batch was never sent or never answered.
            summary += f" abandoned={abandoned}"
        self.logger.info("%starget-getresponse summary: %s", prefix, summary)
        if self.rejects.count:
            self.logger.info(
                "%d refused records and unreadable lines of this run are in %s, after the line "
                '{"run": {"started_at": "%s", ...}}',
                self.rejects.count,
                self.rejects.path,
                self.started_at,
            )
