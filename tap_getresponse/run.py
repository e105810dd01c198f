"""SyncRun: what one sync shares across its streams.

The API client (one session and governor), the server's clock that ends every window, the parent
listings fan-out streams share, the settings and the output flush. Streams are handed the run
when they are built and reach nothing else: a run is built at discovery, but its client only when
a stream first asks for it, so discovery without credentials makes no client and no request.

The run also keeps its outcome: streams that failed (an answer that is not a collection, or a 4xx
refusing one of its requests: that stream stops, the others go on) and whether any collection
answered at all. A run whose every
collection answered 403/404 is a wrong `api_url` or account, not a plan without those features.
`problems()` lists what makes the run fail, one line each; the tap exits 1 on them at the end.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cached_property
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError, GetResponseClient
from tap_getresponse.api.collections import PageReader, iter_stable_pages
from tap_getresponse.api.errors import RequestRefusedError, mask_emails
from tap_getresponse.api.pages import Page, UnexpectedResponseError, json_kind
from tap_getresponse.settings import TapSettings
from tap_getresponse.windows import BookmarkError, checked_bookmark
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Mapping

    from singer_sdk.singerlib.encoding.base import GenericSingerWriter

    from tap_getresponse.api import RateGovernor
    from tap_getresponse.api.collections import Repair

#: Statuses that mean "this account has no such feature" on a collection (plan gating).
PLAN_GATED_STATUSES = frozenset({HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})
#: What ends one stream, not the run: the stream stops where it is, the others go on. A 400
#: (or another 4xx about one request) is one bad request, never the account: see `read_error`.
STREAM_FAILURES = (UnexpectedResponseError, RequestRefusedError)
#: Errors our own code raises on data no test has met: they stop the stream, not the run...
UNFORESEEN = (
    KeyError,
    AttributeError,
    TypeError,
    IndexError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
#: The SDK's key for a stream's bookmarks of unsorted reads, final only once the stream ends.
PROGRESS_MARKERS = "progress_markers"


T = t.TypeVar("T")


class SyncFailedError(Exception):
    """The run ended, but not well: one line per problem (failed streams, nothing readable)."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the lines; the message is all of them."""
        self.problems = problems
        super().__init__("; ".join(problems))


class InputError(ValueError):
    """A `--state` (or `--catalog`) that cannot be used: one line per problem, naming its part."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the lines; the message is all of them."""
        self.problems = problems
        super().__init__("; ".join(problems))


class UnforeseenError(Exception):
    """An error of the tap's own code while reading one stream (its message names the kind)."""


class StreamUnavailableError(Exception):
    """The account cannot read this collection (feature not in its plan, or no such parent)."""

    def __init__(self, path: str, error: GetResponseAPIError) -> None:
        """Keep the status so callers can tell "no feature" from "parent gone"."""
        self.path = path
        self.http_status = error.http_status
        super().__init__(str(error))


def read_error(error: GetResponseAPIError, method: str, path: str) -> Exception:
    """What a final error answer to one of a stream's reads, `method path`, means for the run.

    403/404: StreamUnavailableError (plan gating, or a parent gone). Another 4xx about that
    request: RequestRefusedError, which stops the stream (`STREAM_FAILURES`). Anything else
    (401, 429 after every wait, a 5xx after the retries, the network) is `error`: it ends the run.
    """
    if error.http_status in PLAN_GATED_STATUSES:
        return StreamUnavailableError(path, error)
    return RequestRefusedError.of(error, method, path) or error


@dataclass(frozen=True, slots=True)
class Shared(t.Generic[T]):
    """The name of something one stream of a run reads and keeps for another (`SyncRun.keep`)."""

    name: str


@dataclass(frozen=True, slots=True)
class ParentCollection:
    """The collection whose items a fan-out stream reads one by one."""

    path: str
    key: str
    #: Other fields `keep` needs from each item.
    fields: tuple[str, ...] = ()
    #: Which items have children worth a request (e.g. not drafts); all when None.
    keep: Callable[[Mapping[str, t.Any]], bool] | None = None


