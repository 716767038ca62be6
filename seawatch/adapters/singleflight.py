"""One blocking call in a worker thread at a time, waited for at most a timeout.

Why: health and metrics ask the store (a ping, the outbox counts) from the event loop.
A database behind a dead link can take its whole connect timeout to fail; a caller must
not wait that long, and must not start a second call beside the one still hanging. The
call left running is awaited again by the next caller instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """``await flight.call(fn, timeout_s)``: ``fn()`` in a thread unless one is still running; TimeoutError after."""

    def __init__(self) -> None:
        self._running: asyncio.Future[T] | None = None

    async def call(self, fn: Callable[[], T], timeout_s: float) -> T:
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(asyncio.to_thread(fn))
        return await asyncio.wait_for(asyncio.shield(self._running), timeout=timeout_s)
