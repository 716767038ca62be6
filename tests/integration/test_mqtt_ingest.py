"""MQTT ingest against a real Mosquitto: nothing the broker accepted may be lost.

Every test publishes numbered messages (an NMEA 4 tag block ``n:`` carries the
number) from a separate paho client at QoS 1 and checks that the Seawatch ingest —
the real MqttSource and pipeline — saw every number the broker acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from seawatch.adapters.acks import Receipt
from seawatch.config.settings import Settings
from seawatch.core.decode import nmea_checksum
from seawatch.runtime import Ingest, build_pipeline, mqtt_options
from tests.integration.mosquitto import Mosquitto

DATA = Path(__file__).resolve().parents[1] / "data" / "ais"
_N_TAG = re.compile(rb"n:(\d+)")


def _tagged(line: bytes, number: int, extra: bytes = b"") -> bytes:
    tag = extra + b"n:%d" % number
    return b"\\%s*%02X\\%s" % (tag, nmea_checksum(tag), line)


def _real_sentences() -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
    """Single-part sentences and two-part pairs from a real recording (DMA AisLib, Apache-2.0)."""
    singles: list[bytes] = []
    pairs: list[tuple[bytes, bytes]] = []
    held: bytes | None = None
    for raw in (DATA / "dma-aislib" / "stream_example.txt").read_bytes().splitlines():
        if not raw.startswith(b"!"):
            continue
        fields = raw.split(b",")
        if fields[1] == b"1":
            singles.append(raw)
        elif fields[1] == b"2" and fields[2] == b"1":
            held = raw
        elif fields[1] == b"2" and fields[2] == b"2" and held is not None:
            pairs.append((held, raw))
            held = None
    return singles, pairs


def build_messages(count: int) -> tuple[list[bytes], int]:
    """``count`` MQTT payloads, about one in ten a fragment of a two-part message sent on its own.

    Returns the payloads and the number of complete AIS messages they carry.
    """
    singles, pairs = _real_sentences()
    payloads: list[bytes] = []
    complete = 0
    i = 0
    while len(payloads) < count:
        if i % 20 == 0 and len(payloads) + 2 <= count:
            first, second = pairs[i % len(pairs)]
            if i % 40 == 0:  # fragments tied by a tag-block group
                group = b"g:%%d-2-%d," % i
                payloads.append(_tagged(first, len(payloads), group % 1))
                payloads.append(_tagged(second, len(payloads), group % 2))
            else:  # fragments tied by their sequence id only
                payloads.append(_tagged(first, len(payloads)))
                payloads.append(_tagged(second, len(payloads)))
        else:
            payloads.append(_tagged(singles[i % len(singles)], len(payloads)))
        complete += 1
        i += 1
    return payloads, complete


class RecordingIngest(Ingest):
    """The real ingest, also noting which numbered messages reached the pipeline."""

    def __init__(self, settings: Settings, seen: set[int], completed: set[int] | None = None) -> None:
        super().__init__(build_pipeline(settings), mqtt_options(settings))
        self.seen = seen
        # numbers of the payloads that completed a decoded report (a single, or a last fragment)
        self.completed = completed if completed is not None else set()

    def _on_payload(self, payload: bytes, received_at: datetime, topic: str, receipt: Receipt) -> None:
        match = _N_TAG.search(payload)
        if match:
            self.seen.add(int(match.group(1)))
        reports = self.pipeline.feed_payload(payload, received_at, topic).reports
        if reports and match:
            self.completed.add(int(match.group(1)))


def _broker_acked(info: paho.MQTTMessageInfo) -> bool:
    """True once the broker acknowledged the message.

    A QoS 1 message published while paho is disconnected is kept and sent after it
    reconnects, but its ``rc`` says "not connected" and ``is_published()`` then raises;
    the PUBACK is still recorded on the same object.
    """
    if info.rc == paho.MQTT_ERR_NO_CONN:
        return bool(info._published)
    return info.is_published()


class Publisher:
    """A paho client in its own thread publishing at QoS 1; the broker's acks are read back."""

    def __init__(self, broker: Mosquitto, client_id: str) -> None:
        self._infos: list[paho.MQTTMessageInfo] = []
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=paho.MQTTv311
        )
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.1, 1.0)
        self.client.connect("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()

    @property
    def acked(self) -> set[int]:
        """Numbers of the messages the broker has acknowledged (PUBACK received)."""
        return {number for number, info in enumerate(list(self._infos)) if _broker_acked(info)}

    def publish(self, topic: str, payloads: Sequence[bytes], pace_every: int = 0) -> None:
        for number, payload in enumerate(payloads):
            info = self.client.publish(topic, payload, qos=1)
            # paho refuses a message while its 16-bit message id is still in flight
            # (more than 65,535 unacknowledged): wait for the broker to catch up.
            while info.rc == paho.MQTT_ERR_QUEUE_SIZE:
                time.sleep(0.01)
                info = self.client.publish(topic, payload, qos=1)
            self._infos.append(info)
            if pace_every and number % pace_every == 0:
                time.sleep(0.001)

    def wait_acked(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.acked) < count and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _settings(broker: Mosquitto, topic: str) -> Settings:
    return Settings(
        mqtt_url=broker.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"seawatch-test-{uuid.uuid4().hex[:12]}",
        mqtt_reconnect_min_s=0.1,
        mqtt_reconnect_max_s=1.0,
    )


async def _until(predicate: object, timeout_s: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


async def _start(ingest: Ingest) -> asyncio.Task[None]:
    task = asyncio.create_task(ingest.source.run(), name="mqtt-source")
    # generous: a persistent session may hand over a large backlog before the subscription is confirmed
    await asyncio.wait_for(ingest.source.wait_connected(), 120)
    return task


def _publish_in_background(publisher: Publisher, topic: str, payloads: Sequence[bytes]) -> asyncio.Task[None]:
    """Publish from a thread at a steady pace, so a restart lands mid-stream."""
    return asyncio.create_task(asyncio.to_thread(publisher.publish, topic, payloads, 50), name="publisher")


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_100k_messages_at_qos1_arrive_complete_with_split_multipart(mosquitto: Mosquitto, topic: str) -> None:
    payloads, complete = build_messages(100_000)
    seen: set[int] = set()
    ingest = RecordingIngest(_settings(mosquitto, topic), seen)
    task = await _start(ingest)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        started = time.monotonic()
        await asyncio.to_thread(publisher.publish, f"{topic}/feed", payloads)
        assert await _until(lambda: len(seen) == len(payloads), 120), f"received {len(seen)} of {len(payloads)}"
        elapsed = time.monotonic() - started
    finally:
        publisher.close()
        await _stop(task)
    stats = ingest.pipeline.decoder.stats
    print(f"\n100k QoS 1 messages in {elapsed:.1f} s ({len(payloads) / elapsed:,.0f} msg/s)")
    assert seen == set(range(len(payloads)))
    assert stats.reports == complete  # every multipart reassembled, nothing extra
    assert dict(stats.rejects) == {}
    assert ingest.pipeline.decoder.pending_fragments == 0
    assert ingest.health.broker_dropped == 0  # Mosquitto's $SYS counter was read, and is zero


async def test_broker_restart_mid_stream_loses_nothing_it_accepted(mosquitto: Mosquitto, topic: str) -> None:
    payloads, _ = build_messages(30_000)
    seen: set[int] = set()
    ingest = RecordingIngest(_settings(mosquitto, topic), seen)
    task = await _start(ingest)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        sending = _publish_in_background(publisher, f"{topic}/feed", payloads)
        assert await _until(lambda: len(seen) >= 5_000, 60)
        await asyncio.to_thread(mosquitto.stop)  # SIGTERM mid-stream
        assert not ingest.health.connected or await _until(lambda: not ingest.health.connected, 10)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(mosquitto.start)
        await sending
        await asyncio.to_thread(publisher.wait_acked, len(payloads), 60)
        acked = set(publisher.acked)
        assert await _until(lambda: acked <= seen, 60), f"lost {len(acked - seen)} accepted messages"
    finally:
        publisher.close()
        await _stop(task)
    assert ingest.health.disconnects >= 1 and ingest.health.connects >= 2
    assert len(acked) == len(payloads)  # the publisher resent what the restart interrupted
    assert seen >= acked


async def test_ingester_restart_loses_nothing(mosquitto: Mosquitto, topic: str) -> None:
    payloads, complete = build_messages(30_000)
    seen: set[int] = set()
    completed: set[int] = set()
    settings = _settings(mosquitto, topic)
    first = RecordingIngest(settings, seen, completed)
    task = await _start(first)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        sending = _publish_in_background(publisher, f"{topic}/feed", payloads)
        assert await _until(lambda: len(seen) >= 5_000, 60)
        await _stop(task)  # Seawatch goes away; its persistent session stays with the broker
        received_before = len(seen)
        # A first fragment already acknowledged but still waiting for its sibling is the
        # one thing a restart can lose (docs/delivery.md, "Delivery guarantees over MQTT").
        stranded = first.pipeline.decoder.pending_fragments
        await asyncio.sleep(1.0)
        second = RecordingIngest(settings, seen, completed)  # same client id: picks up the queued messages
        task = await _start(second)
        await sending
        await asyncio.to_thread(publisher.wait_acked, len(payloads), 60)
        acked = set(publisher.acked)
        assert await _until(lambda: acked <= seen, 60), f"lost {len(acked - seen)} accepted messages"
    finally:
        publisher.close()
        await _stop(task)
    assert received_before < len(payloads)  # the restart really happened mid-stream
    assert len(acked) == len(payloads)
    assert seen == set(range(len(payloads)))
    # Every message decoded, counted by the payload that completed it (redeliveries of
    # messages in flight at the restart are allowed: at least once, and the fleet drops copies).
    finishing = {n for n, payload in enumerate(payloads) if payload.split(b"\\")[-1].split(b",")[1:3] != [b"2", b"1"]}
    assert len(finishing) == complete
    assert len(finishing - completed) <= stranded
    assert stranded <= 1


@pytest.mark.parametrize("shape", ["json", "multiline"])
async def test_payload_shapes(mosquitto: Mosquitto, topic: str, shape: str) -> None:
    """AIS-catcher JSON and several sentences in one MQTT message both decode."""
    singles, _ = _real_sentences()
    settings = _settings(mosquitto, topic)
    ingest = Ingest(build_pipeline(settings), mqtt_options(settings))
    task = await _start(ingest)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        if shape == "json":
            body = b'{"class":"AIS","device":"AIS-catcher","rxuxtime":1700000000,"nmea":["%s"]}'
            payloads = [body % line for line in singles[:50]]
        else:
            payloads = [b"\n".join(singles[i : i + 5]) for i in range(0, 250, 5)]
        await asyncio.to_thread(publisher.publish, f"{topic}/x", payloads)
        assert await _until(lambda: ingest.pipeline.decoder.stats.reports == 50 * (1 if shape == "json" else 5), 20)
    finally:
        publisher.close()
        await _stop(task)
    if shape == "json":
        assert ingest.pipeline.now is not None and ingest.pipeline.now.year == 2023
