"""Every detector through the real pipeline, over tiny hand-built tracks with exact expected times.

The sea here is a made-up patch of the Arabian Sea, far from any real zone: one risk zone,
a port inside it and a disembarkation zone to the east. Reports are built as the decoder
would build them and fed with ``Pipeline.apply``. Without a coastline (``shore=None``) only
the risk zone is open water; "far offshore" elsewhere is a one-line shore function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity
from seawatch.core.geo import KN_TO_MS, METRES_PER_NM, destination, distance_m, fast_distance_m
from seawatch.core.model import PositionReport, Report, SafetyText, StaticReport
from seawatch.core.pipeline import Pipeline
from seawatch.core.rules import DriftingRules, Rules
from seawatch.core.watch import Watch
from seawatch.core.zones import ZoneIndex, parse_zones

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)

# The risk zone spans lon 60–61, lat 10–11; a port sits inside it; the landing zone lies east.
RISK = (60.0, 10.0, 61.0, 11.0)
PORT = (60.40, 10.40, 60.45, 10.45)
LANDING = (61.4, 10.3, 61.6, 10.7)
IN_RISK = (10.7, 60.7)  # (lat, lon) well inside the risk zone, away from the port
OPEN_SEA = (5.0, 65.0)  # in no zone


def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def make_zones() -> ZoneIndex:
    def feature(zone_id: str, kind: str, severity: str, box: tuple[float, float, float, float]) -> dict[str, Any]:
        return {
            "type": "Feature",
            "properties": {"id": zone_id, "name": zone_id.title(), "kind": kind, "severity": severity, "source": "t"},
            "geometry": {"type": "Polygon", "coordinates": square(*box)},
        }

    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("risk", "risk", "high", RISK),
            feature("port", "port", "info", PORT),
            feature("landing", "disembarkation", "medium", LANDING),
        ],
    }
    problems: list[str] = []
    zones = parse_zones(doc, "test", problems)
    assert problems == []
    return ZoneIndex(zones)


ZONES = make_zones()

Shore = Callable[[float, float], float]
FAR_OFFSHORE: Shore = lambda lat, lon: 50_000.0  # noqa: E731 - beyond every offshore threshold
NEAR_SHORE: Shore = lambda lat, lon: 1_000.0  # noqa: E731


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def secs(when: datetime) -> float:
    return (when - T0).total_seconds()


class _Keeping(Pipeline):
    """The pipeline, keeping the events each call returns until the test takes them."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(watch=watch)
        self.kept: list[AlertEvent] = []

    def apply(self, report: Report) -> list[AlertEvent]:
        events = super().apply(report)
        self.kept += events
        return events

    def tick(self, now: datetime) -> list[AlertEvent]:
        events = super().tick(now)
        self.kept += events
        return events

    def finish(self) -> list[AlertEvent]:
        events = super().finish()
        self.kept += events
        return events


class Sea:
    """A pipeline with a watch, and every alert event it produced."""

    def __init__(self, shore: Shore | None = None, rules: Rules | None = None) -> None:
        self.pipeline = _Keeping(Watch(ZONES, rules or Rules(), shore))
        self.events: list[AlertEvent] = []

    def _take(self) -> list[AlertEvent]:
        taken, self.pipeline.kept = self.pipeline.kept, []
        self.events.extend(taken)
        return taken

    def pos(
        self,
        mmsi: int,
        t: float,
        lat: float,
        lon: float,
        sog: float | None = 0.5,
        cog: float | None = None,
        heading: int | None = None,
        status: int | None = None,
        msg_type: int = 1,
        source: str = "rx1",
    ) -> list[AlertEvent]:
        report = PositionReport(mmsi, msg_type, at(t), lat, lon, sog, cog, heading, status, source)
        self.pipeline.apply(report)
        return self._take()

    def static(
        self, mmsi: int, t: float, length_m: int | None, ship_type: int | None, msg_type: int = 5, name: str = ""
    ) -> None:
        self.pipeline.apply(
            StaticReport(mmsi, msg_type, at(t), name or None, ship_type=ship_type, length_m=length_m, source="rx1")
        )
        self._take()

    def text(self, mmsi: int, t: float, text: str) -> list[AlertEvent]:
        self.pipeline.apply(SafetyText(mmsi, 14, at(t), text, "rx1"))
        return self._take()

    def tick(self, t: float) -> list[AlertEvent]:
        self.pipeline.tick(at(t))
        return self._take()

    def finish(self) -> list[AlertEvent]:
        self.pipeline.finish()
        return self._take()

    def of(self, kind: Kind) -> list[AlertEvent]:
        return [e for e in self.events if e.kind is kind]

    def lifecycle(self, kind: Kind) -> list[tuple[str, float]]:
        """(event, seconds after T0) of the opened and resolved events of one kind."""
        return [
            (e.event.value, secs(e.observed_at))
            for e in self.of(kind)
            if e.event in (EventType.OPENED, EventType.RESOLVED)
        ]


def opened(events: Iterable[AlertEvent], kind: Kind | None = None) -> list[AlertEvent]:
    return [e for e in events if e.event is EventType.OPENED and (kind is None or e.kind is kind)]


def kinds(events: Iterable[AlertEvent]) -> set[Kind]:
    return {e.kind for e in events}


