"""Benchmark: a PostgreSQL outage under a steady feed, measured from outside the service.

`seawatch run` runs as its own process against a Mosquitto of its own, a fresh PostgreSQL
database reached through a TCP proxy (cut for ``--outage-s`` seconds, then restored) and a
real HTTP partner that verifies every webhook. A publisher sends ``--rate`` position
reports a second from ``--vessels`` ordinary vessels, and one AIS-SART from a new beacon
MMSI every ``--every`` seconds, before, during and after the outage.

Printed: how long until ``/healthz`` said ``store-failing`` and ``ok`` again; the messages
ingested during the outage; ``/healthz`` and ``/metrics`` answers (status codes, latency
percentiles); the beacons that reached the partner, and how long after the store came
back those heard during the outage arrived. Figures only, never asserted.

Usage: python benchmarks/bench_outage.py [--rate 200] [--outage-s 10] [--every 0.5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pyais

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seawatch.core.lines import tag_block  # noqa: E402
from tests.integration.mosquitto import Mosquitto  # noqa: E402
from tests.integration.receiver import SECRET, Receiver  # noqa: E402
from tests.integration.tcpproxy import TcpProxy  # noqa: E402
from tests.integration.test_outages import Poller, beacon, opened_at_partner, until, write_config  # noqa: E402
from tests.integration.test_store import fresh_postgres_database  # noqa: E402


def position(mmsi: int, n: int) -> bytes:
    """An ordinary vessel under way in the Strait of Malacca (no alert)."""
    (sentence,) = pyais.encode_dict(
        {
            "msg_type": 1,
            "mmsi": mmsi,
            "lat": 3.0 + (mmsi % 100) * 0.01,
            "lon": 100.5 + n * 0.0001,
            "status": 0,
            "speed": 12.0,
            "course": 90.0,
        },
        talker_id="AI",
        radio_channel="A",
    )
    return tag_block(f"s:rx-bench,c:{int(datetime.now(UTC).timestamp())}") + sentence.encode()


class Feed(threading.Thread):
    """Ordinary traffic at ``rate`` a second, and a new beacon every ``every`` seconds."""

    def __init__(self, broker: Mosquitto, topic: str, rate: float, vessels: int, every: float) -> None:
        super().__init__(daemon=True)
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.topic, self.rate, self.vessels, self.every = topic, rate, vessels, every
        self.sent = 0
        self.beacons: dict[int, float] = {}  # mmsi -> perf_counter at publish
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        next_beacon = started
        n = 0
        while not self.stopping.is_set():
            now = time.perf_counter()
            if now >= next_beacon:
                mmsi, line = beacon(len(self.beacons) + 100)
                self.beacons[mmsi] = now
                self.client.publish(self.topic, line, qos=1)
                next_beacon += self.every
            due = started + n / self.rate
            if due > now:
                time.sleep(min(due - now, 0.01))
                continue
            self.client.publish(self.topic, position(211_000_000 + n % self.vessels, n), qos=1)
            self.sent += 1
            n += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        self.client.loop_stop()
        self.client.disconnect()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="ordinary messages a second")
    parser.add_argument("--vessels", type=int, default=500)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between beacons")
    parser.add_argument("--outage-s", type=float, default=10.0)
    parser.add_argument("--settle-s", type=float, default=5.0, help="feed before the outage and after recovery")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="seawatch-bench-outage-") as scratch, fresh_postgres_database() as url:
        tmp = Path(scratch)
        broker = Mosquitto(tmp / "broker")
        broker.start()
        receiver = Receiver(SECRET)
        receiver.start()
        proxy = TcpProxy("127.0.0.1", 5432).start()
        store_url = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        topic = f"bench/{uuid.uuid4().hex[:8]}"
        service = write_config(tmp, broker, topic, store_url, receiver).start()
        feed_topic = f"{topic}/rx"
        try:
            until(lambda: service.status() == "ok", "the service is up", 120)
            feed = Feed(broker, feed_topic, args.rate, args.vessels, args.every)
            with Poller(service.http) as poller:
                feed.start()
                time.sleep(args.settle_s)
                before_beacons = set(feed.beacons)

                cut_at = time.perf_counter()
                ingested_at_cut = service.messages(feed_topic)
                proxy.cut()
                until(lambda: service.status() == "store-failing", "store-failing")
                seen_failing = time.perf_counter() - cut_at
                time.sleep(max(0.0, args.outage_s - (time.perf_counter() - cut_at)))
                ingested_during = service.messages(feed_topic) - ingested_at_cut
                during_beacons = set(feed.beacons) - before_beacons

                restored_at = time.perf_counter()
                proxy.restore()
                until(lambda: service.status() == "ok", "ok again")
                seen_ok = time.perf_counter() - restored_at
                arrival: dict[int, float] = {}

                def all_during_arrived() -> bool:
                    got = opened_at_partner(receiver)
                    for mmsi in during_beacons & got:
                        arrival.setdefault(mmsi, time.perf_counter())
                    return during_beacons <= got

                until(all_during_arrived, "the beacons of the outage at the partner", 120)
                time.sleep(args.settle_s)
                feed.stop()
            all_beacons = set(feed.beacons)
            until(lambda: all_beacons <= opened_at_partner(receiver), "every beacon at the partner", 120)
            service.stop()
        finally:
            service.kill()
            proxy.stop()
            receiver.stop()
            broker.stop()

    health = [s * 1000 for path, _, s in poller.of("/healthz")]
    metrics = [s * 1000 for path, _, s in poller.of("/metrics")]
    codes = sorted({(p.split()[0], c) for p, c, _ in poller.answers})
    after_restore = [arrival[m] - restored_at for m in during_beacons]
    print(
        f"feed: {feed.sent} ordinary messages at {args.rate:g}/s, {len(all_beacons)} beacons (1 every {args.every} s)"
    )
    print(f"outage of {args.outage_s:g} s: /healthz said store-failing after {seen_failing:.2f} s, ok {seen_ok:.2f} s")
    print(f"  after the store came back; {ingested_during} messages ingested during the outage")
    print(
        f"beacons at the partner: {len(opened_at_partner(receiver) & all_beacons)}/{len(all_beacons)} "
        f"({len(during_beacons)} heard during the outage: delivered {statistics.median(after_restore):.2f} s "
        f"median, {max(after_restore):.2f} s max after the store came back)"
    )
    print(
        f"/healthz: {len(health)} answers, p50 {pct(health, 0.5):.1f} ms, p99 {pct(health, 0.99):.1f} ms, "
        f"max {max(health):.1f} ms"
    )
    print(
        f"/metrics: {len(metrics)} answers, p50 {pct(metrics, 0.5):.1f} ms, p99 {pct(metrics, 0.99):.1f} ms, "
        f"max {max(metrics):.1f} ms"
    )
    print(f"status codes seen: {codes}")
    distinct = len({r.webhook_id for r in receiver.received})
    print(f"webhook requests: {len(receiver.received)}, distinct webhook-ids {distinct}")


if __name__ == "__main__":
    main()
