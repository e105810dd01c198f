"""Membership's page count agrees with the collection reader's end of a read (api.collections)."""

from __future__ import annotations

import pytest

from tap_getresponse.api.collections import Page
from tap_getresponse.api.limits import MAX_PAGE_SIZE
from target_getresponse.membership import known_pages

FULL = [{"email": f"m{i}@example.org", "contactId": str(i)} for i in range(MAX_PAGE_SIZE)]


@pytest.mark.parametrize(
    ("page", "pages"),
    [
        (Page(1, FULL, total_pages=6, total_count=None), 6),
        (Page(6, FULL[:10], total_pages=6, total_count=None), 6),
        (Page(1, FULL, total_pages=None, total_count=None), 2),
        (Page(3, FULL, total_pages=None, total_count=None), 4),
        (Page(3, FULL[:999], total_pages=None, total_count=None), 3),
    ],
    ids=["header", "header-last", "no-header-full", "no-header-full-later", "no-header-short"],
)
def test_pages_without_a_total_pages_header_go_on_while_full(page: Page, pages: int) -> None:
    assert known_pages(page) == pages
    # The reader's own stop (used for lists, custom fields and tags) says the same.
    assert page.is_last(MAX_PAGE_SIZE) == (page.number >= known_pages(page))