def walk(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    return destination(lat, lon, bearing, metres)


# Small craft: class B, 12 m, no declared type (type 0: a craft of interest). Merchant: class A, cargo, 200 m.
SMALL, SMALL2, MERCHANT, MERCHANT2, OTHER = 525000001, 525000002, 563000001, 563000002, 477000001
SART = 970123456
MOB = 972012345


def small_craft(sea: Sea, mmsi: int = SMALL, t: float = 0, ship_type: int = 0) -> None:
    """Static data of a named 12 m class B craft (a name: it says who it is, if not what it is)."""
    sea.static(mmsi, t, length_m=12, ship_type=ship_type, msg_type=24, name="SMALL CRAFT")


def merchant(sea: Sea, mmsi: int = MERCHANT, t: float = 0) -> None:
    sea.static(mmsi, t, length_m=200, ship_type=70, msg_type=5)


# ====================================================================== distress
def sart_burst(sea: Sea, start: float, minutes: int, status: int = 14, mmsi: int = SART) -> None:
    """An AIS-SART burst: 8 reports a minute (one every 7.5 s), jittering a few metres."""
    lat0, lon0 = IN_RISK
    for i in range(minutes * 8):
        lat, lon = walk(lat0, lon0, (i * 45) % 360, 5.0)
        sea.pos(mmsi, start + i * 7.5, lat, lon, sog=0.0, cog=None, status=status)


def test_active_sart_raises_one_critical_distress() -> None:
    sea = Sea()
    events = sea.pos(SART, 0, *IN_RISK, sog=0.0, status=14)
    assert [(e.event, e.kind, e.severity, e.test, e.mmsi) for e in events] == [
        (EventType.OPENED, Kind.DISTRESS, Severity.CRITICAL, False, SART)
    ]
    assert events[0].zone is not None and events[0].zone.id == "risk"
    assert events[0].observed_at == T0
    assert events[0].evidence["signal"] == "nav_status_14"
    assert events[0].evidence["beacon"] == "AIS-SART"


def test_sart_bursts_for_ten_minutes_stay_one_alert() -> None:
    sea = Sea()
    sart_burst(sea, 0, 10)
    distress = sea.of(Kind.DISTRESS)
    assert len(opened(distress)) == 1
    assert {e.id for e in distress} == {distress[0].id}
    # the only other distress event in ten minutes is the first re-escalation, at 5 min
    updates = [e for e in distress if e.event is EventType.UPDATED]
    assert [(secs(e.observed_at), e.evidence.get("escalation")) for e in updates] == [(300.0, 1)]


def test_a_beacon_raises_only_distress_alerts() -> None:
    sea = Sea()
    sart_burst(sea, 0, 70)
    others_report(sea, 70 * 60, 4 * 3600)
    assert kinds(sea.events) == {Kind.DISTRESS}


def test_sart_status_15_is_a_test_alert() -> None:
    sea = Sea()
    sart_burst(sea, 0, 2, status=15)
    assert [(e.event, e.severity, e.test) for e in opened(sea.events)] == [(EventType.OPENED, Severity.INFO, True)]
    assert "not a distress" in sea.events[0].summary
    sea.tick(3600)
    assert not any(e.evidence.get("escalation") for e in sea.events)


def test_sart_test_text_makes_following_positions_a_test() -> None:
    sea = Sea()
    events = sea.text(SART, 0, "SART TEST")
    for t in range(60, 600, 60):  # positions with status 0 for the next ten minutes
        events += sea.pos(SART, t, *IN_RISK, sog=0.0, status=0)
    distress = [e for e in events if e.kind is Kind.DISTRESS]
    # opened by the text (no position yet), updated at once by the first position
    assert [(e.event, e.test, e.severity) for e in distress] == [
        (EventType.OPENED, True, Severity.INFO),
        (EventType.UPDATED, True, Severity.INFO),
    ]
    assert distress[0].evidence["signal"] == "text:SART TEST"
    assert (distress[0].lat, distress[1].lat) == (None, IN_RISK[0])
    assert all(e.test for e in sea.of(Kind.DISTRESS))
    # once the test transmissions stop for five minutes the test alert resolves
    others_report(sea, 600, 1200)
    assert sea.lifecycle(Kind.DISTRESS) == [("alert.opened", 0.0), ("alert.resolved", 840.0)]


def test_mayday_text_from_an_ordinary_ship_is_a_distress() -> None:
    sea = Sea()
    sea.pos(OTHER, 0, *IN_RISK, sog=6.0, cog=90.0, status=0)
    events = sea.text(OTHER, 30, "MAYDAY MAYDAY 40 PERSONS ON BOARD ENGINE FAILURE")
    assert [(e.event, e.kind, e.severity, e.test, e.mmsi) for e in events] == [
        (EventType.OPENED, Kind.DISTRESS, Severity.CRITICAL, False, OTHER)
    ]
    assert (events[0].lat, events[0].lon) == IN_RISK
    assert events[0].evidence["text"] == "MAYDAY MAYDAY 40 PERSONS ON BOARD ENGINE FAILURE"


def test_ordinary_ship_with_nav_status_14_raises_nothing() -> None:
    sea = Sea()
    for i in range(20):
        sea.pos(OTHER, i * 10, *IN_RISK, sog=0.0, status=14)
    assert sea.events == []


def test_silent_test_beacon_resolves_after_five_minutes() -> None:
    sea = Sea()
    sart_burst(sea, 0, 2, status=15)  # last report at 112.5 s
    for s in range(120, 900, 10):
        sea.pos(OTHER, s, *OPEN_SEA, sog=10.0, cog=0.0)  # the feed goes on
    assert sea.lifecycle(Kind.DISTRESS) == [("alert.opened", 0.0), ("alert.resolved", 412.5)]


def test_silent_real_beacon_stays_open_until_acknowledged() -> None:
    sea = Sea()
    sart_burst(sea, 0, 2)  # last report at 112.5 s
    for s in range(120, 3 * 3600, 60):
        sea.pos(OTHER, s, *OPEN_SEA, sog=10.0, cog=0.0)
    assert sea.lifecycle(Kind.DISTRESS) == [("alert.opened", 0.0)]
    escalations = [secs(e.observed_at) for e in sea.of(Kind.DISTRESS) if "escalation" in e.evidence]
    assert escalations == [300.0, 900.0, 2100.0, 4500.0, 8100.0]
    alert_id = sea.events[0].id
    book = sea.pipeline.watch.book  # type: ignore[union-attr]
    ack = book.acknowledge(alert_id, at(3 * 3600), by="mrcc")
    assert ack is not None
    sea.pos(OTHER, 3 * 3600 + 60, *OPEN_SEA, sog=10.0, cog=0.0)
    resolved = [e for e in sea.of(Kind.DISTRESS) if e.event is EventType.RESOLVED]
    assert [(e.id, secs(e.observed_at)) for e in resolved] == [(alert_id, 3 * 3600.0)]
    assert resolved[0].evidence["resolution"] == "beacon silent for 30 min"


def test_mob_beacon_without_status_is_a_distress() -> None:
    sea = Sea()
    events = sea.pos(MOB, 0, *IN_RISK, sog=0.0, status=None)
    assert [(e.kind, e.test, e.evidence["beacon"]) for e in events] == [(Kind.DISTRESS, False, "MOB beacon")]


# ==================================================================== zone entry
ENTRY_POINT = (10.02, 60.5)  # just inside the south edge
OUTSIDE = (9.98, 60.5)  # just outside it


def came_from_outside(sea: Sea, mmsi: int = SMALL, t: float = -60.0) -> None:
    """A fix outside the zone before the track: an entry is a crossing, not where a boat switched on."""
    sea.pos(mmsi, t, *OUTSIDE, sog=5.0, cog=0.0)


def test_small_craft_enters_after_three_fixes_inside() -> None:
    sea = Sea()
    small_craft(sea)
    sea.pos(SMALL, 0, *OUTSIDE, sog=5.0, cog=0.0)
    for i in range(1, 6):
        sea.pos(SMALL, i * 60, *ENTRY_POINT, sog=5.0, cog=0.0)
    entry = opened(sea.events, Kind.ZONE_ENTRY)
    assert [(secs(e.observed_at), e.zone.id if e.zone else None, e.severity) for e in entry] == [
        (180.0, "risk", Severity.HIGH)
    ]
    assert entry[0].evidence["groups"] == ["small", "unknown_type"]
    assert entry[0].evidence["entered_at"] == "2024-03-01T00:03:00Z"
    assert [(z.id, z.name) for z in entry[0].zones] == [("risk", "Risk")]
    assert kinds(sea.events) == {Kind.ZONE_ENTRY}


def test_two_fixes_inside_then_out_is_nothing() -> None:
    sea = Sea()
    small_craft(sea)
    for i, point in enumerate([OUTSIDE, ENTRY_POINT, ENTRY_POINT, OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE]):
        sea.pos(SMALL, i * 60, *point, sog=5.0, cog=0.0)
    assert sea.events == []


def jitter_pattern() -> str:
    """An hour of one fix a minute along the boundary: in, then weaving (never three out in a row)."""
    return "III" + "OIOOIIOIIIOOIOI" * 4 + "I" * 12


def test_boundary_jitter_for_an_hour_is_one_alert() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    pattern = jitter_pattern()
    assert len(pattern) == 75
    came_from_outside(sea)
    for i, where in enumerate(pattern):
        sea.pos(SMALL, i * 48, *(ENTRY_POINT if where == "I" else OUTSIDE), sog=3.0, cog=90.0)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 96.0)]


