"""Take the README's screenshot of the live map (not a test): ``python -m tests.e2e.screenshot``.

Starts a Mosquitto broker of its own and the real app, publishes the
``rescue_disembarkation`` scenario over MQTT, stops at the moment of interest — the
rescuing ship under way for the place of safety, its ``disembarkation`` alert open — and
saves a 1280x800 PNG from headless Chromium (Debian's chromium, as the browser tests).

The scenario keeps its own event times; the browser's clock is set to the last one
published, so ages in the panel ("12 min ago") read as they did at that moment.
Nothing leaves 127.0.0.1: there is no tile layer; land comes from Seawatch's own coastline files.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_TOKEN,
    VIEWPORT,
    AppServer,
    Publisher,
    e2e_settings,
)
from tests.integration.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "replay_data" / "scenarios" / "rescue_disembarkation.nmea"
RESCUER = 533_180_734  # the cargo ship that takes the people aboard
# Centre and zoom showing the drifting boat, the rescuer and the disembarkation zone of Sabang (Pulau Weh).
SCENE_CENTER = (6.09, 95.45)
SCENE_ZOOM = 10
_TIME = re.compile(rb"c:(\d+)")


def active_kinds(http: httpx.Client) -> set[str]:
    alerts: list[dict[str, Any]] = http.get("/api/alerts").json()["alerts"]
    return {a["kind"] for a in alerts}


def publish_until(publisher: Publisher, http: httpx.Client, lines: list[bytes], kind: str) -> int:
    """Publish in batches until an alert of ``kind`` is open, then a few more fixes; returns lines sent."""
    sent = 0
    while sent < len(lines):
        publisher.publish(lines[sent : sent + 50])
        sent = min(sent + 50, len(lines))
        if kind in active_kinds(http):
            publisher.publish(lines[sent : sent + 120])  # the ship seen leaving the boat behind
            return min(sent + 120, len(lines))
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "map.png")
    parser.add_argument("--until", default="disembarkation", help="stop publishing once this alert kind is open")
    args = parser.parse_args()

    lines = [line for line in SCENARIO.read_bytes().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="seawatch-shot-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "mosquitto")
        broker.start()
        topic = f"seawatch-shot/{uuid.uuid4().hex}"
        server = AppServer(e2e_settings(broker, topic, workdir, centre_timezone="Asia/Jakarta"))
        server.start()
        publisher = Publisher(broker, f"{topic}/rx")
        try:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                sent = publish_until(publisher, http, lines, args.until)
                time.sleep(1.5)  # let the ingest catch up
                print(f"published {sent} of {len(lines)} lines; open alerts: {', '.join(sorted(active_kinds(http)))}")
            stamps = [int(m.group(1)) for line in lines[:sent] if (m := _TIME.search(line))]
            moment = datetime.fromtimestamp(max(stamps), UTC) + timedelta(seconds=20)
            shoot(server.url, args.out, moment)
        finally:
            publisher.close()
            server.stop()
            broker.stop()
    print(f"saved {args.out}")
    return 0


def shoot(url: str, out: Path, moment: datetime) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url) else route.abort())
        page = context.new_page()
        page.clock.install(time=moment)  # time flows on from there (Leaflet animates by it)
        page.goto(url + "/")
        page.wait_for_selector("#sw-status[data-state='live']")
        page.wait_for_function("() => window.seawatch.landState() === 'ready'")
        page.fill("#sw-token", OPERATOR_TOKEN)
        page.click("#sw-login-button")
        page.wait_for_selector("li.sw-alert")
        page.evaluate(
            "([c, z]) => window.seawatchMap.setView(c, z, {animate: false}) && null", [SCENE_CENTER, SCENE_ZOOM]
        )
        page.wait_for_timeout(1000)
        # select the rescuer: its track stays drawn after its popup is closed
        page.locator(f".sw-vessel[data-mmsi='{RESCUER}']").click()
        page.wait_for_selector(".sw-popup-note:has-text('Track')")
        page.click(".leaflet-popup-close-button")
        # the popup may have panned the map to fit: frame the scene again
        page.evaluate(
            "([c, z]) => window.seawatchMap.setView(c, z, {animate: false}) && null", [SCENE_CENTER, SCENE_ZOOM]
        )
        # the coordinator's question: who else could reach the boat?
        page.locator("li.sw-alert[data-kind='drifting'] button.sw-surpic-button").click()
        page.wait_for_selector("li.sw-alert[data-kind='drifting'] .sw-surpic-list li")
        page.evaluate("document.getElementById('sw-message').hidden = true")
        page.wait_for_timeout(800)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
