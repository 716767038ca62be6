#!/usr/bin/env python3
"""Generate the scripted replay scenarios in replay_data/scenarios/: AIS logs and the alerts each must raise.

Why a generator and not recordings: the situations Seawatch exists for (an AIS-SART in the water, a boat
adrift for hours, a transfer at sea, a fishing boat that goes dark near Ashmore Reef) are rare in real logs,
unlabelled, and not ours to publish. Here each scenario is a short story -- who is where, doing what, for how
long -- told as vessel motions and turned into AIS sentences by pyais, the encoder real software uses, at the
report rates of ITU-R M.1371. The expected alerts are written from the story and the documented rules
(alerts/rules.toml), not from what the detectors happen to say, so a replay that disagrees points at a fault in
one or the other. Everything is seeded, so the output is byte-identical on every run: the golden test
(tests/unit/test_scenarios.py) regenerates the files and compares them, so they cannot go stale.

The script also checks every story against the zone files and the GSHHG coastline mask before it writes
anything: positions must be at sea and in the zones the story names, receivers must not fall silent by
accident, and so on. A scenario that breaks its own story is an error, not a file.

Usage:
    .venv/bin/python scripts/make_scenarios.py           # write replay_data/scenarios/
    .venv/bin/python scripts/make_scenarios.py --check   # write nothing; exit 1 if the files are stale
    .venv/bin/python scripts/make_scenarios.py --out DIR # write elsewhere
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import json
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pyais

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: the seawatch package sits next to scripts/
    sys.path.insert(0, str(ROOT))

from seawatch.core.geo import KN_TO_MS, METRES_PER_NM, bearing_deg, destination, distance_m  # noqa: E402
from seawatch.core.lines import nmea_checksum  # noqa: E402

OUT_DIR = ROOT / "replay_data" / "scenarios"
ZONES_DIR = ROOT / "zones"

START = datetime(2026, 3, 1, tzinfo=UTC)  # every scenario starts here: 1772323200 in tag-block time
START_EPOCH = int(START.timestamp())
SEED = 20260301
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180.0  # metres per degree of latitude on the IUGG sphere (as seawatch.core.geo)
MIN, HOUR = 60, 3600

LatLon = tuple[float, float]
AisClass = Literal["A", "B", "beacon"]

# Navigational status (ITU-R M.1371-5, message 1, table 45)
UNDER_WAY, AT_ANCHOR, MOORED, FISHING_STATUS, SART_ACTIVE, SART_TEST = 0, 1, 5, 7, 14, 15
# Ship types (ITU-R M.1371-5, table 53)
FISHING, TUG, LAW_ENFORCEMENT, PASSENGER, CARGO, CONTAINER, TANKER = 30, 52, 55, 60, 70, 71, 80


class ScenarioError(Exception):
    """A scenario breaks its own story (a position on land, outside its zone, a receiver silent by accident)."""


def offset(lat: float, lon: float, north_m: float, east_m: float) -> LatLon:
    """The point north_m and east_m away (a flat approximation, good to a millimetre over a few hundred metres)."""
    return lat + north_m / M_PER_DEG_LAT, lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


# ------------------------------------------------------------------------------------------------ motion
@dataclass(frozen=True, slots=True)
class _Phase:
    t0: float
    t1: float
    at: Callable[[float], LatLon]


class Plan:
    """A vessel's true track as phases of motion, each starting where the previous one ended.

    Times are seconds since :data:`START`. Positions before the first phase are its start,
    after the last phase its end (a vessel that has stopped moving).
    """

    def __init__(self, t: float, lat: float, lon: float, rng: random.Random) -> None:
        self.t = t
        self.lat = lat
        self.lon = lon
        self._rng = rng
        self._phases: list[_Phase] = []
        self._starts: list[float] = []

    def at(self, t: float) -> LatLon:
        if not self._phases:
            return self.lat, self.lon
        i = bisect.bisect_right(self._starts, t) - 1
        phase = self._phases[max(i, 0)]
        return phase.at(min(max(t, phase.t0), phase.t1))

    def _add(self, t1: float, at: Callable[[float], LatLon]) -> Plan:
        self._phases.append(_Phase(self.t, t1, at))
        self._starts.append(self.t)
        self.lat, self.lon = at(t1)
        self.t = t1
        return self

    def sail(self, bearing: float, speed_kn: float, duration_s: float) -> Plan:
        """A straight course at a steady speed."""
        lat0, lon0, t0, v = self.lat, self.lon, self.t, speed_kn * KN_TO_MS
        return self._add(t0 + duration_s, lambda t: destination(lat0, lon0, bearing, v * (t - t0)))

    def sail_to(self, lat: float, lon: float, speed_kn: float) -> Plan:
        d = distance_m(self.lat, self.lon, lat, lon)
        return self.sail(bearing_deg(self.lat, self.lon, lat, lon), speed_kn, d / (speed_kn * KN_TO_MS))

    def route(self, waypoints: Sequence[LatLon], speed_kn: float) -> Plan:
        for lat, lon in waypoints:
            self.sail_to(lat, lon, speed_kn)
        return self

    def drift(self, set_deg: float, rate_kn: float, duration_s: float, surge: float = 0.15) -> Plan:
        """Carried by a current: rate_kn along set_deg, swinging by a fraction surge, meandering a little across."""
        lat0, lon0, t0 = self.lat, self.lon, self.t
        v = rate_kn * KN_TO_MS
        p_surge = self._rng.uniform(1800, 2700)
        p_meander = self._rng.uniform(1500, 2400)
        meander_m = self._rng.uniform(10, 25)

        def at(t: float) -> LatLon:
            dt = t - t0
            along = v * dt + v * surge * p_surge / (2 * math.pi) * (1 - math.cos(2 * math.pi * dt / p_surge))
            lat, lon = destination(lat0, lon0, set_deg, along)
            across = meander_m * math.sin(2 * math.pi * dt / p_meander)
            side = math.radians(set_deg + 90)
            return offset(lat, lon, across * math.cos(side), across * math.sin(side))

        return self._add(t0 + duration_s, at)

    def hold(self, duration_s: float, wander_m: float = 30.0, period_s: float = 1500.0) -> Plan:
        """Stopped or holding position: a slow wander of about wander_m around the spot (0.1-0.3 kn)."""
        lat0, lon0, t0 = self.lat, self.lon, self.t
        w = _Wander(self._rng, wander_m, period_s)
        return self._add(t0 + duration_s, lambda t: offset(lat0, lon0, *w(t - t0)))

    def swing(self, duration_s: float, radius_m: float) -> Plan:
        """At anchor: the hull swings round the anchor with the tide (12.4 h), plus a little yaw."""
        lat0, lon0, t0 = self.lat, self.lon, self.t
        a0 = self._rng.uniform(0, 2 * math.pi)
        omega = 2 * math.pi / (12.42 * HOUR) * self._rng.choice((-1, 1))
        w = _Wander(self._rng, 6.0, 600.0)

        def at(t: float) -> LatLon:
            dt = t - t0
            a = a0 + omega * dt
            n = radius_m * (math.cos(a) - math.cos(a0))
            e = radius_m * (math.sin(a) - math.sin(a0))
            dn, de = w(dt)
            return offset(lat0, lon0, n + dn, e + de)

        return self._add(t0 + duration_s, at)

    def circle(self, duration_s: float, radius_m: float, speed_kn: float, swing_kn: float, wander_m: float) -> Plan:
        """Idling in small circles (speed_kn +- swing_kn) whose centre wanders by about wander_m: loitering."""
        lat0, lon0, t0 = self.lat, self.lon, self.t
        v, vs = speed_kn * KN_TO_MS, swing_kn * KN_TO_MS
        p_speed = self._rng.uniform(2000, 3000)
        theta0 = self._rng.uniform(0, 2 * math.pi)
        turn = self._rng.choice((-1, 1))
        centre = _Wander(self._rng, wander_m, 5400.0)

        def at(t: float) -> LatLon:
            dt = t - t0
            arc = v * dt + vs * p_speed / (2 * math.pi) * (1 - math.cos(2 * math.pi * dt / p_speed))
            theta = theta0 + turn * arc / radius_m
            cn, ce = centre(dt)
            n = cn + radius_m * (math.cos(theta) - math.cos(theta0))
            e = ce + radius_m * (math.sin(theta) - math.sin(theta0))
            return offset(lat0, lon0, n, e)

        return self._add(t0 + duration_s, at)

    def follow(self, leader: Plan, bearing: float, distance_m_: float, duration_s: float, wander_m: float) -> Plan:
        """Keep station distance_m_ off the leader at bearing (alongside), wandering by about wander_m."""
        t0 = self.t
        w = _Wander(self._rng, wander_m, 900.0)

        def at(t: float) -> LatLon:
            lat, lon = destination(*leader.at(t), bearing, distance_m_)
            return offset(lat, lon, *w(t - t0))

        return self._add(t0 + duration_s, at)

    def meet(self, leader: Plan, bearing: float, distance_m_: float, speed_kn: float) -> Plan:
        """Sail straight to the spot distance_m_ off the (moving) leader at bearing, arriving when it is there."""
        v = speed_kn * KN_TO_MS
        arrive = self.t
        target = self.lat, self.lon
        for _ in range(6):
            target = destination(*leader.at(arrive), bearing, distance_m_)
            arrive = self.t + distance_m(self.lat, self.lon, *target) / v
        return self.sail(bearing_deg(self.lat, self.lon, *target), speed_kn, arrive - self.t)


class _Wander:
    """Two slow sinusoids (north, east) that start at zero: a smooth, bounded wander."""

    def __init__(self, rng: random.Random, amplitude_m: float, period_s: float) -> None:
        self.a = amplitude_m
        self.p1 = period_s * rng.uniform(0.8, 1.2)
        self.p2 = period_s * rng.uniform(1.25, 1.6)
        self.f1 = rng.uniform(0, 2 * math.pi)
        self.f2 = rng.uniform(0, 2 * math.pi)

    def __call__(self, dt: float) -> tuple[float, float]:
        n = self.a * (math.sin(2 * math.pi * dt / self.p1 + self.f1) - math.sin(self.f1))
        e = self.a * (math.sin(2 * math.pi * dt / self.p2 + self.f2) - math.sin(self.f2))
        return n, e


# ------------------------------------------------------------------------------------------------ vessels
@dataclass(frozen=True, slots=True)
class Static:
    """Static and voyage data (message 5 for class A, message 24 parts A and B for class B)."""

    name: str
    ship_type: int
    length_m: int
    beam_m: int
    callsign: str = ""
    imo: int = 0
    destination: str = ""
    draught_m: float = 0.0
    eta_h: float = 0.0  # hours after START


@dataclass(slots=True)
class Vessel:
    """One transmitting station: a ship, a small craft or a beacon, and what its transponder sends."""

    mmsi: int
    ais_class: AisClass
    plan: Plan
    rx: str  # the receiver (tag-block s:) that hears it
    role: str  # for the README: what it is in the story
    on: float = 0.0  # transmitting from (s since START)
    off: float = math.inf  # ... until
    static: Static | None = None  # None: sends no static data at all
    status: tuple[tuple[float, int], ...] = ((0.0, UNDER_WAY),)  # (from t, nav status): class A and beacons
    beacon_text: str = ""  # message 14 text of a beacon ("SART ACTIVE", "SART TEST", ...)
    noise_m: float = 3.0  # GNSS position noise (1 sigma, each axis)
    jitter_m: tuple[float, ...] = ()  # extra offset across the track, by report number (+: to starboard)
    static_delay_s: float = 0.0  # static data starts this long after the first position (lost broadcasts)
    heading: Callable[[float, float], float] | None = None  # (t, true course) -> heading; class B sends one too

    def status_at(self, t: float) -> int:
        current = self.status[0][1]
        for since, value in self.status:
            if t >= since:
                current = value
        return current


@dataclass(frozen=True, slots=True)
class Fix:
    """A position as transmitted (noise included): what the checks, and Seawatch, see."""

    t: int
    lat: float
    lon: float
    sog_kn: float
    cog_deg: float


@dataclass(slots=True)
class Message:
    t: int
    rx: str
    sentences: list[str]


def _interval_s(ais_class: AisClass, sog_kn: float, status: int) -> int:
    """Nominal reporting interval (ITU-R M.1371-5 Annex 1, tables 1 and 2)."""
    if ais_class == "B":
        return 180 if sog_kn < 2.0 else 30
    if status in (AT_ANCHOR, MOORED) and sog_kn <= 3.0:
        return 180
    if sog_kn <= 14.0:
        return 10
    if sog_kn <= 23.0:
        return 6
    return 2


def _encode(data: dict[str, Any], seq_id: int | None = None) -> list[str]:
    return pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel="A", seq_id=seq_id)


class Transponder:
    """Turns a vessel's plan into the messages its AIS unit sends, at the ITU-R M.1371 rates."""

    def __init__(self, vessel: Vessel, end_s: float, rng: random.Random) -> None:
        self.v = vessel
        self.end = min(vessel.off, end_s)
        self.rng = rng
        self.fixes: list[Fix] = []
        self._heading: float | None = None
        self._seq = rng.randrange(10)

    def messages(self) -> list[Message]:
        v = self.v
        out: list[Message] = []
        if v.ais_class == "beacon":
            self._beacon(out)
        else:
            self._positions(out)
            if v.static is not None:
                self._statics(out)
        return out

    # -- motion as the GNSS receiver and the transponder see it
    def _state(self, t: float) -> tuple[float, float, float, float]:
        """(lat, lon, true speed kn, true course deg) at t, from the plan."""
        lat, lon = self.v.plan.at(t)
        a = self.v.plan.at(t - 5)
        b = self.v.plan.at(t + 5)
        d = distance_m(*a, *b)
        sog = d / 10.0 / KN_TO_MS
        cog = bearing_deg(*a, *b) if d > 0.01 else self.rng.uniform(0, 360)
        return lat, lon, sog, cog

    def _fix(self, t: int) -> tuple[Fix, float]:
        lat, lon, sog, cog = self._state(t)
        noise = self.v.noise_m
        lat, lon = offset(lat, lon, self.rng.gauss(0, noise), self.rng.gauss(0, noise))
        n = len(self.fixes)
        if n < len(self.v.jitter_m):
            lat, lon = destination(lat, lon, cog + 90, self.v.jitter_m[n])
        sog_rep = max(0.0, sog + self.rng.gauss(0, 0.05))
        spread = 1.0 if sog >= 2.0 else 4.0 if sog >= 0.5 else 25.0  # COG from GNSS gets noisy at low speed
        cog_rep = (cog + self.rng.gauss(0, spread)) % 360.0
        fix = Fix(t, round(lat, 6), round(lon, 6), round(sog_rep, 1), round(cog_rep, 1) % 360.0)
        self.fixes.append(fix)
        return fix, sog

    def _heading_at(self, cog: float, sog: float) -> int:
        """Gyro heading: the course when making way (with a little yaw); kept, slowly wandering, when stopped."""
        if sog >= 1.5 or self._heading is None:
            self._heading = cog + self.rng.gauss(0, 1.0) if sog >= 1.5 else self.rng.uniform(0, 360)
        else:
            self._heading += self.rng.gauss(0, 0.7)
        return round(self._heading) % 360

    def _told(self, t: int, fix: Fix) -> int:
        """The heading the story gives (a bow held across the current, a yacht under sail), a little noisy."""
        assert self.v.heading is not None
        return round(self.v.heading(t, fix.cog_deg) + self.rng.gauss(0, 2.0)) % 360

    def _positions(self, out: list[Message]) -> None:
        v = self.v
        t = int(v.on) + self.rng.randrange(10)
        while t < self.end:
            status = v.status_at(t)
            fix, sog_true = self._fix(t)
            if v.ais_class == "A":
                data: dict[str, Any] = {
                    "type": 1 if self.rng.random() < 0.85 else 3,
                    "mmsi": v.mmsi,
                    "status": status,
                    "turn": 0,
                    "speed": fix.sog_kn,
                    "accuracy": 1,
                    "lon": fix.lon,
                    "lat": fix.lat,
                    "course": fix.cog_deg,
                    "heading": self._heading_at(fix.cog_deg, sog_true) if v.heading is None else self._told(t, fix),
                    "second": t % 60,
                    "radio": self.rng.getrandbits(19),
                }
            else:
                data = {
                    "type": 18,
                    "mmsi": v.mmsi,
                    "speed": fix.sog_kn,
                    "accuracy": 0,
                    "lon": fix.lon,
                    "lat": fix.lat,
                    "course": fix.cog_deg,
                    # class B sets on small craft seldom have a heading sensor (a yacht's often does)
                    "heading": 511 if v.heading is None else self._told(t, fix),
                    "second": t % 60,
                    "cs": 1,
                    "dsc": 1,
                    "band": 1,
                    "msg22": 1,
                    "radio": 393222,  # the fixed communication state class B "CS" units send
                }
            out.append(Message(t, v.rx, _encode(data)))
            t += _interval_s(v.ais_class, sog_true, status)

    def _statics(self, out: list[Message]) -> None:
        v = self.v
        s = v.static
        assert s is not None
        bow = round(s.length_m * 0.8)
        port = s.beam_m // 2
        dims = {"to_bow": bow, "to_stern": s.length_m - bow, "to_port": port, "to_starboard": s.beam_m - port}
        t = int(v.on + v.static_delay_s) + self.rng.randrange(360)  # a 6-minute cycle, caught anywhere in it
        while t < self.end:
            if v.ais_class == "A":
                eta = START + timedelta(hours=s.eta_h)
                data: dict[str, Any] = {
                    "type": 5,
                    "mmsi": v.mmsi,
                    "ais_version": 2,
                    "imo": s.imo,
                    "callsign": s.callsign,
                    "shipname": s.name,
                    "ship_type": s.ship_type,
                    **dims,
                    "epfd": 1,
                    "month": eta.month if s.eta_h else 0,
                    "day": eta.day if s.eta_h else 0,
                    "hour": eta.hour if s.eta_h else 24,
                    "minute": eta.minute if s.eta_h else 60,
                    "draught": s.draught_m,
                    "destination": s.destination,
                    "dte": 0,
                }
                self._seq = (self._seq + 1) % 10
                out.append(Message(t, v.rx, _encode(data, seq_id=self._seq)))
            else:
                part_a = {"type": 24, "mmsi": v.mmsi, "partno": 0, "shipname": s.name}
                part_b = {"type": 24, "mmsi": v.mmsi, "partno": 1, "ship_type": s.ship_type, "callsign": s.callsign}
                out.append(Message(t, v.rx, _encode(part_a)))
                if t + 30 < self.end:
                    out.append(Message(t + 30, v.rx, _encode({**part_b, **dims})))
            t += 360

    def _beacon(self, out: list[Message]) -> None:
        """AIS-SART / MOB / EPIRB-AIS: one GNSS fix a minute sent in a burst of eight reports, and a text."""
        v = self.v
        t = int(v.on)
        first = True
        while t < self.end:
            status = v.status_at(t)
            fix, _ = self._fix(t)
            for _ in range(8):
                data = {
                    "type": 1,
                    "mmsi": v.mmsi,
                    "status": status,
                    "speed": fix.sog_kn,
                    "accuracy": 0,
                    "lon": fix.lon,
                    "lat": fix.lat,
                    "course": fix.cog_deg,
                    "heading": 511,
                    "second": t % 60,
                    "radio": self.rng.getrandbits(19),  # each report of a burst goes out in its own slot
                }
                out.append(Message(t, v.rx, _encode(data)))
            if v.beacon_text and (first or (t - int(v.on)) % (4 * MIN) == 0):
                out.append(Message(t + 2, v.rx, _encode({"type": 14, "mmsi": v.mmsi, "text": v.beacon_text})))
            first = False
            t += MIN


