"""The single entry point every adapter calls: a line (or a pre-decoded report) in.

Live MQTT ingest, file replay and the ``decode`` command all go through
:class:`Pipeline`, so they share one decoder, one fleet and one event clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from seawatch.core.alerts import AlertEvent
from seawatch.core.decode import Decoder
from seawatch.core.fleet import Fleet
from seawatch.core.lines import MAX_STATION_CHARS, epoch_to_datetime, station_name
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
        self.events: list[AlertEvent] = []  # alert events not yet taken by a sink
        self.now: datetime | None = None  # latest event time seen
        self._expire_every = timedelta(seconds=opts.expire_every_s)
        self._next_expiry: datetime | None = None

    def feed(
        self,
        line: bytes | str,
        received_at: datetime | None = None,
        source: str = "",
        carried_at: datetime | None = None,
    ) -> list[Report]:
        """Decode one line and fold its reports into the fleet; returns the reports."""
        reports = self.decoder.feed(line, received_at, source, carried_at)
        for report in reports:
            self.apply(report)
        return reports

    def feed_payload(self, payload: bytes, received_at: datetime | None = None, source: str = "") -> list[Report]:
        """One MQTT payload: NMEA text (one or many lines) or AIS-catcher JSON."""
        head = payload.lstrip()[:1]
        if not head:  # an empty (or blank) message is input too, and says nothing
            self.decoder.stats.rejects[RejectReason.EMPTY] += 1
            return []
        if head in (b"{", b"["):
            return self._feed_json(payload, received_at, source)
        reports: list[Report] = []
        for line in payload.splitlines():
            if line.strip():
                reports.extend(self.feed(line, received_at, source))
        return reports

    def _feed_json(self, payload: bytes, received_at: datetime | None, source: str) -> list[Report]:
        """AIS-catcher's JSON: ``nmea`` holds the sentences, ``rxuxtime``/``rxtime`` the receive time."""
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" bombs
            self.decoder.stats.rejects[RejectReason.BAD_JSON] += 1
            return []
        items = doc if isinstance(doc, list) else [doc]
        reports: list[Report] = []
        for item in items:
            nmea = item.get("nmea") if isinstance(item, dict) else None
            if not isinstance(nmea, list) or not all(isinstance(line, str) for line in nmea):
                self.decoder.stats.rejects[RejectReason.BAD_JSON] += 1
                continue
            if not nmea:  # nothing in it: counted like an empty message
                self.decoder.stats.rejects[RejectReason.EMPTY] += 1
                continue
            when = _json_time(item)  # the receiver's claim: the decoder's time guard judges it
            station = item.get("station_id") or item.get("device")
            src = source
            if isinstance(station, str | int) and not isinstance(station, bool):
                name = station_name(str(station)[: MAX_STATION_CHARS + 1])
                if name is None:
                    self.decoder.stats.warnings["bad_station_name"] += 1
                else:
                    src = f"{source}|{name}"
            for line in nmea:
                reports.extend(self.feed(line, received_at, src, when))
        return reports

    def apply(self, report: Report) -> None:
        """Fold one decoded report (from a line or from a pre-decoded source such as CSV)."""
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
            self.watch.observe(report, vessel, self.events)

    def take_events(self) -> list[AlertEvent]:
        """Alert events produced since the last call, in order (the sinks' one way in)."""
        events = self.events
        self.events = []
        return events

    def tick(self, now: datetime) -> None:
        """Advance time without a message (a live feed gone quiet): dark vessels, outages, escalations."""
        if self.watch is not None:
            self.watch.tick(now, self.events)

    def finish(self) -> None:
        """End of input: count fragments that will never be completed, and run the last checks.

        The final tick runs at the last event time: nothing past the end of a log is
        invented (a vessel that was silent only because the log ended is not dark).
        """
        self.decoder.flush()
        if self.watch is not None and self.now is not None:
            self.watch.tick(self.now, self.events)


def _json_time(item: dict[str, Any]) -> datetime | None:
    """AIS-catcher writes ``rxuxtime`` (UNIX seconds) and ``rxtime`` (``YYYYMMDDHHMMSS``, UTC)."""
    epoch = item.get("rxuxtime")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        try:
            return epoch_to_datetime(float(epoch))
        except OverflowError:  # an integer too large for a float
            return None
    text = item.get("rxtime")
    if isinstance(text, str) and len(text) == 14 and text.isdigit():
        try:
            return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return None
    return None
