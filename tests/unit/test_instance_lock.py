"""The instance lock beside a SQLite store: a real file and a real ``flock``, in this process.

``flock`` locks belong to an open file, not to a process, so two locks opened here conflict
exactly as two processes would (tests/integration/test_single_instance.py runs two processes).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from seawatch.adapters.instancelock import (
    FileInstanceLock,
    InstanceLockedError,
    LockState,
    advisory_key,
    instance_lock,
)


def _lock(tmp_path: Path, client_id: str = "seawatch-ingest", db: str = "alerts.db") -> FileInstanceLock:
    lock = instance_lock(f"sqlite:///{tmp_path / db}", client_id)
    assert isinstance(lock, FileInstanceLock)
    return lock


async def _until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_a_second_lock_on_the_same_store_and_client_id_is_refused_and_names_the_holder(tmp_path: Path) -> None:
    first, second = _lock(tmp_path), _lock(tmp_path)
    await first.take()
    assert first.state is LockState.HELD
    assert first.path.parent == tmp_path and first.path.name.startswith("alerts.db.")
    assert first.path.name.endswith(".lock")
    written = json.loads(first.path.read_text())
    assert written["pid"] == os.getpid() and written["client_id"] == "seawatch-ingest"

    with pytest.raises(InstanceLockedError) as refused:
        await second.take()
    message = str(refused.value)
    assert f"pid {os.getpid()} on host {socket.gethostname()}, since {written['since']}" in message
    assert "client id 'seawatch-ingest'" in message and f"sqlite:///{tmp_path / 'alerts.db'}" in message
    assert message.endswith("stop it or give this one its own mqtt_client_id")
    assert second.state is LockState.RELEASED
    await first.release()


async def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    first, second = _lock(tmp_path), _lock(tmp_path)
    await first.take()
    await first.release()
    assert first.state is LockState.RELEASED
    await second.take()
    assert second.state is LockState.HELD
    assert json.loads(second.path.read_text())["pid"] == os.getpid()
    await second.release()


async def test_other_client_ids_and_other_stores_have_locks_of_their_own(tmp_path: Path) -> None:
    locks = [_lock(tmp_path), _lock(tmp_path, "seawatch-rcc-2"), _lock(tmp_path, db="other.db")]
    for lock in locks:
        await lock.take()
    assert [lock.state for lock in locks] == [LockState.HELD] * 3
    assert len({lock.path for lock in locks}) == 3
    for lock in locks:
        await lock.release()


async def test_the_keeper_takes_a_removed_lock_file_again_and_stops_if_another_instance_took_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = _lock(tmp_path)
    lock.check_interval_s = lock.retry_min_s = 0.05
    await lock.take()
    keeper = asyncio.create_task(lock.keep())
    try:
        lock.path.unlink()  # someone cleaned up the directory
        assert await _until(lambda: "taken (it was lost)" in caplog.text), caplog.text
        assert lock.path.exists() and lock.state is LockState.HELD

        lock.path.unlink()
        intruder = _lock(tmp_path)  # another instance starts while the file is gone, and takes the new one
        await intruder.take()
        with pytest.raises(InstanceLockedError, match=r"took the lock .* while this one's lock was lost"):
            await asyncio.wait_for(keeper, 10)
        assert lock.state is LockState.LOST
        await intruder.release()
    finally:
        keeper.cancel()
        await lock.release()


async def test_a_store_directory_that_cannot_be_written_leaves_the_lock_waiting(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    lock = instance_lock(f"sqlite:///{blocker / 'alerts.db'}", "seawatch-ingest")
    await lock.take()
    assert lock.state is LockState.WAITING
    assert lock.view()["last_error"]


def test_the_advisory_key_is_stable_signed_64_bit_and_never_the_migration_lock() -> None:
    key = advisory_key("seawatch-ingest")
    assert key == advisory_key("seawatch-ingest") == -4_683_730_637_558_854_462
    assert -(2**63) <= key < 2**63
    assert advisory_key("seawatch-rcc-2") != key
    assert 0x5EA_A7C4 not in {advisory_key(f"client-{n}") for n in range(1000)}
