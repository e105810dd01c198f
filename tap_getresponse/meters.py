"""What a run says about itself in the log: SDK metrics with short contexts, and progress lines.

The SDK tags its record counter and sync timer with the partition context, and a fan-out batch's
context holds up to 1,000 parent ids (`{"contactIds": [...]}`): two 8 KB metric lines per batch,
1.6 MB of log per 100,000 contacts. The meters here log a batch as its size and first id instead;
the contexts themselves, and so state partitioning, are unchanged.
"""

from __future__ import annotations

import time
import typing as t

from singer_sdk import metrics
from typing_extensions import override

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from singer_sdk.helpers.types import Context

#: Seconds in a minute and an hour, for the time left.
MINUTE = 60
HOUR = 3600


def short_context(context: Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    """`context` fit for a log line: a list of ids becomes its count and first id."""
    if context is None:
        return None
    return {
        key: {"count": len(value), "first": value[0] if value else None}
        if isinstance(value, list | tuple)
        else value
        for key, value in context.items()
    }


class ShortContextCounter(metrics.Counter):
    """The SDK's counter, tagged with `short_context` of its context."""

    @override
    def with_context(self, value: Context | None) -> None:
        super().with_context(short_context(value))


class ShortContextTimer(metrics.Timer):
    """The SDK's timer, tagged with `short_context` of its context."""

    @override
    def with_context(self, value: Context | None) -> None:
        super().with_context(short_context(value))


def record_counter(stream: str, *, endpoint: str | None, log_interval: float) -> metrics.Counter:
    """`singer_sdk.metrics.record_counter` with short contexts."""
    tags: dict[str, t.Any] = {metrics.Tag.STREAM: stream}
    if endpoint:
        tags[metrics.Tag.ENDPOINT] = endpoint
    return ShortContextCounter(metrics.Metric.RECORD_COUNT, tags, log_interval=log_interval)


def http_request_counter(stream: str, endpoint: str) -> metrics.Counter:
    """`singer_sdk.metrics.http_request_counter` with short contexts."""
    tags = {metrics.Tag.STREAM: stream, metrics.Tag.ENDPOINT: endpoint}
    return ShortContextCounter(metrics.Metric.HTTP_REQUEST_COUNT, tags)


def sync_timer(stream: str) -> metrics.Timer:
    """`singer_sdk.metrics.sync_timer` with short contexts."""
    return ShortContextTimer(metrics.Metric.SYNC_DURATION, {metrics.Tag.STREAM: stream})


class Progress:
    """Progress of one long read: `contacts: 45,000 of 100,000 records (45%), about 12 s left`.

    A line is logged when work advances and `INTERVAL` seconds have passed since the last one;
    the time left assumes the rest goes at the average pace so far.
    """

    #: Seconds between two progress lines of one read.
    INTERVAL: t.ClassVar[float] = 30.0

    def __init__(
        self,
        name: str,
        unit: str,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Nothing done yet; the total comes with the first page (`advance`)."""
        self.name = name
        self.unit = unit
        self.logger = logger
        self.total: int | None = None
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._logged = self._started

    def advance(self, count: int, total: int | None = None) -> None:
        """Count `count` more done (of `total`, if not known yet); log a line when it is time."""
        if self.total is None:
            self.total = total
        self.done += count
        now = self._clock()
        if self.total and now - self._logged >= self.INTERVAL:
            self._logged = now
            self.logger.info("%s", self.line(now - self._started))

    def line(self, elapsed: float) -> str:
        """The progress line after `elapsed` seconds."""
        total = self.total or 0
        done = min(self.done, total)
        text = f"{self.name}: {done:,} of {total:,} {self.unit} ({done * 100 // max(total, 1)}%)"
        if 0 < done < total:
            text += f", about {_duration(elapsed / done * (total - done))} left"
        return text


def _duration(seconds: float) -> str:
    """`12 s`, `4 min`, `1 h 5 min`: as precise as a guess deserves."""
    whole = round(seconds)
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        return f"{whole // MINUTE} min"
    hours, rest = divmod(whole, HOUR)
    return f"{hours} h {rest // MINUTE} min"
