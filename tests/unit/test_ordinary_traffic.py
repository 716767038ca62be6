"""Detection judged on the region's ordinary traffic as much as on emergencies.

Each test is one finding of the "false alarms" review, on tiny hand-built tracks through the
real pipeline (the patch of sea from ``test_detectors``): it fails without its fix. The
scenarios (``replay_data/scenarios``) tell the same stories at full size.
"""

from __future__ import annotations

from typing import Any

import pytest

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import EventType, Finding, Kind, Severity, ZoneRef
from seawatch.core.geo import KN_TO_MS, METRES_PER_NM, fast_distance_m
from seawatch.core.model import PositionReport, StaticReport
from seawatch.core.pipeline import Pipeline
from seawatch.core.rules import DriftingRules, Rules, parse_rules
from seawatch.core.subscriptions import Subscription
from seawatch.core.watch import Watch
from seawatch.core.zones import ZoneIndex, parse_zones
from tests.unit.test_detectors import (
    FAR_OFFSHORE,
    IN_RISK,
    MERCHANT,
    MERCHANT2,
    OUTSIDE,
    SMALL,
    SMALL2,
    Sea,
    at,
    drift_track,
    loiter,
    merchant,
    opened,
    pair_together,
    secs,
    small_craft,
    square,
    walk,
)

FISHER = 525009901


# ------------------------------------------------------------ 1. static data that comes late
def test_a_fishing_boat_whose_static_data_comes_late_never_loiters() -> None:
    sea = Sea()
    loiter(sea, FISHER, IN_RISK, 30)  # 30 min without static data (unidentified after 15 min)
    sea.static(FISHER, 30 * 60 + 30, length_m=14, ship_type=30, msg_type=24)
    loiter(sea, FISHER, IN_RISK, 60, start=31 * 60)
    assert sea.of(Kind.LOITERING) == []


def test_static_data_after_a_loitering_alert_closes_it() -> None:
    sea = Sea()
    loiter(sea, FISHER, IN_RISK, 65)  # unidentified: loitering at 60 min
    assert [secs(e.observed_at) for e in opened(sea.events, Kind.LOITERING)] == [3600.0]
    sea.static(FISHER, 65 * 60 + 30, length_m=14, ship_type=30, msg_type=24)
    loiter(sea, FISHER, IN_RISK, 5, start=66 * 60)
    assert sea.lifecycle(Kind.LOITERING) == [("alert.opened", 3600.0), ("alert.resolved", 3960.0)]
    assert "ship type 30" in sea.of(Kind.LOITERING)[-1].evidence["resolution"]


