"""``/api/stream``: server-sent events to every open page.

The events come from the SSE alert sink, :class:`seawatch.web.pagestream.PageStream`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from seawatch.web.access import Reader

router = APIRouter()


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


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
