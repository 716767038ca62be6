"""Input that is wrong as a whole is an error; input wrong in part is counted the same way everywhere."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seawatch.adapters.files import SourceError, is_csv
from seawatch.cli import main
from seawatch.core.model import RejectReason
from seawatch.core.pipeline import Pipeline

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,"
    "Cargo,TransceiverClass"
)
GOOD = "533180734,2026-03-01T06:00:00,6.5,96.5,10.0,90.0,90,KM BAHARI,,,70,0,100,20,5,,A"
ROWS = [
    GOOD,
    "xx,2026-03-01T06:01:00,6.5,96.5,10.0,90.0,90,X,,,70,0,100,20,5,,A",  # bad MMSI
    "533180734,2026-03-01T06:02:00,6.5,96.5,10.0,90.0,90,X,,,70,0,100,20,5,,A,one too many",
    "533180734,yesterday,6.5,96.5,10.0,90.0,90,X,,,70,0,100,20,5,,A",  # bad time
]


@pytest.mark.parametrize(
    ("name", "header", "missing"),
    [
        ("no-time.csv", "MMSI,LAT,LON,SOG", "time"),
        ("no-position.csv", "MMSI,BaseDateTime,SOG,COG", "lat, lon"),
        ("dma.txt", "# Timestamp,Type of mobile,MMSI,Latitude,SOG", "lon"),
        ("only-mmsi.csv.gz", "MMSI", "lat, lon, time"),
    ],
)
def test_a_csv_missing_required_columns_is_an_error_not_nmea(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, header: str, missing: str
) -> None:
    path = tmp_path / name
    content = f"{header}\n533180734,1,2,3\n".encode()
    if name.endswith(".gz"):
        import gzip

        content = gzip.compress(content)
    path.write_bytes(content)
    with pytest.raises(SourceError, match=f"without the column.s. it needs: {missing}"):
        is_csv(path)
    for command in (["decode", str(path)], ["replay", "--no-shore", str(path), "-o", str(tmp_path / "a.jsonl")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"without the column(s) it needs: {missing}" in err and len(err.strip().splitlines()) == 1


def test_an_nmea_log_is_still_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\n")
    assert is_csv(path) is False


def test_replay_and_decode_count_bad_csv_rows_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ais.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert main(["decode", str(path), "-o", str(tmp_path / "r.jsonl")]) == 0
    decoded = capsys.readouterr().err
    assert main(["replay", "--no-shore", str(path), "-o", str(tmp_path / "a.jsonl")]) == 0
    replayed = capsys.readouterr().err
    assert re.search(r"from 4 lines", decoded) and "rejected 3: bad_csv_row 3" in decoded
    assert "lines: 4;" in replayed and "rejected input: 3 (bad_csv_row 3)" in replayed


@pytest.mark.parametrize("payload", [b"", b"   ", b"\r\n\r\n", b"\n"])
def test_an_empty_mqtt_payload_is_counted_as_a_reject(payload: bytes) -> None:
    pipeline = Pipeline()
    assert pipeline.feed_payload(payload, T0, "ais/rx").reports == []
    assert pipeline.decoder.stats.rejects == {RejectReason.EMPTY: 1}
