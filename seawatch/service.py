"""Feeding a broker: recordings and drill lines published in scaled event time (demo, drills, training).

The service itself is built and run by :mod:`seawatch.runtime`; this module only
publishes, so that ``seawatch demo``, ``seawatch drill`` and ``seawatch replay
--publish`` drive a live instance through the very broker it listens to.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seawatch.adapters.files import merged_log_payloads
from seawatch.adapters.mqtt import MqttOptions, make_client, publish_qos1
from seawatch.core.lines import line_time, parse_tag_block, strip_wrapping, tag_block


def _span(paths: Sequence[Path]) -> tuple[datetime | None, datetime | None]:
    first: datetime | None = None
    last: datetime | None = None
    for _, when in merged_log_payloads(paths):
        if when is not None:
            first = when if first is None or when < first else first
            last = when if last is None or when > last else last
    return first, last


async def publish_log(
    mqtt: MqttOptions,
    paths: Path | Sequence[Path],
    topic: str,
    *,
    speed: float = 1.0,
    loop: bool = False,
    untimed_rate_per_s: float = 100.0,
    live_times: bool = False,
    station_prefix: str = "",
    duplicate_window_s: float = 30.0,
) -> int:
    """Publish recordings line by line at QoS 1, merged in event time, paced by event time / ``speed``.

    Lines without a time of their own are paced at ``untimed_rate_per_s``. With
    ``loop`` the recordings start again when they end, later in event time, so fleet
    state never goes back. With ``live_times`` every line is re-stamped so its event
    time runs ``speed`` times faster than the wall clock and reaches *now* as each lap
    ends: detectors see the recording's real durations, and no time is ever ahead of
    its arrival (the decoder distrusts times from the future). ``station_prefix``
    re-labels every line's receiver (``drill:`` for drills) and leaves untimed lines
    out, since they could not carry the label. Laps of a loop are moved apart by more than
    the receiver's ``duplicate_window_s``. Returns the payloads sent.
    """
    files = [paths] if isinstance(paths, Path) else list(paths)
    sent = 0
    shift = timedelta(0)
    first_time, last_time = _span(files)
    span = (last_time - first_time) if first_time and last_time else timedelta(0)
    client = make_client(mqtt, identifier=f"seawatch-feed-{uuid.uuid4().hex[:12]}", clean_session=True)
    async with client:
        while True:
            if live_times and first_time is not None:
                lap_end = datetime.now(UTC) + span / max(speed, 1.0)  # slower than real time: start at now
                shift = lap_end - span - first_time

            def rewrite(payload: bytes, when: datetime | None, shift: timedelta = shift) -> bytes | None:
                if when is None:
                    return None if station_prefix else payload
                if not shift and not station_prefix:
                    return payload
                return _retime(payload, when + shift, station_prefix)

            payloads = merged_log_payloads(files)
            sent += await _send_paced(client, topic, payloads, speed, first_time, untimed_rate_per_s, rewrite)
            if not loop:
                return sent
            if not live_times:
                # Move the next lap past the duplicate window, so repeated lines count as new.
                shift += span + timedelta(seconds=duplicate_window_s + 1)


async def publish_lines(mqtt: MqttOptions, lines: Sequence[bytes], topic: str, *, speed: float = 1.0) -> int:
    """Publish prepared lines at QoS 1, paced by their tag-block times scaled by ``speed`` (drills)."""
    items = [(line, line_time(line)) for line in lines]
    first = min((when for _, when in items if when is not None), default=None)
    client = make_client(mqtt, identifier=f"seawatch-drill-{uuid.uuid4().hex[:12]}", clean_session=True)
    async with client:
        return await _send_paced(client, topic, items, speed, first)


async def _send_paced(
    client: Any,
    topic: str,
    items: Iterable[tuple[bytes, datetime | None]],
    speed: float,
    first: datetime | None,
    untimed_rate_per_s: float = 100.0,
    rewrite: Callable[[bytes, datetime | None], bytes | None] | None = None,
) -> int:
    """The one pacing loop: each payload goes out at (its event time - ``first``) / ``speed`` after the start."""
    started = time.monotonic()
    untimed = sent = 0
    for payload, when in items:
        if when is not None and first is not None:
            due = (when - first).total_seconds() / speed
        else:
            untimed += 1
            due = untimed / untimed_rate_per_s
        delay = due - (time.monotonic() - started)
        if delay > 0:
            await asyncio.sleep(delay)
        out = payload if rewrite is None else rewrite(payload, when)
        if out is None:
            continue
        await publish_qos1(client, topic, out)
        sent += 1
    return sent


def _retime(payload: bytes, when: datetime, station_prefix: str = "") -> bytes:
    """Put a line at a new event time with an NMEA 4 tag block (keeping its receiver, ``s:``, prefixed)."""
    out = []
    for raw in payload.split(b"\n"):
        if raw.startswith(b"$PGHP"):
            continue
        line = raw.strip()
        station = ""
        if line[:1] == b"\\":
            end = line.find(b"\\", 1)
            station = parse_tag_block(line[1:end]).source
            line = line[end + 1 :]
        line = strip_wrapping(line)[0]
        label = f"{station_prefix}{station or ('log' if station_prefix else '')}"
        out.append(tag_block((f"s:{label}," if label else "") + f"c:{int(when.timestamp())}") + line)
    return b"\n".join(out)


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it to end; an error it ended with propagates."""
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
