"""The same log fed live through MQTT gives the same alerts as ``seawatch replay``.

Each scenario's lines are published one per MQTT message at QoS 1 to a broker of the
test's own; the real ingest (zones, default rules, the shore mask) turns them into alert
events through a sink. The replay runs the same lines through a pipeline directly. The
two lists of events, serialised as ``seawatch replay`` writes them, must be identical.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent
from seawatch.core.pipeline import Pipeline
from seawatch.core.serialize import alert_event_json
from seawatch.runtime import build_runtime
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_mqtt_ingest import Publisher, _settings, _until

SCENARIOS = Path(__file__).resolve().parents[2] / "replay_data" / "scenarios"
ZONES = Path(__file__).resolve().parents[2] / "zones"


def _lines(name: str) -> list[bytes]:
    path = SCENARIOS / f"{name}.nmea"
    assert path.is_file(), f"scenario {name} missing: run scripts/make_scenarios.py"
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _replay(lines: list[bytes]) -> list[str]:
    pipeline = Pipeline(watch=build_watch(ZONES, None))
    events = [e for line in lines for e in pipeline.feed(line).events]
    events += pipeline.finish()
    return [alert_event_json(e) for e in events]


@pytest.mark.parametrize("name", ["beacons_active", "dark_timor", "rescue_disembarkation"])
async def test_live_mqtt_gives_the_alerts_replay_gives(mosquitto: Mosquitto, topic: str, name: str) -> None:
    lines = _lines(name)
    expected = _replay(lines)
    assert expected, f"scenario {name} raised no alert in replay"

    live: list[AlertEvent] = []
    settings = _settings(mosquitto, topic).model_copy(update={"zones_dir": ZONES})
    runtime = build_runtime(settings, extra_sinks=[live.append], with_delivery=False)
    ingest = runtime.ingest
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    async with runtime.running():  # leaving it stops the source, then lets every sink empty its queue
        try:
            await asyncio.wait_for(ingest.source.wait_connected(), 10)
            await asyncio.to_thread(publisher.publish, f"{topic}/rx", lines)
            assert await _until(lambda: ingest.health.messages >= len(lines), 120), (
                f"ingested {ingest.health.messages} of {len(lines)} messages"
            )
        finally:
            publisher.close()
        ingest.finish()  # what a shutdown does: the last time-driven checks at the last event time
    got = [alert_event_json(e) for e in live]
    assert got == expected
