"""What the map's own server side gives it: vessel search, alert receive times, the land files."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely

from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status
from seawatch.core.fleet import Fleet
from seawatch.core.model import PositionReport, StaticReport
from seawatch.web.pagestream import MAX_EVENTS_PER_ALERT, ReceivedTimes
from seawatch.web.routes.search import search_vessels

ROOT = Path(__file__).resolve().parents[2]
LAND = ROOT / "seawatch" / "web" / "static" / "land"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _fleet() -> Fleet:
    fleet = Fleet()
    ships = [
        (533_000_101, "KM BAHARI", "9MAB1", 9_000_001),
        (533_000_102, "BAHARI JAYA", "9MAB2", 9_000_002),
        (525_000_777, "SINAR BAHARI 3", "PKXY", None),
        (412_000_001, "OCEAN STAR", "BQAB", 9_533_000),
    ]
    for i, (mmsi, name, callsign, imo) in enumerate(ships):
        when = T0 + timedelta(minutes=i)
        fleet.apply(PositionReport(mmsi, 1, when, 6.0, 96.0 + i, 10.0, 90.0, 90, 0, "rx", True, i))
        static = StaticReport(mmsi, 5, when, name, callsign, imo, 70, 100, 20, source="rx", fingerprint=100 + i)
        fleet.apply(static)
    return fleet


def test_search_ranks_exact_identifiers_then_prefixes_then_names() -> None:
    fleet = _fleet()
    assert [v["mmsi"] for v in search_vessels(fleet, "533000101")] == [533_000_101]
    assert [v["mmsi"] for v in search_vessels(fleet, "5330001")] == [533_000_102, 533_000_101]  # newest first
    assert search_vessels(fleet, "9mab2")[0]["mmsi"] == 533_000_102
    assert search_vessels(fleet, "9mab2")[0]["matched"] == "callsign"
    assert [v["mmsi"] for v in search_vessels(fleet, "IMO 9000001")] == [533_000_101]
    # a name that starts with the query before one that only contains it; case and spaces do not matter
    assert [v["mmsi"] for v in search_vessels(fleet, "  bahari ")] == [533_000_102, 525_000_777, 533_000_101]
    assert search_vessels(fleet, "9533000")[0]["mmsi"] == 412_000_001  # an IMO that is also an MMSI prefix
    assert search_vessels(fleet, "") == [] and search_vessels(fleet, "nothing like it") == []
    assert len(search_vessels(fleet, "a", limit=2)) == 2


def _event(alert_id: str, sequence: int) -> AlertEvent:
    return AlertEvent(
        id=alert_id,
        event=EventType.OPENED if sequence == 1 else EventType.UPDATED,
        sequence=sequence,
        kind=Kind.DISTRESS,
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        test=False,
        mmsi=970_000_001,
        vessel=None,
        other=None,
        lat=6.0,
        lon=96.0,
        zone=None,
        zones=(),
        observed_at=T0,
        opened_at=T0,
        summary="test",
        evidence={},
    )


def test_receive_times_are_the_clock_at_the_first_sight_of_each_event_and_bounded() -> None:
    clock = [T0 + timedelta(hours=6)]
    times = ReceivedTimes(clock=lambda: clock[0], max_alerts=2)
    times(_event("a", 1))
    clock[0] += timedelta(seconds=5)
    times(_event("a", 1))  # the same event again (a replayed sink call): its first receipt stands
    times(_event("a", 2))
    assert times.of("a") == {1: T0 + timedelta(hours=6), 2: T0 + timedelta(hours=6, seconds=5)}
    summary = times.summary()["a"]
    assert (summary["first_sequence"], summary["sequence"]) == (1, 2)
    assert summary["last"] == "2026-03-01T06:00:05Z"
    times(_event("b", 1))
    times(_event("c", 1))  # a third alert: the least recently updated ("a") is forgotten
    assert times.of("a") == {} and set(times.summary()) == {"b", "c"}
    for sequence in range(2, MAX_EVENTS_PER_ALERT + 10):
        times(_event("b", sequence))
    kept = times.of("b")
    assert len(kept) == MAX_EVENTS_PER_ALERT and 1 in kept and MAX_EVENTS_PER_ALERT + 9 in kept


def _decode_tile(path: Path) -> list[shapely.Polygon]:
    doc = json.loads(path.read_text(encoding="ascii"))
    out = []
    for polygon in doc["p"]:
        rings = []
        for flat in polygon:
            x = y = 0
            ring = []
            for i in range(0, len(flat), 2):
                x += flat[i]
                y += flat[i + 1]
                ring.append((x / doc["q"], y / doc["q"]))
            rings.append(ring)
        out.append(shapely.Polygon(rings[0], rings[1:]))
    return out


def test_the_land_files_are_small_complete_and_put_the_coast_where_it_is() -> None:
    manifest = json.loads((LAND / "manifest.json").read_text(encoding="ascii"))
    total = sum(p.stat().st_size for p in LAND.rglob("*.json"))
    assert total < 4_000_000, f"the land files grew to {total:,} bytes"
    zooms = [(b["min_zoom"], b["max_zoom"]) for b in manifest["bands"]]
    assert zooms[0][0] == 0 and all(a[1] + 1 == b[0] for a, b in itertools.pairwise(zooms))
    for band in manifest["bands"]:
        files = {p.stem for p in (LAND / band["name"]).glob("*.json")}
        assert files == {f"{w:g}_{s:g}" for w, s in band["tiles"]}, band["name"]
    # the finest band: Banda Aceh is land, the sea off Pulau Weh is not
    aceh = shapely.MultiPolygon(_decode_tile(LAND / "z10" / "95_5.json"))
    assert aceh.contains(shapely.Point(95.42, 5.50))
    assert not aceh.contains(shapely.Point(95.20, 5.65))
    coarse = shapely.MultiPolygon(_decode_tile(LAND / "z0" / "85_-20.json"))
    assert coarse.contains(shapely.Point(96.9, 4.3)) and not coarse.contains(shapely.Point(92.0, 4.0))
