"""The durable alert store and webhook outbox (docs/delivery.md).

Alerts must survive restarts, and a partner that is down, or a crash mid-delivery,
must lose nothing. So every alert event is written here — the alert's current state,
its audit log, and one outbox row per partner that should hear of it — in ONE
transaction, and the webhook dispatcher works only from the outbox.

Why synchronous (SQLAlchemy Core over a plain engine, no asyncio): the ingest writes
an alert event inside the MQTT receive callback, before the AIS message that caused it
is acknowledged to the broker, so the event is durable before its cause is acked.
Alerts are rare, so a few milliseconds per write cost nothing. The dispatcher and the
web app call the store from worker threads (``asyncio.to_thread``), so one store is
shared by many threads: each call takes its own pooled connection and transaction.

SQLite (the default, one file) runs in WAL mode so readers never block the writer,
with a busy timeout so concurrent writers queue instead of failing; write transactions
start with ``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock.
``synchronous=NORMAL``: in WAL mode a crash of the process loses nothing; a power cut
may lose the last commits. PostgreSQL is reached through psycopg 3.

Schema (version 1; the ``schema_version`` table records which migrations ran):

* ``alerts`` — one row per alert: its latest state and ``last_event`` (the JSON of
  :func:`seawatch.core.serialize.alert_event_json`).
* ``alert_events`` — the audit log: every event of every alert, keyed (alert_id, sequence).
* ``outbox`` — one row per (partner, alert, sequence): the exact body to POST, its
  Standard Webhooks ``webhook-id``, attempts and the next attempt time;
  status ``pending`` -> ``delivered`` | ``dead`` (and ``dead`` -> ``pending`` on requeue).
* ``partner_state`` — partners switched off (e.g. after HTTP 410 Gone), with the reason.
* ``snapshots`` (migration 2) — the newest few snapshots of the core's state, each with
  the feed position it corresponds to (docs/state.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Dialect,
    Double,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator, TypeEngine

from seawatch.core.alerts import AlertEvent, Status
from seawatch.core.serialize import alert_event_json, alert_event_to_dict, event_from_dict
from seawatch.core.snapshot import SnapshotInfo

log = logging.getLogger(__name__)

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"
DELIVERY_STATUSES: Final = (PENDING, DELIVERED, DEAD)

OPEN_STATUSES: Final = (Status.OPEN.value, Status.ACKNOWLEDGED.value)
"""Alerts still needing someone's attention: what a restart must bring back."""

SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
"""How long a SQLite writer waits for another to commit before giving up."""

POSTGRES_CONNECT_TIMEOUT_S: Final = 10
"""How long opening a PostgreSQL connection may take before the store reports it."""

IDLE_IN_TRANSACTION_S: Final = 5
"""PostgreSQL ends a session of the store left idle inside a transaction this long (a paused process)."""

MAX_ERROR_CHARS: Final = 2000
"""Longest delivery error kept (a partner's error page can be megabytes)."""

_SQLITE_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_WRITE_OPTION: Final = "seawatch_write"
_MIGRATION_LOCK_ID: Final = 0x5EA_A7C4  # PostgreSQL advisory lock: one migrating process at a time
_ALERT_COLUMNS_UPDATED: Final = (
    "severity",
    "status",
    "mmsi",
    "zone_id",
    "lat",
    "lon",
    "updated_at",
    "sequence",
    "last_event",
)  # an alert's id, kind, test flag and opened_at never change
_IDS_PER_STATEMENT: Final = 500  # keeps IN (...) lists well under every driver's parameter limit


class StoreError(RuntimeError):
    """The alert store cannot be opened or used (the message never holds a password)."""


class FencedError(StoreError):
    """A write refused because this instance no longer holds the failover lease (docs/failover.md)."""


@dataclass(frozen=True, slots=True)
class Fence:
    """What a leader's every write checks: the lease row ``name`` still carries ``token``.

    ``valid`` is the leader's own check on its monotonic clock (asked first, so a paused
    leader does not even try); ``on_fenced`` is told when the store says another
    instance leads, so the leader stops at once rather than at its next renewal.
    """

    name: str
    token: int
    valid: Callable[[], bool]
    on_fenced: Callable[[str], None]


