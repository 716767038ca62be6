"""Failover: two real ``seawatch run`` processes, one PostgreSQL store, one Mosquitto (issue 17).

Instances "a" and "b" (:mod:`tests.integration.failover_pair`) share the MQTT client id
and a fresh PostgreSQL database, each through a TCP proxy of its own. The pair's
persistent MQTT session is made before either runs, so the broker queues what is
published while no instance is connected. A real HTTP server plays the partner.

The leader is killed (SIGKILL), paused past its lease (SIGSTOP, then SIGCONT), cut from
the store, or stopped cleanly (SIGTERM); the other must take over, lose nothing and send
nothing twice, and the old leader must write and deliver nothing after the takeover.

Every wait is for a state (``/healthz``, the store's rows, the partner's webhooks, a
process's end), never for a time. The one timing assertion is the issue's: the standby
leads, its MQTT source connected, within 15 s of the leader's death.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.failover_pair import Instance, Pair
from tests.integration.mosquitto import Mosquitto
from tests.integration.receiver import SECRET, Received, Receiver
from tests.integration.test_api import publish
from tests.integration.test_mqtt_ingest import Publisher
from tests.integration.test_outages import WAIT_S, beacon, opened_at_partner
from tests.integration.test_restart_equals_no_restart import _alerts_of, _feed, _replay, _stored
from tests.integration.test_store import fresh_postgres_database

TAKEOVER_BOUND_S = 15.0  # issue 17: "the standby leads within 15 s"


@pytest.fixture
def store_url() -> Iterator[str]:
    """A fresh PostgreSQL database of the test's own, dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def pair(mosquitto: Mosquitto, topic: str, store_url: str, receiver: Receiver, tmp_path: Path) -> Iterator[Pair]:
    """A pair delivering to one partner, its persistent session made; not started yet."""
    made = Pair(tmp_path, mosquitto, topic, store_url, {"a": receiver.url, "b": receiver.url})
    made.open_session()
    try:
        yield made
    finally:
        made.close()


def took_over(pair: Pair, standby: Instance, since: float) -> float:
    """Wait until ``standby`` leads with its source connected; seconds from ``since`` to then."""
    pair.until(standby.leads, f"{standby.name} leads after the leader's end")
    return time.monotonic() - since


def webhook_ids_by_event(received: list[Received]) -> dict[tuple[str, int], set[str]]:
    """(alert id, sequence) -> the webhook ids it came under."""
    ids: dict[tuple[str, int], set[str]] = {}
    for r in received:
        doc = r.json()
        ids.setdefault((doc["id"], doc["sequence"]), set()).add(r.webhook_id)
    return ids


def no_traceback(*instances: Instance) -> None:
    for instance in instances:
        assert "Traceback" not in instance.log, f"{instance.name}: {instance.log[-4000:]}"


def test_sigkill_of_the_leader_mid_scenario_loses_nothing_and_sends_nothing_twice(
    pair: Pair, receiver: Receiver, tmp_path: Path
) -> None:
    feed = _feed()
    (tmp_path / "feed.nmea").write_bytes(b"\n".join(feed) + b"\n")
    expected = _replay([tmp_path / "feed.nmea"], tmp_path)
    assert {kind for _, kind, _, _ in expected} >= {"distress", "drifting", "zone_entry", "loitering"}
    half = len(feed) // 2

    publisher = Publisher(pair.broker, f"pub-{uuid.uuid4().hex[:8]}")
    try:
        a, b = pair.start_leader_and_standby("a")
        token_a = a.failover()["token"]
        publisher.publish(pair.feed_topic, feed[:half])
        pair.until(lambda: pair.journalled() >= half, "the leader's journal holds the first half", 120)

        killed_at = time.monotonic()
        assert a.service.proc is not None
        a.service.proc.kill()
        takeover_s = took_over(pair, b, killed_at)
        assert takeover_s < TAKEOVER_BOUND_S, (
            f"b led with its MQTT source connected {takeover_s:.2f} s after a was killed; "
            f"issue 17 asks for less than {TAKEOVER_BOUND_S:g} s"
        )
        print(f"\ntakeover after SIGKILL: {takeover_s:.2f} s")
        assert b.failover()["token"] > token_a

        publisher.publish(pair.feed_topic, feed[half:])
        pair.until(lambda: pair.journalled() >= len(feed), "the journal holds the whole feed", 120)
        pair.until(
            lambda: len({r.webhook_id for r in receiver.accepted()}) >= len(expected),
            "every expected event's webhook at the partner",
            120,
        )
        # every message journalled once: none lost, none twice (read before b's stop: its final
        # snapshot trims the journal)
        assert [r.payload for r in pair.journal()] == feed
        assert b.service.stop(signal.SIGTERM) == 0, b.log[-3000:]
    finally:
        publisher.close()

    assert _stored(pair.store_url) == expected  # no alert event lost, none twice
    assert pair.opened_twice() == []
    by_id = {r.webhook_id: r.body for r in receiver.accepted()}
    assert _alerts_of("\n".join(by_id.values())) == expected
    twice = {event: ids for event, ids in webhook_ids_by_event(receiver.accepted()).items() if len(ids) > 1}
    assert not twice, f"events sent under more than one webhook id: {twice}"
    no_traceback(b)


