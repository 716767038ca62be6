"""Distance from shore against the real GSHHG mask (roaring-landmask), no mocks.

The mask takes about a second and 400 MB to load, so one :class:`LandmaskShore` serves the
module; other instances share the process's mask. Known points were checked against the
mask and against the coast read off it: the open Andaman Sea is beyond the 30 nm cap, Penang
and Banda Aceh are land, and the point off Java's south coast lies 5 nm due south of a
coast that runs straight, within about 8° of east-west, for 0.5° either side.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from seawatch.adapters.shore import MASK_CELLS_PER_DEG, LandmaskShore
from seawatch.core.geo import EARTH_RADIUS_M, METRES_PER_NM

NM = METRES_PER_NM
CAP_M = 30 * NM


@pytest.fixture(scope="module")
def shore() -> LandmaskShore:
    return LandmaskShore()


def brute_force_m(shore: LandmaskShore, lat: float, lon: float, cap_m: float) -> float:
    """Every mask cell of a box wider than the cap, checked, and the nearest point of each land cell measured.

    Written independently of the adapter's expanding search: no frames, no early stop.
    """
    mask = shore._loaded_mask()
    cy, cx = round(lat * MASK_CELLS_PER_DEG), round(lon * MASK_CELLS_PER_DEG)
    cell_m = EARTH_RADIUS_M * math.radians(1 / MASK_CELLS_PER_DEG)
    ny = math.ceil(cap_m / cell_m) + 2
    nx = math.ceil(cap_m / (cell_m * math.cos(math.radians(abs(lat) + 1)))) + 2
    dy, dx = (a.ravel() for a in np.meshgrid(np.arange(-ny, ny + 1), np.arange(-nx, nx + 1), indexing="ij"))
    lats = (cy + dy) / MASK_CELLS_PER_DEG
    lons = (cx + dx) / MASK_CELLS_PER_DEG  # unwrapped, for distances; wrapped for the mask
    land = mask.contains_many((lons + 180) % 360 - 180, lats)
    if not land.any():
        return cap_m
    half = 0.5 / MASK_CELLS_PER_DEG
    near_lat = np.clip(lat, lats[land] - half, lats[land] + half)
    near_lon = np.clip(lon, lons[land] - half, lons[land] + half)
    p1, p2 = math.radians(lat), np.radians(near_lat)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(near_lon - lon) / 2) ** 2
    return min(cap_m, float((2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))).min()))


def test_open_andaman_sea_is_at_the_cap(shore: LandmaskShore) -> None:
    assert shore(10.0, 95.0) == CAP_M
    assert not shore.is_land(10.0, 95.0)


@pytest.mark.parametrize(("name", "lat", "lon"), [("Penang", 5.40, 100.30), ("Banda Aceh", 5.55, 95.32)])
def test_land_is_zero(shore: LandmaskShore, name: str, lat: float, lon: float) -> None:
    assert shore.is_land(lat, lon), name
    assert shore(lat, lon) == 0.0, name


def test_five_miles_off_a_straight_coast(shore: LandmaskShore) -> None:
    # South coast of Java: the mask's coast is at 7.452°S on 107.0°E, and 7.40–7.54°S from 106.5 to 107.5°E.
    lat, lon = -7.5352, 107.0
    assert abs(shore(lat, lon) - 5 * NM) < 1.5 * NM
    assert abs(shore.distance_at_m(lat, lon) - 5 * NM) < 0.5 * NM


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (5.85, 100.05),  # north of Penang, among islands
        (7.75, 98.20),  # off Phuket
        (2.50, 101.20),  # Strait of Malacca
        (-6.10, 105.90),  # Sunda Strait
        (-17.10, 179.999),  # south of Taveuni, on the antimeridian
        (-17.10, -179.999),
    ],
)
def test_search_equals_brute_force(shore: LandmaskShore, lat: float, lon: float) -> None:
    """The expanding search finds the same nearest land cell as checking every cell within the cap."""
    small = LandmaskShore(cap_m=6 * NM)
    assert small.distance_at_m(lat, lon) == pytest.approx(brute_force_m(shore, lat, lon, 6 * NM), abs=0.01)


def test_cached_answer_within_half_the_cell_diagonal(shore: LandmaskShore) -> None:
    """The per-cell answer is for the cell centre; moving at most half a diagonal moves the distance as much."""
    rng = np.random.default_rng(20240601)
    half_diagonal_m = 0.5 * math.sqrt(2) * shore.cell_deg * EARTH_RADIUS_M * math.pi / 180
    for lat, lon in zip(rng.uniform(5.5, 8.5, 25), rng.uniform(97.5, 100.5, 25), strict=True):
        exact = shore.distance_at_m(lat, lon)
        assert abs(shore(lat, lon) - exact) <= half_diagonal_m + 0.01, (lat, lon)


def test_antimeridian(shore: LandmaskShore) -> None:
    # Open Pacific on the equator: no land within 30 nm either side.
    assert shore(0.0, 179.999) == CAP_M
    assert shore(0.0, -179.999) == CAP_M
    assert shore(0.0, 180.0) == CAP_M
    assert shore(0.0, 539.999) == CAP_M  # wrapped
    # South of Taveuni (Fiji), which the antimeridian crosses: the two sides agree to within
    # the distance between their cell centres (0.01°, 1.06 km), and land is seen across the line.
    west, east = shore(-17.10, 179.999), shore(-17.10, -179.999)
    assert 5 * NM < west < 7 * NM
    assert abs(west - east) < 1.1e3


def test_poles_do_not_crash(shore: LandmaskShore) -> None:
    assert shore(90.0, 0.0) == CAP_M  # the Arctic Ocean: the nearest land is hundreds of miles away
    assert shore(89.95, 123.0) == CAP_M
    assert shore(-90.0, 0.0) == 0.0  # Antarctica
    assert shore.is_land(-89.99, -179.99)


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 0.0), (0.0, math.inf), (91.0, 0.0), (-90.5, 10.0)])
def test_not_a_position_is_refused(shore: LandmaskShore, lat: float, lon: float) -> None:
    # roaring-landmask itself calls NaN land and panics below -90°.
    with pytest.raises(ValueError, match="not a position"):
        shore(lat, lon)
    with pytest.raises(ValueError, match="not a position"):
        shore.is_land(lat, lon)


def test_repeated_lookups_in_one_cell_hit_the_cache(shore: LandmaskShore) -> None:
    before_hits, before_misses = shore.stats.hits, shore.stats.misses
    first = shore(12.0031, 93.0012)
    for dlat, dlon in ((0.001, 0.002), (0.005, 0.005), (-0.003, 0.008)):
        assert shore(12.0031 + dlat, 93.0012 + dlon) == first
    assert shore.stats.misses - before_misses == 1
    assert shore.stats.hits - before_hits == 3


def test_cache_is_bounded() -> None:
    shore = LandmaskShore(cache_cells=2)
    for i in range(5):
        shore(10.005 + i * 0.01, 95.005)  # five cells, one centre each
    assert shore.stats.misses == 5
    assert shore.stats.clears == 2
    assert len(shore._cache) <= 2


def test_small_cap() -> None:
    shore = LandmaskShore(cap_m=1000.0)
    assert shore(-7.5352, 107.0) == 1000.0


def test_nothing_loaded_until_asked() -> None:
    """Importing the adapter and building one costs no mask: commands that never ask pay nothing."""
    # VmRSS, not ru_maxrss: a child forked from this test process inherits its peak (the loaded mask).
    code = (
        "import re, seawatch.adapters.shore as s\n"
        "shore = s.LandmaskShore()\n"
        "rss_kib = re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(s._mask is None, shore.stats.load_s, rss_kib)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["True", "0.0"]
    assert int(out[2]) < 200 * 1024  # the loaded mask alone is about 400 MiB
