"""Loitering: slow within a small area for a long time, in a risk zone or far from shore.

An online form of the MovingPandas stop detector (``TrajectoryStopDetector``): a
window of fixes, thinned to one per ``sample_s``, loses its oldest fixes while its
extent exceeds ``max_diameter_m``; when what remains spans ``min_duration_s`` at a
mean speed under ``max_speed_kn``, the vessel is loitering. Only slow vessels hold
a window, so the cost follows the few that stop, not the many that pass.

Who loiters is judged every time the window is looked at, not once when it opens:
static data that arrives after the first positions (a fishing boat's type 24, a
merchant ship's type 5) ends the window, or closes an alert already open. By default
only unidentified craft and craft of no declared type count (``vessels``), and any
vessel something came alongside; a boat on a local trip from its own coast, or moored
by the shore (:mod:`seawatch.core.trips`), never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import (
    ANCHORED,
    NOT_UNDER_COMMAND,
    SMALL,
    UNIDENTIFIED,
    Context,
    Fix,
    Need,
    Output,
    RulesByZone,
    iso,
    label,
    round_m,
    straightness,
    vessel_groups,
    vessel_info,
)
from seawatch.core.geo import METRES_PER_NM, fast_distance_m
from seawatch.core.rules import LoiteringRules

_DRIFT_MIN_SOG_KN = 0.3
_DRIFT_STRAIGHTNESS = 0.6


@dataclass(slots=True)
class _Window:
    samples: list[tuple[datetime, float, float, float | None]] = field(default_factory=list)
    alerted: bool = False
    alongside: bool = False  # something came alongside during this stop: it counts until it moves on


class LoiteringDetector:
    kind = Kind.LOITERING
    needs = Need.SLOW_FIXES

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._windows: dict[int, _Window] = {}
        self._rules = RulesByZone[LoiteringRules](ctx, "loitering")

    def on_fix(self, fix: Fix, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        window = self._windows.get(mmsi)
        sog = fix.sog_kn
        rules = self._rules.at(fix)
        if (sog is not None and sog >= rules.resume_speed_kn) or fix.in_port:
            if window is not None:
                self._end(mmsi, window, fix, "moved on" if not fix.in_port else "entered a port", out)
            return
        if fix.status in ANCHORED and self._anchorage(fix, rules):
            if window is not None:
                self._end(mmsi, window, fix, "at anchor near shore", out)
            return
        trips = self.ctx.trips
        if trips is not None and trips.moored(mmsi):
            if window is not None:  # at a jetty or beach (never a departure coast's): moored, not loitering
                self._end(mmsi, window, fix, "moored by the shore", out)
            return
        if window is None:
            if sog is None or sog >= rules.max_speed_kn or not rules.enabled:
                return
            if fix.vessel.ship_type in rules.exempt_ship_types:
                return
            if fix.status is not None and fix.status in rules.exempt_nav_statuses:
                return  # fishing or towing; a status typed in later does not close an open alert
            window = self._windows[mmsi] = _Window()
        elif fix.vessel.ship_type in rules.exempt_ship_types:
            # its static data came after the window opened: a fishing boat, a tug, a pilot …
            self._end(
                mmsi, window, fix, f"identified as ship type {fix.vessel.ship_type}, whose work is to stay put", out
            )
            return
        samples = window.samples
        if samples and (fix.t - samples[-1][0]).total_seconds() < rules.sample_s:
            return
        samples.append((fix.t, fix.lat, fix.lon, sog))
        diameter = _trim(samples, rules.max_diameter_m)
        duration = (samples[-1][0] - samples[0][0]).total_seconds()
        if duration < rules.min_duration_s:
            if len(samples) == 1 and not window.alerted and (sog is None or sog >= rules.max_speed_kn):
                del self._windows[mmsi]  # not slow and no history: nothing to watch
            return
        speeds = [s[3] for s in samples if s[3] is not None]
        mean_sog = sum(speeds) / len(speeds) if speeds else 0.0
        if mean_sog >= rules.max_speed_kn or not fix.at_sea(rules.min_offshore_m):
            return
        window.alongside = window.alongside or self.ctx.book.alongside(mmsi)
        interest = True if window.alongside else self.ctx.interest(fix.vessel, fix.t, rules.vessels)
        local = self.ctx.local(mmsi, fix.t) and not window.alongside
        if not interest or local:
            if window.alerted and interest is False:
                self._end(mmsi, window, fix, "identified: not a craft of interest", out)
            elif window.alerted and local:
                self._end(mmsi, window, fix, "a local boat near its home coast", out)
            return
        groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel) or frozenset()
        vulnerable_craft = SMALL in groups or UNIDENTIFIED in groups or fix.status == NOT_UNDER_COMMAND
        steady = mean_sog >= _DRIFT_MIN_SOG_KN and straightness([(s[1], s[2]) for s in samples]) >= _DRIFT_STRAIGHTNESS
        if steady and vulnerable_craft:
            return  # a small or unidentified boat carried steadily one way is judged by the drifting detector
        window.alerted = True
        vulnerable = bool(fix.risk) and (SMALL in groups or UNIDENTIFIED in groups)
        offshore = fix.offshore_m
        zone = fix.risk[0] if fix.risk else None
        where = f"in {zone.name}" if zone else f"{(offshore or 0) / METRES_PER_NM:.0f} nm from shore"
        out.append(
            Finding(
                kind=Kind.LOITERING,
                key=(mmsi,),
                observed_at=fix.t,
                severity=Severity.HIGH if vulnerable else Severity.MEDIUM,
                summary=(
                    f"{label(fix.vessel)} has stayed within {diameter / 1000:.1f} km at {mean_sog:.1f} kn "
                    f"for {duration / 3600:.1f} h {where}."
                ),
                evidence={
                    "duration_s": round_m(duration),
                    "since": iso(samples[0][0]),
                    "mean_sog_kn": round(mean_sog, 2),
                    "diameter_m": round_m(diameter),
                    "offshore_nm": None if offshore is None else round(offshore / METRES_PER_NM, 1),
                    "groups": sorted(groups),
                },
                lat=fix.lat,
                lon=fix.lon,
                vessel=vessel_info(fix.vessel),
                zone=zone.ref if zone else None,
                zones=tuple(z.ref for z in fix.risk),
            )
        )

    @staticmethod
    def _anchorage(fix: Fix, rules: LoiteringRules) -> bool:
        offshore = fix.offshore_m
        return offshore is None or offshore < rules.anchorage_offshore_m

    def _end(self, mmsi: int, window: _Window, fix: Fix, reason: str, out: Output) -> None:
        del self._windows[mmsi]
        if window.alerted:
            out.append(Clearance(Kind.LOITERING, (mmsi,), fix.t, reason, evidence={"sog_kn": fix.sog_kn}))

    def slow_limit_kn(self) -> float:
        """Above this speed a window cannot start, under the global rules or any zone's."""
        return max(self._rules.of(zone).max_speed_kn for zone in (None, *self.ctx.zones))

    def holds(self, mmsi: int) -> bool:
        """Whether this detector keeps state for the vessel (else a fix under way cannot concern it)."""
        return mmsi in self._windows

    def forget(self, mmsi: int) -> None:
        self._windows.pop(mmsi, None)


def _trim(samples: list[tuple[datetime, float, float, float | None]], max_diameter_m: float) -> float:
    """Drop the oldest samples until the window's extent fits; returns the extent in metres."""
    while True:
        lats = [s[1] for s in samples]
        lons = [s[2] for s in samples]
        south, north, west, east = min(lats), max(lats), min(lons), max(lons)
        diameter = fast_distance_m(south, west, north, east)
        if diameter <= max_diameter_m or len(samples) <= 1:
            return diameter
        # drop up to the first sample that lies on the window's edge
        del samples[0]
