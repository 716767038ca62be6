"""The live map in headless Chromium: what an operator at a coordination centre sees and does.

AIS goes in over MQTT to the real app; the page is driven as a person would (clicks,
typing). Every test also fails on a console error, an uncaught exception, a dialog it did
not expect, or a request to anything but 127.0.0.1 (see ``conftest.Probe``).
"""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from seawatch.core.zones import ZoneIndex, parse_zones
from seawatch.web.page import render_map
from tests.e2e.conftest import (
    OPERATOR_TOKEN,
    AppServer,
    Probe,
    Publisher,
    Seawatch,
    click_until,
    e2e_settings,
    nmea,
    wait_for,
)
from tests.integration.mosquitto import Mosquitto

SHIP = 533_000_101  # a Malaysian cargo ship
SART = 970_112_233  # an AIS-SART
SMALL = 525_000_777  # an Indonesian fishing boat with a hostile name
XSS_NAME = "<IMG SRC=X ONERROR=A"  # AIS names hold 20 characters
XSS_TEXT = "<IMG SRC=X ONERROR=ALERT(1)>"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def open_map(page: Page, seawatch: Seawatch) -> None:
    """Load the page and wait until its event stream is live (so nothing published later is missed)."""
    page.goto(seawatch.url + "/")
    expect(page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)


def ship_messages(when: datetime, *, lat: float = 6.4, lon: float = 96.3, heading: int = 80) -> list[bytes]:
    static = {"msg_type": 5, "mmsi": SHIP, "shipname": "KM BAHARI", "callsign": "9MAB1", "ship_type": 70}
    static.update({"to_bow": 100, "to_stern": 20, "to_port": 10, "to_starboard": 10})
    position = {"msg_type": 1, "mmsi": SHIP, "lat": lat, "lon": lon, "speed": 12.0, "course": 80.0, "heading": heading}
    return nmea(static, when - timedelta(seconds=5)) + nmea(position, when)


def sart_messages(when: datetime) -> list[bytes]:
    return nmea({"msg_type": 1, "mmsi": SART, "lat": 6.5, "lon": 96.5, "status": 14, "speed": 0.2}, when)


def distress_item(page: Page, mmsi: int) -> str:
    """Wait for the panel entry of the distress alert of ``mmsi``; return its alert id."""
    item = page.locator("li.sw-alert[data-kind='distress']", has_text=f"MMSI {mmsi}")
    expect(item).to_be_visible(timeout=10_000)
    alert_id = item.get_attribute("data-alert-id")
    assert alert_id
    return alert_id


def sign_in(page: Page, token: str) -> None:
    page.fill("#sw-token", token)
    page.click("#sw-login-button")
    expect(page.locator("#sw-signed-in")).to_be_visible()


def test_page_loads_only_its_own_assets(seawatch: Seawatch, probe: Probe) -> None:
    open_map(probe.page, seawatch)
    page = probe.page
    # the zones are drawn (one SVG path or more per zone), and the page has its title
    zones = seawatch.get("/api/zones")["features"]
    wait_for(lambda: page.locator(".leaflet-overlay-pane path").count() >= len(zones), 5, "the zones")
    assert page.title() == "Seawatch"
    assert page.evaluate("typeof window.seawatchMap.getCenter") == "function"
    # nothing from a CDN: Leaflet from xstatic-leaflet, our script and style, the API
    paths = {re.sub(r"\?.*", "", u.removeprefix(seawatch.url)) for u in probe.requests}
    static = {p for p in paths if p.startswith("/static/")}
    assert {"/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css"} <= static
    assert {"/static/seawatch/map.js", "/static/seawatch/map.css"} <= static
    land = {p for p in static if re.fullmatch(r"/static/seawatch/land/(manifest|z\d+/[-\d.]+_[-\d.]+)\.json", p)}
    assert static - land <= {
        "/static/leaflet/leaflet.js",
        "/static/leaflet/leaflet.css",
        "/static/leaflet/images/layers.png",
        "/static/leaflet/images/layers-2x.png",
        "/static/seawatch/land.js",
        "/static/seawatch/alarm.js",
        "/static/seawatch/panels.js",
        "/static/seawatch/map.js",
        "/static/seawatch/map.css",
    }
    assert all(u.startswith(seawatch.url) for u in probe.requests)
    # the zone tooltip is the zone's name, as text
    name = zones[0]["properties"]["name"]
    assert page.evaluate(
        "(name) => { let found = false; window.seawatchZones.eachLayer((l) => {"
        " const t = l.getTooltip(); if (t && t.getContent().textContent === name) found = true; }); return found; }",
        name,
    )