def test_boundary_jitter_with_exits_gives_one_alert_within_rearm() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    pattern = "IIIOOOIIIOOOIIIIOOOIIIOIOIOOOIII"  # three exits and re-entries within the hour
    came_from_outside(sea)
    for i, where in enumerate(pattern):
        sea.pos(SMALL, i * 60, *(ENTRY_POINT if where == "I" else OUTSIDE), sog=3.0, cog=90.0)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 120.0), ("alert.resolved", 300.0)]


def test_merchant_ship_entering_raises_nothing() -> None:
    sea = Sea()
    merchant(sea)
    for i in range(10):
        sea.pos(MERCHANT, i * 10, *ENTRY_POINT, sog=14.0, cog=0.0)
    assert sea.events == []


def test_unidentified_vessel_counts_fifteen_minutes_after_first_seen() -> None:
    sea = Sea()
    sea.pos(SMALL, 0, *OUTSIDE, sog=5.0, cog=0.0)
    for i in range(1, 20):
        sea.pos(SMALL, i * 60, *ENTRY_POINT, sog=5.0, cog=90.0)
    entry = opened(sea.events, Kind.ZONE_ENTRY)
    assert [secs(e.observed_at) for e in entry] == [900.0]
    assert entry[0].evidence["groups"] == ["unidentified", "unknown_type"]


def test_leaving_resolves_after_three_fixes_outside() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    came_from_outside(sea)
    for i, point in enumerate([ENTRY_POINT] * 4 + [OUTSIDE] * 4):
        sea.pos(SMALL, i * 60, *point, sog=5.0, cog=0.0)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 120.0), ("alert.resolved", 360.0)]
    resolved = sea.of(Kind.ZONE_ENTRY)[-1]
    assert resolved.evidence["resolution"] == "left Risk"


def test_re_entry_within_rearm_is_quiet_and_after_rearm_alerts_again() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    track = [ENTRY_POINT] * 3 + [OUTSIDE] * 3  # in at 120, out at 300
    came_from_outside(sea)
    for i, point in enumerate(track):
        sea.pos(SMALL, i * 60, *point, sog=5.0, cog=0.0)
    for i, point in enumerate([OUTSIDE] * 10 + [ENTRY_POINT] * 3 + [OUTSIDE] * 3):
        sea.pos(SMALL, 1000 + i * 60, *point, sog=5.0, cog=0.0)  # back in at 1720 (< 300 + 3600)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 120.0), ("alert.resolved", 300.0)]
    for i, point in enumerate([OUTSIDE] * 5 + [ENTRY_POINT] * 3):
        sea.pos(SMALL, 6000 + i * 60, *point, sog=5.0, cog=0.0)  # long after the rearm time
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [
        ("alert.opened", 120.0),
        ("alert.resolved", 300.0),
        ("alert.opened", 6420.0),
    ]
    first, second = opened(sea.events, Kind.ZONE_ENTRY)
    assert first.id != second.id


PORT_POINT = (10.425, 60.425)
RISK_NEAR_PORT = (10.425, 60.46)


def test_a_port_inside_a_risk_zone_is_neither_entry_nor_exit() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    came_from_outside(sea)  # from sea, through the port without stopping (a stop there would make it local)
    for i in range(10):
        sea.pos(SMALL, i * 60, *PORT_POINT, sog=1.5, cog=0.0)
    assert sea.events == []  # ten fixes in port: no entry
    for i, point in enumerate([RISK_NEAR_PORT, RISK_NEAR_PORT, PORT_POINT, RISK_NEAR_PORT]):
        sea.pos(SMALL, 1000 + i * 60, *point, sog=5.0, cog=90.0)
    # the port fix neither counts inside nor breaks the run: entry at the third risk fix
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 1180.0)]
    for i in range(10):
        sea.pos(SMALL, 2000 + i * 60, *PORT_POINT, sog=1.5, cog=0.0)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 1180.0)]  # in port: not an exit


def test_moving_into_a_port_outside_the_risk_zone_is_an_exit() -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": i, "name": i, "kind": k, "severity": "high", "source": "t"},
                "geometry": {"type": "Polygon", "coordinates": square(*box)},
            }
            for i, k, box in [("risk", "risk", RISK), ("outer-port", "port", (61.0, 10.4, 61.1, 10.5))]
        ],
    }
    problems: list[str] = []
    zones = ZoneIndex(parse_zones(doc, "test", problems))
    assert problems == []
    pipeline = Pipeline(watch=Watch(zones, Rules(), None))
    taken = pipeline.apply(StaticReport(SMALL, 24, at(-120), "SMALL CRAFT", length_m=12, ship_type=0))
    taken += pipeline.apply(PositionReport(SMALL, 18, at(-60), 10.6, 61.05, 3.0, 270.0, None, None, "rx1"))  # outside
    for i, lon in enumerate([60.95] * 3 + [61.05] * 5):
        taken += pipeline.apply(PositionReport(SMALL, 18, at(i * 60), 10.45, lon, 3.0, 90.0, None, None, "rx1"))
    events = [(e.event.value, secs(e.observed_at)) for e in taken]
    assert events == [("alert.opened", 120.0), ("alert.resolved", 300.0)]


def test_per_zone_entry_fixes_from_the_rules_file() -> None:
    sea = Sea(rules=Rules(zones={"risk": {"zone_entry": {"entry_fixes": 5}}}))
    small_craft(sea, t=-120)
    came_from_outside(sea)
    for i in range(6):
        sea.pos(SMALL, i * 60, *ENTRY_POINT, sog=5.0, cog=0.0)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 240.0)]


