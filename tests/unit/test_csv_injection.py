"""Every CSV Seawatch writes opens in a spreadsheet as data, never as a formula (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pyais
import pytest

from seawatch.analyst.export import write_tracks
from seawatch.cli import main
from seawatch.core.alerts import VesselInfo
from seawatch.core.fleet import TrackPoint
from seawatch.core.lines import tag_block
from seawatch.csvsafe import FORMULA_STARTS, safe_cell

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
FORMULAS = ['=HYPERLINK("x")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_a_spreadsheet_would_run_is_made_plain(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["KM BAHARI", "", "2026-03-01T06:00:00Z", -12.5, 0, None, 533180734])
def test_everything_else_is_left_alone(value: object) -> None:
    assert safe_cell(value) == value


def test_track_csv_neutralises_vessel_names_and_keeps_negative_numbers(tmp_path: Path) -> None:
    tracks = {300_000_000 + i: [TrackPoint(T0, -10.5, -123.4, 1.0, 2.0)] for i in range(len(FORMULAS))}
    vessels = {mmsi: VesselInfo(mmsi, name=name) for mmsi, name in zip(sorted(tracks), FORMULAS, strict=True)}
    out = tmp_path / "tracks.csv"
    write_tracks(out, tracks, vessels)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["'" + name for name in FORMULAS]
    assert {(r["lat"], r["lon"]) for r in rows} == {("-10.5", "-123.4")}


def test_decode_csv_neutralises_ais_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fields = {"msg_type": 5, "mmsi": 533180734, "shipname": "=1+2", "destination": "+SUM(A1)", "callsign": "-CMD"}
    log = tmp_path / "hostile.nmea"
    lines = [tag_block("c:1772344800") + s.encode() for s in pyais.encode_dict(fields, talker_id="AI")]
    log.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "reports.csv"
    assert main(["decode", str(log), "--format", "csv", "-o", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["name"], row["destination"], row["callsign"]) == ("'=1+2", "'+SUM(A1)", "'-CMD")


def test_no_csv_writer_in_the_package_bypasses_the_helper() -> None:
    """A future CSV output must use seawatch.csvsafe: the standard writers appear nowhere else."""
    bypass = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "seawatch").rglob("*.py")
        if path.name != "csvsafe.py" and bypass.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")
