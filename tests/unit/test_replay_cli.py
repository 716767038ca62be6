"""``seawatch replay``: an NMEA log in, alert events out as JSON Lines, through the real command.

The logs are written here with pyais and NMEA 4 tag blocks (``\\c:<epoch>*hh\\``), over zones
written here too, and replayed with ``--no-shore`` (only risk zones are open water), so the
test needs neither the repository's zones nor the coastline mask.
"""

from __future__ import annotations

import json
import os
from functools import reduce
from pathlib import Path
from typing import Any

import pyais
import pytest

from seawatch.cli import main

EPOCH = 1_709_251_200  # 2024-03-01T00:00:00Z
SART = 970123456
SHIP = 525000001
LAT, LON = 10.5, 60.5  # inside the test risk zone
DESIGN_FIELDS = (
    "id",
    "event",
    "kind",
    "severity",
    "status",
    "test",
    "mmsi",
    "vessel",
    "lat",
    "lon",
    "zone",
    "observed_at",
    "summary",
    "evidence",
)


def tag_block(epoch: float, station: str | None = None) -> str:
    """An NMEA 4 tag block with its own checksum (XOR of the characters between ``\\`` and ``*``)."""
    body = f"s:{station},c:{int(epoch)}" if station else f"c:{int(epoch)}"
    checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"\\{body}*{checksum:02X}\\"


def sentences(data: dict[str, Any], seq_id: int | None = None) -> list[str]:
    return list(pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=seq_id))


def tagged(epoch: float, data: dict[str, Any]) -> list[str]:
    """Every sentence of one message, each with the tag block (multipart parts included)."""
    return [tag_block(epoch) + s for s in sentences(data, seq_id=1)]


def sart_position(epoch: float, status: int = 14) -> list[str]:
    return tagged(
        epoch,
        {"type": 1, "mmsi": SART, "status": status, "lat": LAT, "lon": LON, "speed": 0, "course": 0, "heading": 511},
    )


