"""One guard for every event time a message carries about itself.

A tag block's ``c:``, a timestamp a logger wrapped around a sentence, a Gatehouse
``$PGHP`` sentence and AIS-catcher's ``rxuxtime``/``rxtime`` are all claims made by
a receiver, and one wrong claim is enough to do harm: the event clock never runs
backwards, so a single time in 2099 would expire the fleet, escalate every distress
alert at once and put every other receiver in a false feed outage.

Live, the claim is checked against the arrival time: a time more than ``max_ahead_s``
after its arrival is a receiver with a wrong clock, and the arrival time is used.

A replay has no arrival time. The reference there is the feed's own recent past: the
median of the last accepted times of the same feed (a file, a topic), and the latest
of them. A time more than ``max_jump_s`` away from both is *suspect*. One bad line is
told from a real jump in the log (a recording gap, the next day appended) by the line
after it: if the next timed line of the feed lies nearer the suspect time than the
reference, the log has moved and both are taken, in order, with their own times; if
it lies near the reference again, the suspect line was out of line and is refused
(counted as ``time_out_of_line``). A suspect line is therefore held back one line,
never re-stamped; a suspect line at the very end of the input is refused.

The guard is pure and bounded: a fixed window per feed, at most ``max_sources`` feeds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_AHEAD_S = 300.0  # live: how far a message's own time may run ahead of its arrival
MAX_JUMP_S = 300.0  # replay: how far a time may stray from its feed's recent times unconfirmed
WINDOW = 31  # replay: accepted times per feed the median is taken over
MAX_SOURCES = 1024  # replay: feeds tracked (a feed is a file or a topic, not a tag-block station)


@dataclass(slots=True)
class _Feed(Generic[T]):
    recent: deque[datetime]  # accepted times, the newest last
    held: list[tuple[datetime, T]] = field(default_factory=list)


class TimeGuard(Generic[T]):
    """Checks the times messages carry: against arrival live, against the feed's own past in replay.

    ``T`` is whatever the caller needs to finish a held line later (the decoder holds
    the sentence and its context).
    """

    def __init__(
        self,
        *,
        max_ahead_s: float = MAX_AHEAD_S,
        max_jump_s: float = MAX_JUMP_S,
        window: int = WINDOW,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        self._max_ahead = timedelta(seconds=max_ahead_s)
        self._max_jump = timedelta(seconds=max_jump_s)
        self._window = window
        self._max_sources = max_sources
        self._feeds: dict[str, _Feed[T]] = {}

    def live(self, when: datetime, arrival: datetime) -> datetime | None:
        """``when`` if it is plausible for a message that arrived at ``arrival``, else None (use arrival)."""
        return None if when - arrival > self._max_ahead else when

    def replay(self, when: datetime, feed: str, item: T) -> tuple[list[tuple[datetime, T]], int]:
        """Judge a time with no arrival to compare with.

        Returns the lines to take now, oldest first, each with its time (``item`` among
        them unless it is held), and how many held lines were refused as out of line.
        """
        state = self._feeds.get(feed)
        if state is None:
            if len(self._feeds) >= self._max_sources:
                del self._feeds[next(iter(self._feeds))]
            self._feeds[feed] = _Feed(deque([when], maxlen=self._window))
            return [(when, item)], 0
        if self._near(state, when):
            refused = len(state.held)
            state.held.clear()
            self._accept(state, when)
            return [(when, item)], refused
        if not state.held:
            state.held.append((when, item))
            return [], 0
        suspect = state.held[-1][0]
        if abs(when - suspect) < abs(when - self._median(state)):
            # The log moved: the held lines and this one start the feed's new recent past.
            taken = [*state.held, (when, item)]
            state.held.clear()
            state.recent.clear()
            for at, _ in taken:
                self._accept(state, at)
            return taken, 0
        # Neither the old times nor the held one: this is the new suspect, the held one is refused.
        refused = len(state.held)
        state.held[:] = [(when, item)]
        return [], refused

    def flush(self) -> int:
        """End of input: held lines that nothing confirmed are refused; returns how many."""
        refused = sum(len(state.held) for state in self._feeds.values())
        for state in self._feeds.values():
            state.held.clear()
        return refused

    # ----------------------------------------------------------------- internals
    def _near(self, state: _Feed[T], when: datetime) -> bool:
        if abs(when - state.recent[-1]) <= self._max_jump:
            return True
        return abs(when - self._median(state)) <= self._max_jump

    @staticmethod
    def _median(state: _Feed[T]) -> datetime:
        ordered = sorted(state.recent)
        return ordered[len(ordered) // 2]

    @staticmethod
    def _accept(state: _Feed[T], when: datetime) -> None:
        state.recent.append(when)
