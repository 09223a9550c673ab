/* The live store and its protocol, pure: the devices, cases and alerts the map shows, kept as
 * one object per id and updated in place from the poll's "live" part (dashboard/poll.py,
 * docs/architecture.md "The live map"); the case lights from the boundaries the server sends;
 * the server's clock. No DOM, no Leaflet: the map (assets/gridwall-map.js) draws what is here
 * and places the alert markers through the hooks; tests/js runs it under Node.
 *
 * Protocol: {"v", "now", "full": [device], "cases": [case], "alerts": [alert], "trails": {id:
 * "lon,lat;..."}} replaces everything; {"v", "now", "deltas": [{"devices", "cases", "alerts",
 * "devices_gone", "cases_gone", "alerts_gone"}]} patches it, one delta per version after ours.
 * Deltas that do not follow on from our version (a gap), or one marked "reset", are not
 * applied: the store forgets its version, so the next poll brings the whole picture.
 * Positions arrive in WGS-84 and are projected (and shifted to GCJ-02 when the tiles are) here. */
(function (factory) {
  "use strict";
  // Node: a module (tests/js). A browser: window.gridwall.store (the functions), window.gridwall.live
  // (the page's one store) and window.gridwall.clock (the server's clock).
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory(require("./gridwall-geometry.js"));
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    var mod = factory(gw.geo);
    gw.store = mod;
    gw.clock = gw.clock || mod.createClock();
    gw.live = gw.live || mod.createStore({clock: gw.clock});
  }
})(function (geo) {
  "use strict";
  var LAYERS = ["districts", "grids", "cases", "alerts", "collectors", "vehicles", "trails"];
  var perf = typeof performance !== "undefined" ? performance : Date;

  // --- lights: THE overdue rule, as dashboard.casework.overdue.light_at -------------------------
  // Held to the Python by tests/js/fixtures/lights.json (tests/unit/test_js_fixtures.py checks
  // the fixture against Python, tests/js/lights.test.js this code against the fixture).
  var LIGHTS = ["grey", "green", "yellow", "red"];
  var GREY = 0, GREEN = 1, YELLOW = 2, RED = 3, NONE = -1;

  function given(x) { return x !== null && x !== undefined; }

  // The light's index in LIGHTS, NONE when no clock runs. grey while suspended (挂账: the clock
  // stands still, never red); red once now is past due (exactly at due is on time); yellow from
  // warn_at on; else green.
  function lightIndex(due, warnAt, suspended, now) {
    if (suspended) { return GREY; }
    if (!given(due)) { return NONE; }
    if (now > due) { return RED; }
    if (given(warnAt) && now >= warnAt) { return YELLOW; }
    return GREEN;
  }
  function lightAt(due, warnAt, suspended, now) {
    var i = lightIndex(due, warnAt, suspended === true, now);
    return i === NONE ? null : LIGHTS[i];
  }
  // The next instant at or after now when this light changes (Infinity: never by the clock).
  function nextChange(due, warnAt, suspended, now) {
    if (suspended) { return Infinity; }
    var next = Infinity;
    if (given(warnAt) && warnAt >= now && warnAt < next) { next = warnAt; }
    if (given(due) && due >= now && due < next) { next = due; }
    return next;
  }

  // --- the server's clock: lights change by the clock alone -----------------------------------
  // Any payload that carries the server's "now" may call observe(). nowMs: for tests.
  function createClock(nowMs) {
    var wall = nowMs || Date.now;
    return {
      offset: 0,
      observe: function (serverNow) {
        if (typeof serverNow === "number" && isFinite(serverNow)) { this.offset = serverNow - wall() / 1000; }
      },
      now: function () { return wall() / 1000 + this.offset; }
    };
  }

  function latLng(lat, lon) {
    var L = typeof window !== "undefined" ? window.L : null;
    return L ? L.latLng(lat, lon) : {lat: lat, lng: lon};
  }
  function num(x) { return typeof x === "number" && isFinite(x) ? x : null; }
  function placedAt(doc) { return typeof doc.lat === "number" && typeof doc.lon === "number"; }

  // --- the live objects ---------------------------------------------------------------------------
  // A device keeps only what the map draws, not its doc: the parsed docs of an update then die
  // young, which is what keeps the garbage collector cheap at 50,000 devices a second.
  function Dev(id) {
    this.id = id; this.lat = NaN; this.lon = NaN; this.mx = 0; this.my = 0;
    this.kind = null; this.subtype = null; this.sym = 0;
    this.cat = -1; this.off = false; this.ts = 0; this.gen = 0;
    this.trail = null; this.tn = 0; this.th = 0;    // ring of normalised positions, oldest first
  }
  Dev.prototype.getLatLng = function () { return latLng(this.lat, this.lon); };

  function Case(id) {
    this.id = id; this.doc = null; this.lat = NaN; this.lon = NaN; this.mx = 0; this.my = 0;
    this.placed = false; this.due = null; this.warn = null; this.susp = false; this.gen = 0;
  }
  Case.prototype.getLatLng = Dev.prototype.getLatLng;

  function Alert(id) {
    this.id = id; this.doc = null; this.lat = NaN; this.lon = NaN; this.sev = "detection";
    this.marker = null; this.shownSev = null; this.gen = 0;   // marker, shownSev: the map's
  }

  var SEVERITIES = ["detection", "alert", "critical"];

  // opts: clock (createClock()), config (merged into the defaults below), hooks {applied(msg),
  // alert(a), alertGone(a)}: the map's redraw and its DOM markers.
  function createStore(opts) {
    opts = opts || {};
    var clock = opts.clock || createClock();
    // offlineAfterS and subtypes are the contract's (dashboard/contract.py): the map configures
    // them from the page before the first poll; until then nothing is faded by age and every
    // vehicle is drawn as "vehicle".
    var cfg = {layers: {}, clusterAbove: 3000, trailPoints: 20, gridsMinZoom: 14, shift: "",
      offlineAfterS: Infinity, subtypes: []};
    LAYERS.forEach(function (name) { cfg.layers[name] = true; });
    var devices = new Map(), cases = new Map(), alerts = new Map();
    var gen = 0;
    var TMP = {mx: 0, my: 0};

    var live = {
      markers: devices,   // device id -> object with getLatLng() (WGS-84), moved in place
      devices: devices,
      cases: cases,
      alerts: alerts,
      version: null,
      updates: 0,
      fulls: 0,           // how many of them were full pictures
      gaps: 0,            // deltas not applied (a version gap or a reset): a whole picture asked for
      lastApplyMs: 0,     // parse + state update + redraw of the last apply()
      lastFrameMs: 0,     // the last redraw alone (also after pans, zooms and light changes)
      frames: 0,
      clustered: false,
      config: cfg,
      clock: clock,
      counts: [0, 0],     // placed collectors, placed other devices
      placedCases: 0,
      symbols: null,      // symbol names by index: collector, the subtypes, vehicle, other
      hooks: opts.hooks || {},
      // What the last frame drew in view; groups: clusters + lone objects over the whole map
      stats: {devices: 0, cases: 0, clusters: 0, trails: 0, alerts: 0, groups: 0}
    };

    function symbolNames() {
      live.symbols = ["collector"].concat(cfg.subtypes, ["vehicle", "other"]);
    }
    // Shape tells the type from 10 m away: one symbol per vehicle subtype of the contract.
    function symOf(kind, subtype) {
      if (kind === "collector") { return 0; }
      var i = cfg.subtypes.indexOf(subtype);
      if (i >= 0) { return 1 + i; }
      return kind === "vehicle" ? 1 + cfg.subtypes.length : 2 + cfg.subtypes.length;
    }

    // Settings from the page (the map's box, the contract); then everything already known is
    // placed again under them.
    live.configure = function (next) {
      for (var k in next) {
        if (!Object.prototype.hasOwnProperty.call(next, k) || next[k] === undefined) { continue; }
        if (k === "layers") {
          var names = next.layers;
          LAYERS.forEach(function (name) { cfg.layers[name] = names.indexOf(name) >= 0; });
        } else {
          cfg[k] = next[k];
        }
      }
      symbolNames();
      devices.forEach(function (d) {
        d.sym = symOf(d.kind, d.subtype);
        d.trail = null; d.tn = 0; d.th = 0;
        if (d.cat >= 0) { geo.project(d.lat, d.lon, cfg.shift, d); }
      });
      cases.forEach(function (c) { if (c.placed) { geo.project(c.lat, c.lon, cfg.shift, c); } });
    };
    live.layers = LAYERS;

    live.trailsOn = function () { return cfg.layers.trails && cfg.trailPoints > 1 && !live.clustered; };

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
      if (!d || typeof text !== "string" || !live.trailsOn()) { return; }
      var pts = text.split(";"), n = Math.min(pts.length, cfg.trailPoints);
      d.tn = 0; d.th = 0;
      for (var i = n - 1; i >= 0; i--) {
        var c = pts[i].indexOf(",");
        var lon = +pts[i].slice(0, c), lat = +pts[i].slice(c + 1);
        if (c > 0 && isFinite(lon) && isFinite(lat)) { geo.project(lat, lon, cfg.shift, TMP); pushTrail(d, TMP.mx, TMP.my); }
      }
      if (d.cat >= 0) { pushTrail(d, d.mx, d.my); }
    }

    function upsertDevice(doc) {
      if (!doc || doc.id === undefined || doc.id === null) { return null; }
      var d = devices.get(doc.id);
      if (!d) { d = new Dev(doc.id); devices.set(doc.id, d); }
      if (d.kind !== doc.kind || d.subtype !== doc.subtype) {
        d.kind = doc.kind; d.subtype = doc.subtype;
        d.sym = symOf(d.kind, d.subtype);
      }
      d.off = doc.online === false;
      d.ts = typeof doc.ts === "number" ? doc.ts : 0;
      var placed = placedAt(doc);
      var cat = placed ? (d.sym === 0 ? 0 : 1) : -1;
      if (cat !== d.cat) {
        if (d.cat >= 0) { live.counts[d.cat] -= 1; }
        if (cat >= 0) { live.counts[cat] += 1; }
        d.cat = cat;
      }
      if (placed && (doc.lat !== d.lat || doc.lon !== d.lon)) {
        d.lat = doc.lat; d.lon = doc.lon;
        geo.project(d.lat, d.lon, cfg.shift, d);
        if (live.trailsOn()) { pushTrail(d, d.mx, d.my); }
      }
      return d;
    }
    function removeDevice(id) {
      var d = devices.get(id);
      if (!d) { return; }
      if (d.cat >= 0) { live.counts[d.cat] -= 1; }
      devices.delete(id);
    }

    function upsertCase(doc) {
      if (!doc || doc.case_id === undefined || doc.case_id === null) { return null; }
      if (doc.open === false) { removeCase(doc.case_id); return null; }
      var c = cases.get(doc.case_id);
      if (!c) { c = new Case(doc.case_id); cases.set(doc.case_id, c); }
      c.doc = doc;
      c.due = num(doc.due); c.warn = num(doc.warn_at); c.susp = doc.suspended === true;
      var placed = placedAt(doc);
      if (placed !== c.placed) { live.placedCases += placed ? 1 : -1; c.placed = placed; }
      if (placed && (doc.lat !== c.lat || doc.lon !== c.lon)) {
        c.lat = doc.lat; c.lon = doc.lon;
        geo.project(c.lat, c.lon, cfg.shift, c);
      }
      return c;
    }
    function removeCase(id) {
      var c = cases.get(id);
      if (!c) { return; }
      if (c.placed) { live.placedCases -= 1; }
      cases.delete(id);
    }

    function upsertAlert(doc) {
      if (!doc || doc.alert_id === undefined || doc.alert_id === null) { return null; }
      if (doc.state === "end") { removeAlert(doc.alert_id); return null; }
      var a = alerts.get(doc.alert_id);
      if (!a) { a = new Alert(doc.alert_id); alerts.set(doc.alert_id, a); }
      a.doc = doc;
      a.sev = SEVERITIES.indexOf(doc.severity) >= 0 ? doc.severity : "detection";
      a.lat = typeof doc.lat === "number" ? doc.lat : NaN;
      a.lon = typeof doc.lon === "number" ? doc.lon : NaN;
      if (live.hooks.alert) { live.hooks.alert(a); }
      return a;
    }
    function removeAlert(id) {
      var a = alerts.get(id);
      if (!a) { return; }
      if (live.hooks.alertGone) { live.hooks.alertGone(a); }
      alerts.delete(id);
    }

    // --- applying a message ---------------------------------------------------------------------
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
    // Deltas follow on from our version: one per version, none of them a reset.
    function followsOn(msg) {
      if (live.version === null || typeof msg.v !== "number") { return false; }
      if (msg.v - live.version !== msg.deltas.length) { return false; }
      for (var i = 0; i < msg.deltas.length; i++) {
        if (!msg.deltas[i] || msg.deltas[i].reset) { return false; }
      }
      return true;
    }

    // One poll's "live" part (a JSON string or its object). Returns the version the store is at
    // now: null asks the server for the whole picture.
    live.apply = function (raw) {
      if (!raw) { return live.version; }
      var t0 = perf.now();
      var msg = typeof raw === "string" ? JSON.parse(raw) : raw;
      clock.observe(msg.now);
      if (msg.full) {
        applyFull(msg);
        live.fulls += 1;
        live.version = msg.v;
      } else if (msg.deltas) {
        if (followsOn(msg)) {
          // In version order: applying them in turn leaves the newest state of each object.
          for (var i = 0; i < msg.deltas.length; i++) { applyDelta(msg.deltas[i]); }
          live.version = msg.v;
        } else {
          live.gaps += 1;
          live.version = null;   // what we have stays on screen until the whole picture comes
        }
      } else {
        live.version = msg.v;
      }
      live.updates += 1;
      if (live.hooks.applied) { live.hooks.applied(msg); }
      live.lastApplyMs = perf.now() - t0;
      return live.version;
    };

    // The light a case pin shows: a case with no clock running is drawn green.
    live.pinLight = function (c, now) {
      var i = lightIndex(c.due, c.warn, c.susp, now);
      return i === NONE ? GREEN : i;
    };
    live.caseLight = function (id) {
      var c = cases.get(id);
      return c ? LIGHTS[live.pinLight(c, clock.now())] : null;
    };
    // Offline (a last will) or silent for longer than the contract's offline age: drawn faded.
    live.isDim = function (d, now) { return d.off || (d.ts > 0 && now - d.ts > cfg.offlineAfterS); };
    // Point objects in the layers shown: past config.clusterAbove the map draws clusters.
    live.pointCount = function () {
      return (cfg.layers.collectors ? live.counts[0] : 0) + (cfg.layers.vehicles ? live.counts[1] : 0) +
        (cfg.layers.cases ? live.placedCases : 0);
    };
    symbolNames();
    return live;
  }

  return {
    LIGHTS: LIGHTS,
    LIGHT: {GREY: GREY, GREEN: GREEN, YELLOW: YELLOW, RED: RED, NONE: NONE},
    lightAt: lightAt,
    lightIndex: lightIndex,
    nextChange: nextChange,
    createClock: createClock,
    createStore: createStore
  };
});
