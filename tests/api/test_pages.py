"""Page: a collection's shape checked and its paging headers believed only when they agree."""

from __future__ import annotations

import pytest

from tap_getresponse.api import GetResponseAPIError, GetResponseClient, RateGovernor
from tap_getresponse.api.collections import fetch_page, iter_items
from tap_getresponse.api.pages import Page, UnexpectedResponseError
from tests.sandbox import Answer, Scale

FULL = [{"id": i} for i in range(10)]


def page(number: int, size: int, pages: int | None, count: int | None) -> Page:
    return Page(number, FULL[:size], total_pages=pages, total_count=count)


@pytest.mark.parametrize(
    ("the_page", "last"),
    [
        (page(1, 10, 3, 30), False),
        (page(3, 10, 3, 30), True),  # full, and the count agrees it is the last
        (page(2, 4, 3, 24), True),  # short: last whatever the headers say
        (page(1, 0, 3, 30), True),  # empty
        (page(3, 10, 3, None), False),  # full last page without a count to confirm it
        (page(1, 10, 1, 20), False),  # fewer pages than the count needs
        (page(2, 10, 1, None), False),  # a full page past the pages the headers know
        (page(1, 10, 50, 20), False),  # more pages than items: read on to a short page
        (page(1, 10, None, None), False),
    ],
    ids=[
        "first of three",
        "last of three",
        "short",
        "empty",
        "unconfirmed",
        "too few pages",
        "past the end",
        "absurd",
        "no headers",
    ],
)
def test_a_page_is_last_only_when_pages_and_headers_agree(the_page: Page, *, last: bool) -> None:
    assert the_page.is_last(10) is last


def test_headers_that_contradict_the_page_are_not_known() -> None:
    assert page(1, 10, 3, 30).pages_known(10) == 3
    assert page(4, 10, 3, None).pages_known(10) is None
    assert page(1, 10, 1, 25).pages_known(10) is None
    assert page(1, 10, 99, 30).pages_known(10) is None
    assert page(1, 0, 0, 0).pages_known(10) == 0


@pytest.fixture
def client(make_sandbox) -> tuple[object, GetResponseClient]:
    sb = make_sandbox(scale=Scale(contacts=10, tags=12))
    return sb, GetResponseClient(
        {"api_url": sb.url, "api_key": sb.api_key}, governor=RateGovernor()
    )


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Answer(body={"tagId": "x"}), "an object where the API returns an array"),
        (Answer(raw=b""), "an empty body where the API returns JSON"),
        (Answer(body=7), "a number where the API returns an array"),
        (
            Answer(raw=b"<html>Authorization: api-key secret</html>", content_type="text/html"),
            "bytes of text/html that are not JSON",
        ),
    ],
    ids=["object", "empty", "number", "html"],
)
def test_an_answer_that_is_no_array_names_the_request(client, answer, problem) -> None:
    sb, api = client
    sb.faults.answer_next(1, "/tags", answer)
    with pytest.raises(UnexpectedResponseError) as raised:
        fetch_page(api, "/tags", {"fields": "tagId"}, 1, 5)
    message = str(raised.value)
    assert message.startswith("GET /v3/tags?fields=tagId&page=1&perPage=5 answered ")
    assert problem in message
    assert "secret" not in message, "the body is never quoted"
    assert isinstance(raised.value, GetResponseAPIError), "callers that stop on API errors stop"


def test_paging_headers_that_lie_do_not_cut_a_collection_short(client) -> None:
    sb, api = client
    sb.faults.answer_next(10, "/tags", Answer(headers={"TotalPages": "-1", "TotalCount": "2"}))
    items = list(iter_items(api, "/tags", page_size=5))
    assert sorted(item["tagId"] for item in items) == sorted(t["tagId"] for t in sb.data.tags)
