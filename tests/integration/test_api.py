"""The HTTP API against the real service: a Mosquitto of the test's own, the SQLite store, the watch.

``with TestClient(app)`` runs the app's lifespan, so the MQTT ingest, the watch and the
webhook dispatcher run exactly as in ``seawatch run``; AIS goes in over MQTT.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pyais
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, SecretStr, ValidationError
from starlette.routing import Match

from seawatch.config.settings import Settings
from seawatch.core.lines import tag_block
from seawatch.core.model import PositionReport
from seawatch.runtime import create_app
from seawatch.web.app import ROUTERS
from seawatch.web.schemas import VesselWithTrack
from tests.integration.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "op-token-" + uuid.uuid4().hex
READ = "read-token-" + uuid.uuid4().hex
SART = 970_112_233
SHIP = 533_000_101


def line(fields: dict[str, object], when: datetime, rx: str = "rx-test") -> list[bytes]:
    out = []
    for sentence in pyais.encode_dict(fields, talker_id="AI", radio_channel="A"):
        tag = f"s:{rx},c:{int(when.timestamp())}"
        out.append(tag_block(tag) + sentence.encode())
    return out


def publish(broker: Mosquitto, topic: str, payloads: list[bytes]) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    for payload in payloads:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def wait(predicate: object, timeout_s: float = 15.0) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


@pytest.fixture
def settings(mosquitto: Mosquitto, topic: str, tmp_path: Path) -> Settings:
    return Settings(
        mqtt_url=mosquitto.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-api-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        zones_dir=ROOT / "zones",
        operator_tokens={"duty-officer": TOKEN},  # type: ignore[dict-item]
        alerts_topic_prefix=None,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        assert wait(lambda: runtime.ingest.health.connected, 10), "the ingest did not connect"
        yield c


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_vessels_alerts_operator_actions_and_audit_log(
    client: TestClient, mosquitto: Mosquitto, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    now = datetime.now(UTC).replace(microsecond=0)
    payloads = line(
        {"msg_type": 5, "mmsi": SHIP, "shipname": "KM BAHARI", "ship_type": 70, "to_bow": 100, "to_stern": 20},
        now - timedelta(seconds=30),
    )
    payloads += line(
        {"msg_type": 1, "mmsi": SHIP, "lat": 6.4, "lon": 96.3, "speed": 12.0, "course": 80.0, "heading": 80},
        now - timedelta(seconds=20),
    )
    payloads += line(  # an MMSI outside the ITU forms (009…): kept and flagged; far from the SART (not in its SURPIC)
        {"msg_type": 1, "mmsi": 9123456, "lat": 3.0, "lon": 92.0, "speed": 5.0, "course": 80.0}, now
    )
    payloads += line({"msg_type": 1, "mmsi": SART, "lat": 6.5, "lon": 96.5, "status": 14, "speed": 0.2}, now)
    publish(mosquitto, f"{topic}/rx", [*payloads, b"!AIVDM,garbage*00"])
    assert wait(lambda: len(client.get("/api/alerts").json()["alerts"]) == 1)
    feed = client.get("/healthz").json()["topics"][f"{topic}/rx"]
    assert feed["messages"] == len(payloads) + 1 and feed["reject_ratio"] > 0 and feed["rate_per_min_5m"] > 0

    vessels = client.get("/api/vessels").json()
    by_mmsi = {f["properties"]["mmsi"]: f for f in vessels["features"]}
    assert by_mmsi[SHIP]["properties"]["name"] == "KM BAHARI"
    assert (by_mmsi[SHIP]["properties"]["mmsi_valid"], by_mmsi[9123456]["properties"]["mmsi_valid"]) == (True, False)
    assert by_mmsi[SHIP]["geometry"]["coordinates"] == pytest.approx([96.3, 6.4])
    assert by_mmsi[SART]["properties"]["beacon"] is True and by_mmsi[SART]["properties"]["risk"] == "critical"
    viewport = client.get("/api/vessels", params={"bbox": "96.4,6.45,96.6,6.55"}).json()
    assert [f["properties"]["mmsi"] for f in viewport["features"]] == [SART]
    assert client.get("/api/vessels", params={"bbox": "nonsense"}).status_code == 422
    detail = client.get(f"/api/vessels/{SHIP}").json()
    assert detail["track"][-1][:2] == pytest.approx([96.3, 6.4])
    assert client.get("/api/vessels/1").status_code == 404

    (alert,) = client.get("/api/alerts").json()["alerts"]
    assert alert["kind"] == "distress" and alert["status"] == "open" and alert["mmsi"] == SART
    alert_id = alert["id"]

    assert client.post(f"/api/alerts/{alert_id}/acknowledge").status_code == 401
    assert client.post(f"/api/alerts/{alert_id}/acknowledge", headers=auth("wrong")).status_code == 401
    ack = client.post(f"/api/alerts/{alert_id}/acknowledge", headers=auth(), json={"note": "calling MRCC"})
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged" and ack.json()["by"] == "duty-officer"
    assert client.get(f"/api/alerts/{alert_id}").json()["alert"]["status"] == "acknowledged"
    assert client.post(f"/api/alerts/{alert_id}/acknowledge", headers=auth()).status_code == 409
    assigned = client.post(f"/api/alerts/{alert_id}/assign", headers=auth(), json={"to": "KN SAR 101"})
    assert assigned.json()["evidence"]["assigned_to"] == "KN SAR 101"

    surpic = client.get(f"/api/alerts/{alert_id}/surpic").json()
    (first,) = surpic["vessels"]
    assert first["mmsi"] == SHIP and first["time_to_reach_s"] is not None and first["distance_nm"] > 0

    resolved = client.post(f"/api/alerts/{alert_id}/resolve", headers=auth(), json={"note": "all 40 rescued"})
    assert resolved.json()["status"] == "resolved" and resolved.json()["note"] == "all 40 rescued"
    assert client.get("/api/alerts").json()["alerts"] == []
    assert [a["id"] for a in client.get("/api/alerts", params={"status": "resolved"}).json()["alerts"]] == [alert_id]
    history = client.get(f"/api/alerts/{alert_id}").json()["history"]
    assert [(h["event"], h["by"]) for h in history] == [
        ("alert.opened", None),
        ("alert.acknowledged", "duty-officer"),
        ("alert.updated", "duty-officer"),
        ("alert.resolved", "duty-officer"),
    ]
    assert TOKEN not in caplog.text  # tokens never reach a log


def test_reports_become_alerts(client: TestClient) -> None:
    body = {"lat": 5.9, "lon": 95.4, "kind": "distress_call", "persons_on_board": 120, "condition": "engine failed"}
    assert client.post("/api/reports", json=body).status_code == 401
    made = client.post("/api/reports", json=body, headers=auth())
    assert made.status_code == 201, made.text
    event = made.json()
    assert event["kind"] == "report" and event["severity"] == "critical" and event["mmsi"] is None
    assert event["evidence"]["persons_on_board"] == 120 and event["evidence"]["reported_by"] == "duty-officer"
    assert event["zone"] is not None  # off Aceh: in a risk zone
    assert [a["id"] for a in client.get("/api/alerts").json()["alerts"]] == [event["id"]]
    assert client.post("/api/reports", json={"lat": 95, "lon": 0}, headers=auth()).status_code == 422


def test_a_false_alarm_is_retracted_with_its_reason(client: TestClient) -> None:
    made = client.post("/api/reports", json={"lat": 5.9, "lon": 95.4}, headers=auth()).json()
    path = f"/api/alerts/{made['id']}/retract"
    assert client.post(path, json={"note": "a buoy"}).status_code == 401
    assert client.post(path, json={}, headers=auth()).status_code == 422  # a reason is required
    assert client.post(path, json={"note": "   "}, headers=auth()).status_code == 422
    retracted = client.post(path, json={"note": "the 'boat' was a fish aggregating buoy"}, headers=auth())
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["event"] == "alert.retracted" and retracted.json()["status"] == "retracted"
    assert client.post(path, json={"note": "twice"}, headers=auth()).status_code == 404  # no longer open
    assert client.get("/api/alerts").json()["alerts"] == []
    listed = client.get("/api/alerts", params={"status": "retracted"}).json()["alerts"]
    assert [(a["id"], a["note"]) for a in listed] == [(made["id"], "the 'boat' was a fish aggregating buoy")]
    assert client.get("/api/alerts", params={"status": "resolved"}).json()["alerts"] == []
    history = client.get(f"/api/alerts/{made['id']}").json()["history"]
    assert [(h["event"], h["by"]) for h in history] == [("alert.opened", None), ("alert.retracted", "duty-officer")]


def test_health_metrics_zones_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["broker_connected"] is True
    assert health.json()["topics"] == {}  # nothing received yet: no feed to show
    metrics = client.get("/metrics").text
    for name in ("seawatch_messages_total", "seawatch_vessels", "seawatch_broker_connected", "seawatch_alerts_open"):
        assert name in metrics
    zones = client.get("/api/zones").json()
    assert {f["properties"]["kind"] for f in zones["features"]} == {"risk", "disembarkation", "port"}
    assert "/api/alerts/{alert_id}/acknowledge" in client.get("/openapi.json").json()["paths"]


def test_read_token_when_configured(settings: Settings) -> None:
    locked = settings.model_copy(update={"api_read_token": SecretStr(READ)})
    with TestClient(create_app(locked)) as c:
        assert c.get("/api/vessels").status_code == 401
        assert c.get("/api/vessels", headers=auth(READ)).status_code == 200
        assert c.get("/api/vessels", headers=auth(TOKEN)).status_code == 200  # operators read too
        assert c.get("/healthz").status_code in (200, 503)  # health stays open for probes
        for path in ("/api/search?q=bahari", "/api/received", "/api/alerts/x/received"):  # the map's own routes too
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers=auth(READ)).status_code == 200, path


def test_search_and_receive_times(client: TestClient, mosquitto: Mosquitto, topic: str) -> None:
    """A vessel found by call sign wherever it is; an alert event's receive time by the server's clock."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)  # event time far behind the wall clock
    static = {"msg_type": 5, "mmsi": SHIP, "shipname": "KM BAHARI", "callsign": "9MAB1", "ship_type": 70}
    payloads = line(static, when) + line({"msg_type": 1, "mmsi": SHIP, "lat": 6.4, "lon": 96.3, "speed": 12.0}, when)
    payloads += line({"msg_type": 1, "mmsi": SART, "lat": 6.5, "lon": 96.5, "status": 14, "speed": 0.2}, when)
    before = datetime.now(UTC).replace(microsecond=0)
    publish(mosquitto, f"{topic}/rx", payloads)
    assert wait(lambda: client.get("/api/alerts").json()["alerts"])
    found = client.get("/api/search", params={"q": "9mab1"}).json()["vessels"]
    assert [(v["mmsi"], v["name"], v["matched"]) for v in found] == [(SHIP, "KM BAHARI", "callsign")]
    assert client.get("/api/search", params={"q": ""}).status_code == 422
    alert = client.get("/api/alerts").json()["alerts"][0]
    received = client.get("/api/received").json()
    times = received["alerts"][alert["id"]]
    assert times["sequence"] == alert["sequence"] and times["first_sequence"] == 1
    assert datetime.fromisoformat(times["first"]) >= before  # the wall clock, not the 6 h old event time
    assert datetime.fromisoformat(received["event_time"]) <= before - timedelta(hours=5)
    one = client.get(f"/api/alerts/{alert['id']}/received").json()
    assert one["events"]["1"] == times["first"]
    assert client.get("/api/alerts/unknown/received").json() == {"id": "unknown", "events": {}}