# ===================================================================== loitering
def wander(lat0: float, lon0: float, t: float) -> tuple[float, float]:
    """Back and forth over 200 m east-west, a cycle every 20 minutes (about 0.5 kn)."""
    phase = (t % 1200.0) / 1200.0
    offset = 200.0 * (1 - abs(2 * phase - 1))  # 0 -> 200 m -> 0
    return walk(lat0, lon0, 90.0, offset)


def loiter(sea: Sea, mmsi: int, where: tuple[float, float], minutes: int, start: float = 0) -> None:
    for i in range(minutes + 1):
        t = start + i * 60
        sea.pos(mmsi, t, *wander(*where, t), sog=0.5, cog=90.0 if (t % 1200) < 600 else 270.0, msg_type=18)


def test_small_craft_wandering_in_a_risk_zone_loiters_after_an_hour() -> None:
    sea = Sea()
    small_craft(sea)
    loiter(sea, SMALL, IN_RISK, 70)
    alerts = opened(sea.events, Kind.LOITERING)
    assert [(secs(e.observed_at), e.severity, e.zone.id if e.zone else None) for e in alerts] == [
        (3600.0, Severity.HIGH, "risk")
    ]
    evidence = alerts[0].evidence
    assert evidence["duration_s"] == 3600
    assert evidence["since"] == "2024-03-01T00:00:00Z"
    assert evidence["mean_sog_kn"] == 0.5
    assert evidence["diameter_m"] == pytest.approx(200, abs=2)
    assert sea.lifecycle(Kind.LOITERING) == [("alert.opened", 3600.0)]


def test_loitering_far_from_shore_outside_zones() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    small_craft(sea)
    loiter(sea, SMALL, OPEN_SEA, 70)
    alerts = opened(sea.events, Kind.LOITERING)
    assert [(secs(e.observed_at), e.severity, e.zone) for e in alerts] == [(3600.0, Severity.MEDIUM, None)]
    assert alerts[0].evidence["offshore_nm"] == round(50_000 / METRES_PER_NM, 1)


@pytest.mark.parametrize("shore", [NEAR_SHORE, None], ids=["near-shore", "no-coastline"])
def test_no_loitering_near_shore_outside_zones(shore: Shore | None) -> None:
    sea = Sea(shore=shore)
    small_craft(sea)
    loiter(sea, SMALL, OPEN_SEA, 90)
    assert sea.of(Kind.LOITERING) == []


def test_steady_drift_is_not_loitering() -> None:
    sea = Sea()
    small_craft(sea)
    lat0, lon0 = IN_RISK
    for i in range(91):
        lat, lon = walk(lat0, lon0, 90.0, i * 60 * 1.0 * KN_TO_MS)  # 1 kn due east
        sea.pos(SMALL, i * 60, lat, lon, sog=1.0, cog=90.0, msg_type=18)
    assert sea.of(Kind.LOITERING) == []


def test_fishing_boat_does_not_loiter() -> None:
    sea = Sea()
    small_craft(sea, ship_type=30)
    loiter(sea, SMALL, IN_RISK, 90)
    assert sea.of(Kind.LOITERING) == []


def test_speeding_up_resolves_loitering() -> None:
    sea = Sea()
    small_craft(sea)
    loiter(sea, SMALL, IN_RISK, 70)
    sea.pos(SMALL, 70 * 60 + 30, *IN_RISK, sog=3.5, cog=0.0, msg_type=18)  # faster, not yet moved on
    assert sea.lifecycle(Kind.LOITERING) == [("alert.opened", 3600.0)]
    sea.pos(SMALL, 71 * 60, *IN_RISK, sog=5.0, cog=0.0, msg_type=18)
    assert sea.lifecycle(Kind.LOITERING) == [("alert.opened", 3600.0), ("alert.resolved", 4260.0)]


# ====================================================================== drifting
def drift_track(
    sea: Sea,
    mmsi: int,
    where: tuple[float, float],
    minutes: float,
    *,
    sog: float = 1.0,
    cog: float = 90.0,
    heading: int | None = None,
    status: int | None = None,
    msg_type: int = 18,
    every_s: float = 60.0,
    start: float = 0.0,
) -> tuple[float, float]:
    """Carried at ``sog`` along ``cog``; returns the last position."""
    lat, lon = where
    steps = int(minutes * 60 / every_s)
    for i in range(steps + 1):
        lat, lon = walk(where[0], where[1], cog, i * every_s * sog * KN_TO_MS)
        sea.pos(
            mmsi, start + i * every_s, lat, lon, sog=sog, cog=cog, heading=heading, status=status, msg_type=msg_type
        )
    return lat, lon


def test_small_unidentified_boat_drifting_in_a_risk_zone() -> None:
    sea = Sea()
    # class B, no static data (small and unidentified after 6 min), its bow along the drift
    drift_track(sea, SMALL, IN_RISK, 50, heading=90)
    alerts = opened(sea.events, Kind.DRIFTING)
    # slow and vulnerable from 15 min (unidentified once the grace time is over); 30 min later
    # the steady-drift sign (15 min of track) has long been there, so the alert opens at 45 min
    assert [(secs(e.observed_at), e.severity) for e in alerts] == [(2700.0, Severity.HIGH)]
    evidence = alerts[0].evidence
    assert evidence["factors"] == {
        "in_risk_zone": 0.1,
        "slow_in_open_water": 0.15,
        "small_craft": 0.1,
        "steady_drift": 0.1,
        "unidentified": 0.1,
    }
    assert evidence["risk_score"] == 0.55
    assert evidence["duration_s"] == 1800
    assert evidence["since"] == "2024-03-01T00:15:00Z"
    assert alerts[0].zone is not None and alerts[0].zone.id == "risk"
    assert sea.of(Kind.LOITERING) == []


def test_drifting_boat_without_a_heading() -> None:
    sea = Sea()
    small_craft(sea)
    drift_track(sea, SMALL, IN_RISK, 50, heading=None)
    assert [secs(e.observed_at) for e in opened(sea.events, Kind.DRIFTING)] == [1800.0]


def test_drifting_for_forty_minutes_is_alerted() -> None:
    sea = Sea()
    small_craft(sea)
    drift_track(sea, SMALL, IN_RISK, 40, heading=90)
    assert len(opened(sea.events, Kind.DRIFTING)) == 1


def test_merchant_slow_with_heading_mismatch_is_neither_drifting_nor_loitering() -> None:
    """A large identified ship drifting while it waits for orders is routine (hundreds do in the Strait)."""
    sea = Sea()
    merchant(sea)
    drift_track(sea, MERCHANT, IN_RISK, 60, heading=0, msg_type=1)
    assert sea.events == []
    # a zone where any loitering matters can say so: an hour within 4 km of one spot is loitering
    wide = Sea(rules=Rules(zones={"risk": {"loitering": {"vessels": ["all"]}}}))
    merchant(wide)
    drift_track(wide, MERCHANT, IN_RISK, 60, heading=0, msg_type=1)
    assert [(e.kind, e.observed_at) for e in wide.events] == [(Kind.LOITERING, at(3600))]


