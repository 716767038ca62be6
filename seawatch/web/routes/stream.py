"""Server-sent events to every open page: the alert sink that fills the stream, and ``/api/stream``.

:class:`Hub` is the SSE channel of the alert-sink port: the runtime adds it to its sinks and runs
its task; the route drains one queue per open page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from seawatch.core.alerts import AlertEvent
from seawatch.core.serialize import alert_event_to_dict, iso_utc
from seawatch.web.access import Reader
from seawatch.web.routes.received import ReceivedTimes

router = APIRouter()


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


class Hub:
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


@router.get(
    "/api/stream",
    response_class=EventStreamResponse,
    summary="Server-sent events: alert events and vessel changes",
    responses={200: {"description": "`event: alert` (data: an alert event, JSON) and `event: vessels`."}},
)
async def stream(live: Reader, request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        with live.hub.client() as queue:
            yield ": connected\n\n"
            while True:
                try:
                    event, data = await asyncio.wait_for(queue.get(), timeout=15.0)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event}\ndata: {data}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
