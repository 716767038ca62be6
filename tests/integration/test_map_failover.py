"""``GET /api/instance``, what the map's failover badge reads, against the real service.

A single instance (SQLite) says failover is off. A pair runs as in production: two apps with
``failover = true`` on one fresh PostgreSQL database and one Mosquitto, the same client id, their
own names and URLs; ``with TestClient(app)`` runs each one's lifespan, so the lease, the follower
and the takeover are the real ones. The standby answers read-only and names the leader; its
actions are refused (409); after the leader's clean stop it leads, and acts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from seawatch.config.settings import Settings
from seawatch.runtime import create_app
from seawatch.web.schemas import InstanceOut
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_store import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "op-token-" + uuid.uuid4().hex
READ = "read-token-" + uuid.uuid4().hex
REPORT = {"lat": 5.9, "lon": 95.4, "kind": "distress_call", "persons_on_board": 12, "text": "engine failed"}


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    assert predicate(), f"timed out after {timeout_s} s waiting for {what}"


def instance(client: TestClient) -> dict[str, Any]:
    """The answer of /api/instance, held to its documented model (no key missing, none extra)."""
    answer = client.get("/api/instance", headers=auth())
    assert answer.status_code == 200, answer.text
    InstanceOut.model_validate_json(answer.content)
    body: dict[str, Any] = answer.json()
    return body


def base_settings(mosquitto: Mosquitto, topic: str, store_url: str, **values: Any) -> Settings:
    return Settings(
        mqtt_url=mosquitto.url,
        mqtt_topics=[f"{topic}/#"],
        store_url=store_url,
        zones_dir=ROOT / "zones",
        operator_tokens={"duty-officer": TOKEN},  # type: ignore[dict-item]
        alerts_topic_prefix=None,
        shore_distance=False,
        **values,
    )


def test_a_single_instance_says_failover_is_off(mosquitto: Mosquitto, topic: str, tmp_path: Path) -> None:
    settings = base_settings(
        mosquitto,
        topic,
        f"sqlite:///{tmp_path / 'alerts.db'}",
        mqtt_client_id=f"seawatch-map-{uuid.uuid4().hex[:8]}",
        api_read_token=SecretStr(READ),
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/instance").status_code == 401  # the read token rules, as for every read
        answer = client.get("/api/instance", headers=auth(READ))
        assert answer.status_code == 200
        InstanceOut.model_validate_json(answer.content)
        assert answer.json() == {"failover": False, "instance": None, "role": None, "read_only": False, "leader": None}
        assert instance(client)["failover"] is False  # an operator's token reads too


@pytest.fixture
def pair_store() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


def test_the_standby_is_read_only_and_names_the_leader_until_it_takes_over(
    mosquitto: Mosquitto, topic: str, tmp_path: Path, pair_store: str
) -> None:
    client_id = f"seawatch-pair-{uuid.uuid4().hex[:8]}"
    urls = {"alpha": "https://rcc-1.example.org/", "bravo": "https://rcc-2.example.org/"}

    def member(name: str) -> Settings:
        return base_settings(
            mosquitto,
            topic,
            pair_store,
            mqtt_client_id=client_id,
            failover=True,
            instance_name=name,
            instance_url=urls[name],
            lease_ttl_s=4.0,
            store_spool_file=tmp_path / f"{name}.spool.jsonl",
        )

    with ExitStack() as stack:
        alpha = stack.enter_context(TestClient(create_app(member("alpha"))))
        wait_for(lambda: instance(alpha)["role"] == "leader", 20, "alpha to lead")
        assert instance(alpha) == {
            "failover": True,
            "instance": "alpha",
            "role": "leader",
            "read_only": False,
            "leader": {"instance": "alpha", "url": urls["alpha"]},
        }

        with TestClient(create_app(member("bravo"))) as bravo:
            wait_for(lambda: instance(bravo)["leader"] is not None, 20, "bravo to read who leads")
            assert instance(bravo) == {
                "failover": True,
                "instance": "bravo",
                "role": "standby",
                "read_only": True,
                "leader": {"instance": "alpha", "url": urls["alpha"]},
            }
            # the standby's writes are refused, and say where to act
            refused = bravo.post("/api/reports", json=REPORT, headers=auth())
            assert refused.status_code == 409
            assert refused.json()["detail"] == (
                f"bravo is the standby of a failover pair; its map is read-only: act on alpha at {urls['alpha']}"
            )
            assert bravo.post("/api/alerts/any/acknowledge", json={}, headers=auth()).status_code == 409
            assert alpha.post("/api/reports", json=REPORT, headers=auth()).status_code == 201

            stack.close()  # alpha stops cleanly and releases the lease: bravo takes over at once
            wait_for(lambda: instance(bravo)["role"] == "leader", 20, "bravo to take over")
            assert instance(bravo) == {
                "failover": True,
                "instance": "bravo",
                "role": "leader",
                "read_only": False,
                "leader": {"instance": "bravo", "url": urls["bravo"]},
            }
            assert bravo.post("/api/reports", json=REPORT, headers=auth()).status_code == 201
