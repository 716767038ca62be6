"""Hostile HTTP requests: tokens and sizes judged before a body is read, 422 for every bad number.

The ASGI-level tests call the app directly with a ``receive`` that counts what the app
asked for, so "before reading" is measured, not assumed; the others run the real service
(``with TestClient``: lifespan, Mosquitto, SQLite) as an operator's client would meet it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient

from seawatch.config.settings import Settings
from seawatch.core.lines import tag_block
from seawatch.runtime import create_app
from seawatch.web.guard import MAX_BODY_BYTES
from tests.integration.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "op-token-" + uuid.uuid4().hex
MB = 1024 * 1024


def _settings(tmp_path: Path, broker_url: str = "mqtt://127.0.0.1:1", topic: str = "unused") -> Settings:
    return Settings(
        mqtt_url=broker_url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-hostile-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        store_spool_file=None,
        zones_dir=ROOT / "zones",
        operator_tokens={"duty-officer": TOKEN},  # type: ignore[dict-item]
        alerts_topic_prefix=None,
    )


async def _call(app: Any, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, int]:
    """POST through the ASGI app; returns (status, how many body chunks the app read)."""
    reads = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.disconnect"}
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "app": app,
    }
    await app(scope, receive, send)
    return status, reads


def _hundred_mb() -> Iterator[bytes]:
    return (b"x" * MB for _ in range(100))


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_a_write_without_a_valid_token_is_refused_before_its_body_is_read(tmp_path: Path, token: str) -> None:
    app = create_app(_settings(tmp_path))
    headers = {"content-type": "application/json", "content-length": str(100 * MB)}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    assert await _call(app, "/api/reports", headers, _hundred_mb()) == (401, 0)


async def test_a_declared_oversized_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    headers = {"authorization": f"Bearer {TOKEN}", "content-length": str(100 * MB)}
    assert await _call(app, "/api/reports", headers, _hundred_mb()) == (413, 0)
    headers["content-length"] = "12x"
    assert (await _call(app, "/api/reports", headers, _hundred_mb()))[0] == 400


async def test_a_streamed_oversized_body_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}  # chunked: no length
    chunks = (b" " * 16 * 1024 for _ in range(100 * 64))  # 100 MB in 16 KiB pieces
    status, reads = await _call(app, "/api/reports", headers, chunks)
    assert status == 413
    assert reads * 16 * 1024 <= MAX_BODY_BYTES + 16 * 1024


@pytest.fixture
def client(mosquitto: Mosquitto, topic: str, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path, mosquitto.url, topic))) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"])
def test_non_finite_numbers_in_a_report_are_422_not_500(client: TestClient, number: str) -> None:
    for body in (f'{{"lat": {number}, "lon": 96.5}}', f'{{"lat": 6.5, "lon": {number}}}'):
        answer = client.post("/api/reports", content=body, headers=AUTH)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]
    good = client.post("/api/reports", content='{"lat": 6.5, "lon": 96.5, "text": "ok"}', headers=AUTH)
    assert good.status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/api/vessels?limit=nan",
        "/api/vessels?limit=1e309",
        "/api/vessels?bbox=nan,nan,nan,nan",
        "/api/vessels?bbox=-inf,-90,inf,90",
        "/api/vessels/nan",
        "/api/alerts?limit=Infinity",
        "/api/alerts/x/surpic?limit=NaN",
    ],
)
def test_non_finite_numbers_anywhere_else_are_422(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 422


def test_small_writes_with_a_token_still_work(client: TestClient) -> None:
    answer = client.post("/api/alerts/no-such-alert/acknowledge", json={"note": "x" * 1000}, headers=AUTH)
    assert answer.status_code == 404
    answer = client.post("/api/alerts/no-such-alert/acknowledge", json={"note": "x"}, headers={})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/docs"),
        ("GET", "/api/vessels"),
        ("GET", "/api/vessels/1"),
        ("GET", "/metrics"),
        ("GET", "/static/leaflet/leaflet.js"),
        ("POST", "/api/reports"),
    ],
)
def test_every_answer_carries_the_security_headers(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if answer.headers["content-type"].startswith("text/html"):
        scripts = csp.split("script-src")[1].split(";")[0]
        assert "'sha256-" in scripts and "unsafe" not in scripts
    else:
        assert csp.startswith("default-src 'none'")


def test_the_docs_load_nothing_from_a_cdn(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "cdn." not in html and "https://" not in html
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served


def _until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_healthz_stays_small_after_megabyte_station_names(client: TestClient, mosquitto: Mosquitto, topic: str) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert _until(lambda: runtime.ingest.health.connected, 10), "the ingest did not connect"
    sentence = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"
    now = int(time.time())
    payloads = [tag_block(f"s:{'N' * MB}{i},c:{now}") + sentence for i in range(20)]
    publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    try:
        for payload in payloads:
            publisher.publish(f"{topic}/rx", payload, qos=1).wait_for_publish(10)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    assert _until(lambda: runtime.ingest.health.messages >= len(payloads), 30)
    body = client.get("/healthz").content
    assert len(body) < 10_000, len(body)  # it was 20 MB: every name, whole