def test_vessel_published_over_mqtt_appears_within_5_s(seawatch: Seawatch, probe: Probe, publisher: Publisher) -> None:
    page = probe.page
    open_map(page, seawatch)
    started = time.monotonic()
    publisher.publish(ship_messages(now()))
    marker = page.locator(f".sw-vessel[data-mmsi='{SHIP}']")
    expect(marker).to_be_visible(timeout=5_000)
    elapsed_s = time.monotonic() - started
    assert elapsed_s < 5.0
    print(f"vessel on the map {elapsed_s:.2f} s after the MQTT publish")
    # drawn along its heading, in the colour of no risk
    assert marker.locator("path").get_attribute("transform") == "rotate(80)"
    assert "risk-none" in (marker.get_attribute("class") or "")
    expect(page.locator("#sw-vessel-count")).to_contain_text("1 vessels in view")

    # a click shows its details and its track
    popup = page.locator(".leaflet-popup .sw-popup")
    click_until(marker, popup, "vessel popup")
    expect(popup.locator("h3")).to_have_text("KM BAHARI")
    expect(popup).to_contain_text("9MAB1")
    expect(popup).to_contain_text("cargo (70)")
    expect(popup).to_contain_text("Track: 1 fixes")

    # it moves on and turns: the map follows without a reload, turning the same element (a
    # replaced one would lose a click in progress)
    page.evaluate(f"() => {{ window.__shipMarker = document.querySelector(\".sw-vessel[data-mmsi='{SHIP}']\"); }}")
    publisher.publish(ship_messages(now() + timedelta(seconds=10), lat=6.45, lon=96.5, heading=95))
    expect(popup).to_contain_text("Track: 2 fixes", timeout=5_000)
    expect(marker.locator("path")).to_have_attribute("transform", "rotate(95)")
    assert page.evaluate(f"() => window.__shipMarker === document.querySelector(\".sw-vessel[data-mmsi='{SHIP}']\")")
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive, .leaflet-overlay-pane path").count() > 0


def test_ais_sart_raises_a_distress_alert_in_the_panel(seawatch: Seawatch, probe: Probe, publisher: Publisher) -> None:
    page = probe.page
    open_map(page, seawatch)
    expect(page.locator("#sw-alerts-empty")).to_be_visible()
    publisher.publish(ship_messages(now()) + sart_messages(now()))
    alert_id = distress_item(page, SART)
    item = page.locator(f"li.sw-alert[data-alert-id='{alert_id}']")
    assert item.get_attribute("data-severity") == "critical"
    assert item.get_attribute("data-status") == "open"
    # a new critical alert draws the eye: flashing entry and marker, a count in the title, first in the list
    expect(item).to_have_class(re.compile(r"\bsw-flash\b"))
    expect(page.locator(f".sw-alert-marker[data-alert-id='{alert_id}']")).to_have_class(re.compile(r"\bsw-flash\b"))
    expect(page).to_have_title(re.compile(r"^\(1\) CRITICAL"))
    assert page.locator("li.sw-alert").first.get_attribute("data-alert-id") == alert_id
    # the beacon itself is unmistakable on the map
    beacon = page.locator(f".sw-beacon[data-mmsi='{SART}']")
    expect(beacon).to_be_visible(timeout=5_000)
    expect(beacon.locator(".sw-beacon-label")).to_have_text("SART")
    # looking at it stops the flashing
    item.click()
    expect(item).not_to_have_class(re.compile(r"\bsw-flash\b"))


