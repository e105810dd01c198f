"""FrameBudget: the `X-RateLimit-*` headers of GetResponse's answers read as a budget of calls.

Every answer says how many calls are left in the current frame (`X-RateLimit-Remaining`) and in
how many seconds it resets (`X-RateLimit-Reset`, whole seconds: "432 seconds";
https://apidocs.getresponse.com/v3/limits). A reading is already old when it arrives: requests
sent while it was on its way may or may not have been counted in it. So a reading is turned into
a conservative budget: of the requests this process admitted, only those answered before the
reading's request was sent are surely counted; every other one (in flight when it was sent, or
admitted since) is taken from what the reading says is left. Readings of one frame keep the
smallest budget. A reading places the frame's end between its request's sending plus the reset
less a second and its arrival plus the reset and a second (the header is whole seconds, rounded
either way); readings whose places overlap describe one frame, whose end is where all of them
agree. Until its latest possible end, once its budget is spent, no request leaves.

Per-second 429s describe the 1-second window in the same headers (remaining 0, reset 1 s, as
observed on the live API): that is a short frame of its own here, waited out the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

#: `X-RateLimit-Reset` is whole seconds, rounded in a direction the docs do not give: the frame
#: may end up to a second before or after a reading says.
RESET_ROUNDING_SECONDS = 1.0
#: When fewer calls than this remain in a frame, the rest are spread over the time left
#: (a tenth of `X-RateLimit-Limit` when that is smaller, so small test frames behave alike).
LOW_WATER_CALLS = 100


@dataclass(frozen=True, slots=True)
class Ticket:
    """One admitted request: how many were admitted before it, how many were in flight, when."""

    number: int
    others_in_flight: int
    sent_at: float


@dataclass(slots=True)
class Frame:
    """One frame the headers described."""

    #: The earliest it can reset, by every reading of it (clock of the governor).
    earliest_end: float
    #: When it has surely reset, by every reading of it.
    ends_at: float
    #: The admission count at which its calls run out: `stop - admitted` calls may still leave.
    stop: int
    #: `X-RateLimit-Limit`, when the answer named it.
    limit: int | None


class FrameBudget:
    """The frames current readings describe; not thread-safe (the governor calls it under lock)."""

    def __init__(self) -> None:
        """No reading yet: no budget but the other limits."""
        self.frames: list[Frame] = []
        #: Requests admitted so far (each attempt of a request counts).
        self.admitted = 0

    def admit(self, in_flight: int, now: float) -> Ticket:
        """Count one request leaving `now`, with `in_flight` others already out."""
        ticket = Ticket(self.admitted, in_flight, now)
        self.admitted += 1
        return ticket

    def read(  # noqa: PLR0913 - one reading: its three headers, when, and whose answer
        self,
        *,
        remaining: int,
        reset: float,
        limit: int | None,
        now: float,
        ticket: Ticket | None,
        in_flight: int,
    ) -> None:
        """Learn from one answer's headers; `ticket` is its request's (None: a fresh reading)."""
        if ticket is None:
            # Nothing admitted is known to be counted but what has been answered already.
            ticket = Ticket(self.admitted - 1, in_flight, now)
        stop = remaining - ticket.others_in_flight + ticket.number + 1
        earliest = ticket.sent_at + reset - RESET_ROUNDING_SECONDS
        latest = now + reset + RESET_ROUNDING_SECONDS
        self.frames = [frame for frame in self.frames if frame.ends_at > now]
        for frame in self.frames:
            if earliest <= frame.ends_at and frame.earliest_end <= latest:
                frame.stop = min(frame.stop, stop)
                frame.earliest_end = max(frame.earliest_end, earliest)
                frame.ends_at = min(frame.ends_at, latest)
                frame.limit = limit or frame.limit
                return
        self.frames.append(Frame(earliest, latest, stop, limit))

    def delay(self, now: float, last_call: float) -> float:
        """Seconds until the next request may leave as far as the frames are concerned."""
        delay = 0.0
        for frame in self.frames:
            if frame.ends_at <= now:
                continue
            left = frame.stop - self.admitted
            if left <= 0:
                delay = max(delay, frame.ends_at - now)
                continue
            low_water = LOW_WATER_CALLS
            if frame.limit:
                low_water = min(low_water, max(1, frame.limit // 10))
            if left < low_water:
                interval = (frame.ends_at - now) / left
                delay = max(delay, last_call + interval - now)
        return delay

    def left(self, now: float) -> int | None:
        """Calls that may still leave in the tightest current frame (None: no reading)."""
        lefts = [frame.stop - self.admitted for frame in self.frames if frame.ends_at > now]
        return max(0, min(lefts)) if lefts else None
