"""Fault injection: the real service through a PostgreSQL outage, with a partner to deliver to.

`seawatch run` runs as a process of its own against a Mosquitto of the test's own, a
fresh PostgreSQL database reached through a TCP proxy the test cuts and restores (see
:mod:`tests.integration.tcpproxy`), and a real HTTP server playing the partner. The
test waits for states (an answer of ``/healthz``, a webhook at the partner, the process's
end), never for a time; a background poller checks that ``/healthz`` and ``/metrics``
answer throughout, whatever the store is doing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient

from seawatch.config.settings import Settings
from seawatch.runtime import create_app
from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.receiver import SECRET, Receiver
from tests.integration.tcpproxy import TcpProxy
from tests.integration.test_api import publish
from tests.integration.test_store import fresh_postgres_database
from tests.integration.test_supervision import sart

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0  # the most any state may take to arrive before the test gives up on it


def until(predicate: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    if not predicate():
        raise AssertionError(f"gave up waiting: {what}")


@dataclass
class Service:
    """One `seawatch run` process with its config, log and HTTP address."""

    config: Path
    log_path: Path
    http: str
    proc: subprocess.Popen[str] | None = None

    def start(self) -> Service:
        with self.log_path.open("a", encoding="utf-8") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "seawatch.cli", "--config", str(self.config), "run"],
                cwd=ROOT,
                env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                stderr=log_file,
                stdout=subprocess.DEVNULL,
                text=True,
            )
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def health(self) -> tuple[int, dict[str, object]] | None:
        """``/healthz`` as (status code, body), or None while nothing listens yet."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"seawatch run exited ({self.proc.returncode}): {self.log[-3000:]}")
        try:
            r = httpx.get(f"{self.http}/healthz", timeout=5)
        except httpx.TransportError:
            return None
        return r.status_code, r.json()

    def status(self) -> str | None:
        answer = self.health()
        return None if answer is None else str(answer[1]["status"])

    def messages(self, topic: str) -> int:
        answer = self.health()
        assert answer is not None
        topics = answer[1]["topics"]
        assert isinstance(topics, dict)
        return int(topics.get(topic, {}).get("messages", 0))

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = WAIT_S) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            # where it hangs, for the failure's report: faulthandler dumps every thread on SIGABRT
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(10)
            raise AssertionError(f"seawatch run did not stop within {timeout_s:g} s: {self.log[-6000:]}") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Poller:
    """Asks ``/healthz`` and ``/metrics`` over and over in a thread; records every answer."""

    http: str
    answers: list[tuple[str, int, float]] = field(default_factory=list)  # (path, status, seconds)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Poller:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                for path in ("/healthz", "/metrics"):
                    started = time.perf_counter()
                    try:
                        status = client.get(f"{self.http}{path}").status_code
                    except httpx.TransportError as exc:
                        status = -1
                        self.answers.append((f"{path} {type(exc).__name__}", status, time.perf_counter() - started))
                        continue
                    self.answers.append((path, status, time.perf_counter() - started))
                self._stop.wait(0.1)

    def of(self, path: str) -> list[tuple[str, int, float]]:
        return [a for a in self.answers if a[0].startswith(path)]


@pytest.fixture
def postgres_proxy() -> Iterator[tuple[TcpProxy, str]]:
    """A fresh PostgreSQL database, and its URL through a proxy the test can cut."""
    with fresh_postgres_database() as url:
        proxy = TcpProxy("127.0.0.1", 5432).start()
        try:
            yield proxy, url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        finally:
            proxy.stop()


def write_config(tmp_path: Path, mosquitto: Mosquitto, topic: str, store_url: str, receiver: Receiver) -> Service:
    port = free_port()
    config = tmp_path / "seawatch.toml"
    config.write_text(
        f'mqtt_url = "{mosquitto.url}"\n'
        f'mqtt_topics = ["{topic}/#"]\n'
        f'mqtt_client_id = "seawatch-outage-{uuid.uuid4().hex[:8]}"\n'
        f'store_url = "{store_url}"\n'
        f'store_spool_file = "{tmp_path / "spool.jsonl"}"\n'
        f'zones_dir = "{ROOT / "zones"}"\n'
        'alerts_topic_prefix = ""\n'
        "shore_distance = false\n"
        "webhook_retry_min_s = 0.1\n"
        "webhook_retry_max_s = 1.0\n"
        f"http_port = {port}\n"
        "[[partners]]\n"
        'name = "ngo"\n'
        f'url = "{receiver.url}"\n'
        f'secret = "{SECRET}"\n',
        encoding="utf-8",
    )
    return Service(config, tmp_path / "run.log", f"http://127.0.0.1:{port}")


