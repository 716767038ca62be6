"""Benchmark: the feed journal's cost on ingest, its size, and the start-up after a crash.

1. Ingest throughput through a real Mosquitto (QoS 1, persistent session, the broker's
   queued backlog drained by the real :class:`~seawatch.runtime.ingest.Ingest`), with the
   journal off and on (fsync per batch) in the same run, and their ratio (target >= 0.8).
   With the journal on, a message is acknowledged only once its batch is on disk, so the
   broker's in-flight window matters: measured with the window Seawatch ships (1000) and
   with stock Mosquitto's (``max_inflight_messages 20``).
2. Journal bytes per message (zlib chunks, arrival time and topic included).
3. Start-up after a crash: restore of the last snapshot plus replay of the journal after
   it, for the same recording (and, for comparison, the whole journal without a snapshot).

Prints figures, asserts nothing on time. Usage:
python benchmarks/bench_journal.py [--messages 50000] [--rounds 3] [--batch-delay-s S] [--no-fsync] [--in-store]

``--in-store`` adds, in each round, the journal kept in PostgreSQL as a failover pair's
leader keeps it (docs/failover.md): each batch one row, written in a fenced transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_mqtt import _spawn  # noqa: E402
from seawatch.adapters.journal import journal_end, position_of, read_records  # noqa: E402
from seawatch.adapters.lease import lease_for  # noqa: E402
from seawatch.adapters.store import AlertStore, Fence  # noqa: E402
from seawatch.config.settings import Settings  # noqa: E402
from seawatch.core import snapshot  # noqa: E402
from seawatch.runtime import Ingest, build_pipeline, mqtt_options  # noqa: E402
from seawatch.runtime.compose import build_delivery, build_pair_state, build_state  # noqa: E402
from tests.integration.mosquitto import Mosquitto  # noqa: E402
from tests.integration.test_store import fresh_postgres_database  # noqa: E402

_OPTIONS: dict[str, object] = {}


def _settings(broker: Mosquitto, topic: str, client_id: str, journal: Path | None) -> Settings:
    return Settings(
        **_OPTIONS,  # type: ignore[arg-type]
        mqtt_url=broker.url,
        mqtt_topics=[topic],
        mqtt_client_id=client_id,
        mqtt_sys_topics=False,
        shore_distance=False,
        journal_dir=journal,
        zones_dir=ROOT / "zones",
    )


async def _backlog(broker: Mosquitto, settings: Settings, topic: str, count: int) -> None:
    """The service's persistent session and subscription, then ``count`` messages queued for it by the broker."""
    first = Ingest(build_pipeline(settings), mqtt_options(settings))
    task = asyncio.create_task(first.source.run())
    await first.source.wait_connected()
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    proc, ready = _spawn(broker.port, topic, count, 0)
    ready.set()
    await asyncio.to_thread(proc.join, 600)


async def _until_drained(ingest: Ingest, tasks: list[asyncio.Task[None]], count: int) -> float:
    """Seconds until ``count`` messages are in and acknowledged (at most 600); then ``tasks`` are stopped."""
    started = time.monotonic()
    while ingest.health.messages < count or ingest.source.unacknowledged:
        await asyncio.sleep(0.01)
        if time.monotonic() - started > 600:
            break
    elapsed = time.monotonic() - started
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await t
    return elapsed


async def _drain(broker: Mosquitto, count: int, journal: Path | None) -> tuple[float, int, int]:
    """The broker's backlog of ``count`` messages through the real ingest: (msg/s, journal bytes, messages)."""
    topic = f"bench/{uuid.uuid4().hex}"
    client_id = f"bench-journal-{uuid.uuid4().hex[:6]}"
    settings = _settings(broker, topic, client_id, journal)
    await _backlog(broker, settings, topic, count)

    state = build_state(settings, None)
    ingest = Ingest(state.pipeline, mqtt_options(settings), state=state)
    await state.replay_journal(ingest.dispatch)
    state.go_live()
    tasks = [asyncio.create_task(ingest.source.run())]
    if state.journal is not None:
        tasks.append(asyncio.create_task(state.journal.run()))
    elapsed = await _until_drained(ingest, tasks, count)
    written = 0
    if state.journal is not None:
        written = state.journal.figures.bytes_written
        state.journal.close()
    return ingest.health.messages / max(elapsed, 1e-9), written, ingest.health.messages


async def _drain_into_store(broker: Mosquitto, count: int, store_url: str) -> tuple[float, int, int]:
    """As :func:`_drain`, with the journal kept in PostgreSQL as a failover pair's leader keeps it (fenced writes)."""
    topic = f"bench/{uuid.uuid4().hex}"
    client_id = f"bench-journal-{uuid.uuid4().hex[:6]}"
    settings = _settings(broker, topic, client_id, None).model_copy(update={"failover": True, "store_url": store_url})
    await _backlog(broker, settings, topic, count)

    store = AlertStore(store_url)
    lease = lease_for(store_url, client_id, "bench", None, settings.lease_ttl_s)
    assert await lease.acquire() and lease.token is not None
    store.fence = Fence(lease.name, lease.token, lease.valid, lambda reason: None)
    state = build_pair_state(settings, store)
    ingest = Ingest(state.pipeline, mqtt_options(settings), state=state, gate=store.may_act)
    state.go_live()
    assert state.journal is not None
    tasks = [
        asyncio.create_task(ingest.source.run()),
        asyncio.create_task(state.journal.run()),
        asyncio.create_task(lease.keep()),
    ]
    elapsed = await _until_drained(ingest, tasks, count)
    written = state.journal.figures.bytes_written
    await lease.release()
    store.close()
    return ingest.health.messages / max(elapsed, 1e-9), written, ingest.health.messages


