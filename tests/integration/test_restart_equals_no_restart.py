"""Restart equals no restart: a real ``seawatch run`` stopped halfway through a feed gives a plain replay's alerts.

Three scenarios (a beacon burst, a boat adrift, a loitering craft) merged in event time
make one feed, one MQTT message a line, published at QoS 1 to a broker of the test's
own. A ``seawatch run`` with a journal and a store of its own takes the first half; it
is then killed (SIGKILL), or stopped cleanly (SIGTERM), or killed after a snapshot with
more messages behind it; a second ``seawatch run`` takes the rest. The alert events in
the store (event, kind, MMSI, event time) must be exactly those of ``seawatch replay``
of the whole feed, and ``seawatch replay`` of the journal must give them too.

Every wait is for a state (the journal's length on disk, a snapshot in the store, a
process's end), never for a time.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from seawatch.adapters.journal import read_records
from seawatch.adapters.store import AlertStore
from seawatch.core.commands import RESERVED_PREFIX
from seawatch.core.lines import line_time
from seawatch.core.serialize import alert_event_json
from tests.integration.mosquitto import Mosquitto
from tests.integration.receiver import Receiver
from tests.integration.test_mqtt_ingest import Publisher

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "replay_data" / "scenarios"
ZONES = ROOT / "zones"
FEED = ("beacons_active", "adrift_andaman", "loitering_craft")

SECRET = "whsec_" + base64.b64encode(b"seawatch-restart-secret-0123456789").decode()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Alert = tuple[str, str, int | None, str]  # event, kind, MMSI, event time


def _feed() -> list[bytes]:
    """The three scenarios merged in event time (stable: a scenario's own order is kept)."""
    lines = [line for name in FEED for line in (SCENARIOS / f"{name}.nmea").read_bytes().splitlines() if line.strip()]
    return sorted(lines, key=lambda line: line_time(line) or EPOCH)


def _alerts_of(json_lines: str) -> list[Alert]:
    out = []
    for text in json_lines.splitlines():
        if text.strip():
            d = json.loads(text)
            out.append((d["event"], d["kind"], d["mmsi"], d["observed_at"]))
    return sorted(out, key=str)


def _replay(paths: list[Path], cwd: Path) -> list[Alert]:
    result = subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "replay", *map(str, paths), "--no-shore", "--zones", str(ZONES)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, SEAWATCH_CONFIG=""),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return _alerts_of(result.stdout)


def _stored(store_url: str) -> list[Alert]:
    store = AlertStore(store_url)
    try:
        events = [ev for alert in store.alerts(limit=10_000) for ev in store.history(alert.id)]
        return _alerts_of("\n".join(alert_event_json(ev) for ev in events))
    finally:
        store.close()


