"""The failover lease and the store's fence, on a real PostgreSQL database of each test's own.

Two :class:`Lease` objects stand for the two instances of a pair. Waits are for a state
(the lease run out, a takeover taken), polled, never a fixed sleep that a test relies on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from seawatch.adapters.journal import ReadStats, Record, encode_chunk
from seawatch.adapters.lease import Lease, LeaseLostError, LeaseUnavailableError, Role, lease_for
from seawatch.adapters.store import AlertStore, Fence, FencedError
from seawatch.adapters.storejournal import StoreJournalWriter, store_records
from seawatch.core.alerts import AlertEvent
from seawatch.core.snapshot import SnapshotInfo
from seawatch.runtime.failover import Follower, JournalGapError
from seawatch.runtime.state import StateKeeper
from tests.integration.test_store import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "replay_data" / "scenarios"
ZONES = ROOT / "zones"

NAME = "seawatch-pair"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        AlertStore(url).close()  # migrations: the leases and journal_chunks tables
        yield url


def _lease(url: str, instance: str, ttl_s: float = 8.0) -> Lease:
    return Lease(make_url(url), NAME, instance, f"http://{instance}.example/", ttl_s)


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


def _fence(store: AlertStore, lease: Lease, fenced: list[str]) -> Fence:
    assert lease.token is not None
    return Fence(lease.name, lease.token, lease.valid, fenced.append)


def _chunk(first_seq: int, payloads: list[bytes]) -> bytes:
    return encode_chunk(first_seq, [(p, T0, "ais/rx") for p in payloads])


def test_one_leads_the_other_waits_and_sees_who_leads(pg_url: str) -> None:
    async def scenario() -> None:
        a, b = _lease(pg_url, "a"), _lease(pg_url, "b")
        try:
            assert await a.acquire() and a.role is Role.LEADER and a.token == 1 and a.valid()
            assert not await b.acquire() and b.role is Role.STANDBY and not b.valid()
            assert b.leader is not None and b.leader.instance == "a" and b.leader.token == 1
            assert b.leader.url == "http://a.example/" and b.leader.expires_in_s > 0
            assert await a.renew() and a.token == 1  # renewing keeps the token
            assert not await b.acquire()
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_a_lease_run_out_is_taken_with_a_new_token_and_the_old_holder_cannot_renew(pg_url: str) -> None:
    async def scenario() -> None:
        a, b = _lease(pg_url, "a", ttl_s=1.0), _lease(pg_url, "b", ttl_s=1.0)
        try:
            assert await a.acquire()
            await _until(b.acquire)  # once a's lease has run out on the server's clock
            assert b.token == 2 and b.valid()
            assert not a.valid()  # its own clock said so before the server did
            assert not await a.renew()
            with pytest.raises(LeaseLostError, match=r"b \(token 2\) took the lease"):
                await a.keep()
            assert a.role is Role.STANDBY
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_a_released_lease_is_taken_at_once(pg_url: str) -> None:
    async def scenario() -> None:
        a, b = _lease(pg_url, "a", ttl_s=300.0), _lease(pg_url, "b", ttl_s=300.0)
        try:
            assert await a.acquire()
            assert not await b.acquire()
            await a.release()
            assert a.role is Role.STANDBY
            assert await b.acquire() and b.token == 2  # no wait for the 300 s lease
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_a_store_that_does_not_answer_is_unavailable_not_lost() -> None:
    async def scenario() -> None:
        lease = lease_for("postgresql+psycopg://postgres@127.0.0.1:1/none", NAME, "a", None, 8.0)
        with pytest.raises(LeaseUnavailableError):
            await lease.acquire()
        assert lease.role is Role.STANDBY

    asyncio.run(scenario())


def test_failover_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        lease_for("sqlite:///alerts.db", NAME, "a", None, 8.0)


def test_every_write_of_a_leader_whose_token_is_not_current_is_refused(pg_url: str) -> None:
    async def scenario() -> None:
        a, b = _lease(pg_url, "a", ttl_s=1.0), _lease(pg_url, "b", ttl_s=60.0)
        store_a, store_b = AlertStore(pg_url), AlertStore(pg_url)
        fenced: list[str] = []
        try:
            assert await a.acquire()
            store_a.fence = _fence(store_a, a, fenced)
            store_a.append_journal(0, 1, _chunk(0, [b"one"]), T0)  # a leads: written
            await _until(b.acquire)
            store_b.fence = _fence(store_b, b, [])
            # a's own clock has run out: refused before the store is asked
            with pytest.raises(FencedError, match="has run out"):
                store_a.append_journal(1, 1, _chunk(1, [b"two"]), T0)
            # a paused leader whose clock has not noticed yet: the store itself refuses it
            store_a.fence = Fence(NAME, 1, lambda: True, fenced.append)
            with pytest.raises(FencedError, match="token 2 leads now"):
                store_a.append_journal(1, 1, _chunk(1, [b"two"]), T0)
            with pytest.raises(FencedError):
                store_a.trim_journal(10)
            with pytest.raises(FencedError):
                store_a.save_snapshot(b"x", SnapshotInfo("journal:1", None, T0, 1, 0, 0))
            with pytest.raises(FencedError):
                store_a.disable_partner("ngo", T0, "test")
            assert fenced and "token 2 leads now" in fenced[0]
            store_b.append_journal(1, 1, _chunk(1, [b"three"]), T0)  # b leads: written
            records = list(store_records(store_b, 0))
            assert [r.payload for r in records] == [b"one", b"three"]
        finally:
            store_a.close()
            store_b.close()
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_a_standby_fence_refuses_everything(pg_url: str) -> None:
    store = AlertStore(pg_url)
    try:
        store.fence = Fence(NAME, -1, lambda: False, lambda reason: None)
        assert not store.may_act()
        with pytest.raises(FencedError):
            store.append_journal(0, 1, _chunk(0, [b"x"]), T0)
        assert store.journal_bounds() == (0, 0, 0, 0)  # reads are not fenced
    finally:
        store.close()


def test_the_store_journal_reads_back_skips_a_corrupt_chunk_and_is_trimmed_by_the_oldest_snapshot(
    pg_url: str,
) -> None:
    store = AlertStore(pg_url)
    try:
        writer = StoreJournalWriter(store)
        writer.write(0, [(b"a", T0, "ais/rx"), (b"b", T0, "ais/rx")])
        writer.write(2, [(b"c", T0, "ais/rx")])
        bad = bytearray(_chunk(3, [b"d"]))
        bad[-1] ^= 0xFF  # the CRC no longer matches
        store.append_journal(3, 1, bytes(bad), T0)
        writer.write(4, [(b"e", T0, "ais/rx")])
        stats = ReadStats()
        records = list(store_records(store, 1, stats))
        assert [(r.seq, r.payload) for r in records] == [(1, b"b"), (2, b"c"), (4, b"e")]
        assert stats.corrupt == 1 and isinstance(records[0], Record)
        assert store.journal_bounds()[:3] == (0, 5, 4)
        assert writer.trim() == 0  # no snapshot yet: every chunk is needed
        store.save_snapshot(b"s", SnapshotInfo("journal:3", None, T0, 1, 0, 0))
        assert writer.trim() == 2  # chunks wholly before 3
        assert store.journal_bounds()[:3] == (3, 5, 2)
    finally:
        store.close()


def _pair_state(url: str) -> tuple[AlertStore, StateKeeper]:
    from seawatch.config.settings import Settings
    from seawatch.runtime.compose import build_pair_state

    settings = Settings(failover=True, store_url=url, zones_dir=ZONES, shore_distance=False, alerts_topic_prefix="")
    store = AlertStore(url)
    return store, build_pair_state(settings, store)


def test_a_standby_follows_the_journal_through_its_own_pipeline_and_remembers_its_events(pg_url: str) -> None:
    lines = [line for line in (SCENARIOS / "beacons_active.nmea").read_bytes().splitlines() if line.strip()]
    store, state = _pair_state(pg_url)
    writer = StoreJournalWriter(store)
    for first in range(0, len(lines), 300):
        writer.write(first, [(line, T0, "ais/rx") for line in lines[first : first + 300]])
    shown: list[AlertEvent] = []

    async def follow() -> int:
        return await Follower(state, store, shown.extend).catch_up()

    try:
        follower_fed = asyncio.run(follow())
        assert follower_fed == len(lines) and state.seq == len(lines)
        # the same as one pipeline fed the same records
        _, alone = _pair_state(pg_url)
        expected = [ev for line in lines for ev in alone.pipeline.feed_record(line, T0, "ais/rx").events]
        assert [(e.id, e.sequence) for e in shown] == [(e.id, e.sequence) for e in expected]
        assert {e.kind.value for e in shown} >= {"distress"}
        assert len(state.pipeline.fleet) == len(alone.pipeline.fleet)
    finally:
        store.close()


def test_a_standby_the_journal_left_behind_must_start_again(pg_url: str) -> None:
    store, state = _pair_state(pg_url)
    try:
        store.append_journal(10, 1, _chunk(10, [b"!AIVDM,late"]), T0)  # the chunks before 10 are gone
        with pytest.raises(JournalGapError, match="journal:10"):
            asyncio.run(Follower(state, store, lambda events: None).step())
    finally:
        store.close()


def test_a_takeover_waits_for_a_write_in_flight_and_a_renewal_does_not(pg_url: str) -> None:
    async def scenario() -> None:
        a, b = _lease(pg_url, "a", ttl_s=1.0), _lease(pg_url, "b", ttl_s=1.0)
        store = AlertStore(pg_url)
        try:
            assert await a.acquire()
            assert a.token is not None
            store.fence = Fence(NAME, a.token, lambda: True, lambda reason: None)
            write = store._write()
            write.__enter__()  # a write of the leader in flight: it holds the lease row FOR KEY SHARE
            try:
                assert await a.renew()  # the leader's own renewal is not held up by it

                async def run_out() -> bool:
                    holder = await b.refresh()
                    return holder is not None and holder.expires_in_s < 0

                await _until(run_out)
                with pytest.raises(LeaseUnavailableError, match="did not answer"):
                    await b.acquire()  # the takeover waits for the write to end
            finally:
                write.__exit__(None, None, None)  # committed
            assert await b.acquire() and b.token == 2
        finally:
            store.close()
            await a.close()
            await b.close()

    asyncio.run(scenario())
