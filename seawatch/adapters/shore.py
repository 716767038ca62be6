"""Distance from shore, answered from met.no's roaring-landmask (GSHHG full-resolution shoreline).

Detectors ask "how far is this position from the nearest land" against thresholds of a few
to tens of nautical miles (:class:`seawatch.core.geo.ShoreDistance`). The core cannot hold
a coastline dataset, so this adapter answers from ``roaring_landmask.RoaringMask``: the GSHHG
full-resolution shoreline rasterised to 15 arc-second cells (1/240°, 463 m north-south and
463·cos(lat) m east-west), held as a compressed bitmap. It is the cheapest maintained
coastline we found: about 400 MB resident, a second or two to load, 0.04–0.2 µs a point. The
same package's polygon ``Shapes`` cost 1.1 GB; ``global-land-mask`` (1 km GLOBE) 918 MB and
50 µs a lookup.

What the answer means, and its error:

* A mask cell is land when any GSHHG land touches it (the mask is *optimistic*), so the
  distance returned is to the nearest point of the nearest land cell. Against the GSHHG
  shoreline itself that is never too far and at most one mask cell diagonal (~0.65 km at
  the equator) too near.
* Answers are cached per query cell of ``cell_deg`` (0.01° by default) and computed for the
  cell centre. Distance moves by at most as much as the point does, so within a cell the
  answer is off by at most half the cell diagonal: ~0.79 km at the equator for 0.01°, less
  east-west at higher latitudes. Points on land are checked exactly: :meth:`__call__`
  returns 0.0 for a point on a land cell even when its cell centre is at sea.
* Distances are great-circle (haversine, sphere of the IUGG mean radius, as
  :mod:`seawatch.core.geo`).

The search is exhaustive over mask cells, not sampled: it checks every mask cell in
rectangles of growing half-size around the query (all rows of a rectangle in one vectorised
``contains_many`` call), and stops once the nearest land found is no farther than the
nearest cell still unchecked, or at ``cap_m``. Sampling points on circles 0.2 nm apart would
cost about the same number of lookups but can step over a land cell a little smaller than
the sampling gap (an islet, the tip of a spit); checking every cell cannot. Above about 66°
of latitude, where cells are narrower east-west than half of ``polar_step_m``, columns are
skipped, leaving one checked cell at least every ``polar_step_m`` east-west on the query's
latitude (near the poles a 30 nm search otherwise covers every longitude: millions of cells).

Out-of-range input: latitudes are clamped to ±89.9° (the mask has no cell row at the
pole, and nobody's search area is there), longitudes are wrapped into [-180, 180), so the
antimeridian is seamless. Non-finite values and latitudes beyond ±90° raise ``ValueError``:
the decoder already turns AIS "not available" into ``None``, so they are a caller's bug,
and roaring-landmask would otherwise answer NaN as land and abort the process (a Rust
panic) on latitudes below -90°.

The mask is loaded on first use, so commands that never ask for a distance pay neither the
second nor the 400 MB; it is then shared by every instance in the process and kept for the
process's life. Single-threaded use: the lazy load and the cache have no locks.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import roaring_landmask  # type: ignore[import-untyped]
from numpy.typing import NDArray

from seawatch.core.geo import EARTH_RADIUS_M, METRES_PER_NM, ShoreDistance

log = logging.getLogger(__name__)

MASK_CELLS_PER_DEG: Final = 240
"""roaring-landmask's grid: 86,400 x 43,200 cells, each 15 arc-seconds, centred on multiples of 1/240°."""
_HALF_TURN_CELLS: Final = 180 * MASK_CELLS_PER_DEG
_POLE_ROW: Final = 90 * MASK_CELLS_PER_DEG
_HALF_CELL_DEG: Final = 0.5 / MASK_CELLS_PER_DEG
MASK_CELL_M: Final = EARTH_RADIUS_M * math.radians(1.0 / MASK_CELLS_PER_DEG)
"""North-south size of a mask cell, metres (463.3); east-west it is this times cos(lat)."""
_CELL_DIAGONAL_M: Final = MASK_CELL_M * math.sqrt(2.0)  # at the equator; narrower cells elsewhere
MAX_LAT_DEG: Final = 89.9
_DEG_M: Final = EARTH_RADIUS_M * math.pi / 180.0

_mask: Any = None  # the process's one RoaringMask, once someone has asked