def test_acknowledge_in_the_page_changes_the_alert_in_the_api(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    open_map(page, seawatch)
    publisher.publish(sart_messages(now()))
    alert_id = distress_item(page, SART)
    item = page.locator(f"li.sw-alert[data-alert-id='{alert_id}']")

    # without a token: a clear message, and no request is made
    item.locator("button.sw-ack").click()
    expect(page.locator("#sw-message")).to_contain_text("Sign in with your operator token")

    # a wrong token: the server answers 401, the panel says so and asks again
    probe.allowed_console.append("status of 401")
    sign_in(page, "not-the-token")
    click_until(
        item.locator("button.sw-ack"), page.locator("#sw-message", has_text="Not authorised"), "acknowledge refused"
    )
    expect(page.locator("#sw-message")).to_contain_text("Not authorised")
    expect(page.locator("#sw-login-form")).to_be_visible()
    assert seawatch.get(f"/api/alerts/{alert_id}")["alert"]["status"] == "open"

    # the operator's token: acknowledged, in the page and in the API
    sign_in(page, OPERATOR_TOKEN)
    assert page.evaluate("sessionStorage.getItem('seawatch.operatorToken')") == OPERATOR_TOKEN
    item.locator("button.sw-ack").click()
    expect(item).to_have_attribute("data-status", "acknowledged")
    wait_for(
        lambda: seawatch.get(f"/api/alerts/{alert_id}")["alert"]["status"] == "acknowledged",
        5,
        "the API to show the alert acknowledged",
    )
    detail = seawatch.get(f"/api/alerts/{alert_id}")
    assert detail["alert"]["by"] == "duty-officer"
    assert [e["event"] for e in detail["history"]][-1] == "alert.acknowledged"
    expect(item.locator("button.sw-ack")).to_be_disabled()
    expect(page).to_have_title("Seawatch")
    # the token never travels in a URL
    assert not any(OPERATOR_TOKEN in url for url in probe.requests)


def test_assign_surpic_report_retract_and_resolve(seawatch: Seawatch, probe: Probe, publisher: Publisher) -> None:
    page = probe.page
    open_map(page, seawatch)
    publisher.publish(ship_messages(now()) + sart_messages(now()))
    alert_id = distress_item(page, SART)
    item = page.locator(f"li.sw-alert[data-alert-id='{alert_id}']")
    sign_in(page, OPERATOR_TOKEN)

    # SURPIC: the cargo ship nearby, with its time to reach and course change
    item.locator("button.sw-surpic-button").click()
    expect(item.locator(".sw-surpic-list li").first).to_contain_text("KM BAHARI")
    expect(item.locator(".sw-surpic-list li").first).to_contain_text("nm")

    # assign, answering the two prompts (assignee, note)
    probe.prompt_answers.extend(["MRCC Jakarta", "asked KM BAHARI to assist"])
    item.locator("button.sw-assign").click()
    expect(item.locator(".sw-alert-meta")).to_contain_text("assigned to MRCC Jakarta")
    assert seawatch.get(f"/api/alerts/{alert_id}")["alert"]["evidence"]["assigned_to"] == "MRCC Jakarta"
    assert len(probe.answered) == 2

    # a distress call telephoned in becomes an alert like any other
    page.click("#sw-report summary")
    page.locator(".folium-map").click(position={"x": 200, "y": 650})  # open sea, away from markers
    assert page.input_value("#sw-report-lat") != "" and page.input_value("#sw-report-lon") != ""
    page.fill("#sw-report-lat", "7.25")
    page.fill("#sw-report-lon", "95.75")
    page.select_option("#sw-report-kind", "distress_call")
    page.fill("#sw-report-pob", "60")
    page.fill("#sw-report-condition", "adrift, no engine")
    page.fill("#sw-report-text", "call from a satellite phone")
    page.click("#sw-report-submit")
    report = page.locator("li.sw-alert[data-kind='report']")
    expect(report).to_be_visible(timeout=5_000)
    reports = [a for a in seawatch.get("/api/alerts")["alerts"] if a["kind"] == "report"]
    assert len(reports) == 1 and reports[0]["lat"] == pytest.approx(7.25)

    # the call turns out to be a hoax: retracted as a false alarm, with its reason
    probe.prompt_answers.append("hoax call, boat found in port")
    report.locator("button.sw-retract").click()
    expect(report).to_have_count(0, timeout=5_000)
    retracted = seawatch.get(f"/api/alerts/{reports[0]['id']}")["alert"]
    assert (retracted["status"], retracted["note"]) == ("retracted", "hoax call, boat found in port")

    # resolve with a note: it leaves the panel and the API says resolved
    probe.prompt_answers.append("survivors aboard KM BAHARI")
    item.locator("button.sw-resolve").click()
    expect(item).to_have_count(0, timeout=5_000)
    resolved = seawatch.get(f"/api/alerts/{alert_id}")["alert"]
    assert resolved["status"] == "resolved"
    assert page.locator(f".sw-alert-marker[data-alert-id='{alert_id}']").count() == 0


def test_hostile_ais_text_is_shown_as_text(seawatch: Seawatch, probe: Probe, publisher: Publisher) -> None:
    page = probe.page
    open_map(page, seawatch)
    when = now()
    payloads = nmea({"msg_type": 5, "mmsi": SMALL, "shipname": XSS_NAME, "ship_type": 30}, when - timedelta(seconds=5))
    payloads += nmea({"msg_type": 1, "mmsi": SMALL, "lat": 6.2, "lon": 95.9, "speed": 0.5, "course": 10.0}, when)
    payloads += nmea({"msg_type": 14, "mmsi": SMALL, "text": f"MAYDAY {XSS_TEXT}"}, when + timedelta(seconds=1))
    publisher.publish(payloads)

    item = page.locator("li.sw-alert[data-kind='distress']", has_text=f"MMSI {SMALL}")
    expect(item).to_be_visible(timeout=10_000)
    expect(item.locator(".sw-alert-vessel")).to_contain_text(XSS_NAME)
    expect(item.locator(".sw-alert-text")).to_contain_text(XSS_TEXT)
    expect(page.get_by_text(XSS_TEXT).first).to_be_visible()

    marker = page.locator(f".sw-vessel[data-mmsi='{SMALL}']")
    expect(marker).to_be_visible(timeout=5_000)
    marker.hover()
    expect(page.locator(".leaflet-tooltip", has_text=XSS_NAME)).to_be_visible()
    click_until(marker, page.locator(".leaflet-popup .sw-popup"), "hostile vessel popup")
    expect(page.locator(".leaflet-popup .sw-popup h3")).to_have_text(XSS_NAME)

    page.wait_for_timeout(500)  # an onerror would have fired by now
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("window.__seawatchImgs") == []
    assert probe.dialogs == []
    assert probe.page_errors == []


def test_busy_sea_stays_usable(seawatch: Seawatch, probe: Probe, publisher: Publisher) -> None:
    """20,000 vessels in state: the page asks for its viewport only and draws a crowd on a canvas."""
    total = 20_000
    when = now()
    payloads: list[bytes] = []
    batch: list[bytes] = []
    for i in range(total):
        lat = -12.0 + (i % 200) * 0.15  # a 200 x 100 grid over the region, 6000 of them around the view centre
        lon = 88.0 + (i // 200) * 0.3
        fields = {"msg_type": 1, "mmsi": 200_000_000 + i, "lat": lat, "lon": lon, "speed": 10.0, "course": 90.0}
        batch.extend(nmea(fields, when))
        if len(batch) == 200:
            payloads.append(b"\n".join(batch))
            batch = []
    if batch:
        payloads.append(b"\n".join(batch))
    publisher.publish(payloads)
    wait_for(lambda: seawatch.get("/api/vessels?limit=1")["total"] >= total, 60, "20,000 vessels in state")

    page = probe.page
    started = time.monotonic()
    open_map(page, seawatch)
    wait_for(lambda: page.evaluate("window.seawatch.vesselCount()") > 0, 20, "vessels on the page")
    loaded_s = time.monotonic() - started
    shown = page.evaluate("window.seawatch.vesselCount()")
    assert page.evaluate("window.seawatch.vesselMode()") == "canvas"
    assert shown <= 5000
    assert page.locator(".sw-vessel").count() == 0  # no DOM marker per vessel in a crowd
    expect(page.locator("#sw-vessel-note")).to_contain_text("zoom in")

    # zoom in on one area: only that viewport is fetched, drawn as markers again
    started = time.monotonic()
    page.evaluate("window.seawatchMap.setView([5.0, 96.0], 9) && null")
    wait_for(lambda: page.evaluate("window.seawatch.vesselMode()") == "dom", 20, "the zoomed-in view")
    zoomed_s = time.monotonic() - started
    in_view = page.evaluate("window.seawatch.vesselCount()")
    assert 0 < in_view < 500
    assert page.locator(".sw-vessel").count() == in_view
    print(
        f"20,000 vessels: {shown} drawn {loaded_s:.2f} s after page load began; zoom to {in_view} in {zoomed_s:.2f} s"
    )


# ----------------------------------------------------------------------------- tiles


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A 1x1 PNG, so the local tile server needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes([0, *rgb])))
        + chunk(b"IEND", b"")
    )


