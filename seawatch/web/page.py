"""The live map page: a Folium map, the alert panel, and the script that makes it live.

Folium builds the Leaflet map and the zones; ``static/map.js`` (served at
``/static/seawatch/map.js``) then fetches vessels and alerts from the API and follows the
server-sent event stream, so the page never reloads.

Coordination centres may work with poor or no internet, so the page loads nothing from
outside Seawatch: Leaflet comes from the ``xstatic-leaflet`` package (mounted by the app at
``/static/leaflet/``), folium's default CDN assets (jQuery, Bootstrap, awesome-markers, Font
Awesome) are dropped, and without a configured tile URL there is no tile layer at all.

Zone names come from configuration and everything else on the page from AIS or operators,
so the page never turns data into markup: the zone tooltip is built with ``textContent``,
and the panel is filled by ``map.js`` with ``createElement``/``textContent`` only.
"""

from __future__ import annotations

import hashlib
import html
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import Element, MacroElement
from folium.utilities import JsCode
from jinja2 import Template
from shapely.geometry import mapping

from seawatch.core.alerts import Kind
from seawatch.core.zones import ZoneIndex, ZoneKind

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Seawatch's own scripts and styles, served at ``/static/seawatch/``."""

LEAFLET_URL = "/static/leaflet"
"""Where the app mounts ``xstatic.pkg.leaflet.BASE_DIR``."""

LEAFLET_VERSION = "1.9.3"
"""Leaflet of xstatic-leaflet 1.9.3.x, the version folium 0.20 is written for (cache busting only)."""

SEAWATCH_URL = "/static/seawatch"

VESSEL_LIMIT = 5000
"""Most vessels the page asks for in one viewport; the API says when it left some out."""

PAGE_SCRIPTS = ("land.js", "alarm.js", "panels.js", "map.js")
"""Seawatch's scripts on the page, in the order they run: land, the alarm, search and history, then the map."""

CANVAS_THRESHOLD = 2000
"""Past this many vessels in view, draw them as canvas circles instead of DOM markers."""

# Zone styles by kind: risk areas red-orange, places of safety green, ports grey, SAR
# regions as a blue outline only (they are large and must not hide what is inside).
_ZONE_STYLES: dict[ZoneKind, dict[str, Any]] = {
    ZoneKind.RISK: {"color": "#d9480f", "weight": 1.5, "fillColor": "#f76707", "fillOpacity": 0.08},
    ZoneKind.DISEMBARKATION: {"color": "#2b8a3e", "weight": 1.5, "fillColor": "#40c057", "fillOpacity": 0.28},
    ZoneKind.PORT: {"color": "#495057", "weight": 1, "fillColor": "#868e96", "fillOpacity": 0.3},
    ZoneKind.SAR_REGION: {"color": "#1c7ed6", "weight": 2, "fill": False, "dashArray": "6 4"},
}
_DEFAULT_ZONE_STYLE: dict[str, Any] = {"color": "#495057", "weight": 1, "fillOpacity": 0.1}

# Leaflet's bindTooltip() turns a string into markup; a DOM node with textContent cannot.
_ZONE_TOOLTIP = JsCode(
    """function (feature, layer) {
        var p = (feature && feature.properties) || {};
        var label = document.createElement("span");
        label.className = "sw-zone-label";
        label.textContent = String(p.name || p.id || "");
        layer.bindTooltip(label, {sticky: true, direction: "top"});
    }"""
)


