"""``seawatch decode``: the JSON Lines / CSV output contract, run in-process and as a process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyais
import pytest

from seawatch.cli import main
from seawatch.core.decode import nmea_checksum

REPO = Path(__file__).resolve().parents[2]

BASE = {"mmsi", "mmsi_valid", "msg_type", "observed_at"}
POSITION = BASE | {"lat", "lon", "sog_kn", "cog_deg", "heading_deg", "nav_status"}
STATIC = BASE | {"name", "callsign", "imo", "ship_type", "length_m", "beam_m", "destination"}
TEXT = BASE | {"text"}
CSV_HEADER = [
    "mmsi",
    "mmsi_valid",
    "msg_type",
    "observed_at",
    "lat",
    "lon",
    "sog_kn",
    "cog_deg",
    "heading_deg",
    "nav_status",
    "name",
    "callsign",
    "imo",
    "ship_type",
    "length_m",
    "beam_m",
    "destination",
    "text",
]

TYPE1 = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"
TYPE1_B = b"!AIVDM,1,1,,A,133sVfPP00PD>hRMDH@jNOvN20S8,0*7F"
HOSTILE_NAME = '"><SCRIPT>ALERT(1)//'
HOSTILE_CALLSIGN = "<B>'&\""
HOSTILE_DESTINATION = "<IMG SRC=X ONERROR="


def tag(text: str) -> bytes:
    raw = text.encode("ascii")
    return b"\\" + raw + b"*%02X\\" % nmea_checksum(raw)


def encode(data: dict[str, Any], seq_id: int | None = None) -> list[bytes]:
    return [s.encode() for s in pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=seq_id)]


def sample_lines() -> list[bytes]:
    return [
        tag("s:rx1,c:1700000000") + TYPE1,
        *encode(
            {
                "type": 5,
                "mmsi": 211000001,
                "imo": 1234567,
                "shipname": HOSTILE_NAME,
                "callsign": HOSTILE_CALLSIGN,
                "ship_type": 30,
                "to_bow": 10,
                "to_stern": 5,
                "to_port": 2,
                "to_starboard": 3,
                "destination": HOSTILE_DESTINATION,
            },
            seq_id=2,
        ),
        b"this is not AIS",
        TYPE1_B[:-2] + b"00",  # bad checksum
        *encode({"type": 14, "mmsi": 970012345, "text": "SART ACTIVE"}),
        *encode({"type": 4, "mmsi": 2190048, "lat": 55.5, "lon": 12.25}),
        *encode(
            {
                "type": 19,
                "mmsi": 525000001,
                "lat": -10.5,
                "lon": 105.75,
                "speed": 102.3,
                "course": 360,
                "heading": 511,
                "shipname": "KAPAL",
                "ship_type": 30,
                "to_bow": 10,
                "to_stern": 5,
                "to_port": 2,
                "to_starboard": 2,
            }
        ),
        TYPE1_B,
    ]


EXPECTED_ROWS: list[dict[str, Any]] = [
    {
        "mmsi": 227006760,
        "mmsi_valid": True,
        "msg_type": 1,
        "observed_at": "2023-11-14T22:13:20Z",
        "lat": 49.475577,
        "lon": 0.13138,
        "sog_kn": 0.0,
        "cog_deg": 36.7,
        "heading_deg": None,
        "nav_status": 0,
    },
    {
        "mmsi": 211000001,
        "mmsi_valid": True,
        "msg_type": 5,
        "observed_at": None,
        "name": HOSTILE_NAME,
        "callsign": HOSTILE_CALLSIGN,
        "imo": 1234567,
        "ship_type": 30,
        "length_m": 15,
        "beam_m": 5,
        "destination": HOSTILE_DESTINATION,
    },
    {"mmsi": 970012345, "mmsi_valid": True, "msg_type": 14, "observed_at": None, "text": "SART ACTIVE"},
    {"mmsi": 2190048, "mmsi_valid": True, "msg_type": 4, "observed_at": None, "lat": 55.5, "lon": 12.25},
    {
        "mmsi": 525000001,
        "mmsi_valid": True,
        "msg_type": 19,
        "observed_at": None,
        "lat": -10.5,
        "lon": 105.75,
        "sog_kn": None,
        "cog_deg": None,
        "heading_deg": None,
        "nav_status": None,
        "name": "KAPAL",
        "callsign": None,
        "imo": None,
        "ship_type": 30,
        "length_m": 15,
        "beam_m": 4,
        "destination": None,
    },
    {
        "mmsi": 205448890,
        "mmsi_valid": True,
        "msg_type": 1,
        "observed_at": None,
        "lat": 51.237658,
        "lon": 4.419442,
        "sog_kn": 0.0,
        "cog_deg": 63.3,
        "heading_deg": None,
        "nav_status": 0,
    },
]


@pytest.fixture
def sample_log(tmp_path: Path) -> Path:
    path = tmp_path / "sample.nmea"
    path.write_bytes(b"\r\n".join(sample_lines()) + b"\r\n")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_decode_writes_documented_json_lines_in_input_order(
    sample_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(sample_log), "-o", str(out)]) == 0
    rows = read_jsonl(out)
    assert rows == EXPECTED_ROWS
    assert list(rows[0]) == CSV_HEADER[:10]  # a position report's keys, in order
    err = capsys.readouterr().err
    assert "rejected 2:" in err
    assert "not_ais 1" in err
    assert "bad_checksum 1" in err


def test_hostile_text_is_written_verbatim(sample_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(sample_log), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    static = next(row for row in read_jsonl(out) if row["msg_type"] == 5)
    assert static["name"] == HOSTILE_NAME
    assert static["callsign"] == HOSTILE_CALLSIGN
    assert static["destination"] == HOSTILE_DESTINATION
    assert "<SCRIPT>ALERT(1)//" in text  # JSON text, not HTML-escaped
    assert "&lt;" not in text and "\\u003c" not in text


def test_hostile_name_of_the_issue_is_kept_as_far_as_ais_carries_it(tmp_path: Path) -> None:
    # A type 5 name holds 20 characters: the rest of the string cannot travel over AIS.
    log = tmp_path / "xss.nmea"
    log.write_bytes(b"\n".join(encode({"type": 5, "mmsi": 211000009, "shipname": "<IMG SRC=X ONERROR=ALERT(1)>"})))
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(log), "-o", str(out)]) == 0
    assert [row["name"] for row in read_jsonl(out)] == ["<IMG SRC=X ONERROR=A"]


def test_rejected_lines_do_not_change_the_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "junk.nmea"
    log.write_bytes(b"junk\n\x00\x01\x02\n!AIVDM,1,1,,B,,0*25\n" + "é".encode() + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(log), "-o", str(out)]) == 0
    assert out.read_text() == ""
    err = capsys.readouterr().err
    assert "rejected 4:" in err
    for reason in ("not_ais 2", "empty_payload 1", "malformed 1"):
        assert reason in err


def test_several_files_keep_their_order(sample_log: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.nmea"
    second.write_bytes(TYPE1_B + b"\n" + TYPE1 + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(second), str(sample_log), "-o", str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["mmsi"] for r in rows[:2]] == [205448890, 227006760]
    assert rows[2:] == EXPECTED_ROWS


def test_missing_file_fails_with_one_line_naming_it(
    sample_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-log.nmea"
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(sample_log), str(missing), "-o", str(out)]) != 0
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err_lines) == 1
    assert str(missing) in err_lines[0]
    assert not out.exists()


def test_directory_instead_of_a_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path), "-o", str(tmp_path / "out.jsonl")]) != 0
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err_lines) == 1 and str(tmp_path) in err_lines[0]


def test_csv_format(sample_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert main(["decode", str(sample_log), "-o", str(out), "--format", "csv"]) == 0
    with out.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert header == CSV_HEADER
    assert len(rows) == len(EXPECTED_ROWS)
    for row, expected in zip(rows, EXPECTED_ROWS, strict=True):
        assert len(row) == len(CSV_HEADER)
        as_dict = dict(zip(CSV_HEADER, row, strict=True))
        for key in CSV_HEADER:
            value = expected.get(key)
            assert as_dict[key] == ("" if value is None else str(value)), (key, row)


def test_stdout_is_the_default_output(sample_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(sample_log)]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line) for line in captured.out.splitlines()] == EXPECTED_ROWS
    assert "rejected 2:" in captured.err


def test_as_a_separate_process(sample_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "decode", str(sample_log), "-o", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert read_jsonl(out) == EXPECTED_ROWS
    assert "rejected 2:" in done.stderr

    missing = tmp_path / "missing.nmea"
    failed = subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "decode", str(missing)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert "Traceback" not in failed.stderr
    err_lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(err_lines) == 1
    assert str(missing) in err_lines[0]


# ------------------------------------------------------------- recordings vs pyais
# Message types whose rows carry the position keys: class A/B/long-range positions,
# base stations, SAR aircraft, DGNSS broadcasts and aids to navigation.
POSITION_ROW_TYPES = frozenset({1, 2, 3, 4, 9, 17, 18, 19, 21, 27})


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["mmsi"], row["msg_type"], row.get("lat"), row.get("lon"), row.get("sog_kn"), row.get("cog_deg"))


def _project(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return key if key[1] in POSITION_ROW_TYPES else key[:2]


def test_decode_output_of_a_recording_has_every_pyais_message(
    recording: Path,
    tmp_path: Path,
    pyais_reference: Callable[[Path], tuple[Any, ...]],
    oracle_key: Callable[[Any], tuple[Any, ...]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(recording), "-o", str(out)]) == 0
    rows = read_jsonl(out)
    expected = Counter(_project(oracle_key(m)) for m in pyais_reference(recording))
    ours = Counter(_project(_row_key(row)) for row in rows)
    missing = expected - ours
    assert not missing, list(missing)[:5]
    for row in rows:
        keys = set(row)
        t = row["msg_type"]
        if t in (1, 2, 3, 18, 27):
            assert keys == POSITION, row
        elif t == 19:
            assert keys == POSITION | STATIC, row
        elif t in (5, 24):
            assert keys == STATIC, row
        elif t in (12, 14):  # addressed and broadcast safety texts
            assert keys == TEXT, row
        else:
            assert BASE <= keys <= POSITION, row
        if row["observed_at"] is not None:
            assert row["observed_at"].endswith("Z")
    assert "rejected" in capsys.readouterr().err


# Real sentences (typeexamples.nmea and stream_example.txt) of types that carry a
# position pyais decodes, but whose rows in the decode output have no lat/lon keys.
POSITIONS_OUTSIDE_THE_ROW_TYPES = [
    pytest.param(b"!AIVDM,1,1,,B,;5NDk68>1pJtJ68HggG88R4fP0GP,0*39", id="type 11 UTC/date response"),
    pytest.param(
        b"!--VDM,1,1,,A,802R5Ph0BkAgoPNCkQn0Q@sMKgwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwt,2*57",
        id="type 8 DAC 1 FI 11 meteo-hydro",
    ),
]


@pytest.mark.parametrize("sentence", POSITIONS_OUTSIDE_THE_ROW_TYPES)
def test_decode_output_keeps_every_position_pyais_decodes(sentence: bytes, tmp_path: Path) -> None:
    log = tmp_path / "one.nmea"
    log.write_bytes(sentence + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(log), "-o", str(out)]) == 0
    reference: Any = pyais.decode(sentence)
    [row] = read_jsonl(out)
    assert (row["mmsi"], row["msg_type"]) == (reference.mmsi, reference.msg_type)
    assert (row.get("lat", "absent"), row.get("lon", "absent")) == (reference.lat, reference.lon)


def test_json_lines_are_utf8_and_one_object_per_line(sample_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(sample_log), "-o", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == len(EXPECTED_ROWS)
    assert all(isinstance(json.load(io.StringIO(line)), dict) for line in lines)


def test_decode_reads_marinecadastre_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ais.csv"
    src.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
        "Length,Width,Draft,Cargo,TransceiverClass\n"
        "525000123,2024-03-01T02:00:00,-10.5,123.2,0.4,181.0,511,KM PERAHU,,YB123,30,7,14,4,,,B\n"
        "not-a-number,2024-03-01T02:00:00,-10.5,123.2,0.4,181.0,511,,,,,,,,,,A\n"
    )
    out = tmp_path / "out.jsonl"
    assert main(["decode", str(src), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    positions = [r for r in rows if "lat" in r]
    assert positions == [
        {
            "mmsi": 525000123,
            "mmsi_valid": True,
            "msg_type": 18,
            "observed_at": "2024-03-01T02:00:00Z",
            "lat": -10.5,
            "lon": 123.2,
            "sog_kn": 0.4,
            "cog_deg": 181.0,
            "heading_deg": None,
            "nav_status": 7,
        }
    ]
    assert any(r.get("name") == "KM PERAHU" for r in rows)
    assert "bad_csv_row 1" in capsys.readouterr().err


def test_an_invalid_mmsi_is_kept_and_flagged_in_json_and_csv(tmp_path: Path) -> None:
    """MMSIs such as 009… are seen off Thailand and Malaysia: kept, and marked so an analyst can tell."""
    lines = [
        *encode({"type": 1, "mmsi": 9123456, "lat": 6.5, "lon": 99.5, "speed": 3.0, "course": 90.0, "status": 0}),
        *encode({"type": 1, "mmsi": 525000001, "lat": 6.5, "lon": 99.6, "speed": 3.0, "course": 90.0, "status": 0}),
    ]
    log = tmp_path / "mixed.nmea"
    log.write_bytes(b"\n".join(lines) + b"\n")
    out_json, out_csv = tmp_path / "out.jsonl", tmp_path / "out.csv"
    assert main(["decode", str(log), "-o", str(out_json)]) == 0
    assert [(r["mmsi"], r["mmsi_valid"]) for r in read_jsonl(out_json)] == [(9123456, False), (525000001, True)]
    assert main(["decode", str(log), "-o", str(out_csv), "--format", "csv"]) == 0
    with out_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["mmsi"], r["mmsi_valid"]) for r in rows] == [("9123456", "False"), ("525000001", "True")]
