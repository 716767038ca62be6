"""The standalone replay report in headless Chromium, opened from a file with no network.

The report is built from a real scenario run through the real pipeline, plus a vessel, an
alert, a zone and a title made of hostile text. The page is opened with ``file://`` and
may load nothing at all: every request that is not ``file:`` or ``data:`` is aborted and
fails the test, as do console errors, uncaught exceptions, dialogs and any ``<img>``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from shapely.geometry import box

from seawatch.analyst.report import MAX_TOTAL_POINTS, render_report, report_data, write_html_report
from seawatch.config.watch import build_watch
from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status, VesselInfo, ZoneRef
from seawatch.core.fleet import TrackPoint
from seawatch.core.pipeline import Pipeline
from seawatch.core.zones import Zone, ZoneIndex, ZoneKind
from tests.e2e.conftest import ROOT, Probe, click_until, click_until_gone, open_probe

SCENARIO = ROOT / "replay_data" / "scenarios" / "rescue_disembarkation.nmea"
SCENARIO_KINDS = {"drifting", "rendezvous", "disembarkation"}  # the boat is first heard inside: no entry

HOSTILE_MMSI = 525_000_666
HOSTILE_NAME = "<IMG SRC=X ONERROR=ALERT(1)>"
HOSTILE_SUMMARY = "</script><script>alert(1)</script>"
HOSTILE_EVIDENCE = {
    "text": "<img src=x onerror=alert(3)>",
    "</script><script>alert(4)</script>": "<svg onload=alert(5)>",
    "nested": {"list": ["<b>bold</b>", "&amp;"]},
}
HOSTILE_ZONE = "<img src=x onerror=alert(6)>"
HOSTILE_TITLE = "Replay </title><script>alert(7)</script> & <b>co</b>"
HOSTILE_ALERT_ID = "report-hostile-0001"


@dataclass
class Report:
    path: Path
    events: list[AlertEvent]
    tracks: dict[int, list[TrackPoint]]


def hostile_track(start: datetime) -> list[TrackPoint]:
    """A straight run south-west of the scenario, clear of its markers, over its whole period."""
    return [
        TrackPoint(start + timedelta(minutes=10 * i), 5.95 - 0.01 * i, 95.0 - 0.01 * i, 6.0, 225.0) for i in range(40)
    ]


def hostile_alert(at: datetime, track: list[TrackPoint]) -> AlertEvent:
    where = track[20]
    return AlertEvent(
        id=HOSTILE_ALERT_ID,
        event=EventType.OPENED,
        sequence=1,
        kind=Kind.REPORT,
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        test=False,
        mmsi=HOSTILE_MMSI,
        vessel=VesselInfo(HOSTILE_MMSI, name=HOSTILE_NAME),
        other=None,
        lat=where.lat,
        lon=where.lon,
        zone=ZoneRef("hostile", HOSTILE_ZONE),
        observed_at=at,
        opened_at=at,
        summary=HOSTILE_SUMMARY,
        evidence=HOSTILE_EVIDENCE,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    watch = build_watch(ROOT / "zones", None, use_shore=False)
    pipeline = Pipeline(watch=watch)
    events: list[AlertEvent] = []
    with SCENARIO.open("rb") as log:
        for line in log:
            events.extend(pipeline.feed(line.rstrip(b"\r\n")).events)
    events.extend(pipeline.finish())
    assert {e.kind.value for e in events} == SCENARIO_KINDS

    tracks = {v.mmsi: list(v.track) for v in pipeline.fleet if v.track}
    vessels = {v.mmsi: VesselInfo(v.mmsi, name=v.name, ais_class=v.ais_class) for v in pipeline.fleet}
    start = min(p.t for track in tracks.values() for p in track if p.t is not None)
    track = hostile_track(start)
    tracks[HOSTILE_MMSI] = track
    vessels[HOSTILE_MMSI] = VesselInfo(HOSTILE_MMSI, name=HOSTILE_NAME)
    assert track[20].t is not None
    events.append(hostile_alert(track[20].t, track))
    zone = Zone("hostile", HOSTILE_ZONE, ZoneKind.RISK, Severity.HIGH, "test", box(94.5, 5.4, 94.7, 5.6))
    zones = ZoneIndex([*watch.zones, zone])

    path = tmp_path_factory.mktemp("report") / "report.html"
    write_html_report(path, tracks=tracks, vessels=vessels, alerts=events, zones=zones, title=HOSTILE_TITLE)
    print(f"scenario report: {path.stat().st_size / 1e3:.0f} kB, {len(tracks)} tracks, {len(events)} alert events")
    return Report(path, events, tracks)


@pytest.fixture
def offline(browser: Browser) -> Iterator[Probe]:
    """A page that may load only ``file:`` and ``data:`` URLs (the e2e probe allows 127.0.0.1; a file needs nothing)."""
    with open_probe(browser, lambda url: url.startswith(("file:", "data:"))) as p:
        yield p
    assert [u for u in p.requests if not u.startswith(("file:", "data:"))] == [], f"requests: {p.requests}"
    assert p.blocked == [], f"requests beyond the file: {p.blocked}"
    assert p.page_errors == [], f"uncaught errors in the page: {p.page_errors}"
    assert p.console_errors == [], f"console errors: {p.console_errors}"
    assert p.dialogs == [], f"dialogs opened: {p.dialogs}"


def open_report(page: Page, path: Path) -> dict[str, Any]:
    """Load the report and return the JSON document it embeds."""
    page.goto(path.as_uri())
    expect(page.locator("#sw-time-label")).not_to_have_text("", timeout=10_000)
    data: dict[str, Any] = json.loads(page.locator("#sw-report-data").text_content() or "")
    return data


def drawn_tracks(page: Page) -> int:
    """Track paths with a line on screen (Leaflet draws an empty or one-point polyline as "M0 0")."""
    count: int = page.evaluate(
        "() => Array.from(document.querySelectorAll('.leaflet-overlay-pane path.sw-track'))"
        ".filter((p) => { const d = p.getAttribute('d') || ''; return d !== '' && d !== 'M0 0'; }).length"
    )
    return count


def marker_count(page: Page) -> int:
    return page.locator(".leaflet-overlay-pane path.sw-alert-marker").count()


def test_report_shows_tracks_alerts_and_evidence_offline(report: Report, offline: Probe) -> None:
    page = offline.page
    data = open_report(page, report.path)
    assert offline.requests == [report.path.as_uri()]  # Leaflet, styles and data all inline

    # every track is drawn, as an SVG path, with the hostile vessel's among them
    assert len(data["vessels"]) == len(report.tracks)
    expect(page.locator("path.sw-track")).to_have_count(len(report.tracks))
    assert drawn_tracks(page) == sum(1 for t in report.tracks.values() if len(t) > 1)
    expect(page.locator(f"path.sw-track[data-mmsi='{HOSTILE_MMSI}']")).to_be_visible()
    box_ = page.locator(f"path.sw-track[data-mmsi='{HOSTILE_MMSI}']").bounding_box()
    assert box_ is not None and box_["width"] > 20 and box_["height"] > 20
    # vessels with alerts are drawn in the alert colour
    alerted = page.locator("path.sw-track-alert")
    assert alerted.count() >= 3  # the boat, the rescuer, the hostile vessel

    # one marker per alert (all events of an alert fold into it), every kind present
    alert_ids = {e.id for e in report.events}
    expect(page.locator("path.sw-alert-marker")).to_have_count(len(alert_ids))
    kinds = set(page.eval_on_selector_all("path.sw-alert-marker", "(ms) => ms.map((m) => m.dataset.kind)"))
    assert kinds == SCENARIO_KINDS | {"report"}
    expect(page.locator("#sw-alert-list button")).to_have_count(len(alert_ids))

    # a click on the disembarkation marker shows its popup with the evidence table
    popup = page.locator(".leaflet-popup-content .sw-popup")
    click_until(page.locator("path.sw-alert-marker[data-kind='disembarkation']"), popup, "disembarkation popup")
    expect(popup).to_be_visible()
    expect(popup.locator("h3")).to_have_text("disembarkation")
    evidence = popup.locator("table.sw-evidence")
    expect(evidence.locator("th", has_text="eta_s")).to_have_count(1)
    expect(evidence.locator("tr", has_text="resolution")).to_contain_text("arrived in")
    expect(popup.locator("table.sw-facts")).to_contain_text("BUNGA KASTURI 3")
    click_until_gone(page.locator(".leaflet-popup-close-button"), popup, "closing the popup")

    page.screenshot(path=str(report.path.with_suffix(".png")))


def test_hostile_text_is_shown_as_text_and_never_runs(report: Report, offline: Probe) -> None:
    page = offline.page
    open_report(page, report.path)
    assert page.title() == HOSTILE_TITLE
    expect(page.locator("#sw-title")).to_have_text(HOSTILE_TITLE)

    marker = page.locator(f"path.sw-alert-marker[data-alert-id='{HOSTILE_ALERT_ID}']")
    popup = page.locator(".leaflet-popup-content .sw-popup")
    click_until(marker, popup, "hostile alert popup")
    expect(popup.locator(".sw-summary")).to_have_text(HOSTILE_SUMMARY)
    facts = popup.locator("table.sw-facts")
    expect(facts.locator("tr", has_text="vessel")).to_contain_text(HOSTILE_NAME)
    expect(facts.locator("tr", has_text="zone")).to_contain_text(HOSTILE_ZONE)
    rows = popup.locator("table.sw-evidence tr")
    shown = {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text() for i in range(3)}
    assert shown == {
        "text": HOSTILE_EVIDENCE["text"],
        "</script><script>alert(4)</script>": HOSTILE_EVIDENCE["</script><script>alert(4)</script>"],
        "nested": json.dumps(HOSTILE_EVIDENCE["nested"], separators=(",", ":")),
    }

    # the track tooltip and the alert list carry the name as text too
    # the track runs from the top right to the bottom left of its box; its middle is under the alert marker
    track = page.locator(f"path.sw-track[data-mmsi='{HOSTILE_MMSI}']")
    size = track.bounding_box()
    assert size is not None
    track.hover(position={"x": size["width"] * 0.2, "y": size["height"] * 0.8})
    expect(page.locator(".leaflet-tooltip", has_text=HOSTILE_NAME)).to_be_visible()
    expect(page.locator(f"#sw-alert-list button[data-alert-id='{HOSTILE_ALERT_ID}']")).to_contain_text(HOSTILE_NAME)
    # the zone tooltip is the zone's name, as text
    assert page.evaluate(
        "(name) => { let found = false; for (const k of Object.keys(window)) { const v = window[k];"
        "  if (v && v instanceof L.GeoJSON) v.eachLayer((l) => {"
        "   const t = l.getTooltip(); if (t && t.getContent().textContent === name) found = true; }); }"
        " return found; }",
        HOSTILE_ZONE,
    )

    # nothing became markup: no <img> ever, no script beyond the page's own four
    assert page.evaluate("window.__seawatchImgs") == []
    assert page.evaluate("document.images.length") == 0
    scripts = page.eval_on_selector_all(
        "script", "(ss) => ss.map((s) => [s.id, s.type, s.textContent.toLowerCase().includes('alert(1)')])"
    )
    assert len(scripts) == 4, scripts  # folium's switches, Leaflet, the data block, the map
    # the hostile text is only in the data block, which is JSON and never runs
    assert [s for s in scripts if s[2]] == [["sw-report-data", "application/json", True]]


def test_time_slider_cuts_tracks_and_alerts(report: Report, offline: Probe) -> None:
    page = offline.page
    data = open_report(page, report.path)
    slider = page.locator("#sw-time-slider")
    t0, span = data["t0"], data["span"]
    assert span > 3600
    assert slider.get_attribute("max") == str(span)
    everything = (drawn_tracks(page), marker_count(page))
    assert everything == (len(report.tracks), len({e.id for e in report.events}))

    def iso(offset: int) -> str:
        return datetime.fromtimestamp(t0 + offset, UTC).isoformat().replace("+00:00", "Z")

    def expected(offset: int) -> tuple[int, int]:
        tracks = 0
        for v in data["vessels"]:
            times = [sum(v["t"][: i + 1]) for i in range(len(v["t"]))]
            tracks += sum(1 for t in times if t <= offset) > 1
        alerts = sum(1 for a in data["alerts"] if a["t"] <= offset and a["lat"] is not None)
        return tracks, alerts

    # to the start with the keyboard, as an analyst would
    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator("#sw-time-label")).to_have_text(iso(0))
    at_start = (drawn_tracks(page), marker_count(page))
    assert at_start == expected(0)
    assert at_start != everything

    # halfway: only what happened by then
    half = span // 2
    slider.fill(str(half))
    expect(page.locator("#sw-time-label")).to_have_text(iso(half))
    assert (drawn_tracks(page), marker_count(page)) == expected(half)
    opened = sum(1 for a in data["alerts"] if a["t"] <= half)
    expect(page.locator("#sw-alert-list li:not([hidden])")).to_have_count(opened)
    expect(page.locator("#sw-counts")).to_contain_text(f"{opened} of {len(data['alerts'])} alerts opened")

    # the hostile alert opened at its track's 21st fix: just before, its marker is gone
    hostile = next(a for a in data["alerts"] if a["id"] == HOSTILE_ALERT_ID)
    marker = page.locator(f"path.sw-alert-marker[data-alert-id='{HOSTILE_ALERT_ID}']")
    slider.fill(str(hostile["t"] - 1))
    expect(marker).to_have_count(0)
    slider.fill(str(hostile["t"]))
    expect(marker).to_have_count(1)

    page.keyboard.press("End")
    expect(page.locator("#sw-time-label")).to_have_text(iso(span))
    assert (drawn_tracks(page), marker_count(page)) == everything


# ----------------------------------------------------------------------------- size, without a browser


def test_a_busy_day_stays_a_few_mb(tmp_path: Path) -> None:
    """1,000 vessels reporting every 2 min for a day (720,000 fixes) give a report of a few MB."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    tracks: dict[int, list[TrackPoint]] = {}
    fixes, every_s = 720, 120
    times = [start + timedelta(seconds=every_s * i) for i in range(fixes)]
    for n in range(1000):
        lat0, lon0 = 2.0 + (n % 40) * 0.2, 95.0 + (n // 40) * 0.2
        tracks[200_000_000 + n] = [
            TrackPoint(t, lat0 + 0.1 * math.sin(i / 100), lon0 + i * 1e-4, 10.0, 90.0) for i, t in enumerate(times)
        ]
    mmsi = 200_000_007
    at = start + timedelta(seconds=every_s * 617 + 7)
    alert = dataclasses.replace(hostile_alert(at, tracks[mmsi]), mmsi=mmsi, vessel=None)
    data, bounds = report_data(tracks, {}, [alert])
    counts = [len(v["t"]) for v in data["vessels"]]
    assert sum(counts) <= MAX_TOTAL_POINTS + 4
    assert max(counts) <= MAX_TOTAL_POINTS // 1000 + 2
    assert bounds is not None
    # first, last and the fixes either side of the alert are kept
    v = next(v for v in data["vessels"] if v["mmsi"] == mmsi)
    kept = [sum(v["t"][: i + 1]) for i in range(len(v["t"]))]
    assert kept[0] == 0 and kept[-1] == every_s * (fixes - 1)
    assert {every_s * 617, every_s * 618} <= set(kept)
    page = render_report(tracks=tracks, vessels={}, alerts=[alert], zones=ZoneIndex(()))
    size_mb = len(page.encode()) / 1e6
    print(f"busy day: {sum(map(len, tracks.values()))} fixes -> {sum(counts)} drawn, report {size_mb:.1f} MB")
    assert size_mb < 5
