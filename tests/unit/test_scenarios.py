"""Golden scenarios: every scripted log in replay_data/scenarios/ through the real pipeline, scored.

Each ``NAME.nmea`` is replayed exactly as ``seawatch replay`` does it (zones from ``zones/``, the
default rules, the coastline mask) and the alerts it *opens* are matched one-to-one against
``NAME.expected.json``: same kind, same vessels (a rendezvous pair in either order), same test
flag, and the same zone where the expectation names one. Precision and recall per kind, over all
scenarios, are printed as a table. The acceptance: every distress signal and every zone entry is
found, every other kind at 95 % recall or better; normal traffic raises nothing; a beacon burst is
one alert; a test is only ever a test. The files themselves are checked against what
``scripts/make_scenarios.py`` generates, so they cannot go stale.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent, EventType
from seawatch.core.model import PositionReport, SafetyText
from seawatch.core.pipeline import Pipeline
from seawatch.core.serialize import alert_event_json

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = ROOT / "replay_data" / "scenarios"
EXPECTED_FILES = sorted(SCENARIO_DIR.glob("*.expected.json"))
NAMES = [p.name.removesuffix(".expected.json") for p in EXPECTED_FILES]
# normal traffic of the region: no alert of any kind
QUIET = ("malacca_normal", "port_anchorage", "fishing_ground", "pleasure_craft")
FULL_RECALL = ("distress", "zone_entry")  # a missed distress or entry is never acceptable
MIN_RECALL = 0.95  # every other kind
BEACON_PREFIXES = (970, 972, 974)  # AIS-SART, MOB, EPIRB-AIS (ITU-R M.585)


@dataclass(frozen=True, slots=True)
class Opened:
    """An alert as it opened: what the expectation is matched against."""

    id: str
    kind: str
    mmsis: frozenset[int | None]
    test: bool
    zone: str | None
    severity: str

    def label(self) -> str:
        return _label(self.kind, self.mmsis, self.test, self.zone)


@dataclass(frozen=True, slots=True)
class Expected:
    kind: str
    mmsis: frozenset[int | None]
    test: bool
    zone: str | None
    why: str
    max_updates: int | None = None

    @classmethod
    def parse(cls, item: dict[str, Any]) -> Expected:
        mmsis = {item.get("mmsi")}
        if item.get("other_mmsi") is not None:
            mmsis.add(item["other_mmsi"])
        return cls(
            item["kind"],
            frozenset(mmsis),
            bool(item.get("test", False)),
            item.get("zone"),
            item.get("why", ""),
            item.get("max_updates"),
        )

    def accepts(self, alert: Opened) -> bool:
        return (
            self.kind == alert.kind
            and self.mmsis == alert.mmsis
            and self.test == alert.test
            and (self.zone is None or self.zone == alert.zone)
        )

    def label(self) -> str:
        return _label(self.kind, self.mmsis, self.test, self.zone)


def _label(kind: str, mmsis: frozenset[int | None], test: bool, zone: str | None) -> str:
    who = "+".join(str(m) for m in sorted(mmsis, key=lambda m: m or 0))
    return f"{kind}({who}{', test' if test else ''}{', ' + zone if zone else ''})"


@dataclass(slots=True)
class Replay:
    events: list[AlertEvent]
    opened: list[Opened]
    beacon_signals: dict[int, set[str]]  # beacon MMSI -> what it sent: "active", "test"


def replay(name: str) -> Replay:
    """The whole pipeline over one scenario, built as ``seawatch replay`` builds it."""
    watch = build_watch(ROOT / "zones", None, use_shore=True)
    pipeline = Pipeline(watch=watch)
    signals: dict[int, set[str]] = defaultdict(set)
    events: list[AlertEvent] = []
    with (SCENARIO_DIR / f"{name}.nmea").open("rb") as log:
        for line in log:
            fed = pipeline.feed(line.rstrip(b"\r\n"))
            events += fed.events
            for report in fed.reports:
                if report.mmsi // 1_000_000 not in BEACON_PREFIXES:
                    continue
                if isinstance(report, PositionReport) and report.nav_status is not None:
                    signals[report.mmsi].add("test" if report.nav_status == 15 else "active")
                elif isinstance(report, SafetyText):
                    signals[report.mmsi].add("test" if "TEST" in report.text.upper() else "active")
    events += pipeline.finish()
    opened: list[Opened] = []
    seen: set[str] = set()
    for ev in events:
        if ev.id in seen:
            continue
        seen.add(ev.id)
        assert ev.event is EventType.OPENED, f"{name}: first event of {ev.id} is {ev.event}"
        mmsis = {ev.mmsi}
        if ev.other is not None:
            mmsis.add(ev.other.mmsi)
        zone = ev.zone.id if ev.zone is not None else None
        opened.append(Opened(ev.id, ev.kind.value, frozenset(mmsis), ev.test, zone, ev.severity.value))
    return Replay(events, opened, dict(signals))


def expected(name: str) -> list[Expected]:
    doc = json.loads((SCENARIO_DIR / f"{name}.expected.json").read_text(encoding="utf-8"))
    assert doc["scenario"] == name
    return [Expected.parse(item) for item in doc["expected"]]


def match(wanted: list[Expected], got: list[Opened]) -> dict[int, int]:
    """A maximum one-to-one matching, expected index -> opened index (augmenting paths; the sets are tiny)."""
    owner: dict[int, int] = {}  # opened index -> expected index

    def assign(i: int, visited: set[int]) -> bool:
        for j, alert in enumerate(got):
            if j in visited or not wanted[i].accepts(alert):
                continue
            visited.add(j)
            if j not in owner or assign(owner[j], visited):
                owner[j] = i
                return True
        return False

    for i in range(len(wanted)):
        assign(i, set())
    return {i: j for j, i in owner.items()}


@pytest.fixture(scope="module")
def replays() -> dict[str, Replay]:
    """Every scenario replayed once for the module (the coastline mask loads once per process)."""
    return {name: replay(name) for name in NAMES}


@cache
def _generator() -> ModuleType:
    path = ROOT / "scripts" / "make_scenarios.py"
    spec = importlib.util.spec_from_file_location("make_scenarios", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------ tests
def test_scenarios_exist() -> None:
    assert len(NAMES) >= 11
    for name in NAMES:
        assert (SCENARIO_DIR / f"{name}.nmea").is_file(), name


def test_files_are_what_the_script_generates(tmp_path: Path) -> None:
    _generator().build_all(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in SCENARIO_DIR.iterdir() if p.is_file())
    assert generated == committed, "re-run: .venv/bin/python scripts/make_scenarios.py"
    stale = [n for n in generated if (tmp_path / n).read_bytes() != (SCENARIO_DIR / n).read_bytes()]
    assert not stale, f"stale scenario files, re-run scripts/make_scenarios.py: {stale}"


def test_precision_and_recall(replays: dict[str, Replay], capsys: pytest.CaptureFixture[str]) -> None:
    expected_n: Counter[str] = Counter()
    predicted_n: Counter[str] = Counter()
    found: Counter[str] = Counter()  # matched pairs per kind (one-to-one, so the same for both ratios)
    misses: list[str] = []
    for name in NAMES:
        wanted, got = expected(name), replays[name].opened
        pairs = match(wanted, got)
        expected_n.update(e.kind for e in wanted)
        predicted_n.update(a.kind for a in got)
        found.update(wanted[i].kind for i in pairs)
        missed = [wanted[i].label() for i in range(len(wanted)) if i not in pairs]
        extra = [got[j].label() for j in range(len(got)) if j not in pairs.values()]
        if missed or extra:
            misses.append(f"{name}: missed {missed}, unexpected {extra}")

    kinds = sorted(set(expected_n) | set(predicted_n))
    rows = [f"{'kind':16} {'expected':>8} {'opened':>7} {'matched':>8} {'precision':>10} {'recall':>8}"]
    recall: dict[str, float] = {}
    for kind in kinds:
        p = found[kind] / predicted_n[kind] if predicted_n[kind] else 1.0
        recall[kind] = found[kind] / expected_n[kind] if expected_n[kind] else 1.0
        rows.append(
            f"{kind:16} {expected_n[kind]:8} {predicted_n[kind]:7} {found[kind]:8} {p:10.1%} {recall[kind]:8.1%}"
        )
    total_p = sum(found.values()) / max(1, sum(predicted_n.values()))
    total_r = sum(found.values()) / max(1, sum(expected_n.values()))
    rows.append(
        f"{'all':16} {sum(expected_n.values()):8} {sum(predicted_n.values()):7} {sum(found.values()):8} "
        f"{total_p:10.1%} {total_r:8.1%}"
    )
    with capsys.disabled():
        print(f"\n\nscenario alerts over {len(NAMES)} scenarios (replay_data/scenarios/)")
        print("\n".join(rows))
        for line in misses:
            print(f"  mismatch {line}")

    detail = "\n".join(misses)
    for kind in FULL_RECALL:
        assert recall.get(kind, 1.0) == 1.0, f"{kind} recall {recall.get(kind):.1%} < 100 %\n{detail}"
    for kind, value in recall.items():
        assert value >= MIN_RECALL, f"{kind} recall {value:.1%} < {MIN_RECALL:.0%}\n{detail}"


@pytest.mark.parametrize("name", QUIET)
def test_normal_traffic_raises_nothing(replays: dict[str, Replay], name: str) -> None:
    assert [a.label() for a in replays[name].opened] == []


def test_one_distress_alert_per_beacon(replays: dict[str, Replay]) -> None:
    for name in NAMES:
        r = replays[name]
        per_beacon = Counter(m for a in r.opened if a.kind == "distress" for m in a.mmsis)
        for mmsi in r.beacon_signals:
            assert per_beacon[mmsi] == 1, f"{name}: beacon {mmsi} opened {per_beacon[mmsi]} distress alerts"


def test_beacon_test_is_only_a_test(replays: dict[str, Replay]) -> None:
    r = replays["beacon_test"]
    assert r.opened, "the SART test raised nothing"
    for alert in r.opened:
        assert alert.test and alert.severity == "info", alert
    for ev in r.events:  # not only when it opens: no update or escalation turns it into a real one
        assert ev.test and ev.severity.value == "info", alert_event_json(ev)


def test_test_signals_never_raise_a_real_distress(replays: dict[str, Replay]) -> None:
    for name in NAMES:
        r = replays[name]
        testers = {m for m, sent in r.beacon_signals.items() if sent == {"test"}}
        real = [a.label() for a in r.opened if a.kind == "distress" and not a.test and a.mmsis & testers]
        assert not real, f"{name}: a beacon that only sent test signals raised {real}"


def test_disembarkation_alerts_carry_an_eta(replays: dict[str, Replay]) -> None:
    opened = [ev for r in replays.values() for ev in r.events if ev.kind.value == "disembarkation"]
    assert opened
    for ev in opened:
        assert "eta" in ev.evidence and "eta_s" in ev.evidence, alert_event_json(ev)


def updates_of(r: Replay, alert_id: str) -> int:
    return sum(1 for ev in r.events if ev.id == alert_id and ev.event is EventType.UPDATED)


def test_alerts_update_only_on_material_change(replays: dict[str, Replay], capsys: pytest.CaptureFixture[str]) -> None:
    """Every update is a webhook to every partner: the expected files bound the updates of an alert."""
    rows: list[str] = []
    over: list[str] = []
    bounded = 0
    for name in NAMES:
        wanted, got = expected(name), replays[name].opened
        for i, j in match(wanted, got).items():
            n = updates_of(replays[name], got[j].id)
            bound = wanted[i].max_updates
            rows.append(f"{name:24} {got[j].label():60} {n:3} updates" + (f" (at most {bound})" if bound else ""))
            if bound is not None:
                bounded += 1
                if n > bound:
                    over.append(f"{name}: {got[j].label()} {n} updates > {bound}")
    with capsys.disabled():
        print("\n\nupdates per alert (alert.updated events)")
        print("\n".join(rows))
    assert bounded >= 3, "the expected files bound the updates of the drifting boats"
    assert not over, "\n".join(over)


def test_replay_is_byte_identical(replays: dict[str, Replay]) -> None:
    name = "rescue_disembarkation"  # the richest story: four kinds, opened, updated and resolved
    again = replay(name)
    first = [alert_event_json(ev) for ev in replays[name].events]
    assert first, f"{name} raised nothing"
    assert [alert_event_json(ev) for ev in again.events] == first
