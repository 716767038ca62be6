"""The alert store and webhook outbox against real databases: a SQLite file and PostgreSQL.

Every test that takes ``store_url`` runs twice. The PostgreSQL run creates a database
of its own on 127.0.0.1:5432 (user ``postgres``, trust auth) and drops it afterwards;
if no server is there the test fails, it does not skip: `scripts/ensure-postgres.sh`
starts or installs one, and CI runs it first.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from seawatch.adapters.store import (
    MAX_ERROR_CHARS,
    SCHEMA_VERSION,
    AlertStore,
    Delivery,
    OutboxItem,
    StoreError,
    webhook_id,
)
from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status, VesselInfo, ZoneRef
from seawatch.core.serialize import alert_event_json, alert_event_to_dict, event_from_dict

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL no other test uses: a file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards; yields its store URL."""
    name = f"seawatch_test_{uuid.uuid4().hex}"
    with postgres_admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with postgres_admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_admin() -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection to the server's ``postgres`` database, or a failed test saying why."""
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    except psycopg.Error as exc:
        problem = " ".join(str(exc).split())
    pytest.fail(
        f"PostgreSQL is not reachable on 127.0.0.1:5432 as user postgres without a password ({problem}); "
        "run `bash scripts/ensure-postgres.sh` (CI does) and try again",
        pytrace=False,
    )


@pytest.fixture
def store(store_url: str) -> Iterator[AlertStore]:
    opened = AlertStore(store_url)
    try:
        yield opened
    finally:
        opened.close()


VESSEL = VesselInfo(
    mmsi=211000001, name="SEA <b>WATCH</b>", ship_type=30, length_m=14, ais_class="A", callsign="DA1234", imo=9123456
)
OTHER = VesselInfo(mmsi=247000002, name=None, ship_type=None, length_m=None, ais_class="B", callsign=None, imo=None)


def make_event(
    alert_id: str = "distress-0001",
    sequence: int = 1,
    *,
    event: EventType = EventType.OPENED,
    status: Status = Status.OPEN,
    kind: Kind = Kind.DISTRESS,
    observed_at: datetime = T0,
    opened_at: datetime = T0,
    **changes: object,
) -> AlertEvent:
    base = AlertEvent(
        id=alert_id,
        event=event,
        sequence=sequence,
        kind=kind,
        severity=Severity.CRITICAL,
        status=status,
        test=False,
        mmsi=VESSEL.mmsi,
        vessel=VESSEL,
        other=OTHER,
        lat=35.512345,
        lon=12.654321,
        zone=ZoneRef(id="lampedusa-sar", name="Lampedusa SAR — approach"),
        observed_at=observed_at,
        opened_at=opened_at,
        summary=f"{kind.value} {alert_id} #{sequence}",
        evidence={
            "factors": ["sart", "mob"],
            "track": [[35.5, 12.6], [35.51, 12.65, {"sog_kn": 0.4}]],
            "counts": {"messages": 12, "mixed": [1.5, None, True, "ÆØÅ"]},
            "gap_s": 1800,
        },
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def item(ev: AlertEvent, partner: str = "mrcc", fmt: str = "json") -> OutboxItem:
    return OutboxItem(partner, ev.id, ev.sequence, ev.kind.value, fmt, alert_event_json(ev))


def ids(deliveries: list[Delivery]) -> list[int]:
    return [d.id for d in deliveries]


# --- schema and migrations ---------------------------------------------------------------


def test_schema_is_created_once_and_survives_reopening(store_url: str) -> None:
    first = AlertStore(store_url)
    ev = make_event()
    first.record([ev], [item(ev)], T0)
    first.close()

    reopened = AlertStore(store_url)  # migrations are idempotent: nothing applied twice
    try:
        assert reopened.history(ev.id) == [ev]
        assert reopened.counts() == {"mrcc": {"pending": 1, "delivered": 0, "dead": 0}}
    finally:
        reopened.close()

    engine = create_engine(store_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"schema_version", "alerts", "alert_events", "outbox", "partner_state"} <= tables
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version, description FROM schema_version")).all()
        assert [v for v, _ in versions] == list(range(1, SCHEMA_VERSION + 1))
        assert all(description for _, description in versions)
    finally:
        engine.dispose()
    if store_url.startswith("sqlite"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_concurrent_first_starts_migrate_once(store_url: str) -> None:
    start = threading.Barrier(4)

    def open_store() -> AlertStore:
        start.wait()
        return AlertStore(store_url)

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: open_store(), range(4)))
    for opened in stores:
        opened.close()
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
        assert versions == list(range(1, SCHEMA_VERSION + 1))  # each migration once
    finally:
        engine.dispose()


