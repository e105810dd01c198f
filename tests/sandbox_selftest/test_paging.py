"""§2.1 paging: page/perPage, TotalCount/TotalPages/CurrentPage, `[]` past the end."""

from __future__ import annotations

from tests.sandbox_selftest.helpers import get


def test_default_page_is_first_100(sandbox):
    response = get(sandbox, "/contacts")
    assert response.status_code == 200
    assert response.headers["TotalCount"] == str(len(sandbox.data.contacts))
    assert response.headers["CurrentPage"] == "1"
    assert len(response.json()) == 100
    assert response.headers["TotalPages"] == str(-(-len(sandbox.data.contacts) // 100))
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in response.headers
    assert response.headers["X-RateLimit-Reset"].endswith(" seconds")


def test_pages_cover_everything_once_then_empty(sandbox):
    total = int(get(sandbox, "/contacts", perPage=1).headers["TotalCount"])
    seen: list[str] = []
    page = 1
    while True:
        response = get(sandbox, "/contacts", perPage=700, page=page)
        assert response.headers["CurrentPage"] == str(page)
        items = response.json()
        if not items:
            break
        seen += [c["contactId"] for c in items]
        page += 1
    assert len(seen) == total == len(set(seen))
    assert page - 1 == int(response.headers["TotalPages"])
    assert get(sandbox, "/contacts", perPage=700, page=page + 5).json() == []


def test_per_page_is_capped_at_1000(sandbox):
    assert len(get(sandbox, "/contacts", perPage=5000).json()) == 1000


def test_default_order_is_creation_order(sandbox):
    items = get(sandbox, "/contacts", perPage=300).json()
    stamps = [c["createdOn"] for c in items]
    assert stamps == sorted(stamps)


def test_small_collections_page_too(sandbox):
    response = get(sandbox, "/tags", perPage=5, page=3)
    total = len(sandbox.data.tags)
    assert response.headers["TotalCount"] == str(total)
    assert len(response.json()) == max(0, min(5, total - 10))
