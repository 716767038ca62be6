/* Seawatch live map: land, drawn offline from the coastline files Seawatch serves itself.
 *
 * scripts/build_land.py cuts the GSHHG coastline into bands of zoom levels (coarser when zoomed
 * out) and tiles (so a zoomed-in page fetches only what is in view); static/land/manifest.json
 * lists them. Land is filled on its own canvas pane below the zones and any configured tile layer
 * (which, when there is one, covers it: tiles stay an option on top). The polygons are not
 * interactive: a click on land is a click on the map (it fills a report's position).
 *
 * Tile format: {"q": SCALE, "p": [polygon, ...]}, a polygon a list of rings, a ring a flat list of
 * integers: the first vertex (lon, lat) times SCALE, then the differences from the vertex before.
 */
(function () {
  "use strict";

  const LAND_COLOUR = "#ece6d6";

  function decodeRing(flat, scale) {
    const out = [];
    let x = 0;
    let y = 0;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      x += flat[i];
      y += flat[i + 1];
      out.push([y / scale, x / scale]);
    }
    return out;
  }

  /** A tile's polygons as Leaflet multipolygon lat/lngs, or [] for anything malformed. */
  function decodeTile(doc) {
    const scale = doc && Number(doc.q) > 0 ? Number(doc.q) : 0;
    const polygons = doc && Array.isArray(doc.p) ? doc.p : [];
    const out = [];
    if (!scale) return out;
    for (const polygon of polygons) {
      if (!Array.isArray(polygon)) continue;
      const rings = [];
      for (const ring of polygon) if (Array.isArray(ring) && ring.length >= 6) rings.push(decodeRing(ring, scale));
      if (rings.length) out.push(rings);
    }
    return out;
  }

  /**
   * Draw land on ``map`` from the manifest at ``url``. Returns a handle whose ``state()`` says
   * how far it got ("loading", "ready", "failed") and ``tiles()`` how many tiles are drawn.
   */
  function attach(map, url) {
    const pane = map.createPane("swLand");
    pane.style.zIndex = 150; // below the tile pane (200): a configured base map covers it
    pane.style.pointerEvents = "none";
    const renderer = L.canvas({ pane: "swLand", padding: 0.3 });
    const group = L.layerGroup().addTo(map);
    const base = url.replace(/[^/]*$/, "");
    const loaded = new Map(); // "band/tile" -> Promise<L.Polygon | null>
    const shown = new Map(); // "band/tile" -> L.Polygon on the map
    let manifest = null;
    let state = "loading";
    let generation = 0;

    function bandFor(zoom) {
      let chosen = null;
      for (const band of manifest.bands) if (zoom >= band.min_zoom) chosen = band;
      return chosen;
    }

    function load(band, tile) {
      const key = band.name + "/" + tile[0] + "_" + tile[1];
      if (!loaded.has(key)) {
        const path = base + band.name + "/" + tile[0] + "_" + tile[1] + ".json?v=" + encodeURIComponent(manifest.version);
        const promise = fetch(path, { cache: "force-cache" })
          .then((r) => (r.ok ? r.json() : null))
          .then((doc) => {
            const polygons = decodeTile(doc);
            if (!polygons.length) return null;
            return L.polygon(polygons, {
              renderer: renderer,
              stroke: false,
              fillColor: LAND_COLOUR,
              fillOpacity: 1,
              interactive: false,
            });
          })
          .catch(() => {
            loaded.delete(key); // try again on the next move
            return null;
          });
        loaded.set(key, promise);
      }
      return [key, loaded.get(key)];
    }

    function update() {
      if (!manifest) return;
      const band = bandFor(map.getZoom());
      if (!band) return;
      const view = map.getBounds().pad(0.25);
      const size = Number(band.tile_deg);
      const wanted = [];
      for (const tile of band.tiles) {
        const w = tile[0];
        const s = tile[1];
        if (w > view.getEast() || w + size < view.getWest() || s > view.getNorth() || s + size < view.getSouth()) continue;
        wanted.push(load(band, tile));
      }
      const mine = ++generation;
      Promise.all(wanted.map((pair) => pair[1])).then((layers) => {
        if (mine !== generation) return; // the view moved on meanwhile: its own update draws
        const keep = new Set();
        wanted.forEach((pair, i) => {
          const layer = layers[i];
          if (!layer) return;
          keep.add(pair[0]);
          if (!shown.has(pair[0])) {
            shown.set(pair[0], layer);
            group.addLayer(layer);
          }
        });
        for (const [key, layer] of Array.from(shown)) {
          if (!keep.has(key)) {
            group.removeLayer(layer);
            shown.delete(key);
          }
        }
        state = "ready";
        pane.dataset.state = "ready";
        pane.dataset.band = band.name;
      });
    }

    fetch(url, { cache: "no-cache" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then((doc) => {
        if (!doc || !Array.isArray(doc.bands)) throw new Error("no bands");
        manifest = doc;
        update();
      })
      .catch(() => {
        state = "failed"; // the map works without land: the sea is a plain background
        pane.dataset.state = "failed";
      });
    map.on("moveend", update);

    return {
      layer: group,
      state: () => state,
      tiles: () => shown.size,
    };
  }

  window.SeawatchLand = { attach: attach };
})();
