"""The watch: detectors and the alert book behind the fleet, on the event clock.

:class:`~seawatch.core.pipeline.Pipeline` hands every report here after the fleet
has folded it in. Each new, in-order position becomes one :class:`Fix` (its zones
looked up once) shown to the detectors of the registry
(:data:`seawatch.core.detectors.DETECTORS`) according to what each declares it needs
(:class:`~seawatch.core.detectors.base.Need`): every fix, slow fixes only, untimed
fixes, beacon signals, safety texts, ticks. Every message feeds feed health.
Time-driven work (dark vessels, silent beacons, escalations, feed outages) runs in
:meth:`Watch.tick`, which the pipeline calls as event time advances and a live
service calls when the feed is idle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import cast

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent, Clearance, Finding
from seawatch.core.detectors import DETECTORS, DetectorFactory
from seawatch.core.detectors.base import (
    Context,
    Detector,
    Fix,
    Need,
    SignalDetector,
    SlowDetector,
    TickingDetector,
)
from seawatch.core.detectors.feed import FeedHealth
from seawatch.core.fleet import UNTIMED, Vessel
from seawatch.core.geo import ShoreDistance
from seawatch.core.mmsi import is_beacon
from seawatch.core.model import PositionReport, Report, SafetyText
from seawatch.core.rules import Rules
from seawatch.core.trips import Trips
from seawatch.core.zones import Zone, ZoneIndex, ZoneKind

DRILL_PREFIX = "drill:"  # tag-block source of drill transmissions (seawatch drill)


class Watch:
    def __init__(
        self,
        zones: ZoneIndex | None = None,
        rules: Rules | None = None,
        shore: ShoreDistance | None = None,
        tick_s: float = 10.0,
        detectors: Sequence[DetectorFactory] = DETECTORS,
    ) -> None:
        self.rules = rules or Rules()
        self.zones = zones or ZoneIndex(())
        self.book = AlertBook(self.rules.alerts, self.rules.distress)
        self.ctx = Context(self.zones, self.rules, shore, self.book)
        self.trips = self.ctx.trips = Trips(self.ctx)
        self.feed = self.ctx.feed = FeedHealth(self.ctx)
        self.detectors: list[Detector] = [make(self.ctx) for make in detectors]
        # Routing by declared needs, each list in registry order.
        self._signals = [cast(SignalDetector, d) for d in self.detectors if Need.BEACONS in d.needs]
        self._texts = [cast(SignalDetector, d) for d in self.detectors if Need.TEXTS in d.needs]
        self._untimed = [d for d in self.detectors if Need.UNTIMED_FIXES in d.needs]
        self._ticking = [cast(TickingDetector, d) for d in self.detectors if Need.TICKS in d.needs]
        # (detector, itself again when it only needs slow fixes): one pass over fixes under way or not
        self._fixes: list[tuple[Detector, SlowDetector | None]] = [
            (d, cast(SlowDetector, d) if Need.SLOW_FIXES in d.needs else None)
            for d in self.detectors
            if d.needs & (Need.FIXES | Need.SLOW_FIXES)
        ]
        slow = [s for _, s in self._fixes if s is not None]
        self._fast_kn = max((d.slow_limit_kn() for d in slow), default=0.0)
        self._classes: dict[tuple[Zone, ...], tuple[tuple[Zone, ...], bool]] = {}
        self._shore = self.ctx.offshore_m
        self.fixes = 0
        self._drill: set[int] = set()  # MMSIs whose latest report came from a drill source (``drill:…``)
        self.tick_s = tick_s
        self.now: datetime | None = None
        self._next_tick: datetime | None = None

    def observe(self, report: Report, vessel: Vessel | None, events: list[AlertEvent]) -> None:
        """One report after the fleet: ``vessel`` is ``None`` for a duplicate copy."""
        when = report.observed_at
        out: list[Finding | Clearance] = []
        if report.source.startswith(DRILL_PREFIX):
            self._drill.add(report.mmsi)  # a drill's vessel: what it raises now is a test
        elif self._drill and report.mmsi in self._drill:
            self._drill.discard(report.mmsi)  # heard from a real receiver again: real from now on
        if when is None:
            # A log without timestamps: judge the report at the last event time seen (or the
            # epoch when there is none), so beacons and zone entries still count; durations,
            # feed health and the clock are left alone.
            when = self.now or UNTIMED
        else:
            self.feed.on_message(report.source, when, out)
        if report.observed_at is not None and (self.now is None or when > self.now):
            self.now = when
            if self._next_tick is None:
                self._next_tick = when + timedelta(seconds=self.tick_s)
            elif when >= self._next_tick:
                # feed health first (above), so an outage that just ended is known to `dark`
                self._book(out, events)
                out = []
                self.tick(when, events)
                self._next_tick = when + timedelta(seconds=self.tick_s)
        if vessel is not None:
            kind = type(report)
            if kind is PositionReport:
                if vessel.last_position is report and report.lat is not None and report.lon is not None:
                    self._fix(vessel, report, when, out)
                elif is_beacon(vessel.mmsi):
                    # a beacon heard without a usable position is still a beacon signal
                    for signal in self._signals:
                        signal.on_unplaced(vessel, report, when, out)  # type: ignore[arg-type]
            elif kind is SafetyText:
                for reader in self._texts:
                    reader.on_text(vessel, report, when, out)  # type: ignore[arg-type]
        if out:
            self._book(out, events)

    def _fix(self, vessel: Vessel, report: PositionReport, when: datetime, out: list[Finding | Clearance]) -> None:
        lat, lon = report.lat, report.lon
        assert lat is not None and lon is not None
        self.fixes += 1
        zones = self.zones.at(lat, lon)
        classes = self._classes.get(zones)
        if classes is None:
            # the most specific (smallest) risk zone first: its name and rules are the alert's
            risk = tuple(sorted((z for z in zones if z.kind is ZoneKind.RISK), key=lambda z: (z.geometry.area, z.id)))
            classes = self._classes[zones] = (risk, any(z.kind is ZoneKind.PORT for z in zones))
        sog = report.sog_kn
        fix = Fix(
            vessel,
            when,
            lat,
            lon,
            sog,
            report.cog_deg,
            report.heading_deg,
            report.nav_status,
            zones,
            classes[0],
            classes[1],
            self._shore,
            report.source,
        )
        mmsi = vessel.mmsi
        if is_beacon(mmsi):
            for signal in self._signals:  # a beacon is a signal, not a vessel: no zone entry, loitering, dark
                signal.on_fix(fix, out)
            return
        if report.observed_at is None:
            # An untimed line: where it is counts (zone entry), how long cannot be known. Durations
            # (loitering, drifting, dark, rendezvous, ETA) would otherwise be measured from the
            # stand-in time to a real one: decades.
            for detector in self._untimed:
                detector.on_fix(fix, out)
            return
        self.trips.on_fix(fix)
        # Under way, a detector that only needs slow fixes hears the vessel only if it holds state for it.
        fast = sog is not None and sog > self._fast_kn
        for detector, slow_only in self._fixes:
            if fast and slow_only is not None and not slow_only.holds(mmsi):
                continue
            detector.on_fix(fix, out)

    def _book(self, out: list[Finding | Clearance], events: list[AlertEvent]) -> None:
        apply = self.book.apply
        drill = self._drill
        for item in out:
            if drill and self._is_drill(item):
                if isinstance(item, Finding):
                    item = replace(item, test=True, escalates=False, summary=f"DRILL: {item.summary}")
                elif item.test is False:
                    item = replace(item, test=True)
            events.extend(apply(item))

    def _is_drill(self, item: Finding | Clearance) -> bool:
        return any(
            (isinstance(k, int) and k in self._drill) or (isinstance(k, str) and k.startswith(DRILL_PREFIX))
            for k in item.key
        )

    def tick(self, now: datetime, events: list[AlertEvent]) -> None:
        """Time-driven checks at event time ``now`` (a live service calls this when the feed is idle)."""
        if self.now is None or now > self.now:
            self.now = now
        out: list[Finding | Clearance] = []
        self.feed.on_tick(now, out)
        for detector in self._ticking:
            detector.on_tick(now, out)
        if out:
            self._book(out, events)
        events.extend(self.book.tick(now))

    def forget(self, mmsi: int) -> None:
        """The fleet forgot a vessel (silent for its time-to-live): so do the detectors."""
        self._drill.discard(mmsi)
        self.trips.forget(mmsi)
        for detector in self.detectors:
            detector.forget(mmsi)
