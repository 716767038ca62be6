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
        """Carried by a current: rate_kn along set_deg, the rate swinging by +-surge, a slight meander across."""
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
    on_land_ok: bool = False  # moored at a quay: its mask cell may be a land cell

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
                    "heading": self._heading_at(fix.cog_deg, sog_true),
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
                    "heading": 511,  # class B sets on small craft seldom have a heading sensor
                    "second": t % 60,
                    "cs": 1,
                    "dsc": 1,
                    "band": 1,
                    "msg22": 1,
                    "radio": 393222,  # "CS" unit, ITDMA-less carrier sense: the usual constant comm state
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
        t = int(v.on) + self.rng.randrange(5, 300)  # the first within five minutes of being heard
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
        from seawatch.watchconfig import load_zones

        return load_zones(ZONES_DIR)

    @cached_property
    def shore(self) -> Any:
        from seawatch.adapters.shore import LandmaskShore

        return LandmaskShore()

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
        for f in [f for f in fixes[mmsi] if t0 <= f.t < t1][::10]:
            nm = world.shore(f.lat, f.lon) / METRES_PER_NM
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

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "mmsi": self.mmsi}
        if self.other_mmsi is not None:
            out["other_mmsi"] = self.other_mmsi
        if self.test is not None:
            out["test"] = self.test
        if self.zone is not None:
            out["zone"] = self.zone
        out["why"] = self.why
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


def beacons_active(rng: random.Random) -> Scenario:
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
    why_z = "no static data after identify_grace_s (360 s), so {what} counts as unidentified; {mins} min in {zone}"
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
            Expect("distress", sart, "nav status 14 and 'SART ACTIVE' from 970-MMSI; 8-report bursts = one alert",
                   zone="andaman-sea-corridor", test=False),
            Expect("distress", mob, "nav status 14 and 'MOB ACTIVE' from a 972 MMSI", zone="andaman-sea-corridor",
                   test=False),
            Expect("distress", epirb, "nav status 14 and 'EPIRB ACTIVE' from a 974 MMSI",
                   zone="christmas-island-approaches", test=False),
            Expect("zone_entry", sart, why_z.format(what="the SART", mins=26, zone="the Andaman corridor"),
                   zone="andaman-sea-corridor"),
            Expect("zone_entry", mob, why_z.format(what="the MOB beacon", mins=23, zone="the Andaman corridor"),
                   zone="andaman-sea-corridor"),
            Expect("zone_entry", epirb, why_z.format(what="the EPIRB", mins=24, zone="the Christmas approaches"),
                   zone="christmas-island-approaches"),
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
            "Beacons send no static data, so after `identify_grace_s` they are 'unidentified' craft and each also "
            "raises a `zone_entry` in its risk zone: that is what the rules say today, and it is listed."
        ),
    )
