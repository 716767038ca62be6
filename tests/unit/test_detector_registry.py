"""The detector registry: every alert kind has one place it comes from, and detectors see what they declare."""

from __future__ import annotations

from seawatch.core.alerts import AlertEvent, Finding, Kind, Severity
from seawatch.core.detectors import DETECTORS, OTHER_SOURCES
from seawatch.core.detectors.base import Context, Fix, Need, Output
from seawatch.core.model import PositionReport
from seawatch.core.pipeline import Pipeline
from seawatch.core.rules import Rules
from seawatch.core.watch import Watch
from tests.unit.test_detectors import IN_RISK, OPEN_SEA, ZONES, at


def registered_kinds() -> list[Kind]:
    watch = Watch(ZONES, Rules(), None)
    return [d.kind for d in watch.detectors]


def test_every_alert_kind_has_a_registered_detector_or_a_named_source() -> None:
    kinds = registered_kinds()
    assert len(kinds) == len(set(kinds)), "one detector per kind"
    assert set(kinds).isdisjoint(OTHER_SOURCES), "a kind comes from one place"
    assert set(kinds) | set(OTHER_SOURCES) == set(Kind)
    assert set(OTHER_SOURCES) == {Kind.REPORT, Kind.FEED_OUTAGE}  # operators; feed health


def test_every_detector_declares_what_it_needs() -> None:
    watch = Watch(ZONES, Rules(), None)
    for detector in watch.detectors:
        assert isinstance(detector.needs, Need) and detector.needs, detector
        if Need.SLOW_FIXES in detector.needs:
            assert callable(getattr(detector, "holds", None)) and callable(getattr(detector, "slow_limit_kn", None))
        if Need.TICKS in detector.needs:
            assert callable(getattr(detector, "on_tick", None))
        if detector.needs & (Need.BEACONS | Need.TEXTS):
            assert callable(getattr(detector, "on_text", None)) and callable(getattr(detector, "on_unplaced", None))
    assert len(watch.detectors) == len(DETECTORS)


class _SpeedAnomaly:
    """A detector of the kind the slow-speed shortcut used to hide: it must see vessels under way."""

    kind = Kind.LOITERING  # any kind will do for the test
    needs = Need.FIXES

    def __init__(self, ctx: Context) -> None:
        self.speeds: list[float | None] = []

    def on_fix(self, fix: Fix, out: Output) -> None:
        self.speeds.append(fix.sog_kn)
        if fix.sog_kn is not None and fix.sog_kn > 40:
            out.append(
                Finding(Kind.LOITERING, (fix.vessel.mmsi,), fix.t, Severity.LOW, "too fast", {}, fix.lat, fix.lon)
            )

    def forget(self, mmsi: int) -> None:
        return None


class _SlowOnly(_SpeedAnomaly):
    needs = Need.SLOW_FIXES

    def slow_limit_kn(self) -> float:
        return 2.0

    def holds(self, mmsi: int) -> bool:
        return False


def feed(watch: Watch, speeds: list[float]) -> list[AlertEvent]:
    pipeline = Pipeline(watch=watch)
    events: list[AlertEvent] = []
    for i, sog in enumerate(speeds):
        events += pipeline.apply(PositionReport(525000001, 1, at(i * 10), *OPEN_SEA, sog, 90.0, None, 0, "rx1"))
    return events


def test_a_detector_that_declares_every_fix_sees_vessels_under_way() -> None:
    watch = Watch(ZONES, Rules(), None, detectors=[_SpeedAnomaly])
    events = feed(watch, [12.0, 45.0, 1.0])
    (anomaly,) = watch.detectors
    assert anomaly.speeds == [12.0, 45.0, 1.0]  # type: ignore[attr-defined]
    assert [e.summary for e in events] == ["too fast"]


def test_a_detector_that_declares_slow_fixes_hears_only_slow_vessels_it_does_not_hold() -> None:
    watch = Watch(ZONES, Rules(), None, detectors=[_SlowOnly])
    feed(watch, [12.0, 1.5, 30.0, 0.5])
    (slow,) = watch.detectors
    assert slow.speeds == [1.5, 0.5]  # type: ignore[attr-defined]


def test_beacons_reach_only_the_detectors_that_declare_them() -> None:
    watch = Watch(ZONES, Rules(), None)
    pipeline = Pipeline(watch=watch)
    events: list[AlertEvent] = []
    for i in range(8):
        events += pipeline.apply(PositionReport(970123456, 1, at(i * 7.5), *IN_RISK, 0.0, None, None, 14, "rx1"))
    kinds = {e.kind for e in events}
    assert kinds == {Kind.DISTRESS}