# ------------------------------------------------------------------------------------------------ the world
class World:
    """The zone files and the coastline mask, for checking stories (loaded once, on first use)."""

    @cached_property
    def zones(self) -> Any:
        from seawatch.config.watch import load_zones

        return load_zones(ZONES_DIR)

    @cached_property
    def shore(self) -> Any:
        from seawatch.adapters.shore import LandmaskShore

        return LandmaskShore()

    @cached_property
    def far_shore(self) -> Any:
        """The same mask searched out to 200 nm (the default stops at 30 nm), for stories far out at sea."""
        from seawatch.adapters.shore import LandmaskShore

        return LandmaskShore(cap_m=200 * METRES_PER_NM)

    def risk(self, lat: float, lon: float) -> frozenset[str]:
        return frozenset(z.id for z in self.zones.at(lat, lon) if z.kind.value == "risk")

    def kinds(self, lat: float, lon: float) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for z in self.zones.at(lat, lon):
            out.setdefault(z.kind.value, set()).add(z.id)
        return out


Check = Callable[[World, dict[int, list[Fix]]], None]


def in_zones(mmsi: int, zone_ids: set[str], t0: float = 0, t1: float = math.inf) -> Check:
    """Every fix of mmsi in [t0, t1) lies in exactly these risk zones and in no port."""

    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        for f in fixes[mmsi]:
            if not t0 <= f.t < t1:
                continue
            kinds = world.kinds(f.lat, f.lon)
            if kinds.get("risk", set()) != zone_ids or "port" in kinds:
                raise ScenarioError(f"{mmsi} at t={f.t} ({f.lat}, {f.lon}) is in {kinds}, not only {zone_ids}")

    return check


def in_port(mmsi: int) -> Check:
    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        for f in fixes[mmsi]:
            if "port" not in world.kinds(f.lat, f.lon):
                raise ScenarioError(f"{mmsi} at t={f.t} ({f.lat}, {f.lon}) is not in a port zone")

    return check


def offshore(mmsi: int, min_nm: float, t0: float = 0, t1: float = math.inf) -> Check:
    """Far from land (GSHHG mask), checked on every tenth fix in [t0, t1)."""

    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        shore = world.far_shore if min_nm >= 25 else world.shore
        for f in [f for f in fixes[mmsi] if t0 <= f.t < t1][::10]:
            nm = shore(f.lat, f.lon) / METRES_PER_NM
            if nm < min_nm:
                raise ScenarioError(f"{mmsi} at t={f.t} ({f.lat}, {f.lon}) is {nm:.1f} nm from land, not {min_nm}")

    return check


def heading_for(mmsi: int, zone_id: str, t0: float, t1: float) -> Check:
    """The course line of every fix in [t0, t1) reaches zone_id before any other disembarkation zone."""

    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        from seawatch.core.zones import ZoneKind

        for f in fixes[mmsi]:
            if not t0 <= f.t < t1:
                continue
            hits = world.zones.ahead(f.lat, f.lon, f.cog_deg, 400 * METRES_PER_NM, ZoneKind.DISEMBARKATION)
            if not hits or hits[0][0].id != zone_id:
                ahead = [(z.id, round(d)) for z, d in hits]
                raise ScenarioError(f"{mmsi} at t={f.t}: course {f.cog_deg} reaches {ahead}, not {zone_id} first")

    return check


def weaves(mmsi: int, zone_id: str) -> Check:
    """The track crosses the zone boundary often, with runs both shorter and longer than the entry inertia."""

    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        inside = [zone_id in world.risk(f.lat, f.lon) for f in fixes[mmsi]]
        runs: list[tuple[bool, int]] = []
        for flag in inside:
            if runs and runs[-1][0] == flag:
                runs[-1] = (flag, runs[-1][1] + 1)
            else:
                runs.append((flag, 1))
        long_in = sum(1 for flag, n in runs if flag and n >= 3)
        long_out = sum(1 for flag, n in runs if not flag and n >= 3)
        short = sum(1 for _, n in runs if n < 3)
        if len(runs) < 20 or long_in < 3 or long_out < 3 or short < 5:
            raise ScenarioError(f"{mmsi} does not weave across {zone_id}: {len(runs)} runs {runs[:12]}...")

    return check


# ------------------------------------------------------------------------------------------------ scenarios
@dataclass(slots=True)
class Expect:
    kind: str
    mmsi: int | None
    why: str
    other_mmsi: int | None = None
    zone: str | None = None
    test: bool | None = None
    max_updates: int | None = None  # at most this many alert.updated events: only material changes
    updates_why: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "mmsi": self.mmsi}
        if self.other_mmsi is not None:
            out["other_mmsi"] = self.other_mmsi
        if self.test is not None:
            out["test"] = self.test
        if self.zone is not None:
            out["zone"] = self.zone
        out["why"] = self.why
        if self.max_updates is not None:
            out["max_updates"] = self.max_updates
            out["updates_why"] = self.updates_why
        return out


@dataclass(slots=True)
class Scenario:
    name: str
    title: str
    description: str
    duration_s: int
    vessels: list[Vessel]
    expected: list[Expect]
    checks: list[Check] = field(default_factory=list)
    outages: list[tuple[str, int, int]] = field(default_factory=list)  # (receiver, from, to): nothing heard
    note: str = ""  # anything a reader of the README should know about the expectation


def imo(base: int) -> int:
    """A valid IMO number from six digits (the seventh is the check digit)."""
    digits = [int(c) for c in f"{base:06d}"]
    return base * 10 + sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10


