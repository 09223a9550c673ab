/* The live map: collectors and vehicles with their trails, open cases coloured by their overdue
 * light, pulsing video alerts, clusters past a configured count, and the district and unit-grid
 * boundaries. Configuration comes from the data-* attributes of #gw-map-box (layouts/wall.py).
 *
 * Everything that moves is drawn by one canvas renderer of our own (a subclass of Leaflet's
 * L.Canvas, so it follows pans and zoom animations like any vector layer) from plain objects
 * kept per id: an update moves them in place and redraws once. Nothing ever clears a layer,
 * re-creates the map or touches the viewport (a map that flickers or jumps back to its start view
 * on every refresh is the commonest complaint about live-map dashboards). Video alerts are a few DOM markers whose pulse is a CSS animation.
 *
 * Protocol (dashboard/poll.py live_payload): {"v", "now", "full": [device], "cases": [case],
 * "alerts": [alert], "trails": {id: "lon,lat;..."}} replaces everything; {"v", "now", "deltas":
 * [{"devices", "cases", "alerts", "devices_gone", "cases_gone", "alerts_gone"}]} patches it.
 * Positions arrive in WGS-84 and are shifted to GCJ-02 here when the tiles are GCJ-02. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  gw.map = gw.map || {instance: null};
  var MAP_ID = "gw-map";
  var LAYERS = ["districts", "grids", "cases", "alerts", "collectors", "vehicles", "trails"];

  // --- WGS-84 -> GCJ-02: the published formulas, as in dashboard/geo.py ---------------------------
  var GA = 6378245.0, GEE = 0.00669342162296594323, PI = Math.PI, D2R = PI / 180;
  var OUT = {lat: 0, lon: 0};

  function outOfChina(lat, lon) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  // Writes into OUT: no allocation per point.
  function gcjInto(lat, lon) {
    if (outOfChina(lat, lon)) { OUT.lat = lat; OUT.lon = lon; return; }
    var dLat = tLat(lon - 105.0, lat - 35.0), dLon = tLon(lon - 105.0, lat - 35.0);
    var rad = lat * D2R, magic = 1.0 - GEE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((GA * (1.0 - GEE)) / (magic * sq) * PI);
    dLon = (dLon * 180.0) / (GA / sq * Math.cos(rad) * PI);
    OUT.lat = lat + dLat; OUT.lon = lon + dLon;
  }
  gw.geo = {
    outOfChina: outOfChina,
    wgs84ToGcj02: function (lat, lon) { gcjInto(lat, lon); return [OUT.lat, OUT.lon]; }
  };

  // --- configuration ---------------------------------------------------------------------------
  var cfg = {layers: {}, clusterAbove: 3000, trailPoints: 20, gridsMinZoom: 14, shift: ""};
  LAYERS.forEach(function (name) { cfg.layers[name] = true; });

  function readConfig(container) {
    var box = container && container.closest ? container.closest(".gw-map-box") : null;
    if (!box) { return; }
    var names = (box.getAttribute("data-layers") || "").split(",");
    LAYERS.forEach(function (name) { cfg.layers[name] = names.indexOf(name) >= 0; });
    var n = parseInt(box.getAttribute("data-cluster-above"), 10);
    if (!isNaN(n)) { cfg.clusterAbove = n; }
    n = parseInt(box.getAttribute("data-trail-points"), 10);
    if (!isNaN(n)) { cfg.trailPoints = Math.max(0, n); }
    n = parseInt(box.getAttribute("data-grids-min-zoom"), 10);
    if (!isNaN(n)) { cfg.gridsMinZoom = n; }
    cfg.shift = box.getAttribute("data-shift") || "";
  }

  // --- the server's clock: lights change by the clock alone ------------------------------------
  // Any payload that carries the server's "now" (live and KPI) may call observe().
  var clock = gw.clock || (gw.clock = {
    offset: 0,
    observe: function (serverNow) {
      if (typeof serverNow === "number" && isFinite(serverNow)) { this.offset = serverNow - Date.now() / 1000; }
    },
    now: function () { return Date.now() / 1000 + this.offset; }
  });

  // --- projection: normalised Web Mercator (0..1), times 256·2^zoom = Leaflet's pixel ----------
  var MAXLAT = 85.0511287798;
  function display(lat, lon, into) {
    if (cfg.shift === "gcj02") { gcjInto(lat, lon); lat = OUT.lat; lon = OUT.lon; }
    var la = lat > MAXLAT ? MAXLAT : (lat < -MAXLAT ? -MAXLAT : lat);
    var s = Math.sin(la * D2R);
    into.mx = lon / 360 + 0.5;
    into.my = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI);
  }
  function toLatLng(coords) {  // GeoJSON [lon, lat] -> what the map draws
    if (cfg.shift === "gcj02") { gcjInto(coords[1], coords[0]); return new L.LatLng(OUT.lat, OUT.lon); }
    return new L.LatLng(coords[1], coords[0]);
  }
  function displayLatLng(lat, lon) {
    if (cfg.shift === "gcj02") { gcjInto(lat, lon); return new L.LatLng(OUT.lat, OUT.lon); }
    return new L.LatLng(lat, lon);
  }

  // --- symbols -----------------------------------------------------------------------------------
  // Shape tells the type from 10 m away; colour repeats it. The traffic-light colours are kept
  // for the cases' lights.
  var SYM_NAMES = ["collector", "enforcement", "muck_truck", "sanitation", "vehicle", "other"];
  var SYM_COLORS = ["#35d0ff", "#5b8cff", "#e0a060", "#3fe0c0", "#c9a7ff", "#b0b8c4"];
  var LIGHT_NAMES = ["grey", "green", "yellow", "red"];
  var LIGHT_COLORS = ["#8c8c8c", "#52e07c", "#ffc53d", "#ff4d4f"];
  var GREY = 0, GREEN = 1, YELLOW = 2, RED = 3;

  function symOf(doc) {
    if (doc.kind === "collector") { return 0; }
    var i = SYM_NAMES.indexOf(doc.subtype);
    if (i > 0 && i < 4) { return i; }
    return doc.kind === "vehicle" ? 4 : 5;
  }

  function shapePath(ctx, sym, r) {
    ctx.beginPath();
    if (sym === 0 || sym === 5) {
      ctx.arc(0, 0, sym === 0 ? r * 0.75 : r * 0.6, 0, 2 * PI);
    } else if (sym === 1) {                       // enforcement: diamond
      ctx.moveTo(0, -r); ctx.lineTo(r, 0); ctx.lineTo(0, r); ctx.lineTo(-r, 0); ctx.closePath();
    } else if (sym === 2) {                       // muck truck: triangle
      ctx.moveTo(0, -r); ctx.lineTo(r * 0.95, r * 0.75); ctx.lineTo(-r * 0.95, r * 0.75); ctx.closePath();
    } else if (sym === 3) {                       // sanitation: square
      ctx.rect(-r * 0.72, -r * 0.72, r * 1.44, r * 1.44);
    } else {                                      // other vehicle: hexagon
      for (var k = 0; k < 6; k++) {
        var a = PI / 6 + k * PI / 3;
        if (k === 0) { ctx.moveTo(r * Math.cos(a), r * Math.sin(a)); } else { ctx.lineTo(r * Math.cos(a), r * Math.sin(a)); }
      }
      ctx.closePath();
    }
  }

  function sprite(w, h, ax, ay, ratio, paint) {
    var c = document.createElement("canvas");
    c.width = Math.ceil(w * ratio); c.height = Math.ceil(h * ratio);
    var ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.translate(ax, ay);
    paint(ctx);
    return {img: c, dx: ax * ratio, dy: ay * ratio};   // anchor, device px
  }

  var sprites = null;
  function makeSprites(ratio) {
    var dev = [], cases = [];
    SYM_NAMES.forEach(function (_n, sym) {
      dev.push([false, true].map(function (dim) {
        return sprite(22, 22, 11, 11, ratio, function (ctx) {
          ctx.globalAlpha = dim ? 0.4 : 1;
          shapePath(ctx, sym, 9);
          ctx.fillStyle = SYM_COLORS[sym]; ctx.fill();
          ctx.lineWidth = 1.5; ctx.strokeStyle = "rgba(5, 13, 26, 0.9)"; ctx.stroke();
        });
      }));
    });
    // A map pin, its tip on the spot; the worse the light, the bigger the pin, so the few red
    // ones stand out of hundreds of green ones.
    var PIN_SCALE = [0.95, 0.95, 1.3, 1.5];
    LIGHT_COLORS.forEach(function (color, light) {
      cases.push(sprite(28, 36, 14, 34, ratio, function (ctx) {
        ctx.scale(PIN_SCALE[light], PIN_SCALE[light]);
        ctx.beginPath();
        ctx.moveTo(0, 0);
        ctx.bezierCurveTo(-2, -5, -7.5, -9, -7.5, -14.5);
        ctx.arc(0, -14.5, 7.5, PI, 0);
        ctx.bezierCurveTo(7.5, -9, 2, -5, 0, 0);
        ctx.closePath();
        ctx.fillStyle = color; ctx.fill();
        ctx.lineWidth = 1.5; ctx.strokeStyle = "rgba(5, 13, 26, 0.95)"; ctx.stroke();
        ctx.beginPath(); ctx.arc(0, -14.5, 2.8, 0, 2 * PI); ctx.fillStyle = "#0b1a2e"; ctx.fill();
      }));
    });
    return {ratio: ratio, dev: dev, cases: cases};
  }

  // --- the live objects --------------------------------------------------------------------------
  // A device keeps only what the map draws, not its doc: the parsed docs of an update then die
  // young, which is what keeps the garbage collector cheap at 50,000 devices a second.
  function Dev(id) {
    this.id = id; this.lat = NaN; this.lon = NaN; this.mx = 0; this.my = 0;
    this.sym = 5; this.cat = -1; this.off = false; this.ts = 0; this.gen = 0;
    this.trail = null; this.tn = 0; this.th = 0;    // ring of normalised positions, oldest first
  }
  Dev.prototype.getLatLng = function () { return L.latLng(this.lat, this.lon); };

  function Case(id) {
    this.id = id; this.doc = null; this.lat = NaN; this.lon = NaN; this.mx = 0; this.my = 0;
    this.placed = false; this.due = null; this.warn = null; this.susp = false; this.gen = 0;
  }
  Case.prototype.getLatLng = Dev.prototype.getLatLng;

  function Alert(id) {
    this.id = id; this.doc = null; this.lat = NaN; this.lon = NaN; this.sev = "detection";
    this.marker = null; this.shownSev = null; this.gen = 0;
  }

  var devices = new Map(), cases = new Map(), alerts = new Map();
  var counts = [0, 0];          // placed collectors, placed other devices
  var placedCases = 0;
  var gen = 0;
  var TMP = {mx: 0, my: 0};

  var live = (gw.live = {
    markers: devices,   // device id -> object with getLatLng() (WGS-84), moved in place
    devices: devices,
    cases: cases,
    alerts: alerts,
    version: null,
    updates: 0,
    fulls: 0,           // how many of them were full pictures
    lastApplyMs: 0,     // parse + state update + redraw of the last apply()
    lastFrameMs: 0,     // the last redraw alone (also after pans, zooms and light changes)
    frames: 0,
    clustered: false,
    config: cfg,
    // What the last frame drew in view; groups: clusters + lone objects over the whole map
    stats: {devices: 0, cases: 0, clusters: 0, trails: 0, alerts: 0, groups: 0}
  });

  function lightOf(c, now) {
    if (c.susp) { return GREY; }              // 挂账: the clock is paused, never red
    if (c.due !== null && now > c.due) { return RED; }
    if (c.warn !== null && now >= c.warn) { return YELLOW; }
    return GREEN;
  }
  var nextLight = Infinity;     // the earliest instant at which some light changes
  function noteNext(c, now) {
    if (c.susp) { return; }
    if (c.warn !== null && c.warn >= now && c.warn < nextLight) { nextLight = c.warn; }
    if (c.due !== null && c.due >= now && c.due < nextLight) { nextLight = c.due; }
  }

  function trailsOn() { return cfg.layers.trails && cfg.trailPoints > 1 && !live.clustered; }

  function pushTrail(d, mx, my) {
    var n = cfg.trailPoints;
    if (!d.trail) { d.trail = new Float64Array(2 * n); d.tn = 0; d.th = 0; }
    if (d.tn > 0) {
      var last = (d.th - 1 + n) % n;
      if (d.trail[2 * last] === mx && d.trail[2 * last + 1] === my) { return; }
    }
    d.trail[2 * d.th] = mx; d.trail[2 * d.th + 1] = my;
    d.th = (d.th + 1) % n;
    if (d.tn < n) { d.tn += 1; }
  }

  // The server's trail, "lon,lat;lon,lat;..." newest first, replaces what we had.
  function setTrail(d, text) {
    if (!d || typeof text !== "string" || !trailsOn()) { return; }
    var pts = text.split(";"), n = Math.min(pts.length, cfg.trailPoints);
    d.tn = 0; d.th = 0;
    for (var i = n - 1; i >= 0; i--) {
      var c = pts[i].indexOf(",");
      var lon = +pts[i].slice(0, c), lat = +pts[i].slice(c + 1);
      if (c > 0 && isFinite(lon) && isFinite(lat)) { display(lat, lon, TMP); pushTrail(d, TMP.mx, TMP.my); }
    }
    if (d.cat >= 0) { pushTrail(d, d.mx, d.my); }
  }

  function upsertDevice(doc) {
    if (!doc || doc.id === undefined || doc.id === null) { return null; }
    var d = devices.get(doc.id);
    if (!d) { d = new Dev(doc.id); devices.set(doc.id, d); }
    d.sym = symOf(doc);
    d.off = doc.online === false;
    d.ts = typeof doc.ts === "number" ? doc.ts : 0;
    var placed = typeof doc.lat === "number" && typeof doc.lon === "number";
    var cat = placed ? (d.sym === 0 ? 0 : 1) : -1;
    if (cat !== d.cat) {
      if (d.cat >= 0) { counts[d.cat] -= 1; }
      if (cat >= 0) { counts[cat] += 1; }
      d.cat = cat;
    }
    if (placed && (doc.lat !== d.lat || doc.lon !== d.lon)) {
      d.lat = doc.lat; d.lon = doc.lon;
      display(d.lat, d.lon, d);
      if (trailsOn()) { pushTrail(d, d.mx, d.my); }
    }
    return d;
  }
  function removeDevice(id) {
    var d = devices.get(id);
    if (!d) { return; }
    if (d.cat >= 0) { counts[d.cat] -= 1; }
    devices.delete(id);
  }

  function num(x) { return typeof x === "number" && isFinite(x) ? x : null; }

  function upsertCase(doc) {
    if (!doc || doc.case_id === undefined || doc.case_id === null) { return null; }
    if (doc.open === false) { removeCase(doc.case_id); return null; }
    var c = cases.get(doc.case_id);
    if (!c) { c = new Case(doc.case_id); cases.set(doc.case_id, c); }
    c.doc = doc;
    c.due = num(doc.due); c.warn = num(doc.warn_at); c.susp = doc.suspended === true;
    var placed = typeof doc.lat === "number" && typeof doc.lon === "number";
    if (placed !== c.placed) { placedCases += placed ? 1 : -1; c.placed = placed; }
    if (placed && (doc.lat !== c.lat || doc.lon !== c.lon)) {
      c.lat = doc.lat; c.lon = doc.lon;
      display(c.lat, c.lon, c);
    }
    return c;
  }
  function removeCase(id) {
    var c = cases.get(id);
    if (!c) { return; }
    if (c.placed) { placedCases -= 1; }
    cases.delete(id);
  }

  var SEVERITIES = {detection: 32, alert: 36, critical: 48};
  var icons = {};
  function alertIcon(sev) {
    if (!icons[sev]) {
      var s = SEVERITIES[sev];
      icons[sev] = L.divIcon({className: "gw-alert gw-alert-" + sev, iconSize: [s, s],
        html: '<span class="gw-alert-ring"></span><span class="gw-alert-ring gw-alert-ring2"></span><span class="gw-alert-dot"></span>'});
    }
    return icons[sev];
  }

  function upsertAlert(doc) {
    if (!doc || doc.alert_id === undefined || doc.alert_id === null) { return null; }
    if (doc.state === "end") { removeAlert(doc.alert_id); return null; }
    var a = alerts.get(doc.alert_id);
    if (!a) { a = new Alert(doc.alert_id); alerts.set(doc.alert_id, a); }
    a.doc = doc;
    a.sev = SEVERITIES[doc.severity] ? doc.severity : "detection";
    a.lat = typeof doc.lat === "number" ? doc.lat : NaN;
    a.lon = typeof doc.lon === "number" ? doc.lon : NaN;
    placeAlert(a);
    return a;
  }
  function removeAlert(id) {
    var a = alerts.get(id);
    if (!a) { return; }
    if (a.marker && alertLayer) { alertLayer.removeLayer(a.marker); }
    alerts.delete(id);
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

  // --- applying a message ------------------------------------------------------------------------
  function applyFull(msg) {
    gen += 1;
    var i, d;
    // A picture that will be clustered keeps no trails: do not build them only to drop them.
    if (msg.full.length + (msg.cases ? msg.cases.length : 0) > cfg.clusterAbove) { live.clustered = true; }
    for (i = 0; i < msg.full.length; i++) {
      d = upsertDevice(msg.full[i]);
      if (d) { d.gen = gen; }
    }
    devices.forEach(function (dv, id) { if (dv.gen !== gen) { removeDevice(id); } });
    if (msg.trails) {
      for (var id in msg.trails) {
        if (Object.prototype.hasOwnProperty.call(msg.trails, id)) { setTrail(devices.get(id), msg.trails[id]); }
      }
    }
    if (msg.cases) {
      for (i = 0; i < msg.cases.length; i++) {
        var c = upsertCase(msg.cases[i]);
        if (c) { c.gen = gen; }
      }
      cases.forEach(function (cs, cid) { if (cs.gen !== gen) { removeCase(cid); } });
    }
    if (msg.alerts) {
      for (i = 0; i < msg.alerts.length; i++) {
        var a = upsertAlert(msg.alerts[i]);
        if (a) { a.gen = gen; }
      }
      alerts.forEach(function (al, aid) { if (al.gen !== gen) { removeAlert(aid); } });
    }
  }

  function each(list, fn) {
    if (list) { for (var i = 0; i < list.length; i++) { fn(list[i]); } }
  }
  function applyDelta(delta) {
    each(delta.devices, upsertDevice);
    each(delta.devices_gone, removeDevice);
    each(delta.cases, upsertCase);
    each(delta.cases_gone, removeCase);
    each(delta.alerts, upsertAlert);
    each(delta.alerts_gone, removeAlert);
  }

  live.apply = function (raw) {
    if (!raw) { return; }
    var t0 = performance.now();
    var msg = typeof raw === "string" ? JSON.parse(raw) : raw;
    clock.observe(msg.now);
    if (msg.full) {
      applyFull(msg);
      live.fulls += 1;
    } else if (msg.deltas) {
      // In version order: applying them in turn leaves the newest state of each object.
      for (var i = 0; i < msg.deltas.length; i++) { applyDelta(msg.deltas[i]); }
    }
    live.version = msg.v;
    live.updates += 1;
    clusterDirty = true;
    frame();
    live.lastApplyMs = performance.now() - t0;
    return msg.v;
  };

  live.caseLight = function (id) {
    var c = cases.get(id);
    return c ? LIGHT_NAMES[lightOf(c, clock.now())] : null;
  };
  live.redraw = function () { clusterDirty = true; frame(); };
  // The live canvas's RGBA at a WGS-84 place (shifted like everything else, unless raw), plus an
  // offset in screen px: for tests and for looking at a wall from a console.
  live.pixelAt = function (lat, lon, dx, dy, raw) {
    var r = renderer;
    if (!r || !r._ctx || !r._bounds || !r._origin) { return null; }
    var shift = cfg.shift;
    if (raw) { cfg.shift = ""; }
    display(lat, lon, TMP);
    cfg.shift = shift;
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
    readConfig(m.getContainer());
    // Anything applied before the map (and its settings) existed is placed again under them.
    devices.forEach(function (d) { d.trail = null; d.tn = 0; d.th = 0; if (d.cat >= 0) { display(d.lat, d.lon, d); } });
    cases.forEach(function (c) { if (c.placed) { display(c.lat, c.lon, c); } });
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
      alerts.forEach(function (a) { a.marker = null; placeAlert(a); });
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
  var CELL = 64;                       // cluster cell, screen px
  var clusterDirty = true, clusterZoom = null;

  // Grid aggregation in an open-addressing hash over typed arrays: no allocation per point.
  var cl = {n: 0, cap: 0, mask: 0, slot: null, cx: null, cy: null, kind: null, sx: null, sy: null,
    cnt: null, worst: null, first: []};
  function clReset(want) {
    if (want * 2 > cl.cap) {
      var cap = 1024;
      while (cap < want * 2) { cap *= 2; }
      cl.cap = cap; cl.mask = cap - 1;
      cl.slot = new Int32Array(cap);
      cl.cx = new Int32Array(cap); cl.cy = new Int32Array(cap); cl.kind = new Int8Array(cap);
      cl.sx = new Float64Array(cap); cl.sy = new Float64Array(cap); cl.cnt = new Int32Array(cap);
      cl.worst = new Int8Array(cap);
    }
    cl.slot.fill(-1);
    cl.n = 0;
  }
  function clAdd(px, py, kind, obj, light) {
    var cx = Math.floor(px / CELL), cy = Math.floor(py / CELL);
    var h = (Math.imul(cx, 73856093) ^ Math.imul(cy, 19349663) ^ kind) & cl.mask, i;
    while ((i = cl.slot[h]) !== -1) {
      if (cl.cx[i] === cx && cl.cy[i] === cy && cl.kind[i] === kind) { break; }
      h = (h + 1) & cl.mask;
    }
    if (i === -1) {
      i = cl.n++;
      cl.slot[h] = i;
      cl.cx[i] = cx; cl.cy[i] = cy; cl.kind[i] = kind;
      cl.sx[i] = 0; cl.sy[i] = 0; cl.cnt[i] = 0; cl.worst[i] = -1;
      cl.first[i] = obj;
    }
    cl.sx[i] += px; cl.sy[i] += py; cl.cnt[i] += 1;
    if (light > cl.worst[i]) { cl.worst[i] = light; }
  }
  function buildClusters(S, now) {
    clReset(devices.size + cases.size);
    nextLight = Infinity;
    var on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles;
    devices.forEach(function (d) {
      if (d.cat < 0 || !(d.cat === 0 ? on0 : on1)) { return; }
      clAdd(d.mx * S, d.my * S, 0, d, -1);
    });
    if (cfg.layers.cases) {
      cases.forEach(function (c) {
        if (!c.placed) { return; }
        noteNext(c, now);
        clAdd(c.mx * S, c.my * S, 1, c, lightOf(c, now));
      });
    }
    for (var i = cl.n; i < cl.first.length; i++) { cl.first[i] = null; }   // no stale references
    cl.first.length = cl.n;
    clusterDirty = false;
  }

  function pointCount() {
    return (cfg.layers.collectors ? counts[0] : 0) + (cfg.layers.vehicles ? counts[1] : 0) +
      (cfg.layers.cases ? placedCases : 0);
  }

  // The frame's geometry, reused (no allocation per frame).
  var F = {S: 0, K: 0, OX: 0, OY: 0, m: 1, x0: 0, y0: 0, x1: 0, y1: 0, now: 0};

  function frame() {
    var r = renderer;
    if (!r || !r._ctx || !r._bounds || !r._origin || !map) { return; }
    if (r._ratio !== pixelRatio() && !map._animatingZoom) { r._update(); return; }  // redraws
    var t0 = performance.now();
    var ctx = r._ctx, m = r._ratio, b = r._bounds, c = r._container;
    if (!sprites || sprites.ratio !== m) { sprites = makeSprites(m); }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    var z = r._zoom;
    F.S = 256 * Math.pow(2, z); F.m = m; F.K = F.S * m;
    F.OX = (r._origin.x + b.min.x) * m; F.OY = (r._origin.y + b.min.y) * m;
    F.x0 = -30 * m; F.y0 = -30 * m; F.x1 = c.width + 30 * m; F.y1 = c.height + 30 * m;
    F.now = clock.now();
    var clustered = pointCount() > cfg.clusterAbove;
    if (clustered !== live.clustered) {
      live.clustered = clustered;
      clusterDirty = true;
      // Trails are not kept while clustered: start them afresh rather than draw stale ones.
      devices.forEach(function (d) { d.tn = 0; d.th = 0; if (clustered) { d.trail = null; } });
    }
    var st = live.stats;
    st.devices = 0; st.cases = 0; st.clusters = 0; st.trails = 0; st.groups = 0;
    if (clustered) {
      if (clusterDirty || clusterZoom !== z) { buildClusters(F.S, F.now); clusterZoom = z; }
      drawClusters(ctx, st);
      st.groups = cl.n;
    } else {
      if (trailsOn()) { drawTrails(ctx, st); }
      nextLight = Infinity;
      if (cfg.layers.cases) { drawCases(ctx, st); }
      drawDevices(ctx, st);
    }
    st.alerts = alertLayer ? alertLayer.getLayers().length : 0;
    live.frames += 1;
    live.lastFrameMs = performance.now() - t0;
  }

  // Offline (a last will) or silent for longer than the counters allow: drawn faded.
  var STALE_S = 300;  // feeds/steps/publish.py OFFLINE_AFTER_S
  function dim(d) { return d.off || (d.ts > 0 && F.now - d.ts > STALE_S); }

  function drawSprite(ctx, sp, x, y) {   // x, y: device px
    ctx.drawImage(sp.img, Math.round(x - sp.dx), Math.round(y - sp.dy));
  }

  function drawDevices(ctx, st) {
    var dev = sprites.dev, on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles;
    devices.forEach(function (d) {
      if (d.cat < 0 || !(d.cat === 0 ? on0 : on1)) { return; }
      var x = d.mx * F.K - F.OX, y = d.my * F.K - F.OY;
      if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { return; }
      drawSprite(ctx, dev[d.sym][dim(d) ? 1 : 0], x, y);
      st.devices += 1;
    });
  }

  function drawCases(ctx, st) {
    var sp = sprites.cases, now = F.now;
    // Lower lights first, so a red pin is never hidden under a green one.
    for (var light = 0; light < 4; light++) {
      cases.forEach(function (c) {
        if (!c.placed) { return; }
        if (light === 0) { noteNext(c, now); }
        if (lightOf(c, now) !== light) { return; }
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
  var paths = [], pathLen = [];
  function drawTrails(ctx, st) {
    var on0 = cfg.layers.collectors, on1 = cfg.layers.vehicles, n = cfg.trailPoints;
    var K = F.K, OX = F.OX, OY = F.OY, pad = 300 * F.m, minStep = MIN_STEP * F.m;
    for (var s = 0; s < SYM_NAMES.length; s++) { paths[s] = null; pathLen[s] = 0; }
    devices.forEach(function (d) {
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
    for (s = 0; s < SYM_NAMES.length; s++) {
      if (paths[s]) { ctx.strokeStyle = SYM_COLORS[s]; ctx.stroke(paths[s]); paths[s] = null; }
    }
    ctx.globalAlpha = 1;
  }

  function drawClusters(ctx, st) {
    var i, x, y, n, rad, m = F.m, OX = F.OX, OY = F.OY;
    ctx.font = "bold " + Math.round(14 * m) + "px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (i = 0; i < cl.n; i++) {
      n = cl.cnt[i];
      if (n === 1) {      // a lone object is drawn as itself
        var o = cl.first[i];
        x = o.mx * F.K - OX; y = o.my * F.K - OY;
        if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { continue; }
        if (cl.kind[i] === 0) {
          drawSprite(ctx, sprites.dev[o.sym][dim(o) ? 1 : 0], x, y); st.devices += 1;
        } else {
          drawSprite(ctx, sprites.cases[lightOf(o, F.now)], x, y); st.cases += 1;
        }
        continue;
      }
      x = (cl.sx[i] / n) * m - OX; y = (cl.sy[i] / n) * m - OY;   // sx, sy: sums of px at 1×
      if (x < F.x0 || x > F.x1 || y < F.y0 || y > F.y1) { continue; }
      rad = Math.min(30, 12 + 9 * Math.log(n) / Math.LN10) * m;
      ctx.beginPath();
      ctx.arc(x, y, rad, 0, 2 * PI);
      if (cl.kind[i] === 0) {
        ctx.fillStyle = "rgba(53, 208, 255, 0.30)"; ctx.fill();
        ctx.lineWidth = 2 * m; ctx.strokeStyle = "#35d0ff"; ctx.stroke();
      } else {
        ctx.fillStyle = "rgba(11, 26, 46, 0.85)"; ctx.fill();
        ctx.lineWidth = 4 * m; ctx.strokeStyle = LIGHT_COLORS[cl.worst[i]]; ctx.stroke();
      }
      ctx.fillStyle = "#ffffff";
      ctx.fillText(n > 9999 ? Math.round(n / 1000) + "k" : String(n), x, y);
      st.clusters += 1;
    }
  }

  // Lights change by the clock alone: redraw when the next change is due, no message needed.
  setInterval(function () {
    if (map && clock.now() > nextLight) { clusterDirty = true; frame(); }
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
  // Basemap points are place labels (district, river, park names): text, not pins.
  gw.map.basemapLabel = function (feature, latlng) {
    var p = feature.properties || {};
    var name = (gw.lang() === "en" ? p.name_en : p.name_zh) || p.name_zh || "";
    return L.marker(latlng, {interactive: false, keyboard: false, pane: "gw-labels",
      icon: L.divIcon({className: "gw-label gw-label-" + (p.kind || "place"), html: name, iconSize: null})});
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