def test_merchant_not_under_command_drifting_in_open_water() -> None:
    """Ships waiting for orders often drift with 'not under command' set: not a craft of interest by default."""
    quiet = Sea(shore=FAR_OFFSHORE)
    merchant(quiet)
    drift_track(quiet, MERCHANT, OPEN_SEA, 40, heading=0, status=2, msg_type=1, every_s=30.0)
    assert quiet.events == []
    sea = Sea(shore=FAR_OFFSHORE, rules=Rules(drifting=DriftingRules(vessels=("all",))))
    merchant(sea)
    drift_track(sea, MERCHANT, OPEN_SEA, 40, heading=0, status=2, msg_type=1, every_s=30.0)
    alerts = opened(sea.events, Kind.DRIFTING)
    assert [(secs(e.observed_at), e.severity, e.zone) for e in alerts] == [(1800.0, Severity.HIGH, None)]
    factors = alerts[0].evidence["factors"]
    assert factors["not_under_command"] == 0.25
    assert factors["slow_in_open_water"] == 0.15
    assert factors["far_from_shore"] == 0.05
    assert "small_craft" not in factors and "unidentified" not in factors and "in_risk_zone" not in factors
    assert alerts[0].evidence["nav_status"] == 2


def test_at_anchor_is_not_drifting() -> None:
    sea = Sea()
    small_craft(sea)
    drift_track(sea, SMALL, IN_RISK, 60, heading=0, status=1)
    assert sea.of(Kind.DRIFTING) == []


def test_resuming_six_knots_resolves_drifting() -> None:
    sea = Sea()
    small_craft(sea)
    lat, lon = drift_track(sea, SMALL, IN_RISK, 50, heading=90)
    assert sea.lifecycle(Kind.DRIFTING) == [("alert.opened", 1800.0)]
    sea.pos(SMALL, 3030, lat, lon, sog=4.0, cog=0.0, msg_type=18)  # above max_speed_kn, below resume: held
    assert sea.lifecycle(Kind.DRIFTING) == [("alert.opened", 1800.0)]
    sea.pos(SMALL, 3060, lat, lon, sog=6.0, cog=0.0, msg_type=18)
    assert sea.lifecycle(Kind.DRIFTING) == [("alert.opened", 1800.0), ("alert.resolved", 3060.0)]


# ========================================================================== dark
def others_report(sea: Sea, start: float, end: float, every_s: float = 60.0, source: str = "rx1") -> None:
    t = start
    while t <= end:
        sea.pos(OTHER, t, *OPEN_SEA, sog=12.0, cog=0.0, source=source)
        t += every_s


def test_small_craft_going_dark_in_a_risk_zone() -> None:
    sea = Sea()
    small_craft(sea)
    for i in range(6):
        sea.pos(SMALL, i * 60, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)  # last seen at 300 s
    others_report(sea, 0, 2 * 3600 + 300)
    dark = sea.of(Kind.DARK)
    assert sea.lifecycle(Kind.DARK) == [("alert.opened", 3900.0)]
    assert dark[0].evidence["last_seen"] == "2024-03-01T00:05:00Z"
    assert dark[0].evidence["threshold_s"] == 3600
    assert dark[0].evidence["feed_outage_s"] == 0
    assert (dark[0].lat, dark[0].lon) == IN_RISK
    assert dark[0].zone is not None and dark[0].zone.id == "risk"
    sea.pos(SMALL, 2 * 3600 + 330, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)
    assert sea.lifecycle(Kind.DARK) == [("alert.opened", 3900.0), ("alert.resolved", 7530.0)]
    assert sea.of(Kind.FEED_OUTAGE) == []


def test_dark_is_not_raised_when_the_log_ends() -> None:
    sea = Sea()
    small_craft(sea)
    sea.pos(SMALL, 0, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)
    others_report(sea, 60, 1800)
    sea.finish()
    assert sea.events == []


def feed_with_outage(sea: Sea, live_ticks: bool) -> None:
    """Everyone reports from rx1 for 20 min, all fall silent for 2 h, then all resume."""
    small_craft(sea)
    for t in range(0, 1201, 10):
        sea.pos(OTHER, t, *OPEN_SEA, sog=12.0, cog=0.0)
        if t % 60 == 0:
            sea.pos(SMALL, t, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)
    if live_ticks:  # a live service ticks on the wall clock while the feed is silent
        for t in range(1210, 1200 + 7200, 10):
            sea.tick(t)
    for t in range(8400, 9001, 10):
        sea.pos(OTHER, t, *OPEN_SEA, sog=12.0, cog=0.0)
        if t % 60 == 0:
            sea.pos(SMALL, t, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)


@pytest.mark.parametrize("live_ticks", [False, True], ids=["replay", "live"])
def test_feed_outage_is_one_outage_alert_and_no_dark(live_ticks: bool) -> None:
    sea = Sea()
    feed_with_outage(sea, live_ticks)
    assert sea.lifecycle(Kind.FEED_OUTAGE) == [("alert.opened", 1800.0), ("alert.resolved", 8400.0)]
    outage = sea.of(Kind.FEED_OUTAGE)[0]
    assert outage.evidence["source"] == "rx1"
    assert outage.evidence["last_message_at"] == "2024-03-01T00:20:00Z"
    assert sea.of(Kind.DARK) == []
    assert kinds(sea.events) - {Kind.ZONE_ENTRY} == {Kind.FEED_OUTAGE}  # the small craft entered the zone


def test_feed_outage_of_another_receiver_does_not_excuse_a_dark_vessel() -> None:
    sea = Sea()
    small_craft(sea)
    for t in range(0, 1201, 10):
        sea.pos(MERCHANT, t, 0.0, 70.0, sog=12.0, cog=0.0, source="rx2")  # rx2 busy, then dead
    sea.pos(SMALL, 1200, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)
    others_report(sea, 1210, 1200 + 3 * 3600)
    assert sea.lifecycle(Kind.DARK) == [("alert.opened", 4800.0)]


def test_merchant_ships_do_not_go_dark() -> None:
    sea = Sea()
    merchant(sea)
    sea.pos(MERCHANT, 0, *IN_RISK, sog=14.0, cog=90.0)
    others_report(sea, 60, 3 * 3600)
    assert sea.of(Kind.DARK) == []