def merchant(
    rng: random.Random,
    mmsi: int,
    rx: str,
    start: LatLon,
    name: str,
    ship_type: int,
    length_m: int,
    destination_: str,
    callsign: str,
    t: float = 0.0,
) -> tuple[Vessel, Plan]:
    """A class A merchant ship with full static data; its plan is returned to be filled in."""
    plan = Plan(t, *start, rng)
    static = Static(
        name=name,
        ship_type=ship_type,
        length_m=length_m,
        beam_m=max(8, round(length_m / 6.5)),
        callsign=callsign,
        imo=imo(rng.randrange(100_000, 999_999)) if length_m >= 60 else 0,
        destination=destination_,
        draught_m=round(min(14.5, 2.5 + length_m / 25), 1),
        eta_h=rng.uniform(12, 96),
    )
    return Vessel(mmsi, "A", plan, rx, f"{name}: {_type_name(ship_type)}, {length_m} m", on=t, static=static), plan


Passing = tuple[int, LatLon, float, float, float, str, int, int, str, str]
"""A merchant ship passing through a story: MMSI, start, course, speed (kn), start time (s), name,
ship type, length (m), destination, call sign."""


def passing_ships(rng: random.Random, rx: str, end: float, ships: Sequence[Passing]) -> list[Vessel]:
    """Merchant ships with full static data on a steady course from their start time to the story's end."""
    vessels = []
    for mmsi, start, course, speed, t, name, ship_type, length, dest, call in ships:
        v, plan = merchant(rng, mmsi, rx, start, name, ship_type, length, dest, call, t=t)
        plan.sail(course, speed, end - t)
        vessels.append(v)
    return vessels


def _type_name(ship_type: int) -> str:
    return {
        FISHING: "fishing vessel",
        TUG: "tug",
        LAW_ENFORCEMENT: "patrol vessel",
        PASSENGER: "passenger ship",
        CARGO: "general cargo",
        CONTAINER: "container ship",
        72: "bulk carrier",
        79: "cargo ship",
        TANKER: "tanker",
        81: "oil tanker",
        84: "LNG carrier",
        69: "ro-ro passenger ferry",
    }.get(ship_type, f"ship type {ship_type}")


def beacons_active(rng: random.Random, world: World) -> Scenario:
    end = 28 * MIN
    rx_a, rx_c = "rx-andaman", "rx-christmas"
    sart, mob, epirb = 970110427, 972040318, 974020915
    vessels = [
        Vessel(
            sart,
            "beacon",
            Plan(0, 10.20, 95.60, rng).drift(250, 0.4, end),
            rx_a,
            "AIS-SART in the water (from a boat that sank), Andaman Sea",
            on=2 * MIN,
            status=((0, SART_ACTIVE),),
            beacon_text="SART ACTIVE",
            noise_m=5.0,
        ),
        Vessel(
            mob,
            "beacon",
            Plan(0, 9.40, 96.10, rng).drift(230, 0.6, end),
            rx_a,
            "MOB beacon on a person in the water, Andaman Sea",
            on=5 * MIN,
            status=((0, SART_ACTIVE),),
            beacon_text="MOB ACTIVE",
            noise_m=5.0,
        ),
        Vessel(
            epirb,
            "beacon",
            Plan(0, -9.30, 105.75, rng).drift(280, 0.5, end),
            rx_c,
            "EPIRB-AIS of a boat in distress, approaches to Christmas Island",
            on=4 * MIN,
            status=((0, SART_ACTIVE),),
            beacon_text="EPIRB ACTIVE",
            noise_m=5.0,
        ),
    ]
    background = [
        (533180412, rx_a, (9.70, 95.95), 345, 12.5, "BUNGA MELATI 5", CARGO, 186, "CHITTAGONG", "9MGL4"),
        (563071250, rx_a, (10.45, 95.20), 160, 13.0, "ORIENT HARMONY", TANKER, 228, "SINGAPORE", "9V2471"),
        (419000733, rx_a, (9.10, 96.60), 330, 14.0, "SAGAR KANYA", 72, 199, "HALDIA", "AVQR"),
        (503000198, rx_c, (-9.05, 106.10), 200, 13.5, "PILBARA DAWN", 72, 250, "PORT HEDLAND", "VJQF"),
        (525019332, rx_c, (-9.75, 105.30), 20, 11.5, "MERATUS KUPANG", CONTAINER, 148, "JAKARTA", "PKRL"),
    ]
    for mmsi, rx, start, course, speed, name, ship_type, length, dest, call in background:
        v, plan = merchant(rng, mmsi, rx, start, name, ship_type, length, dest, call)
        plan.sail(course, speed, end)
        vessels.append(v)
    return Scenario(
        name="beacons_active",
        title="Three distress beacons active",
        description=(
            "An AIS-SART (970), a MOB beacon (972) and an EPIRB-AIS (974) switch on and transmit for 23-26 minutes: "
            "a burst of eight position reports (nav status 14) every minute and a message 14 'SART ACTIVE' / "
            "'MOB ACTIVE' / 'EPIRB ACTIVE' every four minutes, drifting at 0.4-0.6 kn. The SART and the MOB are in "
            "the Andaman Sea corridor (receiver rx-andaman), the EPIRB in the approaches to Christmas Island "
            "(rx-christmas). Merchant ships pass at 11-14 kn, miles away."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "distress",
                sart,
                "nav status 14 and 'SART ACTIVE' from 970-MMSI; 8-report bursts = one alert",
                zone="andaman-sea-corridor",
                test=False,
            ),
            Expect(
                "distress",
                mob,
                "nav status 14 and 'MOB ACTIVE' from a 972 MMSI",
                zone="andaman-sea-corridor",
                test=False,
            ),
            Expect(
                "distress",
                epirb,
                "nav status 14 and 'EPIRB ACTIVE' from a 974 MMSI",
                zone="christmas-island-approaches",
                test=False,
            ),
        ],
        checks=[
            in_zones(sart, {"andaman-sea-corridor"}),
            in_zones(mob, {"andaman-sea-corridor"}),
            in_zones(epirb, {"christmas-island-approaches"}),
            offshore(sart, 20),
            offshore(mob, 20),
            offshore(epirb, 20),
        ],
        note=(
            "No `zone_entry`, `loitering` or `drifting` for the beacons although they sit in risk zones, slow and "
            "without static data: a beacon is a signal, not a vessel, and only the distress detector sees it "
            "(`seawatch/core/watch.py`). An earlier draft of this expectation listed a `zone_entry` per beacon; "
            "that was wrong by the watch's rules and was removed."
        ),
    )


def beacon_test(rng: random.Random, world: World) -> Scenario:
    end = 15 * MIN
    rx = "rx-penang"
    sart = 970080221
    host_mmsi = 533092310
    host, host_plan = merchant(rng, host_mmsi, rx, (5.372, 100.345), "KOTA SEJATI", CARGO, 172, "PENANG", "9MBQ7")
    host.status = ((0, AT_ANCHOR),)
    host_plan.swing(end, 70)
    vessels = [host]
    for mmsi, start, name, ship_type, length, call in [
        (563114780, (5.382, 100.339), "PACIFIC GRACE", TANKER, 183, "9V6631"),
        (525003817, (5.393, 100.344), "TANTO SETIA", CONTAINER, 141, "PMTS"),
    ]:
        v, plan = merchant(rng, mmsi, rx, start, name, ship_type, length, "PENANG", call)
        v.status = ((0, AT_ANCHOR),)
        plan.swing(end, rng.uniform(50, 90))
        vessels.append(v)
    tug, tug_plan = merchant(rng, 533004126, rx, (5.366, 100.336), "PERKASA 12", TUG, 32, "PENANG", "9MTG2")
    tug_plan.sail_to(5.386, 100.352, 6.0).sail_to(5.368, 100.347, 6.0).hold(end, 15)
    vessels.append(tug)
    vessels.append(
        Vessel(
            sart,
            "beacon",
            Plan(0, 5.3722, 100.3451, rng).hold(end, 3, 600),
            rx,
            "AIS-SART under test on the deck of KOTA SEJATI at anchor",
            on=5 * MIN,
            off=9 * MIN,
            status=((0, SART_TEST),),
            beacon_text="SART TEST",
        )
    )
    return Scenario(
        name="beacon_test",
        title="An AIS-SART under test in port",
        description=(
            "The crew of a cargo ship at anchor off Penang test their AIS-SART for four minutes, as the annual "
            "test allows: four bursts of eight reports with nav status 15 and a message 14 'SART TEST'. Two more "
            "ships lie at anchor and a tug moves between them (receiver rx-penang)."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "distress",
                sart,
                "nav status 15 and 'SART TEST': a test, raised with test true (severity info), "
                "the four bursts as one alert",
                test=True,
            ),
        ],
        checks=[in_port(v.mmsi) for v in vessels],
    )


def adrift_andaman(rng: random.Random, world: World) -> Scenario:
    end = 3 * HOUR + 30 * MIN
    rx = "rx-andaman"
    boat = 506113270
    vessels = [
        Vessel(
            boat,
            "B",
            Plan(0, 11.20, 95.40, rng).drift(200, 0.9, end),
            rx,
            "small boat, class B, no static data, adrift with the current",
            noise_m=4.0,
        )
    ]
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (533180566, (10.55, 95.75), 340, 13.5, 0, "MERAK JAYA", CARGO, 190, "YANGON", "9MJY5"),
            (563071993, (11.95, 95.55), 160, 12.0, 30 * MIN, "EASTERN PEARL", TANKER, 245, "SINGAPORE", "9V8812"),
            (419000512, (10.30, 95.05), 345, 14.5, 70 * MIN, "JAG LAXMI", 72, 229, "KOLKATA", "AVLM"),
        ],
    )
    return Scenario(
        name="adrift_andaman",
        title="A small boat adrift in the Andaman Sea",
        description=(
            "A small boat with a class B transponder and no static data at all drifts at 0.75-1.05 kn with the "
            "current (set 200 degrees) for 3.5 hours in the open Andaman Sea corridor, more than 100 nm from land. "
            "Three merchant ships with full static data pass at 12-14.5 kn."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "drifting",
                boat,
                "slow in open water 0.15 + small 0.1 + unidentified 0.1 + steady drift 0.1 + risk "
                "zone 0.1 + far from shore 0.05 = 0.6 >= 0.38, held for more than 30 min",
                max_updates=4,
                updates_why=(
                    "material changes only: about 2.5 nm drifted after the alert opens (one update a nautical "
                    "mile) and at most two factors gained or lost"
                ),
            ),
        ],
        checks=[in_zones(boat, {"andaman-sea-corridor"}), offshore(boat, 20)],
        note=(
            "Loitering is not expected: a steady one-way drift is the drifting detector's case, by design. No "
            "zone entry either: the boat is first heard inside the corridor, and where a transponder is switched "
            "on is not a crossing; it is judged by what it does."
        ),
    )


def loitering_craft(rng: random.Random, world: World) -> Scenario:
    rx = "rx-timor"
    craft = 525200716
    spot = destination(-11.62, 123.68, 75, 18_000)  # 10 km inside the zone's eastern edge
    plan = Plan(0, *destination(*spot, 75, 16_000), rng).sail_to(*spot, 8.0)
    arrived = plan.t
    end = int(arrived) + 2 * HOUR + 15 * MIN
    plan.circle(end - plan.t, radius_m=60, speed_kn=0.8, swing_kn=0.4, wander_m=100)
    vessels = [Vessel(craft, "B", plan, rx, "small craft, class B, no static data, idling in circles", noise_m=4.0)]
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (503000457, (-11.20, 123.30), 120, 12.5, 0, "TIMOR TRADER", CARGO, 118, "DARWIN", "VJTT"),
            (564391822, (-12.30, 124.20), 290, 13.5, 40 * MIN, "KIRANA SATU", TANKER, 176, "SINGAPORE", "9V3318"),
        ],
    )
    return Scenario(
        name="loitering_craft",
        title="A small craft loitering in the Timor Sea",
        description=(
            "A small craft (class B, no static data) is first heard in open sea east of the Timor Sea and Ashmore "
            "Reef zone, crosses into it at 8 kn, then idles for 2 h 15 min in small circles at 0.4-1.2 kn whose "
            "centre wanders about 100 m, far offshore. Two merchant ships pass at 12-14 kn."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "zone_entry",
                craft,
                "an unidentified craft (no static data after 15 min) crossing into the Timor Sea zone from open sea",
                zone="timor-sea-ashmore-reef",
            ),
            Expect(
                "loitering",
                craft,
                "mean speed < 2 kn within 4 km for more than 1 h in a risk zone, and its track "
                "winds (straightness < 0.6), so it is not a drift",
            ),
        ],
        checks=[
            in_zones(craft, set(), 0, 10 * MIN),
            in_zones(craft, {"timor-sea-ashmore-reef"}, arrived - 10 * MIN),
            offshore(craft, 12),
        ],
        note="Drifting is not expected: nothing says the hull is carried (no steady drift, no NUC, no heading).",
    )