def test_a_newer_schema_is_refused(store_url: str) -> None:
    AlertStore(store_url).close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO schema_version (version, description, applied_at) VALUES (:v, 'future', :at)"),
                {"v": SCHEMA_VERSION + 1, "at": "2030-01-01T00:00:00.000000Z" if "sqlite" in store_url else T0},
            )
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match=rf"schema version {SCHEMA_VERSION + 1} is newer"):
        AlertStore(store_url)


# --- recording ---------------------------------------------------------------------------


def test_record_writes_alert_audit_log_and_outbox_together(store: AlertStore) -> None:
    opened = make_event()
    inserted = store.record([opened], [item(opened, "mrcc"), item(opened, "ngo", fmt="cap")], T0)
    assert len(inserted) == 2

    (delivery,) = store.due("mrcc", T0, 10)
    assert delivery == Delivery(
        id=inserted[0],
        webhook_id=webhook_id("mrcc", opened.id, 1),
        partner="mrcc",
        alert_id=opened.id,
        sequence=1,
        kind="distress",
        fmt="json",
        body=alert_event_json(opened),
        created_at=T0,
        attempts=0,
        next_attempt_at=T0,
        last_error=None,
        status="pending",
    )
    assert delivery.webhook_id.startswith("msg_")
    assert delivery.created_at.utcoffset() == timedelta(0)
    (cap,) = store.due("ngo", T0, 10)
    assert (cap.fmt, cap.id) == ("cap", inserted[1])
    assert cap.webhook_id != delivery.webhook_id  # one id per partner: each dedupes its own
    assert store.alerts() == [opened]
    assert store.history(opened.id) == [opened]

    updated = make_event(sequence=2, event=EventType.UPDATED, observed_at=s(60), severity=Severity.HIGH)
    assert len(store.record([updated], [item(updated)], s(60))) == 1
    assert store.alerts() == [updated]
    assert store.history(opened.id) == [opened, updated]