class SyncRun:
    """One sync's shared state: API client, clock, parent listings, settings, output."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        *,
        governor: RateGovernor,
        logger: logging.Logger,
        writer: GenericSingerWriter[t.Any, t.Any],
    ) -> None:
        """Nothing read yet: settings, client and clock come when first asked for."""
        self._config = config
        self._governor = governor
        self.logger = logger
        self._writer = writer
        self._listings: dict[ParentCollection, list[str]] = {}
        #: What a stream kept for streams that sync after it: the value and how many will take it.
        self._kept: dict[Shared[t.Any], tuple[t.Any, int]] = {}
        #: Stream name -> the one line saying why it failed.
        self.failed: dict[str, str] = {}
        self._outcome = threading.Lock()
        self._answered = False
        self._refused = False

    @cached_property
    def settings(self) -> TapSettings:
        """The tap's settings, parsed once (on first use: discovery does not need them)."""
        return TapSettings.from_config(self._config)

    @cached_property
    def api(self) -> GetResponseClient:
        """One HTTP client, session and rate governor for every stream of this run."""
        connection = self.settings.connection
        return GetResponseClient(connection, governor=self._governor, logger=self.logger)

    @property
    def parallel_requests(self) -> int:
        """Requests one read runs at once (`max_parallel_requests`: 1 to the API's 10)."""
        return self.api.max_parallel_requests

    @cached_property
    def started_at(self) -> dt.datetime:
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
        return self.started_at - dt.timedelta(seconds=1)

    def get_page(self, path: str, params: Mapping[str, t.Any], number: int) -> Page:
        """One GET of a collection; raises StreamUnavailableError for plan-gated collections.

        A paged request (`perPage`) must be answered with an array (UnexpectedResponseError); a
        4xx refusing the request raises RequestRefusedError (both stop the stream: `read_error`).
        """
        try:
            response = self.api.request("GET", path, params=params)
        except GetResponseAPIError as error:
            failure = read_error(error, "GET", path)
            if failure is error:
                raise
            if isinstance(failure, StreamUnavailableError):
                with self._outcome:
                    self._refused = True
            raise failure from error
        page = Page.from_response(number, response, listing="perPage" in params)
        with self._outcome:
            self._answered = True
        return page

    def stream_failed(self, name: str, error: Exception, state: dict[str, t.Any]) -> None:
        """Stop stream `name` where it is, keeping its bookmark at the records it emitted.

        Bookmarks of sorted reads already stand at the last record emitted; those of unsorted
        reads (progress markers) become final only when a stream ends, so they are dropped.
        """
        # The error names the request (method and path); an address it echoes is masked.
        self.failed.setdefault(name, mask_emails(f"Stream '{name}' failed: {error}"))
        for saved in (state, *state.get("partitions", ())):
            saved.pop(PROGRESS_MARKERS, None)
        self.logger.warning(
            "Stream '%s' stopped: %s. Its bookmark stays at what it emitted; the other streams "
            "go on, and the run ends with exit code 1.",
            name,
            mask_emails(str(error)),
        )

    def problems(self) -> list[str]:
        """One line per reason this run fails; none when it did what was asked.

        A run where no collection answered gets one line in all: every stream failing the same
        way (a web page where the API should be) is one wrong setting, not fifty problems.
        """
        lines = list(self.failed.values())
        if self._answered or not (lines or self._refused):
            return lines
        if not lines:
            why = "every collection this run asked for answered 403 or 404"
        else:
            others = f"; {len(lines) - 1} more streams failed" if len(lines) > 1 else ""
            why = f"no collection could be read ({lines[0]}{others})"
        line = (
            f"Nothing was read: {why}. That is not a plan without these features but a wrong "
            "`api_url` (it ends in /v3) or account; `tap-getresponse --test` checks the URL, "
            "credentials and domain."
        )
        return [line]

    def review_bookmarks(
        self,
        state: Mapping[str, t.Any],
        keys: Mapping[str, str],
        lookback: Callable[[str], dt.timedelta],
    ) -> None:
        """Check the saved bookmarks of streams `keys` (name -> replication key) before a run.

        Raises InputError, one line per bookmark that is not a date-time or that less the
        stream's `lookback(name)` falls out of range. A bookmark after the run's start (a clock
        gone wrong, a hand-edited state) is clamped to it with a warning: read from there less
        the lookback (never before `start_date`), and written back as the run's start if the
        stream emits nothing, rather than reading nothing ever again. The start is this
        machine's clock: the state is checked before any request, and a lookback covers a skew.
        """
        bookmarks = state.get("bookmarks", {})
        saved = [
            (name, entry)
            for name, key in keys.items()
            for entry in _saved_bookmarks(bookmarks.get(name), key)
        ]
        problems, late = [], []
        start = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for name, entry in saved:
            value = entry["replication_key_value"]
            try:
                moment = checked_bookmark(value, lookback(name))
            except BookmarkError as error:
                problems.append(f"Stream '{name}': the state's {error}; fix or remove it")
                continue
            if moment > start:
                late.append((name, entry))
        if problems:
            raise InputError(problems)
        for name, entry in late:
            self.logger.warning(
                "Stream '%s': the saved bookmark %s is after this run's start (%s); it reads "
                "from the run's start less its lookback. To read its whole history instead, "
                "remove its bookmark from the state.",
                name,
                entry["replication_key_value"],
                start.isoformat(),
            )
            entry["replication_key_value"] = start.isoformat()

    def list_parents(
        self,
        parent: ParentCollection,
        reader: PageReader,
        on_repair: Callable[[Repair], None],
    ) -> list[str]:
        """Ids of every item of `parent` worth a child request (one listing per run).

        `reader` reads `parent.path`; the first stream to ask lists, the others share its ids.
        An item without an id has no children to ask for: it is left out.
        """
        if parent not in self._listings:
            params: dict[str, str] = {"fields": ",".join((parent.key, *parent.fields))}
            ids = [
                str(item[parent.key])
                for page in iter_stable_pages(reader, params, key=parent.key, on_repair=on_repair)
                for item in page.items
                if isinstance(item, dict)
                and item.get(parent.key) not in {None, ""}
                and (parent.keep is None or parent.keep(item))
            ]
            self._listings[parent] = list(dict.fromkeys(ids))
        return self._listings[parent]

    def keep(self, key: Shared[T], value: T, *, takers: int) -> None:
        """Keep `value`, read once this run, for the `takers` streams that will `take` it later.

        A listing too costly to read twice (the removal search) is read by the first stream that
        needs it; the run forgets it once the last taker has it, so memory holds it no longer.
        """
        if takers > 0:
            self._kept[key] = (value, takers)

    def take(self, key: Shared[T]) -> T | None:
        """What an earlier stream of this run kept under `key` for this one; None if nothing."""
        if key not in self._kept:
            return None
        value, takers = self._kept.pop(key)
        if takers > 1:
            self._kept[key] = (value, takers - 1)
        return t.cast("T", value)

    def flush_output(self) -> None:
        """Write out records the block writer still holds (before the SDK's next STATE)."""
        if isinstance(self._writer, BlockWriter):
            self._writer.flush()


