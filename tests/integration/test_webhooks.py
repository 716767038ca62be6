"""Alert delivery against real servers: a real HTTP receiver, a real SQLite store, a real broker.

The receiver verifies every request with the Standard Webhooks reference implementation.
Nothing is mocked: the dispatcher talks HTTP to the receiver over loopback, the store is
a SQLite file, and the end-to-end tests ingest a scenario through Mosquitto.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho

from seawatch.adapters.store import AlertStore
from seawatch.config.settings import Partner, Settings
from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent
from seawatch.core.cap import CAP_NS
from seawatch.core.pipeline import Pipeline
from seawatch.delivery import AlertDelivery
from seawatch.runtime import Runtime, build_delivery, build_runtime
from seawatch.service import stop_task
from tests.integration.mosquitto import Mosquitto
from tests.integration.receiver import SECRET, Received, Receiver
from tests.integration.test_mqtt_ingest import Publisher, _settings, _until

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "replay_data" / "scenarios"


def scenario_events(name: str) -> list[AlertEvent]:
    pipeline = Pipeline(watch=build_watch(ROOT / "zones", None))
    events = [e for line in (SCENARIOS / f"{name}.nmea").read_bytes().splitlines() for e in pipeline.feed(line).events]
    return events + pipeline.finish()


async def _run_until_cancelled(runtime: Runtime) -> None:
    async with runtime.running():
        await asyncio.Event().wait()


def settings_for(tmp_path: Path, url: str, **partner: object) -> Settings:
    return Settings(
        store_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        partners=[Partner(name="ngo", url=url, secret=SECRET, **partner)],  # type: ignore[arg-type]
        webhook_retry_min_s=0.05,
        webhook_retry_max_s=0.3,
        alerts_topic_prefix=None,
    )


def by_alert(received: list[Received]) -> dict[str, list[int]]:
    """Sequence numbers per alert, in the order the receiver accepted them (first copies only)."""
    seen: set[str] = set()
    order: dict[str, list[int]] = defaultdict(list)
    for r in received:
        if r.webhook_id in seen:
            continue
        seen.add(r.webhook_id)
        doc = r.json()
        order[doc["id"]].append(doc["sequence"])
    return order


def expected_sequences(events: list[AlertEvent]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for e in events:
        out[e.id].append(e.sequence)
    return out


async def deliver_until(delivery: AlertDelivery, done: object, timeout_s: float) -> bool:
    task = asyncio.create_task(delivery.dispatcher.run())
    try:
        return await _until(done, timeout_s)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_every_event_arrives_signed_and_in_order(receiver: Receiver, tmp_path: Path) -> None:
    events = scenario_events("rescue_disembarkation")
    delivery = build_delivery(settings_for(tmp_path, receiver.url))
    delivery.handle(events)
    assert await deliver_until(delivery, lambda: receiver.wait_for(len(events), 0), 30)
    assert all(r.verified for r in receiver.received)
    assert by_alert(receiver.accepted()) == expected_sequences(events)
    assert {r.content_type for r in receiver.received} == {"application/json"}
    assert delivery.store.counts()["ngo"]["delivered"] == len(events)
    delivery.store.close()


async def test_partner_down_then_failing_then_back_receives_everything_in_order(
    receiver: Receiver, tmp_path: Path
) -> None:
    events = scenario_events("rescue_disembarkation")
    receiver.stop()  # connections refused
    delivery = build_delivery(settings_for(tmp_path, receiver.url))
    delivery.handle(events)
    task = asyncio.create_task(delivery.dispatcher.run())
    try:
        await asyncio.sleep(1.5)
        receiver.status = 500
        receiver.start()
        await asyncio.sleep(1.5)
        assert receiver.received, "the partner answering 500 got no attempt"
        assert not receiver.accepted()
        receiver.status = 200
        assert await _until(lambda: receiver.wait_for(len(events), 0), 30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert by_alert(receiver.accepted()) == expected_sequences(events)
    figures = delivery.dispatcher.figures.partners["ngo"]
    assert figures.failed_attempts > 0 and figures.delivered == len(events)
    # every attempt of one event carried the same webhook-id; every one verified
    ids_per_body: dict[str, set[str]] = defaultdict(set)
    for r in receiver.received:
        ids_per_body[r.body].add(r.webhook_id)
        assert r.verified
    assert all(len(ids) == 1 for ids in ids_per_body.values())
    delivery.store.close()


async def test_gone_disables_the_subscription(receiver: Receiver, tmp_path: Path) -> None:
    events = scenario_events("beacons_active")
    receiver.status = 410
    delivery = build_delivery(settings_for(tmp_path, receiver.url))
    delivery.handle(events)
    assert await deliver_until(delivery, lambda: "ngo" in delivery.store.disabled_partners(), 10)
    attempts = len(receiver.received)
    await deliver_until(delivery, lambda: False, 1.0)
    assert len(receiver.received) == attempts  # no further attempts once disabled
    assert delivery.store.counts()["ngo"]["pending"] == len(events)  # kept, for when it is enabled again
    delivery.store.close()


async def test_too_old_goes_to_dead_letters_and_can_be_resent(receiver: Receiver, tmp_path: Path) -> None:
    events = scenario_events("beacons_active")
    receiver.status = 500
    delivery = build_delivery(settings_for(tmp_path, receiver.url, max_age_s=1.0))
    delivery.handle(events)
    first_per_alert = len({e.id for e in events})
    assert await deliver_until(delivery, lambda: len(delivery.store.dead_letters("ngo")) >= first_per_alert, 15)
    assert delivery.dispatcher.figures.partners["ngo"].dead >= first_per_alert
    receiver.status = 200
    while delivery.store.dead_letters("ngo"):  # later events of an alert die after the first ones
        delivery.store.requeue(None, datetime.now(UTC))
        await deliver_until(delivery, lambda: not delivery.store.counts()["ngo"].get("pending", 0), 15)
    assert receiver.wait_for(len(events), 5)
    assert by_alert(receiver.accepted()) == expected_sequences(events)
    delivery.store.close()


async def test_graceful_stop_finishes_the_request_in_flight(receiver: Receiver, tmp_path: Path) -> None:
    events = scenario_events("dark_timor")
    receiver.delay_s = 1.0
    delivery = build_delivery(settings_for(tmp_path, receiver.url, max_concurrency=1))
    delivery.handle(events)
    task = asyncio.create_task(delivery.dispatcher.run())
    assert await _until(lambda: len(receiver.received) >= 1, 10)
    task.cancel()  # the service stopping, while the partner is still answering
    with contextlib.suppress(asyncio.CancelledError):
        await task
    counts = delivery.store.counts()["ngo"]
    assert counts["delivered"] == 1  # the request in flight completed and was recorded
    assert counts["pending"] == len(events) - 1  # the rest wait in the outbox for the next start
    delivery.store.close()


async def test_cap_partner_gets_valid_cap_with_hostile_text_escaped(receiver: Receiver, tmp_path: Path) -> None:
    events = scenario_events("beacons_active")
    name = "<IMG SRC=X ONERROR=ALERT(1)>"
    first = events[0]
    assert first.vessel is not None
    events[0] = replace(first, vessel=replace(first.vessel, name=name), summary=f"{name} & </headline>")
    delivery = build_delivery(settings_for(tmp_path, receiver.url, format="cap"))
    delivery.handle(events)
    assert await deliver_until(delivery, lambda: receiver.wait_for(len(events), 0), 30)
    for r in receiver.accepted():
        assert r.content_type == "application/cap+xml"
        root = ET.fromstring(r.body)
        assert root.tag == f"{{{CAP_NS}}}alert"
        assert root.findtext(f"{{{CAP_NS}}}status") == "Actual"
        assert root.findtext(f"{{{CAP_NS}}}msgType") in ("Alert", "Update", "Cancel")
        info = root.find(f"{{{CAP_NS}}}info")
        assert info is not None and info.findtext(f"{{{CAP_NS}}}category") == "Rescue"
    opened = next(r for r in receiver.accepted() if r.body.count(f"{first.id}.1<") == 1)
    assert "<IMG" not in opened.body  # escaped in the XML …
    info = ET.fromstring(opened.body).find(f"{{{CAP_NS}}}info")
    assert info is not None
    assert info.findtext(f"{{{CAP_NS}}}headline") == f"{name} & </headline>"  # … and intact as text
    assert name in (info.findtext(f"{{{CAP_NS}}}description") or "")
    delivery.store.close()


async def test_live_ingest_stores_delivers_and_publishes_to_the_alert_topic(
    mosquitto: Mosquitto, topic: str, receiver: Receiver, tmp_path: Path
) -> None:
    lines = [line for line in (SCENARIOS / "beacons_active.nmea").read_bytes().splitlines() if line.strip()]
    settings = _settings(mosquitto, topic).model_copy(
        update={
            "store_url": f"sqlite:///{tmp_path / 'alerts.db'}",
            "partners": [Partner(name="ngo", url=receiver.url, secret=SECRET)],  # type: ignore[arg-type]
            "webhook_retry_min_s": 0.05,
            "alerts_topic_prefix": f"{topic}/alerts",
            "zones_dir": ROOT / "zones",
        }
    )
    on_topic: list[tuple[str, bytes]] = []
    watcher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:8]}")
    watcher.on_message = lambda client, userdata, msg: on_topic.append((msg.topic, msg.payload))
    watcher.connect("127.0.0.1", mosquitto.port)
    watcher.subscribe(f"{topic}/alerts/#", qos=1)
    watcher.loop_start()
    runtime = build_runtime(settings)
    delivery, ingest = runtime.delivery, runtime.ingest
    assert delivery is not None
    service = asyncio.create_task(_run_until_cancelled(runtime))
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        await asyncio.wait_for(ingest.source.wait_connected(), 10)
        await asyncio.to_thread(publisher.publish, f"{topic}/rx", lines)
        assert await _until(lambda: ingest.health.messages >= len(lines), 60)
        stored = [e for a in delivery.store.alerts(limit=100) for e in delivery.store.history(a.id)]
        assert stored, "the scenario raised no alert"
        assert await _until(lambda: receiver.wait_for(len(stored), 0), 30)
        assert await _until(lambda: len(on_topic) >= len(stored), 10)
    finally:
        publisher.close()
        await stop_task(service)
        watcher.loop_stop()
        watcher.disconnect()
    assert all(r.verified for r in receiver.received)
    assert by_alert(receiver.accepted()) == expected_sequences(stored)
    assert {t for t, _ in on_topic} == {f"{topic}/alerts/distress"}
    assert sorted(json.loads(p)["id"] for _, p in on_topic) == sorted(e.id for e in stored)
    delivery.store.close()


def test_sigkill_mid_delivery_loses_nothing_and_redelivers_with_the_same_id(
    mosquitto: Mosquitto, topic: str, receiver: Receiver, tmp_path: Path
) -> None:
    """`seawatch run` killed with SIGKILL while deliveries are in flight, then started again."""
    receiver.delay_s = 0.3  # every request is in flight for a while: the kill lands in one
    config = tmp_path / "seawatch.toml"
    config.write_text(
        f'mqtt_url = "{mosquitto.url}"\n'
        f'mqtt_topics = ["{topic}/#"]\n'
        f'mqtt_client_id = "seawatch-kill-{uuid.uuid4().hex[:8]}"\n'
        f'store_url = "sqlite:///{tmp_path / "alerts.db"}"\n'
        f'zones_dir = "{ROOT / "zones"}"\n'
        'alerts_topic_prefix = ""\n'
        "webhook_retry_min_s = 0.1\n"
        "stats_interval_s = 0.5\n"
        "http_port = 0\n"
        "[[partners]]\n"
        'name = "ngo"\n'
        f'url = "{receiver.url}"\n'
        f'secret = "{SECRET}"\n'
        "max_concurrency = 1\n",
        encoding="utf-8",
    )
    lines = [line for line in (SCENARIOS / "rescue_disembarkation.nmea").read_bytes().splitlines() if line.strip()]

    log_path = tmp_path / "run.log"

    def start() -> subprocess.Popen[str]:
        with log_path.open("a", encoding="utf-8") as log_file:
            return subprocess.Popen(
                [sys.executable, "-m", "seawatch.cli", "--config", str(config), "run"],
                cwd=tmp_path,
                env=dict(os.environ),
                stderr=log_file,
                text=True,
            )

    proc = start()
    try:
        assert _wait_line(proc, log_path, "link up", 30), "seawatch run did not connect"
        publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
        publisher.publish(f"{topic}/rx", lines)
        publisher.wait_acked(len(lines), 30)
        publisher.close()
        deadline = time.monotonic() + 60
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.received) >= 3, "no deliveries started"
        in_flight = receiver.received[-1].webhook_id  # answered only after delay_s: the kill lands first
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        before = len(receiver.received)
        proc = start()
        store_path = tmp_path / "alerts.db"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            store = AlertStore(f"sqlite:///{store_path}")
            counts = store.counts().get("ngo", {})
            store.close()
            if counts.get("pending", 1) == 0 and counts.get("delivered", 0) > 0:
                break
            time.sleep(0.5)
        store = AlertStore(f"sqlite:///{store_path}")
        history = [e for a in store.alerts(limit=1000) for e in store.history(a.id)]
        counts = store.counts()["ngo"]
        store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
    assert counts.get("pending", 0) == 0 and counts.get("dead", 0) == 0
    assert len(receiver.received) > before
    got = {(r.json()["id"], r.json()["sequence"]) for r in receiver.accepted()}
    assert got == {(e.id, e.sequence) for e in history}  # no event lost
    assert sum(1 for r in receiver.received if r.webhook_id == in_flight) >= 2  # redelivered, same webhook-id
    assert all(r.verified for r in receiver.received)
    assert by_alert(receiver.accepted()) == expected_sequences(sorted(history, key=lambda e: (e.id, e.sequence)))


def _wait_line(proc: subprocess.Popen[str], log_path: Path, text: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in log_path.read_text(encoding="utf-8", errors="replace"):
            return True
        if proc.poll() is not None:
            raise AssertionError(f"seawatch run exited: {log_path.read_text(encoding='utf-8')[-2000:]}")
        time.sleep(0.1)
    return False


async def test_rotating_the_secret_while_deliveries_continue_fails_no_verification(
    receiver: Receiver, tmp_path: Path
) -> None:
    """Rotation as docs/operations.md describes it: new secret, old one kept as previous_secret a while.

    Seawatch restarts between steps (new settings); the partner switches its own secret
    at a moment of its choosing. Events keep being raised and delivered throughout;
    every request must verify at the partner, whichever secret it holds at that moment.
    """
    new_secret = "whsec_" + base64.b64encode(b"the-new-secret-after-rotation-0123").decode()
    events = scenario_events("rescue_disembarkation")
    batches = [events[i::4] for i in range(4)]  # four rounds of new events
    receiver.delay_s = 0.02

    async def round_with(delivery: AlertDelivery, batch: list[AlertEvent], switch_partner: bool = False) -> None:
        task = asyncio.create_task(delivery.dispatcher.run())
        try:
            delivery.handle(batch)
            await asyncio.sleep(0.3)
            if switch_partner:
                receiver.secret = new_secret  # the partner moves to the new secret mid-stream
            assert await _until(lambda: not delivery.store.counts()["ngo"].get("pending", 0), 30)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            delivery.store.close()

    base = settings_for(tmp_path, receiver.url)
    old_only = base
    rotating = base.model_copy(
        update={"partners": [Partner(name="ngo", url=receiver.url, secret=new_secret, previous_secret=SECRET)]}
    )
    new_only = base.model_copy(update={"partners": [Partner(name="ngo", url=receiver.url, secret=new_secret)]})
    await round_with(build_delivery(old_only), batches[0])
    await round_with(build_delivery(rotating), batches[1])  # partner still on the old secret
    await round_with(build_delivery(rotating), batches[2], switch_partner=True)
    await round_with(build_delivery(new_only), batches[3])  # the old secret is gone
    assert receiver.received and all(r.verified for r in receiver.received)
    assert len({r.webhook_id for r in receiver.accepted()}) == len(events)