class LocalMap(folium.Map):
    """A folium Map whose only assets are Leaflet's, served by Seawatch itself.

    folium's defaults pull Leaflet, jQuery, Bootstrap and awesome-markers from CDNs;
    none of them is needed here, and none may load from outside.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Per instance: folium's add_*_link mutate these lists in place, so a shared class list could leak.
        self.default_js = [("leaflet", f"{LEAFLET_URL}/leaflet.js?v={LEAFLET_VERSION}")]
        self.default_css = [("leaflet_css", f"{LEAFLET_URL}/leaflet.css?v={LEAFLET_VERSION}")]


class _Expose(MacroElement):
    """Publishes folium's generated variable names to ``map.js`` (``window.seawatchMap``, …).

    Rendered as a child of the map, so it runs right after the map and zones exist.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            window.seawatchMap = {{ this.map_name }};
            window.seawatchZones = {{ this.zones_name }};
            window.seawatchConfig = {{ this.config|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, zones_name: str, config: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SeawatchExpose"
        self.map_name = map_name
        self.zones_name = zones_name
        self.config = config


@cache
def _asset_version(name: str) -> str:
    """A short content hash for cache busting: a browser never runs a stale map.js after an upgrade."""
    try:
        return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def zones_geojson(zones: ZoneIndex) -> dict[str, Any]:
    """The zones as a GeoJSON FeatureCollection (id, name, kind, severity, source)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": zone.id,
                "properties": {
                    "id": zone.id,
                    "name": zone.name,
                    "kind": zone.kind.value,
                    "severity": zone.severity.value,
                    "source": zone.source,
                },
                "geometry": mapping(zone.geometry),
            }
            for zone in zones
        ],
    }


def _zone_style(feature: dict[str, Any]) -> dict[str, Any]:
    kind = feature.get("properties", {}).get("kind")
    try:
        return dict(_ZONE_STYLES[ZoneKind(kind)])
    except (ValueError, KeyError):
        return dict(_DEFAULT_ZONE_STYLE)


def zone_layer(zones: ZoneIndex) -> folium.GeoJson:
    """The zones as one map layer, styled by kind with a tooltip: the live map's and the report's."""
    return folium.GeoJson(
        zones_geojson(zones),
        name="Zones",
        style_function=_zone_style,
        # Leaflet lets a click on a zone bubble on to the map (it fills the report position).
        on_each_feature=_ZONE_TOOLTIP,
    )


def _kind_options() -> str:
    """The history filter's alert kinds (fixed names from the code, nothing from data)."""
    return "".join(f'<option value="{k.value}">{k.value.replace("_", " ")}</option>' for k in Kind)


def _panel_html(title: str) -> str:
    """The side panel's fixed markup; ``map.js`` fills the lists. Only ``title`` is inserted (escaped).

    The failover badge (over the map) and the read-only note start hidden: ``map.js`` fills and
    shows them only when ``/api/instance`` says failover is on, so a single instance's page is as before.
    """
    t = html.escape(title)
    return f"""
<div id="sw-instance" class="sw-instance" role="status" aria-label="Instance serving this map" hidden></div>
<aside id="sw-panel" aria-label="Alerts and operator actions">
  <header id="sw-header">
    <h1 id="sw-title">{t}</h1>
    <span id="sw-status" class="sw-status" data-state="connecting">connecting…</span>
  </header>
  <div id="sw-counts"><span id="sw-vessel-count">–</span> <span id="sw-vessel-note"></span></div>
  <div id="sw-clock" class="sw-muted" aria-label="Time now"></div>
  <section id="sw-attention" aria-label="Alarm and notifications">
    <button id="sw-sound" type="button" aria-pressed="false">Enable sound</button>
    <button id="sw-mute" type="button" hidden>Mute alarm</button>
    <button id="sw-notify" type="button">Desktop notifications</button>
    <span id="sw-alarm-state" class="sw-muted" data-state="off"></span>
  </section>
  <section id="sw-search" aria-label="Find a vessel">
    <form id="sw-search-form" autocomplete="off" role="search">
      <input id="sw-search-input" type="search" maxlength="100" spellcheck="false"
        placeholder="Find a vessel: name, MMSI, call sign, IMO" aria-label="Find a vessel">
      <button id="sw-search-button" type="submit">Find</button>
    </form>
    <ol id="sw-search-results"></ol>
    <div id="sw-track" hidden>
      <div class="sw-row">
        <span id="sw-track-name" class="sw-track-name"></span>
        <label>Last <select id="sw-track-hours">
          <option value="1">1 h</option><option value="3">3 h</option>
          <option value="6" selected>6 h</option><option value="0">all</option>
        </select></label>
        <button id="sw-track-close" type="button" aria-label="Close the track">×</button>
      </div>
      <input id="sw-track-slider" type="range" min="0" max="0" step="1" value="0" aria-label="Time along the track">
      <div id="sw-track-time" class="sw-muted"></div>
    </div>
  </section>
  <section id="sw-login" aria-label="Operator sign-in">
    <form id="sw-login-form" autocomplete="off">
      <label for="sw-token">Operator token</label>
      <input id="sw-token" name="sw-token" type="password" autocomplete="off" spellcheck="false" required>
      <button id="sw-login-button" type="submit">Sign in</button>
    </form>
    <div id="sw-signed-in" hidden>
      <span id="sw-login-state">Signed in (this tab only)</span>
      <button id="sw-logout" type="button">Sign out</button>
    </div>
  </section>
  <div id="sw-message" role="status" aria-live="polite" hidden></div>
  <p id="sw-read-only" class="sw-read-only" hidden></p>
  <section id="sw-alerts-section" aria-label="Active alerts">
    <h2>Active alerts <span id="sw-alert-count" class="sw-count">0</span></h2>
    <p id="sw-alerts-empty" class="sw-muted">No active alerts.</p>
    <ol id="sw-alerts"></ol>
  </section>
  <details id="sw-history">
    <summary>History and audit</summary>
    <form id="sw-history-form" autocomplete="off">
      <div class="sw-row">
        <label>Status <select id="sw-h-status">
          <option value="all">all</option><option value="open">open</option>
          <option value="acknowledged">acknowledged</option><option value="resolved" selected>resolved</option>
          <option value="retracted">retracted</option>
        </select></label>
        <label>Kind <select id="sw-h-kind"><option value="">any</option>{_kind_options()}</select></label>
      </div>
      <div class="sw-row">
        <label>Severity <select id="sw-h-severity"><option value="">any</option>
          <option value="critical">critical</option><option value="high">high</option>
          <option value="medium">medium</option><option value="low">low</option><option value="info">info</option>
        </select></label>
        <label>Test <select id="sw-h-test"><option value="">any</option>
          <option value="real">real only</option><option value="test">tests only</option></select></label>
      </div>
      <div class="sw-row">
        <label>Zone <select id="sw-h-zone"><option value="">any</option></select></label>
        <label>Since <select id="sw-h-since">
          <option value="3600">1 h</option><option value="21600">6 h</option>
          <option value="86400" selected>24 h</option><option value="604800">7 days</option>
          <option value="0">any time</option>
        </select></label>
      </div>
      <button id="sw-h-apply" type="submit">Show</button>
    </form>
    <p id="sw-h-summary" class="sw-muted"></p>
    <ol id="sw-h-list"></ol>
  </details>
  <details id="sw-report">
    <summary>Report a sighting or distress call</summary>
    <form id="sw-report-form" autocomplete="off">
      <p class="sw-muted">Click the map to fill the position.</p>
      <div class="sw-row">
        <label>Lat <input id="sw-report-lat" type="number" step="any" min="-90" max="90" required></label>
        <label>Lon <input id="sw-report-lon" type="number" step="any" min="-180" max="180" required></label>
      </div>
      <label>Kind
        <select id="sw-report-kind">
          <option value="distress_call">Distress call</option>
          <option value="sighting">Sighting</option>
        </select>
      </label>
      <label>Persons on board <input id="sw-report-pob" type="number" min="0" step="1"></label>
      <label>Condition <input id="sw-report-condition" type="text" maxlength="500"
        placeholder="adrift, no engine, water on board"></label>
      <label>What was seen or said <textarea id="sw-report-text" rows="3" maxlength="4000"></textarea></label>
      <button id="sw-report-submit" type="submit">Post report</button>
    </form>
  </details>
</aside>
"""


def render_map(
    zones: ZoneIndex,
    *,
    tiles_url: str | None,
    tiles_attribution: str,
    center: tuple[float, float] = (6.0, 97.0),
    zoom: int = 5,
    title: str = "Seawatch",
    timezone: str = "UTC",
) -> str:
    """The whole map page as HTML.

    ``center`` is (lat, lon). With ``tiles_url`` None the map has no tile layer (the sea
    is a plain background) and the page makes no request beyond Seawatch itself.
    """
    m = LocalMap(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        position="absolute",
        prefer_canvas=False,
        world_copy_jump=False,
    )
    # After Leaflet's own styles, so ours win at equal specificity.
    m.default_css.append(("seawatch_css", f"{SEAWATCH_URL}/map.css?v={_asset_version('map.css')}"))
    if tiles_url:
        # Leaflet (and folium) refuse a custom tile layer without an attribution: name the tile server
        # rather than fail the page when map_tiles_attribution was left empty
        attribution = tiles_attribution or f"Tiles: {urlsplit(tiles_url).netloc or tiles_url}"
        folium.TileLayer(tiles_url, attr=attribution, name="Base map", max_zoom=18).add_to(m)

    zones_layer = zone_layer(zones)
    zones_layer.add_to(m)

    config = {
        "title": title,
        "vesselLimit": VESSEL_LIMIT,
        "canvasThreshold": CANVAS_THRESHOLD,
        "hasTiles": bool(tiles_url),
        # Land is drawn from the coastline files under static/land/ (scripts/build_land.py), never from outside.
        "landUrl": f"{SEAWATCH_URL}/land/manifest.json?v={_asset_version('land/manifest.json')}",
        "timezone": timezone,
    }
    m.add_child(_Expose(m.get_name(), zones_layer.get_name(), config))

    root = m.get_root()
    root.title = html.escape(title)  # type: ignore[attr-defined]
    header = root.header  # type: ignore[attr-defined]
    # No favicon request (it would 404 and count as a console error); no referrer to anyone.
    header.add_child(Element('<link rel="icon" href="data:,">'), name="sw_favicon")
    header.add_child(Element('<meta name="referrer" content="no-referrer">'), name="sw_referrer")
    # defer: runs after the whole document, i.e. after folium's map script at the end, in this order
    # (map.js last: it uses what the others define).
    for script in PAGE_SCRIPTS:
        header.add_child(
            Element(f'<script defer src="{SEAWATCH_URL}/{script}?v={_asset_version(script)}"></script>'),
            name=f"sw_script_{script.removesuffix('.js')}",
        )
    root.html.add_child(Element(_panel_html(title)), name="sw_panel")  # type: ignore[attr-defined]
    page: str = root.render()
    return page
