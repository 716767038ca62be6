"""The analyst's replay map: one HTML file that opens anywhere, with no network at all.

An analyst mails the report to a colleague, opens it on a ship or in a coordination
centre with poor or no internet, and archives it with the case. So the file carries
everything it needs: Leaflet's script and style (from the ``xstatic-leaflet`` package,
its few images as ``data:`` URIs), the zones, the tracks and the alerts. Without a
``tiles_url`` there is no basemap and the page makes no request of any kind.

Folium builds the map, the zones (styled as on the live map) and the layer control.
The tracks, the alert markers, their popups and the time slider are drawn by a small
inline script from one JSON block, because the slider has to cut every track at the
chosen time, which static folium layers cannot do (folium's ``TimestampedGeoJson``
loads its plugin from CDNs).

Everything in the data came from AIS or from alerts built on it, and is untrusted: it
is embedded as JSON in a ``<script type="application/json">`` block with ``<``, ``>``
and ``&`` escaped, read with ``JSON.parse``, and put on the page with ``textContent``
only. The only markup built in Python is the fixed page frame, and the title in it is
escaped with :func:`html.escape`.

A day of a busy feed has thousands of vessels and millions of fixes. Each track is
thinned to at most ``max_track_points`` (and all tracks together to about
:data:`MAX_TOTAL_POINTS`), always keeping its first and last fix and the fixes nearest
its alerts, and is stored as integer deltas (seconds, 1e-5 degrees), so the report
stays a few MB.
"""

from __future__ import annotations

import base64
import bisect
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template
from xstatic.pkg import leaflet as xstatic_leaflet  # type: ignore[import-untyped]

from seawatch.core.alerts import AlertEvent, Severity, Status, VesselInfo
from seawatch.core.fleet import TrackPoint
from seawatch.core.serialize import iso_utc
from seawatch.core.zones import ZoneIndex
from seawatch.web.page import zone_layer

MAX_TRACK_POINTS = 500
"""Most fixes drawn for one vessel (more are kept only for its alert times)."""

MAX_TOTAL_POINTS = 250_000
"""Fixes for all tracks together (about 4 MB of JSON): past it, every track gets fewer."""

MIN_TRACK_POINTS = 20
"""Fewest fixes a track is thinned to however many vessels there are: still shows its way."""

COORD_SCALE = 100_000
"""Coordinates are stored as integers of 1e-5 degree (about 1 m): compact and exact to add up."""

SEVERITY_COLOURS: dict[str, str] = {
    Severity.CRITICAL.value: "#c92a2a",
    Severity.HIGH.value: "#e8590c",
    Severity.MEDIUM.value: "#f59f00",
    Severity.LOW.value: "#1c7ed6",
    Severity.INFO.value: "#868e96",
}
TRACK_COLOUR = "#1864ab"
ALERT_TRACK_COLOUR = "#c2255c"

_DATA_ID = "sw-report-data"
_CLOSED = frozenset({Status.RESOLVED, Status.RETRACTED})


class ReportError(RuntimeError):
    """The report cannot be built (a broken Leaflet install)."""


# ----------------------------------------------------------------------------- assets


@cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and style, ready to inline: images as data: URIs, no source-map reference."""
    base = Path(xstatic_leaflet.BASE_DIR)
    try:
        script = (base / "leaflet.js").read_text(encoding="utf-8")
        style = (base / "leaflet.css").read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"Leaflet is missing from xstatic-leaflet ({base}): {exc}") from exc
    # A devtools window would try to fetch the map from next to a file that is not there.
    script = re.sub(r"^//# sourceMappingURL=.*$", "", script, flags=re.MULTILINE)

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            png = (base / "images" / name).read_bytes()
        except OSError:
            return "none"  # an image Leaflet's style names but the package lacks: no request for it
        return f'url("data:image/png;base64,{base64.b64encode(png).decode("ascii")}")'

    style = re.sub(r"url\(\s*['\"]?images/([A-Za-z0-9_.-]+)['\"]?\s*\)", inline, style)
    if "</script" in script.lower() or "</style" in style.lower():
        raise ReportError("Leaflet's files cannot be inlined: they contain a closing tag")
    return script, style


_STYLE = """
#sw-side { position: absolute; z-index: 1001; top: 10px; left: 56px; width: 330px;
  max-height: calc(100% - 110px); overflow: auto; box-sizing: border-box; padding: 8px 10px;
  background: rgba(255, 255, 255, 0.95); border-radius: 4px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4);
  font: 13px/1.35 system-ui, sans-serif; color: #212529; }
