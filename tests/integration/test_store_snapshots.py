"""Snapshots in the alert store (migration 2), on a SQLite file and on a real PostgreSQL.

Every test runs twice, as in test_store.py: the PostgreSQL run gets a database of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, insert, inspect, text

from seawatch.adapters.store import SCHEMA_VERSION, SNAPSHOTS_KEPT, AlertStore, _tables_v1, schema_version_table
from seawatch.config.watch import build_watch
from seawatch.core.pipeline import Pipeline
from seawatch.core.snapshot import SnapshotInfo, capture, read_info, restore
from tests.integration.test_store import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[AlertStore]:
    opened = AlertStore(store_url)
    try:
        yield opened
    finally:
        opened.close()


def info(position: str, minutes: int = 0, size_hint: int = 0) -> SnapshotInfo:
    at = T0 + timedelta(minutes=minutes)
    return SnapshotInfo(position, at - timedelta(seconds=2), at, 1, size_hint, 0)


def scenario_snapshot() -> tuple[bytes, SnapshotInfo]:
    """A real snapshot: half of a scenario through the real pipeline."""
    pipeline = Pipeline(watch=build_watch(ROOT / "zones", None))
    lines = (ROOT / "replay_data" / "scenarios" / "rescue_disembarkation.nmea").read_bytes().splitlines()
    for line in lines[: len(lines) // 2]:
        pipeline.feed(line)
    data = capture(pipeline, "journal:0:1234", created_at=T0)
    return data, read_info(data)


def test_an_empty_store_has_no_snapshot(store: AlertStore) -> None:
    assert store.latest_snapshot() is None
    assert store.snapshot_info() is None


def test_save_and_load_a_real_snapshot(store: AlertStore) -> None:
    data, header = scenario_snapshot()
    store.save_snapshot(data, header)
    loaded = store.latest_snapshot()
    assert loaded == data
    stored = store.snapshot_info()
    assert stored is not None
    assert (stored.position, stored.created_at, stored.event_time) == (
        header.position,
        header.created_at,
        header.event_time,
    )
    assert (stored.format_version, stored.size) == (header.format_version, len(data))
    fresh = Pipeline(watch=build_watch(ROOT / "zones", None))
    assert restore(fresh, loaded) == header
    assert len(fresh.fleet) == header.vessels > 0


def test_only_the_newest_are_kept(store: AlertStore, store_url: str) -> None:
    for n in range(SNAPSHOTS_KEPT + 2):
        store.save_snapshot(f"snapshot {n}".encode(), info(f"p{n}", minutes=n))
    assert store.latest_snapshot() == f"snapshot {SNAPSHOTS_KEPT + 1}".encode()
    stored = store.snapshot_info()
    assert stored is not None and stored.position == f"p{SNAPSHOTS_KEPT + 1}"
    store.save_snapshot(b"last", info("last", minutes=99), keep=1)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT position FROM snapshots")).scalars().all()
    finally:
        engine.dispose()
    assert rows == ["last"]
    with pytest.raises(ValueError, match="keep"):
        store.save_snapshot(b"x", info("x"), keep=0)


def test_retention_keeps_the_newest_saved_not_the_newest_stamped(store: AlertStore) -> None:
    """Saved order decides: a snapshot stamped earlier but saved later (a slow clock) is still the latest."""
    store.save_snapshot(b"first", info("a", minutes=10))
    store.save_snapshot(b"second", replace(info("b", minutes=1), event_time=None))
    assert store.latest_snapshot() == b"second"
    stored = store.snapshot_info()
    assert stored is not None and stored.event_time is None


def test_a_large_snapshot_round_trips(store: AlertStore) -> None:
    data = os.urandom(8 * 1024 * 1024)  # incompressible, larger than any page or default buffer
    store.save_snapshot(data, info("big"))
    assert store.latest_snapshot() == data


def test_a_version_1_store_gains_the_snapshots_table(store_url: str) -> None:
    """A store made before snapshots existed is migrated on open, its alerts untouched."""
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            md = MetaData()
            _tables_v1(md)
            md.create_all(conn)
            schema_version_table.create(conn)
            conn.execute(insert(schema_version_table).values(version=1, description="v1", applied_at=T0))
        assert "snapshots" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    store = AlertStore(store_url)
    try:
        store.save_snapshot(b"after upgrade", info("u"))
        assert store.latest_snapshot() == b"after upgrade"
    finally:
        store.close()
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    finally:
        engine.dispose()
    assert versions == list(range(1, SCHEMA_VERSION + 1)) and SCHEMA_VERSION >= 2
