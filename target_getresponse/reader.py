"""Singer input read line by line: numbered, bad lines reported without their content, stoppable.

Taken over from the SDK's `SimpleSingerReader.process_lines`, which logs a line that is not JSON
in full (emails and all) with a traceback and ends the run, and cannot stop between lines when
the target is asked to. Here a line that cannot be read goes to `on_unreadable` with its number,
its message type and stream when the text shows them, and what is wrong with it; reading goes
on. Standard input is read as bytes and each line decoded by the JSON parser, so a line that is
not UTF-8 is one bad line too, not the end of the input.
"""

from __future__ import annotations

import re
import sys
import typing as t
from collections import Counter
from dataclasses import dataclass

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.singerlib.json import deserialize_json
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: What each message type must carry for the SDK to process it (the Singer specification).
REQUIRED: dict[str, tuple[str, ...]] = {
    "RECORD": ("stream", "record"),
    "SCHEMA": ("stream", "schema"),
    "STATE": ("value",),
    "ACTIVATE_VERSION": ("stream", "version"),
    "BATCH": ("stream", "encoding", "manifest"),
}
#: The JSON type of the message parts the target reads.
SHAPES: dict[str, type] = {"stream": str, "record": dict, "schema": dict}
#: A message type and stream name seen in the text of a line that is not JSON. Neither pattern
#: can match an address, so what they report never holds one.
_TYPE_IN_TEXT = re.compile(rb'"type"\s*:\s*"([A-Z_]{1,32})"')
_STREAM_IN_TEXT = re.compile(rb'"stream"\s*:\s*"([\w.-]{1,128})"')


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An input line that is no usable Singer message: where it is and what is wrong."""

    line: int
    message_type: str | None
    stream: str | None
    problem: str
    #: The input ended in the middle of this line (the process writing it stopped).
    truncated: bool = False


class StopReading(BaseException):
    """Raised by the stop handler while the reader waits for input."""


class Abandoned(BaseException):
    """A second stop signal: leave at once, whatever is in flight."""

    def __init__(self, signal_number: int) -> None:
        """Which signal it was."""
        super().__init__(signal_number)
        self.signal_number = signal_number


class InputReader(SingerReader):
    """Reads Singer messages, numbering lines and setting aside the ones it cannot read."""

    def __init__(self) -> None:
        """`on_unreadable` is set by the LoadRun (run.py); until then a bad line is an error."""
        super().__init__()
        self.line_number = 0
        self.on_unreadable: Callable[[Unreadable], None] = _refuse
        #: The signal that asked the run to stop, if one did.
        self.stop_signal: int | None = None
        self._waiting = False

    def request_stop(self, signal_number: int) -> None:
        """From a signal handler: stop reading now if waiting for input, else after this line.

        A second request raises Abandoned wherever the main thread is.
        """
        if self.stop_signal is not None:
            raise Abandoned(signal_number)
        self.stop_signal = signal_number
        if self._waiting:
            raise StopReading

    @override
    def process_lines(
        self,
        file_input: t.IO[str] | t.IO[bytes] | None,
        callbacks: dict[str, Callable[[dict[str, t.Any]], None]],
    ) -> t.Counter[str]:
        """Hand each message to its callback until the input ends or a stop is requested."""
        stats: Counter[str] = Counter()
        source = file_input if file_input is not None else _standard_input()
        try:
            while self.stop_signal is None:
                line = self._next_line(source)
                if line is None:
                    break
                self.line_number += 1
                if line.isspace():
                    continue  # a blank line carries nothing to lose
                message = self._message(line)
                if message is None:
                    continue
                message_type = message["type"]
                try:
                    callbacks[message_type](message)
                except InvalidInputLine:
                    # The SDK's own check of a message's parts; its text quotes the message.
                    self._unreadable(line, message_type, "is not a valid Singer message")
                    continue
                stats[message_type] += 1
        except StopReading:
            pass
        return stats

    def _next_line(self, source: t.IO[str] | t.IO[bytes]) -> str | bytes | None:
        """The next line, or None at the end of input or on a stop while waiting for it."""
        self._waiting = True
        try:
            if self.stop_signal is not None:  # asked to stop just before waiting
                return None
            return source.readline() or None
        finally:
            self._waiting = False

    def _message(self, line: str | bytes) -> dict[str, t.Any] | None:
        """The line's message with everything its type needs, or None (reported as unreadable)."""
        try:
            message = deserialize_json(line)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
            self._unreadable(line, None, _json_problem(error))
            return None
        if (
            type(message) is dict
            and message.get("type") == "RECORD"
            and type(message.get("record")) is dict
            and type(message.get("stream")) is str
        ):
            return message  # the common case, checked in one step
        problem = _message_problem(message)
        if problem is not None:
            known = isinstance(message, dict) and message.get("type") in REQUIRED
            self._unreadable(line, message["type"] if known else None, problem)
            return None
        return t.cast("dict[str, t.Any]", message)

    def _unreadable(self, line: str | bytes, message_type: str | None, problem: str) -> None:
        raw = line.encode("utf-8", "replace") if isinstance(line, str) else line
        if message_type is None and (found := _TYPE_IN_TEXT.search(raw)):
            message_type = found.group(1).decode()
        stream = _STREAM_IN_TEXT.search(raw)
        self.on_unreadable(
            Unreadable(
                line=self.line_number,
                message_type=message_type,
                stream=stream.group(1).decode() if stream else None,
                problem=problem,
                truncated=not raw.endswith(b"\n"),
            )
        )


def _standard_input() -> t.IO[bytes] | t.IO[str]:
    """Standard input as bytes when it has them (each line is decoded on its own)."""
    buffer: t.IO[bytes] | None = getattr(sys.stdin, "buffer", None)
    return buffer if buffer is not None else sys.stdin


def _message_problem(message: object) -> str | None:
    """What keeps a JSON value from being a Singer message the target can process, if anything."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "is JSON but no Singer message (no `type`)"
    required = REQUIRED.get(message["type"])
    if required is None:
        return "has a message type this target does not know"
    missing = [name for name in required if name not in message]
    if missing:
        return f"has no {', '.join(missing)}"
    wrong = [
        name
        for name, kind in SHAPES.items()
        if name in message and not isinstance(message[name], kind)
    ]
    if wrong:
        return f"has a `{wrong[0]}` of the wrong JSON type"
    if message["type"] == "SCHEMA" and "properties" not in message["schema"]:
        return "has a schema without `properties`"
    return None


def _json_problem(error: ValueError | RecursionError) -> str:
    """What is wrong, by position only: a decode error's text would quote the line."""
    if isinstance(error, RecursionError):
        return "is JSON nested too deeply to read"
    if isinstance(error, UnicodeDecodeError):
        return f"is not UTF-8 (byte {error.start + 1})"
    column = getattr(error, "colno", None)
    reason = getattr(error, "msg", "not JSON")
    return f"is not valid JSON ({reason} at column {column})" if column else "is not valid JSON"


def _refuse(unreadable: Unreadable) -> None:
    msg = f"input line {unreadable.line} {unreadable.problem}"
    raise InvalidInputLine(msg)
