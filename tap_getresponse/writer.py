"""The tap's Singer writer: msgspec encoding, and stdout written in blocks, not line by line.

The SDK's writers encode with simplejson and flush stdout after every message: one system call
per record (and with `PYTHONUNBUFFERED`, which Meltano and many containers set, nothing buffers it
either), the largest single cost of emitting 100,000 contacts. Here RECORD lines collect in a
buffer that is written out when it reaches `BLOCK_BYTES` and before every other message (SCHEMA,
STATE, ACTIVATE_VERSION), so a target has read every record before the STATE that covers it, and
a killed tap loses only records that no emitted STATE counted; a run that fails still writes its
held records at exit. The lines are the same compact JSON, key for key, as the SDK's writer's
(msgspec writes `time_extracted` in UTC as `...Z` rather than `...+00:00`).

A stop asked for by a signal handler (`stop`) waits while a block is being written, so SIGTERM or
SIGINT never cuts a line or leaves a block half out (interrupt.py).
"""

from __future__ import annotations

import contextlib
import sys
import typing as t
import weakref

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.singerlib.encoding.simple import Message


class BlockWriter(MsgSpecWriter):
    """MsgSpecWriter that writes RECORD lines to stdout in blocks and flushes on the rest."""

    #: Bytes of RECORD lines held before they are written (a few dozen records).
    BLOCK_BYTES = 64 * 1024

    def __init__(self) -> None:
        """Nothing held yet; lines still held when the writer goes (or the process exits) go out."""
        self._pending = bytearray()
        self._writing = False
        self._on_written: Callable[[], None] | None = None
        #: Whether any message was written or held (a sync, not discovery, is under way).
        self.started = False
        weakref.finalize(self, _write_out_at_exit, self._pending)

    @override
    def write_message(self, message: Message) -> None:
        self.started = True
        self._pending += self.format_message(message)
        if len(self._pending) >= self.BLOCK_BYTES or not isinstance(message, RecordMessage):
            self.flush()

    def write_records(self, block: bytes) -> None:
        """Hold `block`, whole RECORD lines encoded at once (record_path.py), like the lines above.

        One `+=`: a stop signal finds the block wholly held or not held at all. A block of a
        whole page (usually larger than `BLOCK_BYTES`) with nothing held before it is written
        as it is, not copied into the buffer and out again.
        """
        self.started = True
        if not self._pending and len(block) >= self.BLOCK_BYTES:
            self.flush(block)
            return
        self._pending += block
        if len(self._pending) >= self.BLOCK_BYTES:
            self.flush()

    def flush(self, block: bytes = b"") -> None:
        """Write out every held line (then `block`) and flush stdout; then run a stop that came."""
        self._writing = True
        try:
            _write_out(self._pending, block)
        finally:
            self._writing = False
            finish, self._on_written = self._on_written, None
            if finish is not None:
                finish()

    def stop(self, finish: Callable[[], None]) -> None:
        """Call `finish` now, or, while a block is being written, as soon as it is out.

        Called from a signal handler, which runs between two bytecodes of the main thread: a
        record is then wholly held or not held at all, and a write is never cut short.
        """
        if self._writing:
            self._on_written = finish
            return
        finish()


def _write_out(pending: bytearray, more: bytes = b"") -> None:
    """Write `pending`, then `more`, to stdout; `pending` is emptied first (no write twice)."""
    block = bytes(pending) + more if pending else more
    pending.clear()
    out = sys.stdout
    if block:
        binary = getattr(out, "buffer", None)
        if binary is None:  # a text-only stream (tests capturing stdout)
            out.write(block.decode())
        else:
            out.flush()  # anything written as text goes first
            binary.write(block)
    out.flush()


def _write_out_at_exit(pending: bytearray) -> None:
    """`_write_out`, when stdout may already be closed (nothing more can be done then)."""
    with contextlib.suppress(OSError, ValueError):
        _write_out(pending)
