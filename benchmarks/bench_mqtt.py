"""Benchmark (b): MQTT ingest through a real Mosquitto at QoS 1.

Three figures, each from the real Seawatch ingest (MqttSource + Pipeline):

1. live throughput: a publisher in a *separate process* (paho, QoS 1) sends N real
   sentences as fast as it can while Seawatch ingests; msgs/s from first to last
   receipt, and whether every message arrived (zero loss);
2. drain throughput: the same N messages queued by the broker for Seawatch's
   persistent session while it is away, then ingested in one go — the ingest's
   own ceiling, with the publisher out of the picture;
3. latency at a steady 2,000 msg/s: publish time (carried in the tag block ``c:``
   in milliseconds) to decoded report, p50/p90/p99/max.

Usage: python benchmarks/bench_mqtt.py [--messages 100000] [--rate 2000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seawatch.adapters.acks import Receipt  # noqa: E402
from seawatch.config.settings import Settings  # noqa: E402
from seawatch.core.lines import tag_block  # noqa: E402
from seawatch.runtime import Ingest, build_pipeline, mqtt_options  # noqa: E402
from tests.integration.mosquitto import Mosquitto  # noqa: E402

RECORDING = ROOT / "tests" / "data" / "ais" / "dma-aislib" / "stream_example.txt"
_N = re.compile(rb"n:(\d+)")


def _sentences() -> list[bytes]:
    return [line for line in RECORDING.read_bytes().splitlines() if line.startswith(b"!") and b",1,1," in line]


def _tag(line: bytes, number: int, at_ms: int | None = None) -> bytes:
    return tag_block(f"n:{number}" if at_ms is None else f"c:{at_ms},n:{number}") + line


def _publisher(port: int, topic: str, count: int, rate: float, ready: mp.Event) -> None:  # type: ignore[type-arg]
    """Runs in its own process: publish ``count`` messages at QoS 1 (``rate`` 0 = flat out)."""
    import paho.mqtt.client as paho

    lines = _sentences()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.wait()
    infos = []
    started = time.monotonic()
    for n in range(count):
        if rate:
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        payload = _tag(lines[n % len(lines)], n, int(time.time() * 1000) if rate else None)
        info = client.publish(topic, payload, qos=1)
        while info.rc == paho.MQTT_ERR_QUEUE_SIZE:  # 65,535 ids in flight: let acks catch up
            time.sleep(0.005)
            info = client.publish(topic, payload, qos=1)
        infos.append(info)
    for info in infos:
        info.wait_for_publish(60)
    client.loop_stop()
    client.disconnect()


class _Measured(Ingest):
    def __init__(self, settings: Settings) -> None:
        super().__init__(build_pipeline(settings), mqtt_options(settings))
        self.seen: set[int] = set()
        self.first = 0.0
        self.last = 0.0
        self.latencies_ms: list[float] = []

    def _on_payload(self, payload: bytes, received_at: datetime, topic: str, receipt: Receipt) -> None:
        reports = self.pipeline.feed_payload(payload, received_at, topic).reports
        now = time.monotonic()
        if not self.first:
            self.first = now
        self.last = now
        match = _N.search(payload)
        if match:
            self.seen.add(int(match.group(1)))
        if reports and reports[0].observed_at is not None:
            decoded_at = datetime.now(UTC)
            lag = (decoded_at - reports[0].observed_at).total_seconds() * 1000
            if abs(lag) < 60_000:
                self.latencies_ms.append(lag)


def _settings(broker: Mosquitto, topic: str, client_id: str) -> Settings:
    return Settings(mqtt_url=broker.url, mqtt_topics=[topic], mqtt_client_id=client_id)


async def _run_ingest(ingest: _Measured, until: int, timeout_s: float) -> None:
    task = asyncio.create_task(ingest.source.run(), name="mqtt-source")
    deadline = time.monotonic() + timeout_s
    while len(ingest.seen) < until and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a plain counter
        await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _spawn(port: int, topic: str, count: int, rate: float) -> tuple[mp.Process, mp.Event]:  # type: ignore[type-arg]
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_publisher, args=(port, topic, count, rate, ready), daemon=True)
    proc.start()
    return proc, ready


async def live(broker: Mosquitto, count: int) -> tuple[float, int]:
    topic = f"bench/{uuid.uuid4().hex}"
    ingest = _Measured(_settings(broker, topic, f"bench-live-{uuid.uuid4().hex[:6]}"))
    runner = asyncio.create_task(_run_ingest(ingest, count, 300))
    await ingest.source.wait_connected()
    proc, ready = _spawn(broker.port, topic, count, 0)
    await asyncio.sleep(1.0)  # let the publisher connect
    ready.set()
    await runner
    proc.join(30)
    return count / max(ingest.last - ingest.first, 1e-9), count - len(ingest.seen)


async def drain(broker: Mosquitto, count: int) -> tuple[float, int]:
    topic = f"bench/{uuid.uuid4().hex}"
    client_id = f"bench-drain-{uuid.uuid4().hex[:6]}"
    first = _Measured(_settings(broker, topic, client_id))
    # connect once so the broker opens the persistent session and the subscription
    task = asyncio.create_task(first.source.run())
    await first.source.wait_connected()
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    proc, ready = _spawn(broker.port, topic, count, 0)
    ready.set()
    await asyncio.to_thread(proc.join, 300)
    ingest = _Measured(_settings(broker, topic, client_id))
    await _run_ingest(ingest, count, 300)
    return count / max(ingest.last - ingest.first, 1e-9), count - len(ingest.seen)


async def latency(broker: Mosquitto, rate: float, seconds: float) -> list[float]:
    topic = f"bench/{uuid.uuid4().hex}"
    count = int(rate * seconds)
    ingest = _Measured(_settings(broker, topic, f"bench-lat-{uuid.uuid4().hex[:6]}"))
    proc, ready = _spawn(broker.port, topic, count, rate)
    await asyncio.sleep(1.0)
    runner = asyncio.create_task(_run_ingest(ingest, count, seconds + 60))
    await ingest.source.wait_connected()
    ready.set()
    await runner
    proc.join(30)
    return ingest.latencies_ms


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp))
        broker.start()
        try:
            print("Seawatch benchmark (b): MQTT ingest through Mosquitto, QoS 1, persistent session")
            print(f"   {args.messages:,} real single-sentence messages (DMA AisLib recording), one per MQTT message")
            rate, lost = await live(broker, args.messages)
            print(f"   live  (paho publisher in another process, flat out): {rate:,.0f} msg/s, lost {lost}")
            rate, lost = await drain(broker, args.messages)
            print(f"   drain (broker-queued backlog, ingest alone):          {rate:,.0f} msg/s, lost {lost}")
            lat = await latency(broker, args.rate, args.seconds)
            print(
                f"   latency at {args.rate:,.0f} msg/s for {args.seconds:g} s, publish -> decoded report "
                f"({len(lat):,} samples, ms resolution of the c: tag): p50 {statistics.median(lat):.1f} ms, "
                f"p90 {_pct(lat, 90):.1f} ms, p99 {_pct(lat, 99):.1f} ms, max {max(lat):.1f} ms"
            )
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