def _saved_bookmarks(entry: object, key: str) -> Iterator[dict[str, t.Any]]:
    """The stream's own bookmark and its partitions' that are for `key` (shape checked first)."""
    if not isinstance(entry, dict):
        return
    for saved in (entry, *entry.get("partitions", ())):
        if saved.get("replication_key", key) == key and saved.get("replication_key_value"):
            yield saved


def state_errors(state: object) -> list[str]:
    """What keeps a `--state` document from being a Singer state, one line each (none: usable).

    The SDK reads these parts without checking them, so a wrong shape would end in a traceback.
    """
    if not isinstance(state, dict):
        return [f"the state is {json_kind(state)}, not an object"]
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return [f"the state's `bookmarks` is {json_kind(bookmarks)}, not an object"]
    problems = []
    for name, entry in bookmarks.items():
        partitions = entry.get("partitions", []) if isinstance(entry, dict) else None
        if not isinstance(entry, dict):
            problems.append(f"Stream '{name}': its state is {json_kind(entry)}, not an object")
        elif not isinstance(partitions, list) or not all(
            isinstance(partition, dict) and isinstance(partition.get("context"), dict)
            for partition in partitions
        ):
            problems.append(
                f"Stream '{name}': its state's `partitions` is not a list of objects with a "
                "`context` object"
            )
    return problems