def test_a_failing_record_leaves_nothing_behind(store: AlertStore) -> None:
    first = make_event("distress-0001")
    second = make_event("distress-0002")
    broken = OutboxItem("mrcc", second.id, 1, "distress", "json", None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        store.record([first, second], [item(first), broken], T0)
    assert store.alerts() == []
    assert store.history(first.id) == []
    assert store.counts() == {}
    assert store.due("mrcc", s(1), 10) == []

    # the store is still usable, and the same batch, fixed, goes in whole
    assert len(store.record([first, second], [item(first), item(second)], T0)) == 2
    assert [e.id for e in store.alerts()] == ["distress-0002", "distress-0001"]


def test_duplicates_are_ignored_and_an_alert_never_moves_back(store: AlertStore) -> None:
    opened = make_event()
    [row_id] = store.record([opened], [item(opened)], T0)
    assert store.record([opened], [item(opened)], s(5)) == []
    changed = replace(opened, summary="a second writer's copy")
    assert store.record([changed], [item(changed)], s(6)) == []
    assert store.history(opened.id) == [opened]
    [delivery] = store.due("mrcc", s(10), 10)
    assert (delivery.id, delivery.body, delivery.created_at) == (row_id, alert_event_json(opened), T0)

    acked = make_event(
        sequence=2, event=EventType.ACKNOWLEDGED, status=Status.ACKNOWLEDGED, observed_at=s(30), by="op-7"
    )
    store.record([acked], [], s(30))
    store.record([opened], [], s(31))  # a late replay of the first event
    assert store.alerts() == [acked]
    assert store.history(opened.id) == [opened, acked]
    assert store.counts() == {"mrcc": {"pending": 1, "delivered": 0, "dead": 0}}


# --- the outbox ---------------------------------------------------------------------------


def test_due_order_and_one_pending_event_per_alert(store: AlertStore) -> None:
    a1, a2, a3 = (make_event("a", n, event=EventType.UPDATED if n > 1 else EventType.OPENED) for n in (1, 2, 3))
    b1 = make_event("b")
    [r_a1] = store.record([a1], [item(a1), item(a1, "other")], T0)[:1]
    [r_b1] = store.record([b1], [item(b1)], s(1))
    [r_a2] = store.record([a2], [item(a2)], s(2))
    [r_a3] = store.record([a3], [item(a3)], s(3))

    assert store.due("mrcc", s(-1), 10) == []  # nothing is due before it was created
    assert ids(store.due("mrcc", s(10), 10)) == [r_a1, r_b1]  # a2, a3 wait for a1
    assert ids(store.due("mrcc", s(10), 1)) == [r_a1]
    assert store.next_due_at("mrcc") == T0

    store.mark_delivered(r_a1, s(11))
    assert ids(store.due("mrcc", s(11), 10)) == [r_b1, r_a2]

    store.mark_retry(r_a2, 1, s(60), "HTTP 503")
    assert ids(store.due("mrcc", s(12), 10)) == [r_b1]  # a3 waits while a2 backs off
    store.mark_delivered(r_b1, s(12))
    assert store.due("mrcc", s(12), 10) == []
    assert store.next_due_at("mrcc") == s(60)  # a2's retry, not a3's (blocked) creation time
    assert ids(store.due("mrcc", s(60), 10)) == [r_a2]

    store.mark_dead(r_a2, s(61), "HTTP 500")  # a dead row does not hold the rest back
    [due] = store.due("mrcc", s(61), 10)
    assert (due.id, due.sequence) == (r_a3, 3)
    store.mark_delivered(r_a3, s(62))
    assert store.next_due_at("mrcc") is None
    assert [d.partner for d in store.due("other", s(62), 10)] == ["other"]  # partners do not share rows


def test_retry_dead_requeue_and_counts(store: AlertStore) -> None:
    events = [make_event(f"alert-{n}") for n in range(3)]
    r1, r2, r3 = store.record(events, [item(e) for e in events], T0)
    [q1] = store.record([], [item(events[0], "ngo")], T0)

    store.mark_retry(r1, 1, s(5), "HTTP 500")
    assert ids(store.due("mrcc", s(4), 10)) == [r2, r3]
    retried = store.due("mrcc", s(5), 10)[0]
    assert (retried.id, retried.attempts, retried.next_attempt_at, retried.last_error) == (r1, 1, s(5), "HTTP 500")

    store.mark_dead(r1, s(6), "HTTP 500 again")
    store.mark_dead(r2, s(7), "x" * (MAX_ERROR_CHARS * 3))
    store.mark_delivered(r3, s(8))
    assert store.counts() == {
        "mrcc": {"pending": 0, "delivered": 1, "dead": 2},
        "ngo": {"pending": 1, "delivered": 0, "dead": 0},
    }
    dead = store.dead_letters()
    assert ids(dead) == [r1, r2]
    assert (dead[0].status, dead[0].attempts, dead[0].last_error) == ("dead", 2, "HTTP 500 again")
    assert dead[1].last_error is not None and len(dead[1].last_error) == MAX_ERROR_CHARS
    assert store.dead_letters("ngo") == []
    assert ids(store.dead_letters("mrcc", limit=1)) == [r1]

    # settled rows stay settled: late or repeated marks are ignored
    store.mark_retry(r3, 3, s(9), "late")
    store.mark_delivered(r1, s(9))
    assert store.counts()["mrcc"] == {"pending": 0, "delivered": 1, "dead": 2}

    assert store.requeue([r1, r3, 999_999], s(10)) == 1  # only dead rows come back
    [again] = store.due("mrcc", s(10), 10)
    assert (again.id, again.status, again.attempts, again.next_attempt_at) == (r1, "pending", 0, s(10))
    assert store.requeue([], s(11)) == 0
    assert store.requeue(None, s(11)) == 1
    assert store.dead_letters() == []
    assert store.counts()["mrcc"] == {"pending": 2, "delivered": 1, "dead": 0}
    assert ids(store.due("ngo", s(11), 10)) == [q1]

    assert store.purge_delivered(s(8)) == 0  # finished at s(8), not before
    assert store.purge_delivered(s(9)) == 1
    assert store.counts()["mrcc"] == {"pending": 2, "delivered": 0, "dead": 0}


def test_purge_in_batches_drops_only_old_delivered_rows(store: AlertStore) -> None:
    events = [make_event(f"alert-{n}") for n in range(7)]
    rows = store.record(events, [item(e) for e in events], T0)
    for n, row in enumerate(rows[:5]):
        store.mark_delivered(row, s(10 + n))  # finished at s(10) .. s(14)
    store.mark_dead(rows[5], s(1), "HTTP 500")  # old, but dead: kept for re-sending
    # rows[6] stays pending

    assert store.purge_delivered(s(14), limit=2) == 2  # the two oldest
    assert store.purge_delivered(s(14), limit=2) == 2
    assert store.purge_delivered(s(14), limit=2) == 0  # s(14) itself is not before s(14)
    assert store.counts()["mrcc"] == {"pending": 1, "delivered": 1, "dead": 1}
    assert store.purge_delivered(s(100)) == 1
    assert store.counts()["mrcc"] == {"pending": 1, "delivered": 0, "dead": 1}
    # the audit log keeps every event of every alert
    assert all(len(store.history(e.id)) == 1 for e in events)


def test_partners_are_disabled_and_enabled(store_url: str) -> None:
    first = AlertStore(store_url)
    try:
        assert first.disabled_partners() == {}
        first.disable_partner("mrcc", T0, "HTTP 410 Gone")
        first.disable_partner("ngo", T0, "HTTP 410 Gone")
        first.disable_partner("ngo", s(5), "HTTP 410 Gone, again")
        assert first.disabled_partners() == {"mrcc": "HTTP 410 Gone", "ngo": "HTTP 410 Gone, again"}
    finally:
        first.close()
    reopened = AlertStore(store_url)  # a restart does not forget it
    try:
        assert reopened.disabled_partners() == {"mrcc": "HTTP 410 Gone", "ngo": "HTTP 410 Gone, again"}
        reopened.enable_partner("mrcc")
        reopened.enable_partner("never-disabled")
        assert reopened.disabled_partners() == {"ngo": "HTTP 410 Gone, again"}
    finally:
        reopened.close()


# --- reading alerts back -----------------------------------------------------------------


def test_open_alerts_alerts_and_history_round_trip_exactly(store: AlertStore) -> None:
    a_open = make_event("distress-a", observed_at=T0, opened_at=T0)
    a_ack = make_event(
        "distress-a",
        2,
        event=EventType.ACKNOWLEDGED,
        status=Status.ACKNOWLEDGED,
        observed_at=s(120),
        by="operator <script>",
        note="MRCC Rome informed\nsecond line",
    )
    b_open = make_event(
        "zone-b",
        kind=Kind.ZONE_ENTRY,
        observed_at=s(10),
        opened_at=s(10),
        test=True,
        other=None,
        severity=Severity.MEDIUM,
    )
    b_resolved = replace(b_open, event=EventType.RESOLVED, sequence=2, status=Status.RESOLVED, observed_at=s(200))
    c_open = make_event(
        "feed-c",
        kind=Kind.FEED_OUTAGE,
        observed_at=s(20),
        opened_at=s(20),
        mmsi=None,
        vessel=None,
        other=None,
        lat=None,
        lon=None,
        zone=None,
        evidence={},
    )
    # a time in another zone is the same instant, and comes back in UTC
    c_update = replace(
        c_open, event=EventType.UPDATED, sequence=2, observed_at=s(90).astimezone(timezone(timedelta(hours=2)))
    )
    store.record([a_open, b_open, c_open], [], T0)
    store.record([c_update, a_ack, b_resolved], [], s(200))

    assert store.open_alerts() == [a_ack, c_update]
    assert store.alerts() == [b_resolved, a_ack, c_update]
    assert store.alerts(kind="zone_entry") == [b_resolved]
    assert store.alerts(status=Status.OPEN) == [c_update]
    assert store.alerts(since=s(120)) == [b_resolved, a_ack]
    assert store.alerts(kind=Kind.DISTRESS, status="resolved") == []
    assert store.alerts(limit=1) == [b_resolved]
    assert store.history("distress-a") == [a_open, a_ack]
    assert store.history("zone-b") == [b_open, b_resolved]
    assert store.history("no-such-alert") == []

    restored = store.history("feed-c")[1]
    assert restored == c_update
    assert restored.observed_at.tzinfo is not None and restored.observed_at.utcoffset() == timedelta(0)
    assert store.history("distress-a")[1].evidence == a_ack.evidence  # nested lists and dicts, unicode
    for ev in (a_open, a_ack, b_resolved, c_open):
        assert event_from_dict(alert_event_to_dict(ev)) == ev


def test_naive_times_are_refused(store: AlertStore) -> None:
    ev = make_event()
    with pytest.raises(ValueError, match="naive"):
        store.record([ev], [item(ev)], datetime(2024, 5, 1, 12, 0))
    assert store.counts() == {}


# --- many threads, one store ---------------------------------------------------------------

THREADS = 4
ALERTS_PER_THREAD = 25
SEQUENCES = 3


def test_threads_record_and_deliver_without_losing_or_doubling(store: AlertStore) -> None:
    """Each thread records its own alerts (for every partner) and delivers one partner's rows."""
    partners = [f"partner-{n}" for n in range(THREADS)]
    recorded = threading.Barrier(THREADS)
    delivered: dict[str, list[tuple[str, int]]] = {p: [] for p in partners}

    def deliver(partner: str) -> int:
        due = store.due(partner, T0, 20)
        for d in due:
            store.mark_delivered(d.id, T0)
            delivered[partner].append((d.alert_id, d.sequence))
        return len(due)

    def work(n: int) -> None:
        partner = partners[n]
        for a in range(ALERTS_PER_THREAD):
            for seq in range(1, SEQUENCES + 1):
                ev = make_event(f"t{n}-a{a}", seq, event=EventType.OPENED if seq == 1 else EventType.UPDATED)
                store.record([ev], [item(ev, p) for p in partners], T0)
                deliver(partner)
        recorded.wait(timeout=120)
        while deliver(partner):
            pass

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work, n) for n in range(THREADS)]:
            future.result()

    expected = THREADS * ALERTS_PER_THREAD * SEQUENCES
    for partner in partners:
        got = delivered[partner]
        assert len(got) == expected
        assert len(set(got)) == expected  # nothing delivered twice
        per_alert: dict[str, list[int]] = {}
        for alert_id, seq in got:
            per_alert.setdefault(alert_id, []).append(seq)
        assert all(seqs == [1, 2, 3] for seqs in per_alert.values())  # each alert's events in order
    assert store.counts() == {p: {"pending": 0, "delivered": expected, "dead": 0} for p in partners}
    assert len(store.alerts(limit=10_000)) == THREADS * ALERTS_PER_THREAD
    assert [e.sequence for e in store.history("t3-a24")] == [1, 2, 3]


