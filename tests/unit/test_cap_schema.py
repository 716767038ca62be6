"""Every kind of CAP document Seawatch sends validates against the OASIS CAP 1.2 XML schema.

The documents come from real runs (the demo's scenarios replayed, then acknowledged,
assigned, resolved and retracted through the alert book, and a person's report) and from
every kind x event x severity x test combination, with hostile text in every field an
operator or a vessel can fill, control characters included.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from seawatch.config.settings import DEMO_SCENARIOS
from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent, EventType, Finding, Kind, Severity, Status, VesselInfo, ZoneRef
from seawatch.core.cap import to_cap
from seawatch.core.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOSTILE = "<b>x</b> & \x00\x01\x07\x08\x0b\x0c\x1b[31m\x7f \ud800 \ufffe\uffff ]]> \u202e END"


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ROOT / "tests/data/cap/CAP-v1.2.xsd")))


def assert_valid(document: str) -> None:
    root = etree.fromstring(document.encode("utf-8"))  # well-formed, or this raises
    if not schema().validate(root):
        raise AssertionError(f"{schema().error_log}\n{document}")


@cache
def replayed_events() -> tuple[AlertEvent, ...]:
    """Alert events of the demo's scenarios, plus every operator action on them."""
    watch = build_watch(ROOT / "zones", None, False)
    pipeline = Pipeline(watch=watch)
    events: list[AlertEvent] = []
    for name in DEMO_SCENARIOS:
        for line in (ROOT / "replay_data/scenarios" / f"{name}.nmea").read_bytes().splitlines():
            events += pipeline.feed(line).events
    events += pipeline.finish()
    book = watch.book
    later = (pipeline.now or T0) + timedelta(minutes=1)
    actions = (
        lambda i: book.acknowledge(i, later, "duty\x07officer", HOSTILE),
        lambda i: book.assign(i, later, "duty-officer", "MRCC\x1b Jakarta", HOSTILE),
        lambda i: book.resolve(i, later, "duty-officer", HOSTILE),
        lambda i: book.retract(i, later, "duty-officer", HOSTILE),
    )
    open_ids = [a.id for a in book]
    for alert_id, action in zip(open_ids, itertools.cycle(actions), strict=False):
        done = action(alert_id)
        if done is not None:
            events.append(done)
    report = Finding(
        kind=Kind.REPORT,
        key=("r-0001",),
        observed_at=later,
        severity=Severity.CRITICAL,
        summary=f"Distress call reported by duty-officer: {HOSTILE}",
        evidence={"report_id": "r-0001", "text": HOSTILE, "persons_on_board": 60},
        lat=6.5,
        lon=96.5,
        zone=None,
        escalates=True,
    )
    events.append(book.report(report))
    return tuple(events)


def test_replayed_alerts_and_operator_actions_are_valid_cap() -> None:
    events = replayed_events()
    seen = {(e.kind, e.event) for e in events}
    assert {e.kind for e in events} >= {Kind.DISTRESS, Kind.ZONE_ENTRY, Kind.REPORT}
    assert {e.event for e in events} == set(EventType), seen
    for event in events:
        assert_valid(to_cap(event, sender="seawatch@rcc.example"))


BASE = AlertEvent(
    id="distress-0123456789abcdef",
    event=EventType.OPENED,
    sequence=1,
    kind=Kind.DISTRESS,
    severity=Severity.CRITICAL,
    status=Status.OPEN,
    test=False,
    mmsi=970012345,
    vessel=VesselInfo(970012345, name=HOSTILE, ship_type=30, length_m=12, ais_class="B", callsign=HOSTILE),
    other=None,
    lat=6.5,
    lon=96.5,
    zone=ZoneRef("andaman-sea-corridor", HOSTILE),
    observed_at=T0,
    opened_at=T0,
    summary=HOSTILE * 10,
    evidence={"text": HOSTILE, "nested": {"list": [HOSTILE, 1.5, None]}},
)


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("event_type", list(EventType))
def test_every_kind_and_event_is_valid_cap_even_with_hostile_text(kind: Kind, event_type: EventType) -> None:
    for severity, test, positioned, by in itertools.product(Severity, (False, True), (False, True), (None, HOSTILE)):
        event = replace(
            BASE,
            kind=kind,
            event=event_type,
            sequence=1 if event_type is EventType.OPENED else 3,
            severity=severity,
            test=test,
            lat=6.5 if positioned else None,
            lon=96.5 if positioned else None,
            zone=BASE.zone if positioned else None,
            vessel=BASE.vessel if positioned else None,
            mmsi=BASE.mmsi if positioned else None,
            by=by,
            note=by,
        )
        assert_valid(to_cap(event, sender="seawatch"))


def test_control_characters_in_operator_text_become_replacement_characters() -> None:
    event = replace(BASE, event=EventType.ACKNOWLEDGED, by="duty\x00officer", note="call \x07\x1b back")
    root = etree.fromstring(to_cap(event).encode("utf-8"))
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    description = root.findtext("cap:info/cap:description", namespaces=ns)
    assert description is not None and "By: duty\ufffdofficer. Note: call \ufffd\ufffd back" in description
