"""The alert store as a sink: events and every partner's outbox rows, durably, in one transaction.

:class:`AlertDelivery` is the durable channel of the alert-sink port
(:mod:`seawatch.adapters.sink`). Ingest submits events without waiting; the sink's own
task writes them in a worker thread (never on the event loop), each batch together
with every subscribed partner's outbox row (JSON or CAP) in one transaction, and only
then lets the MQTT message behind them be acknowledged. A crash after that loses
nothing: the outbox is delivered from the store by the webhook dispatcher, on this run
or the next, and the dispatcher is woken as soon as a batch is in.

If the store refuses a write, the events go to the spool file (fsynced) or, failing
that, stay in memory, and the message is acknowledged all the same: holding the feed
back would blind the watch. They are written with the next batch, or by the sink's
own retry while the feed is quiet.

The store may be away at start too: the service then starts without it (one line says
so), and :meth:`AlertDelivery.watch_store` pings it until it answers. That probe is also
what ``/healthz`` reads (``store``): health never waits on the database itself, so it
answers at once during an outage. When the store comes back, what waits is written at
once and the webhook dispatcher is woken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.singleflight import SingleFlight
from seawatch.adapters.sink import QueuedSink, describe_error
from seawatch.adapters.spool import EventSpool, SpoolError
from seawatch.adapters.store import AlertStore, OutboxItem, StoreError
from seawatch.adapters.webhooks import WebhookDispatcher
from seawatch.core.alerts import AlertEvent
from seawatch.core.cap import to_cap
from seawatch.core.serialize import alert_event_json
from seawatch.core.subscriptions import Subscription

log = logging.getLogger(__name__)

_MAX_HELD = 100_000  # events kept in memory while the store is unreachable
_PURGE_EVERY_S = 3600.0  # delivered rows age by days: an hourly trim keeps the outbox small
_PURGE_BATCH = 2000  # rows per purge transaction, so ingest's writes are never held up for long
_RETRY_EVERY_S = 10.0  # held events are tried again this often while no new ones come
_PROBE_EVERY_S = 2.0  # how often the store is pinged: health knows of an outage within this
_PROBE_TIMEOUT_S = 5.0  # a ping without an answer by then counts as a failure


@dataclass(slots=True)
class StoreHealth:
    """What the service knows of its store, from pings and writes (health never asks the database itself)."""

    up: bool = False  # the last ping or write succeeded
    checked_at: datetime | None = None
    failing_since: datetime | None = None  # the first failure since it was last up (or since start)
    last_error: str | None = None
    outages: int = 0  # times it went from up to failing

    def succeeded(self) -> bool:
        """Note a success; True if the store was not up before (it came back, or answered for the first time)."""
        came_back = not self.up
        self.up = True
        self.checked_at = datetime.now(UTC)
        self.failing_since = None
        return came_back

    def failed(self, error: str) -> None:
        now = datetime.now(UTC)
        if self.up:
            self.outages += 1
        if self.up or self.failing_since is None:
            self.failing_since = now
        self.up = False
        self.checked_at = now
        self.last_error = error

    def view(self) -> dict[str, object]:
        return {
            "up": self.up,
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
            "failing_since": None if self.failing_since is None else self.failing_since.isoformat(),
            "last_error": self.last_error,
            "outages": self.outages,
        }


class AlertDelivery(QueuedSink):
    """The alert sink of a running service: durable store + webhook outbox (the dispatcher delivers it)."""

    def __init__(
        self,
        store: AlertStore,
        dispatcher: WebhookDispatcher,
        subscriptions: Sequence[tuple[Subscription, str]] = (),
        *,
        spool: EventSpool | None = None,
        cap_sender: str = "seawatch",
        keep_delivered_days: float = 30.0,
        retry_every_s: float = _RETRY_EVERY_S,
        name: str = "store",
    ) -> None:
        super().__init__(name, max_queued=_MAX_HELD, max_batch=2000)
        self.store = store
        self.dispatcher = dispatcher
        self.subscriptions = list(subscriptions)  # (partner's filter, body format "json" | "cap")
        self.cap_sender = cap_sender
        self.keep_delivered_days = keep_delivered_days
        self.retry_every_s = retry_every_s
        self.journal_position: Callable[[], int] | None = None
        """The journal's numbering of the next record (set by the composition root with a journal)."""
        self.journal_durable: Callable[[int], Awaitable[object]] | None = None
        """Waits until every record below the number given is journalled."""
        self._raised_before = 0  # every event submitted so far was raised by a record below this number
        self._held: list[AlertEvent] = []  # events whose store write failed, retried with the next ones
        self.store_errors = 0
        self.spool_errors = 0
        self._spooled = 0  # events appended to the spool since it was last emptied
        self._unspooled: list[AlertEvent] = []  # refused by the store and by the spool: memory only
        self.spool = spool
        self.health = StoreHealth()
        self._writing = asyncio.Lock()
        self._probing: SingleFlight[None] = SingleFlight()  # never two pings at once
        self._when_up: list[Callable[[AlertStore], None]] = []
        if store.ready:
            self.health.succeeded()
            self._drain_spool()  # what an earlier run left goes into the store before anything reads it
        elif self.spool is not None:
            self._spooled = len(self.spool.load())  # stored once the store answers; counted as waiting now

    def when_up(self, action: Callable[[AlertStore], None]) -> None:
        """Run ``action`` (on the event loop) once the store answers: now if it does, else when it first does.

        For what a start does with the store (bring back its open alerts) when the service
        had to start without it.
        """
        if self.store.ready:
            action(self.store)
        else:
            self._when_up.append(action)

    def outbox_items(self, event: AlertEvent) -> list[OutboxItem]:
        """One row per partner that wants the event, its body in the partner's format (each made once)."""
        items: list[OutboxItem] = []
        bodies: dict[str, str] = {}
        for subscription, fmt in self.subscriptions:
            if not subscription.wants(event):
                continue
            if fmt not in bodies:
                bodies[fmt] = alert_event_json(event) if fmt == "json" else to_cap(event, sender=self.cap_sender)
            items.append(OutboxItem(subscription.name, event.id, event.sequence, event.kind.value, fmt, bodies[fmt]))
        return items

    def _record(self, batch: Sequence[AlertEvent]) -> bool:
        """One transaction: the events and every partner's outbox rows. False if the store refused."""
        if not batch:
            return True
        items = [item for e in batch for item in self.outbox_items(e)]
        try:
            self.store.record(batch, items, datetime.now(UTC))
        except Exception as exc:
            self.store_errors += 1
            # Why, once per outage (with the traceback if it looks like a bug rather than an
            # outage); while it lasts, _hold's one line per batch says where the events wait.
            first = self.health.up or self.health.last_error is None
            self.health.failed(self.store.unreachable(exc))
            log.log(
                logging.ERROR if first else logging.DEBUG,
                "alert store write of %d alert event(s) failed: %s",
                len(batch),
                self.health.last_error,
                exc_info=exc if first and not isinstance(exc, (StoreError, SQLAlchemyError)) else None,
            )
            return False
        self.health.succeeded()
        return True

    def handle(self, events: Sequence[AlertEvent]) -> None:
        """Record events and their deliveries in one transaction, then wake the senders (on the loop's thread)."""
        if self.write(events):
            self.dispatcher.notify()

    def after_journal(self) -> None:
        """The events submitted next were raised by a record the broker cannot send again (a silent-feed
        check, an operator's action): they are written only once the journal holds it."""
        if self.journal_position is not None:
            self._raised_before = self.journal_position()

    async def deliver(self, events: list[AlertEvent]) -> None:
        if events and self.journal_durable is not None:
            # A tick or an operator's action (which the broker cannot send again) must never be
            # in the store and missing from the journal a restart or a takeover starts from. An
            # MQTT message needs no wait: unjournalled, it is unacknowledged, and comes again.
            await self.journal_durable(self._raised_before)
        async with self._writing:  # one write at a time: the held events and the spool are shared state
            stored = await asyncio.to_thread(self.write, events)
        if stored:
            self.dispatcher.notify()

    async def run(self) -> None:
        """Write what is submitted; while nothing comes, retry what the store refused every ``retry_every_s``."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(super().run(), name=f"{self.name}-writer")
            while True:
                await asyncio.sleep(self.retry_every_s)
                if self.waiting and not self.figures.queued and self.store.ready:
                    await self.deliver([])

    async def watch_store(self, every_s: float = _PROBE_EVERY_S, timeout_s: float = _PROBE_TIMEOUT_S) -> None:
        """Ping the store every ``every_s``: keeps :attr:`health` current and acts when the store comes back.

        A ping runs in a worker thread; one that has not answered within ``timeout_s`` counts
        as a failure, and no second ping starts while it hangs (a database behind a dead link
        can take its connect timeout to fail). When the store answers after an outage (or
        for the first time), the actions of :meth:`when_up` run, what waits is written, and
        the webhook dispatcher is woken.
        """
        while True:
            await self.probe(timeout_s)
            await asyncio.sleep(every_s)

    async def probe(self, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
        """One ping (see :meth:`watch_store`); True if the store answered."""
        try:
            await self._probing.call(self.store.ping, timeout_s)
        except TimeoutError:
            self._store_failed(f"the alert store at {self.store.url} did not answer within {timeout_s:g} s")
            return False
        except Exception as exc:  # noqa: BLE001 - any failure to reach the store is an outage to show
            self._store_failed(self.store.unreachable(exc) if isinstance(exc, StoreError) else describe_error(exc))
            return False
        if self.health.succeeded():
            await self._store_is_back()
        return True

    def _store_failed(self, error: str) -> None:
        was_up = self.health.up
        self.health.failed(error)
        if was_up:
            log.error("alert store unreachable: %s; alert events are spooled until it is back", error)

    async def _store_is_back(self) -> None:
        actions, self._when_up = self._when_up, []
        for action in actions:
            try:
                action(self.store)
            except Exception:
                log.exception("start-up work with the alert store failed")
        if self.waiting:
            log.warning("alert store back at %s: writing %d waiting alert event(s)", self.store.url, self.waiting)
        else:
            log.info("alert store reachable at %s", self.store.url)
        await self.deliver([])  # the held events, then the spool file
        self.dispatcher.notify()

    def write(self, events: Sequence[AlertEvent]) -> bool:
        """Store events (and the held ones before them); True if anything new reached the outbox.

        Never raises for a store failure: the events are then spooled (or held in memory).
        """
        batch = [*self._held, *events]
        if not batch and not self._spooled:
            return False
        if not self._record(batch):
            self._hold(batch, events)
            return False
        self._held = []
        self._unspooled = []  # they were in the batch just stored (or beyond the memory cap)
        if self._spooled:
            self._drain_spool()
        return True

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
        if left and not self._record(left):
            log.error("the %d spooled alert event(s) stay in %s until the store takes them", len(left), self.spool.path)
            self._spooled = len(left)
            return
        self.spool.clear()
        self._spooled = 0

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

    async def all_stored(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until every event submitted so far is in the store, not queued or held."""
        if self.waiting:  # held for a store that is away: no use waiting (a stop must not hang on it)
            return False
        # those submitted until now, not the queue emptying: under a steady stream of events it may never
        target = self.figures.submitted
        deadline = time.monotonic() + timeout_s
        while self.figures.delivered + self.figures.dropped < target:
            if self.waiting or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return self.waiting == 0

    @property
    def held(self) -> list[AlertEvent]:
        """Events not yet in the store (it failed): they exist only in memory until the next write succeeds."""
        return self._held

    async def purge_delivered_once(self, now: datetime) -> int:
        """Drop delivered outbox rows older than the retention, in short transactions.

        Each batch runs in a worker thread, with a pause for the event loop between batches:
        the loop also runs ingest, and a backlog of months must not hold it up.
        """
        keep_days = self.keep_delivered_days
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
                        self.keep_delivered_days,
                    )
            await asyncio.sleep(every_s)
