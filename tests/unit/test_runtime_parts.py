"""The runtime's small parts on their own: the acknowledgement ledger, a sink's queue, the supervisor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from seawatch.adapters.acks import AckLedger
from seawatch.adapters.sink import QueuedSink
from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status
from seawatch.runtime import Policy, SourceFailedError, Supervisor


def test_messages_are_acknowledged_in_arrival_order_once_nothing_holds_them() -> None:
    acked: list[int] = []
    ledger = AckLedger()
    first = ledger.accept(lambda: acked.append(1))
    release_first = first.hold()  # its alert events are being written
    ledger.release(first)  # handled
    second = ledger.accept(lambda: acked.append(2))
    ledger.release(second)  # handled, nothing to write: but it must wait for the first
    assert acked == [] and ledger.waiting == 2
    release_first()
    release_first()  # a second release changes nothing
    assert acked == [1, 2] and ledger.waiting == 0


def test_a_closed_ledger_acknowledges_nothing_more() -> None:
    acked: list[int] = []
    ledger = AckLedger()
    receipt = ledger.accept(lambda: acked.append(1))
    release = receipt.hold()
    ledger.release(receipt)
    ledger.close()  # the connection dropped: the broker redelivers the message
    release()
    assert acked == [] and ledger.waiting == 0


def _event(n: int) -> AlertEvent:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return AlertEvent(
        id=f"distress-{n}",
        event=EventType.OPENED,
        sequence=1,
        kind=Kind.DISTRESS,
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        test=False,
        mmsi=970_000_000 + n,
        vessel=None,
        other=None,
        lat=8.5,
        lon=96.5,
        zone=None,
        observed_at=at,
        opened_at=at,
        summary="AIS-SART active",
        evidence={},
    )


class _Flaky(QueuedSink):
    def __init__(self, failures: int) -> None:
        super().__init__("flaky")
        self.failures = failures
        self.got: list[AlertEvent] = []

    async def deliver(self, events: list[AlertEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.got += events


async def _until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - polling plain figures
        await asyncio.sleep(0.01)
    return predicate()


async def test_a_failing_sink_is_restarted_and_loses_nothing_nor_holds_acknowledgements() -> None:
    sink = _Flaky(failures=2)
    released: list[str] = []
    supervisor = Supervisor(restart_min_s=0.01, restart_max_s=0.02)
    async with supervisor:
        supervisor.start("sink-flaky", sink.run)
        sink.submit([_event(1), _event(2)], lambda: released.append("batch"))
        assert await _until(lambda: sink.figures.failures >= 1)
        assert released == ["batch"]  # the message behind the events is not held by a broken sink
        assert await _until(lambda: len(sink.got) == 2)
        assert sink.figures.failing_since is None and sink.figures.failures == 2
        assert supervisor.tasks["sink-flaky"].restarts == 2
        assert "disk full" in (supervisor.tasks["sink-flaky"].last_error or "")
        await supervisor.stop()
    assert [e.id for e in sink.got] == ["distress-1", "distress-2"]


async def test_the_source_is_given_up_after_the_documented_number_of_failures_in_a_row() -> None:
    runs = 0

    async def broken_source() -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("cannot read the TLS key")

    supervisor = Supervisor(restart_min_s=0.01, restart_max_s=0.02, source_max_failures=5)
    async with supervisor:
        supervisor.start("mqtt-source", broken_source, Policy.SOURCE)
        await asyncio.wait_for(supervisor.stopping.wait(), 10)
    assert runs == 5
    assert supervisor.tasks["mqtt-source"].state == "failed"
    assert isinstance(supervisor.fatal, SourceFailedError) and "TLS key" in str(supervisor.fatal)
    with pytest.raises(SourceFailedError):
        raise supervisor.fatal


async def test_a_task_groups_single_failure_is_what_health_shows() -> None:
    async def worker_with_helpers() -> None:
        async def helper() -> None:
            raise ConnectionError("the store went away")

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(helper())

    supervisor = Supervisor(restart_min_s=5.0, restart_max_s=5.0)
    async with supervisor:
        supervisor.start("webhooks", worker_with_helpers)
        assert await _until(lambda: supervisor.tasks["webhooks"].state == "restarting")
        assert supervisor.tasks["webhooks"].last_error == "ConnectionError: the store went away"
        assert [s.name for s in supervisor.failing] == ["webhooks"]
        await supervisor.stop()