def _shared_mask() -> tuple[Any, float]:
    """The process-wide mask, loading it if nobody has yet; also the seconds this call spent loading."""
    global _mask
    if _mask is not None:
        return _mask, 0.0
    start = time.perf_counter()
    _mask = roaring_landmask.RoaringMask.new(roaring_landmask.LandmaskProvider.Gshhg)
    load_s = time.perf_counter() - start
    log.info("roaring-landmask GSHHG mask loaded in %.2f s", load_s)
    return _mask, load_s


@dataclass(slots=True)
class ShoreStats:
    """Counters for benchmarks and the health page: query-cell cache use and the mask's load time."""

    hits: int = 0
    misses: int = 0
    clears: int = 0  # times the cache reached cache_cells and was emptied
    load_s: float = 0.0  # seconds this instance waited for the mask (0 if another instance loaded it)


class LandmaskShore:
    """``shore(lat, lon)``: metres to the nearest land of the GSHHG mask, 0.0 on land, at most ``cap_m``.

    Satisfies :class:`seawatch.core.geo.ShoreDistance`. See the module docstring for the error
    bounds; in short, within ``half the query-cell diagonal + one mask cell`` (~1.5 km at the
    equator with the defaults) of the distance to the GSHHG shoreline.
    """

    def __init__(
        self,
        cap_m: float = 30 * METRES_PER_NM,
        cell_deg: float = 0.01,
        cache_cells: int = 200_000,
        polar_step_m: float = 0.2 * METRES_PER_NM,
    ) -> None:
        if not cap_m > 0:
            raise ValueError(f"cap_m must be positive, got {cap_m}")
        if not 0 < cell_deg <= 1:
            raise ValueError(f"cell_deg must be in (0, 1], got {cell_deg}")
        if cache_cells < 1:
            raise ValueError(f"cache_cells must be at least 1, got {cache_cells}")
        if not polar_step_m > 0:
            raise ValueError(f"polar_step_m must be positive, got {polar_step_m}")
        self.cap_m = float(cap_m)
        self.cell_deg = float(cell_deg)
        self.cache_cells = cache_cells
        self.polar_step_m = float(polar_step_m)
        self.stats = ShoreStats()
        self._mask: Any = None
        self._cache: dict[tuple[int, int], float] = {}
        # Open sea is most of the work: one search per coarse cell, to the cap plus the coarse cell's
        # half-diagonal, settles all hundred fine cells in it when it finds no land that near.
        self._coarse: dict[tuple[int, int], bool] = {}
        self._coarse_deg = min(1.0, self.cell_deg * 10)
        self._coarse_half_diagonal_m = 0.5 * math.sqrt(2.0) * self._coarse_deg * _DEG_M * (1 + 1e-9)
        # No point of a query cell is farther than this from its centre, so a cell whose centre is
        # farther than this from land holds no land point and needs no exact on-land check.
        self._half_diagonal_m = 0.5 * math.sqrt(2.0) * self.cell_deg * _DEG_M * (1 + 1e-9)

    # ------------------------------------------------------------------------- public
    def __call__(self, lat: float, lon: float) -> float:
        """Metres from (lat, lon) to the nearest land cell, 0.0 on land, ``cap_m`` if none is within the cap."""
        lat, lon = _normalise(lat, lon)
        key = (math.floor(lat / self.cell_deg), math.floor(lon / self.cell_deg))
        distance = self._cache.get(key)
        if distance is None:
            self.stats.misses += 1
            if len(self._cache) >= self.cache_cells:
                self._cache.clear()
                self._coarse.clear()
                self.stats.clears += 1
            if self._far_from_land(lat, lon):
                distance = self._cache[key] = self.cap_m
            else:
                centre_lat = min(MAX_LAT_DEG, max(-MAX_LAT_DEG, (key[0] + 0.5) * self.cell_deg))
                centre_lon = _wrap_lon((key[1] + 0.5) * self.cell_deg)
                distance = self._cache[key] = self._search(centre_lat, centre_lon)
        else:
            self.stats.hits += 1
        if distance > self._half_diagonal_m:
            return distance
        return 0.0 if self._loaded_mask().contains(lon, lat) else distance

    def _far_from_land(self, lat: float, lon: float) -> bool:
        """Whether no land lies within the cap of any point of (lat, lon)'s coarse cell (exact, cached)."""
        if abs(lat) > 60.0:
            return False  # cells shrink east-west towards the poles: keep to the fine search there
        key = (math.floor(lat / self._coarse_deg), math.floor(lon / self._coarse_deg))
        far = self._coarse.get(key)
        if far is None:
            centre_lat = (key[0] + 0.5) * self._coarse_deg
            centre_lon = _wrap_lon((key[1] + 0.5) * self._coarse_deg)
            reach = self.cap_m + self._coarse_half_diagonal_m
            far = self._coarse[key] = self._search(centre_lat, centre_lon, reach) >= reach
        return far

    def is_land(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies in a land cell of the mask (exact, not cached: 0.1–0.2 µs)."""
        lat, lon = _normalise(lat, lon)
        return bool(self._loaded_mask().contains(lon, lat))

    def distance_at_m(self, lat: float, lon: float) -> float:
        """The distance for exactly this point, bypassing the cache (for tests and tools; costs a full search)."""
        lat, lon = _normalise(lat, lon)
        return self._search(lat, lon)

    # ------------------------------------------------------------------------- search
    def _loaded_mask(self) -> Any:
        if self._mask is None:
            self._mask, self.stats.load_s = _shared_mask()
        return self._mask

    def _search(self, lat: float, lon: float, cap_m: float | None = None) -> float:
        """Metres from (lat, lon) to the nearest point of the nearest land cell, at most ``cap_m``.

        Rectangles of mask cells, ``half`` metres from the query each way, grow until the nearest
        land found is no farther than every cell outside the rectangle. Each round checks only the
        frame the rectangle gained. Doubling ``half`` keeps the rounds (and ``contains_many`` calls)
        to eight out to a 30 nm cap, yet stops near the coast after a few hundred cells.
        """
        cap = self.cap_m if cap_m is None else cap_m
        mask = self._loaded_mask()
        cy = round(lat * MASK_CELLS_PER_DEG)  # the mask cell holding the query
        cx = round(lon * MASK_CELLS_PER_DEG)
        cos_lat = math.cos(math.radians(lat))
        # Columns between checks: 1 (every cell) unless cells are narrower than polar_step_m / 2 here.
        stride = max(1, math.floor(self.polar_step_m / (MASK_CELL_M * cos_lat)))
        reach_m2 = ((cap + _CELL_DIAGONAL_M) / 0.99) ** 2
        cap_side_m = (cap + _CELL_DIAGONAL_M) / math.sqrt(2.0)  # smaller rectangles have no such corners
        best_m = math.inf
        prev_rows = prev_cols = -1  # half-sizes (in cells) of the rectangle already checked
        half_m = min(MASK_CELL_M, cap)
        while True:
            rows = math.ceil(half_m / MASK_CELL_M)
            far_lat = min(90.0, abs(lat) + (rows + 1) / MASK_CELLS_PER_DEG)
            cos_far = math.cos(math.radians(far_lat))
            # Enough columns to reach half_m east and west even on the rectangle's most poleward row;
            # when that takes half the world or more (near a pole), every longitude.
            full_circle = cos_far * MASK_CELL_M * _HALF_TURN_CELLS <= half_m
            cols = _HALF_TURN_CELLS if full_circle else math.ceil(half_m / (MASK_CELL_M * cos_far))
            dy, dx = _frame(prev_rows, prev_cols, rows, cols, stride)
            prev_rows, prev_cols = rows, cols
            if half_m > cap_side_m and far_lat < 80.0:
                # Skip the rectangle's corners beyond the cap (about a fifth of its cells). The test is a lower
                # bound: query and cell each lie within half a diagonal of their cell centres, and the flat
                # metric with the poleward row's cos(lat) is within 1 % of great-circle distance this far out.
                flat_m2 = np.square(dy * MASK_CELL_M) + np.square(dx * (MASK_CELL_M * cos_far))
                inside = flat_m2 <= reach_m2
                dy, dx = dy[inside], dx[inside]
            if dy.size:
                land = self._land(mask, cy + dy, cx + dx)
                if land.any():
                    near = _nearest_m(lat, lon, cy, cx, dy[land], dx[land])
                    best_m = min(best_m, near)
            # Lower bound on the distance to any cell not yet checked: it lies beyond `rows` rows
            # north or south, or beyond `cols` columns east or west on some row of the rectangle.
            unchecked_m = rows * MASK_CELL_M
            if not full_circle:
                unchecked_m = min(unchecked_m, cols * MASK_CELL_M * cos_far)
            if best_m <= unchecked_m or unchecked_m >= cap:
                return min(best_m, cap)
            # Double, or jump straight to the land already found: the next round then settles it.
            half_m = min(cap, 2.0 * half_m if best_m == math.inf else max(2.0 * half_m, best_m))

    @staticmethod
    def _land(mask: Any, rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of these mask cells (row and column indices, unwrapped) are land."""
        lons = ((cols + _HALF_TURN_CELLS) % (2 * _HALF_TURN_CELLS) - _HALF_TURN_CELLS) / MASK_CELLS_PER_DEG
        if rows.min() >= -_POLE_ROW and rows.max() <= _POLE_ROW:
            return np.asarray(mask.contains_many(lons, rows / MASK_CELLS_PER_DEG), dtype=np.bool_)
        keep = np.abs(rows) <= _POLE_ROW  # rows past a pole are the same cells again, seen from the far side
        lats = np.where(keep, rows, 0) / MASK_CELLS_PER_DEG
        return np.asarray(mask.contains_many(lons, lats), dtype=np.bool_) & keep


def _frame(
    prev_rows: int, prev_cols: int, rows: int, cols: int, stride: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row and column offsets of the cells in the rectangle ±rows x ±cols but not in ±prev_rows x ±prev_cols.

    Columns are taken at multiples of ``stride`` only, the same multiples every round, so
    successive frames tile the rectangle without gaps or repeats.
    """
    all_cols = np.arange(-(cols // stride), cols // stride + 1, dtype=np.int64) * stride
    side_cols = all_cols[np.abs(all_cols) > prev_cols]
    outer_rows = np.arange(-rows, rows + 1, dtype=np.int64)
    outer_rows = outer_rows[np.abs(outer_rows) > prev_rows]
    inner_rows = np.arange(-prev_rows, prev_rows + 1, dtype=np.int64)  # empty on the first round
    dy = np.concatenate([np.repeat(outer_rows, all_cols.size), np.repeat(inner_rows, side_cols.size)])
    dx = np.concatenate([np.tile(all_cols, outer_rows.size), np.tile(side_cols, inner_rows.size)])
    return dy, dx


def _nearest_m(lat: float, lon: float, cy: int, cx: int, dy: NDArray[np.int64], dx: NDArray[np.int64]) -> float:
    """Great-circle metres from (lat, lon) to the nearest point of the nearest of these cells.

    The nearest point of a cell is the query clamped into the cell's latitude and longitude
    bounds (exact north-south; east-west it is the nearest point along the parallel, which for
    cells 463 m wide differs from the great-circle nearest point by well under a metre).
    Longitudes are taken relative to the query's cell, so the antimeridian needs no care.
    """
    cell_lat = (cy + dy) / MASK_CELLS_PER_DEG
    near_lat = np.clip(lat, cell_lat - _HALF_CELL_DEG, cell_lat + _HALF_CELL_DEG)
    offset_lon = lon - cx / MASK_CELLS_PER_DEG  # the query within its own cell, |offset| <= half a cell
    cell_lon = dx / MASK_CELLS_PER_DEG
    dlon = np.clip(offset_lon, cell_lon - _HALF_CELL_DEG, cell_lon + _HALF_CELL_DEG) - offset_lon
    p1 = math.radians(lat)
    p2 = np.radians(near_lat)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(dlon) / 2) ** 2
    return float(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, a.min()))))


def _wrap_lon(lon: float) -> float:
    """Longitude in [-180, 180)."""
    wrapped = (lon + 180.0) % 360.0 - 180.0
    return -180.0 if wrapped >= 180.0 else wrapped  # float rounding of tiny negative inputs


def _normalise(lat: float, lon: float) -> tuple[float, float]:
    """(lat clamped to ±89.9, lon wrapped into [-180, 180)); ValueError for non-finite or |lat| > 90."""
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90.0:
        raise ValueError(f"not a position: lat={lat!r}, lon={lon!r}")
    return min(MAX_LAT_DEG, max(-MAX_LAT_DEG, lat)), _wrap_lon(lon)


if TYPE_CHECKING:
    _satisfies_protocol: ShoreDistance = LandmaskShore()  # mypy checks the adapter against the core's protocol