def test_twenty_thousand_vessels_answer_in_bounded_time(client: TestClient) -> None:
    """Scale: figures printed (the closing note quotes them); never asserted on time."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    pipeline = runtime.ingest.pipeline
    now = datetime.now(UTC)
    for i in range(20_000):  # a grid over the region, straight into the fleet
        lat, lon = -12.0 + (i // 200) * 0.3, 88.0 + (i % 200) * 0.22
        pipeline.fleet.apply(PositionReport(300_000_000 + i, 1, now, lat, lon, 10.0, 90.0, 90, 0, "grid"))
    timings = {}
    for label, params in (("whole region", {"limit": 100_000}), ("viewport", {"bbox": "95,4,98,7"})):
        started = time.perf_counter()
        answer = client.get("/api/vessels", params=params)
        timings[label] = (time.perf_counter() - started, len(answer.json()["features"]))
    whole, viewport = timings["whole region"], timings["viewport"]
    assert whole[1] >= 20_000 and 0 < viewport[1] < 1000
    print(
        f"\n/api/vessels with 20,000 vessels: whole region {whole[1]:,} features in {whole[0] * 1000:.0f} ms; "
        f"viewport {viewport[1]:,} features in {viewport[0] * 1000:.0f} ms"
    )


def _documented(method: str, path: str) -> tuple[int, type[BaseModel]]:
    """The status and model the route that answers ``method path`` documents in OpenAPI."""
    scope = {"type": "http", "method": method, "path": path.split("?")[0]}
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.matches(scope)[0] is Match.FULL:
                model = route.responses[route.status_code or 200]["model"]
                return route.status_code or 200, model
    raise AssertionError(f"no route for {method} {path}")


def test_every_json_answer_matches_its_documented_schema(client: TestClient, mosquitto: Mosquitto, topic: str) -> None:
    """Real answers of the running service against the models /docs shows (no key missing, none extra)."""
    now = datetime.now(UTC).replace(microsecond=0)
    static = {"msg_type": 5, "mmsi": SHIP, "shipname": "KM BAHARI", "callsign": "9MAB1", "ship_type": 70}
    payloads = line(static, now - timedelta(seconds=30))
    payloads += line({"msg_type": 1, "mmsi": SHIP, "lat": 6.4, "lon": 96.3, "speed": 12.0, "course": 80.0}, now)
    payloads += line({"msg_type": 1, "mmsi": SART, "lat": 6.5, "lon": 96.5, "status": 14, "speed": 0.2}, now)
    publish(mosquitto, f"{topic}/rx", payloads)
    assert wait(lambda: client.get("/api/alerts").json()["alerts"])
    alert_id = client.get("/api/alerts").json()["alerts"][0]["id"]
    report = {"lat": 5.9, "lon": 95.4, "kind": "distress_call", "persons_on_board": 40, "text": "engine failed"}
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/vessels", None),
        ("GET", "/api/vessels?bbox=96,6,97,7&limit=1", None),
        ("GET", f"/api/vessels/{SHIP}", None),
        ("GET", f"/api/vessels/{SART}", None),
        ("GET", "/api/alerts", None),
        ("GET", f"/api/alerts/{alert_id}", None),
        ("GET", f"/api/alerts/{alert_id}/surpic", None),
        ("GET", "/api/zones", None),
        ("GET", "/api/search?q=bahari", None),
        ("GET", "/api/received", None),
        ("GET", f"/api/alerts/{alert_id}/received", None),
        ("GET", "/healthz", None),
        ("POST", f"/api/alerts/{alert_id}/acknowledge", {"note": "calling MRCC"}),
        ("POST", f"/api/alerts/{alert_id}/assign", {"to": "KN SAR 101"}),
        ("POST", f"/api/alerts/{alert_id}/resolve", {"note": "all rescued"}),
        ("POST", "/api/reports", report),
        ("GET", "/api/alerts?status=all", None),
        ("GET", f"/api/alerts/{alert_id}", None),
    ]
    seen: dict[str, Any] = {}
    for method, path, body in calls:
        answer = client.request(method, path, json=body, headers=auth() if method == "POST" else None)
        status, model = _documented(method, path)
        assert answer.status_code == status, (path, answer.text)
        model.model_validate_json(answer.content)  # raises on a missing, extra or mistyped key
        seen.setdefault(path, answer.json())
    made = client.get("/api/alerts").json()["alerts"][0]
    retracted = client.post(f"/api/alerts/{made['id']}/retract", json={"note": "a buoy"}, headers=auth())
    _documented("POST", f"/api/alerts/{made['id']}/retract")[1].model_validate_json(retracted.content)
    vessel = seen[f"/api/vessels/{SART}"]
    (sart_alert,) = vessel["alerts"]  # the nested models were exercised with values, not only nulls
    assert sart_alert["vessel"]["mmsi"] == SART and sart_alert["zone"] is not None and vessel["track"]
    assert seen[f"/api/alerts/{alert_id}/surpic"]["vessels"] and seen["/api/search?q=bahari"]["vessels"]
    assert seen["/api/received"]["alerts"] and seen[f"/api/alerts/{alert_id}/received"]["events"]
    vessel["vessel"]["unexpected"] = 1
    with pytest.raises(ValidationError):  # and they are strict
        VesselWithTrack.model_validate(vessel)


def test_openapi_shows_a_schema_for_every_json_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    json_routes = set()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None:
                    continue
                json_routes.add((method.upper(), path))
                assert schema.get("$ref", "").startswith("#/components/schemas/"), (path, schema)
                shown = components[schema["$ref"].rsplit("/", 1)[1]]
                assert shown["properties"] and shown["additionalProperties"] is False, path
    every = {(m.upper(), p) for p, methods in spec["paths"].items() for m in methods}
    assert every - json_routes == {("GET", "/api/stream"), ("GET", "/metrics")}
    stream = spec["paths"]["/api/stream"]["get"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
