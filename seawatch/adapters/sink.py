"""The one alert-sink port, and the queue most channels build on.

Every output of alert events (the store with its webhook outbox, the MQTT alert topic,
server-sent events to the map, the JSON Lines file, the log) is an :class:`AlertSink`:

* ``submit(events, durable=None)`` takes events from ingest and **never blocks**: ingest
  runs on the event loop, and a slow or broken channel must not hold up the watch or
  the other channels. ``durable``, when given, is called once the events are durable
  (or once the sink gave up on them): the MQTT message behind them is acknowledged
  only then (see :mod:`seawatch.adapters.acks`).
* ``run()`` is the sink's own long-running work (a task of the runtime's supervisor):
  if it raises, the supervisor logs it, shows it in ``/healthz`` and starts it again
  after a jittered backoff, while ingest and the other sinks go on.

:class:`QueuedSink` is the usual implementation: a bounded in-memory queue that
``submit`` appends to and ``run`` empties in batches through :meth:`QueuedSink.deliver`.
A batch whose delivery raised goes back to the head of the queue and is tried again
after the restart; past ``max_queued`` events the oldest are dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from seawatch.core.alerts import AlertEvent

log = logging.getLogger(__name__)

Durable = Callable[[], None]


@runtime_checkable
class AlertSink(Protocol):
    """Where alert events go. ``name`` labels the sink in health, metrics and logs."""

    @property
    def name(self) -> str: ...

    def submit(self, events: Sequence[AlertEvent], durable: Durable | None = None) -> None:
        """Take events (in order) without blocking; call ``durable`` once they are durable, if given."""
        ...

    async def run(self) -> None:
        """The sink's own work until cancelled; raising means "restart me"."""
        ...


@dataclass(slots=True)
class SinkFigures:
    """What ``/healthz`` and ``/metrics`` say about one sink."""

    submitted: int = 0
    delivered: int = 0
    dropped: int = 0
    failures: int = 0
    queued: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None  # first failure since the last successful delivery

    def view(self) -> dict[str, object]:
        return {
            "submitted": self.submitted,
            "delivered": self.delivered,
            "queued": self.queued,
            "dropped": self.dropped,
            "failures": self.failures,
            "failing_since": None if self.failing_since is None else self.failing_since.isoformat(),
            "last_error": self.last_error,
        }


class QueuedSink:
    """A sink with a bounded queue, emptied in batches by its own task (subclasses write :meth:`deliver`)."""

    def __init__(self, name: str, *, max_queued: int = 10_000, max_batch: int = 500) -> None:
        self._name = name
        self._max_queued = max_queued
        self._max_batch = max_batch
        self._queue: deque[tuple[AlertEvent, Durable | None]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.figures = SinkFigures()

    @property
    def name(self) -> str:
        return self._name

    def submit(self, events: Sequence[AlertEvent], durable: Durable | None = None) -> None:
        if not events:
            if durable is not None:
                durable()
            return
        queue = self._queue
        last = len(events) - 1
        for i, event in enumerate(events):
            queue.append((event, durable if i == last else None))
        self.figures.submitted += len(events)
        while len(queue) > self._max_queued:
            _, done = queue.popleft()
            self.figures.dropped += 1
            if done is not None:
                done()  # given up on: the message behind it must not wait for ever
        self.figures.queued = len(queue)
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [queue.popleft() for _ in range(min(self._max_batch, len(queue)))]
            events = [event for event, _ in batch]
            try:
                await self.deliver(events)
            except Exception as exc:
                # Kept for the next attempt, but what waits for them is let go: a broken
                # sink must not stop the broker from handing over new messages.
                queue.extendleft((event, None) for event, _ in reversed(batch))
                self._release(batch)
                self._failed(exc)
                raise
            self._release(batch)
            self.figures.delivered += len(events)
            self.figures.queued = len(queue)
            self.figures.failing_since = None

    def _failed(self, exc: BaseException) -> None:
        figures = self.figures
        figures.failures += 1
        figures.queued = len(self._queue)
        figures.last_error = describe_error(exc)
        if figures.failing_since is None:
            figures.failing_since = datetime.now(UTC)

    @staticmethod
    def _release(batch: list[tuple[AlertEvent, Durable | None]]) -> None:
        for _, done in batch:
            if done is not None:
                done()

    async def drain(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until everything submitted so far was delivered; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue or not self._idle.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=min(left, 0.5))
        return True

    async def deliver(self, events: list[AlertEvent]) -> None:
        """Send or write one batch; raise to have it tried again after a restart."""
        raise NotImplementedError


class BlockingSink(QueuedSink):
    """A sink whose writes block (files, databases): each batch is written in a worker thread."""

    async def deliver(self, events: list[AlertEvent]) -> None:
        await asyncio.to_thread(self.write, events)

    def write(self, events: list[AlertEvent]) -> None:
        raise NotImplementedError


class CallbackSink(QueuedSink):
    """Each event handed to a plain function, one at a time in the sink's own task (tests, embedding programs)."""

    def __init__(self, name: str, callback: Callable[[AlertEvent], object]) -> None:
        super().__init__(name, max_batch=1)  # a failure retries only the event it failed on
        self._callback = callback

    async def deliver(self, events: list[AlertEvent]) -> None:
        for event in events:
            self._callback(event)


def describe_error(exc: BaseException) -> str:
    """``Type: message`` of what failed, for health; a task group's single failure rather than the group."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
