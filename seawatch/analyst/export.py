"""Vessel tracks out of a replay, for the analyst's own tools.

GeoParquet (``.parquet``, ``.geoparquet``) is for GIS and notebooks: one point per fix
with its CRS and geometry metadata, read by QGIS, GDAL, DuckDB and
``geopandas.read_parquet`` as it is. CSV (``.csv``) is for everything else, written
with the standard library, so it needs nothing installed.

geopandas and pyarrow are large and only this export needs them, so they are imported
when a GeoParquet file is asked for, and their absence is an :class:`ExportError`
naming the install command rather than an ``ImportError`` at start-up.

Names come from AIS and are written as received, except that the CSV goes through
:mod:`seawatch.csvsafe`: a text cell a spreadsheet would run as a formula (``=…``, ``+…``)
gets a leading ``'``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seawatch.core.alerts import VesselInfo
from seawatch.core.fleet import TrackPoint
from seawatch.core.serialize import iso_utc
from seawatch.csvsafe import SafeWriter

GEO_INSTALL = "pip install 'seawatch[geo]' (or: pip install geopandas pyarrow)"
"""What to run when GeoParquet export is asked for without its libraries."""

CSV_COLUMNS = ("mmsi", "name", "t", "lat", "lon", "sog_kn", "cog_deg")
GEO_COLUMNS = ("mmsi", "name", "t", "sog_kn", "cog_deg", "geometry")
CRS = "EPSG:4326"


class ExportError(RuntimeError):
    """The tracks cannot be written in the format asked for (unknown suffix, missing libraries)."""


def write_tracks(
    path: Path,
    tracks: Mapping[int, Sequence[TrackPoint]],
    vessels: Mapping[int, VesselInfo],
) -> int:
    """Write every fix of ``tracks`` to ``path`` in the format its suffix names; returns the rows written.

    Rows go by MMSI, then in each track's own order; ``name`` comes from ``vessels``.
    The file is written beside ``path`` and renamed, so a failed export never leaves a
    truncated file where a good one was.
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        writer = _write_geoparquet
    elif suffix == ".csv":
        writer = _write_csv
    else:
        raise ExportError(f"cannot export tracks to {path.name!r}: the name must end in .parquet, .geoparquet or .csv")
    tmp = path.with_name(path.name + ".part")
    try:
        rows = writer(tmp, tracks, vessels)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _rows(
    tracks: Mapping[int, Sequence[TrackPoint]], vessels: Mapping[int, VesselInfo]
) -> Iterator[tuple[int, str | None, TrackPoint]]:
    for mmsi in sorted(tracks):
        info = vessels.get(mmsi)
        name = info.name if info is not None else None
        for point in tracks[mmsi]:
            yield mmsi, name, point


def _cell(value: float | None) -> str | float:
    return "" if value is None or not math.isfinite(value) else value


def _write_csv(path: Path, tracks: Mapping[int, Sequence[TrackPoint]], vessels: Mapping[int, VesselInfo]) -> int:
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = SafeWriter(f)  # AIS names are untrusted text: no spreadsheet formulas
        out.writerow(CSV_COLUMNS)
        for mmsi, name, p in _rows(tracks, vessels):
            t = iso_utc(_utc(p.t))
            out.writerow((mmsi, name or "", t or "", _cell(p.lat), _cell(p.lon), _cell(p.sog_kn), _cell(p.cog_deg)))
            rows += 1
    return rows


def _geo_libraries() -> tuple[Any, Any]:
    """geopandas and pandas, imported on demand (and untyped: the rest of Seawatch never sees them)."""
    try:
        geopandas = importlib.import_module("geopandas")
        pandas = importlib.import_module("pandas")
        importlib.import_module("pyarrow")
    except ImportError as exc:
        missing = exc.name or "a library"
        raise ExportError(
            f"GeoParquet export needs geopandas and pyarrow ({missing} is missing): {GEO_INSTALL}"
        ) from exc
    return geopandas, pandas


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _write_geoparquet(path: Path, tracks: Mapping[int, Sequence[TrackPoint]], vessels: Mapping[int, VesselInfo]) -> int:
    gpd, pd = _geo_libraries()
    mmsis: list[int] = []
    names: list[str | None] = []
    times: list[datetime | None] = []
    sogs: list[float | None] = []
    cogs: list[float | None] = []
    lats: list[float] = []
    lons: list[float] = []
    for mmsi, name, p in _rows(tracks, vessels):
        mmsis.append(mmsi)
        names.append(name)
        times.append(_utc(p.t))
        sogs.append(_finite(p.sog_kn))
        cogs.append(_finite(p.cog_deg))
        lats.append(p.lat)
        lons.append(p.lon)
    frame = gpd.GeoDataFrame(
        {
            "mmsi": pd.array(mmsis, dtype="int64"),
            # Nullable types: "not reported" is a null in the file, not NaN or an empty name.
            "name": pd.array(names, dtype="string"),
            "t": pd.to_datetime(pd.Series(times, dtype="object"), utc=True),
            "sog_kn": pd.array(sogs, dtype="Float64"),
            "cog_deg": pd.array(cogs, dtype="Float64"),
        },
        geometry=gpd.points_from_xy(lons, lats, crs=CRS),
        crs=CRS,
    )
    frame.to_parquet(path, index=False)  # geopandas writes the GeoParquet "geo" metadata
    return len(mmsis)
