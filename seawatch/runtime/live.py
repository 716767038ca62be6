"""The running service as the web sees it: a read model, a command port, health and metrics.

:class:`LiveView` implements :class:`seawatch.web.ports.ReadModel` and
:class:`seawatch.web.ports.Commands` over the ingest, the store sink, the other sinks and
the supervisor, so that the web reaches nothing else of the runtime.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.instancelock import InstanceLock, LockState
from seawatch.adapters.lease import Role
from seawatch.adapters.singleflight import SingleFlight
from seawatch.adapters.sink import AlertSink, SinkFigures, describe_error
from seawatch.adapters.store import StoreError
from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent
from seawatch.core.commands import Command
from seawatch.core.fleet import Fleet
from seawatch.core.serialize import iso_utc
from seawatch.core.watch import Watch
from seawatch.core.zones import ZoneIndex
from seawatch.delivery import AlertDelivery
from seawatch.runtime.failover import FAILOVER_LEADER_HELP, FAILOVER_LEADER_TYPE, Failover
from seawatch.runtime.ingest import Ingest
from seawatch.runtime.state import StateKeeper
from seawatch.runtime.supervisor import Supervisor
from seawatch.web.ports import ReadOnlyError, StoreUnavailableError

log = logging.getLogger(__name__)


HEALTHY = ("ok", "broker-dropping", "standby")
"""Statuses answered with 200: a broker dropping messages is degraded, not down (nothing to restart)."""

BROKER_DROPPING_FOR_S = 300.0
"""How long after the broker's dropped counter last rose health still says ``broker-dropping``."""

_COUNTS_TIMEOUT_S = 0.5  # what /metrics waits for the outbox counts before serving the last ones


