"""The single entry point every adapter calls: a line, a payload (or a pre-decoded report) in, events out.

Live MQTT ingest, file replay and the ``decode`` command all go through
:class:`Pipeline`, so they share one decoder, one fleet and one event clock. Every call
returns what it caused (:class:`Fed` for a line, a list of alert events otherwise):
there is no side list for callers to drain, so nothing can be forgotten in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seawatch.core.alerts import AlertEvent
from seawatch.core.commands import (
    COMMAND_TOPIC,
    TICK_TOPIC,
    Command,
    CommandFormatError,
    command_from_bytes,
    execute,
    tick_from_bytes,
)
from seawatch.core.decode import Decoder
from seawatch.core.fleet import Fleet
from seawatch.core.formats import payload_format
from seawatch.core.model import RejectReason, Report
from seawatch.core.watch import Watch


@dataclass(slots=True)
class PipelineOptions:
    """Tunables of the pure core, filled from :class:`seawatch.config.Settings`."""

    fragment_timeout_s: float = 60.0
    max_track_points: int = 120
    max_track_age_s: float = 6 * 3600.0
    vessel_ttl_s: float = 24 * 3600.0
    duplicate_window_s: float = 30.0
    max_vessels: int = 500_000
    expire_every_s: float = 60.0
    guard_replay_times: bool = True  # off only to show a log as it is (seawatch decode)


@dataclass(slots=True)
class Fed:
    """What one line or payload caused: the reports decoded from it and the alert events they raised."""

    reports: list[Report]
    events: list[AlertEvent]


class Pipeline:
    """Decoder + fleet on one event-time clock that never runs backwards."""

    def __init__(self, options: PipelineOptions | None = None, watch: Watch | None = None) -> None:
        opts = options or PipelineOptions()
        self.decoder = Decoder(fragment_timeout_s=opts.fragment_timeout_s, guard_replay_times=opts.guard_replay_times)
        self.fleet = Fleet(
            max_track_points=opts.max_track_points,
            max_track_age_s=opts.max_track_age_s,
            vessel_ttl_s=opts.vessel_ttl_s,
            duplicate_window_s=opts.duplicate_window_s,
            max_vessels=opts.max_vessels,
        )
        self.watch = watch
        self.now: datetime | None = None  # latest event time seen
        self._expire_every = timedelta(seconds=opts.expire_every_s)
        self._next_expiry: datetime | None = None

    def feed(
        self,
        line: bytes | str,
        received_at: datetime | None = None,
        source: str = "",
        carried_at: datetime | None = None,
    ) -> Fed:
        """Decode one line and fold its reports into the fleet (and the watch).

        ``carried_at`` is a time the line's container claims (an AIS-catcher receive time); the
        decoder's time guard judges it like any other time a message carries.
        """
        events: list[AlertEvent] = []
        return Fed(self._feed(line, received_at, source, events, carried_at), events)

    def feed_payload(self, payload: bytes, received_at: datetime | None = None, source: str = "") -> Fed:
        """One MQTT payload in any of the input formats (:data:`seawatch.core.formats.FORMATS`).

        The format finds the sentences in it; each goes to the decoder with the source and the
        receive time the format found for it.
        """
        events: list[AlertEvent] = []
        head = payload.lstrip()[:1]
        if not head:  # an empty (or blank) message is input too, and says nothing
            self.decoder.stats.rejects[RejectReason.EMPTY] += 1
            return Fed([], events)
        reports: list[Report] = []
        for lines, src, carried_at in payload_format(head).sentences(payload, source, self.decoder.stats):
            for line in lines:
                reports.extend(self._feed(line, received_at, src, events, carried_at))
        return Fed(reports, events)

    def _feed(
        self,
        line: bytes | str,
        received_at: datetime | None,
        source: str,
        events: list[AlertEvent],
        carried_at: datetime | None = None,
    ) -> list[Report]:
        reports = self.decoder.feed(line, received_at, source, carried_at)
        for report in reports:
            self._apply(report, events)
        return reports

    def apply(self, report: Report) -> list[AlertEvent]:
        """Fold one decoded report (from a line or from a pre-decoded source such as CSV); its alert events."""
        events: list[AlertEvent] = []
        self._apply(report, events)
        return events

    def _apply(self, report: Report, events: list[AlertEvent]) -> None:
        when = report.observed_at
        if when is not None and (self.now is None or when > self.now):
            self.now = when
            if self._next_expiry is None:
                self._next_expiry = when + self._expire_every
            elif when >= self._next_expiry:
                gone = self.fleet.expire(when)
                if self.watch is not None:
                    for mmsi in gone:
                        self.watch.forget(mmsi)
                self._next_expiry = when + self._expire_every
        vessel = self.fleet.apply(report)
        if self.watch is not None:
            self.watch.observe(report, vessel, events)

    def tick(self, now: datetime) -> list[AlertEvent]:
        """Advance time without a message (a live feed gone quiet): dark vessels, outages, escalations."""
        events: list[AlertEvent] = []
        if self.watch is not None:
            self.watch.tick(now, events)
        return events

    def command(self, command: Command) -> AlertEvent | None:
        """An operator's action (acknowledge, assign, resolve, retract, report) on the alert book.

        The one way operators change the core, so the event it makes goes the way detector
        events go. None when the alert is unknown or cannot take the action in its state.
        """
        if self.watch is None:
            raise RuntimeError("operator commands need a watch (zones, rules, alert book)")
        return execute(self.watch.book, self.watch.zones, command)

    def feed_record(self, payload: bytes, received_at: datetime | None = None, source: str = "") -> Fed:
        """One record of the feed journal: a message as :meth:`feed_payload` takes it, or an operator's action.

        The journal keeps operators' actions in their place among the messages (topic
        :data:`~seawatch.core.commands.COMMAND_TOPIC`), and the checks run while the feed was
        silent (:data:`~seawatch.core.commands.TICK_TOPIC`), so a replay of it, at a restart,
        by a standby or by an analyst, rebuilds the same alert book. Live ingest never takes this path: a feed's
        topic cannot be the command topic.
        """
        if source == TICK_TOPIC:
            try:
                at = tick_from_bytes(payload)
            except CommandFormatError:
                self.decoder.stats.rejects[RejectReason.BAD_COMMAND] += 1
                return Fed([], [])
            return Fed([], self.tick(at))
        if source != COMMAND_TOPIC:
            return self.feed_payload(payload, received_at, source)
        try:
            command = command_from_bytes(payload)
        except CommandFormatError:
            self.decoder.stats.rejects[RejectReason.BAD_COMMAND] += 1
            return Fed([], [])
        event = self.command(command)
        return Fed([], [] if event is None else [event])

    def finish(self) -> list[AlertEvent]:
        """End of input: count fragments that will never be completed, and run the last checks.

        The final tick runs at the last event time: nothing past the end of a log is
        invented (a vessel that was silent only because the log ended is not dark).
        """
        self.decoder.flush()
        events: list[AlertEvent] = []
        if self.watch is not None and self.now is not None:
            self.watch.tick(self.now, events)
        return events