class OutboxItem(NamedTuple):
    """One webhook to send: recorded with the alert event that it carries."""

    partner: str
    alert_id: str
    sequence: int
    kind: str
    fmt: str  # "json" | "cap"
    body: str  # the exact text to POST


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: a webhook body for one partner and its delivery state."""

    id: int
    webhook_id: str  # stable across retries and restarts, so the partner can drop duplicates
    partner: str
    alert_id: str
    sequence: int
    kind: str
    fmt: str
    body: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    status: str  # "pending" | "delivered" | "dead"


def webhook_id(partner: str, alert_id: str, sequence: int) -> str:
    """The Standard Webhooks ``webhook-id`` of one event for one partner.

    Derived, not random, so that a row re-created after a crash (or a retry from a
    restored backup) carries the id the partner already saw and is dropped there.
    """
    seed = f"{partner}\x00{alert_id}\x00{sequence}".encode()
    return "msg_" + hashlib.sha256(seed).hexdigest()[:32]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, exact to the microsecond, on every backend.

    PostgreSQL keeps ``timestamptz``. SQLite has no time type, and SQLAlchemy's default
    there drops the zone, so SQLite gets fixed-width ISO text in UTC, which sorts and
    compares as text in the same order as the times it holds.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(27))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _aware_utc(value)
        if dialect.name == "sqlite":
            return value.strftime(_SQLITE_TIME_FORMAT)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.strptime(value, _SQLITE_TIME_FORMAT).replace(tzinfo=UTC)
        if isinstance(value, datetime):
            return _aware_utc(value)
        raise TypeError(f"unexpected time value from the database: {value!r}")


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: the alert store keeps timezone-aware UTC times only")
    return value.astimezone(UTC)


# --- schema ----------------------------------------------------------------------------


def _tables_v1(md: MetaData) -> tuple[Table, Table, Table, Table]:
    """The tables of schema version 1.

    Migration 1 builds exactly these, so this function is frozen: a later schema
    change gets a new migration (ALTER …) and new table definitions for the queries,
    and leaves this one as it is.
    """
    alerts = Table(
        "alerts",
        md,
        Column("id", String(128), primary_key=True),
        Column("kind", String(32), nullable=False),
        Column("severity", String(16), nullable=False),
        Column("status", String(16), nullable=False),
        Column("test", Boolean, nullable=False),
        Column("mmsi", BigInteger, nullable=True),
        Column("zone_id", String(128), nullable=True),
        Column("lat", Double, nullable=True),
        Column("lon", Double, nullable=True),
        Column("opened_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),  # observed_at of the last event
        Column("sequence", Integer, nullable=False),
        Column("last_event", Text, nullable=False),
        Index("ix_alerts_status_updated", "status", "updated_at"),
        Index("ix_alerts_kind_updated", "kind", "updated_at"),
        Index("ix_alerts_updated", "updated_at"),
    )
    alert_events = Table(
        "alert_events",
        md,
        Column("alert_id", String(128), nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("event", String(32), nullable=False),
        Column("observed_at", UTCDateTime, nullable=False),
        Column("by", String(256), nullable=True, quote=True),
        Column("note", Text, nullable=True),
        Column("body", Text, nullable=False),
        Column("recorded_at", UTCDateTime, nullable=False),  # when the store wrote it
        PrimaryKeyConstraint("alert_id", "sequence", name="pk_alert_events"),
    )
    outbox = Table(
        "outbox",
        md,
        # SQLite only auto-increments an "INTEGER PRIMARY KEY"; PostgreSQL gets a bigint.
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("webhook_id", String(64), nullable=False, unique=True),
        Column("partner", String(128), nullable=False),
        Column("alert_id", String(128), nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("fmt", String(16), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", UTCDateTime, nullable=False),
        Column("last_error", Text, nullable=True),
        Column("status", String(16), nullable=False),
        Column("finished_at", UTCDateTime, nullable=True),  # when delivered or given up
        UniqueConstraint("partner", "alert_id", "sequence", name="uq_outbox_partner_alert_sequence"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="ck_outbox_status"),
        Index("ix_outbox_partner_status_next", "partner", "status", "next_attempt_at"),
    )
    partner_state = Table(
        "partner_state",
        md,
        Column("partner", String(128), primary_key=True),
        Column("disabled_at", UTCDateTime, nullable=False),
        Column("reason", Text, nullable=False),
    )
    return alerts, alert_events, outbox, partner_state


metadata = MetaData()
alerts_table, alert_events_table, outbox_table, partner_state_table = _tables_v1(metadata)

schema_version_table = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(256), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _migrate_v1(conn: Connection) -> None:
    md = MetaData()
    _tables_v1(md)
    md.create_all(conn)


def _tables_v2(md: MetaData) -> Table:
    """The table migration 2 adds: snapshots of the core's state (docs/state.md). Frozen like v1.

    ``data`` is the snapshot itself (``seawatch.core.snapshot``), BLOB on SQLite and bytea
    on PostgreSQL; the other columns repeat its header so that health and start-up can
    choose one without reading megabytes.
    """
    return Table(
        "snapshots",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("position", Text, nullable=False),  # the feed position the state corresponds to
        Column("event_time", UTCDateTime, nullable=True),
        Column("format_version", Integer, nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("data", LargeBinary, nullable=False),
    )


snapshots_table = _tables_v2(metadata)


SNAPSHOTS_KEPT: Final = 3
"""Snapshots the store keeps (the newest): one to start from, two to fall back on."""


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A stored snapshot's header columns, without its data."""

    id: int
    created_at: datetime
    position: str
    event_time: datetime | None
    format_version: int
    size: int  # bytes


