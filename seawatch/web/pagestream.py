"""The SSE alert sink (:class:`PageStream`), and when it received each alert event by the wall clock.

The receive times are for the map's ages and timelines.

An alert event's ``observed_at`` is event time: the time the AIS message says (a tag block, a
logger's timestamp). That is the right time for the record and for replay, and the wrong one to
measure "how long ago" by: a receiver with a late uplink, a satellite feed an hour behind, or the
demo (whose event time runs twenty times faster than the wall clock and reaches the present only at
the end of each lap) make an alert raised a second ago look hours old. So this alert sink notes the
wall-clock time at which the service handled each event, and the map measures ages from that, and
shows both times where they differ.

The times live in memory, bounded: after a restart, alerts taken back from the store have none, and
the map falls back to event time for them. The core stays free of clocks: nothing here feeds back
into detection or into the alert events that partners and replays see.

:class:`PageStream` is the SSE channel of the alert-sink port: the runtime adds it to its sinks and
runs its task; ``/api/stream`` (``routes/stream.py``) drains one queue per open page, and
``/api/received`` (``routes/received.py``) serves the receive times it records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from seawatch.core.alerts import AlertEvent
from seawatch.core.serialize import alert_event_to_dict, iso_utc

MAX_ALERTS = 5000
"""Alerts whose receive times are kept (least recently updated forgotten first)."""

MAX_EVENTS_PER_ALERT = 64
"""Events kept per alert: the first (opened) always, then the latest ones (a beacon escalates often)."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


class ReceivedTimes:
    """An alert sink that remembers, per alert and event sequence, when the service handled the event."""

    def __init__(self, clock: Callable[[], datetime] = wall_clock, max_alerts: int = MAX_ALERTS) -> None:
        self._clock = clock
        self._max_alerts = max_alerts
        self._alerts: OrderedDict[str, dict[int, datetime]] = OrderedDict()

    def __call__(self, event: AlertEvent) -> None:
        events = self._alerts.get(event.id)
        if events is None:
            events = self._alerts[event.id] = {}
            while len(self._alerts) > self._max_alerts:
                self._alerts.popitem(last=False)
        else:
            self._alerts.move_to_end(event.id)
        events.setdefault(event.sequence, self._clock())
        if len(events) > MAX_EVENTS_PER_ALERT:  # one over: drop the oldest after the first (opened)
            del events[sorted(events)[1]]

    def of(self, alert_id: str) -> dict[int, datetime]:
        return dict(self._alerts.get(alert_id, {}))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per alert: when its first known event and its latest event were received, and that sequence."""
        out: dict[str, dict[str, Any]] = {}
        for alert_id, events in self._alerts.items():
            first, last = min(events), max(events)
            out[alert_id] = {
                "first": iso_utc(events[first]),
                "first_sequence": first,
                "last": iso_utc(events[last]),
                "sequence": last,
            }
        return out


class PageStream:
    """Server-sent events to every open page: alert events as they happen, vessel changes once a second.

    The SSE channel of the alert-sink port: ``submit`` puts each event on every open
    page's own queue (never blocking; a stalled page loses events and re-syncs on
    reconnect), and ``run`` announces vessel changes, as one of the runtime's tasks.
    """

    def __init__(self, changes: Callable[[], int] | None = None, name: str = "sse") -> None:
        self.received = ReceivedTimes()  # wall-clock receive times of alert events, for the map's ages
        self._clients: set[asyncio.Queue[tuple[str, str]]] = set()
        self._changes = changes  # a counter that moves when vessels change (reports folded in)
        self.dropped = 0
        self.name = name

    def publish(self, event: str, data: str) -> None:
        for queue in self._clients:
            if queue.qsize() >= 1000:  # a stalled page must not hold memory: it re-syncs on reconnect
                self.dropped += 1
                continue
            queue.put_nowait((event, data))

    def submit(self, events: Sequence[AlertEvent], durable: Callable[[], None] | None = None) -> None:
        for event in events:
            self.received(event)
            self.publish("alert", json.dumps(alert_event_to_dict(event), separators=(",", ":")))
        if durable is not None:
            durable()

    async def run(self) -> None:
        last = -1
        while True:
            await asyncio.sleep(1.0)
            changed = self._changes() if self._changes is not None else 0
            if changed != last:
                last = changed
                self.publish("vessels", json.dumps({"changed": changed, "at": iso_utc(datetime.now(UTC))}))

    @contextlib.contextmanager
    def client(self) -> Any:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._clients.add(queue)
        try:
            yield queue
        finally:
            self._clients.discard(queue)

    @property
    def clients(self) -> int:
        return len(self._clients)
