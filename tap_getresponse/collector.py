"""collector: CPython's garbage collector kept off records while a stream's records stream.

The collector runs a young collection every 700 new containers and walks every object that
survived the young collections on each full one. A page of records is thousands of containers
(1,000 contact details with custom fields: tens of thousands of dicts and lists), alive until
the page is written: with the default threshold each page was walked by young collections,
promoted and walked again by full ones, with the pages read ahead and the ~55,000 objects the
tap built before its first record (singer-sdk, jsonschema, requests, schemas). In memory that
was up to two thirds of the time of checking a page of contact details (page_check.py).
Records hold no reference cycles: they die by reference counting, never by the collector.

So while any stream's records stream (`collector_spared`, outermost use only):

- `gc.freeze()` moves the objects alive on entry where no collection walks them;
- the young threshold is `YOUNG_THRESHOLD` containers: a page is written before it is reached,
  and cyclic garbage (an exception's traceback) is still collected, a few pages later.

On exit the threshold is restored and `gc.unfreeze()` hands the frozen objects back, so garbage
from before the sync is collected afterwards as it would have been: nothing stays frozen.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["YOUNG_THRESHOLD", "collector_spared"]

#: New containers between two young collections while records stream (CPython's default: 700).
YOUNG_THRESHOLD = 100_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


@contextlib.contextmanager
def collector_spared() -> Iterator[None]:
    """While inside (nested: the outermost counts), the collector is kept off records."""
    global _depth, _saved  # noqa: PLW0603 - one state for the process, as the collector is one
    with _lock:
        _depth += 1
        if _depth == 1:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(YOUNG_THRESHOLD, *_saved[1:])
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
