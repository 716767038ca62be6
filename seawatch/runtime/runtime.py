"""The running service: every task under one supervisor, started and stopped in one place.

Tasks (names as ``/healthz`` shows them under ``tasks``):

* ``mqtt-source`` — the MQTT source feeding ingest (policy: source);
* ``idle-ticks`` — time-driven checks while the feed is silent;
* ``journal`` — the feed journal's batch writer (with ``journal_dir``);
* ``snapshots`` — a snapshot of the core's state in the store now and then;
* ``sink-<name>`` — one per alert sink (``sink-store``, ``sink-log``, ``sink-sse``,
  ``sink-alert-topic``, ``sink-jsonl`` …);
* ``store-probe`` — pings the alert store, for health and to act when it comes back;
* ``webhooks`` and ``outbox-retention`` — delivery from the store's outbox, and its trim;
* ``figures`` — the figures line on the console (``seawatch run`` and ``demo``);
* ``instance-lock`` — keeps the lock on the store and client id (essential: another instance
  taking it stops this one; see :mod:`seawatch.adapters.instancelock`);
* ``http`` — the web server (essential: its end is the service's end).

A start first lets the sinks run, restores the last snapshot and replays the journal after
it (:mod:`seawatch.runtime.state`), and only then connects the source.

A stop (SIGTERM, Ctrl-C, ``--duration``, a failed source) goes in order: the web server
and the timers first; then the store and the journal write what they hold while the
source is still connected (so the messages behind them are acknowledged now, not
redelivered at the next start); then the source stops, a last snapshot is stored, every
other sink is given time to write what it holds, and the rest is cancelled; the store
is closed last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from seawatch.adapters.instancelock import InstanceLock
from seawatch.adapters.sink import AlertSink
from seawatch.delivery import AlertDelivery
from seawatch.runtime.failover import Failover
from seawatch.runtime.ingest import Fanout, Ingest, IngestFigures
from seawatch.runtime.live import LiveView
from seawatch.runtime.state import StateKeeper
from seawatch.runtime.supervisor import Policy, Supervisor

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

_INPUTS = ("http", "idle-ticks", "figures", "feed", "snapshots")  # stopped first; the source once drained
_DRAIN_S = 10.0  # what sinks may take, at a stop, to write what they still hold
_IDLE_AFTER_S = 30.0  # feed silence after which event time runs on with the wall clock


class Runtime:
    """Ingest, sinks, workers and the web server of one service, under one :class:`Supervisor`."""

    app: FastAPI

    def __init__(
        self,
        *,
        ingest: Ingest,
        fanout: Fanout,
        delivery: AlertDelivery | None,
        supervisor: Supervisor,
        view: LiveView,
        state: StateKeeper | None = None,
        http_host: str = "127.0.0.1",
        http_port: int = 8000,
        tick_s: float = 10.0,
        stats_interval_s: float = 2.0,
        show: Callable[[IngestFigures], None] | None = None,
        lock: InstanceLock | None = None,
        failover: Failover | None = None,
    ) -> None:
        self.ingest = ingest
        self.fanout = fanout
        self.delivery = delivery
        self.supervisor = supervisor
        self.view = view
        self.state = state
        self.http_host = http_host
        self.http_port = http_port
        self.tick_s = tick_s
        self.stats_interval_s = stats_interval_s
        self.show = show
        self.lock = lock
        self.failover = failover
        self.url: str | None = None  # where the map is, once the web server listens
        self._server: Any = None
        self._on_listening: Callable[[str], None] | None = None
        self._running = False

    # ------------------------------------------------------------------ lifetime
    @asynccontextmanager
    async def running(self, *, serve: bool = False) -> AsyncIterator[Runtime]:
        """Start every task; on leaving, stop them in order (inputs, then sinks drained, then the rest).

        A fatal error (the source gave up, the web server failed) is raised on leaving.
        """
        if self._running:
            raise RuntimeError("this runtime is already running")
        self._running = True
        supervisor = self.supervisor
        try:
            if self.lock is not None:
                # Before the source: a second instance must never connect with the first one's client id.
                await self.lock.take()
            async with supervisor:
                if self.failover is not None:
                    self._start_standby()
                else:
                    await self._start_alone()
                if serve:
                    supervisor.start("http", self._serve, Policy.ESSENTIAL)
                try:
                    yield self
                finally:
                    await self._stop_in_order()
        finally:
            self._close()
            if self.lock is not None:
                await self.lock.release()  # last: the source has disconnected
            if self.failover is not None:
                await self.failover.lease.release()  # last, and only after a clean stop: the standby leads at once
            self._running = False
        if supervisor.fatal is not None:
            raise supervisor.fatal

    async def _start_alone(self) -> None:
        """One instance: the sinks, the journal replayed after the last snapshot, then the source."""
        if self.lock is not None:
            self.supervisor.start("instance-lock", self.lock.keep, Policy.ESSENTIAL)
        for sink in self.fanout.sinks:
            self.supervisor.start(f"sink-{sink.name}", sink.run)
        state = self.state
        if state is not None:
            # the journal after the last snapshot, through the pipeline, before going live
            await state.replay_journal(self.ingest.dispatch)
        self._go_live()

    def _go_live(self) -> None:
        """Number messages on from the journal's end and start the source and every worker."""
        supervisor = self.supervisor
        state = self.state
        if state is not None:
            state.go_live()
            if state.journal is not None:
                supervisor.start("journal", state.journal.run)
            supervisor.start("snapshots", state.run)
        supervisor.start("mqtt-source", self.ingest.source.run, Policy.SOURCE)
        supervisor.start("idle-ticks", self._tick_when_idle)
        if self.delivery is not None:
            supervisor.start("store-probe", self.delivery.watch_store)
            supervisor.start("webhooks", self.delivery.dispatcher.run)
            supervisor.start("outbox-retention", self.delivery.keep_outbox_trimmed)
        if self.show is not None:
            supervisor.start("figures", self._report_figures)

    # ------------------------------------------------------------------ failover
    def _start_standby(self) -> None:
        """One of a pair: follow the journal with only the map's sink running, and lead once the lease is free."""
        failover = self.failover
        assert failover is not None
        for sink in self._standby_sinks():
            self.supervisor.start(f"sink-{sink.name}", sink.run)
        # essential: a standby the journal has left behind ends (JournalGapError) and is built again
        self.supervisor.start("follow", failover.follower.run, Policy.ESSENTIAL)
        self.supervisor.start("failover", self._lead, Policy.ESSENTIAL)

    def _standby_sinks(self) -> list[AlertSink]:
        return [s for s in self.fanout.others if s.name == "sse"]

    async def _lead(self) -> None:
        """Wait for the lease, take over, then keep the lease: raises :class:`LeaseLostError` when it is gone."""
        failover = self.failover
        assert failover is not None
        await failover.wait_for_lease()
        # renewed from now on, while the catch-up runs too: a long one must not cost the lease
        keeper = asyncio.create_task(failover.lease.keep(), name="lease-keeper")
        try:
            await self.supervisor.stop(["follow"])
            events = await failover.take_over()
            standby_sinks = self._standby_sinks()
            for sink in self.fanout.sinks:
                if sink not in standby_sinks:
                    self.supervisor.start(f"sink-{sink.name}", sink.run)
            # what the old leader may not have written: the store skips what it holds (same alert and sequence)
            if events:
                for sink in self.fanout.durable:
                    sink.submit(events, None)
            self._go_live()
            await keeper  # raises LeaseLostError once the lease is gone
        finally:
            keeper.cancel()

    def _fenced(self) -> bool:
        """A pair's instance that does not lead (any more): it may write and send nothing, not even at its stop."""
        return self.failover is not None and not self.failover.lease.valid()

    async def run(
        self,
        *,
        duration_s: float | None = None,
        feed: Callable[[], Coroutine[Any, Any, object]] | None = None,
        on_listening: Callable[[str], None] | None = None,
    ) -> None:
        """Serve until stopped (a signal, ``duration_s``, a fatal error).

        ``feed`` runs once the source is connected (the demo's scripted feed);
        ``on_listening`` is told the map's URL once the web server listens.
        """
        self._on_listening = on_listening
        async with self.running(serve=True):
            if feed is not None:

                async def feed_when_connected() -> None:
                    await self.ingest.source.wait_connected()
                    await feed()

                self.supervisor.start("feed", feed_when_connected)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.supervisor.stopping.wait(), timeout=duration_s)

    @asynccontextmanager
    async def app_lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """The web app's lifespan when an outside server runs it: the whole service around it."""
        async with self.running(serve=False):
            yield

    async def _stop_in_order(self) -> None:
        supervisor = self.supervisor
        if self._fenced():
            # a standby, or a leader that lost its lease: stop everything at once, write and send nothing
            if self._server is not None:
                self._server.should_exit = True
            await supervisor.stop()
            return
        if self.show is not None:
            self.show(self.figures())  # the last figures line: the run as it stood when the stop came
        if self._server is not None:
            self._server.should_exit = True
        await supervisor.stop([n for n in _INPUTS if n in supervisor.tasks])
        # The durable sinks first, while the source is still connected: the messages behind
        # their events are then acknowledged now, rather than delivered again at the next start.
        await self._drain(self.fanout.durable)
        journal = self.state.journal if self.state is not None else None
        if journal is not None:
            await journal.drain(_DRAIN_S)  # what is journalled is acknowledged now, while still connected
        await supervisor.stop(["mqtt-source"])
        if self.state is not None:
            if journal is not None:
                await journal.drain(_DRAIN_S)
            # the state as the stop leaves it: the next start replays nothing before this
            await self.state.snapshot(journal_wait_s=_DRAIN_S)
        await self._drain(self.fanout.sinks)
        await supervisor.stop()

    async def _drain(self, sinks: list[AlertSink]) -> None:
        drains = [drain(_DRAIN_S) for sink in sinks if (drain := getattr(sink, "drain", None))]
        if drains and not all(await asyncio.gather(*drains)):
            log.warning("stopping with alert events still queued in a sink (see the sinks' figures)")

    def _close(self) -> None:
        if self.state is not None and self.state.journal is not None:
            self.state.journal.close()
        for sink in self.fanout.sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                close()
        if self.delivery is not None:
            self.delivery.store.close()

    # --------------------------------------------------------------------- tasks
    async def _tick_when_idle(self) -> None:
        """Time-driven checks while the feed is silent: a dead feed must still raise its outage."""
        while True:
            await asyncio.sleep(self.tick_s)
            self.ingest.tick_if_idle(_IDLE_AFTER_S)

    async def _report_figures(self) -> None:
        assert self.show is not None
        while True:
            await asyncio.sleep(self.stats_interval_s)
            self.show(self.figures())

    async def _serve(self) -> None:
        """The web server; a graceful stop lets it finish what is in flight."""
        import uvicorn

        class _Server(uvicorn.Server):
            """uvicorn, leaving the process's signals alone.

            uvicorn takes SIGTERM and SIGINT to itself while it serves and raises them again
            once it has stopped; a signal then lands wherever the process happens to be. The
            command that runs the service handles them instead (``seawatch.cli``), and stops
            the web server through the runtime like everything else.
            """

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        config = uvicorn.Config(
            self.app,
            host=self.http_host,
            port=self.http_port,
            log_level="warning",
            lifespan="off",  # the runtime is the lifespan
            access_log=False,
        )
        server = self._server = _Server(config)
        serving = asyncio.create_task(server.serve(), name="http-server")
        try:
            while not server.started:
                if serving.done():
                    await serving  # raises what stopped it (a busy port …)
                    raise OSError(f"cannot listen on {self.http_host}:{self.http_port}")
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else self.http_port
            self.url = f"http://{self.http_host}:{port}/"
            if self._on_listening is not None:
                self._on_listening(self.url)
            await asyncio.shield(serving)
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(serving), timeout=20)

    # ------------------------------------------------------------------- figures
    def figures(self) -> IngestFigures:
        webhooks = ""
        if self.delivery is not None and not self.delivery.health.up:
            webhooks = f" | store DOWN ({self.delivery.waiting} events waiting)"
        if self.delivery is not None and self.delivery.subscriptions:
            parts = []
            for name, f in self.delivery.dispatcher.figures.partners.items():
                state = " DISABLED" if f.disabled else ""
                parts.append(f"{name} {f.delivered} ok/{f.failed_attempts} failed/{f.dead} dead{state}")
            webhooks += " | webhooks " + ", ".join(parts)
        return self.ingest.figures(webhooks)
