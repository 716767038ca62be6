"""The composition root: the one place that turns :class:`~seawatch.config.Settings` into objects.

Everything below receives what it needs as plain arguments (an :class:`MqttOptions`, a
store, a list of subscriptions …), never the whole settings, so each part can be built
and tested on its own and nothing reads configuration behind the reader's back.

What replay and the publishing commands need (the pipeline, the MQTT options) is built
in :mod:`seawatch.runtime.parts`, which imports none of the service's dependencies.

The alert channels are listed in :func:`build_sinks`: a new channel is one new file
(an :class:`~seawatch.adapters.sink.AlertSink`, usually a
:class:`~seawatch.adapters.sink.QueuedSink`) and one setting that switches it on there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.instancelock import instance_lock
from seawatch.adapters.journal import FeedJournal, SegmentWriter, journal_end
from seawatch.adapters.jsonl import JsonLinesSink
from seawatch.adapters.lease import lease_for
from seawatch.adapters.logsink import LogSink
from seawatch.adapters.mqtt import AlertPublisher
from seawatch.adapters.sink import AlertSink, CallbackSink
from seawatch.adapters.spool import EventSpool
from seawatch.adapters.store import AlertStore, StoreError
from seawatch.adapters.storejournal import StoreJournalWriter
from seawatch.adapters.webhooks import Endpoint, WebhookDispatcher
from seawatch.config.settings import Partner, Settings
from seawatch.core.alerts import AlertEvent
from seawatch.core.subscriptions import Subscription
from seawatch.delivery import AlertDelivery
from seawatch.runtime.failover import Failover, Follower
from seawatch.runtime.ingest import Fanout, Ingest, IngestFigures
from seawatch.runtime.live import LiveView
from seawatch.runtime.parts import build_pipeline, mqtt_options
from seawatch.runtime.runtime import Runtime
from seawatch.runtime.state import StateKeeper, load_snapshot
from seawatch.runtime.supervisor import Supervisor
from seawatch.web.app import create_app as create_web_app
from seawatch.web.pagestream import PageStream
from seawatch.web.ports import WebOptions

log = logging.getLogger(__name__)

SinkLike = AlertSink | Callable[[AlertEvent], object]

_BARRIER_S = 10.0  # longest the store sink waits for the journal before writing anyway (a journal that fails)


def web_options(settings: Settings) -> WebOptions:
    return WebOptions(
        api_read_token=settings.api_read_token.get_secret_value() if settings.api_read_token else None,
        operator_tokens={name: token.get_secret_value() for name, token in settings.operator_tokens.items()},
        tiles_url=settings.map_tiles_url,
        tiles_attribution=settings.map_tiles_attribution,
        surpic_max_range_nm=settings.surpic_max_range_nm,
        centre_timezone=settings.centre_timezone,
    )


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


def build_delivery(settings: Settings, store: AlertStore | None = None) -> AlertDelivery:
    """The store sink: the alert store, the partners' outbox and their dispatcher, the spool.

    The service starts without its store if it must (a database still starting, a network
    down): alert events are then spooled, and the store is opened when it first answers.
    A URL that cannot be a store (a typo, an unknown database) still fails here, at once.
    """
    if store is None:
        # one of a pair: a session paused inside a transaction is ended well within a lease
        idle_s = min(5.0, settings.lease_ttl_s / 2) if settings.failover else None
        store = AlertStore(settings.store_url, connect=False, idle_in_transaction_s=idle_s)
        try:
            store.connect()
        except StoreError as exc:
            where = f"spooled to {settings.store_spool_file}" if settings.store_spool_file else "held in memory"
            log.error("%s; starting without it: alert events are %s until it answers (retrying)", exc, where)
    dispatcher = WebhookDispatcher(
        store,
        [endpoint_of(p) for p in settings.partners],
        retry_min_s=settings.webhook_retry_min_s,
        retry_max_s=settings.webhook_retry_max_s,
    )
    # One of a pair spools nothing: a local file written back later, after the other instance has
    # led, could put stale events in the store. What the store did not take is raised again from
    # the journal by whichever instance leads next (docs/failover.md).
    spooled = settings.store_spool_file is not None and not settings.failover
    spool = EventSpool(settings.store_spool_file) if spooled and settings.store_spool_file else None
    return AlertDelivery(
        store,
        dispatcher,
        [(subscription_of(p), p.format) for p in settings.partners],
        spool=spool,
        cap_sender=settings.cap_sender,
        keep_delivered_days=settings.outbox_keep_delivered_days,
    )


def build_sinks(
    settings: Settings, *, alerts_out: Path | None = None, gate: Callable[[], bool] | None = None
) -> list[AlertSink]:
    """The best-effort alert channels a setting switches on (the store sink is built apart: it is durable).

    ``gate`` (one of a failover pair) says whether this instance may act now.
    """
    sinks: list[AlertSink] = [LogSink()]
    if settings.alerts_topic_prefix:
        sinks.append(AlertPublisher(mqtt_options(settings), settings.alerts_topic_prefix, gate=gate))
    if alerts_out is not None:
        sinks.append(JsonLinesSink(alerts_out))
    return sinks


def build_journal(settings: Settings) -> FeedJournal | None:
    """The feed journal from settings (None when ``journal_dir`` is unset); numbering resumes after its end."""
    if settings.journal_dir is None:
        return None
    writer = SegmentWriter(
        settings.journal_dir,
        fsync=settings.journal_fsync,
        segment_max_bytes=int(settings.journal_segment_max_mb * 1024 * 1024),
        segment_max_age_s=settings.journal_segment_max_age_s,
        keep_days=settings.journal_keep_days,
        keep_bytes=int(settings.journal_keep_mb * 1024 * 1024),
    )
    return FeedJournal(
        writer,
        next_seq=journal_end(settings.journal_dir),
        batch_max=settings.journal_batch_max,
        batch_delay_s=settings.journal_batch_delay_s,
    )


def build_state(settings: Settings, delivery: AlertDelivery | None) -> StateKeeper:
    """The pipeline as the last run left it: the newest snapshot (if any), else open alerts from the store.

    The journal after the snapshot is replayed later, once the sinks run
    (:meth:`Runtime.running`); with a journal but no snapshot, all of it is replayed and
    the store's open alerts are not restored (the replay raises them again). A store that
    does not answer at start gives no snapshot; its open alerts are then brought back when
    it first answers.
    """
    journal = build_journal(settings)
    store = delivery.store if delivery is not None else None
    pipeline, report, start_seq = load_snapshot(store, lambda: build_pipeline(settings))
    has_journal = journal is not None and journal.next_seq > 0
    if start_seq is None and not has_journal and delivery is not None and pipeline.watch is not None:
        book = pipeline.watch.book

        def restore_open_alerts(store: AlertStore) -> None:
            restored = book.restore(store.open_alerts())
            report.restored_from_store = restored
            if restored:
                log.info("restored %d open alert(s) from the store", restored)

        delivery.when_up(restore_open_alerts)
    return StateKeeper(
        pipeline,
        store=store,
        journal=journal,
        journal_dir=settings.journal_dir,
        interval_s=settings.snapshot_interval_s,
        every_messages=settings.snapshot_every_messages,
        start_seq=start_seq or 0,
        start_report=report,
    )


def build_pair_state(settings: Settings, store: AlertStore) -> StateKeeper:
    """One of a failover pair: the newest snapshot, and the journal kept in the store (followed from there).

    Without a snapshot the standby follows the journal from its first chunk; if that is not
    the feed's first message (the snapshots were deleted, docs/failover.md) or there is no
    journal yet, the store's open alerts are restored first.
    """
    pipeline, report, start_seq = load_snapshot(store, lambda: build_pipeline(settings))
    if start_seq is None:
        first = chunks = 0
        try:
            first, _end, chunks, _size = store.journal_bounds()
        except (StoreError, SQLAlchemyError) as exc:
            log.warning(
                "failover: cannot read the journal's bounds (%s); following it from its start", store.unreachable(exc)
            )
        start_seq = first
        if (first > 0 or chunks == 0) and store.ready and pipeline.watch is not None:
            try:
                report.restored_from_store = pipeline.watch.book.restore(store.open_alerts())
            except (StoreError, SQLAlchemyError) as exc:
                log.warning("failover: cannot read the store's open alerts (%s)", store.unreachable(exc))
    journal = FeedJournal(
        StoreJournalWriter(store),
        batch_max=settings.journal_batch_max,
        batch_delay_s=settings.journal_batch_delay_s,
        retry_on=(StoreError, SQLAlchemyError),
    )
    return StateKeeper(
        pipeline,
        store=store,
        journal=journal,
        journal_dir=None,
        interval_s=settings.snapshot_interval_s,
        every_messages=settings.snapshot_every_messages,
        start_seq=start_seq,
        start_report=report,
    )


def _as_sink(sink: SinkLike, number: int) -> AlertSink:
    """A plain function becomes a sink with a queue and a task of its own."""
    if isinstance(sink, AlertSink):
        return sink
    return CallbackSink(f"callback-{number}", sink)


def build_runtime(
    settings: Settings,
    *,
    show: Callable[[IngestFigures], None] | None = None,
    alerts_out: Path | None = None,
    extra_sinks: Iterable[SinkLike] = (),
    with_delivery: bool = True,
    supervisor: Supervisor | None = None,
) -> Runtime:
    """Everything ``seawatch run`` runs, built from settings; nothing is started yet.

    ``extra_sinks`` are added alert channels (a plain function gets a queue and a task of
    its own); ``with_delivery=False`` leaves out the store (tests of ingest alone).
    """
    delivery = build_delivery(settings) if with_delivery else None
    pair = settings.failover and delivery is not None
    if pair:
        assert delivery is not None
        state = build_pair_state(settings, delivery.store)
    else:
        state = build_state(settings, delivery)
    if delivery is not None:
        state.events_stored = delivery.all_stored
        journal = state.journal
        if journal is not None:
            delivery.journal_position = lambda: state.seq
            delivery.journal_durable = lambda seq: journal.durable_through(seq, _BARRIER_S)
    pipeline = state.pipeline
    hub = PageStream(changes=lambda: pipeline.fleet.stats.reports)
    gate = delivery.store.may_act if pair and delivery is not None else None
    others = [*build_sinks(settings, alerts_out=alerts_out, gate=gate), hub]
    others += [_as_sink(sink, n) for n, sink in enumerate(extra_sinks, start=1)]
    fanout = Fanout(others, durable=[delivery] if delivery is not None else [])
    failover: Failover | None = None
    lock = None
    if pair:
        assert delivery is not None
        # the lease is the pair's lock: no instance lock beside it (both share one client id)
        lease = lease_for(
            settings.store_url,
            settings.mqtt_client_id,
            settings.instance_name,
            settings.instance_url,
            settings.lease_ttl_s,
        )
        failover = Failover(lease, Follower(state, delivery.store, hub.submit), delivery.store)
    elif delivery is not None:
        # taken when the runtime starts, not here: tests build runtimes they never run
        lock = instance_lock(settings.store_url, settings.mqtt_client_id)
    ingest = Ingest(pipeline, mqtt_options(settings), fanout, state, gate=gate)
    supervisor = supervisor or Supervisor()
    view = LiveView(ingest, delivery, fanout.sinks, supervisor, lock, state, failover)
    runtime = Runtime(
        ingest=ingest,
        fanout=fanout,
        delivery=delivery,
        supervisor=supervisor,
        view=view,
        state=state,
        http_host=settings.http_host,
        http_port=settings.http_port,
        tick_s=settings.watch_tick_s,
        stats_interval_s=settings.stats_interval_s,
        show=show,
        lock=lock,
        failover=failover,
    )
    runtime.app = create_web_app(view, view, hub, web_options(settings), lifespan=runtime.app_lifespan)
    runtime.app.state.runtime = runtime
    return runtime


def create_app(settings: Settings, *, extra_sinks: Iterable[SinkLike] = (), with_delivery: bool = True) -> FastAPI:
    """The service as an ASGI app whose lifespan runs it (tests, or an outside ASGI server)."""
    return build_runtime(settings, extra_sinks=extra_sinks, with_delivery=with_delivery).app
