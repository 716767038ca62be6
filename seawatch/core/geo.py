"""Small spherical geometry for detectors: distances, bearings, points ahead.

A sphere of the IUGG mean radius is accurate to about 0.5 % against the WGS 84
ellipsoid, far below AIS position noise and every threshold Seawatch uses
(hundreds of metres to tens of nautical miles), and it is several times cheaper
than a geodesic solver on the hot path.
"""

from __future__ import annotations

import math
from typing import Protocol

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
METRES_PER_NM = 1852.0  # the international nautical mile
KN_TO_MS = METRES_PER_NM / 3600.0
_DEG = math.pi / 180.0


class ShoreDistance(Protocol):
    """Metres from a position to the nearest land (0 on land), capped by the implementation.

    The core asks; an adapter answers from a coastline dataset. Keeping this a
    protocol keeps the dataset (hundreds of megabytes) out of the pure core.
    """

    def __call__(self, lat: float, lon: float) -> float: ...


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1 = lat1 * _DEG
    p2 = lat2 * _DEG
    dp = p2 - p1
    dl = (lon2 - lon1) * _DEG
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def fast_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: within 0.1 % of haversine below ~50 km, three times cheaper.

    Used where detectors compare many nearby pairs (rendezvous, loitering areas).
    """
    dl = lon2 - lon1
    if dl > 180.0:
        dl -= 360.0
    elif dl < -180.0:
        dl += 360.0
    x = dl * _DEG * math.cos((lat1 + lat2) * 0.5 * _DEG)
    y = (lat2 - lat1) * _DEG
    return EARTH_RADIUS_M * math.sqrt(x * x + y * y)


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial true bearing from the first point to the second, 0–360°."""
    p1 = lat1 * _DEG
    p2 = lat2 * _DEG
    dl = (lon2 - lon1) * _DEG
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


def destination(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` along a great circle from (lat, lon) at ``bearing``; returns (lat, lon)."""
    d = dist_m / EARTH_RADIUS_M
    b = bearing * _DEG
    p1 = lat * _DEG
    l1 = lon * _DEG
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    lon2 = (math.degrees(l2) + 540.0) % 360.0 - 180.0
    return math.degrees(p2), lon2


def angle_diff_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two directions, 0–180°."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d
