"""An alert event raised by a record the broker cannot send again is stored only once the journal holds it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from seawatch.config.settings import Settings
from seawatch.runtime import build_delivery
from tests.unit.test_cap_subscriptions import event


def test_a_ticks_event_waits_for_the_journal_and_a_messages_event_does_not(tmp_path: Path) -> None:
    delivery = build_delivery(
        Settings(store_url=f"sqlite:///{tmp_path / 'alerts.db'}", store_spool_file=None, alerts_topic_prefix="")
    )
    durable = [0]  # every record below this number is journalled
    journalled = asyncio.Event()
    asked: list[int] = []

    async def journal_durable(seq: int) -> None:
        asked.append(seq)
        while durable[0] < seq:
            await journalled.wait()

    position = [7]  # the journal's number for the next record
    delivery.journal_position = lambda: position[0]
    delivery.journal_durable = journal_durable
    store = delivery.store

    async def until(check: object) -> None:
        for _ in range(500):
            if callable(check) and check():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("gave up waiting")

    async def scenario() -> None:
        task = asyncio.create_task(delivery.run())
        # an MQTT message's event: written at once (unjournalled, its message is unacknowledged and comes again)
        delivery.submit([replace(event(), id="from-a-message")])
        await until(lambda: len(store.alerts(limit=10)) == 1)
        # a silent-feed check's event: held until the journal has the tick (record 6, so below 7)
        delivery.after_journal()
        delivery.submit([replace(event(), id="from-a-tick")])
        await until(lambda: 7 in asked)
        assert [a.id for a in store.alerts(limit=10)] == ["from-a-message"]
        durable[0] = 7
        journalled.set()
        await until(lambda: len(store.alerts(limit=10)) == 2)
        task.cancel()

    try:
        asyncio.run(scenario())
    finally:
        store.close()
