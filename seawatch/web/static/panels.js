/* Seawatch live map: find a vessel, its track with a time slider, the alert history and each alert's
 * timeline and evidence.
 *
 * map.js calls SeawatchPanels.attach(ctx) with what these need from it (the API helper, time
 * formatting, vessel selection). Everything from AIS or from operators (names, call signs, summaries,
 * notes, evidence values) is put on the page with textContent only.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const str = (v) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
  const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
  const EVENT_WORDS = {
    "alert.opened": "opened",
    "alert.updated": "updated",
    "alert.acknowledged": "acknowledged",
    "alert.resolved": "resolved",
    "alert.retracted": "retracted",
  };

  function attach(ctx) {
    const el = ctx.el;
    const map = ctx.map;

    // ---------------------------------------------------------------- evidence and timeline

    /** "drift_rate_kn" -> ["drift rate", "kn"]; the unit from the name's suffix, as Seawatch names them. */
    function label(key) {
      const units = { _m: "m", _km: "km", _nm: "nm", _kn: "kn", _deg: "°", _s: "s", _pct: "%" };
      for (const suffix of Object.keys(units)) {
        if (key.endsWith(suffix)) return [key.slice(0, -suffix.length).replace(/_/g, " "), units[suffix]];
      }
      return [key.replace(/_/g, " "), ""];
    }

    function value(v, unit, depth) {
      if (v === null || v === undefined || v === "") return document.createTextNode("–");
      if (unit === "s" && isNum(v)) return document.createTextNode(ctx.duration(v) + " (" + Math.round(v) + " s)");
      if (isNum(v)) {
        const text = Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
        return document.createTextNode(text + (unit ? " " + unit : ""));
      }
      if (typeof v === "boolean") return document.createTextNode(v ? "yes" : "no");
      if (typeof v === "string") return document.createTextNode(ISO_TIME.test(v) ? ctx.fmtTime(v) : v);
      if (Array.isArray(v)) {
        if (v.every((x) => x === null || typeof x !== "object")) {
          return document.createTextNode(v.map((x) => str(x)).join(", ") || "–");
        }
        if (depth >= 2) return document.createTextNode(v.length + " items");
        const list = el("ol", "sw-ev-list");
        for (const item of v.slice(0, 20)) list.appendChild(el("li")).appendChild(value(item, "", depth + 1));
        if (v.length > 20) list.appendChild(el("li", "sw-muted", "… " + (v.length - 20) + " more"));
        return list;
      }
      if (typeof v === "object") {
        if (depth >= 2) return document.createTextNode(Object.keys(v).length + " fields");
        return table(v, depth + 1);
      }
      return document.createTextNode(str(v));
    }

    /** An alert's evidence as a table: one row a figure, with its unit; nested figures as nested tables. */
    function table(evidence, depth) {
      const t = el("table", "sw-evidence");
      const body = el("tbody");
      for (const key of Object.keys(evidence || {})) {
        if (key === "search_area" && evidence[key] && typeof evidence[key] === "object") {
          const areas = Array.isArray(evidence[key].areas) ? evidence[key].areas.length : 0;
          const tr = body.appendChild(el("tr"));
          tr.appendChild(el("th", null, "search area"));
          tr.appendChild(el("td", null, str(evidence[key].model) + ", " + areas + " areas (drawn on the map by partners' tools)"));
          continue;
        }
        const [name, unit] = label(key);
        const tr = body.appendChild(el("tr"));
        tr.dataset.key = key;
        tr.appendChild(el("th", null, name));
        tr.appendChild(el("td")).appendChild(value(evidence[key], unit, depth || 0));
      }
      t.appendChild(body);
      return t;
    }

    function timelineItem(ev, receivedIso) {
      const li = el("li", "sw-tl-item");
      li.dataset.event = str(ev.event);
      const what = EVENT_WORDS[ev.event] || str(ev.event);
      const head = el("div", "sw-tl-head");
      head.appendChild(el("span", "sw-tl-event", what));
      if (ev.by) head.appendChild(el("span", "sw-tl-by", "by " + str(ev.by)));
      head.appendChild(el("span", "sw-tl-sev", str(ev.severity) + " · " + str(ev.status)));
      li.appendChild(head);
      li.appendChild(el("div", "sw-tl-time", ctx.timesLine(ev.observed_at, receivedIso)));
      const evidence = ev.evidence && typeof ev.evidence === "object" ? ev.evidence : {};
      if (evidence.assigned_to && ev.event === "alert.updated" && ev.by) {
        li.appendChild(el("div", "sw-tl-note", "assigned to " + str(evidence.assigned_to)));
      }
      if (evidence.resolution) li.appendChild(el("div", "sw-tl-note", "why: " + str(evidence.resolution)));
      if (ev.note) li.appendChild(el("div", "sw-tl-note", "note: " + str(ev.note)));
      return li;
    }

    /** Fill ``box`` with the alert's timeline (events and operator actions, by whom) and its evidence. */
    async function showDetails(box, id) {
      box.replaceChildren(el("div", "sw-muted", "Loading the timeline…"));
      const [res, times] = await Promise.all([
        ctx.api("/api/alerts/" + encodeURIComponent(id)),
        ctx.api("/api/alerts/" + encodeURIComponent(id) + "/received"),
      ]);
      if (!res.ok || !res.data || !res.data.alert) {
        box.replaceChildren(el("div", "sw-muted", "Timeline unavailable (HTTP " + res.status + ")."));
        return;
      }
      const received = times.ok && times.data && times.data.events ? times.data.events : {};
      const history = Array.isArray(res.data.history) && res.data.history.length ? res.data.history : [res.data.alert];
      const tl = el("ol", "sw-timeline");
      for (const ev of history) if (ev && typeof ev === "object") tl.appendChild(timelineItem(ev, received[String(ev.sequence)]));
      const latest = res.data.alert;
      box.replaceChildren(
        el("div", "sw-details-title", "Timeline"),
        tl,
        el("div", "sw-details-title", "Evidence"),
        table(latest.evidence && typeof latest.evidence === "object" ? latest.evidence : {}, 0)
      );
    }

    function toggleDetails(box, id) {
      if (box.dataset.open === "1") {
        box.dataset.open = "";
        box.replaceChildren();
        return;
      }
      box.dataset.open = "1";
      ctx.background(showDetails(box, id));
    }

    // ---------------------------------------------------------------- search

    let searchSerial = 0;

    async function search(text) {
      const mine = ++searchSerial;
      const list = $("sw-search-results");
      const q = text.trim();
      if (!q) {
        list.replaceChildren();
        return;
      }
      const res = await ctx.api("/api/search?limit=20&q=" + encodeURIComponent(q));
      if (mine !== searchSerial) return; // a newer search is on its way
      if (!res.ok || !res.data || !Array.isArray(res.data.vessels)) {
        list.replaceChildren(el("li", "sw-muted", "Search failed (HTTP " + res.status + ")."));
        return;
      }
      if (!res.data.vessels.length) {
        list.replaceChildren(el("li", "sw-muted", "No vessel matches “" + q + "”."));
        return;
      }
      list.replaceChildren();
      for (const v of res.data.vessels) {
        if (!v || !isNum(v.mmsi)) continue;
        const li = el("li", "sw-search-result");
        li.dataset.mmsi = String(v.mmsi);
        li.tabIndex = 0;
        li.appendChild(el("span", "sw-search-name", str(v.name).trim() || "(no name)"));
        const ids = ["MMSI " + v.mmsi];
        if (v.callsign) ids.push("call sign " + str(v.callsign));
        if (v.imo) ids.push("IMO " + str(v.imo));
        li.appendChild(el("div", "sw-muted", ids.join(" · ")));
        li.appendChild(el("div", "sw-muted", "last heard " + ctx.fmtTime(v.last_seen)));
        const go = () => {
          for (const other of list.children) other.classList.toggle("sw-selected", other === li);
          ctx.focusVessel(v.mmsi, v.lat, v.lon);
        };
        li.addEventListener("click", go);
        li.addEventListener("keydown", (e) => {
          if (e.key === "Enter") go();
        });
        list.appendChild(li);
      }
    }

    const form = $("sw-search-form");
    const input = $("sw-search-input");
    let typing = null;
    if (form && input) {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.background(search(input.value));
      });
      input.addEventListener("input", () => {
        if (typing) clearTimeout(typing);
        typing = setTimeout(() => ctx.background(search(input.value)), 300);
      });
    }

    // ---------------------------------------------------------------- track and time slider

    const trackLayer = ctx.trackLayer;
    let track = null; // {mmsi, name, points: [{t, latlng, sog, cog}]}
    let cursor = null;

    function hoursWindow() {
      const node = $("sw-track-hours");
      const h = node ? Number(node.value) : 6;
      return Number.isFinite(h) && h > 0 ? h : 0;
    }

    function windowed() {
      if (!track || !track.points.length) return [];
      const hours = hoursWindow();
      if (!hours) return track.points;
      const end = track.points[track.points.length - 1].t;
      return track.points.filter((p) => p.t >= end - hours * 3600 * 1000);
    }

    function drawTrack(keepSlider) {
      trackLayer.clearLayers();
      cursor = null;
      const box = $("sw-track");
      const points = windowed();
      if (!track || !points.length) {
        if (box) box.hidden = true;
        return;
      }
      const latlngs = points.map((p) => p.latlng);
      L.polyline(latlngs, { color: "#1864ab", weight: 2.5, opacity: 0.85, interactive: false }).addTo(trackLayer);
      L.circleMarker(latlngs[0], { radius: 3, color: "#1864ab", fillOpacity: 1, interactive: false }).addTo(trackLayer);
      cursor = L.circleMarker(latlngs[latlngs.length - 1], {
        radius: 7, color: "#fff", weight: 2, fillColor: "#1864ab", fillOpacity: 1, interactive: false,
      }).addTo(trackLayer);
      const slider = $("sw-track-slider");
      if (box) box.hidden = false;
      $("sw-track-name").textContent = track.name;
      if (slider) {
        const last = points.length - 1;
        const at = keepSlider && Number(slider.value) < last && slider.dataset.moved === "1" ? Number(slider.value) : last;
        slider.max = String(last);
        slider.value = String(at);
        if (at === last) slider.dataset.moved = "";
        moveCursor();
      }
    }

    function moveCursor() {
      const points = windowed();
      const slider = $("sw-track-slider");
      if (!points.length || !slider || !cursor) return;
      const i = Math.max(0, Math.min(points.length - 1, Number(slider.value) || 0));
      const p = points[i];
      cursor.setLatLng(p.latlng);
      const speed = isNum(p.sog) ? ", " + p.sog.toFixed(1) + " kn" : "";
      $("sw-track-time").textContent =
        "Fix " + (i + 1) + " of " + points.length + ": " + ctx.fmtTime(new Date(p.t).toISOString()) + speed;
      slider.dataset.time = new Date(p.t).toISOString();
    }

    const slider = $("sw-track-slider");
    if (slider) {
      slider.addEventListener("input", () => {
        slider.dataset.moved = "1";
        moveCursor();
      });
    }
    const hours = $("sw-track-hours");
    if (hours) hours.addEventListener("change", () => drawTrack(false));
    const close = $("sw-track-close");
    if (close) close.addEventListener("click", () => ctx.clearSelection());

    /** The selected vessel's track (from /api/vessels/{mmsi}), or null when nothing is selected. */
    function setTrack(mmsi, name, raw) {
      if (mmsi === null) {
        track = null;
        drawTrack(false);
        return;
      }
      const same = track && track.mmsi === mmsi;
      const points = [];
      for (const pt of Array.isArray(raw) ? raw : []) {
        if (!Array.isArray(pt) || !isNum(pt[0]) || !isNum(pt[1])) continue;
        const t = Date.parse(str(pt[2]));
        if (!Number.isFinite(t)) continue;
        points.push({ t: t, latlng: L.latLng(pt[1], pt[0]), sog: pt[3], cog: pt[4] });
      }
      points.sort((a, b) => a.t - b.t);
      track = { mmsi: mmsi, name: name, points: points };
      drawTrack(same);
    }

    // ---------------------------------------------------------------- history

    function fillZones() {
      const select = $("sw-h-zone");
      if (!select || !ctx.zonesLayer) return;
      const seen = new Map();
      ctx.zonesLayer.eachLayer((layer) => {
        const p = (layer.feature && layer.feature.properties) || {};
        if (p.kind === "risk" || p.kind === "disembarkation") seen.set(str(p.id), str(p.name || p.id));
      });
      for (const [id, name] of Array.from(seen).sort((a, b) => (a[1] < b[1] ? -1 : 1))) {
        const option = el("option", null, name);
        option.value = id;
        select.appendChild(option);
      }
    }

    function historyItem(ev, received) {
      const li = el("li", "sw-h-item sev-" + ctx.sevClass(ev.severity));
      li.dataset.alertId = str(ev.id);
      li.dataset.status = str(ev.status);
      li.dataset.kind = str(ev.kind);
      const head = el("div", "sw-alert-head");
      head.append(
        el("span", "sw-sev", str(ev.severity)),
        el("span", "sw-kind", str(ev.kind).replace(/_/g, " ")),
        el("span", "sw-state", str(ev.status) + (ev.test === true ? " · TEST" : "")),
      );
      li.appendChild(head);
      const vessel = ctx.vesselLine(ev);
      if (vessel) li.appendChild(el("div", "sw-alert-vessel", vessel));
      li.appendChild(el("div", "sw-alert-summary", str(ev.summary)));
      li.appendChild(el("div", "sw-alert-meta", ctx.timesLine(ev.observed_at, received && received.last)));
      const button = el("button", "sw-details-button", "Timeline and evidence");
      button.type = "button";
      const box = el("div", "sw-details");
      button.addEventListener("click", (e) => {
        e.stopPropagation();
        toggleDetails(box, str(ev.id));
      });
      li.append(button, box);
      li.addEventListener("click", () => {
        if (isNum(ev.lat) && isNum(ev.lon)) map.setView([ev.lat, ev.lon], Math.max(map.getZoom(), 8), { animate: false });
      });
      return li;
    }

    async function loadHistory() {
      const status = $("sw-h-status").value;
      const kind = $("sw-h-kind").value;
      const severity = $("sw-h-severity").value;
      const zone = $("sw-h-zone").value;
      const test = $("sw-h-test").value;
      const since = Number($("sw-h-since").value);
      const url = "/api/alerts?limit=500&status=" + encodeURIComponent(status) + (kind ? "&kind=" + encodeURIComponent(kind) : "");
      const [res, received] = await Promise.all([ctx.api(url), ctx.api("/api/received")]);
      const list = $("sw-h-list");
      const summary = $("sw-h-summary");
      if (!res.ok || !res.data || !Array.isArray(res.data.alerts)) {
        summary.textContent = "History unavailable (HTTP " + res.status + ").";
        list.replaceChildren();
        return;
      }
      const times = received.ok && received.data && received.data.alerts ? received.data.alerts : {};
      ctx.noteClocks(received.ok ? received.data : null);
      const cutoff = since > 0 ? ctx.feedNow() - since * 1000 : -Infinity;
      const shown = res.data.alerts.filter((ev) => {
        if (!ev || typeof ev !== "object") return false;
        if (severity && ev.severity !== severity) return false;
        if (test === "real" && ev.test === true) return false;
        if (test === "test" && ev.test !== true) return false;
        if (zone && !(Array.isArray(ev.zones) ? ev.zones : [ev.zone]).some((z) => z && z.id === zone)) return false;
        const t = Date.parse(str(ev.observed_at));
        return !Number.isFinite(t) || t >= cutoff;
      });
      shown.sort((a, b) => (Date.parse(str(b.observed_at)) || 0) - (Date.parse(str(a.observed_at)) || 0));
      list.replaceChildren(...shown.map((ev) => historyItem(ev, times[ev.id])));
      summary.textContent = shown.length + " of " + res.data.alerts.length + " alerts match.";
    }

    const historyForm = $("sw-history-form");
    if (historyForm) {
      historyForm.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.background(loadHistory());
      });
    }
    const historyBox = $("sw-history");
    if (historyBox) {
      historyBox.addEventListener("toggle", () => {
        if (historyBox.open) ctx.background(loadHistory());
      });
    }
    fillZones();

    return { toggleDetails: toggleDetails, setTrack: setTrack, evidenceTable: table, search: search };
  }

  window.SeawatchPanels = { attach: attach };
})();
