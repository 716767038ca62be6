"""Benchmark: from the MQTT publish of an AIS-SART sentence to the partner's webhook receipt.

Everything real: a Mosquitto of its own, the Seawatch service (MQTT source, pipeline with
zones and every detector, the SQLite alert store, the webhook outbox and dispatcher), and
an HTTP receiver that verifies each signature with the Standard Webhooks reference code.

While a publisher in a separate process sends ``--rate`` messages a second of real
traffic (the Danish Maritime Authority recording), a second publisher sends one AIS-SART
position (navigational status 14) every ``--every`` seconds, each from a new beacon MMSI
so each opens a new distress alert. For each beacon the time from its publish to the
receipt of its ``alert.opened`` webhook is measured (both clocks are ``time.perf_counter``
in this process). Figures are printed, never asserted.

``--journal`` runs the service with the feed journal on (as the Docker image does): an
alert event is then written to the store only once the message that raised it is journalled.

Usage: python benchmarks/bench_alert_latency.py [--rate 2000] [--beacons 60] [--every 0.5] [--journal]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pyais

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_mqtt import _spawn  # noqa: E402

from seawatch.config.settings import Partner, Settings  # noqa: E402
from seawatch.core.lines import tag_block  # noqa: E402
from seawatch.runtime import Runtime, build_runtime  # noqa: E402
from seawatch.service import stop_task  # noqa: E402
from tests.integration.mosquitto import Mosquitto  # noqa: E402
from tests.integration.receiver import Receiver  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdefghij").decode()


def sart_line(mmsi: int) -> bytes:
    """One AIS-SART position report, active (status 14), in the Andaman Sea, stamped now."""
    (sentence,) = pyais.encode_dict(
        {"msg_type": 1, "mmsi": mmsi, "lat": 8.5, "lon": 96.5, "status": 14, "speed": 0.3, "course": 90.0},
        talker_id="AI",
        radio_channel="A",
    )
    return tag_block(f"s:rx-bench,c:{int(time.time() * 1000)}") + sentence.encode()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run_until_cancelled(runtime: Runtime) -> None:
    async with runtime.running():
        await asyncio.Event().wait()


async def run(rate: float, beacons: int, every_s: float, journal: bool = False) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="seawatch-bench-"))
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    receiver = Receiver(SECRET)
    receiver.start()
    topic = f"bench/{uuid.uuid4().hex}"
    settings = Settings(
        mqtt_url=broker.url,
        mqtt_topics=[f"{topic}/#"],
        mqtt_client_id=f"bench-alerts-{uuid.uuid4().hex[:6]}",
        store_url=f"sqlite:///{work / 'alerts.db'}",
        partners=[Partner(name="partner", url=receiver.url, secret=SECRET)],  # type: ignore[arg-type]
        alerts_topic_prefix=f"{topic}/out",
        zones_dir=ROOT / "zones",
        journal_dir=work / "journal" if journal else None,
    )
    runtime = build_runtime(settings)
    ingest = runtime.ingest
    service = asyncio.create_task(_run_until_cancelled(runtime), name="service")
    sent: dict[int, float] = {}
    try:
        await asyncio.wait_for(ingest.source.wait_connected(), 10)
        seconds = beacons * every_s + 5
        proc, ready = _spawn(broker.port, f"{topic}/traffic", int(rate * seconds), rate)
        await asyncio.sleep(1.0)
        ready.set()
        await asyncio.sleep(2.0)  # traffic flowing before the first beacon

        def beacon_sender() -> None:
            client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-sart-{uuid.uuid4().hex[:6]}")
            client.connect("127.0.0.1", broker.port)
            client.loop_start()
            for i in range(beacons):
                mmsi = 970_100_000 + i
                line = sart_line(mmsi)
                sent[mmsi] = time.perf_counter()
                client.publish(f"{topic}/sart", line, qos=1).wait_for_publish(10)
                time.sleep(every_s)
            client.loop_stop()
            client.disconnect()

        thread = threading.Thread(target=beacon_sender, name="sart-publisher")
        thread.start()
        await asyncio.to_thread(thread.join)
        deadline = time.monotonic() + 30
        while len(receiver.accepted()) < beacons and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.to_thread(proc.join, 60)
        figures = runtime.figures()
    finally:
        await stop_task(service)  # the runtime closes the store
        receiver.stop()
        broker.stop()
    by_mmsi: dict[int, float] = {}
    for r in receiver.accepted():
        doc = r.json()
        if doc["event"] == "alert.opened" and doc["mmsi"] in sent:
            by_mmsi[doc["mmsi"]] = (r.arrived - sent[doc["mmsi"]]) * 1000
    latencies = [by_mmsi[m] for m in sorted(by_mmsi)]  # in publish order
    return {
        "beacons": beacons,
        "received": len(latencies),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p90_ms": _pct(latencies, 0.90) if latencies else float("nan"),
        "p99_ms": _pct(latencies, 0.99) if latencies else float("nan"),
        "max_ms": max(latencies) if latencies else float("nan"),
        "first_ms": latencies[0] if latencies else float("nan"),
        "messages": figures.messages,
        "broker_dropped": float(figures.broker_dropped or 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=2000.0, help="other traffic, msg/s (default 2,000)")
    parser.add_argument("--beacons", type=int, default=60, help="AIS-SART alerts to time (default 60)")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between beacons (default 0.5)")
    parser.add_argument("--journal", action="store_true", help="with the feed journal on (fsync per batch)")
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, args.beacons, args.every, args.journal))
    print("Seawatch alert latency: MQTT publish of an AIS-SART sentence -> verified webhook at the partner")
    print(
        f"   other traffic {args.rate:,.0f} msg/s (real recording, QoS 1), {result['messages']:,.0f} messages ingested"
        + ("; feed journal on" if args.journal else "")
    )
    print(
        f"   {result['received']}/{result['beacons']} alerts received; latency p50 {result['p50_ms']:.1f} ms, "
        f"p90 {result['p90_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
        f"(the first alert: {result['first_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
