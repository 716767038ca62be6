"""The demo's feed: every receiver heard all lap long, and only the alerts its scenarios expect.

``seawatch demo`` publishes the demo feed merged in event time at ``demo_speed`` times real time; the
pipeline sees exactly these lines in this order (re-stamped by a constant shift per lap), so running them
through the pipeline here is what the demo's first lap does, without the wall clock.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from seawatch.adapters.files import merged_log_payloads
from seawatch.config.settings import DEMO_SCENARIOS, Settings
from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent, EventType
from seawatch.core.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
DEMO_MINUTES = 10  # the acceptance: ten minutes of demo without a surprise


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("make_demo_stations", ROOT / "scripts" / "make_demo_stations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(paths: list[Path], until_s: float | None = None) -> list[AlertEvent]:
    watch = build_watch(ROOT / "zones", None, use_shore=True)
    pipeline = Pipeline(watch=watch)
    events: list[AlertEvent] = []
    first = None
    for payload, when in merged_log_payloads(paths):
        if when is not None:
            first = first or when
            if until_s is not None and when - first > timedelta(seconds=until_s):
                break
        for line in payload.split(b"\n"):
            events += pipeline.feed(line).events
    return events


def _expected() -> set[tuple[str, frozenset[int | None]]]:
    wanted: set[tuple[str, frozenset[int | None]]] = set()
    for name in DEMO_SCENARIOS:
        doc = json.loads((ROOT / "replay_data" / "scenarios" / f"{name}.expected.json").read_text(encoding="utf-8"))
        for item in doc["expected"]:
            mmsis = {item.get("mmsi")} | ({item["other_mmsi"]} if item.get("other_mmsi") is not None else set())
            wanted.add((item["kind"], frozenset(mmsis)))
    return wanted


def _opened(events: list[AlertEvent]) -> list[tuple[str, frozenset[int | None]]]:
    out = []
    for ev in events:
        if ev.event is EventType.OPENED:
            out.append((ev.kind.value, frozenset({ev.mmsi} | ({ev.other.mmsi} if ev.other is not None else set()))))
    return out


def test_the_committed_demo_stations_are_what_the_script_writes() -> None:
    assert _script().main(["--check"]) == 0, "run scripts/make_demo_stations.py"


def test_the_default_demo_feed_includes_the_base_stations() -> None:
    feed = Settings().demo_feed
    assert feed[0] == Path("replay_data/demo_stations.nmea")
    assert all((ROOT / p).is_file() for p in feed)


def test_no_receiver_of_the_demo_falls_silent_in_a_whole_lap() -> None:
    events = _run([ROOT / p for p in Settings().demo_feed])
    assert [ev.summary for ev in events if ev.kind.value == "feed_outage"] == []


def test_the_first_ten_minutes_of_demo_raise_only_expected_alerts() -> None:
    speed = Settings().demo_speed
    events = _run([ROOT / p for p in Settings().demo_feed], until_s=DEMO_MINUTES * 60 * speed)
    opened = _opened(events)
    unexpected = [o for o in opened if o not in _expected()]
    assert unexpected == []
    assert ("distress", frozenset({970_110_427})) in opened  # and the demo does show something


def test_without_the_base_stations_the_demo_reported_a_receiver_outage() -> None:
    """The failure this feed fixes: rx-christmas (beacons for half an hour) fell silent mid-lap."""
    scenarios = [ROOT / p for p in Settings().demo_feed if p.name != "demo_stations.nmea"]
    events = _run(scenarios, until_s=DEMO_MINUTES * 60 * Settings().demo_speed)
    assert any(ev.kind.value == "feed_outage" and "rx-christmas" in ev.summary for ev in events)
