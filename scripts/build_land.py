#!/usr/bin/env python3
"""Build the live map's land layer: GSHHG coastline polygons, clipped to the region and simplified per zoom.

Why a build step: the full-resolution GSHHG polygons (``roaring_landmask.Shapes``, the data Seawatch already
installs for its distance-from-shore checks) take about 1 GB of memory to load, far too much for the service,
and a browser cannot draw a million vertices on every pan. So this script, run by a developer, loads them once,
clips them to the region Seawatch covers, simplifies them for each band of zoom levels (about half a screen
pixel at the band's deepest zoom), cuts the finer bands into tiles so the page fetches only what is in view,
and writes small JSON files under ``seawatch/web/static/land/``. Those are committed and served as static
files; the service never loads the polygons.

File format (read by ``seawatch/web/static/land.js``): ``manifest.json`` lists the bands (zoom range, tile
size, tolerance, quantisation) and their non-empty tiles; a tile is ``{"q": SCALE, "p": [[ring, ...], ...]}``
where each ring is a flat list of integers: the first vertex as ``round(lon * SCALE), round(lat * SCALE)``,
then the differences from the vertex before. Outer rings are counter-clockwise, holes (lakes are not in
GSHHG level 1, but clipping can make them) clockwise, as shapely orients them.

Data: GSHHG (Wessel and Smith) full resolution, level 1 (land/ocean boundary), LGPL-3.0; see
``seawatch/web/static/land/SOURCES.md``.

Usage:
    .venv/bin/python scripts/build_land.py            # write seawatch/web/static/land/
    .venv/bin/python scripts/build_land.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "seawatch" / "web" / "static" / "land"
REGION = (85.0, -20.0, 135.0, 25.0)  # west, south, east, north: the seas Seawatch's zones cover, with margin


@dataclass(frozen=True)
class Band:
    """Zoom levels drawn from one simplification of the coastline."""

    name: str
    min_zoom: int
    max_zoom: int  # the deepest zoom the tolerance is chosen for (deeper zooms reuse the last band)
    tolerance_deg: float  # Douglas-Peucker tolerance: about half a pixel at max_zoom near the equator
    tile_deg: float  # tiles of this size, so a zoomed-in page fetches only what is in view
    scale: int  # coordinates are stored as integers of 1/scale degree

    @property
    def min_area_deg2(self) -> float:
        """Islands smaller than a few pixels at this band's deepest zoom are left out."""
        return 4 * self.tolerance_deg * self.tolerance_deg


# At zoom z one pixel spans 360 / (256 * 2**z) degrees: 0.044 at z5, 0.011 at z7, 0.0027 at z9, 0.0007 at z11.
BANDS = (
    Band("z0", 0, 5, 0.025, 50.0, 1_000),
    Band("z6", 6, 7, 0.006, 25.0, 1_000),
    Band("z8", 8, 9, 0.002, 5.0, 2_000),
    Band("z10", 10, 99, 0.001, 2.5, 5_000),
)


def load_region() -> BaseGeometry:
    """GSHHG full-resolution land polygons that touch the region, clipped to it (about 1 GB while it runs)."""
    import roaring_landmask

    provider = roaring_landmask.LandmaskProvider.Gshhg
    shapes = roaring_landmask.Shapes.new(provider)
    world = shapely.from_wkb(shapes.wkb(provider))
    del shapes
    box = shapely.box(*REGION)
    near = [p for p in world.geoms if p.intersects(box)]
    del world
    return shapely.intersection(shapely.MultiPolygon(near), box)


def polygons_of(geom: BaseGeometry) -> list[shapely.Polygon]:
    """The polygons in any (multi)geometry a clip or simplification returns; lines and points dropped."""
    out: list[shapely.Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, shapely.Polygon):
            if not part.is_empty:
                out.append(part)
        elif isinstance(part, shapely.MultiPolygon | shapely.GeometryCollection):
            out.extend(polygons_of(part))
    return out