# --- stores that cannot be opened ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql+psycopg://seawatch:s3cr3t-pw@127.0.0.1:1/alerts", "connection"),
        (f"postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:5432/missing_{uuid.uuid4().hex}", "does not exist"),
        ("mysql://seawatch:s3cr3t-pw@127.0.0.1/alerts", "unsupported database"),
        ("sqlite://", "in-memory"),
        ("postgresql+psycopg://seawatch:s3cr3t-pw@127.0.0.1:port/alerts", "not a database URL"),
    ],
)
def test_an_unopenable_store_says_where_and_why_without_the_password(url: str, reason: str) -> None:
    with pytest.raises(StoreError) as caught:
        AlertStore(url)
    message = str(caught.value)
    assert message.startswith("cannot open the alert store at ")
    assert reason in message
    assert "s3cr3t-pw" not in message
    if "@" in url:
        assert ":***@" in message


def test_an_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot open the alert store at sqlite:///.*: .*unable to open"):
        AlertStore(f"sqlite:///{tmp_path}")  # a directory, not a file


def test_an_event_stored_before_does_not_bring_back_its_purged_webhook(store: AlertStore) -> None:
    """A takeover hands the store events it may hold already: a delivered, purged webhook must not come back."""
    ev = make_event("a-1", 1)
    [row] = store.record([ev], [item(ev)], s(0))
    store.mark_delivered(row, s(1))
    assert store.purge_delivered(s(2)) == 1
    assert store.record([ev], [item(ev)], s(3)) == []  # the event again: nothing to deliver
    assert store.counts().get("mrcc", {}).get("pending", 0) == 0
    later = make_event("a-1", 2, event=EventType.UPDATED)
    assert len(store.record([ev, later], [item(ev), item(later)], s(4))) == 1  # only the new event's webhook
