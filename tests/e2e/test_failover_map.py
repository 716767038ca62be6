"""The map of a failover pair in headless Chromium: the badge, the standby's read-only map, a takeover.

Same harness as ``test_map.py`` (every request outside 127.0.0.1 blocked, any console error,
uncaught exception or dialog failing the test), with a real pair: two apps with ``failover = true``
on one fresh PostgreSQL database and one Mosquitto, the same client id, their own names and URLs.
The leader's name is markup and the other's URL is ``javascript:``: both must reach the page as
text, and no link may be made to a URL that is not http(s). Tests wait for states (an element, a
text), never for a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import (
    OPERATOR_TOKEN,
    AppServer,
    Probe,
    Publisher,
    e2e_settings,
    nmea,
    open_probe,
    wait_for,
)
from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.test_store import fresh_postgres_database

ALPHA = "alpha<img src=x onerror=alert(1)>"  # configuration, and still only ever text on the page
BRAVO = "bravo"
BRAVO_URL = "javascript:alert(document.domain)"  # never a link
SART = 970_115_501
WRITES = ("button.sw-ack", "button.sw-assign", "button.sw-resolve", "button.sw-retract")
READS = ("button.sw-surpic-button", "button.sw-details-button")


@pytest.fixture
def pair_store() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


class Pair:
    """Members of one pair: same store, same client id, their own name, URL, port and spool."""

    def __init__(self, broker: Mosquitto, topic: str, workdir: Path, store_url: str) -> None:
        self.broker, self.topic, self.workdir, self.store_url = broker, topic, workdir, store_url
        self.client_id = f"seawatch-pair-{uuid.uuid4().hex[:8]}"
        self.running: list[AppServer] = []

    def start(self, name: str, url: str | None = None, *, leads: bool) -> AppServer:
        port = free_port()
        overrides: dict[str, Any] = {
            "store_url": self.store_url,
            "mqtt_client_id": self.client_id,
            "failover": True,
            "instance_name": name,
            "instance_url": url or f"http://127.0.0.1:{port}/",
            "lease_ttl_s": 4.0,
            "store_spool_file": self.workdir / f"{uuid.uuid4().hex[:8]}.spool.jsonl",
        }
        server = AppServer(e2e_settings(self.broker, self.topic, self.workdir, **overrides), port=port)
        server.start(connected=False)
        self.running.append(server)
        role = "leader" if leads else "standby"
        wait_for(lambda: instance(server)["role"] == role, 20, f"{name} to start as the {role}")
        return server

    def stop(self, server: AppServer) -> None:
        server.stop()
        self.running.remove(server)


def get(server: AppServer, path: str) -> Any:
    answer = httpx.get(server.url + path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def instance(server: AppServer) -> dict[str, Any]:
    body: dict[str, Any] = get(server, "/api/instance")
    return body


@pytest.fixture
def pair(mosquitto: Mosquitto, topic: str, tmp_path: Path, pair_store: str) -> Iterator[Pair]:
    made = Pair(mosquitto, topic, tmp_path, pair_store)
    try:
        yield made
    finally:
        for server in reversed(made.running):
            server.stop()


def open_map(page: Page, server: AppServer) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)


def sart_alert(page: Page) -> Locator:
    item = page.locator("li.sw-alert[data-kind='distress']", has_text=f"MMSI {SART}")
    expect(item).to_be_visible(timeout=20_000)
    return item


def expect_read_only(page: Page, item: Locator) -> None:
    for button in WRITES:
        expect(item.locator(button)).to_be_hidden()
    for button in READS:
        expect(item.locator(button)).to_be_visible()
    expect(page.locator("#sw-report")).to_be_hidden()
    expect(page.locator("#sw-read-only")).to_be_visible()
    expect(page.locator("#sw-read-only")).to_contain_text("is the standby of a failover pair")
    assert page.evaluate("window.seawatch.readOnly()") is True


def expect_writable(page: Page, item: Locator) -> None:
    for button in (*WRITES, *READS):
        expect(item.locator(button)).to_be_visible()
    expect(page.locator("#sw-report")).to_be_visible()
    expect(page.locator("#sw-read-only")).to_be_hidden()
    assert page.evaluate("window.seawatch.readOnly()") is False


def test_the_standby_serves_a_read_only_map_until_it_takes_over(
    pair: Pair, publisher: Publisher, probe: Probe, browser: Browser
) -> None:
    alpha = pair.start(ALPHA, leads=True)
    publisher.publish(nmea({"msg_type": 1, "mmsi": SART, "lat": 6.5, "lon": 96.5, "status": 14}, datetime.now(UTC)))
    wait_for(lambda: get(alpha, "/api/alerts")["alerts"], 15, "the SART's alert on the leader")
    bravo = pair.start(BRAVO, BRAVO_URL, leads=False)

    # the standby's map: who serves it, who leads (a link to its map), no operator's action
    page = probe.page
    open_map(page, bravo)
    badge = page.locator("#sw-instance")
    expect(badge).to_have_text(f"{BRAVO} · standby (read-only) — leader: {ALPHA}", timeout=10_000)
    expect(badge).to_have_attribute("data-read-only", "true")
    link = badge.locator("a")
    expect(link).to_have_text(ALPHA)
    expect(link).to_have_attribute("href", alpha.url + "/")
    item = sart_alert(page)  # followed from the journal the leader writes into the store
    expect_read_only(page, item)
    expect(page.locator("#sw-read-only a")).to_have_attribute("href", alpha.url + "/")

    # the leader's map, where the link leads
    with open_probe(browser, lambda url: urlsplit(url).hostname == "127.0.0.1") as leader_probe:
        leader_page = leader_probe.page
        leader_page.goto(link.get_attribute("href") or "")
        expect(leader_page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)
        expect(leader_page.locator("#sw-instance")).to_have_text(f"{ALPHA} · leader", timeout=10_000)
        expect(leader_page.locator("#sw-instance")).to_have_attribute("data-read-only", "false")
        expect_writable(leader_page, sart_alert(leader_page))
        assert leader_page.evaluate("window.__seawatchImgs") == []
    leader_probe.assert_clean()

    # the leader stops cleanly: the standby takes over, and its open page follows without a reload
    pair.stop(alpha)
    expect(badge).to_have_text(f"{BRAVO} · leader", timeout=20_000)
    expect_writable(page, item)
    page.fill("#sw-token", OPERATOR_TOKEN)
    page.click("#sw-login-button")
    item.locator("button.sw-ack").click()
    expect(item).to_have_attribute("data-status", "acknowledged", timeout=10_000)
    assert page.evaluate("window.__seawatchImgs") == []

    # the old leader comes back as the standby: the new leader's javascript: URL is no link
    again = pair.start(ALPHA, leads=False)
    with open_probe(browser, lambda url: urlsplit(url).hostname == "127.0.0.1") as standby_probe:
        standby_page = standby_probe.page
        open_map(standby_page, again)
        standby_badge = standby_page.locator("#sw-instance")
        expect(standby_badge).to_have_text(f"{ALPHA} · standby (read-only) — leader: {BRAVO}", timeout=10_000)
        expect(standby_badge.locator("a")).to_have_count(0)
        expect(standby_page.locator("#sw-read-only a")).to_have_count(0)
        expect_read_only(standby_page, sart_alert(standby_page))
        assert standby_page.evaluate("window.__seawatchImgs") == []
    standby_probe.assert_clean()
