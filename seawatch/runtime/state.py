"""State that survives a restart: snapshots of the core, the feed journal, and the start-up that joins them.

A start loads the newest readable snapshot from the store into a freshly built pipeline,
replays the journal from the snapshot's position through that same pipeline (its alert
events go to the sinks as usual: the store skips an event it holds by alert and
sequence, the webhook outbox by partner, alert and sequence, so nobody gets a second
copy), and only then goes live. While running, :class:`StateKeeper` takes a snapshot
every ``interval_s`` seconds or ``every_messages`` messages, and once more at a clean
stop: taken on the event loop between two messages, so it holds exactly the messages
before its position, and written to the store off the loop once the journal is durable
up to that position. See docs/state.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seawatch.adapters.acks import Receipt
from seawatch.adapters.journal import FeedJournal, ReadStats, Record, parse_position, position_of, read_records
from seawatch.adapters.store import AlertStore
from seawatch.adapters.storejournal import StoreJournalWriter
from seawatch.core import snapshot as snap
from seawatch.core.alerts import AlertEvent
from seawatch.core.pipeline import Pipeline

log = logging.getLogger(__name__)

REDELIVERY_WINDOW = 65_535
"""Journal records remembered after a start, to recognise the broker redelivering them.

A message can be durable in the journal and still unacknowledged when the process dies
(its alert events were not yet stored); the broker then sends it again, flagged as a
redelivery. No more than 65,535 QoS 1 messages can be in flight on one connection (the
packet identifier is 16 bits), so that many of the journal's last records are enough.
"""

_YIELD_EVERY = 500  # replayed messages between two pauses that let the sinks write


@dataclass(slots=True)
class StartReport:
    """What a start loaded and replayed: the one log line, and ``/healthz`` after it."""

    snapshot_position: str | None = None
    snapshot_vessels: int = 0
    snapshot_alerts_open: int = 0
    snapshot_created_at: datetime | None = None
    snapshot_error: str | None = None
    restored_from_store: int = 0
    replayed: int = 0
    replay_events: int = 0
    torn_chunks: int = 0
    corrupt_chunks: int = 0
    elapsed_s: float = 0.0

    def view(self) -> dict[str, object]:
        return {
            "snapshot_position": self.snapshot_position,
            "snapshot_vessels": self.snapshot_vessels,
            "snapshot_error": self.snapshot_error,
            "restored_from_store": self.restored_from_store,
            "journal_replayed": self.replayed,
            "replay_alert_events": self.replay_events,
            "torn_chunks": self.torn_chunks,
            "corrupt_chunks": self.corrupt_chunks,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class Redeliveries:
    """The journal's last records: a redelivered message found here was already fed, and is not fed again."""

    def __init__(self, window: int = REDELIVERY_WINDOW) -> None:
        self._order: deque[tuple[str, bytes]] = deque(maxlen=window)
        self._count: Counter[tuple[str, bytes]] = Counter()
        self.skipped = 0
        self._live = 0
        self._window = window

    def remember(self, topic: str, payload: bytes) -> None:
        key = (topic, payload)
        if len(self._order) == self._order.maxlen:
            old = self._order[0]
            self._count[old] -= 1
            if not self._count[old]:
                del self._count[old]
        self._order.append(key)
        self._count[key] += 1

    def seen(self, topic: str, payload: bytes, redelivered: bool) -> bool:
        """True for a redelivery of a journalled message (then forgotten: each counts once)."""
        if not self._count:
            return False
        self._live += 1
        if self._live > self._window:  # past any window the broker could redeliver from
            self._count.clear()
            self._order.clear()
            return False
        key = (topic, payload)
        if not redelivered or not self._count.get(key):
            return False
        self._count[key] -= 1
        if not self._count[key]:
            del self._count[key]
        self.skipped += 1
        return True