def sart_log(minutes: float) -> list[str]:
    """An active AIS-SART: 8 reports a minute (the burst of ITU-R M.1371 AIS-SART)."""
    lines: list[str] = []
    for i in range(int(minutes * 8)):
        lines += sart_position(EPOCH + i * 7.5)
    return lines


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def write_zones(directory: Path) -> Path:
    directory.mkdir()
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": "test-risk",
                    "name": "Test risk zone",
                    "kind": "risk",
                    "severity": "high",
                    "source": "drawn for a test",
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[60.0, 10.0], [61.0, 10.0], [61.0, 11.0], [60.0, 11.0], [60.0, 10.0]]],
                },
            }
        ],
    }
    (directory / "test.geojson").write_text(json.dumps(doc), encoding="utf-8")
    return directory


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory: no ./seawatch.toml, no SEAWATCH_* variables, test zones in tmp."""
    for name in list(os.environ):
        if name.startswith("SEAWATCH_"):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    write_zones(tmp_path / "zones")
    return tmp_path


def replay(work: Path, log: Path, out: Path, *extra: str) -> int:
    return main(["replay", str(log), "-o", str(out), "--zones", str(work / "zones"), "--no-shore", *extra])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_active_sart_gives_one_opened_distress_line(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(work / "sart.nmea", sart_log(2))  # 16 reports over 2 minutes
    out = work / "alerts.jsonl"
    assert replay(work, log, out) == 0
    rows = read_jsonl(out)
    assert len(rows) == 1
    row = rows[0]
    assert set(DESIGN_FIELDS) <= set(row)
    assert (row["event"], row["kind"], row["severity"], row["status"], row["test"]) == (
        "alert.opened",
        "distress",
        "critical",
        "open",
        False,
    )
    assert row["id"].startswith("distress-")
    assert row["mmsi"] == SART
    assert row["vessel"]["mmsi"] == SART
    assert row["vessel"]["class"] == "A"
    assert (row["lat"], row["lon"]) == (LAT, LON)
    assert row["zone"] == {"id": "test-risk", "name": "Test risk zone"}
    assert row["observed_at"] == "2024-03-01T00:00:00Z"
    assert row["summary"] == "AIS-SART ACTIVE: MMSI 970123456 at 10.5000N 60.5000E in Test risk zone."
    assert row["evidence"]["signal"] == "nav_status_14"
    err = capsys.readouterr().err
    distress_rows = [row.split() for row in err.splitlines() if row.startswith("distress ")]
    assert [row[-1] for row in distress_rows] == ["1"]  # the summary table: one distress alert opened
    assert "16 lines" in err


def test_two_runs_are_byte_identical(work: Path) -> None:
    # Fifteen minutes of SART (escalations and updates), a test beacon and a MAYDAY.
    lines = sart_log(15)
    for i in range(8):
        lines += tagged(
            EPOCH + 30 + i * 7.5,
            {"type": 1, "mmsi": 970000002, "status": 15, "lat": 10.6, "lon": 60.6, "speed": 0, "course": 0},
        )
    lines += tagged(EPOCH + 60, {"type": 1, "mmsi": SHIP, "status": 0, "lat": 10.4, "lon": 60.4, "speed": 5})
    lines += tagged(EPOCH + 90, {"type": 14, "mmsi": SHIP, "text": "MAYDAY ENGINE FAILURE"})
    lines.sort(key=lambda line: int(line.split("c:")[1].split("*")[0]))
    log = write_log(work / "mixed.nmea", lines)
    first, second = work / "a.jsonl", work / "b.jsonl"
    assert replay(work, log, first) == 0
    assert replay(work, log, second) == 0
    assert first.read_bytes() == second.read_bytes()
    rows = read_jsonl(first)
    assert len(rows) > 5
    opened = sorted((r["kind"], r["mmsi"], r["test"]) for r in rows if r["event"] == "alert.opened")
    assert ("distress", SART, False) in opened
    assert ("distress", 970000002, True) in opened
    assert ("distress", SHIP, False) in opened
    escalations = [r["observed_at"] for r in rows if r["mmsi"] == SART and "escalation" in r["evidence"]]
    assert escalations == ["2024-03-01T00:05:00Z"]


def test_missing_zones_directory_exits_2_with_a_clear_message(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(work / "sart.nmea", sart_log(1))
    missing = work / "no-such-zones"
    code = main(["replay", str(log), "-o", str(work / "out.jsonl"), "--zones", str(missing), "--no-shore"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("seawatch: ")
    assert f"zones directory {str(missing)!r} not found" in err


def test_rules_with_an_unknown_key_exit_2_naming_file_and_key(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(work / "sart.nmea", sart_log(1))
    rules = work / "rules.toml"
    rules.write_text("[distress]\nescalate_every_s = 300\nescalate_evry_s = 60\n", encoding="utf-8")
    out = work / "out.jsonl"
    assert replay(work, log, out, "--rules", str(rules)) == 2
    err = capsys.readouterr().err
    assert f"{rules}: [distress].escalate_evry_s: unknown setting" in err
    assert not out.exists() or out.read_text() == ""


def test_missing_log_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(work, work / "nope.nmea", work / "out.jsonl") == 2
    assert "no such file" in capsys.readouterr().err


HOSTILE_TEXT = "<IMG SRC=X ONERROR=ALERT(1)>"
# An AIS name holds 20 six-bit characters: as much of a hostile string as fits, with JSON's own
# special characters (a quote and a backslash) in it.
HOSTILE_NAMES = {5: '"><IMG SRC=X\\ONERR>', 24: "<IMG SRC=X ONERROR=>"}


@pytest.mark.parametrize("msg_type", [5, 24])
def test_hostile_vessel_name_arrives_verbatim_in_valid_json(work: Path, msg_type: int) -> None:
    name = HOSTILE_NAMES[msg_type]
    assert len(name) <= 20
    if msg_type == 5:
        static = {"type": 5, "mmsi": SHIP, "shipname": name, "ship_type": 30, "to_bow": 8, "to_stern": 4}
    else:
        static = {"type": 24, "mmsi": SHIP, "partno": 0, "shipname": name}
    lines = tagged(EPOCH, static)
    lines += tagged(EPOCH + 10, {"type": 1, "mmsi": SHIP, "status": 0, "lat": LAT, "lon": LON, "speed": 10})
    lines += tagged(EPOCH + 20, {"type": 14, "mmsi": SHIP, "text": f"MAYDAY {HOSTILE_TEXT}"})
    log = write_log(work / "hostile.nmea", lines)
    out = work / "alerts.jsonl"
    assert replay(work, log, out) == 0
    text = out.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]  # every line is valid JSON
    assert [(r["event"], r["kind"]) for r in rows] == [("alert.opened", "distress")]
    row = rows[0]
    assert row["vessel"]["name"] == name
    assert row["summary"].startswith(f"MAYDAY call ACTIVE: {name} (MMSI {SHIP})")
    assert row["evidence"]["text"] == f"MAYDAY {HOSTILE_TEXT}"
    assert HOSTILE_TEXT in text  # not HTML-escaped: escaping is the page's job
    assert "&lt;" not in text and "\\u003c" not in text.lower()


def test_several_logs_are_merged_in_event_time(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two receivers heard a beacon and a ship in turn: replayed together they are the one feed they split."""
    lines: list[str] = []
    for i in range(48):  # 6 minutes; the ship moves on, the beacon stays
        lines += sart_position(EPOCH + i * 7.5)
        ship = {"type": 1, "mmsi": SHIP, "lat": LAT, "lon": LON + 0.002 * i, "speed": 8.0, "course": 90.0}
        lines += tagged(EPOCH + i * 7.5 + 1, ship)
    whole = write_log(work / "whole.nmea", lines)
    first = write_log(work / "rx-a.nmea", [line for n, line in enumerate(lines) if n % 3 != 2])
    second = write_log(work / "rx-b.nmea", lines[2::3])

    def run(*logs: Path) -> tuple[str, str]:
        out, tracks = work / "out.jsonl", work / "tracks.csv"
        args = ["replay", *map(str, logs), "-o", str(out), "--tracks", str(tracks), "--zones", str(work / "zones")]
        assert main([*args, "--no-shore"]) == 0, capsys.readouterr().err
        return out.read_text(encoding="utf-8"), tracks.read_text(encoding="utf-8")

    merged = run(first, second)
    assert merged == run(whole)
    assert "lines: 96" in capsys.readouterr().err
    # read one after the other instead, the second receiver's hour would run backwards
    together = write_log(work / "concatenated.nmea", first.read_text().splitlines() + second.read_text().splitlines())
    assert run(together) != merged


def test_an_untimed_log_still_raises_distress_and_says_it_had_no_times(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = [s for _ in range(8) for s in sentences({"type": 1, "mmsi": SART, "status": 14, "lat": LAT, "lon": LON})]
    bare += sentences({"type": 14, "mmsi": SHIP, "text": "MAYDAY 30 PERSONS SINKING"})
    log = write_log(work / "untimed.nmea", bare)
    out = work / "out.jsonl"
    assert replay(work, log, out) == 0
    opened = [(e["kind"], e["mmsi"]) for e in read_jsonl(out) if e["event"] == "alert.opened"]
    assert opened == [("distress", SART), ("distress", SHIP)]
    assert "reports without any timestamp: 9" in capsys.readouterr().err
