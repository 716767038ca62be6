"""Trips: where each vessel's present trip began, so local traffic is told from a crossing.

A fishing boat that goes out from its mooring at dawn and comes home at dusk crosses the
same risk zones, and stops for as long, as a boat that came over from another coast.
What tells them apart is its home, learned from its track, and where the trip began:

* **Home.** A vessel stopped within ``coast_offshore_m`` of land for ``home_min_stop_s``
  (a night moored off its jetty or beached) lives there: that spot is its home, kept
  across days (beyond the fleet's memory of the vessel, up to ``max_homes``). Never on a
  departure coast (a zone whose rules say ``local.enabled = false``): a boat waiting
  there may be about to start a crossing.
* **Local.** A trip that leaves from the vessel's home, or that is first heard within
  ``home_radius_m`` of it (many boats switch AIS on only once out), is local for
  ``max_trip_s``: a day trip. A boat at sea longer than that is crossing.
* **Crossing.** Everything else: a boat first heard at sea away from any home it is known
  to have, a boat first heard by a coast it is not known to live at (a short stop at a
  beach is not a home), a trip from a departure coast, a trip of more than ``max_trip_s``.

Two further facts are kept for the detectors: whether the vessel is *moored* now (stopped
near land outside a departure coast: a boat at a jetty is not loitering, two of them side
by side are not a transfer) and where it was heard before its present trip began (a boat
heard outside a zone, silent, then heard inside it crossed in while unheard; one first
heard inside switched its transponder on there).

A silence of ``trip_gap_s`` ends a trip; the next position starts a new one. Without a
coastline dataset nothing is near land, so no trip is local and nothing is moored.
Distance to land is the expensive question: it is asked when a trip begins, when a vessel
stops, and at most every ``_STOPPED_CHECK_S`` while it stays stopped.
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
    local: bool  # a day trip from its home
    max_trip_s: float  # from the rules where the trip began
    by_coast: bool  # its first fix was near land or near its home: where it switched on
    lat: float  # the latest position
    lon: float
    before: tuple[float, float] | None = None  # the last position of its previous trip (heard before a silence)
    checked: datetime | None = None  # last "stopped near land?" question
    stopped: bool = False  # the latest fix was stopped
    moored_since: datetime | None = None  # stopped near land, outside a departure coast, since
    home: bool = False  # moored at its learned home now: its silence is a night ashore


class Trips:
    """Per vessel: the present trip; per vessel ever seen moored for a night: where home is."""

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
        stopped = fix.sog_kn is not None and fix.sog_kn < _STOPPED_KN
        if trip is None or (fix.t - trip.last_t).total_seconds() > rules.trip_gap_s:
            near = self._near_land(fix, rules)
            near_home = self._near_home(fix, rules.home_radius_m)
            before = None if trip is None else (trip.lat, trip.lon)
            trip = self._trips[mmsi] = _Trip(
                first_t=fix.t,
                start=fix.t,
                last_t=fix.t,
                local=rules.enabled and near_home,
                max_trip_s=rules.max_trip_s,
                by_coast=near or near_home,
                lat=fix.lat,
                lon=fix.lon,
                before=before,
            )
            if stopped:
                self._stopped(mmsi, trip, fix, rules, near)
            return
        trip.last_t = fix.t
        trip.lat, trip.lon = fix.lat, fix.lon
        if not stopped:
            if trip.home:
                # leaving home: a day trip begins
                trip.local = True
                trip.start = fix.t
                trip.max_trip_s = rules.max_trip_s
            trip.stopped = trip.home = False
            trip.moored_since = None
            return
        # asked at once when it stops, then every few minutes while it stays stopped (the answer is costly)
        if trip.stopped and trip.checked is not None and (fix.t - trip.checked).total_seconds() < _STOPPED_CHECK_S:
            if trip.home:
                trip.start = fix.t  # still at home: the trip begins when it leaves
            return
        self._stopped(mmsi, trip, fix, rules, self._near_land(fix, rules))

    def _stopped(self, mmsi: int, trip: _Trip, fix: Fix, rules: LocalRules, near: bool) -> None:
        trip.stopped = True
        trip.checked = fix.t
        if not near:
            trip.moored_since = None
            trip.home = False
            return
        if not rules.enabled:
            # stopped by a departure coast (boarding, waiting): whatever follows is no day trip
            trip.local = trip.home = False
            trip.moored_since = None
            trip.start = fix.t
            return
        if trip.moored_since is None:
            trip.moored_since = fix.t
        at_home = self._near_home(fix, rules.coast_offshore_m)
        if not at_home and (fix.t - trip.moored_since).total_seconds() >= rules.home_min_stop_s:
            self._learn_home(mmsi, fix)  # a night moored here: this is where it lives
            at_home = True
        if at_home:
            trip.home = trip.local = True
            trip.start = fix.t

    def first_fix(self, mmsi: int, t: datetime) -> bool:
        """Whether the fix at ``t`` is the first of the vessel's present trip (where it switched on)."""
        trip = self._trips.get(mmsi)
        return trip is not None and trip.first_t == t

    def heard_before(self, mmsi: int) -> tuple[float, float] | None:
        """Where the vessel was last heard before its present trip began (``None`` if it never was)."""
        trip = self._trips.get(mmsi)
        return None if trip is None else trip.before

    def is_local(self, mmsi: int, now: datetime) -> bool:
        trip = self._trips.get(mmsi)
        if trip is None or not trip.local:
            return False
        return (now - trip.start).total_seconds() <= trip.max_trip_s

    def moored(self, mmsi: int) -> bool:
        """Whether the vessel's latest fix was stopped near land, outside a departure coast."""
        trip = self._trips.get(mmsi)
        return trip is not None and trip.moored_since is not None

    def at_home(self, mmsi: int) -> bool:
        """Whether the vessel's latest fix was stopped at the home learned from its track."""
        trip = self._trips.get(mmsi)
        return trip is not None and trip.home

    def forget(self, mmsi: int) -> None:
        """The fleet forgot the vessel: its trip goes, its home stays (it may come back tomorrow)."""
        self._trips.pop(mmsi, None)

    def _near_home(self, fix: Fix, radius_m: float) -> bool:
        home = self._homes.get(fix.vessel.mmsi)
        return home is not None and fast_distance_m(fix.lat, fix.lon, *home) <= radius_m

    @staticmethod
    def _near_land(fix: Fix, rules: LocalRules) -> bool:
        if fix.in_port:
            return True
        offshore = fix.offshore_m
        return offshore is not None and offshore <= rules.coast_offshore_m

    def _learn_home(self, mmsi: int, fix: Fix) -> None:
        homes = self._homes
        homes[mmsi] = (fix.lat, fix.lon)
        homes.move_to_end(mmsi)
        while len(homes) > self.ctx.rules.local.max_homes:
            homes.popitem(last=False)