def mothership_transfer(rng: random.Random, world: World) -> Scenario:
    end = 4 * HOUR + 40 * MIN
    rx = "rx-andaman"
    mother_mmsi = 567055281
    mother, mplan = merchant(rng, mother_mmsi, rx, (8.86, 96.36), "SRI CHAROEN 9", CARGO, 45, "RANONG", "HSB4471")
    mplan.sail(225, 9.0, 15 * MIN)
    mplan.hold(end - mplan.t, wander_m=35, period_s=1500)
    spot = mplan.at(15 * MIN)
    vessels = [mother]
    boats = [
        (567300118, 5 * MIN, 100.0, 180.0, 45 * MIN, None),
        (506220945, 90 * MIN, 80.0, 250.0, 48 * MIN, Static("MAUNG MYAT 7", FISHING, 14, 4, "XYM7")),
        (567300274, 175 * MIN, 120.0, 150.0, 42 * MIN, None),
    ]
    for mmsi, on, side, gap_m, alongside_s, static in boats:
        start = destination(*spot, side, 5.5 * METRES_PER_NM)
        plan = Plan(on, *start, rng).meet(mplan, side, gap_m, 7.0)
        plan.follow(mplan, side, gap_m, alongside_s, wander_m=15).sail(side + 10, 7.0, end - plan.t)
        role = "small boat, class B, " + (f"fishing, {static.length_m} m" if static else "no static data")
        vessels.append(Vessel(mmsi, "B", plan, rx, role, on=on, static=static, noise_m=4.0))
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (533180977, (8.20, 96.95), 330, 13.0, 0, "NUSANTARA BAHTERA", CARGO, 160, "YANGON", "9MNB2"),
            (477301944, (9.70, 96.30), 165, 14.0, 100 * MIN, "OCEAN TREASURE", CONTAINER, 262, "PORT KLANG", "VRQT4"),
        ],
    )
    a, b, c = (boat[0] for boat in boats)
    why_r = "within {gap} m of the stopped mother ship, both < 2 kn, for {mins} min (>= 30 min) at sea"
    return Scenario(
        name="mothership_transfer",
        title="A mother ship and three boats alongside",
        description=(
            "A 45 m cargo vessel with full static data stops in the open Andaman Sea corridor and holds position for "
            "4 hours (0.1-0.3 kn). Three small boats (class B; two without static data, one a 14 m fishing boat) "
            "come out one after another at 7 kn, lie 150-250 m off her for 42-48 minutes, then leave towards the "
            "Thai coast at 7 kn. Two merchant ships pass miles away."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "loitering",
                mother_mmsi,
                "stopped (< 2 kn) within 4 km for more than 1 h in a risk zone; an identified cargo ship counts "
                "once something has come alongside it (the first rendezvous)",
            ),
            Expect("rendezvous", mother_mmsi, why_r.format(gap=180, mins=45), other_mmsi=a),
            Expect("rendezvous", mother_mmsi, why_r.format(gap=250, mins=48), other_mmsi=b),
            Expect("rendezvous", mother_mmsi, why_r.format(gap=150, mins=42), other_mmsi=c),
        ],
        checks=[in_zones(v.mmsi, {"andaman-sea-corridor"}) for v in vessels[:4]] + [offshore(mother_mmsi, 20)],
        note=(
            "The boats lie alongside for less than an hour, so they do not loiter themselves. They are first heard "
            "inside the corridor, so no zone entry: where a transponder is switched on is not a crossing."
        ),
    )


def dark_timor(rng: random.Random, world: World) -> Scenario:
    silent_at = 70 * MIN
    end = silent_at + 3 * HOUR + 30 * MIN
    rx = "rx-timor"
    fisher = 525017733
    vessels = [
        Vessel(
            fisher,
            "B",
            Plan(0, -11.55, 123.45, rng).sail(225, 6.5, silent_at),
            rx,
            "fishing boat, class B, 15 m, static data; stops transmitting after 70 min",
            off=silent_at,
            static=Static("KM SUMBER REJEKI 03", FISHING, 15, 4, "YDB6213"),
            noise_m=4.0,
        )
    ]
    patrol, pplan = merchant(rng, 503000911, rx, (-11.90, 123.70), "CAPE NELSON", LAW_ENFORCEMENT, 58, "DARWIN", "VKNE")
    loop = [(-12.30, 123.35), (-12.00, 122.85), (-11.75, 123.40), (-11.90, 123.70)]
    while pplan.t < end:
        pplan.route(loop, 10.0)
    vessels.append(patrol)
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (503000457, (-11.25, 123.10), 115, 12.5, 0, "TIMOR TRADER", CARGO, 118, "DARWIN", "VJTT"),
            (538007712, (-12.40, 124.40), 292, 13.5, 60 * MIN, "ARAFURA STAR", 81, 183, "SINGAPORE", "V7WQ3"),
            (525011870, (-11.05, 124.30), 250, 11.0, 150 * MIN, "MERATUS KUPANG", CONTAINER, 148, "KUPANG", "PKRL"),
        ],
    )
    return Scenario(
        name="dark_timor",
        title="A fishing boat goes dark near Ashmore Reef",
        description=(
            "A 15 m Indonesian fishing boat (class B, ship type 30, static data) heads south-west at 6.5 kn in the "
            "Timor Sea and Ashmore Reef zone, then stops transmitting after 70 minutes. A patrol vessel and three "
            "merchant ships keep reporting through the same receiver (rx-timor) for 3.5 hours more."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "dark",
                fisher,
                "last seen in a risk zone, silent 3.5 h while its receiver kept hearing others: "
                "beyond max(min_gap_s 1 h, 20 x 30 s)",
            ),
        ],
        checks=[in_zones(fisher, {"timor-sea-ashmore-reef"})],
        note=(
            "No zone entry: the fishing boat is first heard inside the zone, and where a transponder is switched "
            "on is not a crossing; it is judged by what it does (here: it goes dark)."
        ),
    )


def feed_outage(rng: random.Random, world: World) -> Scenario:
    end = 5 * HOUR
    rx = "rx-christmas"
    outage = (rx, 90 * MIN, 3 * HOUR + 30 * MIN)
    boat, fisher = 525300415, 525018264
    vessels = [
        Vessel(
            boat,
            "B",
            Plan(0, -9.20, 105.95, rng).sail(195, 5.5, end),
            rx,
            "small boat, class B, no static data, bound for Christmas Island",
            noise_m=4.0,
        ),
        Vessel(
            fisher,
            "B",
            Plan(0, -9.40, 105.55, rng).sail(170, 5.0, end),
            rx,
            "fishing boat, class B, 12 m, static data",
            static=Static("KM BINTANG LAUT", FISHING, 12, 4, "YDC4410"),
            noise_m=4.0,
        ),
    ]
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (503000198, (-9.05, 106.20), 200, 13.5, 0, "PILBARA DAWN", 72, 250, "PORT HEDLAND", "VJQF"),
            (563092417, (-10.10, 105.20), 20, 12.0, 0, "GOLDEN ORCHID", TANKER, 190, "SINGAPORE", "9V4410"),
            (525019332, (-9.60, 106.30), 290, 11.5, 0, "MERATUS BATAM", CONTAINER, 148, "JAKARTA", "PKRB"),
        ],
    )
    return Scenario(
        name="feed_outage",
        title="The receiver goes silent for two hours",
        description=(
            "Two small craft (one without static data, one a 12 m fishing boat) make 5-5.5 kn south through the "
            "approaches to Christmas Island; three merchant ships pass. After 90 minutes the receiver rx-christmas "
            "hears nothing at all for two hours, then everything resumes."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "feed_outage",
                None,
                "no message from rx-christmas for 2 h (>= outage_gap_s 600 s after >= 100 "
                "messages): one outage, and the silence is not any vessel going dark",
            ),
        ],
        checks=[in_zones(boat, {"christmas-island-approaches"}), in_zones(fisher, {"christmas-island-approaches"})],
        outages=[outage],
        note=(
            "No `dark` alert: the two hours of silence are the receiver's, and dark subtracts outage time. No zone "
            "entry: both craft are first heard inside the approaches, and where a transponder is switched on is "
            "not a crossing."
        ),
    )


def rescue_disembarkation(rng: random.Random, world: World) -> Scenario:
    rx = "rx-sabang"
    boat_mmsi, ship_mmsi = 405000319, 533180734
    divert_at = 55 * MIN
    horizon = 8 * HOUR
    boat_plan = Plan(0, 6.50, 95.80, rng).drift(250, 0.8, horizon)
    # the merchant is on passage west-north-west when the rescue centre calls her at divert_at
    divert_point = destination(*boat_plan.at(divert_at), 100, 13 * METRES_PER_NM)
    start = destination(*divert_point, 110, 13.0 * KN_TO_MS * divert_at)
    ship, plan = merchant(rng, ship_mmsi, rx, start, "BUNGA KASTURI 3", CARGO, 180, "COLOMBO", "9MKS3")
    plan.sail(290, 13.0, divert_at)
    plan.meet(boat_plan, 100, 1.5 * METRES_PER_NM, 13.0).meet(boat_plan, 100, 460, 6.0)
    plan.meet(boat_plan, 100, 180, 2.5)
    alongside_from = plan.t
    plan.follow(boat_plan, 100, 180, 50 * MIN, wander_m=10)
    leave_at = plan.t
    plan.sail_to(5.97, 95.42, 12.0).sail_to(5.91, 95.36, 6.0)
    anchored_at = plan.t
    plan.swing(20 * MIN, 60)
    end = int(plan.t)
    ship.status = ((0, UNDER_WAY), (anchored_at, AT_ANCHOR))
    vessels = [
        Vessel(boat_mmsi, "B", boat_plan, rx, "small boat, class B, no static data, adrift", noise_m=4.0),
        ship,
    ]
    v, other = merchant(rng, 636019544, rx, (6.95, 96.40), "AEGEAN FORTUNE", 81, 244, "SIKKA", "D5QK7")
    other.sail(300, 14.0, end)
    vessels.append(v)
    return Scenario(
        name="rescue_disembarkation",
        title="A merchant ship rescues a drifting boat and lands the people at Sabang",
        description=(
            "A small boat (class B, no static data) drifts at about 0.8 kn in the Andaman Sea corridor north of "
            "Aceh. A 180 m cargo ship on passage to Colombo is diverted after 55 minutes, comes alongside at 180 m "
            "and stays 50 minutes drifting with the boat (< 1 kn) while the people are taken aboard, then steams at "
            "12 kn for Sabang (Pulau Weh) and anchors inside the disembarkation zone. The abandoned boat drifts on "
            "with its transponder still on. A tanker passes far to the north."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "drifting",
                boat_mmsi,
                "slow, small, unidentified, steady drift, risk zone, far from shore: score 0.6 held for 30 min",
            ),
            Expect(
                "rendezvous",
                ship_mmsi,
                "within 180 m of the boat, both < 2 kn, for 50 min at sea",
                other_mmsi=boat_mmsi,
            ),
            Expect(
                "disembarkation",
                ship_mmsi,
                "alongside the open drifting alert (< 1 nm, <= 3 kn) for more than "
                "10 min, then under way with a course line into the Sabang zone for 3 fixes; carries its ETA",
                zone="sabang-weh",
            ),
        ],
        checks=[
            in_zones(boat_mmsi, {"andaman-sea-corridor"}),
            offshore(boat_mmsi, 20),
            heading_for(ship_mmsi, "sabang-weh", leave_at + 2 * MIN, anchored_at),
            reaches(ship_mmsi, "sabang-weh"),
            in_zones(ship_mmsi, {"andaman-sea-corridor"}, alongside_from, leave_at),
        ],
        note=(
            "The boat keeps transmitting after the rescue, so it does not go dark. It is first heard inside the "
            "corridor, so no zone entry: where a transponder is switched on is not a crossing."
        ),
    )


def reaches(mmsi: int, zone_id: str) -> Check:
    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        if not any(zone_id in {z.id for z in world.zones.at(f.lat, f.lon)} for f in fixes[mmsi]):
            raise ScenarioError(f"{mmsi} never reaches {zone_id}")

    return check


