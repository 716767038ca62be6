"""Analyst replay against a live instance: `replay --publish` and `drill`, through a real broker.

A live ingest (zones, rules, the watch; no coastline mask needed here) listens on a topic
of its own; the commands run as real processes and publish to it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

from seawatch.adapters.files import log_payloads
from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent
from seawatch.core.pipeline import Pipeline
from seawatch.core.serialize import alert_event_json
from seawatch.runtime import build_runtime
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_mqtt_ingest import _settings, _until

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "replay_data" / "scenarios" / "beacons_active.nmea"


def _command(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawatch.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


async def _live(mosquitto: Mosquitto, topic: str, run: list[str], expect_messages: int) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    settings = _settings(mosquitto, topic).model_copy(update={"zones_dir": ROOT / "zones", "shore_distance": False})
    runtime = build_runtime(settings, extra_sinks=[events.append], with_delivery=False)
    ingest = runtime.ingest
    async with runtime.running():  # leaving it stops the source, then lets every sink empty its queue
        await asyncio.wait_for(ingest.source.wait_connected(), 10)
        result = await asyncio.to_thread(_command, *run)
        assert result.returncode == 0, result.stderr[-2000:]
        assert await _until(lambda: ingest.health.messages >= expect_messages, 60)
        ingest.finish()
    return events


async def test_a_scenario_published_into_a_live_instance_gives_the_plain_replay_alerts(
    mosquitto: Mosquitto, topic: str
) -> None:
    plain = Pipeline(watch=build_watch(ROOT / "zones", None, use_shore=False))
    plain_events = [e for line in SCENARIO.read_bytes().splitlines() for e in plain.feed(line).events]
    plain_events += plain.finish()
    expected = [alert_event_json(e) for e in plain_events]
    assert expected
    lines = sum(1 for _ in log_payloads(SCENARIO.read_bytes().splitlines()))  # MQTT messages sent
    url = f"mqtt://127.0.0.1:{mosquitto.port}/{topic}/training"
    live = await _live(mosquitto, topic, ["replay", str(SCENARIO), "--publish", url, "--speed", "2000"], lines)
    assert [alert_event_json(e) for e in live] == expected


async def test_a_beacon_drill_is_a_test_end_to_end(mosquitto: Mosquitto, topic: str) -> None:
    url = f"mqtt://127.0.0.1:{mosquitto.port}/{topic}/drill"
    live = await _live(mosquitto, topic, ["drill", "--publish", url, "--minutes", "1"], 9)
    assert live, "the drill raised nothing"
    assert all(e.test for e in live)
    assert {e.kind.value for e in live} == {"distress"}


async def test_a_scenario_drill_raises_only_test_alerts(mosquitto: Mosquitto, topic: str) -> None:
    url = f"mqtt://127.0.0.1:{mosquitto.port}/{topic}/drill"
    lines = sum(1 for _ in log_payloads(SCENARIO.read_bytes().splitlines()))  # MQTT messages sent
    live = await _live(
        mosquitto, topic, ["drill", "--publish", url, "--scenario", "beacons_active", "--speed", "2000"], lines
    )
    opened = [e for e in live if e.event.value == "alert.opened"]
    assert len(opened) >= 3 and all(e.test for e in live)  # the three active beacons, as tests
    assert all(e.summary.startswith("DRILL: ") for e in opened)


def test_replay_filters_report_and_tracks(tmp_path: Path) -> None:
    log = tmp_path / "rescue.nmea.gz"
    log.write_bytes(gzip.compress((ROOT / "replay_data/scenarios/rescue_disembarkation.nmea").read_bytes()))
    out, report, tracks = tmp_path / "a.jsonl", tmp_path / "r.html", tmp_path / "t.csv"
    result = _command(
        "replay",
        str(log),
        "-o",
        str(out),
        "--no-shore",
        "--since",
        "2026-03-01T01:00:00Z",
        "--mmsi",
        "533180734",
        "--report",
        str(report),
        "--tracks",
        str(tracks),
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events and all(533180734 in (e["mmsi"], (e["other_vessel"] or {}).get("mmsi")) for e in events)
    assert {e["kind"] for e in events} >= {"disembarkation"}
    assert "lines outside --since/--until" in result.stderr and "disembarkation" in result.stderr
    assert report.read_text().startswith("<!DOCTYPE html>")
    rows = tracks.read_text().splitlines()
    assert rows[0].startswith("mmsi,") and all(r.startswith("533180734,") for r in rows[1:])
    bad = _command("replay", str(log), "--zone", "no-such-zone", "--no-shore")
    assert bad.returncode == 2 and "no zone 'no-such-zone'" in bad.stderr
    bad = _command("replay", str(log), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_publish_needs_a_topic() -> None:
    result = _command("replay", str(SCENARIO), "--publish", "mqtt://127.0.0.1:1883")
    assert result.returncode == 2 and "needs a topic" in result.stderr