def test_static_data_after_a_zone_entry_closes_it_when_it_shows_a_yacht() -> None:
    sea = Sea()
    sea.pos(SMALL, 0, *OUTSIDE, sog=5.0, cog=0.0, msg_type=18)
    for i in range(1, 25):  # unidentified from 15 min: the entry opens then
        sea.pos(SMALL, i * 60, *walk(*IN_RISK, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
    assert [secs(e.observed_at) for e in opened(sea.events, Kind.ZONE_ENTRY)] == [900.0]
    small_craft(sea, t=25 * 60, ship_type=37)  # a 12 m pleasure yacht after all
    for i in range(26, 30):
        sea.pos(SMALL, i * 60, *walk(*IN_RISK, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
    assert sea.lifecycle(Kind.ZONE_ENTRY) == [("alert.opened", 900.0), ("alert.resolved", 1560.0)]
    assert "not a craft of interest" in sea.of(Kind.ZONE_ENTRY)[-1].evidence["resolution"]


def test_static_data_after_a_drifting_alert_closes_it_when_it_shows_a_yacht() -> None:
    sea = Sea()
    lat, lon = drift_track(sea, SMALL, IN_RISK, 50, heading=90)  # unidentified, adrift: opens at 45 min
    assert len(opened(sea.events, Kind.DRIFTING)) == 1
    small_craft(sea, t=50 * 60 + 10, ship_type=37)
    sea.pos(SMALL, 51 * 60, lat, lon, sog=1.0, cog=90.0, heading=90, msg_type=18)
    assert sea.of(Kind.DRIFTING)[-1].event is EventType.RESOLVED


# ------------------------------------------------------------------- 2. a bounded risk score
def every_sign_of_a_drift(rules: Rules) -> dict[str, Any]:
    sea = Sea(shore=FAR_OFFSHORE, rules=rules)  # not under command, small, unidentified, carried, far out
    drift_track(sea, SMALL, IN_RISK, 50, heading=0, status=2)
    (alert,) = opened(sea.events, Kind.DRIFTING)
    return alert.evidence


def test_the_drifting_score_is_between_zero_and_one() -> None:
    evidence = every_sign_of_a_drift(Rules())
    assert set(evidence["factors"]) == {
        "not_under_command",
        "slow_in_open_water",
        "small_craft",
        "unidentified",
        "course_heading_mismatch",
        "steady_drift",
        "in_risk_zone",
        "far_from_shore",
    }
    assert evidence["risk_score"] == 1.0  # every factor present: the most there is


def test_the_drifting_score_stays_bounded_whatever_the_weights() -> None:
    heavy = Rules(drifting=DriftingRules(w_not_under_command=2.0, w_small_craft=1.5, w_unidentified=1.5))
    evidence = every_sign_of_a_drift(heavy)
    assert evidence["risk_score"] == 1.0
    assert evidence["factors"]["not_under_command"] == 2.0  # the weights as configured, the score as a share


# ------------------------------------------------------------ 3. updates on material change only
def test_a_boat_drifting_for_three_hours_updates_only_on_material_change() -> None:
    sea = Sea()
    drift_track(sea, SMALL, IN_RISK, 180, heading=90, sog=0.9)  # 2.7 nm in 3 h, steady
    events = sea.of(Kind.DRIFTING)
    updates = [e for e in events if e.event is EventType.UPDATED]
    # opened at 45 min; then about 2 nm drifted: one update per nautical mile, nothing for a duration that grew
    assert events[0].event is EventType.OPENED
    assert 1 <= len(updates) <= 2, [(secs(e.observed_at), e.evidence["duration_s"]) for e in updates]
    previous = events[0]
    for update in updates:
        assert previous.lat is not None and previous.lon is not None and update.lat is not None
        assert update.lon is not None
        moved = fast_distance_m(previous.lat, previous.lon, update.lat, update.lon)
        assert moved >= METRES_PER_NM or update.evidence["factors"] != previous.evidence["factors"]
        assert (update.observed_at - previous.observed_at).total_seconds() >= 900
        previous = update


# ------------------------------------------------------------------------ 4. overlapping zones
def overlapping_zones() -> ZoneIndex:
    features = [
        ("outer", "Outer", "medium", (60.0, 10.0, 61.0, 11.0)),
        ("inner", "Inner", "high", (60.4, 10.0, 60.6, 10.3)),  # shares the outer zone's southern edge
    ]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": i, "name": n, "kind": "risk", "severity": sev, "source": "t"},
                "geometry": {"type": "Polygon", "coordinates": square(*box)},
            }
            for i, n, sev, box in features
        ],
    }
    problems: list[str] = []
    zones = ZoneIndex(parse_zones(doc, "test", problems))
    assert problems == []
    return zones


def identified_small_craft(pipeline: Pipeline) -> None:
    pipeline.apply(StaticReport(SMALL, 24, at(900), "BOAT", ship_type=0, length_m=10, source="rx1"))


def test_crossing_into_two_overlapping_zones_at_once_is_one_entry() -> None:
    pipeline = Pipeline(watch=Watch(overlapping_zones(), Rules(), None))
    identified_small_craft(pipeline)
    for i, lat in enumerate([9.98, 9.99, 10.01, 10.02, 10.03, 10.04]):
        pipeline.apply(PositionReport(SMALL, 18, at(1000 + i * 60), lat, 60.5, 5.0, 0.0, None, None, "rx1"))
    for i, lat in enumerate([9.99, 9.98, 9.97, 9.96]):
        pipeline.apply(PositionReport(SMALL, 18, at(1400 + i * 60), lat, 60.5, 5.0, 180.0, None, None, "rx1"))
    events = pipeline.take_events()
    entries = [e for e in events if e.kind is Kind.ZONE_ENTRY]
    assert [e.event for e in entries] == [EventType.OPENED, EventType.RESOLVED]
    entry = entries[0]
    assert entry.zone == ZoneRef("inner", "Inner")  # the most specific
    assert [z.id for z in entry.zones] == ["inner", "outer"]
    assert entry.severity is Severity.HIGH  # the worst of the two
    # a partner subscribed to either zone receives it
    assert Subscription("outer-only", zones=frozenset({"outer"})).wants(entry)
    assert Subscription("inner-only", zones=frozenset({"inner"})).wants(entry)
    assert not Subscription("elsewhere", zones=frozenset({"other"})).wants(entry)


def test_zones_different_inertia_still_one_entry() -> None:
    rules = parse_rules({"zone": {"outer": {"zone_entry": {"entry_fixes": 5}}}})
    pipeline = Pipeline(watch=Watch(overlapping_zones(), rules, None))
    identified_small_craft(pipeline)
    pipeline.apply(PositionReport(SMALL, 18, at(1000), 9.98, 60.5, 5.0, 0.0, None, None, "rx1"))
    for i in range(1, 8):
        pipeline.apply(
            PositionReport(SMALL, 18, at(1000 + i * 60), 10.01 + i * 0.001, 60.5, 5.0, 0.0, None, None, "rx1")
        )
    entries = [e for e in pipeline.take_events() if e.kind is Kind.ZONE_ENTRY]
    assert [(e.event, secs(e.observed_at), [z.id for z in e.zones]) for e in entries] == [
        (EventType.OPENED, 1300.0, ["inner", "outer"])  # when the slower zone's inertia is met too
    ]


# ------------------------------------------------------------ 6. ships waiting for orders
def test_two_identified_ships_drifting_side_by_side_far_out_are_no_rendezvous() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    merchant(sea, MERCHANT)
    merchant(sea, MERCHANT2)
    pair_together(sea, MERCHANT, MERCHANT2, 90)
    assert sea.events == []


def test_a_small_unidentified_boat_alongside_a_waiting_ship_is_a_rendezvous_and_the_ship_then_loiters() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    merchant(sea, MERCHANT)
    pair_together(sea, MERCHANT, SMALL, 50)  # SMALL sends no static data; it leaves after 50 min
    for i in range(51, 75):
        sea.pos(MERCHANT, i * 60, *IN_RISK, sog=0.5, cog=0.0)
    (rendezvous,) = opened(sea.events, Kind.RENDEZVOUS)
    assert {rendezvous.mmsi, rendezvous.other.mmsi if rendezvous.other else None} == {MERCHANT, SMALL}
    # an identified ship is routine until something comes alongside: then its hour on one spot is loitering
    assert [e.mmsi for e in opened(sea.events, Kind.LOITERING)] == [MERCHANT]


def test_two_fishing_boats_together_are_fishing_in_company() -> None:
    sea = Sea()
    small_craft(sea, SMALL, ship_type=30)
    small_craft(sea, SMALL2, ship_type=30)
    pair_together(sea, SMALL, SMALL2, 90)
    assert sea.of(Kind.RENDEZVOUS) == []


# ---------------------------------------------------------------- 7. local traffic, crossings
COAST_KM = 1.0  # the made-up coast: every position within 1 km of land until the boat is out


def day_trip(sea: Sea, coast: dict[str, float], mmsi: int = SMALL) -> None:
    """Moored by the shore for 20 min, out at 6 kn into the risk zone, fishing slowly in circles for 3 h."""
    home = walk(*IN_RISK, 180.0, 12_000)
    for i in range(20):
        sea.pos(mmsi, i * 60, *home, sog=0.1, cog=0.0, msg_type=18)
    coast["m"] = 15_000.0
    for i in range(20, 30):
        sea.pos(mmsi, i * 60, *walk(*home, 0.0, (i - 19) * 60 * 6 * KN_TO_MS), sog=6.0, cog=0.0, msg_type=18)
    loiter(sea, mmsi, IN_RISK, 180, start=30 * 60)


def test_a_boat_on_a_day_trip_from_its_own_coast_neither_enters_nor_loiters() -> None:
    coast = {"m": COAST_KM * 1000}
    sea = Sea(shore=lambda lat, lon: coast["m"])
    day_trip(sea, coast)
    assert sea.of(Kind.ZONE_ENTRY) == [] and sea.of(Kind.LOITERING) == []


def test_the_same_track_first_heard_at_sea_is_a_crossing() -> None:
    coast = {"m": 40_000.0}  # never near land: it came from open sea
    sea = Sea(shore=lambda lat, lon: coast["m"])
    day_trip(sea, coast)
    coast["m"] = 40_000.0
    assert len(opened(sea.events, Kind.LOITERING)) == 1


def test_a_trip_from_a_departure_coast_is_never_local() -> None:
    rules = parse_rules({"zone": {"risk": {"local": {"enabled": False}}}})
    coast = {"m": COAST_KM * 1000}
    sea = Sea(shore=lambda lat, lon: coast["m"], rules=rules)
    day_trip(sea, coast)
    assert len(opened(sea.events, Kind.LOITERING)) == 1


def test_a_local_trip_of_more_than_a_day_is_a_crossing() -> None:
    rules = parse_rules({"local": {"max_trip_s": 7200.0}})  # two hours, to keep the track short
    coast = {"m": COAST_KM * 1000}
    sea = Sea(shore=lambda lat, lon: coast["m"], rules=rules)
    day_trip(sea, coast)
    (alert,) = opened(sea.events, Kind.LOITERING)
    assert secs(alert.observed_at) >= 19 * 60 + 7200  # once the trip (from its last fix at home) is not a day trip


def test_a_boat_first_heard_inside_a_zone_has_not_entered_it() -> None:
    sea = Sea()
    small_craft(sea)
    for i in range(30):
        sea.pos(SMALL, i * 60, *walk(*IN_RISK, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
    assert sea.of(Kind.ZONE_ENTRY) == []
    # out and back in: that is an entry
    for i, point in enumerate([OUTSIDE] * 3 + [walk(10.02, 60.5, 0.0, 100)] * 3):
        sea.pos(SMALL, 3600 + i * 60, *point, sog=5.0, cog=0.0, msg_type=18)
    assert len(opened(sea.events, Kind.ZONE_ENTRY)) == 1


def test_loitering_evidence_gives_the_true_distance_from_shore() -> None:
    sea = Sea(shore=lambda lat, lon: 8.0 * METRES_PER_NM, rules=parse_rules({"local": {"enabled": False}}))
    small_craft(sea)
    loiter(sea, SMALL, IN_RISK, 70)
    (alert,) = opened(sea.events, Kind.LOITERING)
    assert alert.evidence["offshore_nm"] == 8.0


# ------------------------------------------------------------------------ 8. pleasure craft
@pytest.mark.parametrize("ship_type", [36, 37, 60, 52, 55])  # sailing, pleasure, passenger, tug, law enforcement
def test_identified_routine_craft_raise_nothing(ship_type: int) -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    small_craft(sea, ship_type=ship_type)
    sea.pos(SMALL, 0, *OUTSIDE, sog=5.0, cog=0.0, msg_type=18)
    drift_track(sea, SMALL, IN_RISK, 120, heading=30, start=60)  # in, becalmed, course and heading apart
    loiter(sea, SMALL, IN_RISK, 90, start=2 * 3600 + 120)
    assert sea.events == []


# --------------------------------------------------------------- 9. a fishing vessel adrift
def fishing_vessel_adrift(minutes: int) -> Sea:
    sea = Sea(shore=FAR_OFFSHORE)
    sea.static(FISHER, 0, length_m=20, ship_type=30, msg_type=5)
    drift_track(sea, FISHER, IN_RISK, minutes, sog=0.5, cog=200.0, heading=290, status=0, msg_type=1, every_s=60.0)
    return sea


def test_a_fishing_vessel_adrift_far_offshore_for_many_hours_is_drifting() -> None:
    sea = fishing_vessel_adrift(7 * 60)
    (alert,) = opened(sea.events, Kind.DRIFTING)
    assert secs(alert.observed_at) == pytest.approx(6 * 3600, abs=60)  # working_min_duration_s
    assert {"course_heading_mismatch", "small_craft", "steady_drift"} <= set(alert.evidence["factors"])


def test_a_fishing_vessel_slow_for_a_few_hours_is_working() -> None:
    assert fishing_vessel_adrift(5 * 60).of(Kind.DRIFTING) == []


def test_book_material_change_rule_is_used_by_the_watch() -> None:
    """The watch's book follows the rules file: a longer minimum interval means fewer updates."""
    book = AlertBook(parse_rules({"alerts": {"update_min_interval_s": 3600.0}}).alerts)
    finding = Finding(Kind.DRIFTING, (SMALL,), at(0), Severity.MEDIUM, "adrift", {"factors": {"a": 1}}, lat=10, lon=60)
    book.apply(finding)
    changed = Finding(
        Kind.DRIFTING, (SMALL,), at(1800), Severity.MEDIUM, "adrift", {"factors": {"b": 1}}, lat=10, lon=60
    )
    assert book.apply(changed) == []
