"""The alert book: one alert per situation, its lifecycle, distress escalation, the JSON contract.

Findings and clearances are built by hand (they are what detectors emit), so every
expectation here is about the book alone: when it publishes, with which sequence number,
id and event time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import (
    AlertEvent,
    Clearance,
    EventType,
    Finding,
    Kind,
    Severity,
    Status,
    VesselInfo,
    ZoneRef,
)
from seawatch.core.geo import destination
from seawatch.core.rules import AlertBookRules, DistressRules
from seawatch.core.serialize import alert_event_json, alert_event_to_dict

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
LAT, LON = 10.5, 60.5
BOAT = VesselInfo(mmsi=525000001, name="KM HARAPAN", ship_type=30, length_m=14, ais_class="B")
BEACON = VesselInfo(mmsi=970123456)
ZONE = ZoneRef("test-risk", "Test risk zone")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def drift(
    seconds: float = 0,
    *,
    severity: Severity = Severity.MEDIUM,
    evidence: dict[str, Any] | None = None,
    lat: float = LAT,
    lon: float = LON,
    notable: bool = False,
    mmsi: int = BOAT.mmsi,
) -> Finding:
    return Finding(
        kind=Kind.DRIFTING,
        key=(mmsi,),
        observed_at=at(seconds),
        severity=severity,
        summary="KM HARAPAN may be adrift.",
        evidence={"risk_score": 0.8} if evidence is None else evidence,
        lat=lat,
        lon=lon,
        vessel=BOAT,
        zone=ZONE,
        notable=notable,
    )


def distress(seconds: float = 0, *, test: bool = False, reports: int = 1) -> Finding:
    return Finding(
        kind=Kind.DISTRESS,
        key=(BEACON.mmsi,),
        observed_at=at(seconds),
        severity=Severity.INFO if test else Severity.CRITICAL,
        summary="AIS-SART ACTIVE: MMSI 970123456.",
        evidence={"signal": "nav_status_14", "reports": reports},
        lat=LAT,
        lon=LON,
        vessel=BEACON,
        zone=ZONE,
        test=test,
        escalates=not test,
    )


def clear(kind: Kind, key: tuple[int | str, ...], seconds: float, test: bool | None = None) -> Clearance:
    return Clearance(kind, key, at(seconds), "condition over", test=test, evidence={"why": "test"})


def apply_all(book: AlertBook, items: list[Finding | Clearance]) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    for item in items:
        events.extend(book.apply(item))
    return events


def summary(events: list[AlertEvent]) -> list[tuple[str, int, float]]:
    """(event, sequence, seconds after T0) of each event."""
    return [(e.event.value, e.sequence, (e.observed_at - T0).total_seconds()) for e in events]


# ------------------------------------------------------------ dedupe and updates
def test_repeated_findings_open_one_alert() -> None:
    book = AlertBook()
    events = apply_all(book, [drift(s) for s in range(0, 300, 10)])
    assert summary(events) == [("alert.opened", 1, 0.0)]
    assert events[0].status is Status.OPEN
    assert len(list(book)) == 1
    assert book.open_count(Kind.DRIFTING) == 1
    assert book.has_open_alert_about(BOAT.mmsi)


def test_worse_severity_updates_at_once_and_is_kept() -> None:
    book = AlertBook()
    events = apply_all(book, [drift(0), drift(10, severity=Severity.HIGH), drift(20, severity=Severity.MEDIUM)])
    assert summary(events) == [("alert.opened", 1, 0.0), ("alert.updated", 2, 10.0)]
    assert events[1].severity is Severity.HIGH
    # a later update for another reason (after the minimum interval) keeps the worst severity seen
    later = book.apply(drift(910, severity=Severity.LOW, notable=True))
    assert [(e.event.value, e.severity) for e in later] == [("alert.updated", Severity.HIGH)]


def test_a_notable_finding_waits_for_the_minimum_interval() -> None:
    """A change only the detector can see is material, but not more often than the interval allows."""
    book = AlertBook(AlertBookRules(update_min_interval_s=900.0))
    events = apply_all(book, [drift(0), drift(5, evidence={"risk_score": 0.9}, notable=True)])
    assert summary(events) == [("alert.opened", 1, 0.0)]
    # the next finding after the interval carries the change out, with the newest evidence
    events += apply_all(book, [drift(899, evidence={"risk_score": 0.9}), drift(900, evidence={"risk_score": 0.95})])
    assert summary(events) == [("alert.opened", 1, 0.0), ("alert.updated", 2, 900.0)]
    assert events[1].evidence == {"risk_score": 0.95}
    # published: the notable mark is spent
    assert book.apply(drift(1900, evidence={"risk_score": 0.95})) == []


def test_a_move_of_update_move_m_updates_once_the_interval_passed() -> None:
    book = AlertBook(AlertBookRules(update_min_interval_s=900.0, update_move_m=1852.0))
    near_lat, near_lon = destination(LAT, LON, 90.0, 1000.0)
    far_lat, far_lon = destination(LAT, LON, 90.0, 1900.0)
    events = apply_all(
        book,
        [
            drift(0),
            drift(60, lat=far_lat, lon=far_lon),  # moved far enough, but too soon
            drift(900, lat=near_lat, lon=near_lon),  # interval over, but not far enough from the last event
            drift(960, lat=far_lat, lon=far_lon),  # both
            drift(2000, lat=far_lat, lon=far_lon),  # interval over, not moved since
        ],
    )
    assert summary(events) == [("alert.opened", 1, 0.0), ("alert.updated", 2, 960.0)]
    assert (events[1].lat, events[1].lon) == (far_lat, far_lon)


def test_a_move_is_not_material_for_a_zone_entry() -> None:
    """A vessel that entered a zone moves on by design; the map shows where, partners need no webhook."""
    book = AlertBook()
    far_lat, far_lon = destination(LAT, LON, 90.0, 20_000.0)
    entry = [
        Finding(Kind.ZONE_ENTRY, (BOAT.mmsi,), at(s), Severity.HIGH, "entered", {}, lat=la, lon=lo, zone_key="a")
        for s, la, lo in ((0, LAT, LON), (3600, far_lat, far_lon))
    ]
    assert summary(apply_all(book, list(entry))) == [("alert.opened", 1, 0.0)]


def test_evidence_that_changed_without_a_material_change_publishes_nothing() -> None:
    """Durations grow and speeds change on every report: not news. A factor gained or lost is."""
    book = AlertBook(AlertBookRules(update_min_interval_s=600.0))
    events = apply_all(
        book,
        [
            drift(0, evidence={"risk_score": 0.8, "factors": {"slow": 0.2, "small": 0.2}}),
            drift(300, evidence={"risk_score": 0.85, "factors": {"slow": 0.2, "small": 0.2}}),
            drift(601, evidence={"risk_score": 0.85, "factors": {"slow": 0.2, "small": 0.2}, "duration_s": 601}),
            drift(1201, evidence={"risk_score": 0.9, "factors": {"slow": 0.2, "small": 0.2}, "duration_s": 1201}),
            drift(1300, evidence={"risk_score": 0.7, "factors": {"slow": 0.2}}),  # a factor lost: material
            drift(1400, evidence={"risk_score": 0.9, "factors": {"slow": 0.2, "small": 0.2}}),  # regained: too soon
        ],
    )
    assert summary(events) == [("alert.opened", 1, 0.0), ("alert.updated", 2, 1300.0)]
    assert events[1].evidence["factors"] == {"slow": 0.2}
    # what was not published is not lost: the next event (here a resolution) carries the newest evidence
    (resolved,) = book.apply(clear(Kind.DRIFTING, (BOAT.mmsi,), 1500))
    assert resolved.evidence["factors"] == {"slow": 0.2, "small": 0.2}


def test_an_eta_in_another_band_is_material() -> None:
    book = AlertBook(AlertBookRules(update_min_interval_s=900.0))

    def heading(seconds: float, eta_s: float) -> Finding:
        return Finding(
            Kind.DISEMBARKATION, (BOAT.mmsi,), at(seconds), Severity.HIGH, "heading in", {"eta_s": eta_s},
            lat=LAT, lon=LON, zone_key="landing",
        )  # fmt: skip

    events = apply_all(
        book,
        [
            heading(0, 5 * 3600),  # band 3-6 h
            heading(900, 4 * 3600),  # the same band
            heading(1800, 2.5 * 3600),  # 1-3 h: another band
            heading(1900, 0.5 * 3600),  # within the hour, but too soon
            heading(2700, 0.4 * 3600),
        ],
    )
    assert summary(events) == [("alert.opened", 1, 0.0), ("alert.updated", 2, 1800.0), ("alert.updated", 3, 2700.0)]
    assert [book.eta_band(s) for s in (0, 3599, 3600, 6 * 3600, 10**6)] == [0, 0, 1, 3, 5]


def test_alerts_are_per_kind_subject_zone_and_test_flag() -> None:
    book = AlertBook()
    findings = [
        drift(0),
        drift(0, mmsi=525000002),
        distress(0),
        distress(0, test=True),
        Finding(Kind.ZONE_ENTRY, (BOAT.mmsi,), at(0), Severity.HIGH, "entered A", {}, zone_key="a"),
        Finding(Kind.ZONE_ENTRY, (BOAT.mmsi,), at(0), Severity.HIGH, "entered B", {}, zone_key="b"),
    ]
    events = apply_all(book, findings)
    assert [e.event for e in events] == [EventType.OPENED] * 6
    assert len({e.id for e in events}) == 6


# ----------------------------------------------------------- ids and sequences
def lifecycle(book: AlertBook) -> list[AlertEvent]:
    factors = {"risk_score": 1, "factors": {"not_under_command": 0.25}}
    events = apply_all(book, [drift(0), drift(10, severity=Severity.HIGH), drift(910, evidence=factors)])
    ack = book.acknowledge(events[0].id, at(1000), by="mrcc-jakarta", note="vessel tasked")
    assert ack is not None
    events.append(ack)
    events.extend(book.apply(clear(Kind.DRIFTING, (BOAT.mmsi,), 1100)))
    return events


def test_sequence_numbers_increase_by_one_over_the_lifecycle() -> None:
    events = lifecycle(AlertBook())
    assert summary(events) == [
        ("alert.opened", 1, 0.0),
        ("alert.updated", 2, 10.0),
        ("alert.updated", 3, 910.0),
        ("alert.acknowledged", 4, 1000.0),
        ("alert.resolved", 5, 1100.0),
    ]
    assert [e.status for e in events] == [Status.OPEN] * 3 + [Status.ACKNOWLEDGED, Status.RESOLVED]
    assert len({e.id for e in events}) == 1
    assert all(e.opened_at == T0 for e in events)


def test_ids_are_deterministic() -> None:
    first = [alert_event_json(e) for e in lifecycle(AlertBook())]
    second = [alert_event_json(e) for e in lifecycle(AlertBook())]
    assert first == second
    assert json.loads(first[0])["id"].startswith("drifting-")


def test_clearance_resolves_and_a_later_finding_opens_a_new_alert_with_a_new_id() -> None:
    book = AlertBook()
    opened = book.apply(drift(0))
    resolved = book.apply(clear(Kind.DRIFTING, (BOAT.mmsi,), 100))
    assert [(e.event, e.id, e.status, e.sequence) for e in resolved] == [
        (EventType.RESOLVED, opened[0].id, Status.RESOLVED, 2)
    ]
    assert resolved[0].evidence == {"risk_score": 0.8, "why": "test", "resolution": "condition over"}
    assert resolved[0].summary == "Resolved (condition over): KM HARAPAN may be adrift."
    assert not book.has_open_alert_about(BOAT.mmsi)
    assert book.open_count(Kind.DRIFTING) == 0
    assert book.get(opened[0].id) is None
    reopened = book.apply(drift(200))
    assert [(e.event, e.sequence) for e in reopened] == [(EventType.OPENED, 1)]
    assert reopened[0].id != opened[0].id
    assert book.counts == {"drifting": 2}


def test_an_alert_reopened_at_the_same_time_still_gets_a_new_id() -> None:
    book = AlertBook()
    first = book.apply(drift(0))[0]
    book.apply(clear(Kind.DRIFTING, (BOAT.mmsi,), 0))
    second = book.apply(drift(0))[0]
    assert second.id != first.id


def test_clearance_for_another_subject_zone_or_flag_resolves_nothing() -> None:
    book = AlertBook()
    book.apply(drift(0))
    book.apply(distress(0, test=True))
    assert book.apply(clear(Kind.DRIFTING, (525000002,), 10)) == []
    assert book.apply(clear(Kind.LOITERING, (BOAT.mmsi,), 10)) == []
    assert book.apply(Clearance(Kind.DRIFTING, (BOAT.mmsi,), at(10), "x", zone_key="z")) == []
    assert book.apply(clear(Kind.DISTRESS, (BEACON.mmsi,), 10, test=False)) == []
    assert [e.event for e in book.apply(clear(Kind.DISTRESS, (BEACON.mmsi,), 10, test=True))] == [EventType.RESOLVED]


def test_resolved_event_carries_evidence_not_yet_published() -> None:
    book = AlertBook()
    book.apply(drift(0))
    book.apply(drift(60, evidence={"risk_score": 0.9}))  # pending: inside the quiet interval
    (resolved,) = book.apply(clear(Kind.DRIFTING, (BOAT.mmsi,), 120))
    assert resolved.evidence["risk_score"] == 0.9
    assert resolved.observed_at == at(120)


# ------------------------------------------------------------------- distress
ESCALATIONS_S = [300.0, 900.0, 2100.0, 4500.0, 8100.0, 11700.0, 15300.0]  # +300, 600, 1200, 2400, 3600, 3600


def test_distress_re_escalates_on_a_doubling_interval_until_acknowledged() -> None:
    book = AlertBook(distress=DistressRules(escalate_every_s=300.0, escalate_max_interval_s=3600.0))
    (opened,) = book.apply(distress(0))
    assert book.tick(at(299)) == []
    events: list[AlertEvent] = []
    for s in range(0, 16_000, 10):  # the pipeline ticks every 10 s of event time
        events.extend(book.tick(at(s)))
    assert [(e.observed_at - T0).total_seconds() for e in events] == ESCALATIONS_S
    assert [e.sequence for e in events] == list(range(2, 9))
    assert [e.evidence["escalation"] for e in events] == list(range(1, 8))
    assert all(e.event is EventType.UPDATED and e.status is Status.OPEN and e.id == opened.id for e in events)
    assert events[0].summary == "Not yet acknowledged (escalation 1): AIS-SART ACTIVE: MMSI 970123456."
    assert events[0].evidence == {"signal": "nav_status_14", "reports": 1, "escalation": 1}
    ack = book.acknowledge(opened.id, at(16_000), by="mrcc", note="seen")
    assert ack is not None and ack.sequence == 9
    assert book.tick(at(100_000)) == []


def test_escalations_are_stamped_with_their_due_times_whatever_the_tick() -> None:
    book = AlertBook()
    book.apply(distress(0))
    events = book.tick(at(12_000))  # a late tick: every escalation due so far, at its own time
    assert [(e.observed_at - T0).total_seconds() for e in events] == ESCALATIONS_S[:6]
    assert book.tick(at(12_000)) == []


def test_escalation_due_before_a_pending_finding_keeps_its_due_time() -> None:
    book = AlertBook()
    book.apply(distress(0, reports=1))
    book.apply(distress(305, reports=40))  # pending: same severity, no move, quiet interval not over
    (escalation,) = book.tick(at(310))
    assert escalation.observed_at == at(300)
    assert escalation.evidence["reports"] == 1  # the finding at 305 was not known at 300: it waits


def test_escalation_carries_what_was_known_at_its_due_time() -> None:
    book = AlertBook()
    book.apply(distress(0, reports=1))
    book.apply(distress(295, reports=40))
    (escalation,) = book.tick(at(310))
    assert escalation.observed_at == at(300)
    assert escalation.evidence["reports"] == 40


def test_acknowledged_distress_stops_escalating() -> None:
    book = AlertBook()
    (opened,) = book.apply(distress(0))
    assert len(book.tick(at(300))) == 1
    book.acknowledge(opened.id, at(400), by="mrcc")
    assert book.tick(at(20_000)) == []


def test_clearance_does_not_resolve_an_unacknowledged_real_distress() -> None:
    book = AlertBook()
    (opened,) = book.apply(distress(0))
    assert book.apply(clear(Kind.DISTRESS, (BEACON.mmsi,), 1800)) == []
    assert book.get(opened.id) is not None
    ack = book.acknowledge(opened.id, at(1900), by="mrcc")
    assert ack is not None
    (resolved,) = book.apply(clear(Kind.DISTRESS, (BEACON.mmsi,), 2000))
    assert (resolved.event, resolved.status, resolved.sequence) == (EventType.RESOLVED, Status.RESOLVED, 3)
    assert book.get(opened.id) is None


def test_test_distress_never_escalates_and_clears_without_acknowledgement() -> None:
    book = AlertBook()
    (opened,) = book.apply(distress(0, test=True))
    assert (opened.test, opened.severity) == (True, Severity.INFO)
    assert book.tick(at(100_000)) == []
    (resolved,) = book.apply(clear(Kind.DISTRESS, (BEACON.mmsi,), 400))
    assert resolved.event is EventType.RESOLVED


# ------------------------------------------------------------------ operators
def test_operator_acknowledge_and_resolve_carry_by_and_note() -> None:
    book = AlertBook()
    (opened,) = book.apply(drift(0))
    ack = book.acknowledge(opened.id, at(60), by="mrcc-jakarta", note="patrol boat tasked")
    assert ack is not None
    assert (ack.event, ack.status, ack.by, ack.note, ack.sequence) == (
        EventType.ACKNOWLEDGED,
        Status.ACKNOWLEDGED,
        "mrcc-jakarta",
        "patrol boat tasked",
        2,
    )
    assert book.acknowledge(opened.id, at(70), by="someone") is None  # already acknowledged
    # a later finding keeps the acknowledged status and clears the operator fields
    (update,) = book.apply(drift(80, severity=Severity.HIGH))
    assert (update.status, update.by, update.note) == (Status.ACKNOWLEDGED, None, None)
    resolved = book.resolve(opened.id, at(120), by="mrcc-jakarta")
    assert resolved is not None
    assert (resolved.event, resolved.status, resolved.by) == (EventType.RESOLVED, Status.RESOLVED, "mrcc-jakarta")
    assert resolved.evidence["resolution"] == "resolved by an operator"
    assert book.resolve(opened.id, at(130), by="x") is None
    assert book.acknowledge("drifting-unknown", at(130), by="x") is None


def test_operator_resolves_an_unacknowledged_real_distress() -> None:
    book = AlertBook()
    (opened,) = book.apply(distress(0))
    resolved = book.resolve(opened.id, at(60), by="mrcc")
    assert resolved is not None and resolved.status is Status.RESOLVED
    assert book.tick(at(10_000)) == []


def test_operator_resolve_note_is_in_the_event() -> None:
    book = AlertBook()
    (opened,) = book.apply(drift(0))
    resolved = book.resolve(opened.id, at(120), by="mrcc-jakarta", note="boat found, people safe")
    assert resolved is not None
    assert (resolved.by, resolved.note) == ("mrcc-jakarta", "boat found, people safe")


def test_a_retracted_false_alarm_is_withdrawn_but_the_vessel_is_not_muted() -> None:
    book = AlertBook()
    (opened,) = book.apply(distress(0))
    retracted = book.retract(opened.id, at(60), by="mrcc", note="beacon on a test bench ashore")
    assert retracted is not None
    assert (retracted.event, retracted.status, retracted.by, retracted.note, retracted.sequence) == (
        EventType.RETRACTED,
        Status.RETRACTED,
        "mrcc",
        "beacon on a test bench ashore",
        2,
    )
    assert retracted.evidence["resolution"] == "retracted by an operator"
    assert retracted.summary.startswith("Retracted (")
    assert book.get(opened.id) is None and book.tick(at(10_000)) == []  # no escalation of a withdrawn alert
    assert book.retract(opened.id, at(70), by="mrcc", note="again") is None
    assert book.resolve(opened.id, at(70), by="mrcc") is None
    # the beacon goes on transmitting: distress is never suppressed, a new alert opens
    (again,) = book.apply(distress(120))
    assert again.event is EventType.OPENED and again.id != opened.id


def test_operator_events_are_never_before_the_last_observation() -> None:
    book = AlertBook()
    (opened,) = book.apply(drift(100))
    ack = book.acknowledge(opened.id, at(50), by="op")  # a clock behind event time
    assert ack is not None and ack.observed_at == at(100)


# ----------------------------------------------------------------- the JSON
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


def test_alert_event_json_has_every_design_field() -> None:
    (opened,) = AlertBook().apply(drift(0, evidence={"risk_score": 0.8, "factors": {"small_craft": 0.2}}))
    doc = json.loads(alert_event_json(opened))
    assert set(DESIGN_FIELDS) <= set(doc)
    assert doc["id"] == opened.id
    assert doc["event"] == "alert.opened"
    assert (doc["kind"], doc["severity"], doc["status"], doc["test"]) == ("drifting", "medium", "open", False)
    assert doc["mmsi"] == BOAT.mmsi
    assert doc["vessel"] == {
        "mmsi": BOAT.mmsi,
        "name": "KM HARAPAN",
        "callsign": None,
        "imo": None,
        "ship_type": 30,
        "length_m": 14,
        "class": "B",
    }
    assert (doc["lat"], doc["lon"]) == (LAT, LON)
    assert doc["zone"] == {"id": "test-risk", "name": "Test risk zone"}
    assert doc["observed_at"] == "2024-03-01T06:00:00Z"
    assert doc["summary"] == "KM HARAPAN may be adrift."
    assert doc["evidence"] == {"risk_score": 0.8, "factors": {"small_craft": 0.2}}
    assert doc["sequence"] == 1


def test_alert_event_json_is_stable_and_one_line() -> None:
    (opened,) = AlertBook().apply(drift(0))
    text = alert_event_json(opened)
    assert text == alert_event_json(opened)
    assert "\n" not in text
    assert list(json.loads(text)) == list(alert_event_to_dict(opened))
    assert list(json.loads(text))[:7] == ["id", "event", "sequence", "kind", "severity", "status", "test"]


def test_alert_event_json_without_vessel_or_zone() -> None:
    finding = Finding(Kind.FEED_OUTAGE, ("rx1",), at(0), Severity.HIGH, "feed down", {"source": "rx1"})
    (opened,) = AlertBook().apply(finding)
    doc = json.loads(alert_event_json(opened))
    assert (doc["mmsi"], doc["vessel"], doc["zone"], doc["lat"], doc["lon"]) == (None, None, None, None, None)


def test_a_restored_distress_keeps_its_silence_horizon() -> None:
    """After a restart the escalations stop a day after the signal, as they do without one."""
    book = AlertBook()
    (opened,) = book.apply(distress(0))
    restored = AlertBook()
    assert restored.restore([opened]) == 1
    late = at(3 * 86400)
    assert len(restored.tick(late)) == len(book.tick(late))