def _migrate_v2(conn: Connection) -> None:
    md = MetaData()
    _tables_v2(md)
    md.create_all(conn)


def _tables_v3(md: MetaData) -> tuple[Table, Table]:
    """The tables migration 3 adds, for an active/standby pair (docs/failover.md). Frozen like v1.

    ``leases``: one row per MQTT client id saying which instance leads, until when (the
    server's clock) and under which fencing token (raised by one at each takeover); it is
    written by :mod:`seawatch.adapters.lease` and read by every fenced write.
    ``journal_chunks``: the feed journal kept in the store, one chunk (the bytes of
    :func:`seawatch.adapters.journal.encode_chunk`) per row, with the token of the leader
    that wrote it.
    """
    leases = Table(
        "leases",
        md,
        Column("name", Text, primary_key=True),
        Column("token", BigInteger, nullable=False),
        Column("holder", Text, nullable=False),
        Column("holder_url", Text, nullable=True),
        Column("acquired_at", UTCDateTime, nullable=False),
        Column("renewed_at", UTCDateTime, nullable=False),
        Column("expires_at", UTCDateTime, nullable=False),
        # (name, token) unique: a takeover, which changes the token, then takes the row's FOR UPDATE
        # lock and waits for writes holding FOR KEY SHARE; a renewal does not, and never waits for them
        UniqueConstraint("name", "token", name="leases_name_token_key"),
    )
    chunks = Table(
        "journal_chunks",
        md,
        Column("first_seq", BigInteger, primary_key=True, autoincrement=False),
        Column("count", Integer, nullable=False),
        Column("token", BigInteger, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("size", Integer, nullable=False),
        Column("data", LargeBinary, nullable=False),
    )
    return leases, chunks


leases_table, journal_chunks_table = _tables_v3(metadata)


def _migrate_v3(conn: Connection) -> None:
    md = MetaData()
    _tables_v3(md)
    md.create_all(conn)


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "alerts, alert_events, outbox, partner_state", _migrate_v1),
    Migration(2, "snapshots", _migrate_v2),
    Migration(3, "leases, journal_chunks", _migrate_v3),
)
"""Applied in order, each once, inside the transaction that opens the store."""

SCHEMA_VERSION: Final = MIGRATIONS[-1].version


# --- alert events as dicts -------------------------------------------------------------


def _event_from_json(text: str) -> AlertEvent:
    return event_from_dict(json.loads(text))


# --- opening ---------------------------------------------------------------------------

