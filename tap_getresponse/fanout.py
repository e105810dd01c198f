"""Ordered, bounded fan-out: one call per parent, run concurrently, results handed back in order.

Child streams that cost one request per parent (contact details, per-message and per-campaign
statistics, activities) use `ordered_map`: at most `parallel` parents are being fetched or waiting
to be read at any moment, and results come back in the parents' order, so records are emitted
exactly as a sequential reader would emit them and memory stays bounded by `parallel` results.
The process-wide rate governor of the HTTP layer still caps the whole tap at 10 requests in flight.
"""

from __future__ import annotations

import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

K = t.TypeVar("K")
R = t.TypeVar("R")


def ordered_map(
    fetch: Callable[[K], R],
    items: Iterable[K],
    *,
    parallel: int,
) -> Iterator[tuple[K, R]]:
    """Yield `(item, fetch(item))` in input order, with at most `parallel` fetches outstanding."""
    if parallel <= 1:
        for item in items:
            yield item, fetch(item)
        return
    source = iter(items)
    pending: deque[tuple[K, Future[R]]] = deque()
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="getresponse-fanout")
    try:
        for item in source:
            pending.append((item, pool.submit(fetch, item)))
            if len(pending) >= parallel:
                break
        while pending:
            item, future = pending.popleft()
            result = future.result()
            for upcoming in source:
                pending.append((upcoming, pool.submit(fetch, upcoming)))
                break
            yield item, result
    finally:
        # An abandoned or failed fan-out must not keep requesting: drop what has not started.
        pool.shutdown(wait=True, cancel_futures=True)
