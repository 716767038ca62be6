"""Benchmark: failover takeover time over repeated SIGKILLs of the leader, under a steady feed.

Two ``seawatch run`` processes ("a" and "b", failover on) share a fresh PostgreSQL
database, each through a TCP proxy of its own, a Mosquitto of their own and one MQTT
client id (:mod:`tests.integration.failover_pair`); a real HTTP partner verifies every
webhook. A publisher sends ``--rate`` position reports a second from ``--vessels``
ordinary vessels, and an AIS-SART from a new beacon MMSI every ``--every`` seconds
(each one opens a distress alert the partner must receive).

``--kills`` times: SIGKILL the leader; measure from the kill until the other leads with
its MQTT source connected (``/healthz``), and until the partner has the first alert event
raised by a message published after the kill; then start the killed one again as the
new standby and wait until it follows. Printed: each kill's figures, and p50/p99/max of
both, with the lease length they were measured with. Figures only, never asserted.

Usage: python benchmarks/bench_failover.py [--kills 10] [--lease-ttl 8] [--rate 200] [--every 0.5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import eprint, versions_line  # noqa: E402
from benchmarks.bench_outage import Feed, pct  # noqa: E402
from seawatch.config.settings import Settings  # noqa: E402
from tests.integration.failover_pair import Instance, Pair  # noqa: E402
from tests.integration.mosquitto import Mosquitto  # noqa: E402
from tests.integration.receiver import SECRET, Receiver  # noqa: E402
from tests.integration.test_store import fresh_postgres_database  # noqa: E402

DEFAULT_LEASE_TTL_S = Settings.model_fields["lease_ttl_s"].default


def first_delivery_after(receiver: Receiver, feed: Feed, since: float) -> float | None:
    """perf_counter when the partner got the first alert event of a beacon published after ``since``."""
    later = {mmsi for mmsi, published in list(feed.beacons.items()) if published >= since}
    arrivals = [r.arrived for r in receiver.accepted() if r.json()["mmsi"] in later]
    return min(arrivals) if arrivals else None


def one_kill(pair: Pair, leader: Instance, standby: Instance, receiver: Receiver, feed: Feed) -> tuple[float, float]:
    """Kill the leader; (seconds until the standby leads, seconds until the first new alert event arrives)."""
    assert leader.service.proc is not None
    killed_at = time.perf_counter()
    leader.service.proc.kill()
    leader.service.proc.wait(30)
    pair.until(standby.leads, f"{standby.name} leads after {leader.name} was killed", 120)
    takeover_s = time.perf_counter() - killed_at
    pair.until(lambda: first_delivery_after(receiver, feed, killed_at) is not None, "a new alert event delivered", 120)
    delivered = first_delivery_after(receiver, feed, killed_at)
    assert delivered is not None
    return takeover_s, delivered - killed_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of the leader")
    parser.add_argument(
        "--lease-ttl", type=float, default=DEFAULT_LEASE_TTL_S, help="lease_ttl_s of both instances, seconds"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="ordinary messages a second")
    parser.add_argument("--vessels", type=int, default=500)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between beacons")
    parser.add_argument("--settle-s", type=float, default=3.0, help="feed between a standby following and a kill")
    args = parser.parse_args()

    takeovers: list[float] = []
    deliveries: list[float] = []
    with tempfile.TemporaryDirectory(prefix="seawatch-bench-failover-") as scratch, fresh_postgres_database() as url:
        tmp = Path(scratch)
        broker = Mosquitto(tmp / "broker")
        broker.start()
        receiver = Receiver(SECRET)
        receiver.start()
        topic = f"bench/{uuid.uuid4().hex[:8]}"
        pair = Pair(tmp, broker, topic, url, {"a": receiver.url, "b": receiver.url}, args.lease_ttl)
        feed: Feed | None = None
        try:
            pair.open_session()
            leader, standby = pair.start_leader_and_standby("a")
            feed = Feed(broker, pair.feed_topic, args.rate, args.vessels, args.every)
            feed.start()
            for kill in range(1, args.kills + 1):
                pair.until(lambda standby=standby: standby.role() == "standby", f"{standby.name} is the standby", 120)
                time.sleep(args.settle_s)
                takeover_s, delivered_s = one_kill(pair, leader, standby, receiver, feed)
                takeovers.append(takeover_s)
                deliveries.append(delivered_s)
                print(
                    f"kill {kill:2d}: {leader.name} killed, {standby.name} led after {takeover_s:.2f} s, "
                    f"first new alert event at the partner after {delivered_s:.2f} s",
                    flush=True,
                )
                leader.service.start()  # the killed one comes back as the new standby
                leader, standby = standby, leader
            pair.until(lambda: standby.role() == "standby", f"{standby.name} is the standby", 120)
            feed.stop()
            published = feed.sent + len(feed.beacons)
            eprint(f"waiting until the journal holds the {published} messages published")
            pair.until(lambda: pair.journalled() >= published, "every published message journalled", 120)
            beacons = set(feed.beacons)
            pair.until(
                lambda: beacons <= {r.json()["mmsi"] for r in receiver.accepted()},
                "every beacon's alert at the partner",
                120,
            )
            journalled = pair.journalled()
            leader.service.stop()
            standby.service.stop()
        finally:
            if feed is not None and feed.is_alive():
                feed.stop()
            pair.close()
            receiver.stop()
            broker.stop()

    print(versions_line())
    print(
        f"{args.kills} kills of the leader, lease_ttl_s {args.lease_ttl:g} (default {DEFAULT_LEASE_TTL_S:g}), "
        f"feed {args.rate:g} msg/s from {args.vessels} vessels and a beacon every {args.every:g} s"
    )
    for what, values in (
        ("kill -> the other leads, source connected", takeovers),
        ("kill -> first new alert event at the partner", deliveries),
    ):
        print(
            f"{what}: p50 {pct(values, 0.5):.2f} s, p99 {pct(values, 0.99):.2f} s, max {max(values):.2f} s, "
            f"min {min(values):.2f} s"
        )
    accepted = receiver.accepted()
    print(
        f"published {published} messages ({len(beacons)} beacons); journalled {journalled}; "
        f"webhooks accepted {len(accepted)}, distinct webhook-ids {len({r.webhook_id for r in accepted})}"
    )


if __name__ == "__main__":
    main()
