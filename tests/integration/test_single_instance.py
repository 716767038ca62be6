"""`seawatch run` as a service manager runs it: one instance per store and client id, and signals that stop it.

Every test starts real processes (``python -m seawatch.cli run``) with a broker, a store
and a client id of their own, and waits for what they say (a line on stderr, an answer
of ``/healthz``, the broker's log), never for a length of time.
"""

from __future__ import annotations

import base64
import contextlib
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.receiver import Receiver
from tests.integration.tcpproxy import TcpProxy
from tests.integration.test_api import publish
from tests.integration.test_store import fresh_postgres_database
from tests.integration.test_supervision import sart

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"map and API at (http://\S+/) ")


class Service:
    """One `seawatch run` process, its stderr in a file (a pipe nobody reads could fill up and stall it)."""

    def __init__(self, config: Path, name: str) -> None:
        self.log = config.parent / f"{name}.log"
        with self.log.open("w", encoding="utf-8") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "seawatch.cli", "--config", str(config), "run", "--http-port", "0"],
                cwd=config.parent,
                stderr=stderr,
                text=True,
            )

    @property
    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout_s: float = 60.0) -> None:
        """Until ``text`` is in its stderr (the test fails if the process ends first)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.stderr:
            if self.proc.poll() is not None:
                raise AssertionError(f"seawatch run ended ({self.proc.returncode}) before {text!r}:\n{self.stderr}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout_s:g} s:\n{self.stderr[-3000:]}")
            time.sleep(0.05)

    def health(self) -> dict[str, Any]:
        self.wait_for("map and API at")
        found = LISTENING.search(self.stderr)
        assert found, self.stderr
        body: dict[str, Any] = httpx.get(found[1] + "healthz", timeout=10).json()
        return body

    def wait_healthy(self, timeout_s: float = 60.0) -> dict[str, Any]:
        """Until its broker link is up and it holds its instance lock."""
        deadline = time.monotonic() + timeout_s
        while True:
            body = self.health()
            if body["broker_connected"] and body["instance_lock"]["state"] == "held":
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running {timeout_s:g} s after {signal.Signals(sig).name}") from None


def _config(tmp_path: Path, name: str, mqtt_url: str, client_id: str, topic: str, extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'mqtt_url = "{mqtt_url}"\n'
        f'mqtt_topics = ["{topic}/#"]\n'
        f'mqtt_client_id = "{client_id}"\n'
        f'store_url = "sqlite:///{tmp_path / "alerts.db"}"\n'
        f'store_spool_file = "{tmp_path / f"{name}.spool.jsonl"}"\n'  # one spool per instance
        f'zones_dir = "{ROOT / "zones"}"\n'
        'alerts_topic_prefix = ""\n'
        "shore_distance = false\n" + extra,
        encoding="utf-8",
    )
    return path


def _run_to_the_end(config: Path) -> subprocess.CompletedProcess[str]:
    """`seawatch run` with ``config``, to its end (a refused second instance ends by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "--config", str(config), "run", "--http-port", "0"],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _connections(broker: Mosquitto, client_id: str) -> int:
    """Connections the broker accepted under ``client_id``, from its own log."""
    log = (broker.data / "mosquitto.log").read_text(encoding="utf-8", errors="replace")
    return log.count(f" as {client_id} (")


@pytest.fixture
def client_id() -> str:
    return f"seawatch-single-{uuid.uuid4().hex[:8]}"


def test_a_second_instance_with_the_same_store_and_client_id_is_refused_before_it_connects(
    mosquitto: Mosquitto, topic: str, client_id: str, tmp_path: Path
) -> None:
    first = Service(_config(tmp_path, "first", mosquitto.url, client_id, topic), "first")
    try:
        health = first.wait_healthy()
        assert health["instance_lock"]["key"].startswith(str(tmp_path / "alerts.db."))
        assert _connections(mosquitto, client_id) == 1

        started = time.monotonic()
        second = _run_to_the_end(tmp_path / "first.toml")
        took_s = time.monotonic() - started
        assert second.returncode == 5, second.stderr
        last = second.stderr.strip().splitlines()[-1]
        assert re.fullmatch(
            rf"seawatch: another Seawatch instance \(pid {first.proc.pid} on host \S+, since \S+\) holds the lock "
            rf"for client id '{client_id}' on sqlite:///{re.escape(str(tmp_path / 'alerts.db'))}; "
            r"stop it or give this one its own mqtt_client_id",
            last,
        ), last
        assert "Traceback" not in second.stderr
        assert took_s < 30, f"refused after {took_s:.1f} s"
        print(f"second instance refused in {took_s:.2f} s (process start included)")

        # the first instance kept its one connection: the second never took its session
        health = first.health()
        assert health["broker_connected"] and health["instance_lock"]["state"] == "held"
        assert _connections(mosquitto, client_id) == 1
        assert "already connected" not in (mosquitto.data / "mosquitto.log").read_text(errors="replace")
    finally:
        assert first.stop() == 0, first.stderr[-3000:]
    assert "seawatch: stopped (SIGTERM)" in first.stderr