def within(mmsi: int, allowed: set[str]) -> Check:
    """Every fix of mmsi is in risk zones among allowed (or none), never in a port."""

    def check(world: World, fixes: dict[int, list[Fix]]) -> None:
        for f in fixes[mmsi]:
            kinds = world.kinds(f.lat, f.lon)
            if not kinds.get("risk", set()) <= allowed or "port" in kinds:
                raise ScenarioError(f"{mmsi} at t={f.t} ({f.lat}, {f.lon}) is in {kinds}")

    return check


class Lane:
    """A polyline with distances along it, and copies of it offset to one side (miter joins)."""

    def __init__(self, waypoints: Sequence[LatLon]) -> None:
        self.points = list(waypoints)

    def offset(self, metres: float) -> list[LatLon]:
        """The lane shifted metres to the right of its direction (negative: to the left)."""
        pts = self.points
        out: list[LatLon] = []
        for i, p in enumerate(pts):
            before = bearing_deg(*pts[i - 1], *p) if i > 0 else None
            after = bearing_deg(*p, *pts[i + 1]) if i + 1 < len(pts) else None
            if before is None:
                assert after is not None
                normal, scale = after + 90, 1.0
            elif after is None:
                normal, scale = before + 90, 1.0
            else:
                turn = ((after - before + 540) % 360) - 180
                normal = before + turn / 2 + 90
                scale = 1 / math.cos(math.radians(turn / 2))
            out.append(destination(*p, normal, metres * scale))
        return out


def _cut(points: Sequence[LatLon], s_m: float) -> tuple[LatLon, list[LatLon]]:
    """The point s_m along a polyline, and the waypoints after it."""
    for i in range(1, len(points)):
        seg = distance_m(*points[i - 1], *points[i])
        if s_m <= seg:
            return destination(*points[i - 1], bearing_deg(*points[i - 1], *points[i]), s_m), list(points[i:])
        s_m -= seg
    return points[-1], []


def _length_m(points: Sequence[LatLon]) -> float:
    return sum(distance_m(*points[i - 1], *points[i]) for i in range(1, len(points)))


