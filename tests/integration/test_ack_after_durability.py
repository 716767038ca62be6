"""An MQTT message is acknowledged only once the alert events it raised are in the store.

A Mosquitto of the test's own, the real runtime with a real SQLite store. The store's
write is held at a gate (the write itself is the real one, run once the gate opens), so
the test can look at the service while an alert event is on its way to the store:
ingest goes on taking messages (the write is not on the event loop), none of them is
acknowledged (acknowledgements go out in arrival order, after the one that waits), and
all are once the write is done.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from seawatch.config.settings import Settings
from seawatch.runtime import create_app
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_api import line, publish
from tests.integration.test_supervision import sart, wait

ROOT = Path(__file__).resolve().parents[2]


def test_a_message_is_acknowledged_after_its_alert_is_stored_and_ingest_goes_on_meanwhile(
    mosquitto: Mosquitto, topic: str, tmp_path: Path
) -> None:
    settings = Settings(
        mqtt_url=mosquitto.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-acks-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        zones_dir=ROOT / "zones",
        shore_distance=False,
        alerts_topic_prefix=None,
        mqtt_sys_topics=False,  # the broker's own $SYS messages would join the line of unacknowledged ones
    )
    app = create_app(settings)
    runtime = app.state.runtime
    store = runtime.delivery.store
    entered, gate = threading.Event(), threading.Event()
    record = store.record

    def gated_record(events: Sequence[Any], *args: Any) -> Any:
        if events:
            entered.set()
            assert gate.wait(60), "the test never opened the gate"
        return record(events, *args)

    store.record = gated_record
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with TestClient(app) as client:
            ingest = runtime.ingest
            assert wait(lambda: ingest.health.connected, 10), "the ingest did not connect"
            publish(mosquitto, f"{topic}/rx", [sart(970_300_001, now - timedelta(seconds=30))])
            assert entered.wait(20), "the alert never reached the store"
            # the write is under way: more traffic is ingested, and nothing is acknowledged
            ship = {"msg_type": 1, "mmsi": 533_000_301, "lat": 5.9, "lon": 95.3, "speed": 11.0, "course": 80.0}
            publish(
                mosquitto, f"{topic}/rx", [p for i in range(3) for p in line(ship, now - timedelta(seconds=20 - i))]
            )
            assert wait(lambda: ingest.health.messages >= 4), f"ingested {ingest.health.messages} of 4"
            health = client.get("/healthz").json()
            assert health["unacknowledged_messages"] == 4
            assert store.alerts(limit=10) == []
            gate.set()
            assert wait(lambda: client.get("/healthz").json()["unacknowledged_messages"] == 0)
            assert [a.mmsi for a in store.alerts(limit=10)] == [970_300_001]
    finally:
        gate.set()
