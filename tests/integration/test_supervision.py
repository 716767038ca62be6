"""Supervised tasks against the real service: a broken alert channel stops nothing else.

A Mosquitto of the test's own, the SQLite store, the watch and every sink run as in
``seawatch run`` (``with TestClient(app)`` runs the runtime as the app's lifespan). One
extra sink raises on every event it is given. Ingest must go on counting messages, the
store and a second, working sink must receive every alert event, and ``/healthz`` and
``/metrics`` must name the broken sink while it fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyais
from fastapi.testclient import TestClient

from seawatch.adapters.sink import CallbackSink
from seawatch.config.settings import Settings
from seawatch.core.alerts import AlertEvent
from seawatch.core.lines import tag_block
from seawatch.runtime import create_app
from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.test_api import publish

ROOT = Path(__file__).resolve().parents[2]


def wait(predicate: Callable[[], object], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def sart(mmsi: int, when: datetime) -> bytes:
    """An active AIS-SART position in the Andaman Sea: each new MMSI opens a distress alert."""
    (sentence,) = pyais.encode_dict(
        {"msg_type": 1, "mmsi": mmsi, "lat": 8.5, "lon": 96.5, "status": 14, "speed": 0.3, "course": 90.0},
        talker_id="AI",
        radio_channel="A",
    )
    return tag_block(f"s:rx-test,c:{int(when.timestamp())}") + sentence.encode()


def _refuse(event: AlertEvent) -> None:
    raise RuntimeError(f"this channel is down ({event.kind.value})")


def test_a_sink_that_raises_on_every_event_stops_neither_ingest_nor_the_other_sinks(
    mosquitto: Mosquitto, topic: str, tmp_path: Path
) -> None:
    settings = Settings(
        mqtt_url=mosquitto.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-supervision-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        zones_dir=ROOT / "zones",
        shore_distance=False,
        alerts_topic_prefix=None,
    )
    working: list[AlertEvent] = []
    broken = CallbackSink("broken", _refuse)
    app = create_app(settings, extra_sinks=[broken, working.append])
    now = datetime.now(UTC).replace(microsecond=0)
    with TestClient(app) as client:
        runtime = app.state.runtime
        ingest = runtime.ingest
        assert wait(lambda: ingest.health.connected, 10), "the ingest did not connect"

        # first beacon: the broken sink fails on its alert and is restarted
        publish(mosquitto, f"{topic}/rx", [sart(970_200_001, now - timedelta(seconds=60))])
        assert wait(lambda: broken.figures.failures >= 1), "the broken sink was never given an event"
        health = client.get("/healthz")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "task-failing" and "broken" in body["failing"]
        assert body["sinks"]["broken"]["failing_since"] is not None
        assert "this channel is down" in body["sinks"]["broken"]["last_error"]
        assert wait(lambda: runtime.supervisor.tasks["sink-broken"].restarts >= 1), "the broken sink was not restarted"
        task = client.get("/healthz").json()["tasks"]["sink-broken"]
        assert task["restarts"] >= 1 and "this channel is down" in task["last_error"]

        # while it keeps failing, more beacons: every one is ingested, stored and reaches the working sink
        later = [sart(970_200_002 + i, now - timedelta(seconds=50 - i)) for i in range(5)]
        publish(mosquitto, f"{topic}/rx", later)
        assert wait(lambda: ingest.health.messages >= 6), f"ingested {ingest.health.messages} of 6 messages"
        assert runtime.delivery is not None
        opened = {e.mmsi for e in working if e.event.value == "alert.opened"}
        assert wait(lambda: len({e.mmsi for e in working if e.event.value == "alert.opened"}) >= 6), opened
        stored = {a.mmsi for a in runtime.delivery.store.alerts(limit=100)}
        assert wait(lambda: len({a.mmsi for a in runtime.delivery.store.alerts(limit=100)}) >= 6), stored
        assert broken.figures.delivered == 0 and broken.figures.failures >= 2

        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "task-failing"
        assert health.json()["broker_connected"] is True
        for name in ("sink-store", "sink-callback-2", "mqtt-source", "sink-log", "sink-sse", "webhooks"):
            assert health.json()["tasks"][name]["state"] == "running", name
        metrics = client.get("/metrics").text
        assert 'seawatch_sink_failing{sink="broken"} 1' in metrics
        assert 'seawatch_sink_failing{sink="store"} 0' in metrics
        assert 'seawatch_task_restarts_total{task="sink-broken"}' in metrics


def test_a_source_that_cannot_run_ends_the_process_with_status_4(tmp_path: Path) -> None:
    """A CA file that is not a certificate: the MQTT source fails at every start, five times, then the process ends."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not a certificate\n", encoding="utf-8")
    config = tmp_path / "seawatch.toml"
    config.write_text(
        f'mqtt_url = "mqtts://127.0.0.1:{free_port()}"\n'
        f'mqtt_tls_ca_file = "{ca_file}"\n'
        f'store_url = "sqlite:///{tmp_path / "alerts.db"}"\n'
        'alerts_topic_prefix = ""\n'
        "shore_distance = false\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "--config", str(config), "run", "--http-port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 4, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("seawatch: the source mqtt-source failed 5 times in a row"), last
    assert result.stderr.count("Traceback") == 1  # the first failure's; the restarts say one line each