def malacca_normal(rng: random.Random, world: World) -> Scenario:
    end = 3 * HOUR
    rx = "rx-malacca"
    lane = Lane(
        [
            (1.75, 102.65),  # off Batu Pahat
            (2.10, 102.00),  # off Melaka
            (2.50, 101.30),  # off Port Dickson
            (2.90, 100.90),  # One Fathom Bank
            (3.20, 100.45),
            (3.70, 99.70),
            (4.60, 98.80),
            (5.40, 98.10),  # north-west end, towards the Andaman Sea
        ]
    )
    flags = [533, 533, 533, 563, 564, 565, 566, 525, 525, 567, 477, 636, 538, 351, 370, 419, 503, 413]
    first = ["BUNGA", "ORIENT", "PACIFIC", "EVER", "KOTA", "MAERSK", "GLOBAL", "SINAR", "NEW", "GOLDEN", "SEA"]
    second = ["HARMONY", "LAUREL", "PEARL", "GRACE", "JAYA", "VENTURE", "SPIRIT", "DAWN", "PRIDE", "ACE", "STAR"]
    types = [
        (CARGO, 100, 200),
        (CONTAINER, 180, 330),
        (72, 160, 230),
        (TANKER, 120, 250),
        (81, 180, 330),
        (84, 250, 300),
        (PASSENGER, 100, 200),
        (69, 100, 160),
    ]
    dests = {
        "NW": ["COLOMBO", "CHENNAI", "JEDDAH", "ROTTERDAM", "KOLKATA", "YANGON"],
        "SE": ["SINGAPORE", "HONG KONG", "SHANGHAI", "BUSAN", "PORT KLANG", "TANJUNG PELEPAS"],
    }
    vessels: list[Vessel] = []
    used: set[int] = set()
    for i in range(36):
        heading_nw = i % 2 == 0
        speed = round(rng.uniform(10.0, 18.0), 1)
        travel = speed * KN_TO_MS * end + 2 * METRES_PER_NM
        side = rng.uniform(0.6, 1.4) * METRES_PER_NM
        path = lane.offset(side) if heading_nw else list(reversed(lane.offset(-side)))
        s0 = rng.uniform(0, _length_m(path) - travel)
        start, rest = _cut(path, s0)
        ship_type, lo, hi = rng.choice(types)
        ship_type += rng.randrange(0, 4) if ship_type in (CARGO, TANKER) else 0
        mid = rng.choice(flags)
        mmsi = mid * 1_000_000 + rng.randrange(100_000, 999_999)
        while mmsi in used:
            mmsi += 1
        used.add(mmsi)
        name = f"{rng.choice(first)} {rng.choice(second)}" + (f" {rng.randrange(2, 20)}" if rng.random() < 0.4 else "")
        call = f"{rng.choice(['9M', '9V', 'PK', 'HS', 'VR', 'D5', 'V7', '3F'])}{rng.randrange(1000, 9999)}"
        direction = "NW" if heading_nw else "SE"
        v, plan = merchant(
            rng, mmsi, rx, start, name, ship_type, rng.randrange(lo, hi), rng.choice(dests[direction]), call
        )
        plan.route(rest, speed)
        v.role = f"{v.role}, {direction}-bound at {speed} kn"
        vessels.append(v)
    allowed = {"strait-of-malacca", "aceh-coastal-waters", "andaman-sea-corridor"}
    return Scenario(
        name="malacca_normal",
        title="Normal traffic through the Strait of Malacca",
        description=(
            "Three hours of ordinary traffic: 36 merchant ships (cargo, container, bulk, tankers, LNG carriers, "
            "passenger ships and ferries; 100-330 m; class A with message 5 every 6 minutes) at 10-18 kn along "
            "the shipping lane between Batu Pahat and the north-west end of the strait, both ways, each keeping "
            "to its side of the lane."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[],
        checks=[within(v.mmsi, allowed) for v in vessels],
        note="No alert at all: identified merchant ships under way are routine.",
    )


def port_anchorage(rng: random.Random, world: World) -> Scenario:
    end = 4 * HOUR
    vessels: list[Vessel] = []
    ships = [
        ("rx-belawan", 525006612, (3.800, 98.725), "TANTO RAYA", CONTAINER, 152, "BELAWAN", "PNTR", AT_ANCHOR),
        ("rx-belawan", 525004418, (3.805, 98.745), "GAS ARJUNA", 84, 118, "BELAWAN", "PMGA", AT_ANCHOR),
        ("rx-belawan", 563118830, (3.812, 98.733), "STRAITS VENTURE", TANKER, 183, "BELAWAN", "9V7741", AT_ANCHOR),
        ("rx-belawan", 533130562, (3.793, 98.755), "NAUTICA MUAR", CARGO, 104, "BELAWAN", "9MNM4", AT_ANCHOR),
        ("rx-penang", 533092418, (5.371, 100.344), "KOTA MEWAH", CONTAINER, 171, "PENANG", "9MKM8", AT_ANCHOR),
        ("rx-penang", 563071514, (5.382, 100.339), "ASIAN GLORY", TANKER, 144, "PENANG", "9V5512", AT_ANCHOR),
        ("rx-penang", 533004411, (5.377, 100.350), "LANGKAWI EXPRESS", PASSENGER, 42, "PENANG", "9MLE2", MOORED),
        ("rx-klang", 533180221, (3.015, 101.352), "HARBOUR PIONEER", CONTAINER, 210, "PORT KLANG", "9MHP1", MOORED),
        ("rx-klang", 566201347, (3.035, 101.349), "SILVER CREST", CARGO, 126, "PORT KLANG", "9V2207", AT_ANCHOR),
    ]
    for rx, mmsi, start, name, ship_type, length, dest, call, status in ships:
        v, plan = merchant(rng, mmsi, rx, start, name, ship_type, length, dest, call)
        v.status = ((0, status),)
        if status == MOORED:
            plan.hold(end, wander_m=2, period_s=900)
        else:
            plan.swing(end, rng.uniform(50, 90))
        v.role += ", moored" if status == MOORED else ", at anchor"
        vessels.append(v)
    craft = [
        ("rx-belawan", 525301177, (3.790, 98.735), Static("KM CAHAYA BARU", FISHING, 16, 5, "YDF8812")),
        ("rx-belawan", 525301532, (3.804, 98.758), Static("KM SRI REZEKI", FISHING, 12, 4, "YDF3391")),
        ("rx-belawan", 525302004, (3.786, 98.748), None),
        ("rx-penang", 533301288, (5.365, 100.350), Static("NELAYAN 27", FISHING, 13, 4, "9MNL7")),
        ("rx-penang", 533302190, (5.388, 100.334), None),
        ("rx-klang", 533303415, (3.050, 101.350), None),
    ]
    for rx, mmsi, start, static in craft:
        plan = Plan(0, *start, rng).hold(end, wander_m=rng.uniform(40, 80), period_s=1500)
        role = "small craft, class B, " + (f"fishing, {static.length_m} m" if static else "no static data") + ", idling"
        vessels.append(Vessel(mmsi, "B", plan, rx, role, static=static, noise_m=4.0))
    return Scenario(
        name="port_anchorage",
        title="Ships at anchor and small craft idling in port",
        description=(
            "Four hours in three ports, each with its own receiver: Belawan, Penang and Port Klang. Merchant ships "
            "lie at anchor (nav status 1, swinging with the tide at 0-0.3 kn, reporting every 3 minutes) or moored "
            "(status 5); fishing boats and small craft without static data (class B) idle at 0-1 kn among them."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[],
        checks=[in_port(v.mmsi) for v in vessels],
        note="No alert at all: slow movement, anchoring and small craft are normal in a port zone.",
    )


def _boundary_path(world: World, zone_id: str, near: LatLon, length_m: float) -> list[LatLon]:
    """Waypoints along the zone's outer boundary from the vertex nearest `near`, walking clockwise."""
    geometry = world.zones.by_id[zone_id].geometry
    polygon = max(geometry.geoms, key=lambda g: g.area) if hasattr(geometry, "geoms") else geometry
    ring = [(lat, lon) for lon, lat in polygon.exterior.coords[:-1]]
    i = min(range(len(ring)), key=lambda k: distance_m(*near, *ring[k]))
    path = [ring[i]]
    while _length_m(path) < length_m:
        i = (i - 1) % len(ring)  # RFC 7946 rings run counter-clockwise: backwards is clockwise
        path.append(ring[i])
    return path


def boundary_jitter(rng: random.Random, world: World) -> Scenario:
    end = 90 * MIN
    rx = "rx-timor"
    craft = 525204481
    zone = "timor-sea-ashmore-reef"
    speed = 4.5
    path = _boundary_path(world, zone, (-11.45, 123.95), speed * KN_TO_MS * end + METRES_PER_NM)
    plan = Plan(0, *path[0], rng).route(path[1:], speed)
    jitter: list[float] = []
    sign = rng.choice((-1.0, 1.0))
    while len(jitter) < end // 30 + 10:
        run = rng.choices((1, 2, 3, 4, 5), weights=(3, 3, 2, 2, 1))[0]
        jitter.extend(sign * rng.uniform(100, 300) for _ in range(run))
        sign = -sign
    vessels = [
        Vessel(
            craft,
            "B",
            plan,
            rx,
            "small craft, class B, no static data, weaving along the zone boundary",
            noise_m=4.0,
            jitter_m=tuple(jitter),
        )
    ]
    v, mplan = merchant(rng, 503000457, rx, (-11.20, 123.30), "TIMOR TRADER", CARGO, 118, "DARWIN", "VJTT")
    mplan.sail(120, 12.5, end)
    vessels.append(v)
    return Scenario(
        name="boundary_jitter",
        title="A small craft weaving along a risk-zone boundary",
        description=(
            "A small craft (class B, no static data) runs south at 4.5 kn along the eastern edge of the Timor Sea "
            "and Ashmore Reef zone for 90 minutes; its positions swing 100-300 m either side of the line in runs "
            "of one to five reports, so they alternate in and out. A merchant ship passes."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "zone_entry",
                craft,
                "one situation: 3 consecutive fixes inside enter it, re-entries within "
                "rearm_s (1 h) of leaving stay quiet",
                zone=zone,
            ),
        ],
        checks=[weaves(craft, zone), within(craft, {zone}), offshore(craft, 12)],
    )


# ------------------------------------------------------------------- ordinary traffic of the region
def mooring(world: World, ashore: LatLon, bearing: float, off_m: float = 700.0) -> LatLon:
    """Walk from a point ashore along bearing to the first spot off_m from the coast: where a boat moors."""
    for step in range(1, 2000):
        p = destination(*ashore, bearing, step * 50.0)
        if not world.shore.is_land(*p) and world.shore(*p) >= off_m:
            return p
    raise ScenarioError(f"no sea within 100 km of {ashore} on bearing {bearing}")


def open_water(world: World, a: LatLon, b: LatLon, step_m: float = 150.0) -> bool:
    """Whether the straight line from a to b stays at sea (checked every step_m)."""
    n = max(1, int(distance_m(*a, *b) / step_m))
    course = bearing_deg(*a, *b)
    total = distance_m(*a, *b)
    return not any(world.shore.is_land(*destination(*a, course, total * i / n)) for i in range(n + 1))


def sea_route(world: World, a: LatLon, b: LatLon, cell_deg: float = 0.01, margin_deg: float = 0.15) -> list[LatLon]:
    """Waypoints from a to b (b included) that keep to open water: a shortest path over a grid, then shortened."""
    if open_water(world, a, b):
        return [b]
    south, north = min(a[0], b[0]) - margin_deg, max(a[0], b[0]) + margin_deg
    west, east = min(a[1], b[1]) - margin_deg, max(a[1], b[1]) + margin_deg
    rows, cols = round((north - south) / cell_deg), round((east - west) / cell_deg)

    def point(rc: tuple[int, int]) -> LatLon:
        return south + rc[0] * cell_deg, west + rc[1] * cell_deg

    def nearest(p: LatLon) -> tuple[int, int]:
        return round((p[0] - south) / cell_deg), round((p[1] - west) / cell_deg)

    start, goal = nearest(a), nearest(b)
    best = {start: 0.0}
    came: dict[tuple[int, int], tuple[int, int]] = {}
    queue = [(0.0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best[node]:
            continue
        for dr, dc in itertools.product((-1, 0, 1), repeat=2):
            nxt = (node[0] + dr, node[1] + dc)
            if not (0 <= nxt[0] <= rows and 0 <= nxt[1] <= cols) or nxt == node:
                continue
            if not open_water(world, point(node), point(nxt), 100.0):
                continue
            c = cost + distance_m(*point(node), *point(nxt))
            if c < best.get(nxt, math.inf):
                best[nxt] = c
                came[nxt] = node
                heapq.heappush(queue, (c, nxt))
    if goal not in came:
        raise ScenarioError(f"no sea route from {a} to {b}")
    path = [goal]
    while path[-1] != start:
        path.append(came[path[-1]])
    waypoints = [a, *(point(rc) for rc in reversed(path[1:-1])), b]
    short = [waypoints[0]]  # drop every waypoint the line from the last kept one to the next can skip
    i = 0
    while i < len(waypoints) - 1:
        j = len(waypoints) - 1
        while j > i + 1 and not open_water(world, waypoints[i], waypoints[j]):
            j -= 1
        short.append(waypoints[j])
        i = j
    return short[1:]


def apart(spot: LatLon, taken: list[LatLon], min_m: float) -> bool:
    return all(distance_m(*spot, *other) >= min_m for other in taken)


def fishing_ground(rng: random.Random, world: World) -> Scenario:
    end = 5 * HOUR + 30 * MIN
    rx = "rx-andaman"
    centre = (7.55, 97.55)  # open water west of Phuket, in the Andaman Sea corridor
    vessels: list[Vessel] = []
    names = ["SOR PRASERT", "CHOKE CHAI", "KM MINA JAYA", "SRI ANDAMAN", "NAVA 7", "KM RAHMAT", "PHET SAMUT",
             "SINSAMUT", "KM BAROKAH", "TALAY THONG", "KM HIDAYAH", "RUNG ARUN"]  # fmt: skip
    statuses = [UNDER_WAY, FISHING_STATUS, 15] * 4
    for i in range(12):
        mmsi = (567 if i % 2 else 525) * 1_000_000 + 410_000 + i * 137
        start = destination(*centre, rng.uniform(0, 360), rng.uniform(1_000, 9_000))
        plan = Plan(0, *start, rng)
        while plan.t < end:
            trawl_s = rng.uniform(60, 100) * MIN
            plan.sail(rng.uniform(0, 360), rng.uniform(3.3, 3.8), trawl_s)  # trawling: slow, but above 3 kn
            for _ in range(2):  # a turn and a second leg back over the ground
                plan.sail(rng.uniform(0, 360), rng.uniform(3.3, 3.8), rng.uniform(20, 40) * MIN)
            haul = rng.uniform(50, 80) * MIN
            if rng.random() < 0.5:
                plan.hold(haul, wander_m=40, period_s=1200)  # hauling the net, stopped
            else:
                plan.drift(rng.uniform(0, 360), rng.uniform(0.4, 0.8), rng.uniform(90, 150) * MIN)  # a drift-net soak
        cls: AisClass = "A" if i < 8 else "B"
        length = rng.randrange(14, 30) if cls == "A" else rng.randrange(10, 15)
        static = Static(names[i], FISHING, length, max(4, length // 4), f"HS{rng.randrange(1000, 9999)}")
        delayed = i % 2 == 1  # half send their static data only after their first positions
        role = f"fishing vessel, class {cls}, {length} m" + (", nav status " + str(statuses[i]) if cls == "A" else "")
        role += ", static data late" if delayed else ""
        vessels.append(
            Vessel(
                mmsi,
                cls,
                plan,
                rx,
                role,
                static=static,
                status=((0.0, statuses[i]),),
                static_delay_s=rng.uniform(8, 25) * MIN if delayed else 0.0,
                noise_m=4.0,
            )
        )
    # two pair trawlers that haul side by side, 200 m apart, for an hour
    lead_mmsi, mate_mmsi = 567410901, 567410902
    lead = Plan(0, *destination(*centre, 200, 6_000), rng).sail(110, 3.5, 90 * MIN)
    lead.hold(75 * MIN, wander_m=30, period_s=1200).sail(290, 3.5, end - lead.t)
    mate = Plan(0, *destination(*lead.at(0), 20, 250), rng).follow(lead, 20, 250, 90 * MIN, wander_m=20)
    mate.follow(lead, 20, 200, 75 * MIN, wander_m=15).follow(lead, 20, 250, end - mate.t, wander_m=20)
    for mmsi, plan, name, delay in [
        (lead_mmsi, lead, "SOR THONGCHAI 1", 0.0),
        (mate_mmsi, mate, "SOR THONGCHAI 2", 17 * MIN),
    ]:
        static = Static(name, FISHING, 24, 6, f"HS{mmsi % 10000}")
        vessels.append(
            Vessel(mmsi, "A", plan, rx, "pair trawler, class A, 24 m, nav status 7", static=static,
                   status=((0.0, FISHING_STATUS),), static_delay_s=delay, noise_m=4.0)
        )  # fmt: skip
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (477220913, (7.20, 97.20), 20, 13.0, 0, "ORIENT DAWN", CONTAINER, 220, "YANGON", "VRQJ8"),
            (533180412, (8.10, 97.95), 200, 12.0, 0, "MUTIARA TIMUR", CARGO, 140, "PENANG", "9MMT4"),
        ],
    )
    fishers = [v.mmsi for v in vessels if v.static is not None and v.static.ship_type == FISHING]
    return Scenario(
        name="fishing_ground",
        title="A day on a fishing ground off Phuket",
        description=(
            "Fourteen fishing vessels (ship type 30; ten class A reporting nav status 0, 7 or 15, four class B) "
            "work a ground in the Andaman Sea corridor west of Phuket for 5.5 hours: trawling at 3.3-3.8 kn in "
            "legs and turns, hauling stopped for 50-80 minutes or soaking drift nets at 0.4-0.8 kn for up to "
            "2.5 hours. Half of them send their static data only 8-25 minutes after their first positions. Two "
            "pair trawlers haul 200 m apart for 75 minutes. Two merchant ships pass."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[],
        checks=[in_zones(m, {"andaman-sea-corridor"}) for m in fishers] + [offshore(m, 20) for m in fishers],
        note=(
            "No alert at all: fishing boats stay slow for hours by trade. Loitering exempts fishing vessels "
            "(judged again when the late static data arrives), drifting waits working_min_duration_s (6 h) for "
            "a fishing vessel, two fishing vessels side by side are fishing in company, not a rendezvous, and "
            "boats first heard inside the corridor have not entered it."
        ),
    )


def waiting_ships(rng: random.Random, world: World) -> Scenario:
    end = 6 * HOUR
    rx = "rx-malacca"
    spots = [(3.40, 100.25), (3.45, 100.50), (4.40, 99.65), (4.40, 99.90), (4.80, 99.65), (4.80, 99.90), (5.20, 99.62)]
    vessels: list[Vessel] = []
    taken: list[LatLon] = []
    flags = [533, 563, 564, 565, 566, 477, 636, 538, 351, 370, 413, 419]
    for i in range(30):
        base = spots[i % len(spots)]
        while True:
            start = destination(*base, rng.uniform(0, 360), rng.uniform(300, 5_000))
            if apart(start, taken, 400.0):
                break
        taken.append(start)
        ship_type = rng.choice([CARGO, 72, 79, TANKER, 81, 84])
        length = rng.randrange(150, 300)
        name = (
            f"{rng.choice(['OCEAN', 'PACIFIC', 'GLOBAL', 'ORIENT', 'EASTERN'])} {rng.choice(['GRACE', 'STAR', 'HOPE'])}"
        )
        mmsi = rng.choice(flags) * 1_000_000 + 300_000 + i * 1_013
        v, plan = merchant(rng, mmsi, rx, start, f"{name} {i + 1}", ship_type, length, "FOR ORDERS", f"V{mmsi % 9999}")
        mode = i % 3
        if mode == 0:  # at anchor, 30 nm out, swinging with the tide
            v.status = ((0, AT_ANCHOR),)
            plan.swing(end, rng.uniform(80, 150))
            v.role += ", at anchor, waiting for orders"
        else:  # drifting with engines stopped, bow across the set, status 0 (under way) or 15 (undefined)
            set_deg = rng.uniform(100, 160)
            v.status = ((0, UNDER_WAY if mode == 1 else 15),)
            plan.drift(set_deg, rng.uniform(0.3, 0.9), end)
            across = set_deg + rng.uniform(70, 110)  # the bow lies across the set
            v.heading = lambda t, cog, h=across: h
            v.role += f", drifting, nav status {UNDER_WAY if mode == 1 else 15}, waiting for orders"
        vessels.append(v)
    # two tankers that anchored 300 m apart: near each other for hours, and no transfer
    a, aplan = merchant(rng, 563302201, rx, (4.62, 99.75), "STRAITS TRADER", TANKER, 183, "FOR ORDERS", "9V3022")
    b, bplan = merchant(rng, 563302202, rx, destination(4.62, 99.75, 90, 300), "STRAITS DAWN", TANKER, 176,
                        "FOR ORDERS", "9V3023")  # fmt: skip
    for ship, plan in ((a, aplan), (b, bplan)):
        ship.status = ((0, AT_ANCHOR),)
        plan.swing(end, 40)
        ship.role += ", at anchor 300 m from its sister"
    vessels += [a, b]
    # and one of the anchored ships receives a small unidentified boat alongside for 50 minutes
    host = vessels[0]
    boat = 525777310
    meet_at = 2 * HOUR
    spot = host.plan.at(meet_at)
    bplan2 = Plan(meet_at - 45 * MIN, *destination(*spot, 250, 5.5 * METRES_PER_NM), rng)
    bplan2.meet(host.plan, 250, 150, 7.0).follow(host.plan, 250, 150, 50 * MIN, wander_m=15)
    bplan2.sail(250, 7.0, end - bplan2.t)
    vessels.append(
        Vessel(boat, "B", bplan2, rx, "small boat, class B, no static data, alongside an anchored ship for 50 min",
               on=meet_at - 45 * MIN, noise_m=4.0)
    )  # fmt: skip
    allowed = {"strait-of-malacca", "andaman-sea-corridor", "aceh-coastal-waters"}
    return Scenario(
        name="waiting_ships",
        title="Merchant ships waiting for orders in the Strait of Malacca",
        description=(
            "Six hours of 32 merchant ships (cargo, bulk, tankers, LNG carriers; 150-300 m, IMO numbers, "
            "static data every 6 minutes) waiting for orders 25-40 nm offshore in the Strait of Malacca and its "
            "northern approaches: a third at anchor, the rest drifting at 0.3-0.9 kn with engines stopped and the "
            "bow across the set, reporting nav status 0 or 15 (undefined). Two tankers lie at anchor 300 m apart. "
            "After two hours a small boat without static data comes out to one of the anchored ships, lies 150 m "
            "off her for 50 minutes and leaves."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "rendezvous",
                host.mmsi,
                "an unidentified boat within 150 m of an anchored ship, both < 2 kn, for 50 min (>= 30 min), 25 nm "
                "and more from land (beyond the 12 nm anchorage rule)",
                other_mmsi=boat,
            ),
            Expect(
                "loitering",
                host.mmsi,
                "an identified ship waiting is routine until something comes alongside: then an hour and more "
                "within 4 km at < 2 kn in a risk zone, at anchor beyond 12 nm, is loitering",
            ),
        ],
        checks=[within(v.mmsi, allowed) for v in vessels] + [offshore(v.mmsi, 20) for v in vessels[:30]],
        note=(
            "Nothing else: large identified merchant ships waiting at anchor or drifting are not craft of "
            "interest for loitering, drifting, dark or rendezvous; two of them side by side are no transfer."
        ),
    )


def local_traffic(rng: random.Random, world: World) -> Scenario:
    end = 12 * HOUR
    vessels: list[Vessel] = []
    homes: list[LatLon] = []
    spots: list[LatLon] = []
    coasts = [
        ("rx-aceh", [(5.05, 95.95 + k * 0.045) for k in range(22)], 0.0),  # the north coast of Aceh, sea to the north
        ("rx-kedah", [(5.68 + k * 0.02, 100.50) for k in range(18)], 270.0),  # the Kedah coast, sea to the west
    ]
    k = 0
    for rx, ashore_points, seaward in coasts:
        for ashore in ashore_points:
            home = mooring(world, ashore, seaward, off_m=rng.uniform(600, 1_400))
            if not apart(home, homes, 1_200.0):
                continue
            homes.append(home)
            identified = k % 2 == 0
            mmsi = (525 if rx == "rx-aceh" else 533) * 1_000_000 + 600_000 + k * 211
            k += 1
            for _ in range(50):
                bearing = seaward + rng.uniform(-35, 35)
                spot = destination(*home, bearing, rng.uniform(5, 10) * METRES_PER_NM)
                if apart(spot, spots, 2_500.0) and world.shore(*spot) > 6_000 and open_water(world, home, spot):
                    break
            else:
                raise ScenarioError(f"no fishing spot for {mmsi}")
            spots.append(spot)
            leave = rng.uniform(3.5, 5) * HOUR  # moored overnight, out at dawn
            plan = Plan(0, *home, rng).hold(leave, wander_m=8, period_s=900)
            plan.sail_to(*spot, rng.uniform(6, 8))
            fish = min(rng.uniform(2, 4) * HOUR, end - plan.t - 2 * HOUR)
            plan.circle(fish, radius_m=rng.uniform(150, 350), speed_kn=1.0, swing_kn=0.4, wander_m=300)
            speed = rng.uniform(6, 8)
            plan.sail_to(*spot, speed).sail_to(*home, speed)  # back by the way it came
            home_at = plan.t
            plan.hold(end, wander_m=8, period_s=900)
            switch_off = k % 3 == 0  # a third switch off once moored again
            length = rng.randrange(8, 15)
            static = (
                Static(f"{'KM' if rx == 'rx-aceh' else 'PKFB'} {rng.choice(['REZEKI', 'BAHAGIA', 'NELAYAN'])} {k}",
                       FISHING, length, 3, "")
                if identified
                else None
            )  # fmt: skip
            role = "day-trip boat, class B, " + (f"fishing, {length} m" if identified else "no static data")
            role += ", switches off at home" if switch_off else ""
            vessels.append(
                Vessel(mmsi, "B", plan, rx, role, off=home_at + 10 * MIN if switch_off else math.inf, static=static,
                       noise_m=4.0)
            )  # fmt: skip
            if len(vessels) == 40:
                break
        if len(vessels) == 40:
            break
    if len(vessels) < 40:
        raise ScenarioError(f"only {len(vessels)} homes found")
    # and a boat that comes from open sea into the same waters, idles, then goes adrift
    crosser = 506300447
    first_heard = 4 * HOUR
    cplan = Plan(first_heard, 5.98, 96.45, rng).sail_to(5.70, 96.42, 8.0)
    entered = cplan.t
    cplan.circle(90 * MIN, radius_m=80, speed_kn=0.9, swing_kn=0.4, wander_m=120)
    cplan.drift(270, 0.8, end - cplan.t)
    vessels.append(
        Vessel(crosser, "B", cplan, "rx-aceh", "small boat, class B, no static data, from open sea: idles, then adrift",
               on=first_heard, noise_m=4.0)
    )  # fmt: skip
    locals_ = [v.mmsi for v in vessels[:40]]
    return Scenario(
        name="local_traffic",
        title="Day trips from the Aceh and Kedah coasts, and a boat from the open sea",
        description=(
            "Twelve hours of 40 small boats (class B, 8-14 m; half identified as fishing boats by message 24, "
            "half without static data) at their moorings 0.3-0.8 nm off the north coast of Aceh and the Kedah "
            "coast of Malaysia: moored overnight (first heard 3.5-5 hours before they leave), out at dawn at "
            "6-8 kn to 5-10 nm, fishing slowly in circles for 2-4 hours, home again; a third switch off once "
            "moored. Their home waters lie inside risk zones (Aceh coastal "
            "waters, the Strait of Malacca). At dawn a small boat without static data is first heard 36 nm off Aceh, "
            "outside the Aceh coastal waters, crosses into them at 8 kn, idles in circles for 90 minutes, then "
            "drifts west at 0.8 kn."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "zone_entry",
                crosser,
                "an unidentified boat from open sea crosses into the Aceh coastal waters (it was already in the "
                "corridor, where it was first heard: one entry)",
                zone="aceh-coastal-waters",
            ),
            Expect(
                "loitering",
                crosser,
                "not a local trip (first heard 36 nm out, no home): circling < 2 kn within 4 km for more than 1 h "
                "in a risk zone",
            ),
            Expect(
                "drifting",
                crosser,
                "slow 0.15 + small 0.1 + unidentified 0.1 + steady drift 0.1 + risk zone 0.1 + far from shore "
                "0.05 = 0.6, held 30 min",
                max_updates=5,
                updates_why="about 3.5 nm drifted after it opens (one update a nautical mile), one change of factors",
            ),
        ],
        checks=[
            in_zones(crosser, {"andaman-sea-corridor"}, 0, first_heard + 5 * MIN),
            in_zones(crosser, {"andaman-sea-corridor", "aceh-coastal-waters"}, entered, end),
            offshore(crosser, 12, entered, end),
        ]
        + [within(m, {"andaman-sea-corridor", "aceh-coastal-waters", "strait-of-malacca"}) for m in locals_],
        note=(
            "The day-trip boats raise nothing: a night moored within 3 nm of land makes that mooring a boat's "
            "home, and a trip from home is local traffic, not a crossing: no zone entry (they were first heard "
            "inside anyway), no loitering, drifting would wait working_min_duration_s (6 h), and two small "
            "boats moored by the shore are no rendezvous. Coming home and switching off is not going dark. The "
            "boat from the open sea raises all three alerts. Fishing spots are 2.5 km apart, so no two boats lie "
            "together at sea for half an hour."
        ),
    )


def pleasure_craft(rng: random.Random, world: World) -> Scenario:
    end = 8 * HOUR
    vessels: list[Vessel] = []
    names = ["SEA BREEZE", "MOANA", "WIND DANCER", "ALBATROSS II", "SAWADEE", "BLUE LAGOON", "ODYSSEA",
             "KINNARI", "SALT WHISTLE", "LIME LIGHT"]  # fmt: skip
    grounds = [
        ("rx-phuket", (7.80, 98.15), mooring(world, (7.895, 98.305), 270, 400)),  # home: an anchorage off Patong
        ("rx-langkawi", (6.25, 99.55), mooring(world, (6.36, 99.69), 250, 400)),  # home: Telaga, in a landing zone
    ]
    for i in range(10):
        rx, offshore_spot, marina = grounds[i % 2]
        mmsi = (567 if rx == "rx-phuket" else 533) * 1_000_000 + 770_000 + i * 97
        from_marina = i < 6  # the rest are already at sea when first heard
        start = marina if from_marina else destination(*offshore_spot, rng.uniform(0, 360), rng.uniform(2_000, 6_000))
        plan = Plan(0, *start, rng)
        if from_marina:
            plan.hold(rng.uniform(10, 60) * MIN, wander_m=5, period_s=600)
            out = destination(*offshore_spot, rng.uniform(0, 360), 3_000)
            plan.route(sea_route(world, start, out), rng.uniform(4, 6))
        for _ in range(2):
            course = rng.uniform(0, 360)
            while not open_water(world, (plan.lat, plan.lon), destination(plan.lat, plan.lon, course, 15_000)):
                course = (course + 37) % 360
            plan.sail(course, rng.uniform(3, 6), rng.uniform(40, 80) * MIN)  # sailing
        plan.drift(rng.uniform(0, 360), rng.uniform(0.3, 0.7), rng.uniform(60, 120) * MIN)  # becalmed
        plan.route(sea_route(world, (plan.lat, plan.lon), marina), rng.uniform(4, 6))  # into the marina
        plan.hold(end, wander_m=5, period_s=600)
        leeway = rng.choice((-1, 1)) * rng.uniform(50, 70)
        length = rng.randrange(12, 16)
        vessels.append(
            Vessel(
                mmsi,
                "B",
                plan,
                rx,
                f"sailing yacht, class B, {length} m, ship type 37, "
                + ("from the marina" if from_marina else "at sea"),
                static=Static(names[i], 37, length, 4, f"{'HS' if rx == 'rx-phuket' else '9M'}Y{i}"),
                heading=lambda t, cog, off=leeway: cog + off,  # course and heading apart, as under sail
                noise_m=4.0,
            )
        )
    # two ferries on their runs and an offshore supply vessel
    ferry, fplan = merchant(rng, 533018850, "rx-langkawi", (6.20, 99.62), "LANGKAWI EXPRESS 3", 60, 38, "KUAH", "9MLX3")
    while fplan.t < end:
        fplan.route([(6.05, 99.95), (6.20, 99.62)], 18.0)
    ferry2, f2plan = merchant(rng, 567018851, "rx-phuket", (7.75, 98.25), "PHI PHI CRUISER", 60, 42, "PHI PHI", "HSPP")
    while f2plan.t < end:
        f2plan.route([(7.66, 98.45), (7.75, 98.25)], 15.0)
    osv, oplan = merchant(rng, 567018852, "rx-phuket", (7.60, 98.05), "ANDAMAN SUPPORTER", 90, 62, "PHUKET", "HSAS")
    oplan.sail(30, 10.0, 40 * MIN).hold(3 * HOUR, wander_m=50, period_s=1800).sail(210, 10.0, end - oplan.t)
    vessels += [ferry, ferry2, osv]
    yachts = [v.mmsi for v in vessels[:10]]
    return Scenario(
        name="pleasure_craft",
        title="Yachts sailing and becalmed off Phuket and Langkawi",
        description=(
            "Eight hours of ten cruising yachts (class B with heading, ship type 37, named, 12-15 m): six leave "
            "their moorings (in Patong Bay off Phuket, at the Telaga marina on Langkawi inside a landing zone), "
            "four are first heard at sea; they sail at 3-6 kn with course and heading 50-70 degrees apart, lie "
            "becalmed for 1-2 hours drifting at 0.3-0.7 kn, and sail back to their moorings. Two ferries run their "
            "routes and an "
            "offshore supply vessel works on one spot for three hours."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[],
        checks=[reaches(m, "langkawi") for m in yachts if m // 1_000_000 == 533],
        note=(
            "No alert at all: identified pleasure craft, passenger ships and offshore supply vessels are not "
            "craft of interest for zone entry, loitering, drifting or dark, and nothing links them to a rescue, "
            "so sailing into a marina in a landing zone is no disembarkation."
        ),
    )


def fishing_adrift(rng: random.Random, world: World) -> Scenario:
    end = 12 * HOUR
    rx = "rx-bengal"
    fisher = 405112719
    set_deg = 200.0
    plan = Plan(0, 16.45, 91.25, rng).drift(set_deg, 0.5, end, surge=0.4)
    vessels = [
        Vessel(
            fisher,
            "A",
            plan,
            rx,
            "fishing vessel, class A, 20 m, ship type 30, nav status 0, engine dead, bow across the set",
            static=Static("FV SONAR BANGLA", FISHING, 20, 6, "S2AF7"),
            heading=lambda t, cog: set_deg + 85 + 10 * math.sin(t / 5400.0),
            noise_m=3.0,
        )
    ]
    vessels += passing_ships(
        rng,
        rx,
        end,
        [
            (419000877, (15.60, 90.80), 35, 13.0, 0, "JAG ARNAV", 72, 229, "CHATTOGRAM", "AVTP"),
            (477118320, (17.20, 91.80), 215, 14.0, 4 * HOUR, "GOLDEN VOYAGER", CONTAINER, 260, "COLOMBO", "VRLK2"),
            (563091774, (15.90, 91.90), 320, 12.5, 8 * HOUR, "SEA JEWEL", TANKER, 180, "CHATTOGRAM", "9V5530"),
        ],
    )
    return Scenario(
        name="fishing_adrift",
        title="A fishing vessel adrift far out in the Bay of Bengal",
        description=(
            "A 20 m Bangladeshi fishing vessel (class A, ship type 30, static data, nav status 0 throughout) has "
            "lost its engine more than 140 nm from land in the Bay of Bengal part of the crossing corridor: for "
            "twelve hours it drifts with the current at 0.3-0.7 kn (set 200 degrees), its bow lying across the "
            "set. Three merchant ships pass at a distance."
        ),
        duration_s=end,
        vessels=vessels,
        expected=[
            Expect(
                "drifting",
                fisher,
                "a fishing vessel slow in open water with course and heading apart for more than "
                "working_min_duration_s (6 h): slow 0.15 + course/heading 0.15 + small 0.1 + steady drift 0.1 + "
                "risk zone 0.1 + far from shore 0.05 = 0.65 (the working exemption ends after 6 h)",
                max_updates=5,
                updates_why="about 3 nm drifted in the six hours after it opens, and at most two changes of factors",
            ),
        ],
        checks=[in_zones(fisher, {"andaman-sea-corridor"}), offshore(fisher, 140)],
        note=(
            "Hauling nets lasts hours, not half a day: a fishing vessel is judged adrift only after six hours "
            "with the signs of a drift. No loitering (fishing vessels are exempt) and no zone entry (first "
            "heard inside the corridor)."
        ),
    )


SCENARIOS: list[Callable[[random.Random, World], Scenario]] = [
    beacons_active,
    beacon_test,
    adrift_andaman,
    loitering_craft,
    mothership_transfer,
    dark_timor,
    feed_outage,
    rescue_disembarkation,
    malacca_normal,
    port_anchorage,
    boundary_jitter,
    fishing_ground,
    waiting_ships,
    local_traffic,
    pleasure_craft,
    fishing_adrift,
]


# ------------------------------------------------------------------------------------------------ output
@dataclass(frozen=True, slots=True)
class Built:
    scenario: Scenario
    nmea: str
    expected: str
    lines: int
    messages: int


def tag_block(rx: str, t: int) -> str:
    """NMEA 4.10 tag block with the receiver (s:) and the event time in UNIX seconds (c:)."""
    text = f"s:{rx},c:{START_EPOCH + t}"
    return f"\\{text}*{nmea_checksum(text.encode('ascii')):02X}\\"


def render(make: Callable[[random.Random, World], Scenario], world: World) -> Built:
    """One scenario: its story, checked, as NMEA lines and its expected alerts."""
    rng = random.Random(f"{SEED}:{make.__name__}")
    scn = make(rng, world)
    messages: list[Message] = []
    fixes: dict[int, list[Fix]] = {}
    for vessel in scn.vessels:
        if vessel.mmsi in fixes:
            raise ScenarioError(f"{scn.name}: MMSI {vessel.mmsi} used twice")
        unit = Transponder(vessel, scn.duration_s, random.Random(f"{SEED}:{scn.name}:{vessel.mmsi}"))
        messages.extend(unit.messages())
        fixes[vessel.mmsi] = unit.fixes
    messages = [m for m in messages if m.t < scn.duration_s and not _silenced(scn, m)]
    messages.sort(key=lambda m: m.t)  # stable: same-second messages keep their vessel order
    for vessel in scn.vessels:  # what a receiver in outage did not hear is not part of the story either
        fixes[vessel.mmsi] = [
            f for f in fixes[vessel.mmsi] if f.t < scn.duration_s and not _silenced(scn, Message(f.t, vessel.rx, []))
        ]
    _check_common(scn, world, messages, fixes)
    for check in scn.checks:
        check(world, fixes)
    lines = [tag_block(m.rx, m.t) + sentence for m in messages for sentence in m.sentences]
    head = json.dumps({"scenario": scn.name, "description": scn.description}, ensure_ascii=False)[:-1]
    items = ",\n".join("  " + json.dumps(e.as_dict(), ensure_ascii=False) for e in scn.expected)
    expected = f'{head}, "expected": [\n{items}\n]}}\n' if items else f'{head}, "expected": []}}\n'
    return Built(scn, "\n".join(lines) + "\n", expected, len(lines), len(messages))


def _silenced(scn: Scenario, m: Message) -> bool:
    return any(m.rx == rx and t0 <= m.t < t1 for rx, t0, t1 in scn.outages)


def _check_common(scn: Scenario, world: World, messages: list[Message], fixes: dict[int, list[Fix]]) -> None:
    """What every story promises: positions at sea, and receivers silent only when the story says so."""
    for vessel in scn.vessels:
        for f in fixes[vessel.mmsi]:
            if world.shore.is_land(f.lat, f.lon):
                raise ScenarioError(f"{scn.name}: {vessel.mmsi} at t={f.t} ({f.lat}, {f.lon}) is on land")
    by_rx: dict[str, list[int]] = {}
    for m in messages:
        by_rx.setdefault(m.rx, []).append(m.t)
    for rx, times in by_rx.items():
        if len(times) < 100:
            raise ScenarioError(f"{scn.name}: receiver {rx} hears only {len(times)} messages")
        planned = [(t0, t1) for r, t0, t1 in scn.outages if r == rx]
        for a, b in itertools.pairwise(times):
            if b - a >= 600 and not any(a < t1 and b >= t1 and a >= t0 - 600 for t0, t1 in planned):
                raise ScenarioError(f"{scn.name}: receiver {rx} silent from t={a} to t={b}")


def _duration(seconds: int) -> str:
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def readme(built: Sequence[Built]) -> str:
    rows = []
    sections = []
    for b in built:
        s = b.scenario
        kinds: dict[str, int] = {}
        for e in s.expected:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        expected = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items()) or "none"
        rows.append(f"| `{s.name}` | {_duration(s.duration_s)} | {len(s.vessels)} | {b.lines:,} | {expected} |")
        body = [f"### `{s.name}`: {s.title}", "", s.description, ""]
        body.append("| MMSI | class | role |")
        body.append("|---|---|---|")
        for v in s.vessels:
            body.append(f"| {v.mmsi} | {v.ais_class} | {v.role} |")
        body.append("")
        if s.expected:
            body.append("Expected alerts:")
            body.append("")
            for e in s.expected:
                who = f"{e.mmsi}" + (f" + {e.other_mmsi}" if e.other_mmsi else "") if e.mmsi else "the receiver"
                where = f" in `{e.zone}`" if e.zone else ""
                test = " (test)" if e.test else ""
                body.append(f"- `{e.kind}`{test} for {who}{where}: {e.why}.")
            body.append("")
        if s.note:
            body.append(s.note)
            body.append("")
        sections.append("\n".join(body))
    return (
        "# Scripted scenarios\n\n"
        "Synthetic AIS logs of the situations Seawatch exists for, each with the alerts it must raise. They are\n"
        "**generated**: do not edit them by hand. Change the stories in `scripts/make_scenarios.py` and run\n\n"
        "```sh\n"
        ".venv/bin/python scripts/make_scenarios.py          # rewrite replay_data/scenarios/\n"
        ".venv/bin/python scripts/make_scenarios.py --check  # exit 1 if the files here are stale\n"
        "```\n\n"
        "The output is deterministic (seeded random numbers, fixed start time 2026-03-01T00:00:00Z), and\n"
        "`tests/unit/test_scenarios.py` regenerates the files and compares them byte for byte, replays each log\n"
        "through the real pipeline and scores the alerts against the expected ones (precision and recall per\n"
        "kind). To replay one by hand:\n\n"
        "```sh\n"
        ".venv/bin/seawatch replay replay_data/scenarios/adrift_andaman.nmea -o /tmp/alerts.jsonl\n"
        "```\n\n"
        "## How the logs are made\n\n"
        "Each scenario is a story of vessel motions (courses, drifts, stops, station keeping alongside another\n"
        "vessel) sampled at the ITU-R M.1371-5 reporting intervals: class A every 10 s up to 14 kn, 6 s up to\n"
        "23 kn, 3 min at anchor or moored; class B every 30 s, 3 min below 2 kn; AIS-SART, MOB and EPIRB-AIS\n"
        "beacons a burst of 8 position reports every minute (each report in its own slot, so each is a distinct\n"
        "transmission) and a message 14 text every 4 minutes. Class A ships send message 5 every 6 minutes,\n"
        'class B units with static data message 24 parts A and B every 6 minutes; small craft marked "no static\n'
        'data" send none. Positions carry a few metres of GNSS noise, speeds 0.05 kn and courses 1-25 degrees\n'
        "(more when slow). Every transmission is received, except where a story silences a receiver.\n"
        'Sentences are encoded with pyais (`talker_id="AI"`, `sentence_type="VDM"`,\n'
        "channel A) and every line carries an NMEA 4.10 tag block with the receiver and the event time:\n\n"
        "```\n"
        "\\s:rx-andaman,c:1772323200*hh\\!AIVDM,1,1,,A,...\n"
        "```\n\n"
        "Lines are sorted by time. MMSIs use the region's MIDs (525 Indonesia, 533 Malaysia, 563-566\n"
        "Singapore, 567 Thailand, 405 Bangladesh, 506 Myanmar, 503 Australia, 419 India and a few flags of\n"
        "convenience); beacons are 970xxyyyy (AIS-SART), 972xxyyyy (MOB) and 974xxyyyy (EPIRB-AIS).\n\n"
        "Before writing, the script checks each story against `zones/*.geojson` and the GSHHG coastline mask:\n"
        "every position at sea, the vessels of interest in exactly the zones the story names, ports in port\n"
        "zones, and no receiver silent for 10 minutes unless the story says so.\n\n"
        "## Expected files\n\n"
        "`NAME.expected.json` lists every alert the rules (`alerts/rules.toml`) say the story must raise,\n"
        "written from the story before any replay:\n\n"
        "```json\n"
        '{"scenario": "NAME", "description": "...", "expected": [\n'
        '  {"kind": "distress", "mmsi": 970123456, "test": false, "zone": "andaman-sea-corridor", "why": "..."},\n'
        '  {"kind": "rendezvous", "mmsi": 533000001, "other_mmsi": 533000002, "why": "..."}\n'
        "]}\n"
        "```\n\n"
        "- `kind`: the alert kind; `mmsi`: its vessel (`null` for a feed outage);\n"
        "- `other_mmsi`: the second vessel of a rendezvous (the pair is order-free);\n"
        "- `test`: distress test alerts (default `false`);\n"
        "- `zone`: the zone id the alert must carry (omitted: any zone; always given for `zone_entry` and\n"
        "  `disembarkation`);\n"
        "- `why`: the rule that makes it fire.\n\n"
        "An alert opened by a replay matches an expected item when kind, the set of MMSIs, test and (when given)\n"
        "zone are equal; matching is one-to-one. A scenario with an empty list must raise no alert at all.\n\n"
        "## Scenarios\n\n"
        "| scenario | duration | vessels | lines | expected alerts |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n" + "\n".join(sections)
    )


def build_all(out_dir: Path) -> list[Built]:
    """Render every scenario and write NAME.nmea, NAME.expected.json and README.md into out_dir."""
    world = World()
    built = [render(make, world) for make in SCENARIOS]
    out_dir.mkdir(parents=True, exist_ok=True)
    for b in built:
        (out_dir / f"{b.scenario.name}.nmea").write_text(b.nmea, encoding="ascii", newline="\n")
        (out_dir / f"{b.scenario.name}.expected.json").write_text(b.expected, encoding="utf-8", newline="\n")
    (out_dir / "README.md").write_text(readme(built), encoding="utf-8", newline="\n")
    return built


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory (default: replay_data/scenarios)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are stale")
    args = parser.parse_args(argv)
    if args.check:
        import filecmp
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            built = build_all(Path(tmp))
            names = sorted(p.name for p in Path(tmp).iterdir())
            stale = [
                n
                for n in names
                if not (args.out / n).is_file() or not filecmp.cmp(Path(tmp) / n, args.out / n, shallow=False)
            ]
        if stale:
            print(f"make_scenarios: stale, re-run scripts/make_scenarios.py: {', '.join(stale)}", file=sys.stderr)
            return 1
    else:
        try:
            built = build_all(args.out)
        except ScenarioError as exc:
            print(f"make_scenarios: {exc}", file=sys.stderr)
            return 1
    for b in built:
        s = b.scenario
        print(
            f"{s.name:24} {_duration(s.duration_s):>12} {len(s.vessels):3} vessels {b.lines:7,} lines "
            f"{len(s.expected):2} expected alerts"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
