/* The live map's drawing: collectors and vehicles with their trails, open cases coloured by
 * their overdue light, pulsing video alerts, clusters past a configured count, and the district
 * and unit-grid boundaries. Configuration comes from the data-* attributes of #gw-map-box
 * (layouts/wall.py) and from the page's contract (the offline age, the vehicle subtypes).
 *
 * What is drawn lives in the live store (assets/gridwall-live.js: one object per id, updated in
 * place by the poll's deltas); projection in assets/gridwall-geometry.js; symbols in
 * assets/gridwall-map-symbols.js; the cluster grid in assets/gridwall-map-clusters.js. All of
 * them load before this file (alphabetical order).
 *
 * Everything that moves is drawn by one canvas renderer of our own (a subclass of Leaflet's
 * L.Canvas, so it follows pans and zoom animations like any vector layer): an update moves the
 * objects in place and redraws once. Nothing ever clears a layer, re-creates the map or touches
 * the viewport (a wall that flickers or jumps back to its start view on every update is what
 * operators complain about most). Video alerts are a few DOM markers whose pulse is a CSS
 * animation. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  gw.map = gw.map || {instance: null};
  var MAP_ID = "gw-map";
  var geo = gw.geo, live = gw.live, store = gw.store, symbols = gw.symbols;
  var cfg = live.config;
  var LIGHT = store.LIGHT;
  var PI = Math.PI;
  var LL = {lat: 0, lon: 0};

  function readConfig(container) {
    var box = container && container.closest ? container.closest("#gw-map-box") : null;
    var next = {};
    var contract = gw.contract();
    if (typeof contract.offline_after_s === "number") { next.offlineAfterS = contract.offline_after_s; }
    if (contract.vehicle_subtypes) { next.subtypes = contract.vehicle_subtypes; }
    if (box) {
      next.layers = (box.getAttribute("data-layers") || "").split(",");
      var n = parseInt(box.getAttribute("data-cluster-above"), 10);
      if (!isNaN(n)) { next.clusterAbove = n; }
      n = parseInt(box.getAttribute("data-trail-points"), 10);
      if (!isNaN(n)) { next.trailPoints = Math.max(0, n); }
      n = parseInt(box.getAttribute("data-grids-min-zoom"), 10);
      if (!isNaN(n)) { next.gridsMinZoom = n; }
      next.shift = box.getAttribute("data-shift") || "";
    }
    live.configure(next);
  }

  // WGS-84 -> what the map draws (shifted to GCJ-02 under GCJ-02 tiles).
  function toLatLng(coords) {  // GeoJSON [lon, lat]
    geo.shiftInto(coords[1], coords[0], cfg.shift, LL);
    return new L.LatLng(LL.lat, LL.lon);
  }
  function displayLatLng(lat, lon) {
    geo.shiftInto(lat, lon, cfg.shift, LL);
    return new L.LatLng(LL.lat, LL.lon);
  }

  // --- video alerts: DOM markers, placed through the store's hooks -------------------------------
  var SEVERITY_PX = {detection: 32, alert: 36, critical: 48};
  var icons = {};
  function alertIcon(sev) {
    if (!icons[sev]) {
      var s = SEVERITY_PX[sev] || SEVERITY_PX.detection;
      icons[sev] = L.divIcon({className: "gw-alert gw-alert-" + sev, iconSize: [s, s],
        html: '<span class="gw-alert-ring"></span><span class="gw-alert-ring gw-alert-ring2"></span><span class="gw-alert-dot"></span>'});
    }
    return icons[sev];
  }
  function placeAlert(a) {
    if (!alertLayer || !cfg.layers.alerts) { return; }
    if (!(isFinite(a.lat) && isFinite(a.lon))) {
      if (a.marker) { alertLayer.removeLayer(a.marker); a.marker = null; }
      return;
    }
    var p = displayLatLng(a.lat, a.lon);
    if (!a.marker) {
      a.marker = L.marker(p, {icon: alertIcon(a.sev), pane: "gw-alerts", interactive: false, keyboard: false});
      a.shownSev = a.sev;
      alertLayer.addLayer(a.marker);
      tagAlert(a);
      return;
    }
    var cur = a.marker.getLatLng();
    if (cur.lat !== p.lat || cur.lng !== p.lng) { a.marker.setLatLng(p); }
    if (a.shownSev !== a.sev) { a.marker.setIcon(alertIcon(a.sev)); a.shownSev = a.sev; tagAlert(a); }
  }
  function tagAlert(a) {
    var el = a.marker && a.marker.getElement();
    if (el) { el.setAttribute("data-alert-id", String(a.id)); }
  }
  function removeAlertMarker(a) {
    if (a.marker && alertLayer) { alertLayer.removeLayer(a.marker); }
  }

  var clusterDirty = true, clusterZoom = null;
  live.hooks.alert = placeAlert;
  live.hooks.alertGone = removeAlertMarker;
  // apply() redraws synchronously, so lastApplyMs is parse + update + redraw.
  live.hooks.applied = function () { clusterDirty = true; frame(); };

  live.redraw = function () { clusterDirty = true; frame(); };
  // The live canvas's RGBA at a WGS-84 place (shifted like everything else, unless raw), plus an
  // offset in screen px: for tests and for looking at a wall from a console.
  var TMP = {mx: 0, my: 0};
  live.pixelAt = function (lat, lon, dx, dy, raw) {
    var r = renderer;
    if (!r || !r._ctx || !r._bounds || !r._origin) { return null; }
    geo.project(lat, lon, raw ? "" : cfg.shift, TMP);
    var S = 256 * Math.pow(2, r._zoom), m = r._ratio;
    var x = Math.round((TMP.mx * S - r._origin.x - r._bounds.min.x + (dx || 0)) * m);
    var y = Math.round((TMP.my * S - r._origin.y - r._bounds.min.y + (dy || 0)) * m);
    if (x < 0 || y < 0 || x >= r._container.width || y >= r._container.height) { return null; }
    return Array.prototype.slice.call(r._ctx.getImageData(x, y, 1, 1).data);
  };

  // --- the map -----------------------------------------------------------------------------------
  var map = null, renderer = null, alertLayer = null;
  var overlays = {districts: null, grids: null};

  function pixelRatio() {
    // Draw at the wall's real resolution: the 1920×1080 design canvas is CSS-scaled to the screen.
    return Math.min(3, Math.max(1, (window.devicePixelRatio || 1) * (gw.scale || 1)));
  }

  function makeRenderer() {
    var Live = L.Canvas.extend({
      _initContainer: function () {
        var c = (this._container = document.createElement("canvas"));
        c.className = "gw-live-canvas";
        this._ctx = c.getContext("2d");
      },
      _destroyContainer: function () {
        L.DomUtil.remove(this._container);
        delete this._ctx;
        delete this._container;
      },
      _update: function () {
        if (this._map._animatingZoom && this._bounds) { return; }
        L.Renderer.prototype._update.call(this);
        var b = this._bounds, c = this._container, size = b.getSize(), m = pixelRatio();
        L.DomUtil.setPosition(c, b.min);
        c.width = Math.round(m * size.x);
        c.height = Math.round(m * size.y);
        c.style.width = size.x + "px";
        c.style.height = size.y + "px";
        this._ratio = m;
        this._origin = this._map.getPixelOrigin();
        this.fire("update");
      },
      _updatePaths: function () { if (!this._postponeUpdatePaths) { frame(); } },
      _draw: function () { frame(); },
      _redraw: function () {},
      _requestRedraw: function () {}
    });
    return new Live({pane: "gw-live", padding: 0.2});
  }

  function pane(m, name, z) {
    var p = m.getPane(name) || m.createPane(name);
    p.style.zIndex = z;
    p.style.pointerEvents = "none";
  }

  function attach(m) {
    if (map === m) { return; }
    map = m;
    gw.map.instance = m;
    // Anything applied before the map (and its settings) existed is placed again under them.
    readConfig(m.getContainer());
    // Own panes so the order never depends on which layer loaded first: the basemap (overlay
    // pane, z 400) under the unit grids, the district lines, the live canvas, the place labels
    // and the alerts.
    pane(m, "gw-grids", 405);
    pane(m, "gw-bounds", 410);
    pane(m, "gw-live", 450);
    pane(m, "gw-labels", 460);
    pane(m, "gw-alerts", 470);
    renderer = makeRenderer();
    alertLayer = L.layerGroup();
    m.whenReady(function () {
      if (map !== m) { return; }
      m.addLayer(renderer);
      alertLayer.addTo(m);
      live.alerts.forEach(function (a) { a.marker = null; placeAlert(a); });
      m.on("zoomend", showGrids);
      loadOverlays(m);
      // The box can get its final size after the map was made (fonts, CSS): follow it without
      // moving the centre.
      if (window.ResizeObserver) {
        new ResizeObserver(function () { if (map === m) { m.invalidateSize(); } }).observe(m.getContainer());
      }
      frame();
    });
  }

  function fetchJSON(url, done) {
    fetch(url, {cache: "force-cache"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { done(data); } })
      .catch(function (err) { console.warn("gridwall: could not load " + url, err); });
  }

  function loadOverlays(m) {
    if (cfg.layers.districts) {
      fetchJSON("/assets/city/districts.json", function (data) {
        if (map !== m) { return; }
        overlays.districts = L.geoJSON(data, {renderer: L.canvas({pane: "gw-bounds", padding: 0.2}),
          style: gw.map.boundaryStyle, interactive: false, coordsToLatLng: toLatLng}).addTo(m);
      });
    }
    if (cfg.layers.grids) {
      // 4,988 polygons: on a canvas of their own, drawn only from gridsMinZoom on.
      fetchJSON("/assets/city/grids.json", function (data) {
        if (map !== m) { return; }
        overlays.grids = L.geoJSON(data, {renderer: L.canvas({pane: "gw-grids", padding: 0.2}),
          style: gw.map.gridStyle, interactive: false, coordsToLatLng: toLatLng});
        showGrids();
      });
    }
  }

  function showGrids() {
    var g = overlays.grids;
    if (!g || !map) { return; }
    var want = map.getZoom() >= cfg.gridsMinZoom;
    if (want && !map.hasLayer(g)) { g.addTo(map); } else if (!want && map.hasLayer(g)) { map.removeLayer(g); }
  }

  // Leaflet's own plugin hook: runs for every map dash-leaflet creates, so we get the instance
  // without reaching into React.
  if (window.L && L.Map) {
    L.Map.addInitHook(function () {
      if (this.getContainer().id === MAP_ID) { attach(this); }
    });
  }

  // --- drawing -------------------------------------------------------------------------------------
  // Everything is drawn in device pixels with an identity transform: a position is
  // mx·K − OX with K = 256·2^zoom·ratio, so sprites are blitted unscaled at whole pixels (the
  // cheapest drawImage there is) and a 1-px trail is a hairline (the cheapest stroke).
  var sprites = null;
  var grid = gw.clusters.createGrid(64);   // cluster cells of 64 screen px
  var nextLight = Infinity;                 // the earliest instant at which some light changes

  function noteNext(c, now) {
    var t = store.nextChange(c.due, c.warn, c.susp, now);
    if (t < nextLight) { nextLight = t; }
  }

  function buildClusters(S, now) {
    grid.reset(live.devices.size + live.cases.size);
    nextLight = Infinity;
    var on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles;
    live.devices.forEach(function (d) {
      if (d.cat < 0 || !(d.cat === 0 ? on0 : on1)) { return; }
      grid.add(d.mx * S, d.my * S, 0, d, -1);
    });
    if (cfg.layers.cases) {
      live.cases.forEach(function (c) {
        if (!c.placed) { return; }
        noteNext(c, now);
        grid.add(c.mx * S, c.my * S, 1, c, live.pinLight(c, now));
      });
    }
    grid.finish();
    clusterDirty = false;
  }

  // The frame's geometry, reused (no allocation per frame).
  var F = {S: 0, K: 0, OX: 0, OY: 0, m: 1, x0: 0, y0: 0, x1: 0, y1: 0, now: 0};

  function frame() {
    var r = renderer;
    if (!r || !r._ctx || !r._bounds || !r._origin || !map) { return; }
    if (r._ratio !== pixelRatio() && !map._animatingZoom) { r._update(); return; }  // redraws
    var t0 = performance.now();
    var ctx = r._ctx, m = r._ratio, b = r._bounds, c = r._container;
    if (!sprites || sprites.ratio !== m || sprites.names !== live.symbols) { sprites = symbols.makeSprites(m, live.symbols); }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    var z = r._zoom;
    F.S = 256 * Math.pow(2, z); F.m = m; F.K = F.S * m;
    F.OX = (r._origin.x + b.min.x) * m; F.OY = (r._origin.y + b.min.y) * m;
    F.x0 = -30 * m; F.y0 = -30 * m; F.x1 = c.width + 30 * m; F.y1 = c.height + 30 * m;
    F.now = live.clock.now();
    var clustered = live.pointCount() > cfg.clusterAbove;
    if (clustered !== live.clustered) {
      live.clustered = clustered;
      clusterDirty = true;
      // Trails are not kept while clustered: start them afresh rather than draw stale ones.
      live.devices.forEach(function (d) { d.tn = 0; d.th = 0; if (clustered) { d.trail = null; } });
    }
    var st = live.stats;
    st.devices = 0; st.cases = 0; st.clusters = 0; st.trails = 0; st.groups = 0;
    if (clustered) {
      if (clusterDirty || clusterZoom !== z) { buildClusters(F.S, F.now); clusterZoom = z; }
      drawClusters(ctx, st);
      st.groups = grid.n;
    } else {
      if (live.trailsOn()) { drawTrails(ctx, st); }
      nextLight = Infinity;
      if (cfg.layers.cases) { drawCases(ctx, st); }
      drawDevices(ctx, st);
    }
    st.alerts = alertLayer ? alertLayer.getLayers().length : 0;
    live.frames += 1;
    live.lastFrameMs = performance.now() - t0;
  }

  function drawSprite(ctx, sp, x, y) {   // x, y: device px
    ctx.drawImage(sp.img, Math.round(x - sp.dx), Math.round(y - sp.dy));
  }

  function drawDevices(ctx, st) {
    var dev = sprites.dev, on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles;
    live.devices.forEach(function (d) {
      if (d.cat < 0 || !(d.cat === 0 ? on0 : on1)) { return; }
      var x = d.mx * F.K - F.OX, y = d.my * F.K - F.OY;
      if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { return; }
      drawSprite(ctx, dev[d.sym][live.isDim(d, F.now) ? 1 : 0], x, y);
      st.devices += 1;
    });
  }

  function drawCases(ctx, st) {
    var sp = sprites.cases, now = F.now;
    // Lower lights first, so a red pin is never hidden under a green one.
    for (var light = LIGHT.GREY; light <= LIGHT.RED; light++) {
      live.cases.forEach(function (c) {
        if (!c.placed) { return; }
        if (light === LIGHT.GREY) { noteNext(c, now); }
        if (live.pinLight(c, now) !== light) { return; }
        var x = c.mx * F.K - F.OX, y = c.my * F.K - F.OY;
        if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1 + 30 * F.m) { return; }
        drawSprite(ctx, sp[light], x, y);
        st.cases += 1;
      });
    }
  }

  // Trails: one path per symbol, points closer than MIN_STEP px to the last one drawn are
  // skipped (at city zoom a walking collector's trail is a few px long), and a step longer than
  // MAX_STEP is a gap in the data, not a road. Up to WIDE_UPTO trails are drawn 2 px wide, more
  // as 1-px hairlines: a wide stroke costs ten times as much on a software-rendered canvas.
  var MAX_STEP = 1e-4, MIN_STEP = 1.5, WIDE_UPTO = 400;
  var paths = [];
  function drawTrails(ctx, st) {
    var on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles, n = cfg.trailPoints, names = live.symbols;
    var K = F.K, OX = F.OX, OY = F.OY, pad = 300 * F.m, minStep = MIN_STEP * F.m, s;
    for (s = 0; s < names.length; s++) { paths[s] = null; }
    live.devices.forEach(function (d) {
      if (d.tn < 2 || d.cat < 0 || !(d.cat === 0 ? on0 : on1)) { return; }
      var x = d.mx * K - OX, y = d.my * K - OY;
      if (x < F.x0 - pad || x > F.x1 + pad || y < F.y0 - pad || y > F.y1 + pad) { return; }
      var p = paths[d.sym] || (paths[d.sym] = new Path2D());
      var t = d.trail, start = (d.th - d.tn + n) % n, pmx = 0, pmy = 0, lx = 0, ly = 0, drawn = 0;
      for (var k = 0; k < d.tn; k++) {
        var i = (start + k) % n, mx = t[2 * i], my = t[2 * i + 1];
        x = mx * K - OX; y = my * K - OY;
        if (k === 0 || Math.abs(mx - pmx) + Math.abs(my - pmy) > MAX_STEP) {
          p.moveTo(x, y); lx = x; ly = y;
        } else if (k === d.tn - 1 || Math.abs(x - lx) + Math.abs(y - ly) >= minStep) {
          p.lineTo(x, y); lx = x; ly = y; drawn += 1;
        }
        pmx = mx; pmy = my;
      }
      if (drawn) { st.trails += 1; }
    });
    ctx.lineWidth = st.trails <= WIDE_UPTO ? 2 * F.m : 1;
    ctx.lineJoin = "round";
    ctx.globalAlpha = 0.6;
    for (s = 0; s < names.length; s++) {
      if (paths[s]) { ctx.strokeStyle = symbols.color(names[s]); ctx.stroke(paths[s]); paths[s] = null; }
    }
    ctx.globalAlpha = 1;
  }

  function drawClusters(ctx, st) {
    var i, x, y, n, rad, m = F.m, OX = F.OX, OY = F.OY;
    ctx.font = "bold " + Math.round(14 * m) + "px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (i = 0; i < grid.n; i++) {
      n = grid.cnt[i];
      if (n === 1) {      // a lone object is drawn as itself
        var o = grid.first[i];
        x = o.mx * F.K - OX; y = o.my * F.K - OY;
        if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { continue; }
        if (grid.kind[i] === 0) {
          drawSprite(ctx, sprites.dev[o.sym][live.isDim(o, F.now) ? 1 : 0], x, y); st.devices += 1;
        } else {
          drawSprite(ctx, sprites.cases[live.pinLight(o, F.now)], x, y); st.cases += 1;
        }
        continue;
      }
      x = (grid.sx[i] / n) * m - OX; y = (grid.sy[i] / n) * m - OY;   // sx, sy: sums of px at 1×
      if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { continue; }
      rad = Math.min(30, 12 + 9 * Math.log(n) / Math.LN10) * m;
      ctx.beginPath();
      ctx.arc(x, y, rad, 0, 2 * PI);
      if (grid.kind[i] === 0) {
        ctx.fillStyle = "rgba(53, 208, 255, 0.30)"; ctx.fill();
        ctx.lineWidth = 2 * m; ctx.strokeStyle = "#35d0ff"; ctx.stroke();
      } else {
        ctx.fillStyle = "rgba(11, 26, 46, 0.85)"; ctx.fill();
        ctx.lineWidth = 4 * m; ctx.strokeStyle = symbols.LIGHT_COLORS[grid.worst[i]]; ctx.stroke();
      }
      ctx.fillStyle = "#ffffff";
      ctx.fillText(n > 9999 ? Math.round(n / 1000) + "k" : String(n), x, y);
      st.clusters += 1;
    }
  }

  // Lights change by the clock alone: redraw when the next change is due, no message needed.
  setInterval(function () {
    if (map && live.clock.now() > nextLight) { clusterDirty = true; frame(); }
  }, 500);

  // --- styles referenced from layouts/wall.py -------------------------------------------------------
  var BASE = {
    land: {fillColor: "#0b1a2e", fillOpacity: 1, stroke: false},
    block: {fillColor: "#10233c", fillOpacity: 1, stroke: false},
    park: {fillColor: "#0f3a2c", fillOpacity: 1, stroke: false},
    water: {fillColor: "#0d3b66", fillOpacity: 1, color: "#0d3b66", weight: 2},
    road_major: {color: "#2b4f7a", weight: 5, opacity: 1},
    road_minor: {color: "#1d3a5c", weight: 2, opacity: 1}
  };

  gw.map.overlays = overlays;
  // Basemap points are place labels (district, river, park names): text, not pins. A divIcon
  // takes its html as markup: the name goes in as a text node (a city file is data too).
  gw.map.basemapLabel = function (feature, latlng) {
    var p = feature.properties || {};
    var name = (gw.lang() === "en" ? p.name_en : p.name_zh) || p.name_zh || "";
    var label = document.createElement("span");
    label.textContent = String(name);
    return L.marker(latlng, {interactive: false, keyboard: false, pane: "gw-labels",
      icon: L.divIcon({className: "gw-label gw-label-" + (p.kind || "place"), html: label, iconSize: null})});
  };
  gw.map.basemapStyle = function (feature) {
    var p = (feature && feature.properties) || {};
    return BASE[p.layer] || {color: "#1d3a5c", weight: 1, fillOpacity: 0.2};
  };
  gw.map.boundaryStyle = function () {
    return {color: "#4fa3ff", weight: 2, dashArray: "6 6", fill: false, opacity: 0.8};
  };
  gw.map.gridStyle = function () {
    return {color: "#2f6aa3", weight: 0.7, opacity: 0.45, fill: false};
  };
})();