def test_a_leader_paused_past_its_lease_writes_and_delivers_nothing_when_it_wakes(
    mosquitto: Mosquitto, topic: str, store_url: str, tmp_path: Path
) -> None:
    # The partner reached at two addresses, one for each instance: what a delivers is told apart.
    to_a, to_b = Receiver(SECRET), Receiver(SECRET)
    to_a.start()
    to_b.start()
    pair = Pair(tmp_path, mosquitto, topic, store_url, {"a": to_a.url, "b": to_b.url})

    def opened() -> set[int]:
        return opened_at_partner(to_a) | opened_at_partner(to_b)

    def sent(numbers: range) -> set[int]:
        beacons = [beacon(n) for n in numbers]
        publish(mosquitto, pair.feed_topic, [line for _, line in beacons])
        return {mmsi for mmsi, _ in beacons}

    try:
        pair.open_session()
        a, b = pair.start_leader_and_standby("a")
        first = sent(range(1, 4))
        pair.until(lambda: first <= opened_at_partner(to_a), "the first beacons delivered by a")

        # more beacons, and a paused at once: it may hold them, half handled, while it sleeps
        paused = sent(range(4, 6))
        assert a.service.proc is not None
        a.service.proc.send_signal(signal.SIGSTOP)
        paused_at = time.monotonic()
        took_over(pair, b, paused_at)
        b_led_at = time.perf_counter()
        token_b = b.failover()["token"]
        b_position = int(b.failover()["took_over_at"].split(":")[1])  # the journal's end when b took over
        meanwhile = sent(range(6, 8))
        pair.until(lambda: paused | meanwhile <= opened(), "the beacons of the pause at the partner")
        assert meanwhile <= opened_at_partner(to_b)
        pair.until(lambda: not pair.pending(), "b has marked its deliveries")

        # what the store and the partner hold before a wakes: it must change none of it
        counts, outbox, spool = pair.row_counts(), pair.outbox(), a.spool_bytes()
        at_a = len(to_a.received)
        a.service.proc.send_signal(signal.SIGCONT)
        pair.until(lambda: a.role() == "standby", "a, awake, is the standby")
        pair.until(lambda: "steps down" in a.log, "a says it steps down")
        assert pair.row_counts() == counts
        assert pair.outbox() == outbox
        assert a.spool_bytes() == spool
        assert len(to_a.received) == at_a

        after = sent(range(8, 11))
        pair.until(lambda: after <= opened_at_partner(to_b), "the beacons after a woke delivered by b")
        pair.until(a.follows, "a follows b's journal")
        assert b.leads() and a.role() == "standby"
        assert b.service.stop(signal.SIGTERM) == 0, b.log[-3000:]
        assert a.service.stop(signal.SIGTERM) == 0, a.log[-3000:]
    finally:
        pair.close()
        to_a.stop()
        to_b.stop()

    from_a_late = [r for r in to_a.received if r.arrived >= b_led_at]
    assert not from_a_late, f"a delivered after b took over: {[r.webhook_id for r in from_a_late]}"
    assert first | paused | meanwhile | after <= opened()
    everything = to_a.accepted() + to_b.accepted()
    twice = {event: ids for event, ids in webhook_ids_by_event(everything).items() if len(ids) > 1}
    assert not twice, f"events sent under more than one webhook id: {twice}"
    stale = [chunk for chunk in pair.chunks() if chunk[0] >= b_position and chunk[2] != token_b]
    assert not stale, f"journal chunks from {b_position} on not written with b's token {token_b}: {stale}"
    assert pair.opened_twice() == []
    assert "steps down" in a.log
    no_traceback(a, b)


