"""Track export: what goes in comes back out, through the readers analysts use.

CSV is read back with the standard library, GeoParquet with ``geopandas.read_parquet``
and its metadata with pyarrow: the files must be right for other tools, not only for us.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas
import pandas as pd
import pyarrow.parquet as pq
import pytest

from seawatch.analyst.export import CSV_COLUMNS, GEO_COLUMNS, GEO_INSTALL, ExportError, write_tracks
from seawatch.core.alerts import VesselInfo
from seawatch.core.fleet import TrackPoint

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)

HOSTILE = 525_000_777
SHIP = 533_180_734
QUIET = 970_112_233  # no static data: no name
HOSTILE_NAME = "<IMG SRC=X ONERROR=ALERT(1)>"
# Every name a CSV writer or reader could get wrong: markup, quotes, separators, a formula.
NAMES = {
    HOSTILE: HOSTILE_NAME,
    SHIP: 'BUNGA "KASTURI", 3;\t=HYPERLINK("x")',
}


def tracks() -> dict[int, list[TrackPoint]]:
    return {
        SHIP: [
            TrackPoint(START + timedelta(seconds=10 * i), 6.48 + 0.001 * i, 95.76 - 0.001 * i, 12.0, 214.5)
            for i in range(5)
        ],
        HOSTILE: [
            TrackPoint(START, 5.9, 95.0, 0.4, None),  # no course over ground
            TrackPoint(None, 5.91, 95.01, None, 45.0),  # an untimed fix, no speed
        ],
        QUIET: [TrackPoint(START + timedelta(minutes=1), -10.5, 123.4, 0.0, 0.0)],
    }


def vessels() -> dict[int, VesselInfo]:
    return {mmsi: VesselInfo(mmsi, name=name) for mmsi, name in NAMES.items()}


def expected_rows() -> list[tuple[int, TrackPoint]]:
    """Rows in file order: by MMSI, then each track's own order."""
    t = tracks()
    return [(mmsi, p) for mmsi in sorted(t) for p in t[mmsi]]


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "tracks.csv"
    assert write_tracks(path, tracks(), vessels()) == 8
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == 8
    for row, (mmsi, p) in zip(rows, expected_rows(), strict=True):
        assert int(row["mmsi"]) == mmsi
        assert row["name"] == NAMES.get(mmsi, "")  # verbatim, markup and quotes included
        if p.t is None:
            assert row["t"] == ""
        else:
            assert row["t"].endswith("Z")
            assert datetime.fromisoformat(row["t"]) == p.t
        assert float(row["lat"]) == p.lat and float(row["lon"]) == p.lon
        assert row["sog_kn"] == ("" if p.sog_kn is None else str(p.sog_kn))
        assert row["cog_deg"] == ("" if p.cog_deg is None else str(p.cog_deg))
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("suffix", [".parquet", ".geoparquet", ".PARQUET"])
def test_geoparquet_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tracks{suffix}"
    assert write_tracks(path, tracks(), vessels()) == 8

    frame = geopandas.read_parquet(path)
    assert list(frame.columns) == list(GEO_COLUMNS)
    assert len(frame) == 8
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert frame.geometry.name == "geometry"
    assert set(frame.geom_type) == {"Point"}
    assert str(frame["t"].dtype).startswith("datetime64") and str(frame["t"].dt.tz) == "UTC"
    for (_, row), (mmsi, p) in zip(frame.iterrows(), expected_rows(), strict=True):
        assert row["mmsi"] == mmsi
        if mmsi in NAMES:
            assert row["name"] == NAMES[mmsi]  # verbatim
        else:
            assert pd.isna(row["name"])  # a null, not an empty name
        assert (row.geometry.x, row.geometry.y) == (p.lon, p.lat)  # GeoJSON order: lon, lat
        if p.t is None:
            assert pd.isna(row["t"])
        else:
            assert row["t"].to_pydatetime() == p.t
        for column in ("sog_kn", "cog_deg"):
            value = getattr(p, column)
            assert pd.isna(row[column]) if value is None else math.isclose(row[column], value)

    # the file says it is GeoParquet, for readers other than geopandas
    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Point"]
    assert column["crs"]["id"] == {"authority": "EPSG", "code": 4326}
    assert not list(tmp_path.glob("*.part"))


def test_no_tracks_gives_files_with_no_rows(tmp_path: Path) -> None:
    assert write_tracks(tmp_path / "empty.csv", {}, {}) == 0
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8").splitlines() == [",".join(CSV_COLUMNS)]
    assert write_tracks(tmp_path / "empty.parquet", {1: []}, {}) == 0
    frame = geopandas.read_parquet(tmp_path / "empty.parquet")
    assert len(frame) == 0 and frame.crs.to_epsg() == 4326


def test_unknown_suffix_is_an_export_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.parquet, \.geoparquet or \.csv"):
        write_tracks(tmp_path / "tracks.json", tracks(), vessels())
    assert list(tmp_path.iterdir()) == []


# Run by an interpreter without site-packages (-S): geopandas and pyarrow cannot be imported,
# the standard library and the repository can. A real missing install, no import patching.
_BARE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from seawatch.core.fleet import TrackPoint
from seawatch.analyst.export import ExportError, write_tracks
try:
    rows = write_tracks(Path(sys.argv[2]), {1: [TrackPoint(None, 1.0, 2.0, None, None)]}, {})
except ExportError as exc:
    print(exc)
else:
    print("rows", rows)
"""


def bare_export(target: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-S", "-c", _BARE, str(ROOT), str(target)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_geoparquet_without_its_libraries_names_the_install_command(tmp_path: Path) -> None:
    target = tmp_path / "tracks.parquet"
    message = bare_export(target)
    assert message.startswith("GeoParquet export needs geopandas and pyarrow")
    assert message.endswith(GEO_INSTALL)
    assert not target.exists() and not list(tmp_path.glob("*.part"))
    # CSV needs nothing beyond the standard library
    assert bare_export(tmp_path / "tracks.csv") == "rows 1"