class StateKeeper:
    """Snapshots while running and at a clean stop; the journal replay at start.

    ``store`` is the alert store (where snapshots go) or None;
    ``journal`` the live journal (None when switched off); ``journal_dir`` where a
    start reads it from.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        store: AlertStore | None,
        journal: FeedJournal | None,
        journal_dir: Path | None,
        interval_s: float = 300.0,
        every_messages: int = 0,
        start_seq: int = 0,
        start_report: StartReport | None = None,
        events_stored: Callable[[float], Awaitable[bool]] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.journal = journal
        self.journal_dir = journal_dir
        self.interval_s = interval_s
        self.every_messages = every_messages
        self.start_seq = start_seq  # first journal record to replay at start
        self.start = start_report or StartReport()
        # waits (at most the seconds given) until every alert event raised so far is in the store
        self.events_stored = events_stored
        self.redeliveries = Redeliveries()
        self.seq = start_seq  # messages fed so far, numbered as the journal numbers them
        self.snapshots = 0
        self.snapshot_errors = 0
        self.last_error: str | None = None
        # wall clock of the last snapshot in the store (at start: the one the state came from)
        self.last_snapshot_at: datetime | None = self.start.snapshot_created_at
        self.last_snapshot_position = self.start.snapshot_position
        self.last_snapshot_bytes = 0
        self.last_snapshot_s = 0.0
        self._last_seq = start_seq

    # ------------------------------------------------------------------- start
    async def replay_journal(self, dispatch: Callable[[list[AlertEvent]], None]) -> StartReport:
        """Feed the journal from the start position through the pipeline; events to ``dispatch``."""
        report = self.start
        started = time.monotonic()
        if self.journal_dir is None:
            report.elapsed_s += time.monotonic() - started
            self._log_start()
            return report
        stats = ReadStats()
        last_shown = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last_shown[0] >= 5.0:
                last_shown[0] = now
                log.info(
                    "start-up: replaying the journal, %d messages, %.0f%% of %.1f MB",
                    report.replayed,
                    100.0 * done / max(total, 1),
                    total / 1e6,
                )

        records = read_records([self.journal_dir], self.start_seq, stats, progress)
        while True:
            # a slice at a time, on the loop (the pipeline is the loop's alone), with a pause between
            batch = [r for _, r in zip(range(_YIELD_EVERY), records, strict=False)]
            if not batch:
                break
            for record in batch:
                events = self.apply(record)
                report.replayed += 1
                if events:
                    report.replay_events += len(events)
                    dispatch(events)
            await asyncio.sleep(0)  # the sinks write what the replay raised meanwhile
        report.torn_chunks = stats.torn
        report.corrupt_chunks = stats.corrupt
        self._last_seq = self.seq
        report.elapsed_s += time.monotonic() - started
        self._log_start()
        return report

    def apply(self, record: Record) -> list[AlertEvent]:
        """One journal record through the pipeline as live ingest fed it (a start's replay, a standby):
        remembered, so that the broker sending it again is recognised, and numbered; its alert events."""
        fed = self.pipeline.feed_record(record.payload, record.received_at, record.topic)
        self.redeliveries.remember(record.topic, record.payload)
        self.seq = record.seq + 1
        return fed.events

    def _log_start(self) -> None:
        r = self.start
        if r.snapshot_position is not None:
            loaded = f"snapshot at {r.snapshot_position} ({r.snapshot_vessels} vessels, {r.snapshot_alerts_open} open)"
        elif r.restored_from_store:
            loaded = f"no snapshot; {r.restored_from_store} open alert(s) from the store"
        else:
            loaded = "no snapshot"
        skipped = ""
        if r.torn_chunks or r.corrupt_chunks:
            skipped = f"; skipped {r.torn_chunks} torn and {r.corrupt_chunks} corrupt chunk(s)"
        log.info(
            "start-up: %s; replayed %d journalled message(s) (%d alert event(s))%s in %.2f s",
            loaded,
            r.replayed,
            r.replay_events,
            skipped,
            r.elapsed_s,
        )

    # --------------------------------------------------------------- snapshots
    @property
    def position(self) -> str:
        return position_of(self.seq)

    def go_live(self) -> None:
        """After the start's replay: live messages are numbered on from the last one replayed."""
        if self.journal is not None:
            self.seq = max(self.seq, self.journal.next_seq)
            self.journal.resume_at(self.seq)
        self._last_seq = self.seq

    def journal_message(self, payload: bytes, received_at: datetime, topic: str, receipt: Receipt | None) -> None:
        """One live message, before the pipeline sees it: numbered, and journalled holding its receipt."""
        if self.journal is not None:
            release = receipt.hold() if receipt is not None else None
            self.seq = self.journal.append(payload, received_at, topic, release) + 1
        else:
            self.seq += 1

    async def run(self) -> None:
        """Take a snapshot every ``interval_s`` seconds, or sooner after ``every_messages`` messages."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, self.interval_s))
            due_by_time = time.monotonic() - last >= self.interval_s
            due_by_count = self.every_messages > 0 and self.seq - self._last_seq >= self.every_messages
            if (due_by_time or due_by_count) and self.seq != self._last_seq:
                await self.snapshot()
                last = time.monotonic()

    async def snapshot(self, journal_wait_s: float = 30.0) -> bool:
        """Capture now (on the loop, between messages), store off the loop; False if it was not stored."""
        if self.store is None:
            return False
        started = time.monotonic()
        seq = self.seq
        try:
            # the copy between two messages (ingest waits for it); the encoding in a worker
            # thread while ingest goes on
            frozen = snap.freeze(self.pipeline, position_of(seq), created_at=datetime.now(UTC))
            data = await asyncio.to_thread(frozen.encode)
            info = snap.read_info(data)
        except Exception as exc:  # noqa: BLE001 - a snapshot that cannot be made must not stop ingest
            self._failed("capture", exc)
            return False
        # the snapshot must never be ahead of the journal: a start replays from its position
        if self.journal is not None and not await self.journal.durable_through(seq, journal_wait_s):
            self._failed("journal", TimeoutError("the journal did not catch up with the snapshot"))
            return False
        # nor ahead of the store: an alert event raised before the capture and still queued
        # would never be raised again by a start that replays from the snapshot's position
        if self.events_stored is not None and not await self.events_stored(journal_wait_s):
            self._failed("store", TimeoutError("alert events raised before the snapshot are not all stored yet"))
            return False
        try:
            await asyncio.to_thread(self.store.save_snapshot, data, info)
        except Exception as exc:  # noqa: BLE001 - retried at the next interval
            self._failed("store", exc)
            return False
        writer = self.journal.writer if self.journal is not None else None
        if isinstance(writer, StoreJournalWriter):
            try:  # the journal kept in the store (failover): what no kept snapshot needs goes
                await asyncio.to_thread(writer.trim)
            except Exception as exc:  # noqa: BLE001 - trimmed at the next snapshot
                log.warning("journal chunks not trimmed (%s); trying again at the next snapshot", exc)
        self.snapshots += 1
        self._last_seq = seq
        self.last_snapshot_at = datetime.now(UTC)
        self.last_snapshot_position = position_of(seq)
        self.last_snapshot_bytes = len(data)
        self.last_snapshot_s = time.monotonic() - started
        self.last_error = None
        log.debug("snapshot at %s: %d bytes in %.3f s", position_of(seq), len(data), self.last_snapshot_s)
        return True

    def _failed(self, step: str, exc: BaseException) -> None:
        self.snapshot_errors += 1
        self.last_error = f"{step}: {type(exc).__name__}: {exc}"
        log.warning("snapshot not taken (%s); trying again at the next interval", self.last_error)

    # ------------------------------------------------------------ health, metrics
    def health(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        age = None if self.last_snapshot_at is None else round((now - self.last_snapshot_at).total_seconds(), 1)
        body: dict[str, Any] = {
            "snapshot": {
                "age_s": age,
                "position": self.last_snapshot_position,
                "taken": self.snapshots,
                "errors": self.snapshot_errors,
                "last_error": self.last_error,
                "bytes": self.last_snapshot_bytes,
                "seconds": round(self.last_snapshot_s, 3),
            },
            "start": self.start.view(),
            "journal": None,  # no journal_dir: nothing is journalled
        }
        if self.journal is not None:
            f = self.journal.figures
            body["journal"] = {
                "lag_messages": self.journal.lag,
                "messages": f.written,
                "segments": f.segments,
                "bytes": f.bytes_on_disk,
                "write_errors": f.write_errors,
                "lost_messages": f.lost,
                "last_error": f.last_error,
                "failing_since": None if f.failing_since is None else f.failing_since.isoformat(),
                "redeliveries_skipped": self.redeliveries.skipped,
            }
        return body

    @property
    def journal_failing(self) -> bool:
        return self.journal is not None and self.journal.figures.failing_since is not None

    def metric_lines(self) -> list[str]:
        lines = [
            "# HELP seawatch_snapshot_age_seconds Seconds since the last snapshot was stored.",
            "# TYPE seawatch_snapshot_age_seconds gauge",
        ]
        if self.last_snapshot_at is not None:
            age = (datetime.now(UTC) - self.last_snapshot_at).total_seconds()
            lines.append(f"seawatch_snapshot_age_seconds {age:.1f}")
        lines += [
            "# HELP seawatch_snapshot_errors_total Snapshots not taken (capture, journal or store failed).",
            "# TYPE seawatch_snapshot_errors_total counter",
            f"seawatch_snapshot_errors_total {self.snapshot_errors}",
            "# HELP seawatch_snapshot_bytes Size of the last snapshot stored.",
            "# TYPE seawatch_snapshot_bytes gauge",
            f"seawatch_snapshot_bytes {self.last_snapshot_bytes}",
        ]
        if self.journal is not None:
            f = self.journal.figures
            for name, kind, help_text, value in (
                ("journal_lag_messages", "gauge", "Messages received, not yet journalled.", self.journal.lag),
                ("journal_messages_total", "counter", "Messages written to the journal.", f.written),
                ("journal_bytes", "gauge", "Bytes of journal segments on disk.", f.bytes_on_disk),
                ("journal_segments", "gauge", "Journal segments on disk.", f.segments),
                ("journal_write_errors_total", "counter", "Failed journal batch writes.", f.write_errors),
                ("journal_lost_total", "counter", "Messages acknowledged without being journalled.", f.lost),
            ):
                lines += [f"# HELP seawatch_{name} {help_text}", f"# TYPE seawatch_{name} {kind}"]
                lines.append(f"seawatch_{name} {value}")
        return lines


def load_snapshot(
    store: AlertStore | None, pipeline_factory: Callable[[], Pipeline]
) -> tuple[Pipeline, StartReport, int | None]:
    """The newest snapshot in the store, restored into a fresh pipeline; (pipeline, report, start seq).

    A snapshot that cannot be read is logged and left aside (the start falls back to the
    whole retained journal): a bad snapshot must never keep the service from starting.
    """
    report = StartReport()
    pipeline = pipeline_factory()
    if store is None:
        return pipeline, report, None
    if not store.ready:  # the start already said the store does not answer: no second try, no second line
        report.snapshot_error = "the alert store did not answer at start"
        return pipeline, report, None
    try:
        data = store.latest_snapshot()
    except Exception as exc:  # noqa: BLE001 - the store may be down at start: go on without
        report.snapshot_error = f"{type(exc).__name__}: {exc}"
        log.warning("start-up: cannot read the latest snapshot (%s)", report.snapshot_error)
        return pipeline, report, None
    if data is None:
        return pipeline, report, None
    try:
        info = snap.restore(pipeline, data)
        start_seq = parse_position(info.position)
    except Exception as exc:  # noqa: BLE001 - SnapshotError, a foreign position, a bug: start without it
        report.snapshot_error = f"{type(exc).__name__}: {exc}"
        log.warning("start-up: the latest snapshot cannot be used (%s); starting from the journal", exc)
        return pipeline_factory(), report, None
    report.snapshot_position = info.position
    report.snapshot_vessels = info.vessels
    report.snapshot_alerts_open = info.alerts_open
    report.snapshot_created_at = info.created_at
    return pipeline, report, start_seq
