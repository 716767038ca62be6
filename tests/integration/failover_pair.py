"""An active/standby pair of real ``seawatch run`` processes on one PostgreSQL store (failover).

Both instances ("a" and "b") have the same settings but their name, HTTP port and spool
file: the same MQTT client id (one persistent session at the broker), the same topics,
the same store. Each reaches PostgreSQL through a TCP proxy of its own, so that a test
can cut one instance from the store and leave the other connected. The test reads the
store directly, past both proxies.

Used by ``tests/integration/test_failover.py`` and ``benchmarks/bench_failover.py``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg

from seawatch.adapters.journal import Record, decode_chunk
from seawatch.core.commands import RESERVED_PREFIX
from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.receiver import SECRET
from tests.integration.tcpproxy import TcpProxy
from tests.integration.test_outages import WAIT_S, Service, until

ROOT = Path(__file__).resolve().parents[2]


def toml_value(value: object) -> str:
    """A TOML value for a string, number or boolean (a JSON string is a TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


@dataclass
class Instance:
    """One of the pair: its process, its proxy to PostgreSQL and its spool file."""

    name: str
    service: Service
    proxy: TcpProxy
    spool: Path

    @property
    def http(self) -> str:
        return self.service.http

    def body(self) -> dict[str, Any] | None:
        """``/healthz``'s body, or None while nothing answers (starting, or stopped by SIGSTOP)."""
        answer = self.service.health()
        return None if answer is None else answer[1]

    def failover(self) -> dict[str, Any]:
        """The ``failover`` part of ``/healthz`` ({} while nothing answers)."""
        body = self.body()
        return {} if body is None else dict(body.get("failover") or {})

    def role(self) -> str | None:
        return self.failover().get("role")

    def leads(self) -> bool:
        """It holds the lease and its MQTT source is connected: it serves the feed."""
        body = self.body()
        return body is not None and (body.get("failover") or {}).get("role") == "leader" and body["broker_connected"]

    def follows(self) -> bool:
        """It is the standby, and has applied the whole journal (lag 0)."""
        state = self.failover()
        return state.get("role") == "standby" and state.get("lag_messages") == 0

    def spool_bytes(self) -> int:
        return self.spool.stat().st_size if self.spool.exists() else 0

    @property
    def log(self) -> str:
        return self.service.log if self.service.log_path.exists() else ""


@dataclass
class Pair:
    """Instances "a" and "b" of one installation, not started yet (``pair.a.service.start()``)."""

    tmp_path: Path
    broker: Mosquitto
    topic: str
    store_url: str  # the database itself; each instance gets it through its own proxy
    partner_urls: dict[str, str]  # instance name -> where it delivers to the partner "ngo"
    lease_ttl_s: float | None = None  # None: the default
    settings: dict[str, object] = field(default_factory=dict)  # more settings for both
    client_id: str = field(default_factory=lambda: f"seawatch-failover-{uuid.uuid4().hex[:8]}")
    instances: dict[str, Instance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            self.instances[name] = self._instance(name)

    @property
    def a(self) -> Instance:
        return self.instances["a"]

    @property
    def b(self) -> Instance:
        return self.instances["b"]

    @property
    def feed_topic(self) -> str:
        return f"{self.topic}/rx"

    def _instance(self, name: str) -> Instance:
        workdir = self.tmp_path / name
        workdir.mkdir(parents=True, exist_ok=True)
        proxy = TcpProxy("127.0.0.1", 5432).start()
        port = free_port()
        spool = workdir / "spool.jsonl"
        settings: dict[str, object] = {
            "failover": True,
            "instance_name": name,
            "instance_url": f"http://127.0.0.1:{port}",
            "mqtt_url": self.broker.url,
            "mqtt_client_id": self.client_id,
            "mqtt_sys_topics": False,
            "store_url": self.store_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/"),
            "store_spool_file": str(spool),
            "zones_dir": str(ROOT / "zones"),
            "alerts_topic_prefix": "",
            "shore_distance": False,
            "webhook_retry_min_s": 0.1,
            "webhook_retry_max_s": 1.0,
            "http_port": port,
        }
        if self.lease_ttl_s is not None:
            settings["lease_ttl_s"] = self.lease_ttl_s
        settings.update(self.settings)
        config = workdir / "seawatch.toml"
        config.write_text(
            "".join(f"{key} = {toml_value(value)}\n" for key, value in settings.items())
            + f"mqtt_topics = [{toml_value(self.topic + '/#')}]\n"
            + "[[partners]]\n"
            + 'name = "ngo"\n'
            + f"url = {toml_value(self.partner_urls[name])}\n"
            + f"secret = {toml_value(SECRET)}\n",
            encoding="utf-8",
        )
        return Instance(name, Service(config, workdir / "run.log", f"http://127.0.0.1:{port}"), proxy, spool)

    def open_session(self) -> None:
        """The pair's persistent MQTT session, made before either instance runs.

        From then on the broker queues for it whatever is published while no instance is
        connected (before the first leads, and between a leader's end and the next one's start).
        """
        session = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False, protocol=paho.MQTTv311
        )
        subscribed: list[int] = []
        session.on_subscribe = lambda *args: subscribed.append(1)
        session.connect("127.0.0.1", self.broker.port)
        session.loop_start()
        try:
            session.subscribe(f"{self.topic}/#", qos=1)
            until(lambda: subscribed, "the SUBACK of the pair's persistent session", 10)
        finally:
            session.loop_stop()
            session.disconnect()

    def until(self, predicate: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
        """:func:`until`, with the end of both instances' logs in the failure's report."""
        try:
            until(predicate, what, timeout_s)
        except AssertionError as exc:
            logs = "".join(f"\n--- {i.name}'s log ---\n{i.log[-3000:]}" for i in self.instances.values())
            raise AssertionError(f"{exc}{logs}") from None

    def start_leader_and_standby(self, first: str = "a", wait_s: float = 120.0) -> tuple[Instance, Instance]:
        """Start ``first`` and wait until it leads, then the other and wait until it follows."""
        leader = self.instances[first]
        standby = self.b if leader is self.a else self.a
        leader.service.start()
        self.until(leader.leads, f"{leader.name} leads", wait_s)
        standby.service.start()
        self.until(standby.follows, f"{standby.name} is the standby and follows", wait_s)
        return leader, standby

    def close(self) -> None:
        """Kill what still runs and close the proxies (the database is the caller's to drop)."""
        for instance in self.instances.values():
            instance.service.kill()
            instance.proxy.stop()

    # ------------------------------------------------------------------ the store, read directly
    def query(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        dsn = self.store_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]

    def journal(self) -> list[Record]:
        """The feed messages the store's journal holds, in order (not its own records: ticks, commands)."""
        rows = self.query("SELECT data FROM journal_chunks ORDER BY first_seq")
        return [r for (data,) in rows for r in decode_chunk(bytes(data)) if not r.topic.startswith(RESERVED_PREFIX)]

    def journalled(self) -> int:
        """Feed messages the store's journal holds."""
        return len(self.journal())

    def journal_end(self) -> int:
        """The sequence number after the journal's last record."""
        return int(self.query("SELECT coalesce(max(first_seq + count), 0) FROM journal_chunks")[0][0])

    def chunks(self) -> list[tuple[int, int, int]]:
        """The journal's chunks as (first_seq, count, token), in order."""
        return [(int(f), int(c), int(t)) for f, c, t in self.query(JOURNAL_CHUNKS)]

    def row_counts(self) -> dict[str, int]:
        return {table: int(self.query(f"SELECT count(*) FROM {table}")[0][0]) for table in COUNTED_TABLES}

    def outbox(self) -> list[tuple[Any, ...]]:
        """Every outbox row's delivery state, in order."""
        return self.query("SELECT id, webhook_id, status, attempts, finished_at FROM outbox ORDER BY id")

    def pending(self) -> int:
        """Outbox rows not delivered yet."""
        return int(self.query("SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0])

    def opened_twice(self) -> list[tuple[str, int]]:
        """Alert ids with more than one ``alert.opened`` in the store's history."""
        rows = self.query(
            "SELECT alert_id, count(*) FROM alert_events WHERE event = 'alert.opened' "
            "GROUP BY alert_id HAVING count(*) > 1"
        )
        return [(str(alert_id), int(count)) for alert_id, count in rows]


JOURNAL_CHUNKS = "SELECT first_seq, count, token FROM journal_chunks ORDER BY first_seq"
COUNTED_TABLES = ("alert_events", "outbox", "journal_chunks", "snapshots")
