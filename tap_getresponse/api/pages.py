"""One page of a collection, read from a response: its shape checked, its paging headers weighed.

Shape: a paged request (`perPage`) is answered with a JSON array, any other with an object or an
array (OpenAPI `info.description`, "Pagination"; list operations such as `getContactList`
answer arrays). Anything else (an object for a list, an empty body, an HTML page with status
200) raises UnexpectedResponseError naming the request: it is not a collection, and reading it as
one would emit records that are not.

Paging headers (`TotalPages`, `TotalCount`) are believed only when they agree with the page; a
negative or non-numeric header is no header.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import unquote

import msgspec
from typing_extensions import override

from tap_getresponse.api.errors import GetResponseAPIError

if t.TYPE_CHECKING:
    import requests


class UnexpectedResponseError(GetResponseAPIError):
    """A 200 answer that is not a collection's shape: the request and what came instead.

    The body is never quoted (a proxy's HTML page can echo request headers): only its kind.
    """

    def __init__(self, *, method: str, path: str, problem: str) -> None:
        """`path` is the request's path and query as sent; `problem` what came back."""
        super().__init__(http_status=200, code=None, message=problem, method=method, path=path)

    @override
    def __str__(self) -> str:
        return f"{self.method} {self.path} answered {self.message}"

    @classmethod
    def of(cls, response: requests.Response, problem: str) -> UnexpectedResponseError:
        """The error for `response`, naming its request (path and query, `%5B` decoded)."""
        request = response.request
        target = unquote(request.path_url) if request is not None else response.url
        method = (request.method if request is not None else None) or "GET"
        return cls(method=method, path=target, problem=problem)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a collection and the paging headers that came with it."""

    number: int
    items: list[dict[str, t.Any]]
    total_pages: int | None
    total_count: int | None
    #: Elements of the answer that were not JSON objects (null, numbers, strings): not items.
    dropped: tuple[object, ...] = ()

    @property
    def received(self) -> int:
        """How many elements the answer held: what tells a full page from a short one."""
        return len(self.items) + len(self.dropped)

    @classmethod
    def from_response(cls, number: int, response: requests.Response, *, listing: bool) -> Page:
        """Read a page (msgspec: twice `json`'s speed); `listing`: a paged request, an array.

        Raises UnexpectedResponseError when the body is not JSON or not the expected shape.
        """
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            raise UnexpectedResponseError.of(response, _not_json(response)) from None
        except RecursionError:  # msgspec's, not a DecodeError
            problem = "JSON nested too deeply to read"
            raise UnexpectedResponseError.of(response, problem) from None
        if isinstance(body, dict) and not listing:
            body = [body]
        if not isinstance(body, list):
            expected = "an array" if listing else "an object or an array"
            problem = f"{json_kind(body)} where the API returns {expected}"
            raise UnexpectedResponseError.of(response, problem)
        # Every documented collection is an array of objects: anything else in it is no item,
        # and reading it as one would crash (or emit) a record that is not.
        items = [item for item in body if isinstance(item, dict)]
        odd = () if len(items) == len(body) else tuple(i for i in body if not isinstance(i, dict))
        return cls(
            number=number,
            items=items,
            total_pages=_count_header(response, "TotalPages"),
            total_count=_count_header(response, "TotalCount"),
            dropped=odd,
        )

    def pages_known(self, page_size: int) -> int | None:
        """`TotalPages` when it agrees with this page and `TotalCount`, else None (not known)."""
        pages, count = self.total_pages, self.total_count
        if pages is None or (self.received and pages < self.number):
            return None
        if count is not None and not -(-count // page_size) <= pages <= max(1, count):
            return None  # fewer pages than the count needs, or more pages than items
        return pages

    def is_last(self, page_size: int) -> bool:
        """Whether no page can follow: `[]`, a short page, or the last page the headers know.

        A full page where the headers say the collection ends is last only if `TotalCount`
        agrees; without it, or against it, the next page is read (`[]` if there is none).
        """
        if self.received < page_size:
            return True
        pages = self.pages_known(page_size)
        if pages is None or self.number < pages:
            return False
        return self.total_count is not None and self.total_count <= self.number * page_size


def _count_header(response: requests.Response, name: str) -> int | None:
    """A paging header as a count; absent, not a number or negative: None (not known)."""
    value = response.headers.get(name)
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def json_kind(value: object) -> str:
    """What a JSON value is, in words (never the value: it may be anything)."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    kind = next((name for cls, name in kinds.items() if isinstance(value, cls)), None)
    return kind or "a number"


def _not_json(response: requests.Response) -> str:
    if not response.content:
        return "an empty body where the API returns JSON"
    media = response.headers.get("Content-Type", "no Content-Type").split(";")[0].strip()
    return f"{len(response.content):,} bytes of {media or 'no Content-Type'} that are not JSON"
