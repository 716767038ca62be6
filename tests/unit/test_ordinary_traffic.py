"""Detection judged on the region's ordinary traffic as much as on emergencies.

Each test is one finding of the "false alarms" review, on tiny hand-built tracks through the
real pipeline (the patch of sea from ``test_detectors``): it fails without its fix. The
scenarios (``replay_data/scenarios``) tell the same stories at full size.
"""

from __future__ import annotations

from typing import Any

import pytest

from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, ZoneRef
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
    others_report,
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
    events: list[AlertEvent] = []
    for i, lat in enumerate([9.98, 9.99, 10.01, 10.02, 10.03, 10.04]):
        events += pipeline.apply(PositionReport(SMALL, 18, at(1000 + i * 60), lat, 60.5, 5.0, 0.0, None, None, "rx1"))
    for i, lat in enumerate([9.99, 9.98, 9.97, 9.96]):
        events += pipeline.apply(PositionReport(SMALL, 18, at(1400 + i * 60), lat, 60.5, 5.0, 180.0, None, None, "rx1"))
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
    events = pipeline.apply(PositionReport(SMALL, 18, at(1000), 9.98, 60.5, 5.0, 0.0, None, None, "rx1"))
    for i in range(1, 8):
        events += pipeline.apply(
            PositionReport(SMALL, 18, at(1000 + i * 60), 10.01 + i * 0.001, 60.5, 5.0, 0.0, None, None, "rx1")
        )
    entries = [e for e in events if e.kind is Kind.ZONE_ENTRY]
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


def test_a_boat_that_only_says_it_is_fishing_beside_a_fishing_vessel_is_a_rendezvous() -> None:
    for unidentified in (9123456, SMALL2):  # an 009… MMSI whose type 24 says fishing; a boat reporting status 7
        sea = Sea()
        sea.static(FISHER, 0, length_m=30, ship_type=30, msg_type=5, name="KM MINA")
        if unidentified == 9123456:
            sea.pipeline.apply(
                StaticReport(unidentified, 24, at(0), "X", ship_type=30, length_m=12, source="rx1", mmsi_valid=False)
            )
        lat_b, lon_b = walk(*IN_RISK, 90.0, 200)
        for i in range(91):
            sea.pos(FISHER, i * 60, *IN_RISK, sog=0.5, cog=0.0)
            sea.pos(unidentified, i * 60 + 5, lat_b, lon_b, sog=0.5, cog=0.0, status=7)
        assert len(opened(sea.events, Kind.RENDEZVOUS)) == 1, unidentified


# ---------------------------------------------------------------- 7. local traffic, crossings
COAST_M = 1000.0  # the made-up coast: every position within 1 km of land until the boat is out
NIGHT_MIN = 200  # moored that many minutes before leaving: more than home_min_stop_s (3 h), a night


def day_trip(sea: Sea, coast: dict[str, float], mmsi: int = SMALL, moored_min: int = NIGHT_MIN) -> float:
    """Moored by the shore, out at 6 kn into the risk zone, fishing slowly in circles for 3 h; returns the start."""
    home = walk(*IN_RISK, 180.0, 12_000)
    for i in range(0, moored_min, 3):  # class B below 2 kn: every 3 minutes
        sea.pos(mmsi, i * 60, *home, sog=0.1, cog=0.0, msg_type=18)
    coast["m"] = 15_000.0
    out = moored_min * 60
    for i in range(10):
        sea.pos(mmsi, out + i * 60, *walk(*home, 0.0, (i + 1) * 60 * 6 * KN_TO_MS), sog=6.0, cog=0.0, msg_type=18)
    loiter(sea, mmsi, IN_RISK, 180, start=out + 10 * 60)
    return out


def test_a_boat_on_a_day_trip_from_its_home_neither_enters_nor_loiters() -> None:
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"])
    day_trip(sea, coast)
    assert sea.of(Kind.ZONE_ENTRY) == [] and sea.of(Kind.LOITERING) == []


def test_a_short_stop_by_a_coast_is_not_a_home() -> None:
    """A boat seen by a beach for half an hour (loading people) and then out is no day trip."""
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"])
    day_trip(sea, coast, moored_min=30)
    assert len(opened(sea.events, Kind.LOITERING)) == 1


def loitering_after(sea: Sea, t: float) -> list[float]:
    return [secs(e.observed_at) for e in opened(sea.events, Kind.LOITERING) if secs(e.observed_at) > t]


def test_the_same_track_first_heard_at_sea_is_a_crossing() -> None:
    coast = {"m": 40_000.0}  # never near land: it came from open sea (and its long stop out there loiters too)
    sea = Sea(shore=lambda lat, lon: coast["m"])
    out = day_trip(sea, coast)
    assert len(loitering_after(sea, out)) == 1


def test_a_trip_from_a_departure_coast_is_never_local() -> None:
    rules = parse_rules({"zone": {"risk": {"local": {"enabled": False}}}})
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"], rules=rules)
    out = day_trip(sea, coast)
    assert len(loitering_after(sea, out)) == 1


