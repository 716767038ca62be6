"""The operator's map in headless Chromium: land offline, true times, search and track, history, the alarm.

Same harness as ``test_map.py``: the real app, AIS over MQTT, every request outside 127.0.0.1 blocked
and failing the test, any console error failing it too. Tests wait for states and elements, never for
a fixed time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    OPERATOR_TOKEN,
    Probe,
    Publisher,
    Seawatch,
    nmea,
    wait_for,
)

SHIP = 533_000_202  # a Malaysian cargo ship with a full identity
SHIP_NAME = "KM BAHARI JAYA"
SHIP_CALLSIGN = "9MBJ2"
SHIP_IMO = 9_123_457
SART = 970_112_244
LAND_COLOUR = (0xEC, 0xE6, 0xD6)  # land.js LAND_COLOUR


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """A coordination centre in Jakarta: times in UTC and in WIB."""
    return {"centre_timezone": "Asia/Jakarta"}


def open_map(page: Page, seawatch: Seawatch) -> None:
    page.goto(seawatch.url + "/")
    expect(page.locator("#sw-status")).to_have_attribute("data-state", "live", timeout=10_000)


def post(seawatch: Seawatch, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    response = seawatch.http.post(path, json=body or {}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def ship_voyage(end: datetime, fixes: int = 12) -> list[bytes]:
    """Static data, then a fix every 5 minutes for an hour, heading east along the Aceh coast."""
    static = {"msg_type": 5, "mmsi": SHIP, "shipname": SHIP_NAME, "callsign": SHIP_CALLSIGN, "imo": SHIP_IMO}
    static.update({"ship_type": 70, "to_bow": 100, "to_stern": 20, "to_port": 10, "to_starboard": 10})
    out = nmea(static, end - timedelta(hours=1, minutes=1))
    for i in range(fixes):
        when = end - timedelta(minutes=5 * (fixes - 1 - i))
        fields = {"msg_type": 1, "mmsi": SHIP, "lat": 6.2, "lon": 95.6 + 0.02 * i, "speed": 12.0, "course": 90.0}
        out += nmea({**fields, "heading": 90}, when)
    return out


def sart(when: datetime, mmsi: int = SART) -> list[bytes]:
    return nmea({"msg_type": 1, "mmsi": mmsi, "lat": 6.5, "lon": 96.5, "status": 14, "speed": 0.2}, when)


def distress_item(page: Page, mmsi: int) -> tuple[str, Locator]:
    item = page.locator("li.sw-alert[data-kind='distress']", has_text=f"MMSI {mmsi}")
    expect(item).to_be_visible(timeout=10_000)
    alert_id = item.get_attribute("data-alert-id")
    assert alert_id
    return alert_id, item


def land_pixel(page: Page, lat: float, lon: float) -> list[int]:
    """The colour the land canvas has at (lat, lon)."""
    rgba: list[int] = page.evaluate(
        """([lat, lon]) => {
            const map = window.seawatchMap;
            const canvas = document.querySelector(".leaflet-swLand-pane canvas");
            const box = canvas.getBoundingClientRect();
            const at = map.latLngToContainerPoint([lat, lon]);
            const origin = map.getContainer().getBoundingClientRect();
            const x = (at.x + origin.left - box.left) * canvas.width / box.width;
            const y = (at.y + origin.top - box.top) * canvas.height / box.height;
            return Array.from(canvas.getContext("2d").getImageData(Math.round(x), Math.round(y), 1, 1).data);
        }""",
        [lat, lon],
    )
    return rgba


def test_land_is_drawn_offline_at_every_zoom(seawatch: Seawatch, probe: Probe) -> None:
    page = probe.page
    open_map(page, seawatch)
    wait_for(lambda: page.evaluate("window.seawatch.landState()") == "ready", 10, "the land layer")
    assert page.evaluate("window.seawatch.landTiles()") >= 1
    expect(page.locator(".leaflet-swLand-pane")).to_have_attribute("data-band", "z0")
    assert tuple(land_pixel(page, 4.3, 96.9)[:3]) == LAND_COLOUR  # inland Aceh, Sumatra
    assert land_pixel(page, 4.0, 92.0)[3] == 0  # the Andaman Sea: nothing drawn, the sea shows

    # zoomed onto the coast of Aceh: the fine band's tiles, fetched from Seawatch alone
    page.evaluate("window.seawatchMap.setView([5.55, 95.32], 11, {animate: false}) && null")
    expect(page.locator(".leaflet-swLand-pane")).to_have_attribute("data-band", "z10", timeout=10_000)
    wait_for(lambda: tuple(land_pixel(page, 5.50, 95.42)[:3]) == LAND_COLOUR, 10, "Banda Aceh drawn as land")
    assert land_pixel(page, 5.65, 95.20)[3] == 0  # open water off Pulau Weh's south coast
    tiles = [u for u in probe.requests if "/static/seawatch/land/z10/" in u]
    assert tiles and all(u.startswith(seawatch.url) for u in tiles)


def test_search_finds_a_vessel_and_opens_its_track_with_a_time_slider(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    open_map(page, seawatch)
    publisher.publish(ship_voyage(now()))
    wait_for(lambda: len(seawatch.get(f"/api/vessels/{SHIP}")["track"]) == 12, 10, "the voyage in state")
    page.evaluate("window.seawatchMap.setView([-10, 125], 6, {animate: false}) && null")  # looking elsewhere

    for query in ("bahari", SHIP_CALLSIGN.lower(), str(SHIP)[:6], f"IMO {SHIP_IMO}"):
        page.fill("#sw-search-input", query)
        page.click("#sw-search-button")
        result = page.locator(f"#sw-search-results li.sw-search-result[data-mmsi='{SHIP}']")
        expect(result).to_be_visible(timeout=5_000)
        expect(result.locator(".sw-search-name")).to_have_text(SHIP_NAME)

    result.click()
    wait_for(lambda: page.evaluate("window.seawatch.selectedVessel()") == SHIP, 5, "the vessel selected")
    centre = page.evaluate("[window.seawatchMap.getCenter().lat, window.seawatchMap.getCenter().lng]")
    assert centre[0] == pytest.approx(6.2, abs=0.05) and centre[1] == pytest.approx(95.82, abs=0.05)
    expect(page.locator(".leaflet-popup .sw-popup h3")).to_have_text(SHIP_NAME)
    expect(page.locator(".sw-highlight")).to_have_count(1)

    track = page.locator("#sw-track")
    expect(track).to_be_visible(timeout=5_000)
    expect(page.locator("#sw-track-name")).to_have_text(SHIP_NAME)
    slider = page.locator("#sw-track-slider")
    expect(slider).to_have_attribute("max", "11")
    expect(page.locator("#sw-track-time")).to_contain_text("Fix 12 of 12")
    # back along the track: the cursor goes to the first fix of the hour
    slider.fill("0")
    expect(page.locator("#sw-track-time")).to_contain_text("Fix 1 of 12")
    expect(page.locator("#sw-track-time")).to_contain_text("Asia/Jakarta")
    # the last hour only: fixes older than an hour fall out of the window
    page.select_option("#sw-track-hours", "1")
    expect(page.locator("#sw-track-time")).to_contain_text("of 12")
    page.click("#sw-track-close")
    expect(track).to_be_hidden()


def test_history_filter_shows_a_resolved_alert_with_its_timeline_and_evidence(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    open_map(page, seawatch)
    publisher.publish(sart(now()))
    alert_id, _ = distress_item(page, SART)
    post(seawatch, f"/api/alerts/{alert_id}/acknowledge", {"note": "MRCC informed"})
    post(seawatch, f"/api/alerts/{alert_id}/resolve", {"note": "survivors aboard KM BAHARI"})
    expect(page.locator(f"li.sw-alert[data-alert-id='{alert_id}']")).to_have_count(0, timeout=5_000)

    page.click("#sw-history summary")
    item = page.locator(f"#sw-h-list li.sw-h-item[data-alert-id='{alert_id}']")
    expect(item).to_be_visible(timeout=5_000)
    assert item.get_attribute("data-status") == "resolved"
    # a filter that excludes it: severity high only, then kind zone entry
    page.select_option("#sw-h-severity", "high")
    page.click("#sw-h-apply")
    expect(item).to_have_count(0)
    page.select_option("#sw-h-severity", "critical")
    page.select_option("#sw-h-kind", "distress")
    page.select_option("#sw-h-test", "real")
    page.select_option("#sw-h-zone", "andaman-sea-corridor")
    page.click("#sw-h-apply")
    expect(item).to_be_visible()
    expect(page.locator("#sw-h-summary")).to_contain_text("1 of 1")

    item.locator("button.sw-details-button").click()
    timeline = item.locator(".sw-timeline")
    expect(timeline.locator("li.sw-tl-item")).to_have_count(3, timeout=5_000)
    events = timeline.locator("li.sw-tl-item")
    expect(events.nth(0)).to_contain_text("opened")
    expect(events.nth(1)).to_contain_text("acknowledged")
    expect(events.nth(1)).to_contain_text("by duty-officer")
    expect(events.nth(1)).to_contain_text("MRCC informed")
    expect(events.nth(2)).to_contain_text("resolved")
    expect(events.nth(2)).to_contain_text("survivors aboard KM BAHARI")
    # the evidence as a table of figures, not a sentence
    evidence = item.locator("table.sw-evidence")
    expect(evidence.locator("tr[data-key='beacon'] td")).to_have_text("AIS-SART")
    expect(evidence.locator("tr[data-key='reports'] td")).to_have_text(re.compile(r"^\d+$"))
    expect(evidence.locator("tr[data-key='first_heard'] td")).to_contain_text("UTC")


def test_sound_calls_for_a_new_critical_alert_until_acknowledged(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    open_map(page, seawatch)
    assert page.evaluate("window.seawatch.audioState()") == "none"  # no sound before a click
    page.click("#sw-sound")
    expect(page.locator("#sw-sound")).to_have_attribute("aria-pressed", "true")
    wait_for(lambda: page.evaluate("window.seawatch.audioState()") == "suspended", 5, "the alarm armed, silent")

    publisher.publish(sart(now()))
    alert_id, item = distress_item(page, SART)
    wait_for(lambda: page.evaluate("window.seawatch.alarmSounding()"), 5, "the alarm to sound")
    wait_for(lambda: page.evaluate("window.seawatch.audioState()") == "running", 5, "the AudioContext running")
    expect(page.locator("#sw-alarm-state")).to_have_attribute("data-state", "sounding")
    expect(page.locator("#sw-mute")).to_be_visible()

    page.fill("#sw-token", OPERATOR_TOKEN)
    page.click("#sw-login-button")
    item.locator("button.sw-ack").click()
    expect(item).to_have_attribute("data-status", "acknowledged")
    wait_for(lambda: not page.evaluate("window.seawatch.alarmSounding()"), 5, "the alarm to stop")
    wait_for(lambda: page.evaluate("window.seawatch.audioState()") == "suspended", 5, "the AudioContext suspended")
    expect(page.locator("#sw-mute")).to_be_hidden()

    # mute: a second beacon sounds, mute silences it without acknowledging
    publisher.publish(sart(now(), mmsi=SART + 1))
    distress_item(page, SART + 1)
    wait_for(lambda: page.evaluate("window.seawatch.alarmSounding()"), 5, "the alarm for the second beacon")
    page.click("#sw-mute")
    wait_for(lambda: not page.evaluate("window.seawatch.alarmSounding()"), 5, "the alarm muted")
    assert seawatch.get(f"/api/alerts/{alert_id}")["alert"]["status"] == "acknowledged"


def test_ages_count_from_receipt_and_both_times_are_shown(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    open_map(page, seawatch)
    # a beacon whose event time runs 6 h 35 min behind (the demo's clock, a late uplink): received just now
    publisher.publish(sart(now() - timedelta(hours=6, minutes=35)))
    _, item = distress_item(page, SART)
    age = item.locator(".sw-age")
    expect(age).to_have_text(re.compile(r"^\d{1,2} s ago$"))
    times = item.locator(".sw-alert-times")
    expect(times).to_contain_text("observed ")
    expect(times).to_contain_text(" · received ")
    expect(times).to_contain_text("Asia/Jakarta")

    # after a reload the receive time comes from the server, not from the page's memory
    open_map(page, seawatch)
    _, item = distress_item(page, SART)
    expect(item.locator(".sw-age")).to_have_text(re.compile(r"^\d{1,2} s ago$"))

    # an alert raised now, on time: under a minute, and one time only
    publisher.publish(sart(now(), mmsi=SART + 2))
    _, fresh = distress_item(page, SART + 2)
    expect(fresh.locator(".sw-age")).to_have_text(re.compile(r"^\d{1,2} s ago$"))
    expect(fresh.locator(".sw-alert-times")).not_to_contain_text("received")
    expect(page.locator("#sw-clock")).to_contain_text("UTC")


# Records the notifications the page shows (headless Chromium has no notification centre to look at).
_NOTIFICATIONS = """
window.__notified = [];
window.Notification = class {
  static permission = "default";
  static requestPermission() { window.Notification.permission = "granted"; return Promise.resolve("granted"); }
  constructor(title, options) { window.__notified.push({title: title, body: options.body, tag: options.tag}); }
};
"""


def test_desktop_notifications_are_opt_in_and_carry_text_only(
    seawatch: Seawatch, probe: Probe, publisher: Publisher
) -> None:
    page = probe.page
    probe.context.add_init_script(_NOTIFICATIONS)
    open_map(page, seawatch)
    publisher.publish(sart(now()))
    distress_item(page, SART)
    assert page.evaluate("window.__notified") == []  # nothing before the operator asks
    page.click("#sw-notify")
    expect(page.locator("#sw-notify")).to_have_text("Notifications on")
    publisher.publish(sart(now(), mmsi=SART + 3))
    alert_id, _ = distress_item(page, SART + 3)
    wait_for(lambda: len(page.evaluate("window.__notified")) == 1, 5, "one notification")
    shown = page.evaluate("window.__notified")[0]
    assert shown["title"] == "CRITICAL: distress" and shown["tag"] == alert_id
    assert f"MMSI {SART + 3}" in shown["body"]
