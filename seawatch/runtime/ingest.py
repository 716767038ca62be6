"""Live ingest: MQTT payloads through the pipeline, alert events out to every sink, figures on demand."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from seawatch.adapters.acks import AckLedger, Receipt
from seawatch.adapters.mqtt import MqttOptions, MqttSource
from seawatch.adapters.sink import AlertSink
from seawatch.core.alerts import AlertEvent
from seawatch.core.commands import COMMAND_TOPIC, RESERVED_PREFIX, TICK_TOPIC, Command, command_to_bytes, tick_to_bytes
from seawatch.core.model import RejectReason
from seawatch.core.pipeline import Pipeline

if TYPE_CHECKING:
    from seawatch.runtime.state import StateKeeper

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestFigures:
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


class Fanout:
    """Alert events to every sink, in order; no sink can stop another or ingest.

    ``durable`` sinks (the store) take a hold on the receipt of the message behind the
    events, so that message is acknowledged only once they are durable; the others
    are best effort and never hold anything back.
    """

    def __init__(self, sinks: Sequence[AlertSink] = (), durable: Sequence[AlertSink] = ()) -> None:
        self.durable = list(durable)
        self.others = list(sinks)

    @property
    def sinks(self) -> list[AlertSink]:
        return [*self.durable, *self.others]

    def submit(
        self, events: Sequence[AlertEvent], receipt: Receipt | None = None, *, journal_first: bool = False
    ) -> None:
        """``journal_first``: the events come from a record the broker cannot send again (a tick, an
        operator's action); the durable sinks write them only once the journal holds it."""
        for sink in self.durable:
            if journal_first and (after_journal := getattr(sink, "after_journal", None)) is not None:
                after_journal()
            release = receipt.hold() if receipt is not None else None
            try:
                sink.submit(events, release)
            except Exception:  # noqa: BLE001 - one broken sink must not stop ingest or the others
                if release is not None:
                    release()
                self._failed(sink)
        for sink in self.others:
            try:
                sink.submit(events)
            except Exception:  # noqa: BLE001 - as above
                self._failed(sink)

    @staticmethod
    def _failed(sink: AlertSink) -> None:
        log.exception("alert sink %s refused events", sink.name)


class Ingest:
    """The live ingest: an MQTT source feeding the pipeline (and its watch); events go to the fan-out."""

    def __init__(
        self,
        pipeline: Pipeline,
        source: MqttOptions,
        fanout: Fanout | None = None,
        state: StateKeeper | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.state = state  # journals each message before the pipeline sees it, and numbers it for snapshots
        self.fanout = fanout or Fanout()
        self.source = MqttSource(source, self._on_payload, gate=gate)
        self.health = self.source.health
        self.alert_events = 0
        self.feeds: dict[str, FeedFigures] = {}
        self._last_count = 0
        self._last_time = time.monotonic()
        self.last_arrival = time.monotonic()

    def _on_payload(self, payload: bytes, received_at: datetime, topic: str, receipt: Receipt) -> None:
        now = self.last_arrival = time.monotonic()
        if topic.startswith(RESERVED_PREFIX):  # the journal's own topics (actions, ticks): never from a feed
            self.pipeline.decoder.stats.rejects[RejectReason.BAD_COMMAND] += 1
            return
        state = self.state
        if state is not None:
            if state.redeliveries.seen(topic, payload, self.source.redelivered):
                return  # journalled and fed before a restart; the broker sent it again: acknowledged only
            state.journal_message(payload, received_at, topic, receipt)
        rejects = self.pipeline.decoder.stats.rejects
        before = rejects.total()
        fed = self.pipeline.feed_payload(payload, received_at, topic)
        feed = self.feeds.get(topic)
        if feed is None:
            if len(self.feeds) >= _MAX_FEEDS:
                self.feeds.pop(next(iter(self.feeds)))
            feed = self.feeds[topic] = FeedFigures()
        feed.note(now, rejects.total() - before)
        if fed.events:
            self.dispatch(fed.events, receipt)

    def dispatch(
        self, events: Sequence[AlertEvent], receipt: Receipt | None = None, *, journal_first: bool = False
    ) -> None:
        """Hand alert events to every sink (the store holding ``receipt`` until they are durable)."""
        if events:
            self.alert_events += len(events)
            self.fanout.submit(events, receipt, journal_first=journal_first)

    async def command(self, command: Command, durable_within_s: float = 10.0) -> AlertEvent | None:
        """An operator's action: into the core, its event the way detector events go, answered once stored.

        The operator's answer waits for the store as an MQTT message's acknowledgement does
        (the same ledger), so what the API then shows of the alert's history includes it;
        after ``durable_within_s`` it is answered anyway (the event waits in the store's queue).
        """
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def answer() -> None:
            if not stored.done():
                stored.set_result(None)

        ledger = AckLedger()
        receipt = ledger.accept(answer)
        if self.state is not None:
            # In the journal, in its place among the messages: a restart replays it after them,
            # as it happened, and the answer waits for the journal as for the store.
            self.state.journal_message(command_to_bytes(command), command.at, COMMAND_TOPIC, receipt)
        event = self.pipeline.command(command)
        if event is None:
            ledger.release(receipt)
            return None
        self.dispatch([event], receipt, journal_first=True)
        ledger.release(receipt)
        try:
            await asyncio.wait_for(stored, timeout=durable_within_s)
        except TimeoutError:
            log.warning("operator action on %s answered before the store took it", event.id)
        return event

    def tick_if_idle(self, idle_after_s: float) -> None:
        """With no message for a while, let event time run on the wall clock (dark vessels, outages)."""
        now = self.pipeline.now
        quiet_s = time.monotonic() - self.last_arrival
        if now is None or quiet_s < idle_after_s:
            return
        at = now + timedelta(seconds=quiet_s)
        if self.state is not None:
            # journalled in its place: a restart, a standby and a replay run the same check
            self.state.journal_message(tick_to_bytes(at), datetime.now(UTC), TICK_TOPIC, None)
        self.dispatch(self.pipeline.tick(at), journal_first=True)

    def finish(self) -> None:
        """End of input: the last time-driven checks at the last event time, their events to the sinks."""
        self.dispatch(self.pipeline.finish())

    def figures(self, webhooks: str = "") -> IngestFigures:
        now = time.monotonic()
        stats = self.pipeline.decoder.stats
        count = self.health.messages
        rate = (count - self._last_count) / max(now - self._last_time, 1e-9)
        self._last_count, self._last_time = count, now
        return IngestFigures(
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
            alerts_open=len(self.pipeline.watch.book) if self.pipeline.watch else 0,
            alert_events=self.alert_events,
            webhooks=webhooks,
            extra={"handler_errors": self.health.handler_errors},
        )
