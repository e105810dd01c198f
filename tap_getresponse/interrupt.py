"""Stopping a run on SIGTERM or SIGINT: held records and a safe STATE out, one line, exit 128+n.

The SDK answers both signals by writing its current state from inside the signal handler and
exiting 0: an interrupted run looked successful, and the STATE line could go out while a block of
records was half written. Here the handler asks the writer to stop (`BlockWriter.stop`), which
waits until the block being written is out; then the records still held are written, then the
current state as it stands, never finalised: a sorted stream in progress holds the bookmark of
its last emitted record, an unsorted one its old bookmark (its progress markers are dropped by
the next run). The process then ends at once with 128 + the signal number (143 for SIGTERM,
130 for SIGINT), without waiting for worker threads stuck in a request or a rate-limit wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import typing as t

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from tap_getresponse.writer import BlockWriter


def stop_run(
    signum: int,
    *,
    writer: BlockWriter,
    write_state: Callable[[], None],
    logger: logging.Logger,
) -> None:
    """Handle a stop signal: finish now, or once the writer's current block is out."""

    def finish() -> None:
        if writer.started:  # a sync is under way (not discovery or a connection check)
            with contextlib.suppress(OSError, ValueError):  # stdout closed: nothing more to do
                writer.flush()
                write_state()
        logger.warning(
            "Stopped by %s: the records read so far and the last safe STATE were written; "
            "rerun from that STATE to resume (exit code %d)",
            signal.Signals(signum).name,
            exit_code(signum),
        )
        exit_now(exit_code(signum))

    writer.stop(finish)


def exit_code(signum: int) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + signum


def exit_now(code: int) -> t.NoReturn:
    """End the process at once: the normal exit joins every thread-pool worker first."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
