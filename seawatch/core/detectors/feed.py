"""Feed health: a receiver (or the whole feed) that falls silent.

When a source sends nothing for ``outage_gap_s`` of event time it is in outage:
one ``feed_outage`` alert opens, and resolves when the source speaks again. The
outage periods are remembered so the dark detector can discount them — a vessel
is only "dark" for the time its receiver was actually listening. In a replay the
event clock does not move while the log is silent, so an outage of the whole feed
is seen when the first message after it arrives: it opens and resolves at once,
with the same times live ingest would have given.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import Context, Output, iso, round_m

_PERIODS_KEPT = 64  # outage periods remembered per source
_NEW_LOG_GAP = timedelta(days=7)  # a longer silence is another recording, not an outage to report
_MAX_SOURCES = 4096  # sources tracked (tag-block stations can be many; junk can invent more)


@dataclass(slots=True)
class _Source:
    last: datetime
    messages: int = 0
    open_since: datetime | None = None  # last message before an outage that is open now
    periods: deque[tuple[datetime, datetime]] = field(default_factory=lambda: deque(maxlen=_PERIODS_KEPT))


class FeedHealth:
    kind = Kind.FEED_OUTAGE

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.gap = timedelta(seconds=ctx.rules.feed.outage_gap_s)
        self.min_messages = ctx.rules.feed.min_messages
        self.sources: dict[str, _Source] = {}

    def on_message(self, source: str, when: datetime, out: Output) -> None:
        src = self.sources.get(source)
        if src is None:
            if len(self.sources) >= _MAX_SOURCES:
                self._evict()
            self.sources[source] = _Source(when, 1)
            return
        src.messages += 1
        if when <= src.last:
            return
        if when - src.last >= _NEW_LOG_GAP:  # logs of different days joined end to end, not an outage
            src.last = when
            src.messages = 1
            return
        if when - src.last >= self.gap and src.messages > self.min_messages:
            if src.open_since is None:
                out.append(self._finding(source, src.last))
            src.periods.append((src.last, when))
            src.open_since = None
            out.append(
                Clearance(
                    kind=Kind.FEED_OUTAGE,
                    key=(source,),
                    observed_at=when,
                    reason="messages resumed",
                    evidence={"resumed_at": iso(when), "gap_s": round_m((when - src.last).total_seconds())},
                )
            )
        src.last = when

    def _evict(self) -> None:
        """Make room for new sources, a quarter at a time, so a flood of invented station names costs
        O(log n) a message, not a scan of every source. Sources that never became a feed anyone relies
        on (fewer than ``min_messages``) go first, then the longest silent; the order is fixed by the
        data alone (last time, then name), so live and replay evict the same."""
        established = self.min_messages
        ranked = sorted(self.sources.items(), key=lambda item: (item[1].messages >= established, item[1].last, item[0]))
        for name, _ in ranked[: max(1, len(ranked) // 4)]:
            del self.sources[name]

    def on_tick(self, now: datetime, out: Output) -> None:
        for name, src in self.sources.items():
            if src.open_since is None and now - src.last >= self.gap and src.messages >= self.min_messages:
                src.open_since = src.last
                out.append(self._finding(name, src.last))

    def _finding(self, source: str, last: datetime) -> Finding:
        who = f"receiver {source!r}" if source else "the AIS feed"
        return Finding(
            kind=Kind.FEED_OUTAGE,
            key=(source,),
            observed_at=last + self.gap,
            severity=Severity.HIGH,
            summary=f"No AIS messages from {who} since {iso(last)}: vessels there cannot be watched.",
            evidence={
                "source": source,
                "last_message_at": iso(last),
                "outage_gap_s": round_m(self.gap.total_seconds()),
            },
        )

    def listening_s(self, source: str, since: datetime, now: datetime) -> float:
        """Seconds between ``since`` and ``now`` during which ``source`` was not in outage."""
        total = (now - since).total_seconds()
        src = self.sources.get(source)
        if src is None:
            return total
        spans = list(src.periods)
        if now - src.last >= self.gap:
            spans.append((src.last, now))
        for start, end in spans:
            lo = max(start, since)
            hi = min(end, now)
            if hi > lo:
                total -= (hi - lo).total_seconds()
        return total

    def forget(self, mmsi: int) -> None:
        return None