def test_a_vessel_with_an_open_alert_can_go_dark_whatever_its_type() -> None:
    sea = Sea()
    merchant(sea)
    sea.pos(MERCHANT, 0, *IN_RISK, sog=5.0, cog=90.0)
    sea.text(MERCHANT, 10, "MAYDAY FIRE ON BOARD")
    sea.pos(MERCHANT, 20, *IN_RISK, sog=5.0, cog=90.0)
    others_report(sea, 60, 2 * 3600)
    assert sea.lifecycle(Kind.DARK) == [("alert.opened", 3620.0)]
    assert sea.of(Kind.DARK)[0].severity is Severity.HIGH


# ==================================================================== rendezvous
def pair_together(
    sea: Sea, a: int, b: int, minutes: int, apart_m: float = 200.0, where: tuple[float, float] = IN_RISK
) -> None:
    """``a`` reports on the minute, ``b`` five seconds later, ``apart_m`` to its east."""
    lat_b, lon_b = walk(*where, 90.0, apart_m)
    for i in range(minutes + 1):
        sea.pos(a, i * 60, *where, sog=0.5, cog=0.0)
        sea.pos(b, i * 60 + 5, lat_b, lon_b, sog=0.5, cog=0.0)


def test_two_slow_vessels_together_for_half_an_hour() -> None:
    sea = Sea()
    pair_together(sea, SMALL, SMALL2, 35)
    alerts = opened(sea.events, Kind.RENDEZVOUS)
    assert [(secs(e.observed_at), e.severity) for e in alerts] == [(1805.0, Severity.HIGH)]
    alert = alerts[0]
    assert (alert.mmsi, alert.other.mmsi if alert.other else None) == (SMALL, SMALL2)
    assert alert.evidence["distance_m"] == 200
    assert alert.evidence["duration_s"] == 1800
    assert alert.evidence["mmsis"] == [SMALL, SMALL2]
    assert sea.lifecycle(Kind.RENDEZVOUS) == [("alert.opened", 1805.0)]


def test_rendezvous_is_keyed_by_the_pair_whatever_the_order_of_reports() -> None:
    first, second = Sea(), Sea()
    pair_together(first, SMALL, SMALL2, 35)
    pair_together(second, SMALL2, SMALL, 35, apart_m=-200.0)
    a, b = opened(first.events, Kind.RENDEZVOUS), opened(second.events, Kind.RENDEZVOUS)
    assert len(a) == len(b) == 1
    assert (a[0].id, a[0].mmsi, a[0].evidence["mmsis"]) == (b[0].id, b[0].mmsi, b[0].evidence["mmsis"])


def test_vessels_800_m_apart_are_not_a_rendezvous() -> None:
    sea = Sea()
    pair_together(sea, SMALL, SMALL2, 60, apart_m=800.0)
    assert sea.of(Kind.RENDEZVOUS) == []


def test_parting_beyond_a_kilometre_resolves() -> None:
    sea = Sea()
    pair_together(sea, SMALL, SMALL2, 35)
    lat_b, lon_b = walk(*IN_RISK, 90.0, 700.0)  # between the two distances: still a pair
    sea.pos(SMALL, 36 * 60, *IN_RISK, sog=0.5, cog=0.0)
    sea.pos(SMALL2, 36 * 60 + 5, lat_b, lon_b, sog=0.5, cog=90.0)
    assert sea.lifecycle(Kind.RENDEZVOUS) == [("alert.opened", 1805.0)]
    lat_b, lon_b = walk(*IN_RISK, 90.0, 1200.0)
    sea.pos(SMALL, 37 * 60, *IN_RISK, sog=0.5, cog=0.0)
    sea.pos(SMALL2, 37 * 60 + 5, lat_b, lon_b, sog=0.5, cog=90.0)
    assert sea.lifecycle(Kind.RENDEZVOUS) == [("alert.opened", 1805.0), ("alert.resolved", 2225.0)]


def test_a_tug_alongside_is_not_a_rendezvous() -> None:
    sea = Sea()
    sea.static(SMALL2, 0, length_m=30, ship_type=52)
    pair_together(sea, SMALL, SMALL2, 60)
    assert sea.of(Kind.RENDEZVOUS) == []


def test_no_rendezvous_outside_open_water() -> None:
    sea = Sea(shore=NEAR_SHORE)
    pair_together(sea, SMALL, SMALL2, 60, where=OPEN_SEA)
    assert sea.of(Kind.RENDEZVOUS) == []


# ================================================================ disembarkation
BOAT_AT = (10.5, 60.9)  # in the risk zone, about 27 nm west of the landing zone's edge
RESCUER = 219000001


def boat_adrift_with_rescuer(sea: Sea, rescuer_alongside_min: int) -> tuple[float, float]:
    """The boat drifts (not under command, hull across the current) and raises a drifting alert at 30 min;
    the rescuer stops 300 m from it; returns where the rescuer stopped."""
    small_craft(sea)
    merchant(sea, RESCUER)
    for i in range(0, 31 + rescuer_alongside_min):
        lat, lon = walk(*BOAT_AT, 180.0, i * 60 * 0.5 * KN_TO_MS)
        sea.pos(SMALL, i * 60, lat, lon, sog=0.5, cog=180.0, heading=90, status=2, msg_type=18)
    assert sea.lifecycle(Kind.DRIFTING) == [("alert.opened", 1800.0)]
    stop = walk(*BOAT_AT, 0.0, 300.0)
    for i in range(rescuer_alongside_min + 1):
        sea.pos(RESCUER, 1830 + i * 60, *stop, sog=0.3, cog=0.0)
    return stop


def sail(sea: Sea, mmsi: int, start_t: float, where: tuple[float, float], cog: float, fixes: int) -> list[Any]:
    """Fixes a minute apart at 12 kn; returns (t, lat, lon) of each."""
    out = []
    for i in range(fixes):
        lat, lon = walk(*where, cog, i * 60 * 12.0 * KN_TO_MS)
        t = start_t + i * 60
        sea.pos(mmsi, t, lat, lon, sog=12.0, cog=cog)
        out.append((t, lat, lon))
    return out


