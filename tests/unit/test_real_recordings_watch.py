"""Every real recording through the whole watch: nothing raises, and distress means a beacon.

The recordings (tests/data/ais, see SOURCES.md there) come from European and American
waters and library test suites, joined end to end whatever their dates; they hold one
beacon MMSI (an EPIRB-AIS, 974…, in libais's type examples) and several ordinary vessels
with navigational status 14, which is reserved for AIS-SARTs and is not a distress signal
from an ordinary MMSI.
"""

from __future__ import annotations

from pathlib import Path

from seawatch.config.watch import load_zones
from seawatch.core.alerts import EventType, Kind
from seawatch.core.pipeline import Pipeline
from seawatch.core.watch import Watch

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "ais"


def _recordings() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix not in (".md", ".json"))


def test_real_recordings_raise_distress_only_for_beacon_signals() -> None:
    pipeline = Pipeline(watch=Watch(load_zones(REPO / "zones")))
    events = []
    for path in _recordings():
        for line in path.read_bytes().splitlines():
            events += pipeline.feed(line).events
    events += pipeline.finish()
    opened = [e for e in events if e.event is EventType.OPENED]
    distress = [e for e in opened if e.kind is Kind.DISTRESS]
    for e in distress:
        beacon = e.mmsi is not None and e.mmsi // 1_000_000 in (970, 972, 974)
        text = str(e.evidence.get("signal", "")).startswith("text:")
        assert beacon or text, e.summary
    assert [e.mmsi for e in distress] == [974291422]
    # one alert, escalated for a day after its only report, then quiet: not once an hour for years
    assert len([e for e in events if e.kind is Kind.DISTRESS]) <= 30
