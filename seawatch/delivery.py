"""Where alert events go once the watch raised them: store, outbox, partners, MQTT topic.

:meth:`AlertDelivery.handle` runs inside ingest (the MQTT receive callback), before
the AIS message that caused the events is acknowledged to the broker. It writes the
events and every partner's outbox row in one transaction, so an event is durable
before its cause is acknowledged, and a crash after that loses nothing: the outbox
is delivered from the store, on this run or the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from seawatch.adapters.mqtt import AlertPublisher
from seawatch.adapters.spool import EventSpool, SpoolError
from seawatch.adapters.store import AlertStore, OutboxItem
from seawatch.adapters.webhooks import Endpoint, WebhookDispatcher
from seawatch.config import Partner, Settings
from seawatch.core.alerts import AlertEvent
from seawatch.core.cap import to_cap
from seawatch.core.serialize import alert_event_json
from seawatch.core.subscriptions import Subscription

log = logging.getLogger(__name__)

_MAX_HELD = 100_000  # events kept in memory while the store is unreachable
_PURGE_EVERY_S = 3600.0  # delivered rows age by days: an hourly trim keeps the outbox small
_PURGE_BATCH = 2000  # rows per purge transaction, so ingest's writes are never held up for long


def subscription_of(partner: Partner) -> Subscription:
    return Subscription(
        name=partner.name,
        kinds=frozenset(partner.kinds),
        min_severity=partner.min_severity,
        zones=frozenset(partner.zones),
        include_tests=partner.include_tests,
    )


def endpoint_of(partner: Partner) -> Endpoint:
    secrets = [partner.secret.get_secret_value()]
    if partner.previous_secret is not None:
        secrets.append(partner.previous_secret.get_secret_value())
    return Endpoint(
        name=partner.name,
        url=partner.url,
        secrets=tuple(secrets),
        fmt=partner.format,
        max_concurrency=partner.max_concurrency,
        max_age_s=partner.max_age_s,
        timeout_s=partner.timeout_s,
    )


class AlertDelivery:
    """The alert sink of a running service: durable store + webhook outbox + alert topic."""

    def __init__(self, settings: Settings, store: AlertStore | None = None) -> None:
        self.settings = settings
        self.store = store or AlertStore(settings.store_url)
        self.partners = list(settings.partners)
        self.subscriptions = [(subscription_of(p), p.format) for p in self.partners]
        self.dispatcher = WebhookDispatcher(
            self.store,
            [endpoint_of(p) for p in self.partners],
            retry_min_s=settings.webhook_retry_min_s,
            retry_max_s=settings.webhook_retry_max_s,
        )
        prefix = settings.alerts_topic_prefix
        self.publisher = AlertPublisher(settings, prefix) if prefix else None
        self._held: list[AlertEvent] = []  # events whose store write failed, retried with the next ones
        self.store_errors = 0
        self.spool_errors = 0
        self.recorded = 0
        self._spooled = 0  # events appended to the spool since it was last emptied
        self._unspooled: list[AlertEvent] = []  # refused by the store and by the spool: memory only
        self.spool = EventSpool(settings.store_spool_file) if settings.store_spool_file is not None else None
        self._drain_spool()  # what an earlier run left goes into the store before anything reads it

    def outbox_items(self, event: AlertEvent, body_json: str) -> list[OutboxItem]:
        items: list[OutboxItem] = []
        for subscription, fmt in self.subscriptions:
            if not subscription.wants(event):
                continue
            body = body_json if fmt == "json" else to_cap(event, sender=self.settings.cap_sender)
            items.append(OutboxItem(subscription.name, event.id, event.sequence, event.kind.value, fmt, body))
        return items

    def _record(self, batch: Sequence[AlertEvent], bodies: dict[int, str]) -> bool:
        """One transaction: the events and every partner's outbox rows. False if the store refused."""
        items = [item for e in batch for item in self.outbox_items(e, bodies[id(e)])]
        try:
            self.store.record(batch, items, datetime.now(UTC))
        except Exception:
            self.store_errors += 1
            log.exception("alert store write of %d alert event(s) failed", len(batch))
            return False
        return True

    def handle(self, events: Sequence[AlertEvent]) -> None:
        """Record events and their deliveries in one transaction; then wake the senders."""
        batch = [*self._held, *events]
        bodies = {id(e): alert_event_json(e) for e in batch}
        if not self._record(batch, bodies):
            self._hold(batch, events)
            return
        self._held = []
        self._unspooled = []  # they were in the batch just stored (or beyond the memory cap)
        if self._spooled:
            self._drain_spool()
        self.recorded += len(batch)
        self.dispatcher.notify()
        if self.publisher is not None:
            for e in batch:
                self.publisher.put(e.kind.value, bodies[id(e)].encode())

    def _drain_spool(self) -> None:
        """The store is back: put everything in the spool file into it, then empty the file.

        The file, not memory, is the full list (memory keeps only the newest events during a
        long outage); events already stored are skipped by the store.
        """
        if self.spool is None:
            return
        left = self.spool.load()
        if self.spool.unreadable:
            self._spooled = 0  # logged by load; the file stays for a person to look at
            return
        if left:
            log.warning("storing %d alert event(s) from the spool %s", len(left), self.spool.path)
        if left and not self._record(left, {id(e): alert_event_json(e) for e in left}):
            log.error("the %d spooled alert event(s) stay in %s until the store takes them", len(left), self.spool.path)
            self._spooled = len(left)
            return
        self.recorded += len(left)
        self.spool.clear()
        self._spooled = 0
        if left:
            self.dispatcher.notify()

    def _hold(self, batch: list[AlertEvent], new: Sequence[AlertEvent]) -> None:
        """Keep what the store refused: on disk first (the spool), in memory in any case."""
        self._held = batch[-_MAX_HELD:]
        if self.spool is not None:
            pending = [*self._unspooled, *new]  # what an earlier failed append could not write goes too
            try:
                self.spool.append(pending)
            except SpoolError as exc:
                self.spool_errors += 1
                self._unspooled = pending[-_MAX_HELD:]
                log.error(
                    "alert store write failed and %s: %d alert event(s) held IN MEMORY ONLY and retried; they are "
                    "lost if Seawatch stops before the store is back",
                    exc,
                    len(self._held),
                )
                return
            self._unspooled = []
            self._spooled += len(pending)
            log.error(
                "alert store write failed: %d alert event(s) wait in the spool %s and are retried with the next "
                "write and at the next start",
                self._spooled,
                self.spool.path,
            )
            return
        log.error(
            "alert store write failed: %d alert event(s) held IN MEMORY ONLY (no store_spool_file) and retried; "
            "they are lost if Seawatch stops before the store is back",
            len(self._held),
        )

    @property
    def waiting(self) -> int:
        """Alert events not yet in the store: in the spool, in memory, or both."""
        return max(len(self._held), self._spooled + len(self._unspooled))

    @property
    def held(self) -> list[AlertEvent]:
        """Events not yet in the store (it failed): they exist only in memory until the next write succeeds."""
        return self._held

    def retry_held(self) -> None:
        if self._held or self._spooled:
            self.handle([])

    async def purge_delivered_once(self, now: datetime) -> int:
        """Drop delivered outbox rows older than the retention, in short transactions.

        Each batch runs in a worker thread, with a pause for the event loop between batches:
        the loop also runs ingest, and a backlog of months must not hold it up.
        """
        keep_days = self.settings.outbox_keep_delivered_days
        if keep_days <= 0:
            return 0
        before = now - timedelta(days=keep_days)
        total = 0
        while (n := await asyncio.to_thread(self.store.purge_delivered, before, _PURGE_BATCH)) > 0:
            total += n
            if n < _PURGE_BATCH:
                break
            await asyncio.sleep(0.05)
        return total

    async def keep_outbox_trimmed(self, every_s: float = _PURGE_EVERY_S, first_after_s: float = 60.0) -> None:
        """The outbox is a queue, not an archive: purge what partners accepted long ago, hourly.

        Without it a service that runs for months grows its store by every delivery it ever
        made. The first purge waits until start-up is over. A failing purge is logged and tried
        again next time; it never stops the service.
        """
        await asyncio.sleep(first_after_s)
        while True:
            try:
                purged = await self.purge_delivered_once(datetime.now(UTC))
            except Exception:
                log.exception("purging delivered webhook rows failed; trying again in %.0f s", every_s)
            else:
                if purged:
                    log.info(
                        "purged %d delivered webhook row(s) older than %g days",
                        purged,
                        self.settings.outbox_keep_delivered_days,
                    )
            await asyncio.sleep(every_s)
