"""Wiring: sources -> pipeline -> figures, every task named and inside one TaskGroup.

``seawatch run`` is :func:`run_service` against the configured broker; ``seawatch
demo`` adds an embedded broker and a scripted feed around the very same service.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seawatch.adapters.files import merged_log_payloads
from seawatch.adapters.mqtt import MqttSource, SourceHealth, make_client, publish_qos1
from seawatch.config import Settings
from seawatch.core.alerts import AlertEvent, EventType, Severity
from seawatch.core.lines import line_time, parse_tag_block, strip_wrapping, tag_block
from seawatch.core.pipeline import Pipeline
from seawatch.core.serialize import alert_event_json
from seawatch.delivery import AlertDelivery
from seawatch.watchconfig import build_watch

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Figures:
    """A snapshot of the live figures an operator watches."""

    at: datetime
    vessels: int
    messages: int
    reports: int
    messages_per_s: float
    rejects: dict[str, int]
    duplicates: int
    connected: bool
    broker_dropped: int | None
    event_time: datetime | None
    alerts_open: int = 0
    alert_events: int = 0
    webhooks: str = ""
    extra: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        rejects = ", ".join(f"{k} {v}" for k, v in sorted(self.rejects.items())) or "none"
        dropped = "n/a" if self.broker_dropped is None else str(self.broker_dropped)
        link = "up" if self.connected else "DOWN"
        when = self.event_time.strftime("%Y-%m-%d %H:%M:%S") if self.event_time else "-"
        return (
            f"[{self.at:%H:%M:%S}] link {link} | vessels {self.vessels} | msgs {self.messages} "
            f"({self.messages_per_s:,.0f}/s) | reports {self.reports} | duplicates {self.duplicates} | "
            f"rejects: {rejects} | broker dropped {dropped} | alerts open {self.alerts_open} "
            f"({self.alert_events} events){self.webhooks} | event time {when}"
        )


@dataclass(slots=True)
class FeedFigures:
    """One MQTT topic's figures for the feed-health view: last message, recent rate, reject ratio."""

    messages: int = 0
    rejects: int = 0
    last_at: float | None = None  # time.monotonic() of the last message
    minutes: dict[int, int] = field(default_factory=dict)  # minute (monotonic // 60) -> messages

    def note(self, now: float, rejected: int) -> None:
        self.messages += 1
        self.rejects += rejected
        self.last_at = now
        minute = int(now // 60)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        if len(self.minutes) > 6:
            for old in [m for m in self.minutes if m < minute - 5]:
                del self.minutes[old]

    def view(self, now: float) -> dict[str, float | int | None]:
        minute = int(now // 60)
        recent = sum(n for m, n in self.minutes.items() if m >= minute - 5)
        return {
            "messages": self.messages,
            "last_message_age_s": None if self.last_at is None else round(now - self.last_at, 3),
            "rate_per_min_5m": round(recent / 5.0, 1),
            "reject_ratio": round(self.rejects / self.messages, 4) if self.messages else 0.0,
        }


_MAX_FEEDS = 1000  # topics tracked for the feed-health view (a wildcard can match many)

AlertSink = Callable[[AlertEvent], None]
"""Receives every alert event in order. Must not block: ingest waits while it runs."""


class Ingest:
    """The live ingest: an MQTT source feeding the pipeline (and its watch), with figures on demand."""

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline | None = None,
        sinks: Iterable[AlertSink] = (),
        delivery: AlertDelivery | None = None,
    ) -> None:
        self.settings = settings
        if pipeline is None:
            watch = build_watch(settings.zones_dir, settings.rules_file, settings.shore_distance)
            watch.tick_s = settings.watch_tick_s
            pipeline = Pipeline(settings.pipeline_options(), watch)
        self.pipeline = pipeline
        self.sinks: list[AlertSink] = list(sinks)
        self.delivery = delivery
        if delivery is not None and pipeline.watch is not None:
            restored = pipeline.watch.book.restore(delivery.store.open_alerts())
            if restored:
                log.info("restored %d open alert(s) from the store", restored)
        self.health = SourceHealth(name=f"mqtt {settings.mqtt_url}")
        self.source = MqttSource(settings, self._on_payload, self.health)
        self.alert_events = 0
        self.feeds: dict[str, FeedFigures] = {}
        self._last_count = 0
        self._last_time = time.monotonic()
        self.last_arrival = time.monotonic()

    def _on_payload(self, payload: bytes, received_at: datetime, topic: str) -> None:
        now = self.last_arrival = time.monotonic()
        rejects = self.pipeline.decoder.stats.rejects
        before = rejects.total()
        self.pipeline.feed_payload(payload, received_at, topic)
        feed = self.feeds.get(topic)
        if feed is None:
            if len(self.feeds) >= _MAX_FEEDS:
                self.feeds.pop(next(iter(self.feeds)))
            feed = self.feeds[topic] = FeedFigures()
        feed.note(now, rejects.total() - before)
        if self.pipeline.events:
            self.dispatch()

    def dispatch(self) -> None:
        """Hand the pipeline's new alert events to the store (durably, first) and to every sink.

        A failing sink is logged, never fatal.
        """
        events = self.pipeline.take_events()
        if self.delivery is not None:
            self.delivery.handle(events)
        for event in events:
            self.alert_events += 1
            for sink in self.sinks:
                try:
                    sink(event)
                except Exception:
                    log.exception("alert sink %r failed on %s", sink, event.id)

    def _webhook_figures(self) -> str:
        if self.delivery is None or not self.delivery.partners:
            return ""
        parts = []
        for name, f in self.delivery.dispatcher.figures.partners.items():
            state = " DISABLED" if f.disabled else ""
            parts.append(f"{name} {f.delivered} ok/{f.failed_attempts} failed/{f.dead} dead{state}")
        return " | webhooks " + ", ".join(parts)

    def tick_if_idle(self, idle_after_s: float) -> None:
        """With no message for a while, let event time run on the wall clock (dark vessels, outages)."""
        now = self.pipeline.now
        quiet_s = time.monotonic() - self.last_arrival
        if now is None or quiet_s < idle_after_s:
            return
        self.pipeline.tick(now + timedelta(seconds=quiet_s))
        if self.pipeline.events:
            self.dispatch()

    def figures(self) -> Figures:
        now = time.monotonic()
        stats = self.pipeline.decoder.stats
        count = self.health.messages
        rate = (count - self._last_count) / max(now - self._last_time, 1e-9)
        self._last_count, self._last_time = count, now
        return Figures(
            at=datetime.now(UTC),
            vessels=len(self.pipeline.fleet),
            messages=count,
            reports=stats.reports,
            messages_per_s=rate,
            rejects=dict(Counter(stats.rejects)),
            duplicates=self.pipeline.fleet.stats.duplicates,
            connected=self.health.connected,
            broker_dropped=self.health.broker_dropped,
            event_time=self.pipeline.now,
            alerts_open=sum(1 for _ in self.pipeline.watch.book) if self.pipeline.watch else 0,
            alert_events=self.alert_events,
            webhooks=self._webhook_figures(),
            extra={"handler_errors": self.health.handler_errors},
        )


async def report_figures(ingest: Ingest, interval_s: float, show: Callable[[Figures], None]) -> None:
    while True:
        await asyncio.sleep(interval_s)
        show(ingest.figures())


async def tick_when_idle(ingest: Ingest, interval_s: float, idle_after_s: float = 30.0) -> None:
    """Time-driven checks while the feed is silent: a dead feed must still raise its outage."""
    while True:
        await asyncio.sleep(interval_s)
        ingest.tick_if_idle(idle_after_s)
        if ingest.delivery is not None:
            ingest.delivery.retry_held()


class JsonLinesSink:
    """Alert events appended to a file, one JSON object a line (``seawatch run --alerts-out``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8", newline="\n")

    def __call__(self, event: AlertEvent) -> None:
        self._file.write(alert_event_json(event))
        self._file.write("\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def log_sink(event: AlertEvent) -> None:
    """Opened and escalated alerts in the service log, so an operator at a terminal sees them."""
    if event.event is EventType.OPENED or event.severity is Severity.CRITICAL:
        level = logging.WARNING if event.severity in (Severity.CRITICAL, Severity.HIGH) else logging.INFO
        log.log(level, "%s %s [%s]: %s", event.event.value, event.kind.value, event.severity.value, event.summary)


async def run_service(
    settings: Settings,
    show: Callable[[Figures], None] | None = None,
    *,
    ingest: Ingest | None = None,
) -> None:
    """The service: ingest from the configured broker until cancelled."""
    ingest = ingest or Ingest(settings)
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(ingest.source.run(), name="mqtt-source")
        tasks.create_task(tick_when_idle(ingest, settings.watch_tick_s), name="idle-ticks")
        if ingest.delivery is not None:
            tasks.create_task(ingest.delivery.dispatcher.run(), name="webhooks")
            tasks.create_task(ingest.delivery.keep_outbox_trimmed(), name="outbox-retention")
            if ingest.delivery.publisher is not None:
                tasks.create_task(ingest.delivery.publisher.run(), name="alert-topic")
        if show is not None:
            tasks.create_task(report_figures(ingest, settings.stats_interval_s, show), name="figures")


def _span(paths: Sequence[Path]) -> tuple[datetime | None, datetime | None]:
    first: datetime | None = None
    last: datetime | None = None
    for _, when in merged_log_payloads(paths):
        if when is not None:
            first = when if first is None or when < first else first
            last = when if last is None or when > last else last
    return first, last


async def publish_log(
    settings: Settings,
    paths: Path | Sequence[Path],
    topic: str,
    *,
    speed: float = 1.0,
    loop: bool = False,
    untimed_rate_per_s: float = 100.0,
    live_times: bool = False,
    station_prefix: str = "",
) -> int:
    """Publish recordings line by line at QoS 1, merged in event time, paced by event time / ``speed``.

    Lines without a time of their own are paced at ``untimed_rate_per_s``. With
    ``loop`` the recordings start again when they end, later in event time, so fleet
    state never goes back. With ``live_times`` every line is re-stamped so its event
    time runs ``speed`` times faster than the wall clock and reaches *now* as each lap
    ends: detectors see the recording's real durations, and no time is ever ahead of
    its arrival (the decoder distrusts times from the future). ``station_prefix``
    re-labels every line's receiver (``drill:`` for drills) and leaves untimed lines
    out, since they could not carry the label. Returns the payloads sent.
    """
    files = [paths] if isinstance(paths, Path) else list(paths)
    sent = 0
    shift = timedelta(0)
    first_time, last_time = _span(files)
    span = (last_time - first_time) if first_time and last_time else timedelta(0)
    client = make_client(settings, identifier=f"seawatch-feed-{uuid.uuid4().hex[:12]}", clean_session=True)
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
                shift += span + timedelta(seconds=settings.duplicate_window_s + 1)


async def publish_lines(settings: Settings, lines: Sequence[bytes], topic: str, *, speed: float = 1.0) -> int:
    """Publish prepared lines at QoS 1, paced by their tag-block times scaled by ``speed`` (drills)."""
    items = [(line, line_time(line)) for line in lines]
    first = min((when for _, when in items if when is not None), default=None)
    client = make_client(settings, identifier=f"seawatch-drill-{uuid.uuid4().hex[:12]}", clean_session=True)
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