def encode_ring(coords: Any, scale: int) -> list[int]:
    """A ring as integers: first vertex absolute, then deltas; repeated vertices (after rounding) dropped."""
    flat: list[int] = []
    last_x = last_y = 0
    first = True
    for x, y in coords[:-1]:  # the closing vertex is implied
        qx, qy = round(x * scale), round(y * scale)
        if not first and qx == last_x and qy == last_y:
            continue
        if first:
            flat += [qx, qy]
            first = False
        else:
            flat += [qx - last_x, qy - last_y]
        last_x, last_y = qx, qy
    return flat if len(flat) >= 6 else []


def encode_polygon(poly: shapely.Polygon, scale: int) -> list[list[int]]:
    poly = shapely.orient_polygons(poly)
    rings = [encode_ring(poly.exterior.coords, scale)]
    if not rings[0]:
        return []
    rings += [r for r in (encode_ring(i.coords, scale) for i in poly.interiors) if r]
    return rings


def tiles_of(band: Band) -> list[tuple[float, float]]:
    west, south, east, north = REGION
    cols = math.ceil((east - west) / band.tile_deg)
    rows = math.ceil((north - south) / band.tile_deg)
    return [(west + c * band.tile_deg, south + r * band.tile_deg) for c in range(cols) for r in range(rows)]


def tile_name(west: float, south: float) -> str:
    return f"{west:g}_{south:g}"


def build_band(region: BaseGeometry, band: Band, out_dir: Path) -> dict[str, Any]:
    polys = [p for p in polygons_of(region) if p.area >= band.min_area_deg2]
    simple = shapely.simplify(polys, band.tolerance_deg, preserve_topology=True)
    simplified = polygons_of(shapely.GeometryCollection(simple.tolist()))
    tree = shapely.STRtree(simplified)
    band_dir = out_dir / band.name
    band_dir.mkdir(parents=True)
    tiles: list[list[float]] = []
    vertices = size = 0
    for west, south in tiles_of(band):
        rect = (west, south, west + band.tile_deg, south + band.tile_deg)
        parts: list[list[list[int]]] = []
        for i in tree.query(shapely.box(*rect)):
            for piece in polygons_of(shapely.clip_by_rect(simplified[i], *rect)):
                rings = encode_polygon(piece, band.scale)
                if rings:
                    parts.append(rings)
                    vertices += sum(len(r) // 2 for r in rings)
        if not parts:
            continue
        text = json.dumps({"q": band.scale, "p": parts}, separators=(",", ":"))
        (band_dir / f"{tile_name(west, south)}.json").write_text(text, encoding="ascii")
        size += len(text)
        tiles.append([west, south])
    zooms = f"zoom {band.min_zoom}-{band.max_zoom}"
    print(f"  {band.name}: {zooms}, {len(tiles)} tiles, {vertices:,} vertices, {size:,} bytes")
    return {
        "name": band.name,
        "min_zoom": band.min_zoom,
        "max_zoom": band.max_zoom,
        "tolerance_deg": band.tolerance_deg,
        "tile_deg": band.tile_deg,
        "tiles": tiles,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    started = time.monotonic()
    print("loading GSHHG full-resolution polygons (about 1 GB, a few seconds) …")
    region = load_region()
    out: Path = args.out
    for band in BANDS:
        if (out / band.name).exists():
            shutil.rmtree(out / band.name)
    out.mkdir(parents=True, exist_ok=True)
    bands = [build_band(region, band, out) for band in BANDS]
    digest = hashlib.sha256()
    for path in sorted(out.rglob("*.json")):
        if path.name != "manifest.json":
            digest.update(path.read_bytes())
    manifest = {
        "source": "GSHHG full resolution, level 1 (LGPL-3.0), via roaring-landmask; see SOURCES.md",
        "region": list(REGION),
        "version": digest.hexdigest()[:12],
        "bands": bands,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")) + "\n", encoding="ascii")
    total = sum(p.stat().st_size for p in out.rglob("*.json"))
    print(f"wrote {out} ({total:,} bytes) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
