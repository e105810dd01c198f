"""GetResponseStream: the base every tap stream builds on (URL, paging, windows, errors, types)."""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property

from singer_sdk import RESTStream
from singer_sdk.pagination import PageNumberPaginator
from typing_extensions import override

from tap_getresponse import windows
from tap_getresponse.api import GetResponseAPIError
from tap_getresponse.normalize import RecordNormaliser
from tap_getresponse.paging import Page, iter_pages
from tap_getresponse.schemas import load_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

    from tap_getresponse.api import GetResponseClient
    from tap_getresponse.tap import TapGetResponse

#: HTTP statuses that mean "this account has no such feature" on a collection (issue: plan gating).
PLAN_GATED_STATUSES = frozenset({403, 404})


class StreamUnavailableError(Exception):
    """The account cannot read this collection (feature not in its plan, or no such parent)."""


class GetResponsePaginator(PageNumberPaginator):
    """Page numbers from 1; stops on `[]` or when CurrentPage reaches TotalPages (§2.1)."""

    def __init__(self, page_size: int) -> None:
        """Start at page 1."""
        super().__init__(start_value=1)
        self._page_size = page_size

    @override
    def has_more(self, response: requests.Response) -> bool:
        return not Page.from_response(self.current_value, response).is_last(self._page_size)


class GetResponseStream(RESTStream[int]):
    """A GetResponse v3 collection: declarative streams set `path` and, when they can, a window."""

    #: Server-side time filter (`query[<field>][from|to]`) backing the replication key, if any.
    window_field: str | None = None
    #: Whether the collection is paginated (§3.0 "Pg" column); unpaginated lists are one request.
    paginated: bool = True
    #: Extra query parameters sent on every request of this stream.
    extra_params: t.ClassVar[dict[str, str]] = {}
    #: Keys copied from the partition context into every record (e.g. the parent's id).
    context_keys: tuple[str, ...] = ()

    def __init__(self, tap: TapGetResponse) -> None:
        """Load the schema named after the stream."""
        super().__init__(tap=tap, schema=load_schema(self.name))
        self._tap_ref = tap

    @property
    def api(self) -> GetResponseClient:
        """The tap's shared HTTP client (one governor, one session for every stream)."""
        return self._tap_ref.api

    @override
    @property
    def url_base(self) -> str:
        return self.api.base_url

    @override
    @property
    def requests_session(self) -> requests.Session:
        return self.api.session

    @override
    @property
    def authenticator(self) -> t.Any:
        return self.api.authenticator

    @property
    def run_started_at(self) -> dt.datetime:
        """The upper bound of every incremental window in this run."""
        return self._tap_ref.run_started_at

    @property
    def page_size(self) -> int:
        """Items per request; 1000 is GetResponse's maximum (§2.1)."""
        return int(self.config.get("page_size", 1000))

    @property
    def parallel_requests(self) -> int:
        """Pages of one collection fetched at once (never above the API's 10 in flight)."""
        return max(1, min(10, int(self.config.get("max_parallel_requests", 4))))

    @cached_property
    def normaliser(self) -> RecordNormaliser:
        """Schema-driven type conversions, compiled once per stream."""
        return RecordNormaliser(self.schema)

    @override
    def get_new_paginator(self) -> GetResponsePaginator:
        return GetResponsePaginator(self.page_size)

    def get_path(self, context: Context | None) -> str:
        """The request path with `{placeholders}` filled from the context."""
        return self.path.format(**(context or {})) if self.path else ""

    def base_params(self, context: Context | None) -> dict[str, t.Any]:  # noqa: ARG002
        """Query parameters for every page of this stream (filters, sort, groupBy...)."""
        return dict(self.extra_params)

    def fetch_page(self, path: str, params: dict[str, t.Any], number: int) -> Page:
        """One request for one page; raises StreamUnavailableError for plan-gated collections."""
        query = dict(params)
        if self.paginated:
            query |= {"page": number, "perPage": self.page_size}
        try:
            response = self.api.request("GET", path, params=query)
        except GetResponseAPIError as error:
            if error.http_status in PLAN_GATED_STATUSES:
                raise StreamUnavailableError(str(error)) from error
            raise
        return Page.from_response(number, response)

    def iter_pages(self, path: str, params: dict[str, t.Any]) -> Iterator[Page]:
        """Every page of `path` with `params`, in order."""
        if not self.paginated:
            yield self.fetch_page(path, params, 1)
            return
        yield from iter_pages(
            lambda number: self.fetch_page(path, params, number),
            page_size=self.page_size,
            parallel=self.parallel_requests,
        )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        try:
            yield from self.request_records(context)
        except StreamUnavailableError as error:
            where = f" for {dict(context)}" if context else ""
            self.logger.warning("Skipping stream '%s'%s: %s", self.name, where, error)

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        path = self.get_path(context)
        params = self.base_params(context)
        if self.window_field and self.replication_key:
            window = windows.Window.for_stream(self, context)
            pages = windows.iter_window_pages(self, path, params, window)
        else:
            pages = self.iter_pages(path, params)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            for page in pages:
                counter.increment()
                yield from page.items

    @override
    def post_process(
        self,
        row: dict[str, t.Any],
        context: Context | None = None,
    ) -> dict[str, t.Any] | None:
        for key in self.context_keys:
            if context is not None and key in context:
                row[key] = context[key]
        return self.normaliser.normalise(row)