class TileServer:
    """An offline tile server on 127.0.0.1: every tile is one sea-blue pixel; requests are counted."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        tile = _png((170, 211, 223))
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="e2e-tiles", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server


def test_configured_tile_server_is_the_base_map(
    mosquitto: Mosquitto, topic: str, tmp_path: Path, tiles: TileServer, probe: Probe
) -> None:
    settings = e2e_settings(mosquitto, topic, tmp_path, map_tiles_url=tiles.url, map_tiles_attribution="Local charts")
    server = AppServer(settings)
    server.start()
    try:
        page = probe.page
        page.goto(server.url + "/")
        expect(page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)
        expect(page.locator(".leaflet-tile-loaded").first).to_be_visible(timeout=5_000)
        assert tiles.paths and all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in tiles.paths)
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("Local charts")
        probe.context.close()  # before the server stops: its event stream ends with the page
    finally:
        server.stop()


def test_page_markup_has_no_outside_asset_and_no_zone_markup() -> None:
    """The page as rendered: local assets only, and a hostile zone name stays data."""
    square = {"type": "Polygon", "coordinates": [[[95, 5], [96, 5], [96, 6], [95, 6], [95, 5]]]}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": "z1",
                    "name": "</script><script>alert(1)</script>",
                    "kind": "risk",
                    "severity": "high",
                    "source": "test",
                },
                "geometry": square,
            }
        ],
    }
    problems: list[str] = []
    zones = ZoneIndex(parse_zones(doc, "test", problems))
    assert problems == []
    offline = render_map(zones, tiles_url=None, tiles_attribution="", title="Sea <watch>")
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", offline)
    for cdn in ("jquery", "bootstrap", "awesome", "fontawesome", "cdn.", "leaflet.awesome"):
        assert cdn not in offline.lower().replace("awesome_markers", "")
    assert "L.tileLayer" not in offline
    assert "</script><script>alert(1)" not in offline
    assert "<title>Sea &lt;watch&gt;</title>" in offline
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', offline)
    ours = [f"/static/seawatch/{name}" for name in ("land.js", "alarm.js", "panels.js", "map.js")]
    assert [re.sub(r"\?.*", "", s) for s in scripts] == [*ours, "/static/leaflet/leaflet.js"]
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', offline)
    assert [re.sub(r"\?.*", "", s) for s in styles] == ["/static/leaflet/leaflet.css", "/static/seawatch/map.css"]

    online = render_map(zones, tiles_url="http://127.0.0.1:8080/{z}/{x}/{y}.png", tiles_attribution="Local charts")
    assert "L.tileLayer" in online and "http://127.0.0.1:8080/{z}/{x}/{y}.png" in online