_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def _safe_url_text(url: str) -> str:
    """Text that may hold a URL SQLAlchemy could not parse, with anything like a password in it masked."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _reason(exc: BaseException, password: str | None) -> str:
    """The driver's own words (not SQLAlchemy's wrapper with SQL and links), password scrubbed."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
        if password:  # a driver may echo its connection parameters
            text = text.replace(password, "***")
    else:
        text = str(exc)  # our own words, or SQLAlchemy's about the URL's parts
    return " ".join(_safe_url_text(text).split()) or type(exc).__name__


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (see _on_sqlite_begin): the sqlite3 module's own
    # transaction handling would run DDL and SELECTs outside any transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (it stays so: later connections only find it done).

    While another connection is making the same switch on a new file, SQLite answers
    "database is locked" at once, without waiting out the busy timeout: so wait here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
    if str(mode).lower() != "wal":
        log.warning("SQLite refused WAL mode (journal_mode=%s): readers will block the writer", mode)


def _on_sqlite_begin(conn: Connection) -> None:
    # A write takes the write lock up front: a deferred transaction that reads and then
    # writes can fail at once with "database is locked" when another writer got there first.
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _create_engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:") or url.query.get("mode") == "memory":
            raise ValueError("an in-memory SQLite database would not survive a restart: give a file path")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # the driver installed with seawatch
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        if "options" not in url.query:
            # A process paused or stalled in the middle of a transaction must not hold its locks
            # (the failover lease row among them) for ever: the server ends such a session.
            connect_args["options"] = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_S * 1000}"
        # pre_ping: a connection broken by a database restart is replaced, not handed out.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///path/alerts.db or postgresql+psycopg://…")


# --- the store -------------------------------------------------------------------------


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        partner=row.partner,
        alert_id=row.alert_id,
        sequence=row.sequence,
        kind=row.kind,
        fmt=row.fmt,
        body=row.body,
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        status=row.status,
    )


