"""One running instance per alert store and MQTT client id (docs/operations.md, "One instance per store").

Why: the broker keeps one session per client id. Two services started with the same
configuration take that session from each other about twice a second, and each writes
alerts into the same store; neither works. So before the MQTT source connects, the
service takes a lock that lives with the store and is keyed by the store and the
client id, and a second service with the same pair refuses to start in one line.

Where the lock lives:

* **SQLite**: an exclusive ``flock`` on a file beside the database,
  ``<database file>.<8 hex digits of the client id's SHA-256>.lock``, whose text says
  who holds it (pid, host, client id, since). The operating system releases it when the
  process ends, however it ends; the file itself stays (removing it would let two
  processes lock two different files of the same name).
* **PostgreSQL**: a session-level advisory lock, ``pg_try_advisory_lock(key)``, on a
  connection of its own whose ``application_name`` is ``seawatch <pid>@<host>#<token> <client id>``.
  ``key`` is the first eight bytes of SHA-256 of ``seawatch.instance-lock`` NUL client id,
  as a signed 64-bit integer (:func:`advisory_key`); the store's migration lock
  (0x5EAA7C4, taken inside transactions) is never that key. The server releases the lock
  when that connection ends, so a store outage loses it: :meth:`InstanceLock.keep`, a
  supervised task, checks it every few seconds and takes it again when the store answers.
  If another instance took it meanwhile, this one must not go on beside it: ``keep``
  raises :class:`InstanceLockedError` and the service stops. A network cut can leave the
  server holding a session whose client is gone: the lock's session sets
  ``idle_session_timeout`` (30 s; the keeper's checks keep a live one busy), and a session
  that is surely stale (this lock's own earlier one, or one of a process on this host that
  has ended) is ended at once with ``pg_terminate_backend``.

A store that cannot be reached when the service starts does not stop it (alert events
wait in the spool): the lock is then *waiting*, and ``keep`` takes it when it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import socket
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import psycopg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from seawatch.adapters.mqtt import Backoff
from seawatch.adapters.pglink import PostgresLink

log = logging.getLogger(__name__)

CHECK_INTERVAL_S: Final = 5.0
"""How often a held lock is checked (a PostgreSQL connection can drop with the store)."""

RETRY_MIN_S: Final = 1.0
RETRY_MAX_S: Final = 30.0
"""Backoff between attempts to take a waiting or lost lock (full jitter, doubling)."""

IDLE_SESSION_TIMEOUT_S: Final = 30.0
"""PostgreSQL ends the lock's session after this long without a check (a holder gone behind a network cut)."""

POSTGRES_TIMEOUT_S: Final = 5.0
"""Longest a connect or a query of the lock connection may take before the store counts as unreachable."""

_NAMESPACE: Final = b"seawatch.instance-lock\x00"
_MIGRATION_LOCK_ID: Final = 0x5EA_A7C4  # the store's own advisory lock (adapters/store.py)
_MAX_APPLICATION_NAME: Final = 63  # PostgreSQL keeps NAMEDATALEN - 1 bytes


class LockState(StrEnum):
    HELD = "held"  # this instance holds it
    WAITING = "waiting"  # not taken yet: the store could not be reached at start
    LOST = "lost"  # was held; the store dropped it; being taken again
    RELEASED = "released"  # not running (before start, after stop)


class InstanceLockedError(RuntimeError):
    """Another instance holds the lock for this store and client id: this one must not run."""

    def __init__(self, holder: str, client_id: str, store: str, *, while_running: bool = False) -> None:
        self.holder = holder
        what = "took" if while_running else "holds"
        when = " while this one's lock was lost with the store" if while_running else ""
        super().__init__(
            f"another Seawatch instance ({holder}) {what} the lock for client id {client_id!r} on {store}{when}; "
            "stop it or give this one its own mqtt_client_id"
        )


class LockUnavailableError(RuntimeError):
    """The store cannot be asked now (unreachable, refused): try again later."""