def test_a_second_instance_with_its_own_client_id_runs_beside_the_first_on_the_same_store(
    mosquitto: Mosquitto, topic: str, client_id: str, tmp_path: Path
) -> None:
    first = Service(_config(tmp_path, "first", mosquitto.url, client_id, topic), "first")
    second = Service(_config(tmp_path, "second", mosquitto.url, f"{client_id}-2", topic), "second")
    try:
        one, two = first.wait_healthy(), second.wait_healthy()
        assert one["instance_lock"]["key"] != two["instance_lock"]["key"]
        assert _connections(mosquitto, client_id) == 1 and _connections(mosquitto, f"{client_id}-2") == 1
    finally:
        codes = [first.stop(), second.stop()]
    assert codes == [0, 0], first.stderr[-2000:] + second.stderr[-2000:]


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_service_whose_broker_is_unreachable(
    sig: int, status: int, topic: str, client_id: str, tmp_path: Path
) -> None:
    """The broker's port is closed: the source reconnects for ever; the signal must still stop it."""
    closed = f"mqtt://127.0.0.1:{free_port()}"
    service = Service(_config(tmp_path, "alone", closed, client_id, topic), "alone")
    try:
        service.wait_for("map and API at")
        service.wait_for("reconnecting in")  # the source is in its reconnect loop
    finally:
        code = service.stop(sig)
    name = signal.Signals(sig).name
    assert code == status, service.stderr[-3000:]
    assert f"seawatch: stopping ({name}); a second signal stops at once" in service.stderr
    assert f"seawatch: stopped ({name})" in service.stderr
    assert "Traceback" not in service.stderr


def test_a_signal_during_start_up_stops_the_service(topic: str, client_id: str, tmp_path: Path) -> None:
    closed = f"mqtt://127.0.0.1:{free_port()}"
    service = Service(_config(tmp_path, "starting", closed, client_id, topic), "starting")
    try:
        service.wait_for("seawatch run: ingesting")  # zones, rules and the store are being loaded
    finally:
        code = service.stop(signal.SIGTERM)
    assert code == 0, service.stderr[-3000:]
    assert "seawatch: stopped (SIGTERM)" in service.stderr
    assert "Traceback" not in service.stderr


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM-SIGTERM", "SIGINT-SIGINT"]
)
def test_a_second_signal_while_stopping_ends_the_process_at_once(
    sig: int, status: int, mosquitto: Mosquitto, topic: str, client_id: str, tmp_path: Path
) -> None:
    """A partner that takes minutes to answer holds the stop (deliveries in flight may finish): the second ends it."""
    receiver = Receiver("whsec_" + base64.b64encode(b"seawatch-single-instance-secret-0123").decode(), delay_s=300)
    receiver.start()
    partner = f'[[partners]]\nname = "slow"\nurl = "{receiver.url}"\nsecret = "{receiver.secret}"\ntimeout_s = 600\n'
    service = Service(_config(tmp_path, "slow", mosquitto.url, client_id, topic, partner), "slow")
    try:
        service.wait_healthy()
        publish(mosquitto, f"{topic}/rx", [sart(970_300_001, datetime.now(UTC) - timedelta(seconds=30))])
        deadline = time.monotonic() + 60
        while not receiver.received:  # the delivery is in flight, and will be for minutes
            assert time.monotonic() < deadline, service.stderr[-3000:]
            time.sleep(0.05)

        name = signal.Signals(sig).name
        service.proc.send_signal(sig)
        service.wait_for(f"seawatch: stopping ({name})")  # and the ordered stop waits for the partner's answer
        started = time.monotonic()
        code = service.stop(sig, timeout_s=30)
        forced_s = time.monotonic() - started
    finally:
        with contextlib.suppress(AssertionError):
            service.stop(signal.SIGKILL)
        receiver.stop()
    assert code == status, service.stderr[-3000:]
    assert service.stderr.strip().splitlines()[-1] == f"seawatch: stop forced ({name} while stopping)"
    print(f"forced stop ended the process {forced_s * 1000:.0f} ms after the second {name}")


