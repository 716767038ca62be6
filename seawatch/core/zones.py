"""Geofenced zones and a fast "which zones is this point in" index.

Zones come from RFC 7946 GeoJSON (``zones/*.geojson``). Parsing is pure: the shell
reads the files and hands the documents over; every problem is reported with the
file and feature it is in.

Lookups are the hot path (one per position report), so :class:`ZoneIndex` answers
most of them from a grid: each 0.05° cell remembers which zones cover it entirely
and which only touch it. Only points in cells a boundary crosses pay for an exact
test, against shapely prepared geometries found through an STRtree.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry import LineString, box, shape
from shapely.geometry.base import BaseGeometry

from seawatch.core.alerts import Severity, ZoneRef
from seawatch.core.geo import destination, distance_m
from seawatch.core.rules import parse_zone_overrides


class ZoneKind(StrEnum):
    RISK = "risk"
    DISEMBARKATION = "disembarkation"
    PORT = "port"
    SAR_REGION = "sar_region"


@dataclass(frozen=True, slots=True, eq=False)
class Zone:
    id: str
    name: str
    kind: ZoneKind
    severity: Severity
    source: str
    geometry: BaseGeometry
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    origin: str = ""

    @property
    def ref(self) -> ZoneRef:
        return ZoneRef(self.id, self.name)


class ZoneError(ValueError):
    """Every problem in the zone files, each with its file and feature."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_REQUIRED = ("id", "name", "kind", "severity", "source")