def _label(text: str) -> str:
    """A Prometheus label value: backslash, quote and newline escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class RuntimeView(Protocol):
    def metric_lines(self) -> list[str]: ...


def _figures(sink: AlertSink) -> SinkFigures | None:
    figures = getattr(sink, "figures", None)
    return figures if isinstance(figures, SinkFigures) else None


class LiveView:
    """Read model and command port of one running service."""

    def __init__(
        self,
        ingest: Ingest,
        delivery: AlertDelivery | None,
        sinks: list[AlertSink],
        supervisor: Supervisor,
        lock: InstanceLock | None = None,
        state: StateKeeper | None = None,
        failover: Failover | None = None,
    ) -> None:
        watch = ingest.pipeline.watch
        assert watch is not None, "the live service always has a watch"
        self.ingest = ingest
        self.delivery = delivery
        self.sinks = sinks
        self.supervisor = supervisor
        self.lock = lock
        self.state = state
        self.failover = failover
        self._watch: Watch = watch
        self.started = time.monotonic()
        self._pending: dict[str, dict[str, int]] = {}  # outbox counts by partner, as last read
        self._pending_at: float | None = None
        self._counting: SingleFlight[dict[str, dict[str, int]]] = SingleFlight()

    # ------------------------------------------------------------------ read model
    @property
    def fleet(self) -> Fleet:
        return self.ingest.pipeline.fleet

    @property
    def book(self) -> AlertBook:
        return self._watch.book

    @property
    def zones(self) -> ZoneIndex:
        return self._watch.zones

    @property
    def now(self) -> datetime | None:
        return self.ingest.pipeline.now

    def stored_alerts(self, kind: str | None, status: str | None, limit: int) -> list[AlertEvent]:
        if self.delivery is None:
            return []
        with self._store_answer():
            return self.delivery.store.alerts(kind=kind, status=status, limit=limit)

    def history(self, alert_id: str) -> list[AlertEvent]:
        if self.delivery is None:
            return []
        with self._store_answer():
            return self.delivery.store.history(alert_id)

    @contextmanager
    def _store_answer(self) -> Iterator[None]:
        """A store read that fails becomes :class:`StoreUnavailableError`: the web answers 503, not 500."""
        assert self.delivery is not None
        try:
            yield
        except (StoreError, SQLAlchemyError) as exc:
            raise StoreUnavailableError(self.delivery.store.unreachable(exc)) from None

    def instance(self) -> dict[str, Any] | None:
        """Which instance serves the map, for its badge; read-only exactly when :meth:`execute` refuses."""
        failover = self.failover
        if failover is None:
            return None
        lease = failover.lease
        read_only = not failover.may_act()
        leader = lease.leader
        if leader is not None and (leader.expires_in_s <= 0 or (read_only and leader.holder == lease.holder)):
            leader = None  # the lease had run out when last read, or it is this instance's own, lost
        return {
            "instance": lease.instance,
            "role": lease.role.value,
            "read_only": read_only,
            "leader": None if leader is None else {"instance": leader.instance, "url": leader.url},
        }

    # -------------------------------------------------------------------- commands
    async def execute(self, command: Command) -> AlertEvent | None:
        failover = self.failover
        if failover is not None and not failover.may_act():
            leader = failover.lease.leader
            where = ""
            if leader is not None and leader.instance != failover.lease.instance:
                where = f": act on {leader.instance}" + (f" at {leader.url}" if leader.url else "")
            name = failover.lease.instance
            raise ReadOnlyError(f"{name} is the standby of a failover pair; its map is read-only{where}")
        return await self.ingest.command(command)

    # ------------------------------------------------------------ health, metrics
    def health(self) -> tuple[int, dict[str, Any]]:
        """Status and figures, from memory only: it answers at once whatever is down, and never raises."""
        try:
            return self._health()
        except Exception as exc:
            log.exception("health check failed")
            return 503, {"status": "health-error", "error": describe_error(exc)}

    def _health(self) -> tuple[int, dict[str, Any]]:
        ingest = self.ingest
        now = datetime.now(UTC)
        last = ingest.health.last_message_at
        feeds = {}
        for name, src in self._watch.feed.sources.items():
            feeds[name or "(untagged)"] = {
                "last_message_event_time": iso_utc(src.last),
                "messages": src.messages,
                "in_outage": src.open_since is not None,
            }
        delivery = self.delivery
        held = delivery.waiting if delivery is not None else 0
        store_up = delivery is None or delivery.health.up
        failing_tasks = [s.name for s in self.supervisor.failing]
        failing_sinks = [s.name for s in self.sinks if (f := _figures(s)) is not None and f.failing_since is not None]
        source = ingest.health
        dropping = source.broker_dropped_rose_at is not None and (
            (now - source.broker_dropped_rose_at).total_seconds() < BROKER_DROPPING_FOR_S
        )
        status = "ok" if source.connected else "broker-down"
        if dropping and status == "ok":
            status = "broker-dropping"  # degraded, not down: answered with 200 (see docs/operations.md)
        if failing_tasks or failing_sinks:
            status = "task-failing"  # a sink or worker raises and is being restarted; ingest goes on
        if self.state is not None and self.state.journal_failing:
            status = "journal-failing"  # messages are acknowledged without being journalled; ingest goes on
        if held or not store_up:
            status = "store-failing"  # alert events wait in the spool (or memory) until the store takes them
        failover = self.failover
        if failover is not None and failover.role is Role.STANDBY:
            # not reading the feed, not writing, by design: healthy for a standby (answered 200)
            status = "standby"  # follow_error in the body says if it cannot read the journal
        body = {
            "status": status,
            "alert_events_held": held,
            "store": None if delivery is None else {"url": delivery.store.url, **delivery.health.view()},
            "broker_connected": source.connected,
            "broker_dropped_messages": source.broker_dropped,
            "broker_dropped_rose_at": iso_utc(source.broker_dropped_rose_at),
            "last_message_age_s": None if last is None else round((now - last).total_seconds(), 3),
            "event_time": iso_utc(ingest.pipeline.now),
            "vessels": len(ingest.pipeline.fleet),
            "alerts_open": len(self._watch.book),
            "uptime_s": round(time.monotonic() - self.started, 1),
            "unacknowledged_messages": ingest.source.unacknowledged,
            "topics": {topic: f.view(time.monotonic()) for topic, f in sorted(ingest.feeds.items())},
            "feeds": feeds,
            "failing": sorted({*failing_tasks, *failing_sinks}),
            "tasks": {name: s.view() for name, s in sorted(self.supervisor.statuses().items())},
            "sinks": {s.name: f.view() for s in self.sinks if (f := _figures(s)) is not None},
            "instance_lock": None if self.lock is None else self.lock.view(),
            "failover": None if failover is None else failover.health(),
        }
        if self.state is not None:
            body.update(self.state.health())
        return (200 if status in HEALTHY else 503), body

    async def metrics(self) -> str:
        """The Prometheus text, always: figures that need the store come from its last answer.

        The outbox counts are read from the store at most ``_COUNTS_TIMEOUT_S`` per scrape;
        during an outage the last counts are served, with their age
        (``seawatch_webhook_pending_age_seconds``), rather than an error.
        """
        try:
            if self.delivery is not None and self.delivery.health.up:
                await self._read_counts(self.delivery)
            return metrics_text(self.ingest, self.delivery, self._pending, self)
        except Exception as exc:
            log.exception("metrics failed")
            return (
                "# HELP seawatch_metrics_error 1 when building the metrics failed (see the log).\n"
                "# TYPE seawatch_metrics_error gauge\n"
                f'seawatch_metrics_error{{error="{_label(describe_error(exc))}"}} 1\n'
            )

    async def _read_counts(self, delivery: AlertDelivery) -> None:
        try:
            self._pending = await self._counting.call(delivery.store.counts, _COUNTS_TIMEOUT_S)
            self._pending_at = time.monotonic()
        except Exception:
            log.debug("outbox counts not read for /metrics", exc_info=True)

    def metric_lines(self) -> list[str]:
        """Supervised tasks and sinks, for ``/metrics``."""
        statuses = self.supervisor.statuses()
        lines = [
            "# HELP seawatch_task_up 1 while a supervised task runs, 0 while it is restarting or has failed.",
            "# TYPE seawatch_task_up gauge",
        ]
        lines += [f'seawatch_task_up{{task="{n}"}} {1 if s.state == "running" else 0}' for n, s in statuses.items()]
        lines += [
            "# HELP seawatch_task_restarts_total Restarts of a supervised task after it failed.",
            "# TYPE seawatch_task_restarts_total counter",
        ]
        lines += [f'seawatch_task_restarts_total{{task="{n}"}} {s.restarts}' for n, s in statuses.items()]
        sinks = [(s.name, f) for s in self.sinks if (f := _figures(s)) is not None]
        for name, kind, help_text, field in (
            ("sink_events_total", "counter", "Alert events an alert sink delivered.", "delivered"),
            ("sink_dropped_total", "counter", "Alert events an alert sink dropped (its queue was full).", "dropped"),
            (
                "sink_failures_total",
                "counter",
                "Failed deliveries of an alert sink (retried after a restart).",
                "failures",
            ),
            ("sink_queued", "gauge", "Alert events waiting in an alert sink's queue.", "queued"),
        ):
            lines += [f"# HELP seawatch_{name} {help_text}", f"# TYPE seawatch_{name} {kind}"]
            lines += [f'seawatch_{name}{{sink="{n}"}} {getattr(f, field)}' for n, f in sinks]
        lines += [
            "# HELP seawatch_sink_failing 1 while an alert sink fails (since its last successful delivery).",
            "# TYPE seawatch_sink_failing gauge",
        ]
        lines += [f'seawatch_sink_failing{{sink="{n}"}} {0 if f.failing_since is None else 1}' for n, f in sinks]
        if self.failover is not None:
            lines += self.failover.metric_lines()
        else:  # described even without a pair, so alert rules name only metrics Seawatch exports
            lines += [FAILOVER_LEADER_HELP, FAILOVER_LEADER_TYPE]
        if self.lock is not None:
            lines += [
                "# HELP seawatch_instance_lock_held 1 while this instance holds its lock on the store and client id.",
                "# TYPE seawatch_instance_lock_held gauge",
                f"seawatch_instance_lock_held {1 if self.lock.state is LockState.HELD else 0}",
            ]
        lines += [
            "# HELP seawatch_unacknowledged_messages MQTT messages received and not yet acknowledged.",
            "# TYPE seawatch_unacknowledged_messages gauge",
            f"seawatch_unacknowledged_messages {self.ingest.source.unacknowledged}",
        ]
        dropped = self.ingest.health.broker_dropped
        if dropped is not None:
            lines += [
                "# HELP seawatch_broker_dropped_messages_total Messages the broker dropped since it started ($SYS).",
                "# TYPE seawatch_broker_dropped_messages_total counter",
                f"seawatch_broker_dropped_messages_total {dropped}",
            ]
        if self.delivery is not None:
            health = self.delivery.health
            lines += [
                "# HELP seawatch_store_up 1 while the alert store answers (its last ping or write succeeded).",
                "# TYPE seawatch_store_up gauge",
                f"seawatch_store_up {1 if health.up else 0}",
                "# HELP seawatch_store_outages_total Times the alert store went from answering to failing.",
                "# TYPE seawatch_store_outages_total counter",
                f"seawatch_store_outages_total {health.outages}",
            ]
            if self._pending_at is not None:
                lines += [
                    "# HELP seawatch_webhook_pending_age_seconds Age of the outbox counts (stale during an outage).",
                    "# TYPE seawatch_webhook_pending_age_seconds gauge",
                    f"seawatch_webhook_pending_age_seconds {time.monotonic() - self._pending_at:.3f}",
                ]
        if self.state is not None:
            lines += self.state.metric_lines()
        return lines


def metrics_text(
    ingest: Ingest, delivery: AlertDelivery | None, pending: dict[str, dict[str, int]], runtime: RuntimeView
) -> str:
    """The Prometheus text; ``pending`` (outbox counts by partner) was read from the store beforehand."""
    pipeline = ingest.pipeline
    stats = pipeline.decoder.stats
    lines = [
        "# HELP seawatch_messages_total MQTT messages received.",
        "# TYPE seawatch_messages_total counter",
        f"seawatch_messages_total {ingest.health.messages}",
        "# HELP seawatch_reports_total AIS reports decoded.",
        "# TYPE seawatch_reports_total counter",
        f"seawatch_reports_total {stats.reports}",
        "# HELP seawatch_rejects_total Input rejected, by reason.",
        "# TYPE seawatch_rejects_total counter",
    ]
    for reason, n in sorted(stats.rejects.items()):
        lines.append(f'seawatch_rejects_total{{reason="{reason}"}} {n}')
    lines += [
        "# HELP seawatch_vessels Vessels in state.",
        "# TYPE seawatch_vessels gauge",
        f"seawatch_vessels {len(pipeline.fleet)}",
        "# HELP seawatch_alerts_opened_total Alerts opened, by kind.",
        "# TYPE seawatch_alerts_opened_total counter",
    ]
    watch = pipeline.watch
    if watch is not None:
        for kind, n in sorted(watch.book.counts.items()):
            lines.append(f'seawatch_alerts_opened_total{{kind="{kind}"}} {n}')
        lines += ["# HELP seawatch_alerts_open Alerts open or acknowledged.", "# TYPE seawatch_alerts_open gauge"]
        lines.append(f"seawatch_alerts_open {len(watch.book)}")
    lines += [
        "# HELP seawatch_broker_connected 1 while the MQTT link is up.",
        "# TYPE seawatch_broker_connected gauge",
        f"seawatch_broker_connected {1 if ingest.health.connected else 0}",
        "# HELP seawatch_ingest_lag_seconds Wall clock minus the newest event time (receiver clock skew included).",
        "# TYPE seawatch_ingest_lag_seconds gauge",
    ]
    if pipeline.now is not None:
        lines.append(f"seawatch_ingest_lag_seconds {(datetime.now(UTC) - pipeline.now).total_seconds():.3f}")
    last = ingest.health.last_message_at
    lines += [
        "# HELP seawatch_last_message_age_seconds Seconds since the last MQTT message.",
        "# TYPE seawatch_last_message_age_seconds gauge",
    ]
    if last is not None:
        lines.append(f"seawatch_last_message_age_seconds {(datetime.now(UTC) - last).total_seconds():.3f}")
    if delivery is not None:
        figures = delivery.dispatcher.figures.partners
        for name, kind, help_text, value in (
            ("deliveries_total", "counter", "Webhook deliveries accepted by the partner.", "delivered"),
            ("failures_total", "counter", "Failed webhook attempts (retried).", "failed_attempts"),
            ("dead_total", "counter", "Webhook events given up (dead letters).", "dead"),
        ):
            lines += [f"# HELP seawatch_webhook_{name} {help_text}", f"# TYPE seawatch_webhook_{name} {kind}"]
            lines += [f'seawatch_webhook_{name}{{partner="{p}"}} {getattr(f, value)}' for p, f in figures.items()]
        lines += [
            "# HELP seawatch_store_errors_total Failed alert-store writes (events spooled and retried).",
            "# TYPE seawatch_store_errors_total counter",
            f"seawatch_store_errors_total {delivery.store_errors}",
            "# HELP seawatch_spool_errors_total Failed spool writes (events then held in memory only).",
            "# TYPE seawatch_spool_errors_total counter",
            f"seawatch_spool_errors_total {delivery.spool_errors}",
            "# HELP seawatch_alert_events_held Alert events waiting (spool and memory) for the store to come back.",
            "# TYPE seawatch_alert_events_held gauge",
            f"seawatch_alert_events_held {delivery.waiting}",
        ]
        lines += [
            "# HELP seawatch_webhook_pending Webhook events waiting in the outbox.",
            "# TYPE seawatch_webhook_pending gauge",
        ]
        for p, c in sorted(pending.items()):
            lines.append(f'seawatch_webhook_pending{{partner="{p}"}} {c.get("pending", 0)}')
    lines += runtime.metric_lines()
    return "\n".join(lines) + "\n"
