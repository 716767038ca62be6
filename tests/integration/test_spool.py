"""Alert events survive an alert-store outage: spooled to a file, stored when it comes back.

The outage is real: a fresh PostgreSQL database is switched to refuse connections
(``ALLOW_CONNECTIONS false``) and its sessions are cut, as a database restart or a network
failure does to a running service.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from seawatch.adapters.spool import EventSpool, SpoolError
from seawatch.config.settings import Partner, Settings
from seawatch.core.serialize import alert_event_json
from seawatch.runtime import build_delivery
from tests.integration.test_store import fresh_postgres_database, make_event, postgres_admin

SECRET = "whsec_" + base64.b64encode(b"seawatch-spool-test-secret-0123456789").decode()


def set_reachable(url: str, reachable: bool) -> None:
    """Let the database take connections again, or refuse them and cut the open ones."""
    name = url.rsplit("/", 1)[1]
    with postgres_admin() as admin:
        allow = sql.SQL("true" if reachable else "false")
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(name), allow))
        if not reachable:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        try:
            yield url
        finally:
            set_reachable(url, True)


def settings(url: str, spool: Path | None) -> Settings:
    partner = Partner(name="ngo", url="http://127.0.0.1:9/hook", secret=SECRET)  # type: ignore[arg-type]
    return Settings(store_url=url, store_spool_file=spool, alerts_topic_prefix="", partners=[partner])


def test_events_raised_while_the_database_is_down_survive_a_crash(pg_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    first = make_event("distress-a", 1)
    during = [make_event("distress-a", 2, summary="escalation"), make_event("drifting-b", 1)]
    later = make_event("drifting-b", 2)

    delivery = build_delivery(settings(pg_url, spool))
    delivery.handle([first])
    assert not spool.exists()

    set_reachable(pg_url, False)
    delivery.handle(during[:1])
    delivery.handle(during[1:])
    assert delivery.store_errors == 2 and len(delivery.held) == 2
    # on disk, fsynced, in the alert event contract, each event once
    assert [json.loads(line) for line in spool.read_text().splitlines()] == [
        json.loads(alert_event_json(e)) for e in during
    ]

    # the service dies here (nothing more runs on this object); the database comes back
    set_reachable(pg_url, True)
    restarted = build_delivery(settings(pg_url, spool))
    try:
        assert restarted.held == [] and not spool.exists()
        store = restarted.store
        assert [e.sequence for e in store.history("distress-a")] == [1, 2]
        assert [e.sequence for e in store.history("drifting-b")] == [1]
        assert store.history("distress-a")[1].summary == "escalation"
        # the partner's outbox rows were made for the spooled events too
        assert store.counts()["ngo"]["pending"] == 3
        restarted.handle([later])
        assert [e.sequence for e in store.history("drifting-b")] == [1, 2]
    finally:
        restarted.store.close()
        delivery.store.close()


def test_the_spool_empties_when_the_store_takes_the_next_write(pg_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    delivery = build_delivery(settings(pg_url, spool))
    try:
        set_reachable(pg_url, False)
        delivery.handle([make_event("distress-a", 1)])
        assert spool.exists() and len(delivery.held) == 1
        set_reachable(pg_url, True)
        delivery.handle([])  # a write with nothing new: what the store sink does every retry_every_s
        assert delivery.held == [] and not spool.exists()
        assert [e.sequence for e in delivery.store.history("distress-a")] == [1]
    finally:
        delivery.store.close()


def test_an_unwritable_spool_falls_back_to_memory_and_is_counted(pg_url: str, tmp_path: Path) -> None:
    blocked = tmp_path / "a-directory"
    blocked.mkdir()
    delivery = build_delivery(settings(pg_url, blocked))
    try:
        set_reachable(pg_url, False)
        delivery.handle([make_event("distress-a", 1)])
        assert (delivery.store_errors, delivery.spool_errors, len(delivery.held)) == (1, 1, 1)
        set_reachable(pg_url, True)
        delivery.handle([])
        assert delivery.held == [] and [e.sequence for e in delivery.store.history("distress-a")] == [1]
    finally:
        delivery.store.close()


def test_a_torn_last_line_is_skipped_and_the_rest_stored(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    spool = EventSpool(path)
    spool.append([make_event("distress-a", 1), make_event("distress-a", 2)])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"id": "distress-a", "sequ')  # a crash in mid-write
    assert [e.sequence for e in spool.load()] == [1, 2] and spool.torn_lines == 1

    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    delivery = build_delivery(Settings(store_url=url, store_spool_file=path, alerts_topic_prefix=""))
    try:
        assert [e.sequence for e in delivery.store.history("distress-a")] == [1, 2] and not path.exists()
    finally:
        delivery.store.close()
    with pytest.raises(SpoolError, match="cannot write the alert spool"):
        EventSpool(tmp_path).append([make_event("distress-a", 3)])


def test_a_long_outage_beyond_the_memory_cap_loses_nothing(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory keeps only the newest events; the spool file keeps them all, and all are stored."""
    monkeypatch.setattr("seawatch.delivery._MAX_HELD", 2)
    spool = tmp_path / "spool.jsonl"
    delivery = build_delivery(settings(pg_url, spool))
    try:
        set_reachable(pg_url, False)
        for n in range(4):
            delivery.handle([make_event(f"drifting-{n}", 1)])
        assert len(delivery.held) == 2 and delivery.waiting == 4
        set_reachable(pg_url, True)
        delivery.handle([])
        assert delivery.waiting == 0 and not spool.exists()
        assert [len(delivery.store.history(f"drifting-{n}")) for n in range(4)] == [1, 1, 1, 1]
    finally:
        delivery.store.close()


def test_events_the_spool_could_not_take_go_with_its_next_write(pg_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "spool-dir"
    blocker.write_text("a file where the spool's directory should be", encoding="utf-8")
    spool = blocker / "spool.jsonl"
    delivery = build_delivery(settings(pg_url, spool))
    try:
        set_reachable(pg_url, False)
        delivery.handle([make_event("distress-a", 1)])  # store and spool both refuse it
        assert (delivery.spool_errors, delivery.waiting) == (1, 1)
        blocker.unlink()  # the disk problem is fixed; the database is still down
        delivery.handle([make_event("distress-a", 2)])
        assert [e.sequence for e in EventSpool(spool).load()] == [1, 2]  # the earlier one too
        set_reachable(pg_url, True)
        delivery.handle([])
        assert delivery.waiting == 0 and not spool.exists()  # health is ok again
        assert [e.sequence for e in delivery.store.history("distress-a")] == [1, 2]
    finally:
        set_reachable(pg_url, True)
        delivery.store.close()


def test_an_append_after_a_torn_line_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    spool = EventSpool(path)
    spool.append([make_event("distress-a", 1)])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"id": "distress-a", "seq')  # a crash in mid-write
    spool.append([make_event("distress-a", 3)])
    assert [e.sequence for e in spool.load()] == [1, 3] and spool.torn_lines == 1