def test_a_stop_on_a_departure_coast_ends_a_day_trip() -> None:
    """From its home outside the zone to a departure coast, a stop by the beach (boarding), then out."""
    rules = parse_rules({"zone": {"risk": {"local": {"enabled": False}}}})
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"], rules=rules)
    small_craft(sea, t=-1000)
    for i in range(0, NIGHT_MIN, 3):
        sea.pos(SMALL, i * 60, *OUTSIDE, sog=0.1, cog=0.0, msg_type=18)  # its home, outside the zone
    t0 = NIGHT_MIN * 60
    for i in range(1, 10):
        sea.pos(SMALL, t0 + i * 60, *walk(*OUTSIDE, 0.0, i * 200), sog=6.0, cog=0.0, msg_type=18)
    beach = walk(*OUTSIDE, 0.0, 4000)
    for i in range(10, 40):
        sea.pos(SMALL, t0 + i * 60, *beach, sog=0.1, cog=0.0, msg_type=18)
    coast["m"] = 30_000.0
    loiter(sea, SMALL, IN_RISK, 120, start=t0 + 45 * 60)
    assert len(opened(sea.events, Kind.LOITERING)) == 1


def test_a_local_trip_longer_than_max_trip_s_is_a_crossing() -> None:
    rules = parse_rules({"zone": {"risk": {"local": {"max_trip_s": 3600.0}}}})  # per zone, where it began
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"], rules=rules)
    out = day_trip(sea, coast)
    (alert,) = opened(sea.events, Kind.LOITERING)
    assert secs(alert.observed_at) >= out + 3600  # once the trip (from when it left home) is not a day trip