def parse_zones(doc: Any, origin: str, problems: list[str]) -> list[Zone]:
    """Zones from one GeoJSON FeatureCollection; problems are appended, not raised."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        problems.append(f"{origin}: not a GeoJSON FeatureCollection")
        return []
    features = doc.get("features")
    if not isinstance(features, list):
        problems.append(f"{origin}: 'features' must be a list")
        return []
    zones: list[Zone] = []
    for i, feature in enumerate(features):
        where = f"{origin}: feature {i}"
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            problems.append(f"{where}: not a GeoJSON Feature")
            continue
        props = feature.get("properties")
        if not isinstance(props, Mapping):
            problems.append(f"{where}: no properties")
            continue
        if isinstance(props.get("id"), str):
            where = f"{origin}: feature {i} ({props['id']!r})"
        missing = [k for k in _REQUIRED if not isinstance(props.get(k), str) or not props.get(k)]
        if missing:
            problems.append(f"{where}: missing or empty {', '.join(missing)}")
            continue
        try:
            kind = ZoneKind(props["kind"])
        except ValueError:
            problems.append(f"{where}: kind {props['kind']!r} is not one of {', '.join(k.value for k in ZoneKind)}")
            continue
        try:
            severity = Severity(props["severity"])
        except ValueError:
            problems.append(
                f"{where}: severity {props['severity']!r} is not one of {', '.join(s.value for s in Severity)}"
            )
            continue
        geometry = _geometry(feature.get("geometry"), where, problems)
        if geometry is None:
            continue
        overrides = parse_zone_overrides(props.get("rules", {}), f"{where}: rules", problems)
        aliases = props.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            problems.append(f"{where}: aliases must be a list of strings")
            aliases = []
        zones.append(
            Zone(
                id=props["id"],
                name=props["name"],
                kind=kind,
                severity=severity,
                source=props["source"],
                geometry=geometry,
                rules=overrides,
                aliases=tuple(a.strip().upper() for a in aliases),
                origin=where,
            )
        )
    return zones


def _geometry(raw: Any, where: str, problems: list[str]) -> BaseGeometry | None:
    if not isinstance(raw, Mapping) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(f"{where}: geometry must be a Polygon or MultiPolygon")
        return None
    try:
        geometry = shape(dict(raw))
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        problems.append(f"{where}: unreadable geometry ({exc})")
        return None
    if geometry.is_empty:
        problems.append(f"{where}: empty geometry")
        return None
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        problems.append(f"{where}: coordinates outside lon -180..180 / lat -90..90 (GeoJSON is lon, lat)")
        return None
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        problems.append(f"{where}: invalid geometry ({reason})")
        return None
    return geometry


def check_unique(zones: Iterable[Zone], problems: list[str]) -> None:
    seen: dict[str, Zone] = {}
    for zone in zones:
        if zone.id in seen:
            problems.append(f"{zone.origin}: id {zone.id!r} already used by {seen[zone.id].origin}")
        else:
            seen[zone.id] = zone


_CELL_DEG = 0.05
_MAX_CELLS = 400_000  # about 60 MB of cache at most; cleared when full
_EMPTY: tuple[Zone, ...] = ()


class ZoneIndex:
    """Zones with a spatial index over prepared geometries and a per-cell cache."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones: tuple[Zone, ...] = tuple(zones)
        self.by_id = {z.id: z for z in self.zones}
        for zone in self.zones:
            shapely.prepare(zone.geometry)
        self._tree = shapely.STRtree([z.geometry for z in self.zones])
        # cell -> (zones covering it entirely, zones that only touch it)
        self._cells: dict[tuple[int, int], tuple[tuple[Zone, ...], tuple[Zone, ...]]] = {}
        self.exact_tests = 0

    def __iter__(self) -> Iterator[Zone]:
        return iter(self.zones)

    def __len__(self) -> int:
        return len(self.zones)

    def of_kind(self, kind: ZoneKind) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind is kind)

    def at(self, lat: float, lon: float) -> tuple[Zone, ...]:
        """Zones containing the point, in file order (boundary points count as inside)."""
        if not self.zones:
            return _EMPTY
        key = (math.floor(lon / _CELL_DEG), math.floor(lat / _CELL_DEG))
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cell(key)
        full, partial = cell
        if not partial:
            return full
        self.exact_tests += 1
        inside = [z for z in partial if shapely.intersects_xy(z.geometry, lon, lat)]
        if not inside:
            return full
        if not full:
            return tuple(inside)
        return tuple(z for z in self.zones if z in full or z in inside)

    def _cell(self, key: tuple[int, int]) -> tuple[tuple[Zone, ...], tuple[Zone, ...]]:
        x, y = key
        cell_box = box(x * _CELL_DEG, y * _CELL_DEG, (x + 1) * _CELL_DEG, (y + 1) * _CELL_DEG)
        full: list[Zone] = []
        partial: list[Zone] = []
        for i in sorted(self._tree.query(cell_box)):
            zone = self.zones[i]
            if zone.geometry.contains(cell_box):
                full.append(zone)
            elif zone.geometry.intersects(cell_box):
                partial.append(zone)
        if len(self._cells) >= _MAX_CELLS:
            self._cells.clear()
        cell = (tuple(full), tuple(partial))
        self._cells[key] = cell
        return cell

    def ahead(
        self, lat: float, lon: float, cog_deg: float, max_dist_m: float, kind: ZoneKind
    ) -> list[tuple[Zone, float]]:
        """Zones of ``kind`` that the course line from (lat, lon) reaches within ``max_dist_m``.

        Returns (zone, distance to its edge in metres), nearest first. The line follows
        the great circle in 25 km steps so long courses stay accurate.
        """
        steps = max(2, math.ceil(max_dist_m / 25_000.0))
        points = [(lon, lat)]
        for i in range(1, steps + 1):
            plat, plon = destination(lat, lon, cog_deg, max_dist_m * i / steps)
            if abs(plon - points[-1][0]) > 180:  # crossing the antimeridian: stop the line there
                break
            points.append((plon, plat))
        line = LineString(points)
        hits: list[tuple[Zone, float]] = []
        for i in sorted(self._tree.query(line)):
            zone = self.zones[i]
            if zone.kind is not kind:
                continue
            crossing = line.intersection(zone.geometry)
            if crossing.is_empty:
                continue
            along = min(line.project(shapely.Point(c)) for c in _coords(crossing))
            hits.append((zone, _along_m(points, along)))
        hits.sort(key=lambda hit: hit[1])
        return hits


def _coords(geometry: BaseGeometry) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in shapely.get_coordinates(geometry)]


def _along_m(points: list[tuple[float, float]], along_deg: float) -> float:
    """Convert a distance along the line in degrees (shapely's planar measure) to metres."""
    total = 0.0
    remaining = along_deg
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        seg_deg = math.hypot(x2 - x1, y2 - y1)
        seg_m = distance_m(y1, x1, y2, x2)
        if remaining <= seg_deg or seg_deg == 0:
            return total + (seg_m * remaining / seg_deg if seg_deg else 0.0)
        total += seg_m
        remaining -= seg_deg
    return total