def advisory_key(client_id: str) -> int:
    """The PostgreSQL advisory lock key of ``client_id``: stable across versions, hosts and Python runs."""
    digest = hashlib.sha256(_NAMESPACE + client_id.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    return key + 1 if key == _MIGRATION_LOCK_ID else key  # never the store's migration lock


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class InstanceLock(ABC):
    """The lock of one (store, client id); :meth:`take` at start, :meth:`keep` while running, then :meth:`release`."""

    def __init__(self, client_id: str, store: str) -> None:
        self.client_id = client_id
        self.store = store  # the store's URL, password hidden
        self.state = LockState.RELEASED
        self.since: datetime | None = None  # when it entered its state
        self.last_error: str | None = None
        self.check_interval_s = CHECK_INTERVAL_S
        self.retry_min_s = RETRY_MIN_S
        self.retry_max_s = RETRY_MAX_S

    @property
    @abstractmethod
    def key(self) -> str:
        """Where the lock is, for health: a file path, or the advisory lock key."""

    @abstractmethod
    async def _try(self) -> str | None:
        """Take the lock: None once held, else who holds it; :class:`LockUnavailableError` if the store is away."""

    @abstractmethod
    async def _still_held(self) -> bool:
        """Whether the lock taken is still this instance's (:class:`LockUnavailableError` if it cannot tell)."""

    @abstractmethod
    async def _drop(self) -> None:
        """Let go of the lock and whatever held it (a file, a connection)."""

    async def take(self) -> None:
        """At start, before the source connects: held; or waiting if the store is away; or refused (raises)."""
        try:
            holder = await self._try()
        except LockUnavailableError as exc:
            self._enter(LockState.WAITING, str(exc))
            log.warning(
                "the store %s cannot be reached (%s): the instance lock for client id %r will be taken when it can be",
                self.store,
                exc,
                self.client_id,
            )
            return
        if holder is not None:
            raise InstanceLockedError(holder, self.client_id, self.store)
        self._enter(LockState.HELD)
        log.info("instance lock for client id %r on %s taken (%s)", self.client_id, self.store, self.key)

    async def keep(self) -> None:
        """Check the lock while the service runs; take it again when lost; raise if another instance took it.

        Runs for as long as the service does, under the supervisor; it ends only by raising
        :class:`InstanceLockedError` (the service must stop).
        """
        backoff = Backoff(self.retry_min_s, self.retry_max_s)
        while True:
            if self.state is LockState.HELD:
                await asyncio.sleep(self.check_interval_s)
                try:
                    if await self._still_held():
                        continue
                    reason = "the lock is no longer this instance's"
                except LockUnavailableError as exc:
                    reason = str(exc)
                await self._drop()
                self._enter(LockState.LOST, reason)
                log.error(
                    "instance lock for client id %r on %s lost (%s); taking it again when the store answers",
                    self.client_id,
                    self.store,
                    reason,
                )
                backoff.reset()
                continue
            try:
                holder = await self._try()
            except LockUnavailableError as exc:
                self.last_error = str(exc)
                await asyncio.sleep(backoff.next_delay_s())
                continue
            if holder is not None:
                lost = self.state is LockState.LOST  # else waiting: never held since the start
                error = InstanceLockedError(holder, self.client_id, self.store, while_running=lost)
                log.critical("stopping: %s", error)
                raise error
            previous = self.state
            self._enter(LockState.HELD)
            log.warning("instance lock for client id %r on %s taken (it was %s)", self.client_id, self.store, previous)

    async def release(self) -> None:
        """At the stop, once the source has disconnected."""
        await self._drop()
        self._enter(LockState.RELEASED)

    def view(self) -> dict[str, object]:
        """The lock as ``/healthz`` shows it."""
        return {
            "state": self.state.value,
            "key": self.key,
            "client_id": self.client_id,
            "since": None if self.since is None else self.since.isoformat(),
            "last_error": self.last_error,
        }

    def _enter(self, state: LockState, error: str | None = None) -> None:
        self.state = state
        self.since = _now()
        self.last_error = error


class FileInstanceLock(InstanceLock):
    """An exclusive ``flock`` on a file beside the SQLite database."""

    def __init__(self, database: Path, client_id: str, store: str) -> None:
        super().__init__(client_id, store)
        tag = hashlib.sha256(client_id.encode()).hexdigest()[:8]
        self.path = database.with_name(f"{database.name}.{tag}.lock")
        self._fd: int | None = None

    @property
    def key(self) -> str:
        return str(self.path)

    async def _try(self) -> str | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockUnavailableError(f"cannot open {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_file_holder(fd)
            os.close(fd)
            return holder
        except OSError as exc:
            os.close(fd)
            raise LockUnavailableError(f"cannot lock {self.path}: {exc.strerror}") from None
        text = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "client_id": self.client_id, "since": _now().isoformat()}
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, (text + "\n").encode(), 0)
        self._fd = fd
        return None

    async def _still_held(self) -> bool:
        """Held while the path still names the locked file (someone may have removed or replaced it)."""
        if self._fd is None:
            return False
        try:
            on_disk = self.path.stat()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise LockUnavailableError(f"cannot read {self.path}: {exc.strerror}") from None
        mine = os.fstat(self._fd)
        return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

    async def _drop(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock


def _describe_file_holder(fd: int) -> str:
    """What the holder wrote into the lock file; it may be writing it this instant."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode())
        return f"pid {int(holder['pid'])} on host {holder['host']}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder not known"


_HOLDER_SQL: Final = """
SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = %(high)s AND l.objid::bigint = %(low)s
"""

_MINE_SQL: Final = """
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = pg_backend_pid()
    AND classid::bigint = %(high)s AND objid::bigint = %(low)s
)
"""


class PostgresInstanceLock(InstanceLock):
    """A session-level advisory lock on a PostgreSQL connection kept open for it."""

    def __init__(self, url: URL, client_id: str) -> None:
        super().__init__(client_id, url.render_as_string(hide_password=True))
        self._link = PostgresLink.of(url)
        self.advisory_key = advisory_key(client_id)
        unsigned = self.advisory_key & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks splits the key in two unsigned halves
        self._halves = {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}
        # unique to this lock (a token beside pid and host): its own earlier sessions are told by it
        who = f"seawatch {os.getpid()}@{socket.gethostname()}#{secrets.token_hex(2)}"
        self.application_name = _application_name(who, client_id)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def key(self) -> str:
        return f"pg_advisory_lock({self.advisory_key})"

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            conn = self._conn = await self._link.connect(self.application_name, POSTGRES_TIMEOUT_S)
            try:
                # A lease on the server's side: the keeper asks every few seconds, so only a
                # holder that stopped asking (gone behind a network cut) sits idle this long,
                # and the server then ends its session, and the lock with it. PostgreSQL 14+.
                await conn.execute(f"SET idle_session_timeout = '{int(IDLE_SESSION_TIMEOUT_S * 1000)}ms'")
            except psycopg.errors.UndefinedObject:
                log.debug(
                    "this PostgreSQL has no idle_session_timeout: a holder gone behind a network cut "
                    "keeps the lock until the server notices its connection is dead"
                )
        return self._conn

    async def _try(self) -> str | None:
        try:
            async with asyncio.timeout(POSTGRES_TIMEOUT_S * 3):
                conn = await self._connection()
                if await self._lock(conn):
                    return None
                row = await (await conn.execute(_HOLDER_SQL, self._halves)).fetchone()
                if row is not None and self._stale(row[1]):
                    # A session the server has not yet noticed is dead (a network cut): this
                    # lock's own earlier one, or one of a process on this host that has ended.
                    await conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                    for _ in range(30):  # the backend ends, and lets go, a moment later
                        await asyncio.sleep(0.1)
                        if await self._lock(conn):
                            log.warning("ended the stale session (%s) that held the instance lock", row[1])
                            return None
                    raise LockUnavailableError(f"a stale session ({row[1]}) still holds the lock")
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self._drop()
            raise LockUnavailableError(self._scrub(exc)) from None
        await self._drop()  # refused: nothing to keep a connection for
        if row is None:  # the holder let go between the two queries: try again
            raise LockUnavailableError("the lock was held a moment ago and is free now")
        return _describe_backend(*row)

    async def _lock(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.advisory_key,))).fetchone()
        return bool(row and row[0])

    def _stale(self, application: str | None) -> bool:
        """Whether the holder is surely gone: this lock's own earlier session, or a Seawatch here that has ended."""
        if application == self.application_name:
            return True
        ours = _OURS.match(application or "")
        if ours is None or ours[2] != socket.gethostname() or int(ours[1]) == os.getpid():
            return False  # elsewhere, or this very process (another lock of it): it may well be running
        try:
            os.kill(int(ours[1]), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # alive, another user's
        return False

    async def _still_held(self) -> bool:
        conn = self._conn
        if conn is None or conn.closed:
            return False
        try:
            async with asyncio.timeout(POSTGRES_TIMEOUT_S):
                row = await (await conn.execute(_MINE_SQL, self._halves)).fetchone()
        except (psycopg.Error, OSError, TimeoutError) as exc:
            raise LockUnavailableError(self._scrub(exc)) from None
        return bool(row and row[0])

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()  # the server releases a session's advisory locks when it ends

    def _scrub(self, exc: BaseException) -> str:
        return self._link.reason(exc, POSTGRES_TIMEOUT_S)


_OURS: Final = re.compile(r"seawatch (\d+)@([^#\s]+)#[0-9a-f]+ ")


def _describe_backend(backend_pid: int, application: str | None, address: str | None, started: datetime | None) -> str:
    """``pid 1234 on host x, since …; PostgreSQL backend 5678 from 10.0.0.5``, from ``pg_stat_activity``."""
    since = started.astimezone(UTC).replace(microsecond=0).isoformat() if started else "?"
    ours = _OURS.match(application or "")
    who = f"pid {ours[1]} on host {ours[2]}" if ours else f"application {application or '(none)'!r}"
    where = f" from {address}" if address else ""
    return f"{who}, since {since}; PostgreSQL backend {backend_pid}{where}"


def _application_name(who: str, client_id: str) -> str:
    """``seawatch <pid>@<host>#<token> <client id>``, cut to what PostgreSQL keeps (the client id goes first)."""
    name = f"{who} {client_id}"
    return name.encode()[:_MAX_APPLICATION_NAME].decode(errors="ignore")


def instance_lock(store_url: str, client_id: str) -> InstanceLock:
    """The lock for this store and client id (nothing is opened here: :meth:`InstanceLock.take` does it)."""
    try:
        url = make_url(store_url)
    except (ArgumentError, ValueError):
        raise ValueError("the store URL is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = Path(url.database or "").expanduser().absolute()
        return FileInstanceLock(database, client_id, url.render_as_string(hide_password=True))
    if backend == "postgresql":
        return PostgresInstanceLock(url, client_id)
    raise ValueError(f"unsupported database {backend!r}")