def _error_text(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


class AlertStore:
    """Alerts, their audit log and the webhook outbox, in SQLite or PostgreSQL.

    Safe to share between threads. Every method is one transaction; times in and out
    are timezone-aware UTC (a naive time is refused with ValueError).
    """

    def __init__(self, url: str, *, connect: bool = True) -> None:
        """Parse ``url`` and, with ``connect``, open the database at once (raising :class:`StoreError`).

        ``connect=False`` is for the running service, which must start and watch while the
        database is away: nothing is opened until :meth:`connect` (or the first use) succeeds.
        """
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise StoreError(
                f"cannot open the alert store at {_safe_url_text(url)}: not a database URL "
                "(expected e.g. sqlite:///path/alerts.db or postgresql+psycopg://user@host:5432/db)"
            ) from None
        self.url: Final = parsed.render_as_string(hide_password=True)
        """The store's URL, safe to log (password hidden)."""
        self._password = parsed.password
        try:
            self._engine = _create_engine(parsed)
        except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
            raise StoreError(f"cannot open the alert store at {self.url}: {_reason(exc, parsed.password)}") from None
        self._postgres = self._engine.dialect.name == "postgresql"
        self.fence: Fence | None = None
        """Set while this instance leads a failover pair: every write then checks the lease (docs/failover.md)."""
        self._ready = False
        self._ready_lock = threading.Lock()
        if connect:
            try:
                self.connect()
            except StoreError:
                self._engine.dispose()
                raise

    @property
    def ready(self) -> bool:
        """True once the database answered and its schema is current (it may have gone away since)."""
        return self._ready

    def connect(self) -> None:
        """Reach the database and bring its schema up to date, once; raises :class:`StoreError` saying why."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                self._migrate()
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot open the alert store at {self.url}: {_reason(exc, self._password)}") from None
            self._ready = True
        log.info("alert store open at %s (schema version %d)", self.url, SCHEMA_VERSION)

    def unreachable(self, exc: BaseException) -> str:
        """One line on why the store failed: the driver's words, never the password."""
        if isinstance(exc, StoreError):
            return str(exc)
        return f"the alert store at {self.url} failed: {_reason(exc, self._password)}"

    def ping(self) -> None:
        """One round trip to the database (opening it first if it never was); raises :class:`StoreError`."""
        self.connect()
        try:
            with self._engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise StoreError(self.unreachable(exc)) from None

    def close(self) -> None:
        """Close every pooled connection (the store cannot be used after)."""
        self._engine.dispose()

    # -- plumbing --

    def may_act(self) -> bool:
        """False when a fence says this instance must not act (a standby, a leader past its lease)."""
        fence = self.fence
        return fence is None or fence.valid()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if not self._ready:
            self.connect()
        fence = self.fence
        if fence is not None and not fence.valid():
            raise FencedError(f"not written: this instance's failover lease (token {fence.token}) has run out")
        with self._write_transaction() as conn:
            if fence is not None:
                self._check_fence(conn, fence)
            yield conn

    @staticmethod
    def _check_fence(conn: Connection, fence: Fence) -> None:
        """In the write's own transaction: the lease row still has this token, held FOR KEY SHARE until commit.

        A takeover changes the token, a column of a unique key, so it waits for a write in
        flight to commit; once the new token is committed, this check refuses every later
        write of the old leader. A renewal changes no key column and is never held up.
        """
        t = leases_table
        current = conn.scalar(
            select(t.c.token).where(t.c.name == fence.name).with_for_update(read=True, key_share=True)
        )
        if current != fence.token:
            reason = f"instance with token {current} leads now (this one had token {fence.token})"
            fence.on_fenced(reason)
            raise FencedError(f"not written: {reason}")

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if not self._ready:
            self.connect()
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """An INSERT that can say ON CONFLICT, in this database's dialect."""
        return postgresql.insert(table) if self._postgres else sqlite.insert(table)

    def _migrate(self) -> None:
        with self._write_transaction() as conn:
            if self._postgres:
                # Two services starting at once: the second waits here, then finds the work done.
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
            schema_version_table.create(conn, checkfirst=True)
            current = conn.scalar(select(func.max(schema_version_table.c.version))) or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"cannot open the alert store at {self.url}: its schema version {current} is newer than "
                    f"this seawatch knows ({SCHEMA_VERSION}); upgrade seawatch"
                )
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                migration.apply(conn)
                conn.execute(
                    insert(schema_version_table).values(
                        version=migration.version, description=migration.description, applied_at=datetime.now(UTC)
                    )
                )
                log.info(
                    "alert store %s: applied migration %d (%s)", self.url, migration.version, migration.description
                )

    # -- writing events --

    def record(self, events: Sequence[AlertEvent], deliveries: Sequence[OutboxItem], now: datetime) -> list[int]:
        """Store alert events and the webhooks that carry them, all or nothing.

        An event already stored (same alert and sequence) and an outbox row already
        there (same partner, alert and sequence) are skipped, so replaying a batch after
        a crash is harmless; an alert's row only moves forward to a higher sequence.
        Returns the ids of the outbox rows inserted.
        """
        now = _aware_utc(now)
        if not events and not deliveries:
            return []
        a, e, o = alerts_table, alert_events_table, outbox_table
        inserted: list[int] = []
        with self._write() as conn:
            for ev in events:
                d = alert_event_to_dict(ev)
                body = alert_event_json(ev)
                upsert = self._insert(a).values(
                    id=ev.id,
                    kind=ev.kind.value,
                    severity=ev.severity.value,
                    status=ev.status.value,
                    test=ev.test,
                    mmsi=ev.mmsi,
                    zone_id=None if ev.zone is None else ev.zone.id,
                    lat=d["lat"],
                    lon=d["lon"],
                    opened_at=ev.opened_at,
                    updated_at=ev.observed_at,
                    sequence=ev.sequence,
                    last_event=body,
                )
                conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=[a.c.id],
                        set_={name: upsert.excluded[name] for name in _ALERT_COLUMNS_UPDATED},
                        where=a.c.sequence < upsert.excluded.sequence,
                    )
                )
                conn.execute(
                    self._insert(e)
                    .values(
                        alert_id=ev.id,
                        sequence=ev.sequence,
                        event=ev.event.value,
                        observed_at=ev.observed_at,
                        by=ev.by,
                        note=ev.note,
                        body=body,
                        recorded_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[e.c.alert_id, e.c.sequence])
                )
            for item in deliveries:
                row_id = conn.execute(
                    self._insert(o)
                    .values(
                        webhook_id=webhook_id(item.partner, item.alert_id, item.sequence),
                        partner=item.partner,
                        alert_id=item.alert_id,
                        sequence=item.sequence,
                        kind=item.kind,
                        fmt=item.fmt,
                        body=item.body,
                        created_at=now,
                        attempts=0,
                        next_attempt_at=now,
                        last_error=None,
                        status=PENDING,
                    )
                    .on_conflict_do_nothing(index_elements=[o.c.partner, o.c.alert_id, o.c.sequence])
                    .returning(o.c.id)
                ).scalar_one_or_none()
                if row_id is not None:
                    inserted.append(int(row_id))
        return inserted

    # -- the outbox --

    def _head_of_alert(self) -> Any:
        """No earlier pending row of the same alert for the same partner: events go out in sequence order."""
        o = outbox_table
        earlier = o.alias("earlier")
        return ~exists().where(
            earlier.c.partner == o.c.partner,
            earlier.c.alert_id == o.c.alert_id,
            earlier.c.status == PENDING,
            earlier.c.sequence < o.c.sequence,
        )

    def due(self, partner: str, now: datetime, limit: int) -> list[Delivery]:
        """Pending rows of ``partner`` to send now, oldest first, at most one per alert.

        A row waits while its alert has an earlier pending row for the same partner (even
        one backing off), so a partner never gets ``resolved`` before ``opened``; a dead
        row no longer holds the rest back.
        """
        now = _aware_utc(now)
        o = outbox_table
        stmt = (
            select(o)
            .where(o.c.partner == partner, o.c.status == PENDING, o.c.next_attempt_at <= now, self._head_of_alert())
            .order_by(o.c.created_at, o.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [_delivery(row) for row in conn.execute(stmt)]

    def next_due_at(self, partner: str) -> datetime | None:
        """When the next row of ``partner`` becomes due, or None when nothing is pending.

        Only rows that ``due`` could return count (the first pending row of each alert):
        a later row with an earlier time would wake the dispatcher for nothing, again and again.
        """
        o = outbox_table
        stmt = select(func.min(o.c.next_attempt_at)).where(
            o.c.partner == partner, o.c.status == PENDING, self._head_of_alert()
        )
        with self._read() as conn:
            value: datetime | None = conn.scalar(stmt)
            return value

    def _finish(self, delivery_id: int, action: str, values: dict[str, Any]) -> None:
        o = outbox_table
        with self._write() as conn:
            result = conn.execute(update(o).where(o.c.id == delivery_id, o.c.status == PENDING).values(**values))
        if result.rowcount == 0:
            log.warning("outbox row %d is not pending (or does not exist): %s ignored", delivery_id, action)

    def mark_delivered(self, delivery_id: int, at: datetime) -> None:
        """The partner accepted the row (2xx)."""
        self._finish(delivery_id, "mark_delivered", {"status": DELIVERED, "finished_at": _aware_utc(at)})

    def mark_retry(self, delivery_id: int, attempts: int, next_attempt_at: datetime, error: str) -> None:
        """An attempt failed; try again at ``next_attempt_at`` (the caller owns the backoff)."""
        self._finish(
            delivery_id,
            "mark_retry",
            {"attempts": attempts, "next_attempt_at": _aware_utc(next_attempt_at), "last_error": _error_text(error)},
        )

    def mark_dead(self, delivery_id: int, at: datetime, error: str) -> None:
        """Give up on the row after a failed attempt: it waits in the dead letters until requeued.

        Counts that last attempt (``attempts + 1``), so a dead letter says how often it was tried.
        """
        self._finish(
            delivery_id,
            "mark_dead",
            {
                "status": DEAD,
                "attempts": outbox_table.c.attempts + 1,
                "finished_at": _aware_utc(at),
                "last_error": _error_text(error),
            },
        )

    def dead_letters(self, partner: str | None = None, limit: int = 1000) -> list[Delivery]:
        """Rows given up on, oldest first."""
        o = outbox_table
        stmt = select(o).where(o.c.status == DEAD).order_by(o.c.created_at, o.c.id).limit(limit)
        if partner is not None:
            stmt = stmt.where(o.c.partner == partner)
        with self._read() as conn:
            return [_delivery(row) for row in conn.execute(stmt)]

    def requeue(self, delivery_ids: Sequence[int] | None, now: datetime) -> int:
        """Dead rows back to pending, due now with a fresh attempt count (None: every dead row).

        The last error is kept for the record until the next attempt replaces it.
        Returns how many rows were requeued (ids that are not dead are skipped).
        """
        now = _aware_utc(now)
        o = outbox_table
        values = {"status": PENDING, "attempts": 0, "next_attempt_at": now, "finished_at": None}
        base = update(o).where(o.c.status == DEAD).values(**values)
        count = 0
        with self._write() as conn:
            if delivery_ids is None:
                count = conn.execute(base).rowcount
            else:
                ids = list(delivery_ids)
                for start in range(0, len(ids), _IDS_PER_STATEMENT):
                    chunk = ids[start : start + _IDS_PER_STATEMENT]
                    count += conn.execute(base.where(o.c.id.in_(chunk))).rowcount
        if count:
            log.info("requeued %d dead webhook deliveries", count)
        return count

    def counts(self) -> dict[str, dict[str, int]]:
        """Outbox rows per partner and status (every status present, zero included)."""
        o = outbox_table
        stmt = select(o.c.partner, o.c.status, func.count()).group_by(o.c.partner, o.c.status)
        out: dict[str, dict[str, int]] = {}
        with self._read() as conn:
            for partner, status, n in conn.execute(stmt):
                out.setdefault(partner, dict.fromkeys(DELIVERY_STATUSES, 0))[status] = int(n)
        return out

    def purge_delivered(self, finished_before: datetime, limit: int | None = None) -> int:
        """Delete delivered rows finished before a time: the outbox is not an archive.

        The audit log (``alert_events``) keeps every event; this only drops copies
        already accepted by partners. ``limit`` bounds one call (oldest rows first) so a
        long-running service can purge a large backlog in short transactions that never
        hold the write lock long enough to stall ingest. Returns how many rows went.
        """
        o = outbox_table
        old = select(o.c.id).where(o.c.status == DELIVERED, o.c.finished_at < _aware_utc(finished_before))
        if limit is not None:
            old = old.order_by(o.c.id).limit(limit)
        with self._write() as conn:
            return conn.execute(delete(o).where(o.c.id.in_(old.scalar_subquery()))).rowcount

    # -- partners --

    def disable_partner(self, partner: str, at: datetime, reason: str) -> None:
        """Stop sending to a partner (e.g. it answered 410 Gone) until it is enabled again."""
        p = partner_state_table
        stmt = self._insert(p).values(partner=partner, disabled_at=_aware_utc(at), reason=reason)
        stmt_upsert = stmt.on_conflict_do_update(
            index_elements=[p.c.partner],
            set_={"disabled_at": stmt.excluded.disabled_at, "reason": stmt.excluded.reason},
        )
        with self._write() as conn:
            conn.execute(stmt_upsert)
        log.warning("webhook partner %s disabled: %s", partner, reason)

    def enable_partner(self, partner: str) -> None:
        p = partner_state_table
        with self._write() as conn:
            removed = conn.execute(delete(p).where(p.c.partner == partner)).rowcount
        if removed:
            log.info("webhook partner %s enabled again", partner)

    def disabled_partners(self) -> dict[str, str]:
        """Partner name -> why it was disabled."""
        p = partner_state_table
        with self._read() as conn:
            return {row.partner: row.reason for row in conn.execute(select(p.c.partner, p.c.reason))}

    # -- reading alerts --

    def open_alerts(self) -> list[AlertEvent]:
        """The last event of every open or acknowledged alert, oldest opened first."""
        a = alerts_table
        stmt = select(a.c.last_event).where(a.c.status.in_(OPEN_STATUSES)).order_by(a.c.opened_at, a.c.id)
        with self._read() as conn:
            return [_event_from_json(text) for text in conn.scalars(stmt)]

    def alerts(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 500,
    ) -> list[AlertEvent]:
        """The last event of each alert, most recently updated first.

        ``since`` keeps alerts whose last event was observed at or after that time.
        """
        a = alerts_table
        stmt = select(a.c.last_event).order_by(a.c.updated_at.desc(), a.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(a.c.kind == kind)
        if status is not None:
            stmt = stmt.where(a.c.status == status)
        if since is not None:
            stmt = stmt.where(a.c.updated_at >= _aware_utc(since))
        with self._read() as conn:
            return [_event_from_json(text) for text in conn.scalars(stmt)]

    def history(self, alert_id: str) -> list[AlertEvent]:
        """The audit log of one alert: every event in sequence order (empty if unknown)."""
        e = alert_events_table
        stmt = select(e.c.body).where(e.c.alert_id == alert_id).order_by(e.c.sequence)
        with self._read() as conn:
            return [_event_from_json(text) for text in conn.scalars(stmt)]

    # -- snapshots of the core's state --

    def save_snapshot(self, data: bytes, info: SnapshotInfo, keep: int = SNAPSHOTS_KEPT) -> None:
        """Store a snapshot and drop all but the newest ``keep``, in one transaction.

        Keeping a few, not one: a snapshot that turns out unreadable (a bug, a layout the
        next version refuses) still leaves an older one to start from.
        """
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        t = snapshots_table
        newest = select(t.c.id).order_by(t.c.id.desc()).limit(keep)
        with self._write() as conn:
            conn.execute(
                insert(t).values(
                    created_at=_aware_utc(info.created_at),
                    position=info.position,
                    event_time=None if info.event_time is None else _aware_utc(info.event_time),
                    format_version=info.format_version,
                    size=len(data),
                    data=bytes(data),
                )
            )
            conn.execute(delete(t).where(t.c.id.not_in(newest.scalar_subquery())))

    def latest_snapshot(self) -> bytes | None:
        """The newest snapshot's bytes, or None when none was ever saved."""
        t = snapshots_table
        with self._read() as conn:
            value = conn.scalar(select(t.c.data).order_by(t.c.id.desc()).limit(1))
        return None if value is None else bytes(value)

    def snapshot_info(self) -> StoredSnapshot | None:
        """The newest snapshot's header columns (not its data): for health, its age and position."""
        t = snapshots_table
        stmt = select(t.c.id, t.c.created_at, t.c.position, t.c.event_time, t.c.format_version, t.c.size)
        with self._read() as conn:
            row = conn.execute(stmt.order_by(t.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return StoredSnapshot(
            id=int(row.id),
            created_at=row.created_at,
            position=row.position,
            event_time=row.event_time,
            format_version=int(row.format_version),
            size=int(row.size),
        )

    # -- the feed journal kept in the store (failover) --

    def append_journal(self, first_seq: int, count: int, chunk: bytes, at: datetime) -> None:
        """One journal chunk (fenced like every write); a chunk already there at ``first_seq`` is kept."""
        t = journal_chunks_table
        token = self.fence.token if self.fence is not None else 0
        with self._write() as conn:
            conn.execute(
                self._insert(t)
                .values(
                    first_seq=first_seq,
                    count=count,
                    token=token,
                    created_at=_aware_utc(at),
                    size=len(chunk),
                    data=bytes(chunk),
                )
                .on_conflict_do_nothing(index_elements=[t.c.first_seq])
            )

    def journal_chunks(self, after_seq: int, limit: int = 100) -> list[tuple[int, int, bytes]]:
        """(first sequence number, count, chunk bytes) of the chunks holding records from ``after_seq`` on."""
        t = journal_chunks_table
        stmt = (
            select(t.c.first_seq, t.c.count, t.c.data)
            .where(t.c.first_seq + t.c.count > after_seq)
            .order_by(t.c.first_seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [(int(r[0]), int(r[1]), bytes(r[2])) for r in conn.execute(stmt)]

    def journal_bounds(self) -> tuple[int, int, int, int]:
        """(first sequence number held, the one after the last, chunks, bytes); (0, 0, 0, 0) when empty."""
        t = journal_chunks_table
        stmt = select(func.min(t.c.first_seq), func.max(t.c.first_seq + t.c.count), func.count(), func.sum(t.c.size))
        with self._read() as conn:
            row = conn.execute(stmt).one()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)

    def trim_journal(self, before_seq: int) -> int:
        """Drop the chunks wholly before ``before_seq`` (what the oldest kept snapshot no longer needs)."""
        t = journal_chunks_table
        with self._write() as conn:
            result = conn.execute(delete(t).where(t.c.first_seq + t.c.count <= before_seq))
        return int(result.rowcount or 0)

    def oldest_snapshot_position(self) -> str | None:
        """The position of the oldest snapshot kept: the journal before it is needed by none."""
        t = snapshots_table
        with self._read() as conn:
            return conn.scalar(select(t.c.position).order_by(t.c.id).limit(1))
