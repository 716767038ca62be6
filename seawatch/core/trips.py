"""Trips: where each vessel's present trip began, so local traffic is told from a crossing.

A fishing boat that goes out from its jetty at dawn and comes home at dusk crosses the
same risk zones, and stops for as long, as a boat that came over from another coast.
What tells them apart is where the trip began and how long it has lasted:

* **Local**: the trip began at the boat's own coast — first heard within
  ``coast_offshore_m`` of land, or first heard at sea within ``home_radius_m`` of the home
  learned from its earlier trips (many boats switch AIS on only once out) — and it has
  lasted at most ``max_trip_s``. A boat stopped near land is at home: its home is learned
  there (and kept across days, beyond the fleet's memory of the vessel) and its next trip
  begins when it leaves.
* **Crossing**: everything else — first heard far out at sea away from any known home,
  a trip that began in a departure-coast zone (``local.enabled = false`` there), or a trip
  of more than ``max_trip_s``.

A silence of ``trip_gap_s`` ends a trip; the next position starts a new one. Without a
coastline dataset nothing is near land, so no trip is local.

Distance to land is the expensive question, so it is asked once when a trip begins and
at most every ``_STOPPED_CHECK_S`` while a vessel is stopped.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from seawatch.core.detectors.base import Context, Fix, RulesByZone
from seawatch.core.geo import fast_distance_m
from seawatch.core.rules import LocalRules

_STOPPED_KN = 1.0  # at most this is stopped at a jetty or mooring (as the dark detector's home rule)
_STOPPED_CHECK_S = 600.0  # a stopped vessel is asked about land at most this often


@dataclass(slots=True)
class _Trip:
    first_t: datetime  # the first fix of the trip (first heard, or first after a silence)
    start: datetime  # when it left home (or was first heard)
    last_t: datetime
    local: bool  # began at its own coast
    checked: datetime | None = None  # last "stopped near land?" question
    stopped: bool = False  # the latest fix was stopped
    home: bool = False  # stopped near its own coast now (moored, beached): its silence is a night ashore


class Trips:
    """Per vessel: the present trip; per vessel ever seen at home: where home is."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._rules = RulesByZone[LocalRules](ctx, "local")
        self._trips: dict[int, _Trip] = {}
        self._homes: OrderedDict[int, tuple[float, float]] = OrderedDict()

    def on_fix(self, fix: Fix) -> None:
        """Fold in one timed fix (called by the watch before the detectors see it)."""
        mmsi = fix.vessel.mmsi
        trip = self._trips.get(mmsi)
        rules = self._rules.at(fix)
        stopped = _stopped(fix)
        if trip is None or (fix.t - trip.last_t).total_seconds() > rules.trip_gap_s:
            trip = self._trips[mmsi] = _Trip(fix.t, fix.t, fix.t, self._begins_local(fix, rules))
            trip.stopped = stopped
            trip.home = trip.local and stopped and self._near_land(fix, rules)
            if trip.home:
                self._learn_home(mmsi, fix, rules)
            trip.checked = fix.t
            return
        trip.last_t = fix.t
        if not stopped:
            trip.stopped = trip.home = False
            return
        # asked at once when it stops, then every few minutes while it stays stopped (the answer is costly)
        just_stopped = not trip.stopped
        trip.stopped = True
        if not just_stopped and trip.checked is not None and (fix.t - trip.checked).total_seconds() < _STOPPED_CHECK_S:
            if trip.home:
                trip.start = fix.t  # still at home: the trip begins when it leaves
            return
        trip.checked = fix.t
        trip.home = rules.enabled and self._near_land(fix, rules)
        if trip.home:
            # at home: the day's trip is over, the next one begins when it leaves
            self._learn_home(mmsi, fix, rules)
            trip.start = fix.t
            trip.local = True

    def at_home(self, mmsi: int) -> bool:
        """Whether the vessel's latest fix was stopped near its own coast (never on a departure coast)."""
        trip = self._trips.get(mmsi)
        return trip is not None and trip.home

    def first_fix(self, mmsi: int, t: datetime) -> bool:
        """Whether the fix at ``t`` is the first of the vessel's present trip (where it switched on)."""
        trip = self._trips.get(mmsi)
        return trip is not None and trip.first_t == t

    def is_local(self, mmsi: int, now: datetime) -> bool:
        trip = self._trips.get(mmsi)
        if trip is None or not trip.local:
            return False
        return (now - trip.start).total_seconds() <= self.ctx.rules.local.max_trip_s

    def trip_s(self, mmsi: int, now: datetime) -> float | None:
        """How long the present trip has lasted (since it left home), for evidence."""
        trip = self._trips.get(mmsi)
        return None if trip is None else (now - trip.start).total_seconds()

    def forget(self, mmsi: int) -> None:
        """The fleet forgot the vessel: its trip goes, its home stays (it may come back tomorrow)."""
        self._trips.pop(mmsi, None)

    def _begins_local(self, fix: Fix, rules: LocalRules) -> bool:
        if not rules.enabled:
            return False  # a departure coast: leaving it may be the start of a crossing
        if self._near_land(fix, rules):
            return True
        home = self._homes.get(fix.vessel.mmsi)
        return home is not None and fast_distance_m(fix.lat, fix.lon, *home) <= rules.home_radius_m

    @staticmethod
    def _near_land(fix: Fix, rules: LocalRules) -> bool:
        if fix.in_port:
            return True
        offshore = fix.offshore_m
        return offshore is not None and offshore <= rules.coast_offshore_m

    def _learn_home(self, mmsi: int, fix: Fix, rules: LocalRules) -> None:
        homes = self._homes
        homes[mmsi] = (fix.lat, fix.lon)
        homes.move_to_end(mmsi)
        while len(homes) > rules.max_homes:
            homes.popitem(last=False)


def _stopped(fix: Fix) -> bool:
    return fix.sog is not None and fix.sog < _STOPPED_KN
