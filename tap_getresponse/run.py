"""SyncRun: what one sync shares across its streams.

The API client (one session and governor), the server's clock that ends every window, the parent
listings fan-out streams share, the settings and the output flush. Streams are handed the run
when they are built and reach nothing else: a run is built at discovery, but its client only when
a stream first asks for it, so discovery without credentials makes no client and no request.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cached_property
from http import HTTPStatus

from tap_getresponse.api import GetResponseAPIError, GetResponseClient
from tap_getresponse.api.collections import Page, PageReader, iter_stable_pages
from tap_getresponse.settings import TapSettings
from tap_getresponse.writer import BlockWriter

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from singer_sdk.singerlib.encoding.base import GenericSingerWriter

    from tap_getresponse.api import RateGovernor
    from tap_getresponse.api.collections import Repair

#: Statuses that mean "this account has no such feature" on a collection (plan gating).
PLAN_GATED_STATUSES = frozenset({HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND})


class StreamUnavailableError(Exception):
    """The account cannot read this collection (feature not in its plan, or no such parent)."""

    def __init__(self, path: str, error: GetResponseAPIError) -> None:
        """Keep the status so callers can tell "no feature" from "parent gone"."""
        self.path = path
        self.http_status = error.http_status
        super().__init__(str(error))


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
        """One GET of a collection; raises StreamUnavailableError for plan-gated collections."""
        try:
            response = self.api.request("GET", path, params=params)
        except GetResponseAPIError as error:
            if error.http_status in PLAN_GATED_STATUSES:
                raise StreamUnavailableError(path, error) from error
            raise
        return Page.from_response(number, response)

    def list_parents(
        self,
        parent: ParentCollection,
        reader: PageReader,
        on_repair: Callable[[Repair], None],
    ) -> list[str]:
        """Ids of every item of `parent` worth a child request (one listing per run).

        `reader` reads `parent.path`; the first stream to ask lists, the others share its ids.
        """
        if parent not in self._listings:
            params: dict[str, str] = {"fields": ",".join((parent.key, *parent.fields))}
            ids = [
                str(item[parent.key])
                for page in iter_stable_pages(reader, params, key=parent.key, on_repair=on_repair)
                for item in page.items
                if parent.keep is None or parent.keep(item)
            ]
            self._listings[parent] = list(dict.fromkeys(ids))
        return self._listings[parent]

    def flush_output(self) -> None:
        """Write out records the block writer still holds (before the SDK's next STATE)."""
        if isinstance(self._writer, BlockWriter):
            self._writer.flush()