def beacon(number: int) -> tuple[int, bytes]:
    """An AIS-SART heard now: each new MMSI opens a distress alert the partner must receive."""
    mmsi = 970_010_000 + number
    return mmsi, sart(mmsi, datetime.now(UTC))


def opened_at_partner(receiver: Receiver) -> set[int]:
    """MMSIs whose ``opened`` event the partner accepted."""
    return {r.json()["mmsi"] for r in receiver.accepted() if r.json()["event"] == "alert.opened"}


def test_a_postgres_outage_with_a_partner_stops_nothing_and_loses_no_beacon(
    mosquitto: Mosquitto, topic: str, receiver: Receiver, postgres_proxy: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, store_url = postgres_proxy
    service = write_config(tmp_path, mosquitto, topic, store_url, receiver).start()
    feed = f"{topic}/rx"
    try:
        until(lambda: service.status() == "ok", "the service is up and healthy")
        with Poller(service.http) as poller:
            before, line = beacon(1)
            publish(mosquitto, feed, [line])
            until(lambda: before in opened_at_partner(receiver), "the beacon heard before the outage at the partner")

            proxy.cut()
            until(lambda: service.status() == "store-failing", "/healthz says store-failing")
            answer = service.health()
            assert answer is not None and answer[0] == 503
            during = []
            for number in (2, 3):
                mmsi, line = beacon(number)
                seen = service.messages(feed)
                publish(mosquitto, feed, [line])
                until(lambda seen=seen: service.messages(feed) > seen, "ingest goes on counting during the outage")
                during.append(mmsi)
            until(lambda: (service.health() or (0, {}))[1].get("alert_events_held", 0) >= 2, "events held")
            assert not set(during) & opened_at_partner(receiver)
            # the live state is still served; what needs the store says why it cannot be, with 503
            active = httpx.get(f"{service.http}/api/alerts", timeout=5)
            assert active.status_code == 200
            assert {a["mmsi"] for a in active.json()["alerts"]} >= {before, *during}
            stored = httpx.get(f"{service.http}/api/alerts", params={"status": "all"}, timeout=5)
            assert stored.status_code == 503 and "alert store" in stored.json()["detail"], stored.text

            proxy.restore()
            until(lambda: service.status() == "ok", "/healthz back to ok after the outage")
            until(
                lambda: set(during) <= opened_at_partner(receiver), "the beacons heard during the outage at the partner"
            )
            after, line = beacon(4)
            publish(mosquitto, feed, [line])
            until(lambda: after in opened_at_partner(receiver), "the beacon heard after the outage at the partner")
        assert service.stop() == 0
    finally:
        service.kill()

    assert {before, *during, after} <= opened_at_partner(receiver)
    assert all(r.verified for r in receiver.received)
    metrics = poller.of("/metrics")
    health = poller.of("/healthz")
    assert metrics and health
    assert {status for _, status, _ in metrics} == {200}, sorted({a for a in metrics if a[1] != 200})
    assert {status for _, status, _ in health} <= {200, 503}, sorted({a for a in health if a[1] not in (200, 503)})
    assert 503 in {status for _, status, _ in health}  # the poller saw the outage too
    print(
        f"\n/healthz answers: {len(health)}, slowest {max(s for *_, s in health) * 1000:.0f} ms; "
        f"/metrics answers: {len(metrics)}, slowest {max(s for *_, s in metrics) * 1000:.0f} ms"
    )
    assert "Traceback" not in service.log, service.log[-4000:]


def test_postgres_down_at_start_the_service_starts_spools_and_stores_when_it_is_back(
    mosquitto: Mosquitto, topic: str, receiver: Receiver, postgres_proxy: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, store_url = postgres_proxy
    proxy.cut()
    service = write_config(tmp_path, mosquitto, topic, store_url, receiver).start()
    feed = f"{topic}/rx"
    try:
        until(lambda: service.status() == "store-failing", "the service started without its store")
        assert service.log.count("starting without it") == 1, service.log[-3000:]
        mmsi, line = beacon(5)
        publish(mosquitto, feed, [line])
        until(lambda: (service.health() or (0, {}))[1].get("alert_events_held", 0) >= 1, "the beacon's event held")
        assert (tmp_path / "spool.jsonl").read_text(encoding="utf-8").count(str(mmsi)) >= 1
        proxy.restore()
        until(lambda: service.status() == "ok", "/healthz ok once the store answers")
        until(lambda: mmsi in opened_at_partner(receiver), "the beacon heard while the store was away at the partner")
        assert service.stop() == 0
    finally:
        service.kill()
    assert "Traceback" not in service.log, service.log[-4000:]


def test_sigterm_during_an_outage_stops_the_process_and_the_next_start_stores_what_waited(
    mosquitto: Mosquitto, topic: str, receiver: Receiver, postgres_proxy: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, store_url = postgres_proxy
    service = write_config(tmp_path, mosquitto, topic, store_url, receiver).start()
    feed = f"{topic}/rx"
    try:
        until(lambda: service.status() == "ok", "the service is up and healthy")
        proxy.cut()
        until(lambda: service.status() == "store-failing", "/healthz says store-failing")
        mmsi, line = beacon(6)
        publish(mosquitto, feed, [line])
        until(lambda: (service.health() or (0, {}))[1].get("alert_events_held", 0) >= 1, "the beacon's event held")
        assert service.stop(signal.SIGTERM) == 0, service.log[-3000:]

        proxy.restore()
        service.start()
        until(lambda: mmsi in opened_at_partner(receiver), "the spooled beacon at the partner after the restart")
        assert service.stop(signal.SIGINT) == 130
    finally:
        service.kill()


def test_a_broker_dropping_messages_shows_in_healthz_and_metrics(topic: str, tmp_path: Path) -> None:
    """A broker with a stock-sized queue drops a slow subscriber's messages: Seawatch says so.

    The broker's dropped counter is the broker's own, for all its clients: here a second,
    persistent subscriber that went away overflows its queue while Seawatch keeps up.
    Health shows ``broker-dropping`` (degraded, still 200) and /metrics the counter.
    """
    broker = Mosquitto(tmp_path / "broker", max_queued_messages=100)
    broker.start()
    try:
        away = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"away-{uuid.uuid4().hex[:8]}", clean_session=False
        )
        away.connect("127.0.0.1", broker.port)
        away.loop_start()
        subscribed = threading.Event()
        away.on_subscribe = lambda *args: subscribed.set()
        away.subscribe(f"{topic}/#", qos=1)
        assert subscribed.wait(10)
        away.loop_stop()
        away.disconnect()

        settings = Settings(
            mqtt_url=broker.url,
            mqtt_topics=[f"{topic}/#"],
            mqtt_client_id=f"seawatch-dropping-{uuid.uuid4().hex[:8]}",
            store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
            zones_dir=ROOT / "zones",
            shore_distance=False,
            alerts_topic_prefix=None,
        )
        with TestClient(create_app(settings)) as client:
            until(lambda: client.get("/healthz").json()["broker_dropped_messages"] is not None, "a first $SYS reading")
            assert client.get("/healthz").json()["status"] == "ok"
            now = datetime.now(UTC)
            publish(broker, f"{topic}/rx", [sart(970_020_000 + n, now) for n in range(300)])
            until(lambda: client.get("/healthz").json()["status"] == "broker-dropping", "health says broker-dropping")
            # the broker reports its counter once a second: it may still be rising
            until(lambda: client.get("/healthz").json()["broker_dropped_messages"] >= 200, "every drop reported")
            health = client.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "broker-dropping"
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            (line,) = [x for x in metrics.text.splitlines() if x.startswith("seawatch_broker_dropped_messages_total ")]
            assert int(line.split()[1]) >= 200
    finally:
        broker.stop()