#sw-side h1 { font-size: 15px; margin: 0 0 4px; }
#sw-side h2 { font-size: 13px; margin: 8px 0 4px; }
.sw-muted { color: #6c757d; }
.sw-legend { display: flex; flex-wrap: wrap; gap: 4px 10px; margin: 4px 0; }
.sw-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 3px;
  border: 1px solid #212529; vertical-align: -1px; }
.sw-line { display: inline-block; width: 16px; height: 3px; margin-right: 3px; vertical-align: 2px; }
#sw-alert-list { list-style: none; margin: 0; padding: 0; }
#sw-alert-list button { display: block; width: 100%; text-align: left; margin: 0 0 3px; padding: 3px 5px;
  border: 1px solid #dee2e6; border-left-width: 5px; border-radius: 3px; background: #fff; cursor: pointer;
  font: inherit; color: inherit; }
#sw-alert-list button:hover { background: #f1f3f5; }
#sw-timebar { position: absolute; z-index: 1001; left: 10px; right: 10px; bottom: 24px; display: flex;
  align-items: center; gap: 10px; padding: 6px 10px; background: rgba(255, 255, 255, 0.95); border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); font: 13px/1.3 system-ui, sans-serif; }
#sw-time-slider { flex: 1; min-width: 120px; }
#sw-time-label { font-variant-numeric: tabular-nums; white-space: nowrap; }
.sw-popup { font: 13px/1.35 system-ui, sans-serif; }
.sw-popup h3 { margin: 0 0 2px; font-size: 14px; }
.sw-popup p { margin: 2px 0 6px; font-size: 13px; }
.sw-popup table { border-collapse: collapse; margin: 2px 0 6px; width: 100%; }
.sw-popup th, .sw-popup td { border-top: 1px solid #e9ecef; padding: 1px 4px; text-align: left;
  vertical-align: top; font-size: 12px; overflow-wrap: anywhere; }