def _until(predicate: Callable[[], bool], timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return predicate()
        time.sleep(0.05)
    return False


def _journalled(journal: Path) -> int:
    """Feed messages in the journal (not its own records: a check run while the feed was silent)."""
    return sum(1 for r in read_records([journal]) if not r.topic.startswith(RESERVED_PREFIX))


def _snapshot_position(store_url: str) -> int | None:
    store = AlertStore(store_url)
    try:
        info = store.snapshot_info()
    finally:
        store.close()
    return None if info is None else int(info.position.split(":")[1])


class Service:
    """``seawatch run`` as a subprocess, with its settings in the environment."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.log = cwd / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            command = [sys.executable, "-m", "seawatch.cli", "--log-level", "INFO", "run"]
            self.proc = subprocess.Popen(command, cwd=self.cwd, env=self.env, stderr=log)
        return self.proc

    def stop(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(60)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.mark.parametrize("stop", ["kill", "term", "kill-after-snapshot"])
def test_a_restart_halfway_gives_the_alerts_of_a_plain_replay(
    mosquitto: Mosquitto, topic: str, tmp_path: Path, stop: str
) -> None:
    feed = _feed()
    (tmp_path / "feed.nmea").write_bytes(b"\n".join(feed) + b"\n")
    expected = _replay([tmp_path / "feed.nmea"], tmp_path)
    assert {kind for _, kind, _, _ in expected} >= {"distress", "drifting", "zone_entry", "loitering"}

    partner = Receiver(SECRET)
    partner.start()
    client_id = f"seawatch-restart-{uuid.uuid4().hex[:8]}"
    journal = tmp_path / "journal"
    store_url = f"sqlite:///{tmp_path / 'alerts.db'}"
    env = dict(
        os.environ,
        SEAWATCH_CONFIG="",
        SEAWATCH_MQTT_URL=mosquitto.url,
        SEAWATCH_MQTT_TOPICS=f'["{topic}/#"]',
        SEAWATCH_MQTT_CLIENT_ID=client_id,
        SEAWATCH_MQTT_SYS_TOPICS="false",
        SEAWATCH_STORE_URL=store_url,
        SEAWATCH_STORE_SPOOL_FILE=str(tmp_path / "spool.jsonl"),
        SEAWATCH_JOURNAL_DIR=str(journal),
        SEAWATCH_ZONES_DIR=str(ROOT / "zones"),
        SEAWATCH_SHORE_DISTANCE="false",
        SEAWATCH_ALERTS_TOPIC_PREFIX="",
        SEAWATCH_HTTP_PORT="0",
        SEAWATCH_SNAPSHOT_EVERY_MESSAGES="1000" if stop == "kill-after-snapshot" else "0",
        SEAWATCH_PARTNERS=json.dumps([{"name": "ngo", "url": partner.url, "secret": SECRET}]),
    )
    # The service's persistent session, made first: the broker queues for it whatever is
    # published while no `seawatch run` is connected (before the first, between the two).
    session = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=paho.MQTTv311
    )
    subscribed: list[int] = []
    session.on_subscribe = lambda *args: subscribed.append(1)
    session.connect("127.0.0.1", mosquitto.port)
    session.loop_start()
    session.subscribe(f"{topic}/#", qos=1)
    assert _until(lambda: bool(subscribed), 10), "no SUBACK"
    session.loop_stop()
    session.disconnect()

    # after a snapshot every 1,000 messages, 500 more: the kill falls between two snapshots
    half = 1500 if stop == "kill-after-snapshot" else len(feed) // 2
    service = Service(env, tmp_path)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        proc = service.start()
        if stop == "kill-after-snapshot":
            publisher.publish(f"{topic}/rx", feed[:1000])
            assert _until(lambda: _snapshot_position(store_url) == 1000, 120, proc), service.output()[-3000:]
            publisher.publish(f"{topic}/rx", feed[1000:half])
        else:
            publisher.publish(f"{topic}/rx", feed[:half])
        assert _until(lambda: _journalled(journal) >= half, 120, proc), service.output()[-3000:]
        service.stop(signal.SIGTERM if stop == "term" else signal.SIGKILL)
        if stop == "term":
            assert service.proc is not None and service.proc.returncode == 0, service.output()[-3000:]
            assert _snapshot_position(store_url) == half  # the clean stop's snapshot holds everything

        proc = service.start()
        publisher.publish(f"{topic}/rx", feed[half:])
        # every message journalled exactly once: none lost, none fed twice after the restart
        assert _until(lambda: _journalled(journal) >= len(feed), 120, proc), service.output()[-3000:]
        # the partner has every alert event (its webhook ids: delivered at least once)
        assert _until(lambda: len({r.webhook_id for r in partner.accepted()}) >= len(expected), 120, proc)
        service.stop(signal.SIGTERM)
        assert service.proc is not None and service.proc.returncode == 0, service.output()[-3000:]
    finally:
        publisher.close()
        partner.stop()
        if service.proc is not None and service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait(30)
    output = service.output()
    assert "Traceback" not in output, output[-3000:]
    starts = [line for line in output.splitlines() if "start-up: " in line]
    assert len(starts) == 2, output[-3000:]
    assert "no snapshot; replayed 0 journalled message(s)" in starts[0]
    if stop == "term":
        assert f"snapshot at journal:{half} " in starts[1] and "replayed 0 " in starts[1]
    elif stop == "kill":
        assert f"no snapshot; replayed {half} " in starts[1]
    else:
        assert "snapshot at journal:1000 " in starts[1] and f"replayed {half - 1000} " in starts[1]
    assert _journalled(journal) == len(feed)
    assert [r.payload for r in read_records([journal]) if not r.topic.startswith(RESERVED_PREFIX)] == feed
    assert _stored(store_url) == expected
    # a partner gets each event under one webhook id (a replay after the restart sends no second copy;
    # only a delivery cut short by the kill may come again, with the same id, for the partner to drop)
    by_id = {r.webhook_id: r.body for r in partner.accepted()}
    assert _alerts_of("\n".join(by_id.values())) == expected
    if stop == "term":
        assert len(partner.accepted()) == len(by_id)
    assert _replay([journal], tmp_path) == expected  # the journal replays as the live service saw it
