/* Seawatch live map: vessels, tracks, alerts, the alert panel and operator actions.
 *
 * Folium builds the Leaflet map and the zones and publishes them as window.seawatchMap
 * and window.seawatchZones; this script makes the page live without a reload:
 *  - vessels of the current viewport from /api/vessels?bbox=… (on load, after every pan
 *    or zoom, and when the event stream says positions changed);
 *  - alerts from /api/alerts, then every alert event pushed on /api/stream;
 *  - operator actions (acknowledge, assign, resolve, retract, report) with the operator token the
 *    user typed in, kept in sessionStorage for this tab only, never in a URL or a log;
 *  - with failover on, which instance serves the page, from /api/instance every few seconds: the
 *    standby's map is read-only (its action buttons are hidden) and names and links the leader.
 *
 * Security: vessel names, call signs, alert summaries, texts and notes are untrusted
 * (anyone can transmit AIS). Nothing from the API ever goes through innerHTML: every
 * element is built with createElement and filled with textContent.
 *
 * The stream is read with fetch() rather than EventSource, because EventSource cannot
 * send an Authorization header and a token must never travel in a URL.
 */
(function () {
  "use strict";

  const map = window.seawatchMap;
  const zonesLayer = window.seawatchZones;
  const config = window.seawatchConfig || {};
  const baseTitle = typeof config.title === "string" && config.title ? config.title : "Seawatch";
  const VESSEL_LIMIT = Number(config.vesselLimit) > 0 ? Number(config.vesselLimit) : 5000;
  const CANVAS_THRESHOLD = Number(config.canvasThreshold) > 0 ? Number(config.canvasThreshold) : 2000;
  const TOKEN_KEY = "seawatch.operatorToken";
  const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  const ACTIVE = new Set(["open", "acknowledged"]);
  const BEACON_LABEL = { 970: "SART", 972: "MOB", 974: "EPIRB" };

  const $ = (id) => document.getElementById(id);

  if (!map || typeof L === "undefined") {
    const status = $("sw-status");
    if (status) {
      status.textContent = "map failed to load";
      status.dataset.state = "offline";
    }
    return;
  }

  // ------------------------------------------------------------------ small helpers

  /** An element with a class and text (text via textContent, never markup). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const str = (v) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));

  function fmt(v, digits, unit) {
    return isNum(v) ? v.toFixed(digits) + (unit ? " " + unit : "") : "–";
  }

  // ------------------------------------------------------------------ clocks and times
  //
  // Three clocks meet here. Event time (observed_at, last_seen) is what the AIS message says; it is
  // the record, but it may run behind (a slow uplink) or, in the demo, twenty times fast. The server's
  // wall clock says when Seawatch received each alert event (/api/received). The browser's own clock
  // may be off by minutes. So: ages of alerts are the server's "now" minus the receive time (the
  // browser's clock corrected by the server's), ages of vessels are measured by the feed's clock (the
  // newest event time the server has seen), and absolute times are shown in UTC and in the centre's
  // time zone (setting centre_timezone).

  const CENTRE_TZ = validZone(config.timezone);
  const localTime = CENTRE_TZ === "UTC" ? null : new Intl.DateTimeFormat("en-GB", {
    timeZone: CENTRE_TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const localDate = CENTRE_TZ === "UTC" ? null : new Intl.DateTimeFormat("en-CA", {
    timeZone: CENTRE_TZ, year: "numeric", month: "2-digit", day: "2-digit",
  });
  const localZoneName = CENTRE_TZ === "UTC" ? "" : zoneName(CENTRE_TZ);
  let serverOffsetMs = 0; // server wall clock minus the browser's
  let eventClock = null; // {eventMs, atMs (server ms)}: the feed's newest event time and when we learnt it
  const receivedAt = new Map(); // alert id -> {sequence, ms}: when the server received its latest event

  function validZone(zone) {
    if (typeof zone !== "string" || !zone) return "UTC";
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return zone;
    } catch (e) {
      return "UTC";
    }
  }

  function zoneName(zone) {
    try {
      const parts = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "short" }).formatToParts(new Date());
      const named = parts.find((p) => p.type === "timeZoneName");
      return named ? named.value + " " + zone : zone;
    } catch (e) {
      return zone;
    }
  }

  const serverNow = () => Date.now() + serverOffsetMs;

  /** The feed's clock now: the newest event time seen, moved on by the wall clock since (never ahead of now). */
  function feedNow() {
    if (!eventClock) return serverNow();
    return Math.min(serverNow(), eventClock.eventMs + (serverNow() - eventClock.atMs));
  }

  /** Learn the server's clocks from an answer of /api/received. */
  function noteClocks(data) {
    if (!data || typeof data !== "object") return;
    const now = Date.parse(str(data.now));
    if (Number.isFinite(now)) serverOffsetMs = now - Date.now();
    const ev = Date.parse(str(data.event_time));
    if (Number.isFinite(ev)) eventClock = { eventMs: ev, atMs: serverNow() };
    const alertsIn = data.alerts && typeof data.alerts === "object" ? data.alerts : {};
    for (const id of Object.keys(alertsIn)) {
      const r = alertsIn[id];
      const ms = Date.parse(str(r && r.last));
      const known = receivedAt.get(id);
      if (Number.isFinite(ms) && isNum(r.sequence) && (!known || known.sequence <= r.sequence)) {
        receivedAt.set(id, { sequence: r.sequence, ms: ms });
      }
    }
  }

  function pad2(n) {
    return String(n).padStart(2, "0");
  }

  /** "2026-03-01 10:02:03 UTC (17:02:03 GMT+7 Asia/Jakarta)"; the raw text when unparsable. */
  function fmtMs(t) {
    const d = new Date(t);
    const utc = d.toISOString().slice(0, 10) + " " + d.toISOString().slice(11, 19) + " UTC";
    if (!localTime) return utc;
    const day = localDate.format(d);
    const prefix = day !== d.toISOString().slice(0, 10) ? day + " " : "";
    return utc + " (" + prefix + localTime.format(d) + " " + localZoneName + ")";
  }

  function fmtTime(iso) {
    const t = Date.parse(str(iso));
    if (!Number.isFinite(t)) return str(iso) || "–";
    return fmtMs(t);
  }

  function agoMs(ms) {
    let s = Math.round(ms / 1000);
    if (s < 0) s = 0;
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
    return Math.floor(s / 86400) + " d ago";
  }

  /** How old an event time is by the feed's clock ("5 min ago"). */
  function ago(iso) {
    const t = Date.parse(str(iso));
    if (!Number.isFinite(t)) return "";
    return agoMs(feedNow() - t);
  }

  /** An alert's age: since the server received its latest event; by the feed's clock when that is unknown. */
  function alertAge(ev) {
    const r = receivedAt.get(ev.id);
    if (r) return agoMs(serverNow() - r.ms);
    return ago(ev.observed_at);
  }

  /** "observed <time>", and "received <time>" too where the two differ by more than a minute. */
  function timesLine(observedIso, receivedIso) {
    const o = Date.parse(str(observedIso));
    const r = Date.parse(str(receivedIso));
    if (!Number.isFinite(o)) return Number.isFinite(r) ? "received " + fmtMs(r) : "";
    let line = "observed " + fmtMs(o);
    if (Number.isFinite(r) && Math.abs(r - o) > 60000) line += " · received " + fmtMs(r);
    return line;
  }

  function receivedIsoOf(ev) {
    const r = receivedAt.get(ev.id);
    return r && r.sequence === ev.sequence ? new Date(r.ms).toISOString() : null;
  }

  function duration(seconds) {
    if (!isNum(seconds)) return "–";
    const m = Math.round(seconds / 60);
    if (m < 60) return m + " min";
    return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
  }

  function severityRank(sev) {
    return Object.prototype.hasOwnProperty.call(SEVERITY_RANK, sev) ? SEVERITY_RANK[sev] : 5;
  }

  /** A severity safe to use in a class name (known values only). */
  function sevClass(sev) {
    return Object.prototype.hasOwnProperty.call(SEVERITY_RANK, sev) ? sev : "none";
  }

  function beaconLabel(mmsi) {
    return BEACON_LABEL[Math.floor(Number(mmsi) / 1e6)] || "BEACON";
  }

  // ------------------------------------------------------------------ token and messages

  function getToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // storage refused (private mode): the token then lives only as long as nothing
    }
    updateLogin();
  }

  let messageTimer = null;

  /** A message in the panel: kind "error" stays until replaced, others fade after 8 s. */
  function say(text, kind) {
    const box = $("sw-message");
    if (!box) return;
    box.textContent = text;
    box.className = kind === "error" ? "sw-error" : kind === "ok" ? "sw-ok" : "";
    box.hidden = false;
    if (messageTimer) clearTimeout(messageTimer);
    messageTimer = null;
    if (kind !== "error") {
      messageTimer = setTimeout(() => {
        box.hidden = true;
      }, 8000);
    }
  }

  function setStatus(state, text) {
    const node = $("sw-status");
    if (!node) return;
    node.dataset.state = state;
    node.textContent = text;
  }

  function updateLogin() {
    const signedIn = Boolean(getToken());
    const form = $("sw-login-form");
    const box = $("sw-signed-in");
    if (form) form.hidden = signedIn;
    if (box) box.hidden = !signedIn;
  }

  /** fetch() with the token (if any) and JSON both ways; never throws on an HTTP status. */
  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    const token = getToken();
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method: opts.method || "GET", headers: headers, cache: "no-store", signal: opts.signal };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { status: response.status, ok: response.ok, data: data };
  }

  function detailOf(res, fallback) {
    const d = res && res.data && res.data.detail;
    if (typeof d === "string" && d) return d;
    if (Array.isArray(d) && d.length && d[0] && typeof d[0].msg === "string") return d[0].msg;
    return fallback;
  }

  /** Background work never ends as an unhandled rejection (a console error): say it instead. */
  function background(promise) {
    promise.catch((err) => {
      if (err && err.name === "AbortError") return;
      say("Something went wrong: " + str(err && err.message ? err.message : err), "error");
    });
  }

  // ------------------------------------------------------------------ layers

  // Canvas circles for busy views sit in their own pane above the zones, below markers.
  map.createPane("swVessels").style.zIndex = 450;
  const canvasRenderer = L.canvas({ pane: "swVessels", padding: 0.2 });
  const vesselLayer = L.layerGroup().addTo(map);
  const beaconLayer = L.layerGroup().addTo(map);
  const trackLayer = L.layerGroup().addTo(map);
  const surpicLayer = L.layerGroup().addTo(map);
  const alertLayer = L.layerGroup().addTo(map);

  if (!config.hasTiles) {
    // No base map: a 5° graticule keeps the eye oriented on the plain sea.
    const grid = L.layerGroup();
    const style = { color: "#9fb6c6", weight: 1, opacity: 0.6, interactive: false };
    for (let lon = -180; lon <= 180; lon += 5) L.polyline([[-85, lon], [85, lon]], style).addTo(grid);
    for (let lat = -80; lat <= 80; lat += 5) L.polyline([[lat, -180], [lat, 180]], style).addTo(grid);
    grid.addTo(map);
    if (zonesLayer && typeof zonesLayer.bringToFront === "function") zonesLayer.bringToFront();
  }

  // Land from Seawatch's own coastline files, below the zones (and below a configured tile layer).
  const land = config.landUrl && window.SeawatchLand ? window.SeawatchLand.attach(map, str(config.landUrl)) : null;
  // The selected vessel, ringed so it stands out in a crowd (canvas circles have no outline of their own).
  const highlightLayer = L.layerGroup().addTo(map);

  const overlays = { Vessels: vesselLayer, Beacons: beaconLayer, Alerts: alertLayer, Track: trackLayer };
  if (zonesLayer) overlays.Zones = zonesLayer;
  if (land) overlays.Land = land.layer;
  L.control.layers(null, overlays, { collapsed: true, position: "topleft" }).addTo(map);

  // ------------------------------------------------------------------ vessels

  const vessels = new Map(); // mmsi -> {mmsi, props, latlng, kind: "dom" | "canvas" | "beacon", layer, sig}
  let vesselMode = "dom";
  let selectedMmsi = null;

  function riskOf(p) {
    return p && Object.prototype.hasOwnProperty.call(SEVERITY_RANK, p.risk) ? p.risk : "none";
  }

  /** Heading if known, else course over ground, else null (drawn as a dot). */
  function rotationOf(p) {
    if (isNum(p.heading_deg) && p.heading_deg >= 0 && p.heading_deg < 360) return p.heading_deg;
    if (isNum(p.cog_deg) && p.cog_deg >= 0 && p.cog_deg < 360) return p.cog_deg;
    return null;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  function vesselIcon(mmsi, p) {
    const box = el("div", "sw-vessel risk-" + riskOf(p));
    box.dataset.mmsi = String(mmsi);
    if (mmsi === selectedMmsi) box.classList.add("sw-selected");
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "-8 -10 16 20");
    const rot = rotationOf(p);
    if (rot === null) {
      const dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("r", "4");
      svg.appendChild(dot);
    } else {
      // A pointed hull, bow up, turned to the heading.
      const hull = document.createElementNS(SVG_NS, "path");
      hull.setAttribute("d", "M0,-9 L5,7 L0,4 L-5,7 Z");
      hull.setAttribute("transform", "rotate(" + rot.toFixed(0) + ")");
      svg.appendChild(hull);
    }
    box.appendChild(svg);
    return L.divIcon({ className: "sw-vessel-marker", html: box, iconSize: [18, 22], iconAnchor: [9, 11] });
  }

  function beaconIcon(mmsi, p) {
    const box = el("div", "sw-beacon");
    box.dataset.mmsi = String(mmsi);
    if (p.nav_status === 15) box.classList.add("sw-test");
    box.appendChild(el("span", "sw-beacon-ring"));
    box.appendChild(el("span", "sw-beacon-dot"));
    box.appendChild(el("span", "sw-beacon-label", beaconLabel(mmsi) + (p.nav_status === 15 ? " TEST" : "")));
    return L.divIcon({ className: "sw-beacon-marker", html: box, iconSize: [46, 46], iconAnchor: [23, 23] });
  }

  const RISK_COLOURS = {
    critical: "#e03131",
    high: "#f76707",
    medium: "#f2c200",
    low: "#5c7c99",
    info: "#5c7c99",
    none: "#5c7c99",
  };

  function circleStyle(p) {
    const colour = RISK_COLOURS[riskOf(p)];
    return { radius: riskOf(p) === "none" ? 3 : 5, color: "#1f2933", weight: 0.5, fillColor: colour, fillOpacity: 0.9 };
  }

  function vesselTooltip(mmsi) {
    return () => {
      const v = vessels.get(mmsi);
      const name = v && v.props && v.props.name ? str(v.props.name) : "MMSI " + mmsi;
      return el("span", null, name);
    };
  }

  function makeVesselLayer(v) {
    let layer;
    if (v.kind === "beacon") {
      layer = L.marker(v.latlng, { icon: beaconIcon(v.mmsi, v.props), zIndexOffset: 2000, keyboard: false });
      layer.addTo(beaconLayer);
    } else if (v.kind === "canvas") {
      layer = L.circleMarker(v.latlng, Object.assign({ renderer: canvasRenderer }, circleStyle(v.props)));
      layer.addTo(vesselLayer);
    } else {
      layer = L.marker(v.latlng, { icon: vesselIcon(v.mmsi, v.props), keyboard: false, riseOnHover: true });
      layer.addTo(vesselLayer);
    }
    layer.bindTooltip(vesselTooltip(v.mmsi), { direction: "top", offset: [0, -8] });
    layer.on("click", () => selectVessel(v.mmsi));
    return layer;
  }

  function removeVessel(mmsi) {
    const v = vessels.get(mmsi);
    if (!v) return;
    vesselLayer.removeLayer(v.layer);
    beaconLayer.removeLayer(v.layer);
    vessels.delete(mmsi);
  }

  function upsertVessel(mmsi, props, latlng) {
    const kind = props.beacon === true ? "beacon" : vesselMode;
    const rot = rotationOf(props);
    const heading = rot === null ? "" : rot.toFixed(0);
    const sig = [kind, riskOf(props), heading, props.nav_status, mmsi === selectedMmsi].join("|");
    let v = vessels.get(mmsi);
    if (v && v.kind !== kind) {
      removeVessel(mmsi);
      v = undefined;
    }
    if (!v) {
      v = { mmsi: mmsi, props: props, latlng: latlng, kind: kind, layer: null, sig: sig };
      v.layer = makeVesselLayer(v);
      vessels.set(mmsi, v);
      return;
    }
    v.props = props;
    if (!v.latlng.equals(latlng)) {
      v.latlng = latlng;
      v.layer.setLatLng(latlng);
    }
    if (v.sig !== sig) {
      v.sig = sig;
      if (kind === "canvas") v.layer.setStyle(circleStyle(props));
      else if (kind === "beacon") v.layer.setIcon(beaconIcon(mmsi, props));
      else repaintVessel(v, props);
    }
  }

  /**
   * Turn and recolour a drawn vessel in place. setIcon would replace its element, and a
   * replaced element under the pointer loses a click in progress: with ships reporting new
   * headings every few seconds, clicking one could take several tries.
   */
  function repaintVessel(v, props) {
    const shown = v.layer.getElement();
    const box = shown ? shown.querySelector(".sw-vessel") : null;
    const hull = box ? box.querySelector("path") : null;
    const rot = rotationOf(props);
    v.layer.options.icon = vesselIcon(v.mmsi, props); // what Leaflet draws if the marker is added again
    if (!box || (rot === null) !== (hull === null)) {
      v.layer.setIcon(v.layer.options.icon); // a dot becomes a hull or back: a new shape
      return;
    }
    box.className = "sw-vessel risk-" + riskOf(props) + (v.mmsi === selectedMmsi ? " sw-selected" : "");
    if (hull) hull.setAttribute("transform", "rotate(" + rot.toFixed(0) + ")");
  }

  function applyVessels(fc) {
    const features = fc && Array.isArray(fc.features) ? fc.features : [];
    // Past the threshold, DOM markers make panning sluggish: draw canvas circles instead.
    const mode = features.length > CANVAS_THRESHOLD ? "canvas" : "dom";
    if (mode !== vesselMode) {
      vesselMode = mode;
      for (const [mmsi, v] of Array.from(vessels)) if (v.kind !== "beacon") removeVessel(mmsi);
    }
    const seen = new Set();
    for (const f of features) {
      if (!f || typeof f !== "object") continue;
      const p = f.properties && typeof f.properties === "object" ? f.properties : {};
      const c = f.geometry && Array.isArray(f.geometry.coordinates) ? f.geometry.coordinates : null;
      const mmsi = Number(p.mmsi);
      if (!c || !isNum(c[0]) || !isNum(c[1]) || !Number.isFinite(mmsi)) continue;
      seen.add(mmsi);
      upsertVessel(mmsi, p, L.latLng(c[1], c[0]));
    }
    for (const mmsi of Array.from(vessels.keys())) if (!seen.has(mmsi)) removeVessel(mmsi);

    const count = $("sw-vessel-count");
    const note = $("sw-vessel-note");
    const total = fc && isNum(fc.total) ? fc.total : null;
    if (count) {
      const of = total !== null ? " of " + total.toLocaleString("en") : "";
      count.textContent = seen.size.toLocaleString("en") + " vessels in view" + of;
    }
    if (note) note.textContent = fc && fc.truncated ? "— more in this area than shown: zoom in" : "";
    if (selectedMmsi !== null && vessels.has(selectedMmsi)) refreshPopup(selectedMmsi);
  }

  // One request at a time; a pan aborts the one in flight; stream nudges at most once a second (5 s in a crowd).
  let vesselRequest = null;
  let vesselPending = false;
  let vesselTimer = null;
  let lastVesselFetch = 0;

  function viewportBbox() {
    const b = map.getBounds().pad(0.1);
    const clampLon = (x) => Math.max(-180, Math.min(180, x));
    const clampLat = (y) => Math.max(-90, Math.min(90, y));
    const west = clampLon(b.getWest());
    const east = clampLon(b.getEast());
    if (b.getEast() - b.getWest() >= 360) return null; // the whole world: no filter
    return [west, clampLat(b.getSouth()), east, clampLat(b.getNorth())].map((x) => x.toFixed(4)).join(",");
  }

  function requestVessels(urgent) {
    if (urgent && vesselRequest) {
      vesselRequest.abort();
      vesselRequest = null;
    }
    if (vesselRequest) {
      vesselPending = true;
      return;
    }
    // A crowded view is a large answer: refresh it every 5 s rather than every second.
    const interval = vesselMode === "canvas" ? 5000 : 1000;
    const wait = urgent ? 0 : Math.max(0, interval - (Date.now() - lastVesselFetch));
    if (wait > 0) {
      if (!vesselTimer) {
        vesselTimer = setTimeout(() => {
          vesselTimer = null;
          requestVessels(false);
        }, wait);
      }
      return;
    }
    background(fetchVessels());
  }

  async function fetchVessels() {
    const controller = new AbortController();
    vesselRequest = controller;
    vesselPending = false;
    lastVesselFetch = Date.now();
    try {
      const bbox = viewportBbox();
      const url = "/api/vessels?limit=" + VESSEL_LIMIT + (bbox ? "&bbox=" + bbox : "");
      const res = await api(url, { signal: controller.signal });
      if (controller.signal.aborted) return;
      if (res.status === 401) {
        setStatus("auth", "sign-in needed");
        say("This map needs an access token: enter it in the box above.", "error");
      } else if (res.ok) {
        applyVessels(res.data);
      }
    } catch (err) {
      if (!(err && err.name === "AbortError")) setStatus("offline", "server unreachable");
    } finally {
      if (vesselRequest === controller) vesselRequest = null;
      if (vesselPending) requestVessels(false);
    }
  }

  map.on("moveend", () => requestVessels(true));

  // ------------------------------------------------------------------ vessel details and track

  const NAV_STATUS = {
    0: "under way using engine",
    1: "at anchor",
    2: "not under command",
    3: "restricted manoeuvrability",
    4: "constrained by draught",
    5: "moored",
    6: "aground",
    7: "engaged in fishing",
    8: "under way sailing",
    14: "AIS-SART / MOB / EPIRB active",
    15: "not defined (or beacon test)",
  };

  function shipType(code) {
    if (!isNum(code)) return "–";
    const named = { 30: "fishing", 31: "towing", 32: "towing (large)", 33: "dredging", 34: "diving", 35: "military",
      36: "sailing", 37: "pleasure craft", 50: "pilot", 51: "search and rescue", 52: "tug", 53: "port tender",
      55: "law enforcement", 58: "medical transport" };
    let word = named[code];
    if (!word) {
      const group = Math.floor(code / 10);
      word = { 2: "wing in ground", 4: "high-speed craft", 6: "passenger", 7: "cargo", 8: "tanker", 9: "other" }[group];
    }
    return word ? word + " (" + code + ")" : String(code);
  }

  let vesselDetail = null; // the last /api/vessels/{mmsi} answer of the selected vessel
  const vesselPopup = L.popup({ maxWidth: 320, autoPanPaddingTopLeft: [10, 10] });

  function row(dl, label, value) {
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", null, value === "" || value === null || value === undefined ? "–" : value));
  }

  function vesselPopupContent(mmsi) {
    const v = vessels.get(mmsi);
    const p = (v && v.props) || (vesselDetail && vesselDetail.vessel) || {};
    const root = el("div", "sw-popup");
    root.dataset.mmsi = String(mmsi);
    const name = str(p.name).trim();
    root.appendChild(el("h3", "sw-popup-name", p.beacon ? beaconLabel(mmsi) + " beacon " + mmsi : name || "(no name)"));
    const dl = el("dl");
    // an MMSI outside the ITU ranges (e.g. 009…) is kept and flagged: the boats that matter often send one
    row(dl, "MMSI", String(mmsi) + (p.mmsi_valid === false ? " (invalid MMSI)" : ""));
    if (p.beacon) row(dl, "Name", name);
    row(dl, "Call sign", str(p.callsign));
    row(dl, "Type", shipType(p.ship_type));
    row(dl, "Length", fmt(p.length_m, 0, "m"));
    row(dl, "Class", str(p["class"]));
    row(dl, "Speed", fmt(p.sog_kn, 1, "kn"));
    row(dl, "Course", fmt(p.cog_deg, 0, "°"));
    row(dl, "Heading", fmt(p.heading_deg, 0, "°"));
    row(dl, "Status", isNum(p.nav_status) ? NAV_STATUS[p.nav_status] || String(p.nav_status) : "–");
    row(dl, "Last seen", fmtTime(p.last_seen) + (p.last_seen ? " (" + ago(p.last_seen) + ")" : ""));
    row(dl, "Risk", p.risk ? str(p.risk) + " (" + (isNum(p.alerts) ? p.alerts : 0) + " open alerts)" : "none");
    root.appendChild(dl);
    const note = el("div", "sw-popup-note");
    if (vesselDetail && vesselDetail.mmsi === mmsi) {
      note.textContent = "Track: " + vesselDetail.track.length + " fixes";
      const alerts = vesselDetail.alerts.filter((a) => a && ACTIVE.has(a.status));
      if (alerts.length) {
        const list = el("ul");
        for (const a of alerts) {
          list.appendChild(el("li", null, str(a.severity) + " " + str(a.kind) + ": " + str(a.summary)));
        }
        root.appendChild(note);
        root.appendChild(list);
        return root;
      }
    } else {
      note.textContent = "Loading track…";
    }
    root.appendChild(note);
    return root;
  }

  /** Leaflet pans the map to show a popup on every content update; only the opening may pan,
   * or the live refresh (once a second) would drag the map back while the operator looks elsewhere. */
  function openVesselPopup(latlng, mmsi) {
    vesselPopup.options.autoPan = true;
    vesselPopup.setLatLng(latlng).setContent(vesselPopupContent(mmsi)).openOn(map);
    vesselPopup.options.autoPan = false;
  }

  function refreshPopup(mmsi) {
    if (selectedMmsi !== mmsi || !map.hasLayer(vesselPopup)) return;
    const v = vessels.get(mmsi);
    if (v) vesselPopup.setLatLng(v.latlng);
    vesselPopup.setContent(vesselPopupContent(mmsi));
  }

  function markSelected(mmsi, on) {
    const v = vessels.get(mmsi);
    const node = v && v.kind === "dom" && v.layer.getElement && v.layer.getElement();
    const box = node && node.querySelector(".sw-vessel");
    if (box) box.classList.toggle("sw-selected", on);
  }

  function selectVessel(mmsi) {
    if (selectedMmsi !== null && selectedMmsi !== mmsi) markSelected(selectedMmsi, false);
    selectedMmsi = mmsi;
    markSelected(mmsi, true);
    vesselDetail = null;
    trackLayer.clearLayers();
    const v = vessels.get(mmsi);
    if (v) {
      openVesselPopup(v.latlng, mmsi);
      highlight(v.latlng);
    }
    background(loadTrack(mmsi, true));
  }

  function highlight(latlng) {
    highlightLayer.clearLayers();
    if (!latlng) return;
    L.circleMarker(latlng, {
      radius: 16, color: "#1c7ed6", weight: 3, fill: false, interactive: false, className: "sw-highlight",
    }).addTo(highlightLayer);
  }

  /** From the search: centre the vessel, select it (popup, ring, track and the time slider). */
  function focusVessel(mmsi, lat, lon) {
    if (isNum(lat) && isNum(lon)) map.setView([lat, lon], Math.max(map.getZoom(), 10), { animate: false });
    selectVessel(Number(mmsi));
  }

  /** The selected vessel's details and track; ``first`` when just selected (may open the popup). */
  async function loadTrack(mmsi, first) {
    const res = await api("/api/vessels/" + encodeURIComponent(mmsi));
    if (selectedMmsi !== mmsi) return;
    if (!res.ok || !res.data) {
      if (res.status === 404) say("Vessel " + mmsi + " is no longer in state.", "info");
      return;
    }
    const track = Array.isArray(res.data.track) ? res.data.track : [];
    vesselDetail = {
      mmsi: mmsi,
      vessel: res.data.vessel || {},
      track: track,
      alerts: Array.isArray(res.data.alerts) ? res.data.alerts : [],
    };
    const props = vesselDetail.vessel;
    const name = str(props.name).trim() || "MMSI " + mmsi;
    panels.setTrack(mmsi, name, track); // the track with its time slider (panels.js)
    if (isNum(props.lat) && isNum(props.lon)) highlight(L.latLng(props.lat, props.lon));
    if (first && !map.hasLayer(vesselPopup)) {
      // Selected while outside the viewport (from the search): place the popup now that it is known.
      const v = vessels.get(mmsi);
      if (v) openVesselPopup(v.latlng, mmsi);
      else if (isNum(props.lat) && isNum(props.lon)) openVesselPopup(L.latLng(props.lat, props.lon), mmsi);
    }
    if (map.hasLayer(vesselPopup)) {
      vesselPopup.options.autoPan = Boolean(first); // the details just arrived: show them whole, once
      vesselPopup.setContent(vesselPopupContent(mmsi));
      vesselPopup.options.autoPan = false;
    }
  }

  // Closing the popup keeps the selection and its track in sight; a click on open sea clears both.
  function clearSelection() {
    if (selectedMmsi !== null) markSelected(selectedMmsi, false);
    selectedMmsi = null;
    vesselDetail = null;
    trackLayer.clearLayers();
    highlightLayer.clearLayers();
    panels.setTrack(null);
  }

  // ------------------------------------------------------------------ alerts

  const alerts = new Map(); // id -> latest alert event (active ones only)
  const alertItems = new Map(); // id -> <li>
  const alertMarkers = new Map(); // id -> {marker, sig}
  const flashing = new Set(); // ids of new critical alerts not yet looked at
  const alertSeenAt = new Map(); // id -> performance.now() of the last event applied
  const lastSequence = new Map(); // id -> sequence of the last event applied (resolved ones too)
  const surpicOpen = new Set();
  let selectedAlert = null;
  let readOnly = false; // the standby of a failover pair: operators act on the leader's map

  function isActive(ev) {
    return ACTIVE.has(ev.status) && ev.event !== "alert.resolved" && ev.event !== "alert.retracted";
  }

  function compareAlerts(a, b) {
    // A new critical alert nobody has looked at yet goes first, whatever its time.
    const byNew = Number(flashing.has(b.id)) - Number(flashing.has(a.id));
    if (byNew) return byNew;
    const bySeverity = severityRank(a.severity) - severityRank(b.severity);
    if (bySeverity) return bySeverity;
    const ta = Date.parse(str(a.observed_at)) || 0;
    const tb = Date.parse(str(b.observed_at)) || 0;
    if (tb !== ta) return tb - ta; // newest first
    return str(a.id) < str(b.id) ? -1 : 1;
  }

  /** Older than an event already applied (events and the list can cross on the way). */
  function isStale(ev) {
    const last = lastSequence.get(ev.id);
    return isNum(last) && isNum(ev.sequence) && ev.sequence < last;
  }

  /** One alert event from the stream, an action's answer or a report: newest sequence wins. */
  function onAlertEvent(ev, live) {
    if (!ev || typeof ev !== "object" || typeof ev.id !== "string" || !ev.id) return;
    const prev = alerts.get(ev.id);
    if (isStale(ev)) return;
    alertSeenAt.set(ev.id, performance.now());
    if (isNum(ev.sequence)) lastSequence.set(ev.id, ev.sequence);
    if (!isActive(ev)) {
      alerts.delete(ev.id);
      flashing.delete(ev.id);
    } else {
      alerts.set(ev.id, ev);
      const becameCritical = ev.severity === "critical" && (!prev || prev.severity !== "critical");
      if (live && becameCritical && ev.status === "open" && ev.test !== true) {
        flashing.add(ev.id);
        if (notifier) notifier.show(ev.id, "CRITICAL: " + str(ev.kind).replace(/_/g, " "), str(ev.summary));
      }
      if (ev.status !== "open") flashing.delete(ev.id);
    }
    scheduleRender();
  }

  let renderQueued = false;

  /** Bursts of events (a beacon sends 8 a minute, an escalation many at once) render once a frame. */
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      renderAlerts();
    });
  }

  function vesselLine(ev) {
    const v = ev.vessel && typeof ev.vessel === "object" ? ev.vessel : {};
    const parts = [];
    const name = str(v.name).trim();
    if (name) parts.push(name);
    if (ev.mmsi !== null && ev.mmsi !== undefined) parts.push("MMSI " + str(ev.mmsi));
    const other = ev.other_vessel && typeof ev.other_vessel === "object" ? ev.other_vessel : null;
    if (other) parts.push("with " + (str(other.name).trim() || "MMSI " + str(other.mmsi)));
    if (!parts.length && ev.kind === "report") parts.push("Report");
    return parts.join(" · ");
  }

  function metaLine(ev) {
    const parts = [];
    if (ev.zone && typeof ev.zone === "object" && ev.zone.name) parts.push(str(ev.zone.name));
    if (isNum(ev.lat) && isNum(ev.lon)) parts.push(ev.lat.toFixed(4) + ", " + ev.lon.toFixed(4));
    const ev2 = ev.evidence && typeof ev.evidence === "object" ? ev.evidence : {};
    if (ev2.assigned_to) parts.push("assigned to " + str(ev2.assigned_to));
    if (ev.status === "acknowledged") parts.push("acknowledged" + (ev.by ? " by " + str(ev.by) : ""));
    if (ev.note) parts.push("note: " + str(ev.note));
    if (ev2.eta) parts.push("ETA " + fmtTime(ev2.eta));
    return parts.join(" · ");
  }

  function makeAlertItem(id) {
    const li = el("li", "sw-alert");
    li.dataset.alertId = id;
    const head = el("div", "sw-alert-head");
    head.append(el("span", "sw-sev"), el("span", "sw-kind"), el("span", "sw-state"), el("span", "sw-age"));
    li.append(head, el("div", "sw-alert-vessel"), el("div", "sw-alert-summary"), el("div", "sw-alert-text"));
    li.append(el("div", "sw-alert-meta"), el("div", "sw-alert-times"));
    const actions = el("div", "sw-alert-actions");
    const button = (cls, label, handler) => {
      const b = el("button", cls, label);
      b.type = "button";
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        handler(b);
      });
      actions.appendChild(b);
    };
    button("sw-ack", "Acknowledge", (b) => background(act(id, "acknowledge", {}, b)));
    button("sw-assign", "Assign", (b) => assign(id, b));
    button("sw-resolve", "Resolve", (b) => resolve(id, b));
    button("sw-retract", "False alarm", (b) => retract(id, b));
    button("sw-surpic-button", "SURPIC", (b) => background(toggleSurpic(id, b)));
    button("sw-details-button", "Details", () => panels.toggleDetails(li.querySelector(".sw-details"), id));
    li.append(actions, el("div", "sw-surpic"), el("div", "sw-details"));
    li.addEventListener("click", () => focusAlert(id, true));
    return li;
  }

  function fillAlertItem(li, ev) {
    const sev = sevClass(ev.severity);
    li.className = "sw-alert sev-" + sev + " status-" + (ev.status === "acknowledged" ? "acknowledged" : "open");
    if (flashing.has(ev.id)) li.classList.add("sw-flash");
    if (selectedAlert === ev.id) li.classList.add("sw-selected");
    li.dataset.status = str(ev.status);
    li.dataset.severity = sev;
    li.dataset.kind = str(ev.kind);
    li.querySelector(".sw-sev").textContent = str(ev.severity) || "?";
    li.querySelector(".sw-kind").textContent = str(ev.kind).replace(/_/g, " ");
    li.querySelector(".sw-state").textContent = str(ev.status) + (ev.test === true ? " · TEST" : "");
    const age = li.querySelector(".sw-age");
    age.textContent = alertAge(ev);
    age.title = timesLine(ev.observed_at, receivedIsoOf(ev));
    li.querySelector(".sw-alert-times").textContent = timesLine(ev.observed_at, receivedIsoOf(ev));
    li.querySelector(".sw-alert-vessel").textContent = vesselLine(ev);
    li.querySelector(".sw-alert-summary").textContent = str(ev.summary);
    const text = ev.evidence && typeof ev.evidence === "object" ? str(ev.evidence.text) : "";
    const textNode = li.querySelector(".sw-alert-text");
    textNode.textContent = text ? "“" + text + "”" : "";
    textNode.hidden = !text;
    li.querySelector(".sw-alert-meta").textContent = metaLine(ev);
    li.querySelector(".sw-ack").disabled = ev.status !== "open";
    for (const cls of WRITE_BUTTONS) li.querySelector(cls).hidden = readOnly;
  }

  function alertIcon(ev) {
    const box = el("div", "sw-alert-marker sev-" + sevClass(ev.severity));
    box.dataset.alertId = ev.id;
    if (flashing.has(ev.id)) box.classList.add("sw-flash");
    // Drawn as a badge up and right of the position, so the vessel under it stays clickable.
    return L.divIcon({ className: "sw-alert-marker-wrap", html: box, iconSize: [16, 16], iconAnchor: [-3, 19] });
  }

  function syncAlertMarker(ev) {
    const hasPos = isNum(ev.lat) && isNum(ev.lon);
    const entry = alertMarkers.get(ev.id);
    if (!hasPos) {
      if (entry) {
        alertLayer.removeLayer(entry.marker);
        alertMarkers.delete(ev.id);
      }
      return;
    }
    const sig = [sevClass(ev.severity), flashing.has(ev.id)].join("|");
    if (!entry) {
      const marker = L.marker([ev.lat, ev.lon], { icon: alertIcon(ev), zIndexOffset: 3000, keyboard: false });
      const id = ev.id;
      marker.bindTooltip(() => {
        const a = alerts.get(id);
        return el("span", null, a ? str(a.kind) + ": " + str(a.summary) : "");
      });
      marker.on("click", () => focusAlert(id, false));
      marker.addTo(alertLayer);
      alertMarkers.set(id, { marker: marker, sig: sig });
      return;
    }
    entry.marker.setLatLng([ev.lat, ev.lon]);
    if (entry.sig !== sig) {
      entry.sig = sig;
      entry.marker.setIcon(alertIcon(ev));
    }
  }

  function renderAlerts() {
    const list = $("sw-alerts");
    if (!list) return;
    const sorted = Array.from(alerts.values()).sort(compareAlerts);
    for (const [id, li] of Array.from(alertItems)) {
      if (alerts.has(id)) continue;
      li.remove();
      alertItems.delete(id);
      surpicOpen.delete(id);
      const entry = alertMarkers.get(id);
      if (entry) alertLayer.removeLayer(entry.marker);
      alertMarkers.delete(id);
    }
    // Items move only when they are out of place. Moving a node that is under the pointer
    // between mousedown and mouseup cancels the click, so re-inserting every item on every
    // update would drop an operator's click on Acknowledge while alerts stream in.
    let slot = list.firstElementChild;
    for (const ev of sorted) {
      let li = alertItems.get(ev.id);
      if (!li) {
        li = makeAlertItem(ev.id);
        alertItems.set(ev.id, li);
      }
      fillAlertItem(li, ev);
      if (li === slot) slot = slot.nextElementSibling;
      else list.insertBefore(li, slot); // slot null: at the end
      syncAlertMarker(ev);
    }
    const count = $("sw-alert-count");
    if (count) count.textContent = String(sorted.length);
    const empty = $("sw-alerts-empty");
    if (empty) empty.hidden = sorted.length > 0;
    updateTitle();
  }

  /** The tab title counts unacknowledged real critical alerts, so a background tab still draws the eye. */
  function updateTitle() {
    let n = 0;
    for (const ev of alerts.values()) if (ev.severity === "critical" && ev.status === "open" && ev.test !== true) n++;
    document.title = n ? "(" + n + ") CRITICAL — " + baseTitle : baseTitle;
    alarm.update(alarmIds());
  }

  /** Clicking an alert (in the panel or on the map) stops its flashing and shows the other side. */
  function focusAlert(id, fromPanel) {
    const ev = alerts.get(id);
    if (!ev) return;
    flashing.delete(id);
    selectedAlert = id;
    for (const [otherId, li] of alertItems) li.classList.toggle("sw-selected", otherId === id);
    if (fromPanel && isNum(ev.lat) && isNum(ev.lon)) {
      map.setView([ev.lat, ev.lon], Math.max(map.getZoom(), 8), { animate: false });
    }
    // The vessel behind the alert: its details and track (the coordinator's next question).
    if (fromPanel && isNum(ev.mmsi)) selectVessel(ev.mmsi);
    if (!fromPanel) {
      const li = alertItems.get(id);
      if (li) li.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    scheduleRender();
  }

  let lastClockFetch = 0;

  /** The server's clocks and the receive times of recent alert events (/api/received). */
  async function loadClocks() {
    lastClockFetch = Date.now();
    const res = await api("/api/received");
    if (res.ok) noteClocks(res.data);
  }

  /** An event that just arrived (stream or an action's answer) was received by the server about now. */
  function noteReceived(ev) {
    if (!ev || typeof ev.id !== "string" || !isNum(ev.sequence)) return;
    const known = receivedAt.get(ev.id);
    if (!known || known.sequence < ev.sequence) receivedAt.set(ev.id, { sequence: ev.sequence, ms: serverNow() });
  }

  async function loadAlerts() {
    const asked = performance.now();
    await loadClocks(); // first: ages need the receive times before the list is drawn
    const res = await api("/api/alerts?status=active&limit=500");
    if (res.status === 401) {
      setStatus("auth", "sign-in needed");
      say("This map needs an access token: enter it in the box above.", "error");
      return;
    }
    if (!res.ok || !res.data || !Array.isArray(res.data.alerts)) return;
    // Merge, never replace: an event pushed while this answer travelled may be newer than it.
    const listed = new Set();
    for (const ev of res.data.alerts) {
      if (!ev || typeof ev.id !== "string" || !isActive(ev)) continue;
      listed.add(ev.id);
      if (isStale(ev)) continue;
      if (isNum(ev.sequence)) lastSequence.set(ev.id, ev.sequence);
      alerts.set(ev.id, ev);
    }
    for (const id of Array.from(alerts.keys())) {
      if (!listed.has(id) && (alertSeenAt.get(id) || 0) < asked) {
        alerts.delete(id); // no longer active, and nothing newer arrived since we asked
        flashing.delete(id);
      }
    }
    scheduleRender();
  }

  // ------------------------------------------------------------------ operator actions

  function needToken(what) {
    if (refuseReadOnly(what)) return true;
    if (getToken()) return false;
    say("Sign in with your operator token (box above) to " + what + ".", "error");
    const box = $("sw-token");
    if (box) box.focus();
    return true;
  }

  /** Shared handling of a write's answer: 401 signs out with a clear message, 409 resyncs. */
  function writeFailed(res, what) {
    if (res.status === 401) {
      setToken("");
      say("Not authorised to " + what + ": the operator token was refused. Sign in again with a valid token.", "error");
    } else if (res.status === 404) {
      say("Cannot " + what + ": " + detailOf(res, "not found") + ".", "error");
      background(loadAlerts());
    } else if (res.status === 409) {
      say("Cannot " + what + ": " + detailOf(res, "the alert changed meanwhile") + ".", "error");
      background(loadAlerts());
      background(loadInstance()); // refused because this instance no longer leads?
    } else if (res.status === 422) {
      say("Cannot " + what + ": " + detailOf(res, "invalid input") + ".", "error");
    } else {
      say("Cannot " + what + ": the server answered " + res.status + ".", "error");
    }
  }

  const VERBS = {
    acknowledge: "acknowledge the alert",
    assign: "assign the alert",
    resolve: "resolve the alert",
    retract: "retract the alert",
  };
  const DONE = { acknowledge: "Acknowledged", assign: "Assigned", resolve: "Resolved", retract: "Retracted" };

  async function act(id, action, body, button) {
    const what = VERBS[action];
    if (needToken(what)) return;
    if (button) button.disabled = true;
    try {
      const res = await api("/api/alerts/" + encodeURIComponent(id) + "/" + action, { method: "POST", body: body });
      if (!res.ok) {
        writeFailed(res, what);
        return;
      }
      noteReceived(res.data);
      onAlertEvent(res.data, false);
      flashing.delete(id);
      const ev = res.data || {};
      say(DONE[action] + ": " + str(ev.kind) + " " + (vesselLine(ev) || id) + ".", "ok");
    } finally {
      if (button) button.disabled = false;
      const ev = alerts.get(id);
      const li = alertItems.get(id);
      if (ev && li) fillAlertItem(li, ev);
    }
  }

  function assign(id, button) {
    if (needToken(VERBS.assign)) return;
    const to = window.prompt("Assign this alert to (unit or person):", "");
    if (to === null || !to.trim()) return;
    const note = window.prompt("Note for the audit log (optional):", "");
    if (note === null) return;
    background(act(id, "assign", { to: to.trim(), note: note.trim() || null }, button));
  }

  function resolve(id, button) {
    if (needToken(VERBS.resolve)) return;
    const note = window.prompt("Resolve: what was done? (kept in the audit log)", "");
    if (note === null) return;
    background(act(id, "resolve", { note: note.trim() || null }, button));
  }

  function retract(id, button) {
    if (needToken(VERBS.retract)) return;
    const note = window.prompt("False alarm: why? Partners are told the alert is withdrawn (audit log)", "");
    if (note === null) return;
    if (!note.trim()) {
      say("A false alarm needs a reason for the audit log.", "error");
      return;
    }
    background(act(id, "retract", { note: note.trim() }, button));
  }

  // ------------------------------------------------------------------ which instance serves the map

  // With failover on, two instances serve a map each and one leads. The standby's map is live but
  // read-only: its server refuses operators' actions (409), so the page hides them and says where to
  // act. The name and URL come from the instances' settings, and are still put on the page as text;
  // a link is made only to an http(s) URL.

  const INSTANCE_POLL_MS = 3000;
  const WRITE_BUTTONS = [".sw-ack", ".sw-assign", ".sw-resolve", ".sw-retract"];
  let leaderName = ""; // as last read: the refusal message names it

  /** ``url`` as an absolute http(s) URL, or null (javascript:, data:, relative, not a URL). */
  function httpUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  /** The leader's name, as a link to its map when its URL is an http(s) one. */
  function leaderNode(leader) {
    const href = httpUrl(leader.url);
    if (!href) return el("span", "sw-instance-leader", str(leader.instance));
    const a = el("a", "sw-instance-leader", str(leader.instance));
    a.href = href;
    a.rel = "noopener noreferrer";
    a.title = "Open the leader's map: " + href;
    return a;
  }

  function refuseReadOnly(what) {
    if (!readOnly) return false;
    say("Cannot " + what + " here: this map is read-only (the standby)" +
      (leaderName ? "; act on the leader's map, " + leaderName + "." : "; no instance leads now."), "error");
    return true;
  }

  function setReadOnly(on) {
    if (on === readOnly) return;
    readOnly = on;
    const report = $("sw-report");
    if (report) {
      if (on) report.open = false;
      report.hidden = on;
    }
    for (const [id, li] of alertItems) {
      const ev = alerts.get(id);
      if (ev) fillAlertItem(li, ev);
    }
  }

  /** The badge, the read-only note and the action buttons after an answer of /api/instance. */
  function showInstance(data) {
    const badge = $("sw-instance");
    const note = $("sw-read-only");
    const role = data.role === "leader" ? "leader" : "standby";
    const leader = data.leader && typeof data.leader === "object" ? data.leader : null;
    const name = str(data.instance);
    const ro = data.read_only === true;
    leaderName = leader ? str(leader.instance) : "";
    if (badge) {
      badge.dataset.role = role;
      badge.dataset.readOnly = ro ? "true" : "false";
      const parts = [el("span", "sw-instance-name", name)];
      if (role === "leader" && !ro) {
        parts.push(document.createTextNode(" · leader"));
      } else {
        parts.push(document.createTextNode(" · " + role + " (read-only) — "));
        parts.push(leader ? document.createTextNode("leader: ") : document.createTextNode("no leader"));
        if (leader) parts.push(leaderNode(leader));
      }
      badge.replaceChildren(...parts);
      badge.hidden = false;
    }
    if (note) {
      const why = [document.createTextNode(
        "Read-only: this instance (" + name + ") is the standby of a failover pair. Acknowledge, assign, resolve, " +
        "false alarm and reports are done on the leader's map"
      )];
      if (leader) why.push(document.createTextNode(": "), leaderNode(leader), document.createTextNode("."));
      else why.push(document.createTextNode("; no instance leads now (it takes over within seconds)."));
      note.replaceChildren(...why);
      note.hidden = !ro;
    }
    setReadOnly(ro);
  }

  /** Ask /api/instance once; false when failover is off (nothing to show, nothing more to ask). */
  async function loadInstance() {
    const res = await api("/api/instance");
    if (!res.ok || !res.data || typeof res.data !== "object") return true; // signed out, or away: ask again
    if (res.data.failover !== true) {
      const badge = $("sw-instance");
      if (badge) badge.hidden = true;
      setReadOnly(false);
      return false;
    }
    showInstance(res.data);
    return true;
  }

  async function followInstance() {
    for (;;) {
      let again = true;
      try {
        again = await loadInstance();
      } catch (err) {
        again = true; // the server is unreachable: the status says so; ask again
      }
      if (!again) return;
      await new Promise((resolve) => setTimeout(resolve, INSTANCE_POLL_MS));
    }
  }

  // ------------------------------------------------------------------ SURPIC

  async function toggleSurpic(id, button) {
    const li = alertItems.get(id);
    const box = li && li.querySelector(".sw-surpic");
    if (!box) return;
    if (surpicOpen.has(id)) {
      surpicOpen.delete(id);
      box.replaceChildren();
      surpicLayer.clearLayers();
      return;
    }
    for (const other of Array.from(surpicOpen)) {
      surpicOpen.delete(other);
      const otherBox = alertItems.get(other) && alertItems.get(other).querySelector(".sw-surpic");
      if (otherBox) otherBox.replaceChildren();
    }
    surpicLayer.clearLayers();
    surpicOpen.add(id);
    box.replaceChildren(el("div", "sw-muted", "Looking for vessels nearby…"));
    button.disabled = true;
    let res;
    try {
      res = await api("/api/alerts/" + encodeURIComponent(id) + "/surpic?limit=10");
    } finally {
      button.disabled = false;
    }
    if (!surpicOpen.has(id)) return;
    if (!res.ok || !res.data) {
      box.replaceChildren(el("div", "sw-muted", "SURPIC unavailable: " + detailOf(res, "HTTP " + res.status)));
      return;
    }
    const pos = res.data.position || {};
    const list = Array.isArray(res.data.vessels) ? res.data.vessels : [];
    if (!list.length) {
      box.replaceChildren(el("div", "sw-muted", "No vessel nearby."));
      return;
    }
    const ol = el("ol", "sw-surpic-list");
    for (const s of list) {
      if (!s || typeof s !== "object") continue;
      const item = el("li");
      item.dataset.mmsi = str(s.mmsi);
      item.appendChild(el("span", "sw-surpic-name", str(s.name).trim() || "MMSI " + str(s.mmsi)));
      const reach = isNum(s.time_to_reach_s) ? duration(s.time_to_reach_s) : "too slow to reach";
      const turn = isNum(s.course_change_deg) ? ", turn " + s.course_change_deg.toFixed(0) + "°" : "";
      item.appendChild(
        el("div", null, fmt(s.distance_nm, 1, "nm") + " · " + reach + " at " + fmt(s.sog_kn, 1, "kn") + turn)
      );
      item.addEventListener("click", (e) => {
        e.stopPropagation();
        if (isNum(s.lat) && isNum(s.lon)) map.panTo([s.lat, s.lon]);
      });
      ol.appendChild(item);
      if (isNum(s.lat) && isNum(s.lon) && isNum(pos.lat) && isNum(pos.lon)) {
        L.polyline([[s.lat, s.lon], [pos.lat, pos.lon]], {
          color: "#1c7ed6", weight: 1.5, dashArray: "4 4", interactive: false,
        }).addTo(surpicLayer);
      }
    }
    box.replaceChildren(el("div", "sw-muted", "Vessels by time to reach (course change needed):"), ol);
  }

  // ------------------------------------------------------------------ report form

  function reportNumber(id) {
    const node = $(id);
    const raw = node ? node.value.trim() : "";
    return raw === "" ? null : Number(raw);
  }

  function submitReport(e) {
    e.preventDefault();
    if (needToken("post a report")) return;
    const lat = reportNumber("sw-report-lat");
    const lon = reportNumber("sw-report-lon");
    const pob = reportNumber("sw-report-pob");
    if (!isNum(lat) || lat < -90 || lat > 90 || !isNum(lon) || lon < -180 || lon > 180) {
      say("A report needs a position: latitude −90…90 and longitude −180…180 (click the map).", "error");
      return;
    }
    if (pob !== null && (!Number.isInteger(pob) || pob < 0)) {
      say("Persons on board must be a whole number.", "error");
      return;
    }
    const text = (id) => ($(id) ? $(id).value.trim() : "") || null;
    const body = {
      lat: lat,
      lon: lon,
      kind: $("sw-report-kind") ? $("sw-report-kind").value : "sighting",
      persons_on_board: pob,
      condition: text("sw-report-condition"),
      text: text("sw-report-text"),
    };
    const submit = $("sw-report-submit");
    if (submit) submit.disabled = true;
    background(
      (async () => {
        try {
          const res = await api("/api/reports", { method: "POST", body: body });
          if (!res.ok) {
            writeFailed(res, "post a report");
            return;
          }
          noteReceived(res.data);
          onAlertEvent(res.data, true);
          say("Report posted: " + str(res.data && res.data.summary), "ok");
          for (const id of ["sw-report-pob", "sw-report-condition", "sw-report-text"]) if ($(id)) $(id).value = "";
        } finally {
          if (submit) submit.disabled = false;
        }
      })()
    );
  }

  map.on("click", (e) => {
    clearSelection();
    const details = $("sw-report");
    if (!details || !details.open) return;
    if ($("sw-report-lat")) $("sw-report-lat").value = e.latlng.lat.toFixed(5);
    if ($("sw-report-lon")) $("sw-report-lon").value = L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(5);
  });

  // ------------------------------------------------------------------ the event stream

  let streamController = null;
  let wakeStream = null; // resolves the stream's back-off wait early (after signing in)

  function sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeStream = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** A minimal server-sent events parser (WHATWG rules: lines, "field: value", blank line ends an event). */
  function sseParser(onEvent) {
    let buffer = "";
    let type = "";
    let data = [];
    return (chunk) => {
      buffer += chunk;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        if (m[0] === "\r" && m.index === buffer.length - 1) break; // may be half of "\r\n"
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === "") {
          if (data.length) onEvent(type || "message", data.join("\n"));
          type = "";
          data = [];
          continue;
        }
        if (line[0] === ":") continue; // comment (keep-alive)
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value[0] === " ") value = value.slice(1);
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
    };
  }

  function onStreamEvent(type, data) {
    if (type === "alert") {
      let ev = null;
      try {
        ev = JSON.parse(data);
      } catch (e) {
        return;
      }
      noteReceived(ev);
      onAlertEvent(ev, true);
      requestVessels(false); // risk colours follow the alerts
    } else if (type === "vessels") {
      let msg = null;
      try {
        msg = JSON.parse(data);
      } catch (e) {
        msg = null;
      }
      const at = Date.parse(str(msg && msg.at));
      if (Number.isFinite(at)) serverOffsetMs = at - Date.now();
      if (Date.now() - lastClockFetch > 10000) background(loadClocks());
      requestVessels(false);
      if (selectedMmsi !== null) background(loadTrack(selectedMmsi, false));
    }
  }

  async function runStream() {
    let delay = 1000;
    for (;;) {
      const controller = new AbortController();
      streamController = controller;
      let connected = false;
      try {
        const headers = { Accept: "text/event-stream" };
        const token = getToken();
        if (token) headers.Authorization = "Bearer " + token;
        const response = await fetch("/api/stream", { headers: headers, cache: "no-store", signal: controller.signal });
        if (response.status === 401) {
          setStatus("auth", "sign-in needed");
          say("This map needs an access token: enter it in the box above.", "error");
          await sleep(30000);
          continue;
        }
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const feed = sseParser(onStreamEvent);
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (!connected) {
            // The server subscribes us before its first bytes: from here on nothing is missed,
            // so whatever happened before (or while away) is read afresh now.
            connected = true;
            delay = 1000;
            setStatus("live", "live");
            background(loadAlerts());
            requestVessels(true);
          }
          feed(decoder.decode(value, { stream: true }));
        }
      } catch (err) {
        // network error or abort (sign-in, page unload): reconnect below
      } finally {
        if (streamController === controller) streamController = null;
      }
      if (controller.signal.aborted) continue; // restarted on purpose: reconnect at once
      setStatus("offline", connected ? "reconnecting…" : "server unreachable");
      await sleep(delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    }
  }

  function restartStream() {
    if (streamController) streamController.abort();
    if (wakeStream) wakeStream();
  }

  // ------------------------------------------------------------------ search, track, history (panels.js)

  const noPanels = { setTrack: () => {}, toggleDetails: () => {} };
  const panels = window.SeawatchPanels
    ? window.SeawatchPanels.attach({
        map: map,
        zonesLayer: zonesLayer,
        trackLayer: trackLayer,
        el: el,
        api: api,
        background: background,
        duration: duration,
        fmtTime: fmtTime,
        timesLine: timesLine,
        sevClass: sevClass,
        vesselLine: vesselLine,
        feedNow: feedNow,
        noteClocks: noteClocks,
        focusVessel: focusVessel,
        clearSelection: clearSelection,
      })
    : noPanels;

  // ------------------------------------------------------------------ attention: sound and notifications

  const noAlarm = { enable: () => false, disable: () => {}, update: () => {}, mute: () => {}, enabled: () => false,
    sounding: () => false, state: () => "none" };
  const alarm = window.SeawatchAlarm ? window.SeawatchAlarm.create(showAlarmState) : noAlarm;
  const notifier = window.SeawatchAlarm ? window.SeawatchAlarm.notifier() : null;

  /** Real critical alerts nobody has acknowledged: what the alarm sounds for. */
  function alarmIds() {
    const ids = [];
    for (const ev of alerts.values()) if (ev.severity === "critical" && ev.status === "open" && ev.test !== true) ids.push(ev.id);
    return ids;
  }

  function showAlarmState() {
    const sound = $("sw-sound");
    const mute = $("sw-mute");
    const state = $("sw-alarm-state");
    const on = alarm.enabled();
    if (sound) {
      sound.textContent = on ? "Sound on" : "Enable sound";
      sound.setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (mute) mute.hidden = !alarm.sounding();
    if (state) {
      state.dataset.state = alarm.sounding() ? "sounding" : on ? "armed" : "off";
      state.textContent = alarm.sounding() ? "ALARM: critical alert not acknowledged" : on ? "alarm armed" : "";
    }
  }

  const soundButton = $("sw-sound");
  if (soundButton) {
    soundButton.addEventListener("click", () => {
      if (alarm.enabled()) alarm.disable();
      else if (!alarm.enable()) say("This browser cannot play sound (no WebAudio).", "error");
      else alarm.update(alarmIds());
    });
  }
  const muteButton = $("sw-mute");
  if (muteButton) muteButton.addEventListener("click", () => alarm.mute());
  const notifyButton = $("sw-notify");
  if (notifyButton) {
    if (!notifier || !notifier.supported()) notifyButton.hidden = true;
    notifyButton.addEventListener("click", () => {
      background(
        notifier.request().then((granted) => {
          notifyButton.textContent = granted ? "Notifications on" : "Desktop notifications";
          if (!granted) say("Desktop notifications were not allowed by the browser.", "info");
        })
      );
    });
  }

  // ------------------------------------------------------------------ start

  const loginForm = $("sw-login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const box = $("sw-token");
      const token = box ? box.value.trim() : "";
      if (box) box.value = "";
      if (!token) return;
      setToken(token);
      say("Signed in for this tab.", "ok");
      restartStream();
    });
  }
  const logout = $("sw-logout");
  if (logout) {
    logout.addEventListener("click", () => {
      setToken("");
      say("Signed out.", "info");
    });
  }
  const reportForm = $("sw-report-form");
  if (reportForm) reportForm.addEventListener("submit", submitReport);

  // Ages in the panel ("5 s ago") and the clock move on without events.
  function tick() {
    for (const [id, li] of alertItems) {
      const ev = alerts.get(id);
      if (ev) li.querySelector(".sw-age").textContent = alertAge(ev);
    }
    const clock = $("sw-clock");
    if (clock) clock.textContent = "Now " + fmtMs(serverNow());
  }
  setInterval(tick, 5000);

  // A hook for tests and for the curious (read-only views of the page's state).
  window.seawatch = {
    map: map,
    vesselCount: () => vessels.size,
    hasVessel: (mmsi) => vessels.has(Number(mmsi)),
    vesselMode: () => vesselMode,
    alertIds: () => Array.from(alerts.values()).sort(compareAlerts).map((a) => a.id),
    selectVessel: (mmsi) => selectVessel(Number(mmsi)),
    landState: () => (land ? land.state() : "none"),
    landTiles: () => (land ? land.tiles() : 0),
    audioState: () => alarm.state(),
    alarmSounding: () => alarm.sounding(),
    selectedVessel: () => selectedMmsi,
    readOnly: () => readOnly,
  };

  updateLogin();
  updateTitle();
  tick();
  // Load at once (the stream loads again when it connects: a proxy may hold its first bytes back).
  background(loadAlerts());
  requestVessels(true);
  background(runStream());
  background(followInstance());
})();