.sw-popup th { white-space: nowrap; color: #495057; font-weight: 600; }
.sw-popup h4 { margin: 6px 0 2px; font-size: 12px; }
"""


def _frame_html(title: str) -> str:
    """The fixed frame the script fills; only ``title`` is inserted, escaped."""
    t = html.escape(title)
    return f"""
<aside id="sw-side" aria-label="Report">
  <h1 id="sw-title">{t}</h1>
  <div id="sw-period" class="sw-muted"></div>
  <div id="sw-counts"></div>
  <div id="sw-legend" class="sw-legend"></div>
  <h2>Alerts <span id="sw-alert-count" class="sw-muted"></span></h2>
  <p id="sw-alerts-empty" class="sw-muted" hidden>No alerts up to this time.</p>
  <ol id="sw-alert-list"></ol>
</aside>
<div id="sw-timebar">
  <label for="sw-time-slider">Time (UTC)</label>
  <input id="sw-time-slider" type="range" min="0" max="0" step="1" value="0">
  <span id="sw-time-label"></span>
</div>
"""


# The script is fixed text: no data is ever formatted into it (it reads the JSON block).
_SCRIPT = """
(function (map, trackLayer, alertLayer) {
  "use strict";
  var data = JSON.parse(document.getElementById("sw-report-data").textContent);
  var SCALE = data.scale;

  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function iso(offset) {
    return data.t0 === null ? "–" : new Date((data.t0 + offset) * 1000).toISOString().replace(".000Z", "Z");
  }
  function show(v) {
    if (v === null || v === undefined || v === "") return "–";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  function row(table, key, value) {
    var tr = el("tr");
    tr.appendChild(el("th", key));
    tr.appendChild(el("td", show(value)));
    table.appendChild(tr);
  }
  function vesselText(name, mmsi) {
    if (mmsi === null || mmsi === undefined) return null;
    return (name ? name + " · " : "") + "MMSI " + mmsi;
  }
  function upperBound(ts, t) {
    var lo = 0, hi = ts.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (ts[mid] <= t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // ---- tracks: delta-decoded once, cut at the slider's time by setLatLngs
  var tracks = data.vessels.map(function (v) {
    var latlngs = [], times = [], t = 0, y = 0, x = 0;
    for (var i = 0; i < v.t.length; i++) {
      t += v.t[i]; y += v.y[i]; x += v.x[i];
      times.push(t); latlngs.push([y / SCALE, x / SCALE]);
    }
    var alerted = v.alerts > 0;
    var line = L.polyline(latlngs, {
      color: alerted ? data.colours.alertTrack : data.colours.track,
      weight: alerted ? 3 : 1.5,
      opacity: alerted ? 0.9 : 0.6,
      className: alerted ? "sw-track sw-track-alert" : "sw-track"
    });
    line.on("add", function () {
      var e = line.getElement();
      if (e) e.setAttribute("data-mmsi", String(v.mmsi));
    });
    line.bindTooltip(el("span", vesselText(v.name, v.mmsi) + (alerted ? " · " + v.alerts + " alert(s)" : "")),
                     {sticky: true});
    trackLayer.addLayer(line);
    return {line: line, latlngs: latlngs, times: times, shown: latlngs.length};
  });

  // ---- alerts: one marker per alert, its popup built from text nodes when first opened
  function popup(a) {
    var box = el("div"); box.className = "sw-popup";
    box.appendChild(el("h3", a.kind + (a.test ? " (test)" : "")));
    var sev = el("p", a.severity + " · " + a.status); sev.className = "sw-muted"; box.appendChild(sev);
    var summary = el("p", a.summary); summary.className = "sw-summary"; box.appendChild(summary);
    var facts = el("table"); facts.className = "sw-facts";
    row(facts, "vessel", vesselText(a.name, a.mmsi));
    if (a.other_mmsi !== null) row(facts, "other vessel", vesselText(a.other_name, a.other_mmsi));
    if (a.zone !== null) row(facts, "zone", a.zone);
    row(facts, "opened", a.opened_at);
    row(facts, "last event", a.last_at + " (" + a.last_event + ", " + a.events + " event(s))");
    if (a.closed_at !== null) row(facts, "closed", a.closed_at);
    if (a.lat !== null) row(facts, "position", a.lat.toFixed(5) + ", " + a.lon.toFixed(5));
    row(facts, "alert id", a.id);
    box.appendChild(facts);
    box.appendChild(el("h4", "Evidence"));
    var evidence = el("table"); evidence.className = "sw-evidence";
    Object.keys(a.evidence).forEach(function (key) { row(evidence, key, a.evidence[key]); });
    box.appendChild(evidence);
    return box;
  }
  var list = document.getElementById("sw-alert-list");
  var alerts = data.alerts.map(function (a) {
    var entry = {t: a.t, on: true, marker: null, item: el("li")};
    var colour = data.colours.severity[a.severity] || "#868e96";
    if (a.lat !== null && a.lon !== null) {
      var marker = L.circleMarker([a.lat, a.lon], {
        radius: a.severity === "critical" ? 9 : 7, color: "#212529", weight: 1.5,
        dashArray: a.test ? "3 2" : null, fillColor: colour, fillOpacity: 0.9, className: "sw-alert-marker"
      });
      marker.on("add", function () {
        var e = marker.getElement();
        if (e) { e.setAttribute("data-alert-id", a.id); e.setAttribute("data-kind", a.kind); }
      });
      marker.bindPopup(function () { return popup(a); }, {maxWidth: 440, minWidth: 280});
      alertLayer.addLayer(marker);
      entry.marker = marker;
    }
    var button = el("button", a.severity + " · " + a.kind + " · " + (vesselText(a.name, a.mmsi) || "no vessel"));
    button.type = "button";
    button.style.borderLeftColor = colour;
    button.title = a.opened_at;
    button.setAttribute("data-alert-id", a.id);
    button.addEventListener("click", function () {
      if (entry.marker) {
        if (!alertLayer.hasLayer(entry.marker)) return;
        map.setView(entry.marker.getLatLng(), Math.max(map.getZoom(), 9));
        entry.marker.openPopup();
      } else {
        L.popup({maxWidth: 440, minWidth: 280}).setLatLng(map.getCenter()).setContent(popup(a)).openOn(map);
      }
    });
    entry.item.appendChild(button);
    list.appendChild(entry.item);
    return entry;
  });

  // ---- legend and counts
  var legend = document.getElementById("sw-legend");
  Object.keys(data.colours.severity).forEach(function (sev) {
    var item = el("span"), swatch = el("span");
    swatch.className = "sw-swatch"; swatch.style.background = data.colours.severity[sev];
    item.appendChild(swatch); item.appendChild(document.createTextNode(sev)); legend.appendChild(item);
  });
  [["track with alerts", data.colours.alertTrack], ["track", data.colours.track]].forEach(function (pair) {
    var item = el("span"), swatch = el("span");
    swatch.className = "sw-line"; swatch.style.background = pair[1];
    item.appendChild(swatch); item.appendChild(document.createTextNode(pair[0])); legend.appendChild(item);
  });
  document.getElementById("sw-period").textContent =
    data.t0 === null ? "no times in the data" : iso(0) + " – " + iso(data.span);

  // ---- the slider: tracks up to its time, alerts opened by then
  var slider = document.getElementById("sw-time-slider");
  var label = document.getElementById("sw-time-label");
  slider.max = String(data.span);
  slider.value = String(data.span);
  slider.disabled = data.t0 === null;
  function showAt(t) {
    var vessels = 0, open = 0;
    tracks.forEach(function (tr) {
      var k = upperBound(tr.times, t);
      if (k !== tr.shown) { tr.line.setLatLngs(tr.latlngs.slice(0, k)); tr.shown = k; }
      if (k > 0) vessels += 1;
    });
    alerts.forEach(function (a) {
      var on = a.t <= t;
      if (on !== a.on) {
        if (a.marker && on) alertLayer.addLayer(a.marker);
        if (a.marker && !on) { a.marker.closePopup(); alertLayer.removeLayer(a.marker); }
        a.item.hidden = !on;
        a.on = on;
      }
      if (on) open += 1;
    });
    label.textContent = iso(t);
    document.getElementById("sw-counts").textContent =
      vessels + " of " + tracks.length + " vessels seen · " + open + " of " + alerts.length + " alerts opened";
    document.getElementById("sw-alert-count").textContent = "(" + open + ")";
    document.getElementById("sw-alerts-empty").hidden = open > 0;
    document.body.setAttribute("data-time", iso(t));
  }
  slider.addEventListener("input", function () { showAt(Number(slider.value)); });
  showAt(data.span);
})
"""


class _ReportScript(MacroElement):
    """Runs :data:`_SCRIPT` right after folium has made the map and the two layer groups."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this.code }}({{ this.map_name }}, {{ this.tracks_name }}, {{ this.alerts_name }});
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, tracks_name: str, alerts_name: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SeawatchReport"
        self.code = _SCRIPT
        self.map_name = map_name
        self.tracks_name = tracks_name
        self.alerts_name = alerts_name


class _StandaloneMap(folium.Map):
    """A folium Map that links no asset at all: Leaflet is inlined into the page instead."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_js = []
        self.default_css = []


# ----------------------------------------------------------------------------- data


def downsample(n: int, limit: int, keep: Iterable[int] = ()) -> list[int]:
    """Indices of the fixes to draw out of ``n``: first, last, every index in ``keep``, then evenly spaced.

    Evenly by index, not by time: AIS reports more often the faster a vessel goes, so the
    thinned track stays densest where it moves most. Indices in ``keep`` (the fixes at
    alert times) are kept even past ``limit``: they are what the analyst came to see.
    """
    if n <= max(limit, 0):
        return list(range(n))
    chosen = {0, n - 1} | {i for i in keep if 0 <= i < n}
    room = limit - len(chosen)
    if room > 0:
        step = (n - 1) / (room + 1)
        chosen.update(round(step * k) for k in range(1, room + 1))
    return sorted(chosen)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _epoch(when: datetime) -> int:
    return math.floor(_utc(when).timestamp())


def _plain(value: Any) -> Any:
    """Evidence as JSON that ``JSON.parse`` accepts: no NaN or infinity, times as ISO text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso_utc(_utc(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True)
class _Alert:
    """One alert folded from its events: where and when it opened, and how it stood at the end."""

    first: AlertEvent
    last: AlertEvent
    events: int
    worst: Severity
    lat: float | None
    lon: float | None


def _fold_alerts(events: Sequence[AlertEvent]) -> list[_Alert]:
    """Events grouped by alert id, in the order the alerts first appear.

    The marker sits where the alert opened (that is when it appears on the slider); the
    popup shows the latest summary and evidence (a resolved event carries the last
    evidence and the resolution) and the worst severity the alert reached.
    """
    groups: dict[str, list[AlertEvent]] = {}
    for ev in events:
        groups.setdefault(ev.id, []).append(ev)
    folded: list[_Alert] = []
    for group in groups.values():
        group.sort(key=lambda e: e.sequence)
        placed = next(
            (e for e in group if e.lat is not None and e.lon is not None and math.isfinite(e.lat + e.lon)), None
        )
        folded.append(
            _Alert(
                first=group[0],
                last=group[-1],
                events=len(group),
                worst=min((e.severity for e in group), key=lambda s: s.rank),
                lat=None if placed is None else placed.lat,
                lon=None if placed is None else placed.lon,
            )
        )
    return folded


def _alert_times_by_vessel(alerts: Sequence[_Alert]) -> dict[int, list[datetime]]:
    times: dict[int, list[datetime]] = {}
    for alert in alerts:
        for ev in (alert.first, alert.last):
            for mmsi in (ev.mmsi, ev.other.mmsi if ev.other is not None else None):
                if mmsi is not None:
                    times.setdefault(mmsi, []).append(_utc(ev.observed_at))
    return times


def _timed(points: Sequence[TrackPoint]) -> list[tuple[int | None, float, float]]:
    """(epoch s or None, lat, lon) for the drawable fixes, in time order; untimed fixes follow their predecessor."""
    out: list[tuple[int | None, float, float]] = []
    last: int | None = None
    for p in points:
        if not (math.isfinite(p.lat) and math.isfinite(p.lon) and -90 <= p.lat <= 90 and -180 <= p.lon <= 180):
            continue
        if p.t is not None:
            last = _epoch(p.t)
        out.append((last, p.lat, p.lon))
    first_time = next((t for t, _, _ in out if t is not None), None)
    filled = [(first_time if t is None else t, lat, lon) for t, lat, lon in out]
    filled.sort(key=lambda item: -1 if item[0] is None else item[0])  # stable: equal times keep their order
    return filled


def _bounds(points: Iterable[tuple[float, float]]) -> list[list[float]] | None:
    south = west = math.inf
    north = east = -math.inf
    for lat, lon in points:
        south, north = min(south, lat), max(north, lat)
        west, east = min(west, lon), max(east, lon)
    if south == math.inf:
        return None
    pad = 0.05  # a lone point would otherwise zoom to the maximum
    return [[south - pad, west - pad], [north + pad, east + pad]]


def report_data(
    tracks: Mapping[int, Sequence[TrackPoint]],
    vessels: Mapping[int, VesselInfo],
    alerts: Sequence[AlertEvent],
    *,
    max_track_points: int = MAX_TRACK_POINTS,
) -> tuple[dict[str, Any], list[list[float]] | None]:
    """The report's JSON document and the bounds (``[[S, W], [N, E]]``) of what it shows."""
    folded = _fold_alerts(alerts)
    alert_times = _alert_times_by_vessel(folded)
    alert_counts: dict[int, int] = {}
    for alert in folded:
        for mmsi in {alert.last.mmsi, alert.last.other.mmsi if alert.last.other is not None else None}:
            if mmsi is not None:
                alert_counts[mmsi] = alert_counts.get(mmsi, 0) + 1

    timed = {mmsi: _timed(points) for mmsi, points in tracks.items()}
    timed = {mmsi: points for mmsi, points in timed.items() if points}
    per_track = max(min(max_track_points, MAX_TOTAL_POINTS // max(len(timed), 1)), MIN_TRACK_POINTS)
    per_track = min(per_track, max_track_points)

    epochs = [t for points in timed.values() for t in (points[0][0], points[-1][0]) if t is not None]
    for alert in folded:
        epochs.extend((_epoch(alert.first.opened_at), _epoch(alert.last.observed_at)))
    t0 = min(epochs) if epochs else None
    span = (max(epochs) - t0) if t0 is not None else 0

    drawn: list[tuple[float, float]] = []
    encoded: list[dict[str, Any]] = []
    # Vessels without alerts first, so the tracks that matter are drawn on top.
    for mmsi in sorted(timed, key=lambda m: (m in alert_counts, m)):
        points = timed[mmsi]
        times = [t if t is not None else (t0 or 0) for t, _, _ in points]
        keep: list[int] = []
        for when in alert_times.get(mmsi, ()):
            i = bisect.bisect_left(times, _epoch(when))
            keep.extend(j for j in (i - 1, i) if 0 <= j < len(points))
        chosen = [points[i] for i in downsample(len(points), per_track, keep)]
        dt: list[int] = []
        dy: list[int] = []
        dx: list[int] = []
        pt, py, px = 0, 0, 0
        for t, lat, lon in chosen:
            ot = 0 if t is None or t0 is None else t - t0
            oy, ox = round(lat * COORD_SCALE), round(lon * COORD_SCALE)
            dt.append(ot - pt)
            dy.append(oy - py)
            dx.append(ox - px)
            pt, py, px = ot, oy, ox
            drawn.append((lat, lon))
        info = vessels.get(mmsi)
        encoded.append(
            {
                "mmsi": mmsi,
                "name": info.name if info is not None else None,
                "alerts": alert_counts.get(mmsi, 0),
                "points": len(points),
                "t": dt,
                "y": dy,
                "x": dx,
            }
        )

    items: list[dict[str, Any]] = []
    for alert in sorted(folded, key=lambda a: (_utc(a.first.opened_at), a.first.id)):
        first, last = alert.first, alert.last
        other = last.other or first.other
        vessel = last.vessel or first.vessel
        zone = last.zone or first.zone
        if alert.lat is not None and alert.lon is not None:
            drawn.append((alert.lat, alert.lon))
        items.append(
            {
                "id": first.id,
                "kind": first.kind.value,
                "severity": alert.worst.value,
                "status": last.status.value,
                "test": first.test,
                "mmsi": last.mmsi if last.mmsi is not None else first.mmsi,
                "name": vessel.name if vessel is not None else None,
                "other_mmsi": other.mmsi if other is not None else None,
                "other_name": other.name if other is not None else None,
                "zone": zone.name if zone is not None else None,
                "lat": None if alert.lat is None else round(alert.lat, 6),
                "lon": None if alert.lon is None else round(alert.lon, 6),
                "t": 0 if t0 is None else _epoch(first.opened_at) - t0,
                "opened_at": iso_utc(_utc(first.opened_at)),
                "last_at": iso_utc(_utc(last.observed_at)),
                "last_event": last.event.value,
                "closed_at": iso_utc(_utc(last.observed_at)) if last.status in _CLOSED else None,
                "events": alert.events,
                "summary": last.summary,
                "evidence": _plain(last.evidence),
            }
        )

    data = {
        "scale": COORD_SCALE,
        "t0": t0,
        "span": span,
        "colours": {"severity": SEVERITY_COLOURS, "track": TRACK_COLOUR, "alertTrack": ALERT_TRACK_COLOUR},
        "vessels": encoded,
        "alerts": items,
    }
    return data, _bounds(drawn)


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``, no entity."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # <, > and & occur only inside JSON strings, where the \\u escapes mean the same characters.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ----------------------------------------------------------------------------- the page


def render_report(
    *,
    tracks: Mapping[int, Sequence[TrackPoint]],
    vessels: Mapping[int, VesselInfo],
    alerts: Sequence[AlertEvent],
    zones: ZoneIndex,
    title: str = "Seawatch replay",
    tiles_url: str | None = None,
    tiles_attribution: str = "",
    max_track_points: int = MAX_TRACK_POINTS,
) -> str:
    """The report page as one HTML string (see :func:`write_html_report`)."""
    data, bounds = report_data(tracks, vessels, alerts, max_track_points=max_track_points)
    leaflet_js, leaflet_css = _leaflet_assets()

    m = _StandaloneMap(location=[6.0, 97.0], zoom_start=5, tiles=None, control_scale=True, prefer_canvas=False)
    if tiles_url:
        folium.TileLayer(tiles_url, attr=tiles_attribution, name="Base map", max_zoom=18).add_to(m)
    zone_layer(zones).add_to(m)
    track_layer = folium.FeatureGroup(name="Tracks").add_to(m)
    alert_layer = folium.FeatureGroup(name="Alerts").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds is None and len(zones):
        minx, miny, maxx, maxy = zones.zones[0].geometry.bounds
        for zone in zones:
            x0, y0, x1, y1 = zone.geometry.bounds
            minx, miny, maxx, maxy = min(minx, x0), min(miny, y0), max(maxx, x1), max(maxy, y1)
        bounds = [[miny, minx], [maxy, maxx]]
    if bounds is not None:
        # Clear of the side panel (left) and the time bar (bottom), so no marker starts hidden under them.
        m.fit_bounds(bounds, padding_top_left=(400, 20), padding_bottom_right=(20, 80), max_zoom=13)
    m.add_child(_ReportScript(m.get_name(), track_layer.get_name(), alert_layer.get_name()))

    root = m.get_root()
    root.title = html.escape(title)  # type: ignore[attr-defined]
    header = root.header  # type: ignore[attr-defined]
    # No favicon request, no referrer: opening the file must touch nothing outside it.
    header.add_child(Element('<link rel="icon" href="data:,">'), name="sw_favicon")
    header.add_child(Element('<meta name="referrer" content="no-referrer">'), name="sw_referrer")
    header.add_child(Element(f"<style>{leaflet_css}</style>"), name="sw_leaflet_css")
    header.add_child(Element(f"<style>{_STYLE}</style>"), name="sw_report_css")
    header.add_child(Element(f"<script>{leaflet_js}</script>"), name="sw_leaflet_js")
    body = root.html  # type: ignore[attr-defined]
    body.add_child(Element(_frame_html(title)), name="sw_frame")
    body.add_child(
        Element(f'<script type="application/json" id="{_DATA_ID}">{embed_json(data)}</script>'), name="sw_data"
    )
    page: str = root.render()
    return page


def write_html_report(
    path: Path,
    *,
    tracks: Mapping[int, Sequence[TrackPoint]],
    vessels: Mapping[int, VesselInfo],
    alerts: Sequence[AlertEvent],
    zones: ZoneIndex,
    title: str = "Seawatch replay",
    tiles_url: str | None = None,
    tiles_attribution: str = "",
    max_track_points: int = MAX_TRACK_POINTS,
) -> None:
    """Write the standalone report map to ``path``.

    ``tracks`` are each vessel's fixes (any order; untimed fixes follow the fix before
    them), ``vessels`` name them, ``alerts`` are alert events as replay produced them (all
    events of an alert fold into one marker). With ``tiles_url`` (a local tile server)
    the map has a basemap, and only then does the file make requests.

    Written next to ``path`` first and renamed, so a half-written report never replaces a good one.
    """
    page = render_report(
        tracks=tracks,
        vessels=vessels,
        alerts=alerts,
        zones=zones,
        title=title,
        tiles_url=tiles_url,
        tiles_attribution=tiles_attribution,
        max_track_points=max_track_points,
    )
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