def test_a_leader_cut_from_the_store_steps_down_and_the_standby_delivers_once(pair: Pair, receiver: Receiver) -> None:
    a, b = pair.start_leader_and_standby("a")
    before, line = beacon(21)
    publish(pair.broker, pair.feed_topic, [line])
    pair.until(lambda: before in opened_at_partner(receiver), "the beacon before the cut at the partner")

    cut_at = time.monotonic()
    a.proxy.cut()
    # heard while a still holds the lease but cannot write: b must deliver them
    during = [beacon(n) for n in (22, 23)]
    publish(pair.broker, pair.feed_topic, [line for _, line in during])
    takeover_s = took_over(pair, b, cut_at)
    pair.until(lambda: a.role() == "standby", "a, cut from the store, is the standby")
    print(f"\ntakeover after the leader lost the store: {takeover_s:.2f} s")
    later = [beacon(n) for n in (24, 25)]
    publish(pair.broker, pair.feed_topic, [line for _, line in later])
    after_cut = {mmsi for mmsi, _ in during + later}
    pair.until(lambda: after_cut <= opened_at_partner(receiver), "the beacons heard after the cut at the partner")

    a.proxy.restore()
    pair.until(a.follows, "a, back in touch with the store, follows")
    pair.until(lambda: a.failover().get("position") == f"journal:{pair.journal_end()}", "a at the journal's end")
    assert a.role() == "standby" and b.leads()
    assert b.service.stop(signal.SIGTERM) == 0, b.log[-3000:]
    assert a.service.stop(signal.SIGTERM) == 0, a.log[-3000:]

    opened = Counter(r.json()["mmsi"] for r in receiver.accepted() if r.json()["event"] == "alert.opened")
    assert {mmsi: opened[mmsi] for mmsi in after_cut} == dict.fromkeys(after_cut, 1)
    assert pair.opened_twice() == []
    assert "steps down" in a.log, a.log[-3000:]
    no_traceback(a, b)


def test_sigterm_of_the_leader_hands_over_at_once(
    mosquitto: Mosquitto, topic: str, store_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    # A lease far longer than the wait: only the leader's release lets b lead in time.
    lease_ttl_s = 4 * WAIT_S
    pair = Pair(tmp_path, mosquitto, topic, store_url, {"a": receiver.url, "b": receiver.url}, lease_ttl_s)
    try:
        pair.open_session()
        a, b = pair.start_leader_and_standby("a")
        token_a = a.failover()["token"]
        mmsi, line = beacon(31)
        publish(mosquitto, pair.feed_topic, [line])
        pair.until(lambda: mmsi in opened_at_partner(receiver), "the beacon delivered by a")

        stopped_at = time.monotonic()
        assert a.service.stop(signal.SIGTERM) == 0, a.log[-3000:]
        handover_s = took_over(pair, b, stopped_at)
        print(f"\nhandover after SIGTERM (lease {lease_ttl_s:g} s): {handover_s:.2f} s")
        assert b.failover()["token"] > token_a

        mmsi, line = beacon(32)
        publish(mosquitto, pair.feed_topic, [line])
        pair.until(lambda: mmsi in opened_at_partner(receiver), "the beacon delivered by b")
        assert b.service.stop(signal.SIGTERM) == 0, b.log[-3000:]
    finally:
        pair.close()
    twice = {event: ids for event, ids in webhook_ids_by_event(receiver.accepted()).items() if len(ids) > 1}
    assert not twice
    no_traceback(a, b)
