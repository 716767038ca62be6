"""SURPIC (surface picture): which vessels could reach a position first, and how.

For an alert's position, the vessels heard recently within range are ranked by the
time each would take to get there at its present speed over ground, straight
line, with the course it would steer and the course change that means. It is the
list a rescue coordination centre uses to ask ships to assist (IAMSAR Manual,
Vol. II, "surface picture"). Slow or stopped vessels are listed after the moving
ones, nearest first, because a ship at anchor may still get under way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from seawatch.core.fleet import Vessel
from seawatch.core.geo import KN_TO_MS, METRES_PER_NM, angle_diff_deg, bearing_deg, distance_m
from seawatch.core.mmsi import is_beacon

MIN_SPEED_KN = 1.0  # below this a time to reach means nothing


@dataclass(frozen=True, slots=True)
class SurpicEntry:
    mmsi: int
    name: str | None
    ship_type: int | None
    lat: float
    lon: float
    distance_nm: float
    sog_kn: float | None
    cog_deg: float | None
    course_to_deg: float
    course_change_deg: float | None  # signed: + to starboard, - to port; None without a course
    time_to_reach_s: float | None  # None when slower than MIN_SPEED_KN
    last_seen: datetime | None


def surpic(
    vessels: Iterable[Vessel],
    lat: float,
    lon: float,
    now: datetime,
    *,
    max_range_nm: float = 100.0,
    max_age_s: float = 1800.0,
    exclude: Iterable[int] = (),
    limit: int = 10,
) -> list[SurpicEntry]:
    """The ``limit`` best-placed vessels for (lat, lon) at event time ``now``."""
    excluded = set(exclude)
    entries: list[SurpicEntry] = []
    max_range_m = max_range_nm * METRES_PER_NM
    for vessel in vessels:
        position = vessel.last_position
        if vessel.mmsi in excluded or position is None or position.lat is None or position.lon is None:
            continue
        if is_beacon(vessel.mmsi):
            continue  # beacons cannot assist
        seen = vessel.last_seen
        if seen is not None and (now - seen).total_seconds() > max_age_s:
            continue
        d = distance_m(position.lat, position.lon, lat, lon)
        if d > max_range_m:
            continue
        course_to = bearing_deg(position.lat, position.lon, lat, lon)
        cog = position.cog_deg
        change: float | None = None
        if cog is not None:
            change = angle_diff_deg(course_to, cog)
            if (course_to - cog) % 360.0 > 180.0:
                change = -change
        sog = position.sog_kn
        reach = d / (sog * KN_TO_MS) if sog is not None and sog >= MIN_SPEED_KN else None
        entries.append(
            SurpicEntry(
                mmsi=vessel.mmsi,
                name=vessel.name,
                ship_type=vessel.ship_type,
                lat=position.lat,
                lon=position.lon,
                distance_nm=round(d / METRES_PER_NM, 2),
                sog_kn=sog,
                cog_deg=cog,
                course_to_deg=round(course_to, 1),
                course_change_deg=None if change is None else round(change, 1),
                time_to_reach_s=None if reach is None else round(reach),
                last_seen=seen,
            )
        )
    entries.sort(key=lambda e: (e.time_to_reach_s is None, e.time_to_reach_s or 0.0, e.distance_nm, e.mmsi))
    return entries[:limit]
