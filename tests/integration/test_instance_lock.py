"""The instance lock in PostgreSQL: a real server, a fresh database per test.

The lock is a session-level advisory lock on a connection of its own; the server ends
that session when the connection drops, and with it the lock. Terminating the session
from outside (``pg_terminate_backend``) is exactly what a store restart does to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg
import pytest

from seawatch.adapters.instancelock import (
    InstanceLockedError,
    LockState,
    PostgresInstanceLock,
    advisory_key,
    instance_lock,
)
from tests.integration.mosquitto import free_port
from tests.integration.tcpproxy import TcpProxy
from tests.integration.test_store import fresh_postgres_database


def _lock(url: str, client_id: str = "seawatch-ingest") -> PostgresInstanceLock:
    lock = instance_lock(url, client_id)
    assert isinstance(lock, PostgresInstanceLock)
    lock.check_interval_s = lock.retry_min_s = 0.05
    return lock


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _backend_holding(url: str, key: int) -> int | None:
    """The server pid of the session that holds the advisory lock ``key``, if any."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    with _admin(url) as admin:
        row = admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND classid::bigint = %s AND objid::bigint = %s",
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchone()
    return None if row is None else int(row[0])


def _terminate(url: str, pid: int) -> None:
    with _admin(url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def _until(predicate: Callable[[], object], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_second_lock_is_refused_with_the_holder_and_free_again_once_released() -> None:
    with fresh_postgres_database() as url:
        first, second = _lock(url), _lock(url)
        await first.take()
        assert first.state is LockState.HELD
        backend = _backend_holding(url, advisory_key("seawatch-ingest"))
        assert backend is not None
        with _admin(url) as admin:
            row = admin.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()
        assert row == (first.application_name,)
        assert first._conn is not None  # the server's own lease on the lock's session
        assert await (await first._conn.execute("SHOW idle_session_timeout")).fetchone() == ("30s",)
        who = rf"seawatch {os.getpid()}@{re.escape(socket.gethostname())}#[0-9a-f]{{4}}"
        assert re.fullmatch(who + " seawatch-ingest", first.application_name)

        with pytest.raises(InstanceLockedError) as refused:
            await second.take()
        message = str(refused.value)
        assert f"(pid {os.getpid()} on host {socket.gethostname()}, since " in message
        assert f"PostgreSQL backend {backend}" in message
        assert "client id 'seawatch-ingest'" in message and url in message

        await first.release()
        assert _backend_holding(url, advisory_key("seawatch-ingest")) is None
        await second.take()
        assert second.state is LockState.HELD
        await second.release()


async def test_other_client_ids_and_other_databases_have_locks_of_their_own() -> None:
    with fresh_postgres_database() as url, fresh_postgres_database() as other:
        locks = [_lock(url), _lock(url, "seawatch-rcc-2"), _lock(other)]
        for lock in locks:
            await lock.take()
        assert [lock.state for lock in locks] == [LockState.HELD] * 3
        for lock in locks:
            await lock.release()


async def test_a_lock_lost_with_its_connection_is_taken_again_by_the_keeper(caplog: pytest.LogCaptureFixture) -> None:
    with fresh_postgres_database() as url:
        lock = _lock(url)
        await lock.take()
        keeper = asyncio.create_task(lock.keep())
        try:
            key = advisory_key("seawatch-ingest")
            before = _backend_holding(url, key)
            assert before is not None
            _terminate(url, before)  # what a restart of the store does to the session
            assert await _until(lambda: _backend_holding(url, key) not in (None, before)), lock.view()
            assert lock.state is LockState.HELD and not keeper.done()
            assert "lost (terminating connection due to administrator command)" in caplog.text
            assert "taken (it was lost)" in caplog.text
        finally:
            keeper.cancel()
            await lock.release()


async def test_an_instance_whose_lost_lock_another_took_stops() -> None:
    with fresh_postgres_database() as url:
        lock, intruder = _lock(url), _lock(url)
        lock.check_interval_s = 2.0  # the intruder, trying all the while, takes the lock before the next check
        await lock.take()
        keeper = asyncio.create_task(lock.keep())
        try:
            holder = _backend_holding(url, advisory_key("seawatch-ingest"))
            assert holder is not None
            _terminate(url, holder)

            async def intrude() -> None:
                while True:
                    with contextlib.suppress(InstanceLockedError):  # until the server has ended that session
                        await intruder.take()
                        return
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(intrude(), 10)
            assert intruder.state is LockState.HELD
            with pytest.raises(InstanceLockedError, match=r"took the lock .* while this one's lock was lost"):
                await asyncio.wait_for(keeper, 20)
            assert lock.state is LockState.LOST
        finally:
            keeper.cancel()
            await lock.release()
            await intruder.release()


async def test_a_store_unreachable_at_start_leaves_the_lock_waiting_until_it_answers() -> None:
    with fresh_postgres_database() as url:
        lock = _lock(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
        await lock.take()
        assert lock.state is LockState.WAITING
        view = lock.view()
        assert view["state"] == "waiting" and "Connection refused" in str(view["last_error"])
        assert view["key"] == f"pg_advisory_lock({advisory_key('seawatch-ingest')})"
        # the same lock, pointed at a server that answers: the keeper takes it
        reachable = _lock(url)
        reachable.state = LockState.WAITING
        keeper = asyncio.create_task(reachable.keep())
        try:
            assert await _until(lambda: reachable.state is LockState.HELD), reachable.view()
        finally:
            keeper.cancel()
            await reachable.release()


HOLD = """
import asyncio, sys
from seawatch.adapters.instancelock import instance_lock

async def hold() -> None:
    lock = instance_lock(sys.argv[1], "seawatch-ingest")
    await lock.take()
    print(lock.state.value, flush=True)
    await asyncio.Event().wait()

asyncio.run(hold())
"""


def _hold_then_vanish(url: str) -> None:
    """Another process takes the lock through a proxy; the proxy is cut, and the process killed."""
    proxy = TcpProxy("127.0.0.1", 5432).start()
    proxied = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, proxied], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        proxy.cut()
    finally:
        holder.kill()
        holder.wait(10)
        proxy.stop()


async def test_the_session_of_a_process_here_that_ended_behind_a_network_cut_is_ended_and_the_lock_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The cut leaves the server holding the session (nothing reaches it); its process is gone (SIGKILL)."""
    with fresh_postgres_database() as url:
        _hold_then_vanish(url)
        stale = _backend_holding(url, advisory_key("seawatch-ingest"))
        lock = _lock(url)
        await lock.take()
        assert lock.state is LockState.HELD
        if stale is not None:  # the server had not noticed: the session was ended for it
            assert "ended the stale session" in caplog.text
            assert _backend_holding(url, advisory_key("seawatch-ingest")) != stale
        await lock.release()