def _pg_config(tmp_path: Path, name: str, store_url: str, mqtt_url: str, client_id: str, topic: str) -> Path:
    path = _config(tmp_path, name, mqtt_url, client_id, topic)
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'store_url = "[^"]*"', f'store_url = "{store_url}"', text), encoding="utf-8")
    return path


def test_on_postgresql_a_second_instance_is_refused_and_names_the_first(
    mosquitto: Mosquitto, topic: str, client_id: str, tmp_path: Path
) -> None:
    with fresh_postgres_database() as store_url:
        config = _pg_config(tmp_path, "first", store_url, mosquitto.url, client_id, topic)
        first = Service(config, "first")
        try:
            health = first.wait_healthy()
            assert health["instance_lock"]["key"].startswith("pg_advisory_lock(")
            second = _run_to_the_end(config)
            assert second.returncode == 5, second.stderr
            last = second.stderr.strip().splitlines()[-1]
            assert last.startswith(f"seawatch: another Seawatch instance (pid {first.proc.pid} on host "), last
            assert f"holds the lock for client id '{client_id}' on {store_url}; stop it" in last
            assert _connections(mosquitto, client_id) == 1
        finally:
            assert first.stop() == 0, first.stderr[-3000:]


def test_on_postgresql_the_lock_lost_in_a_store_outage_is_taken_again_and_sigterm_stops_the_service_meanwhile(
    mosquitto: Mosquitto, topic: str, client_id: str, tmp_path: Path
) -> None:
    with fresh_postgres_database() as store_url:
        cable = TcpProxy("127.0.0.1", 5432).start()
        proxied = store_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{cable.port}/")
        service = Service(_pg_config(tmp_path, "pg", proxied, mosquitto.url, client_id, topic), "pg")
        try:
            service.wait_healthy()
            cable.cut()  # the store goes away: the lock's session with it
            while service.health()["instance_lock"]["state"] != "lost":
                assert service.proc.poll() is None, service.stderr[-3000:]
                time.sleep(0.05)
            cable.restore()
            service.wait_for("taken (it was lost)")
            assert service.health()["instance_lock"]["state"] == "held"

            cable.cut()  # and away again: a signal must stop it all the same
            while service.health()["instance_lock"]["state"] != "lost":
                time.sleep(0.05)
        finally:
            started = time.monotonic()
            code = service.stop(signal.SIGTERM)
            took_s = time.monotonic() - started
            cable.cut()
        assert code == 0, service.stderr[-3000:]
        assert "seawatch: stopped (SIGTERM)" in service.stderr
        print(f"SIGTERM during the store outage: the process ended in {took_s:.2f} s")


STUCK = """
import asyncio, sys, threading
from seawatch.cli import _StopSignals

async def job() -> None:
    print("blocked", file=sys.stderr, flush=True)
    await asyncio.to_thread(threading.Event().wait)  # a worker thread that never returns, like a hung connect

with _StopSignals(deadline_s=1.0) as signals:
    asyncio.run(signals.run(job()))
"""


def test_a_stop_held_by_a_worker_thread_that_never_returns_ends_at_the_deadline(tmp_path: Path) -> None:
    """asyncio.run waits for its worker threads before it returns: without the deadline, for ever."""
    log = tmp_path / "stuck.log"
    with log.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", STUCK], cwd=ROOT, stderr=stderr, text=True)
    deadline = time.monotonic() + 60
    while "blocked" not in log.read_text(encoding="utf-8"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 143
    assert log.read_text(encoding="utf-8").strip().splitlines()[-1] == (
        "seawatch: stop forced (still stopping 1 s after SIGTERM)"
    )
