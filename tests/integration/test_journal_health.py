"""The journal and snapshots in ``/healthz`` and ``/metrics``, with a real broker and a real SQLite store.

A working journal: every message is durable and acknowledged, the figures say so, and a
snapshot taken now shows its age and position. A journal directory that cannot be
written: ingest goes on, the messages are acknowledged anyway, and health says
``journal-failing`` with the messages lost to the journal counted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete

from seawatch.adapters.store import AlertStore, snapshots_table
from seawatch.config.settings import Settings
from seawatch.runtime import create_app
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_api import line, publish
from tests.integration.test_supervision import sart, wait

ROOT = Path(__file__).resolve().parents[2]


def _settings(mosquitto: Mosquitto, topic: str, tmp_path: Path, journal: Path) -> Settings:
    return Settings(
        mqtt_url=mosquitto.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-journal-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        store_spool_file=tmp_path / "spool.jsonl",
        zones_dir=ROOT / "zones",
        shore_distance=False,
        alerts_topic_prefix=None,
        mqtt_sys_topics=False,
        journal_dir=journal,
    )


def _traffic(now: datetime) -> list[bytes]:
    ship = {"msg_type": 1, "mmsi": 533_000_401, "lat": 5.9, "lon": 95.3, "speed": 11.0, "course": 80.0}
    return [sart(970_400_001, now - timedelta(seconds=30))] + [
        p for i in range(4) for p in line(ship, now - timedelta(seconds=20 - i))
    ]


def test_health_and_metrics_show_the_journal_and_the_last_snapshot(
    mosquitto: Mosquitto, topic: str, tmp_path: Path
) -> None:
    app = create_app(_settings(mosquitto, topic, tmp_path, tmp_path / "journal"))
    runtime = app.state.runtime
    with TestClient(app) as client:
        assert wait(lambda: runtime.ingest.health.connected, 10), "the ingest did not connect"
        payloads = _traffic(datetime.now(UTC).replace(microsecond=0))
        publish(mosquitto, f"{topic}/rx", payloads)

        def journalled() -> bool:
            body = client.get("/healthz").json()
            return body["journal"]["messages"] == len(payloads) and body["unacknowledged_messages"] == 0

        assert wait(journalled), client.get("/healthz").json()
        body = client.get("/healthz").json()
        assert body["status"] == "ok"
        assert body["journal"]["lag_messages"] == 0
        assert body["journal"]["segments"] == 1 and body["journal"]["bytes"] > 0
        assert body["journal"]["write_errors"] == 0
        assert body["snapshot"]["age_s"] is None  # none taken yet
        assert body["start"]["journal_replayed"] == 0
        assert client.portal.call(runtime.state.snapshot) is True
        body = client.get("/healthz").json()
        assert body["snapshot"]["position"] == f"journal:{len(payloads)}"
        assert body["snapshot"]["age_s"] is not None and body["snapshot"]["bytes"] > 0
        metrics = client.get("/metrics").text
        assert f"seawatch_journal_messages_total {len(payloads)}" in metrics
        assert "seawatch_journal_lag_messages 0" in metrics
        assert "seawatch_journal_write_errors_total 0" in metrics
        assert "seawatch_snapshot_age_seconds " in metrics
        assert 'seawatch_task_up{task="journal"} 1' in metrics


def test_a_journal_that_cannot_be_written_stops_nothing_and_says_so(
    mosquitto: Mosquitto, topic: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    app = create_app(_settings(mosquitto, topic, tmp_path, blocker / "journal"))
    runtime = app.state.runtime
    with TestClient(app) as client:
        assert wait(lambda: runtime.ingest.health.connected, 10), "the ingest did not connect"
        payloads = _traffic(datetime.now(UTC).replace(microsecond=0))
        publish(mosquitto, f"{topic}/rx", payloads)  # waits for each PUBACK: acknowledged anyway

        def counted() -> bool:
            return client.get("/healthz").json()["journal"]["lost_messages"] == len(payloads)

        assert wait(counted), client.get("/healthz").json()
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "journal-failing"
        assert body["journal"]["write_errors"] >= 1 and body["journal"]["last_error"]
        assert body["unacknowledged_messages"] == 0
        assert body["alerts_open"] == 1  # the beacon: ingest went on
        assert f"seawatch_journal_lost_total {len(payloads)}" in client.get("/metrics").text


def test_an_operator_action_is_journalled_and_replayed_in_its_place_at_a_restart(
    mosquitto: Mosquitto, topic: str, tmp_path: Path
) -> None:
    """Acknowledged before a crash that left no snapshot after it: the restart's replay acknowledges it again.

    The clean stop of the first run stores a last snapshot; removing the snapshots makes
    the second start rebuild everything from the journal alone, as after a crash before
    any snapshot was taken.
    """
    settings = _settings(mosquitto, topic, tmp_path, tmp_path / "journal").model_copy(
        update={"operator_tokens": {"duty-officer": SecretStr("token-for-the-duty-officer")}}
    )
    headers = {"Authorization": "Bearer token-for-the-duty-officer"}
    app = create_app(settings)
    runtime = app.state.runtime
    with TestClient(app) as client:
        assert wait(lambda: runtime.ingest.health.connected, 10), "the ingest did not connect"
        publish(mosquitto, f"{topic}/rx", _traffic(datetime.now(UTC).replace(microsecond=0)))
        assert wait(lambda: client.get("/api/alerts").json()["alerts"]), "the beacon raised no alert"
        (alert,) = [a for a in client.get("/api/alerts").json()["alerts"] if a["kind"] == "distress"]
        answer = client.post(f"/api/alerts/{alert['id']}/acknowledge", json={"note": "on it"}, headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "acknowledged"
        body = client.get("/healthz").json()
        assert body["journal"]["lag_messages"] == 0
        journalled = body["journal"]["messages"]

    store = AlertStore(settings.store_url)
    with store._write() as conn:  # as if the process had died before any snapshot
        conn.execute(delete(snapshots_table))
    history_before = [(e.event, e.sequence) for e in store.history(alert["id"])]
    store.close()

    again = create_app(settings)
    with TestClient(again) as client:
        body = client.get("/healthz").json()
        assert body["start"]["snapshot_position"] is None
        assert body["start"]["journal_replayed"] == journalled  # every message and the action
        (restored,) = [a for a in client.get("/api/alerts").json()["alerts"] if a["id"] == alert["id"]]
        assert restored["status"] == "acknowledged" and restored["by"] == "duty-officer"
        history = client.get(f"/api/alerts/{alert['id']}").json()["history"]
    assert [(h["event"], h["sequence"]) for h in history] == [(e.value, s) for e, s in history_before]