def test_a_boat_first_heard_inside_a_zone_has_not_entered_it() -> None:
    """Where a transponder is switched on is not a crossing, by a coast or far out: the boat is judged
    by what it does (the fishing-ground scenario: fourteen fishers switched on at their ground)."""
    for shore in (lambda lat, lon: COAST_M, FAR_OFFSHORE):
        sea = Sea(shore=shore)
        small_craft(sea)
        for i in range(30):
            sea.pos(SMALL, i * 60, *walk(*IN_RISK, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
        assert sea.of(Kind.ZONE_ENTRY) == []
        # out and back in: that is an entry
        for i, point in enumerate([OUTSIDE] * 3 + [walk(10.02, 60.5, 0.0, 100)] * 3):
            sea.pos(SMALL, 3600 + i * 60, *point, sog=5.0, cog=0.0, msg_type=18)
        assert len(opened(sea.events, Kind.ZONE_ENTRY)) == 1


def test_a_crossing_heard_again_inside_after_a_coverage_gap_is_an_entry() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    small_craft(sea, t=-1000)
    for i in range(10):
        sea.pos(SMALL, i * 60, 9.5, 60.5, sog=5.0, cog=0.0, msg_type=18)  # heard outside, far out
    for i in range(30):  # five hours later, inside
        sea.pos(SMALL, 5 * 3600 + i * 60, *walk(10.05, 60.5, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
    assert len(opened(sea.events, Kind.ZONE_ENTRY)) == 1


def test_a_boat_from_open_sea_stopped_off_a_coast_then_silent_is_dark() -> None:
    """A short stop off a coast is no home: a crossing boat held off the beach and then silent is dark."""
    coast = {"m": 40_000.0}
    sea = Sea(shore=lambda lat, lon: coast["m"])
    small_craft(sea)
    for i in range(30):
        sea.pos(SMALL, i * 60, *walk(*IN_RISK, 0.0, i * 150), sog=5.0, cog=0.0, msg_type=18)
    coast["m"] = 3700.0  # 2 nm off the coast, stopped, then silent
    last = walk(*IN_RISK, 0.0, 30 * 150)
    for i in range(30, 35):
        sea.pos(SMALL, i * 60, *last, sog=0.2, cog=0.0, msg_type=18)
    others_report(sea, 35 * 60, 35 * 60 + 3 * 3600)
    assert len(opened(sea.events, Kind.DARK)) == 1


def test_a_boat_home_from_its_day_trip_that_switches_off_is_not_dark() -> None:
    coast = {"m": COAST_M}
    sea = Sea(shore=lambda lat, lon: coast["m"])
    small_craft(sea)
    out = day_trip(sea, coast)
    coast["m"] = 2_500.0  # home again: 1.3 nm off, beyond the dark detector's own 1 nm, at its learned home
    home = walk(*IN_RISK, 180.0, 12_000)
    back = out + 10 * 60 + 181 * 60
    for i in range(5):
        sea.pos(SMALL, back + i * 180, *home, sog=0.1, cog=0.0, msg_type=18)
    others_report(sea, back + 900, back + 900 + 3 * 3600)
    assert sea.of(Kind.DARK) == []


def test_two_small_boats_moored_side_by_side_are_no_rendezvous() -> None:
    sea = Sea(shore=lambda lat, lon: COAST_M)
    small_craft(sea, SMALL)
    small_craft(sea, SMALL2)
    pair_together(sea, SMALL, SMALL2, 90)
    assert sea.of(Kind.RENDEZVOUS) == []


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
    sea.static(FISHER, 0, length_m=20, ship_type=30, msg_type=5, name="FV SONAR")
    drift_track(sea, FISHER, IN_RISK, minutes, sog=0.5, cog=200.0, heading=290, status=0, msg_type=1, every_s=60.0)
    return sea


def test_a_fishing_vessel_adrift_far_offshore_for_many_hours_is_drifting() -> None:
    sea = fishing_vessel_adrift(7 * 60)
    (alert,) = opened(sea.events, Kind.DRIFTING)
    assert secs(alert.observed_at) == pytest.approx(6 * 3600, abs=60)  # working_min_duration_s
    assert {"course_heading_mismatch", "small_craft", "steady_drift"} <= set(alert.evidence["factors"])


def test_a_fishing_vessel_slow_for_a_few_hours_is_working() -> None:
    assert fishing_vessel_adrift(5 * 60).of(Kind.DRIFTING) == []


def test_the_watch_updates_by_the_rules_files_minimum_interval() -> None:
    """The watch's book follows the rules file: with an hour between updates, a 3 h drift updates once at most."""
    sea = Sea(rules=parse_rules({"alerts": {"update_min_interval_s": 3600.0, "update_move_m": 100.0}}))
    drift_track(sea, SMALL, IN_RISK, 180, heading=90, sog=0.9)
    updates = [secs(e.observed_at) for e in sea.of(Kind.DRIFTING) if e.event is EventType.UPDATED]
    opened_at = secs(opened(sea.events, Kind.DRIFTING)[0].observed_at)
    assert updates and all(b - a >= 3600 for a, b in zip([opened_at, *updates], updates, strict=False))


def test_one_fast_fix_does_not_restart_a_fishing_vessels_hours_adrift() -> None:
    sea = Sea(shore=FAR_OFFSHORE)
    sea.static(FISHER, 0, length_m=20, ship_type=30, msg_type=5, name="FV SONAR")
    kw: dict[str, Any] = {"sog": 0.5, "cog": 200.0, "heading": 290, "status": 0, "msg_type": 1}
    lat, lon = drift_track(sea, FISHER, IN_RISK, 180, **kw)
    sea.pos(FISHER, 180 * 60 + 30, lat, lon, sog=3.4, cog=200.0, heading=290, status=0)  # one noisy speed
    drift_track(sea, FISHER, (lat, lon), 240, start=181 * 60, **kw)
    (alert,) = opened(sea.events, Kind.DRIFTING)
    assert secs(alert.observed_at) <= 6 * 3600 + 120


def test_static_data_that_names_nobody_does_not_make_a_boat_routine() -> None:
    """Cheap class B sets often leave the type at 37 and send no name: that is not an identified yacht."""
    sea = Sea()
    lat, lon = drift_track(sea, SMALL, IN_RISK, 50, heading=90)
    assert len(opened(sea.events, Kind.DRIFTING)) == 1
    sea.static(SMALL, 50 * 60 + 10, length_m=None, ship_type=37, msg_type=24)  # a type, no name, no call sign
    drift_track(sea, SMALL, (lat, lon), 20, heading=90, start=51 * 60)
    assert all(e.event is not EventType.RESOLVED for e in sea.of(Kind.DRIFTING))


def test_a_small_craft_of_other_type_adrift_is_drifting() -> None:
    sea = Sea()
    small_craft(sea, ship_type=90)  # "other type" says nothing of a 12 m boat
    drift_track(sea, SMALL, IN_RISK, 60, heading=0)
    assert len(opened(sea.events, Kind.DRIFTING)) == 1


def test_a_zone_entry_restored_after_a_restart_resolves_when_the_boat_leaves() -> None:
    sea = Sea()
    small_craft(sea, t=-120)
    sea.pos(SMALL, -60, *OUTSIDE, sog=5.0, cog=0.0)
    for i in range(5):
        sea.pos(SMALL, i * 60, 10.02, 60.5, sog=5.0, cog=0.0)
    (entry,) = opened(sea.events, Kind.ZONE_ENTRY)
    again = Sea(shore=lambda lat, lon: COAST_M)  # restarted: the store gives the open alert back
    assert again.pipeline.watch.book.restore([entry]) == 1
    small_craft(again, t=400)
    for i in range(5):  # first heard again inside, by a coast
        again.pos(SMALL, 420 + i * 60, 10.02, 60.5, sog=5.0, cog=0.0)
    for i in range(5):
        again.pos(SMALL, 800 + i * 60, *OUTSIDE, sog=5.0, cog=180.0)
    assert [(e.event, e.id) for e in again.of(Kind.ZONE_ENTRY)] == [(EventType.RESOLVED, entry.id)]