async def _startup(journal: Path, store_url: str, with_snapshot: bool) -> tuple[float, int, int]:
    """A start after a crash: (seconds, messages replayed, snapshot bytes)."""
    settings = Settings(shore_distance=False, journal_dir=journal, zones_dir=ROOT / "zones", store_url=store_url)
    store = AlertStore(store_url)
    size = 0
    if with_snapshot:
        end = journal_end(journal)
        pipeline = build_pipeline(settings)
        for record in read_records([journal], 0):
            if record.seq >= end // 2:
                break
            pipeline.feed_payload(record.payload, record.received_at, record.topic)
        data = snapshot.capture(pipeline, position_of(end // 2))
        store.save_snapshot(data, snapshot.read_info(data))
        size = len(data)
    started = time.monotonic()
    state = build_state(settings, build_delivery(settings, store))
    report = await state.replay_journal(lambda events: None)
    elapsed = time.monotonic() - started
    store.close()
    return elapsed, report.replayed, size


def _window(broker: Mosquitto, inflight: int) -> None:
    text = broker.conf.read_text()
    broker.conf.write_text(text.replace("max_inflight_messages 1000", f"max_inflight_messages {inflight}"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="off/on pairs per window (medians printed)")
    parser.add_argument("--batch-delay-s", type=float, default=None, help="journal_batch_delay_s (default: setting's)")
    parser.add_argument("--no-fsync", action="store_true", help="journal_fsync off (flushed to the OS only)")
    parser.add_argument("--inflight", type=int, action="append", default=None, help="broker windows (1000 and 20)")
    parser.add_argument(
        "--in-store",
        action="store_true",
        help="also the journal kept in PostgreSQL (127.0.0.1:5432), as a failover pair keeps it",
    )
    args = parser.parse_args()
    if args.batch_delay_s is not None:
        _OPTIONS["journal_batch_delay_s"] = args.batch_delay_s
    if args.no_fsync:
        _OPTIONS["journal_fsync"] = False
    n = args.messages
    print("Seawatch benchmark: feed journal (fsync per batch), real Mosquitto, QoS 1, broker backlog drained")
    print(f"   {n:,} real single-sentence messages (DMA AisLib recording), one per MQTT message")
    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(tmp) / "kept-journal"
        for inflight in args.inflight or (1000, 20):
            broker = Mosquitto(Path(tmp) / f"broker-{inflight}")
            _window(broker, inflight)
            broker.start()
            offs: list[float] = []
            ons: list[float] = []
            in_store: list[float] = []
            per_message: list[float] = []
            try:
                for round_ in range(args.rounds):  # interleaved, so a slow spell of the machine hits both
                    journal = Path(tmp) / f"journal-{inflight}-{round_}"
                    if round_ % 2:  # every other round the other way round: no bias from going first
                        on, written, messages = await _drain(broker, n, journal)
                        off, _, _ = await _drain(broker, n, None)
                    else:
                        off, _, _ = await _drain(broker, n, None)
                        on, written, messages = await _drain(broker, n, journal)
                    if args.in_store:
                        with fresh_postgres_database() as url:
                            in_store.append((await _drain_into_store(broker, n, url))[0])
                    offs.append(off)
                    ons.append(on)
                    per_message.append(written / max(messages, 1))
                    if inflight == 1000 and not kept.exists():
                        journal.rename(kept)
            finally:
                broker.stop()
            off, on = statistics.median(offs), statistics.median(ons)
            print(
                f"   broker max_inflight_messages {inflight:>4}: journal off {off:,.0f} msg/s, on {on:,.0f} msg/s "
                f"(medians of {args.rounds}), ratio {on / off:.2f}; "
                f"{statistics.median(per_message):.1f} journal bytes/message"
            )
            if in_store:
                kept_in_store = statistics.median(in_store)
                print(
                    f"   broker max_inflight_messages {inflight:>4}: journal in PostgreSQL (failover, fenced writes) "
                    f"{kept_in_store:,.0f} msg/s, ratio to off {kept_in_store / off:.2f}"
                )
        store_url = f"sqlite:///{Path(tmp) / 'alerts.db'}"
        seconds, replayed, _ = await _startup(kept, store_url, with_snapshot=False)
        print(f"   start-up, no snapshot: replay of the whole journal, {replayed:,} messages, {seconds:.2f} s")
        seconds, replayed, size = await _startup(kept, store_url, with_snapshot=True)
        print(
            f"   start-up after a crash: snapshot ({size / 1024:,.0f} KiB) + journal tail of {replayed:,} messages, "
            f"{seconds:.2f} s"
        )


if __name__ == "__main__":
    mp.freeze_support()
    asyncio.run(main())
