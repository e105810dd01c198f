"""Sender: loads one batch on a worker thread while the target reads and resolves the next.

The batch endpoint allows one call per second. Reading and resolving the next 1000 records while a
batch call waits for its answer keeps them from adding up to more than that second on a slow
link, so the next batch is ready the moment the governor lets it go.
Loads still run one at a time and in order (the membership index and the batch quota
need nothing more), at most one batch waits in memory besides the one being read, and a failed
load is raised on the reading thread at the next `submit` or `wait`.

SIGTERM and SIGINT are blocked on the worker (and the threads it starts): the kernel then
delivers them to the main thread, whose handler stops the run even while it waits for a load.
A signal taken by another thread would wait until the main thread woke up.
"""

from __future__ import annotations

import signal
import threading
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_any

if t.TYPE_CHECKING:
    from collections.abc import Callable


#: How often a wait for a load lets the main thread run signal handlers (see the module doc).
WAKE_SECONDS = 1.0


def leave_stop_signals_to_the_main_thread() -> None:
    """Block SIGTERM and SIGINT on the calling thread (a worker's first act)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})


class Sender:
    """Runs load jobs one at a time, in order, on one background thread."""

    def __init__(self) -> None:
        """No thread until the first job."""
        self._pool: ThreadPoolExecutor | None = None
        self._running: Future[None] | None = None
        #: Set when the run is abandoned: a job checks it between its parts and returns.
        self.cancelled = threading.Event()

    def submit(self, job: Callable[[], None]) -> None:
        """Start `job` once the previous one has finished (raising its error, if any)."""
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=1,
                thread_name_prefix="getresponse-send",
                initializer=leave_stop_signals_to_the_main_thread,
            )
        self._running = self._pool.submit(job)

    def wait(self) -> None:
        """Return when every submitted job is done; re-raise the error of a failed one."""
        running, self._running = self._running, None
        if running is not None:
            while not running.done():
                wait_for_any((running,), timeout=WAKE_SECONDS)
            running.result()

    def cancel(self) -> None:
        """Abandon: the running job stops at its next check, no further job starts.

        Not from a signal handler: the pool's shutdown takes a lock the interrupted main
        thread may hold (`submit`). A handler sets `cancelled` only.
        """
        self.cancelled.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for the last job, then stop the thread.

        Interrupted (a second stop signal raises in `wait`), the job in flight is abandoned,
        not joined: joining would hold the exit until its request answered.
        """
        try:
            self.wait()
        except BaseException:
            self.cancel()
            raise
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