def test_rescuer_heading_for_a_landing_zone() -> None:
    sea = Sea()
    stop = boat_adrift_with_rescuer(sea, 15)  # alongside from 1830 s to 2730 s
    track = sail(sea, RESCUER, 2790, stop, 90.0, 4)
    alerts = opened(sea.events, Kind.DISEMBARKATION)
    assert [(secs(e.observed_at), e.mmsi, e.zone.id if e.zone else None) for e in alerts] == [
        (2910.0, RESCUER, "landing")
    ]
    t, lat, lon = track[2]
    evidence = alerts[0].evidence
    expected_m = distance_m(lat, lon, lat, LANDING[0])
    assert evidence["distance_nm"] == pytest.approx(expected_m / METRES_PER_NM, rel=0.02)
    assert evidence["eta_s"] == pytest.approx(expected_m / (12.0 * KN_TO_MS), rel=0.02)
    eta = datetime.strptime(evidence["eta"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert (eta - at(t)).total_seconds() == pytest.approx(evidence["eta_s"], abs=1)
    assert evidence["rescue_kind"] == "drifting"
    assert evidence["rescue_alert"] == opened(sea.events, Kind.DRIFTING)[0].id
    assert evidence["alongside_s"] == 600
    assert alerts[0].severity is Severity.HIGH


def test_disembarkation_resolves_on_arrival() -> None:
    sea = Sea()
    stop = boat_adrift_with_rescuer(sea, 15)
    lat, lon = stop
    minutes = math.ceil(distance_m(lat, lon, lat, LANDING[0] + 0.01) / (12.0 * KN_TO_MS * 60))
    track = sail(sea, RESCUER, 2790, stop, 90.0, minutes + 1)
    assert ZONES.at(track[-1][1], track[-1][2])[0].id == "landing"
    arrival = next(t for t, la, lo in track if "landing" in [z.id for z in ZONES.at(la, lo)])
    assert sea.lifecycle(Kind.DISEMBARKATION) == [("alert.opened", 2910.0), ("alert.resolved", arrival)]
    assert sea.of(Kind.DISEMBARKATION)[-1].evidence["resolution"] == "arrived in Landing"


def test_a_vessel_that_was_never_alongside_is_not_a_rescuer() -> None:
    sea = Sea()
    boat_adrift_with_rescuer(sea, 15)
    waited = walk(*BOAT_AT, 0.0, 3000.0)  # stopped as long, but 3 km off: beyond link_radius_m
    for i in range(16):
        sea.pos(OTHER, 1830 + i * 60, *waited, sog=0.3, cog=0.0)
    sail(sea, OTHER, 2790, waited, 90.0, 10)
    assert sea.of(Kind.DISEMBARKATION) == []


def test_a_short_stop_alongside_is_not_a_rescue() -> None:
    sea = Sea()
    stop = boat_adrift_with_rescuer(sea, 5)  # five minutes only
    sail(sea, RESCUER, 2190, stop, 90.0, 10)
    assert sea.of(Kind.DISEMBARKATION) == []


# =================================================================== feed health
def test_a_source_with_few_messages_never_raises_an_outage() -> None:
    sea = Sea()
    for t in range(0, 99 * 10, 10):  # 99 messages, one less than min_messages
        sea.pos(OTHER, t, *OPEN_SEA, sog=12.0, cog=0.0, source="rx-sparse")
    for t in range(1000, 9000, 60):
        sea.tick(t)
    sea.pos(OTHER, 9000, *OPEN_SEA, sog=12.0, cog=0.0, source="rx-sparse")
    sea.pos(OTHER, 9010, *OPEN_SEA, sog=12.0, cog=0.0, source="rx-sparse")
    assert sea.events == []


def test_a_source_with_enough_messages_raises_an_outage_once() -> None:
    sea = Sea()
    for t in range(0, 100 * 10, 10):  # exactly min_messages
        sea.pos(OTHER, t, *OPEN_SEA, sog=12.0, cog=0.0, source="rx-busy")
    for t in range(1000, 9000, 60):
        sea.tick(t)
    sea.pos(OTHER, 9000, *OPEN_SEA, sog=12.0, cog=0.0, source="rx-busy")
    assert sea.lifecycle(Kind.FEED_OUTAGE) == [("alert.opened", 1590.0), ("alert.resolved", 9000.0)]


def test_fast_distance_is_close_to_haversine_at_these_ranges() -> None:
    lat, lon = walk(*IN_RISK, 37.0, 800.0)
    assert fast_distance_m(*IN_RISK, lat, lon) == pytest.approx(800.0, rel=0.001)


# ============================================ regressions found by the scenario work
def test_merchant_whose_voyage_data_came_late_is_not_an_unidentified_entry() -> None:
    """A lost type 5 is common in dense traffic: the grace time waits out two missed broadcasts."""
    sea = Sea()
    for i in range(40):  # 13 kn along a lane inside the zone, a fix every 10 s
        sea.pos(MERCHANT, i * 10, IN_RISK[0], IN_RISK[1] + i * 0.0006, sog=13.0, cog=90.0)
    merchant(sea, t=370)  # the first type 5 was lost; the second arrives at 370 s
    for i in range(40, 120):
        sea.pos(MERCHANT, i * 10, IN_RISK[0], IN_RISK[1] + i * 0.0006, sog=13.0, cog=90.0)
    assert sea.events == []


def test_tanker_at_anchor_near_shore_in_a_risk_zone_is_not_loitering() -> None:
    sea = Sea(shore=lambda lat, lon: 8_000.0)  # 4.3 nm out: an anchorage along a shallow strait
    sea.static(MERCHANT, 0, length_m=180, ship_type=80, msg_type=5)
    for i in range(0, 3 * 3600, 180):
        sea.pos(MERCHANT, i, IN_RISK[0] + (i % 2) * 0.0002, IN_RISK[1], sog=0.1, status=1)
    assert sea.of(Kind.LOITERING) == []


def test_at_anchor_far_out_at_sea_is_still_loitering() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    sea.static(MERCHANT, 0, length_m=20, ship_type=0, msg_type=5)  # a craft of no declared type
    for i in range(0, 2 * 3600, 180):
        sea.pos(MERCHANT, i, OPEN_SEA[0] + (i % 2) * 0.0002, OPEN_SEA[1], sog=0.1, status=1)
    assert [secs(e.observed_at) for e in opened(sea.events, Kind.LOITERING)] == [3600.0]


# ============================================================ drills and real signals
def test_a_drill_marks_alerts_as_tests_until_the_vessel_is_heard_from_a_real_receiver() -> None:
    sea = Sea()
    drill = sea.pipeline
    drill.apply(PositionReport(SART, 1, at(0), *IN_RISK, 0.0, None, None, 14, "drill:beacon"))
    (drilled,) = sea._take()
    assert drilled.test and drilled.summary.startswith("DRILL: ") and drilled.severity is Severity.CRITICAL
    # two days later the same MMSI is heard by a real receiver: a real distress, escalating
    drill.apply(PositionReport(SART, 1, at(2 * 86400), *IN_RISK, 0.0, None, None, 14, "rx-real"))
    real = [e for e in sea._take() if e.event is EventType.OPENED]
    assert [(e.test, e.summary.startswith("DRILL")) for e in real] == [(False, False)]


# ================================================================ found by adversarial cases
def test_a_merchant_ship_with_ship_type_0_is_not_unknown_craft() -> None:
    """Many merchant ships leave the type field at 0: their length or IMO number identifies them."""
    for length_m, imo in ((150, None), (None, 9_123_456)):
        sea = Sea()
        sea.pipeline.apply(StaticReport(MERCHANT, 5, at(0), "BIG SHIP", ship_type=0, length_m=length_m, imo=imo))
        for i in range(10):
            sea.pos(MERCHANT, i * 10, *ENTRY_POINT, sog=14.0, cog=0.0)
        assert sea.of(Kind.ZONE_ENTRY) == [], (length_m, imo)
    small = Sea()  # a small craft with the same empty type still counts
    small.static(SMALL, 0, length_m=12, ship_type=0)
    small.pos(SMALL, 0, *OUTSIDE, sog=5.0, cog=0.0)
    for i in range(1, 10):
        small.pos(SMALL, i * 10, *ENTRY_POINT, sog=5.0, cog=0.0)
    assert len(opened(small.events, Kind.ZONE_ENTRY)) == 1


def test_a_trawler_reporting_engaged_in_fishing_does_not_loiter() -> None:
    sea = Sea()
    small_craft(sea, ship_type=0)
    for i in range(91):
        t = i * 60
        sea.pos(SMALL, t, *wander(*IN_RISK, t), sog=0.5, cog=90.0, status=7)
    assert sea.of(Kind.LOITERING) == []
    towing = Sea()  # the same track with no status loiters
    small_craft(towing, ship_type=0)
    loiter(towing, SMALL, IN_RISK, 90)
    assert len(opened(towing.events, Kind.LOITERING)) == 1


def test_two_ships_at_anchor_side_by_side_are_no_rendezvous_but_a_boat_alongside_one_is() -> None:
    lat_b, lon_b = walk(*IN_RISK, 90.0, 300.0)
    for b_status, expected in ((1, 0), (0, 1)):
        sea = Sea(shore=NEAR_SHORE)
        for i in range(61):
            sea.pos(MERCHANT, i * 60, *IN_RISK, sog=0.1, cog=0.0, status=1)
            sea.pos(SMALL, i * 60 + 5, lat_b, lon_b, sog=0.3, cog=0.0, status=b_status)
        assert len(opened(sea.events, Kind.RENDEZVOUS)) == expected, b_status
    far = Sea(shore=FAR_OFFSHORE)  # anchored 27 nm out, beyond the territorial sea: no excuse
    for i in range(61):
        far.pos(MERCHANT, i * 60, *IN_RISK, sog=0.1, cog=0.0, status=1)
        far.pos(MERCHANT2, i * 60 + 5, lat_b, lon_b, sog=0.1, cog=0.0, status=1)
    assert len(opened(far.events, Kind.RENDEZVOUS)) == 1


def test_a_beacon_first_heard_without_a_position_is_placed_at_once() -> None:
    sea = Sea()
    for i in range(8):  # a minute of AIS-SART reports with lat 91 / lon 181 (not available)
        sea.pipeline.apply(PositionReport(SART, 1, at(i * 7.5), None, None, 0.0, None, None, 14, "rx1"))
    sea._take()
    (first,) = sea.of(Kind.DISTRESS)
    assert (first.event, first.lat) == (EventType.OPENED, None)
    placed = sea.pos(SART, 120, *IN_RISK, sog=0.0, status=14)
    assert [(e.event, e.lat, e.lon) for e in placed if e.kind is Kind.DISTRESS] == [
        (EventType.UPDATED, IN_RISK[0], IN_RISK[1])
    ]


@pytest.mark.parametrize("msg_type", [12, 14])
def test_a_mayday_text_without_any_timestamp_still_raises_distress(msg_type: int) -> None:
    """Many published logs carry no times at all; a distress call in one must not be dropped."""
    sea = Sea()
    sea.pipeline.apply(PositionReport(MERCHANT, 1, None, *IN_RISK, 12.0, 90.0, 90, 0, "rx1"))
    sea.pipeline.apply(SafetyText(MERCHANT, msg_type, None, "MAYDAY RELAY BOAT SINKING 40 POB", "rx1"))
    (alert,) = opened(sea._take(), Kind.DISTRESS)
    assert alert.severity is Severity.CRITICAL and not alert.test
    assert (alert.lat, alert.lon) == IN_RISK


def test_an_untimed_log_judges_a_vessel_by_its_static_data() -> None:
    sea = Sea()
    sea.pipeline.apply(StaticReport(SMALL, 5, None, "BOAT", ship_type=0, length_m=12, source="rx1"))
    for _ in range(4):
        sea.pipeline.apply(PositionReport(SMALL, 1, None, *ENTRY_POINT, 5.0, 90.0, None, None, "rx1"))
    assert len(opened(sea._take(), Kind.ZONE_ENTRY)) == 1


def test_a_boat_that_comes_home_and_switches_off_is_not_dark() -> None:
    """Stopped within a mile of land, then silent for the night: routine, not a gap."""
    for shore, sog_home, expected in (
        (NEAR_SHORE, 0.2, []),
        (FAR_OFFSHORE, 0.2, [3900.0]),
        (NEAR_SHORE, 5.0, [3900.0]),
    ):
        sea = Sea(shore=shore)
        small_craft(sea)
        for i in range(4):
            sea.pos(SMALL, i * 60, *IN_RISK, sog=5.0, cog=90.0, msg_type=18)  # under way: a candidate
        for i in range(4, 6):
            sea.pos(SMALL, i * 60, *IN_RISK, sog=sog_home, cog=90.0, msg_type=18)  # last seen at 300 s
        others_report(sea, 0, 2 * 3600 + 300)
        assert [secs(e.observed_at) for e in opened(sea.events, Kind.DARK)] == expected, (shore, sog_home)


def test_untimed_fixes_never_start_a_duration() -> None:
    """An untimed log followed by a timed one: no loitering 'for 50 years' from the stand-in time."""
    sea = Sea()  # the untimed lines come first: nothing has set the watch's clock yet
    sea.pipeline.apply(StaticReport(SMALL, 24, None, "BOAT", ship_type=37, length_m=9, source="rx1"))
    for _ in range(5):
        sea.pipeline.apply(PositionReport(SMALL, 18, None, *IN_RISK, 0.5, 90.0, None, None, "rx1"))
    loiter(sea, SMALL, IN_RISK, 10)  # ten timed minutes: far short of an hour
    sea._take()
    assert sea.of(Kind.LOITERING) == [] and sea.of(Kind.DRIFTING) == []


def test_a_boat_with_an_open_alert_that_stops_by_the_shore_and_falls_silent_is_dark() -> None:
    """Coming home is routine; a drifting boat stranded by the shore and then silent is not."""
    sea = Sea(shore=NEAR_SHORE)
    small_craft(sea)
    lat, lon = drift_track(sea, SMALL, IN_RISK, 40, heading=90)
    assert len(opened(sea.events, Kind.DRIFTING)) == 1
    sea.pos(SMALL, 41 * 60, lat, lon, sog=0.2, cog=90.0, msg_type=18)  # last heard, stopped, near land
    others_report(sea, 41 * 60, 41 * 60 + 2 * 3600)
    assert len(opened(sea.events, Kind.DARK)) == 1
