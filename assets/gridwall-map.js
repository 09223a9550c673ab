/* The live map layer: every collector and vehicle is one canvas circle marker, created once and
 * then moved in place. An update never clears the layer, never re-creates the map and never
 * touches the viewport (the peers' flicker and reset complaints, docs/peers.md §3). */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var MAP_ID = "gw-map";

  var COLORS = {
    collector: "#35d0ff",
    enforcement: "#ffd34d",
    muck_truck: "#ff8a3d",
    sanitation: "#7dff8a",
    vehicle: "#c9a7ff"
  };

  var BASE = {
    land: {fillColor: "#0b1a2e", fillOpacity: 1, stroke: false},
    block: {fillColor: "#10233c", fillOpacity: 1, stroke: false},
    park: {fillColor: "#0f3a2c", fillOpacity: 1, stroke: false},
    water: {fillColor: "#0d3b66", fillOpacity: 1, color: "#0d3b66", weight: 2},
    road_major: {color: "#2b4f7a", weight: 5, opacity: 1},
    road_minor: {color: "#1d3a5c", weight: 2, opacity: 1}
  };

  gw.map = {
    instance: null,
    // Basemap points are place labels (district, river, park names): text, not pins.
    basemapLabel: function (feature, latlng) {
      var p = feature.properties || {};
      var lang = (document.getElementById("gw-canvas") || {getAttribute: function () { return "zh"; }}).getAttribute("data-lang");
      var name = (lang === "en" ? p.name_en : p.name_zh) || p.name_zh || "";
      return L.marker(latlng, {interactive: false, keyboard: false, pane: "gw-labels",
        icon: L.divIcon({className: "gw-label gw-label-" + (p.kind || "place"), html: name, iconSize: null})});
    },
    basemapStyle: function (feature) {
      var p = (feature && feature.properties) || {};
      return BASE[p.layer] || {color: "#1d3a5c", weight: 1, fillOpacity: 0.2};
    },
    boundaryStyle: function () {
      return {color: "#4fa3ff", weight: 2, dashArray: "6 6", fill: false, opacity: 0.8};
    }
  };

  function colorOf(d) { return COLORS[d.subtype] || COLORS[d.kind] || "#cccccc"; }

  var live = (gw.live = {
    markers: new Map(),   // device id -> L.CircleMarker
    docs: new Map(),      // device id -> latest doc (kept while the map is not ready yet)
    version: null,
    updates: 0,
    lastApplyMs: 0,
    renderer: null,
    layer: null
  });

  function attach(map) {
    gw.map.instance = map;
    // Own panes so the order never depends on which layer loaded first: the basemap's SVG
    // (overlayPane, z 400) under the live canvas (450) under the labels (460).
    map.createPane("gw-live").style.zIndex = 450;
    map.createPane("gw-labels").style.zIndex = 460;
    map.getPane("gw-labels").style.pointerEvents = "none";
    live.renderer = L.canvas({padding: 0.3, pane: "gw-live"});
    live.layer = L.layerGroup().addTo(map);
    live.docs.forEach(function (d) { place(d); });
  }

  // Leaflet's own plugin hook: runs for every map dash-leaflet creates, so we get the instance
  // without reaching into React.
  if (window.L && L.Map) {
    L.Map.addInitHook(function () {
      if (this.getContainer().id === MAP_ID) { attach(this); }
    });
  }

  function place(d) {
    if (!live.layer || typeof d.lat !== "number" || typeof d.lon !== "number") { return; }
    var m = live.markers.get(d.id);
    if (m) {
      m.setLatLng([d.lat, d.lon]);
      var c = colorOf(d);
      if (m.options.fillColor !== c) { m.setStyle({color: c, fillColor: c}); }
      return;
    }
    var col = colorOf(d);
    m = L.circleMarker([d.lat, d.lon], {renderer: live.renderer, radius: d.kind === "vehicle" ? 6 : 4,
      color: col, fillColor: col, fillOpacity: 0.9, weight: 1, interactive: false});
    m.addTo(live.layer);
    live.markers.set(d.id, m);
  }

  function upsert(d) { live.docs.set(d.id, d); place(d); }

  live.apply = function (raw) {
    if (!raw) { return window.dash_clientside.no_update; }
    var t0 = performance.now();
    var msg = typeof raw === "string" ? JSON.parse(raw) : raw;
    if (msg.full) {
      var keep = new Set();
      msg.full.forEach(function (d) { keep.add(d.id); upsert(d); });
      live.docs.forEach(function (_d, id) {
        if (!keep.has(id)) {
          live.docs.delete(id);
          var m = live.markers.get(id);
          if (m) { live.layer.removeLayer(m); live.markers.delete(id); }
        }
      });
    } else if (msg.deltas) {
      // Deltas are in version order; applying them in turn leaves the newest state of each.
      msg.deltas.forEach(function (delta) { (delta.devices || []).forEach(upsert); });
    }
    live.version = msg.v;
    live.updates += 1;
    live.lastApplyMs = performance.now() - t0;
    return msg.v;
  };
})();
