/* The desk's replay page (layouts/replay.py, docs/desk.md "Replay"): the choice of devices and
 * window, the player (play/pause, 1-60x, the time slider, trails) and the tracks drawn over the
 * city's map, the devices with their distance, moving time and stops, "follow one device".
 *
 * The tracks come from /desk/api/replay (dashboard/replay_api.py) once per choice; everything
 * after that is drawn here, frame by frame, from typed arrays (assets/gridwall-replay-lib.js: the
 * interpolation, the clock, the address). Texts from the answer are written as text, never as
 * HTML. Reused: the map's basemap and symbols (assets/gridwall-map.js, gridwall-map-symbols.js),
 * the projection (assets/gridwall-geometry.js), durations (assets/gridwall-desk-lib.js).
 *
 * The tracks are drawn on a canvas of their own laid over the Leaflet map's container and
 * redrawn whenever the map moves; during a zoom animation it is hidden (a quarter of a second)
 * rather than scaled. One frame: each device's position at t (the lib's cursor makes that a
 * step or two per device), its trail as one path per symbol, its sprite. window.gridwall.replay
 * keeps the frame times and the load's marks (bench/bench_replay.py reads them). */
(function () {
  "use strict";
  if (typeof window === "undefined") { return; }
  var gw = (window.gridwall = window.gridwall || {});
  var R = (gw.replay = {
    stats: {frames: 0, lastMs: 0, maxMs: 0, sumMs: 0, recent: [], lastT: null},  // draw times, ms (recent: the last 600); lastT: the t of the last frame drawn
    marks: {},                                                      // performance.now() of the load's steps
    clock: null, devices: [], answer: null
  });
  var MAP_ID = "gw-r-map";
  var SYMBOLS = ["collector", "vehicle"];   // then the contract's vehicle subtypes (start())
  var STOPS_ALL_UPTO = 40;                  // every device's stops on the map up to this many devices; else the followed one's
  var WIDE_UPTO = 300;                      // trails 2 px wide up to this many, hairlines beyond (cheaper by far)
  var MIN_STEP_PX = 1.5;                    // a trail point closer than this to the last drawn is skipped
  var UI_MS = 100;                          // the slider and clock are written at most this often
  var lib, deskLib, geo, root, words = {}, lang = "zh", tz = "Asia/Shanghai", defaults = {};
  var query = {}, loadSeq = 0, optionsLoaded = false;
  var map = null, canvas = null, ctx = null, sprites = null, shift = "";
  var followIdx = -1, trailS = 600, gapS = 300, from = 0, lastUi = 0, rafPending = false, hidden = false;
  var OUT = {lat: 0, lon: 0}, P = {mx: 0, my: 0};

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fill(template, vars) { return deskLib.fill(template || "", vars || {}); }
  // The desk's durations (never "0": an overdue case is at least a minute late); a device that
  // did not move at all in the window moved for "—", not for a minute.
  function duration(s) { return s < 30 ? "\u2014" : deskLib.duration(s, words); }

  // --- the map and its canvas -----------------------------------------------------------------------
  function attach(m) {
    map = m;
    // The basemap's place labels go to a pane of this name (assets/gridwall-map.js basemapLabel).
    var labels = m.getPane("gw-labels") || m.createPane("gw-labels");
    labels.style.zIndex = 460;
    labels.style.pointerEvents = "none";
    var box = byId("gw-r-map-box");
    shift = box ? box.getAttribute("data-shift") || "" : "";
    canvas = el("canvas", "gw-r-canvas");
    m.getContainer().appendChild(canvas);
    ctx = canvas.getContext("2d");
    m.on("move zoomend viewreset", requestDraw);
    m.on("resize", function () { sizeCanvas(); requestDraw(); });
    m.on("zoomanim", function () { canvas.style.visibility = "hidden"; hidden = true; });
    m.on("zoomend", function () { canvas.style.visibility = ""; hidden = false; });
    m.whenReady(function () { sizeCanvas(); requestDraw(); });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { if (map === m) { m.invalidateSize(); sizeCanvas(); requestDraw(); } }).observe(m.getContainer());
    }
    if (R.answer) { rebuild(); }   // the answer came before the map: project it now
  }
  if (window.L && L.Map) {
    L.Map.addInitHook(function () { if (this.getContainer().id === MAP_ID) { attach(this); } });
  }

  function ratio() { return Math.min(3, Math.max(1, window.devicePixelRatio || 1)); }

  function sizeCanvas() {
    if (!map || !canvas) { return; }
    var size = map.getSize(), m = ratio();
    canvas.width = Math.max(1, Math.round(size.x * m));
    canvas.height = Math.max(1, Math.round(size.y * m));
    canvas.style.width = size.x + "px";
    canvas.style.height = size.y + "px";
    if (!sprites || sprites.ratio !== m) { sprites = gw.symbols.makeSprites(m, SYMBOLS); }
  }

  function project(lat, lon, into) { return geo.project(lat, lon, shift, into); }

  // The frame's geometry: device px = (mx·S − ox)·m, from the map's centre (public API only).
  var F = {S: 0, ox: 0, oy: 0, m: 1, w: 0, h: 0};
  function geometry() {
    var size = map.getSize(), c = map.getCenter();
    F.S = 256 * Math.pow(2, map.getZoom());
    geo.project(c.lat, c.lng, "", P);   // the map's centre is already in the map's own datum
    F.ox = P.mx * F.S - size.x / 2;
    F.oy = P.my * F.S - size.y / 2;
    F.m = ratio(); F.w = canvas.width; F.h = canvas.height;
  }
  function px(mx) { return (mx * F.S - F.ox) * F.m; }
  function py(my) { return (my * F.S - F.oy) * F.m; }

  // --- the answer -> tracks ------------------------------------------------------------------------
  function symbolOf(d) {
    if (d.kind === "collector") { return 0; }
    var i = SYMBOLS.indexOf(d.subtype);
    return i > 0 ? i : 1;
  }

  function rebuild() {
    var answer = R.answer;
    from = answer.from;
    gapS = answer.gap_s;
    R.devices = answer.devices.map(function (d) {
      return {doc: d, tr: lib.buildTrack(d.fixes, project), sym: symbolOf(d), state: lib.BEFORE, lat: 0, lon: 0, mx: 0, my: 0};
    });
    R.marks.built = performance.now();
  }

  // --- drawing -------------------------------------------------------------------------------------
  function requestDraw() {
    if (rafPending) { return; }
    rafPending = true;
    window.requestAnimationFrame(tick);
  }

  function tick(nowMs) {
    rafPending = false;
    var c = R.clock;
    if (c) {
      lib.step(c, nowMs);
      if (c.playing) { requestDraw(); }
    }
    frame();
    if (c && (!c.playing || nowMs - lastUi >= UI_MS)) { lastUi = nowMs; showTime(); }
  }

  function frame() {
    if (!map || !ctx || hidden || !R.clock) { return; }
    var t0 = performance.now();
    var t = R.clock.t, devices = R.devices, n = devices.length, i, d;
    for (i = 0; i < n; i++) {
      d = devices[i];
      d.state = lib.positionAt(d.tr, t, gapS, OUT);
      if (d.state !== lib.BEFORE) { d.lat = OUT.lat; d.lon = OUT.lon; project(OUT.lat, OUT.lon, P); d.mx = P.mx; d.my = P.my; }
    }
    if (followIdx >= 0 && devices[followIdx] && devices[followIdx].state !== lib.BEFORE) { follow(devices[followIdx]); }
    geometry();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, F.w, F.h);
    if (followIdx >= 0 && devices[followIdx]) { drawWhole(devices[followIdx]); }
    if (trailS !== 0) { drawTrails(t); }
    drawStops(t);
    drawDevices();
    var ms = performance.now() - t0, st = R.stats;
    st.frames += 1; st.lastMs = ms; st.sumMs += ms; st.lastT = t;
    if (ms > st.maxMs) { st.maxMs = ms; }
    st.recent.push(ms);
    if (st.recent.length > 600) { st.recent.shift(); }
    if (R.clock.playing && R.marks.playing === undefined) { R.marks.playing = performance.now(); }
  }

  // The followed device stays in view: the map pans when it nears the edge (a quarter in).
  function follow(d) {
    geometry();
    var x = px(d.mx) / F.m, y = py(d.my) / F.m, size = map.getSize();
    if (x < size.x * 0.25 || x > size.x * 0.75 || y < size.y * 0.25 || y > size.y * 0.75) {
      var ll = displayLatLng(d.lat, d.lon);
      map.panTo(ll, {animate: false});
    }
  }

  function displayLatLng(lat, lon) {
    geo.shiftInto(lat, lon, shift, OUT);
    return L.latLng(OUT.lat, OUT.lon);
  }

  var paths = [];
  function drawTrails(t) {
    var devices = R.devices, n = devices.length, m = F.m, s, i, k;
    var minStep = MIN_STEP_PX * m, pad = 200 * m, drawn = 0;
    for (s = 0; s < SYMBOLS.length; s++) { paths[s] = null; }
    for (i = 0; i < n; i++) {
      var d = devices[i], tr = d.tr;
      if (d.state === lib.BEFORE || tr.n < 1) { continue; }
      var x = px(d.mx), y = py(d.my);
      if (trailS > 0 && (x < -pad || x > F.w + pad || y < -pad || y > F.h + pad)) { continue; }
      var a = lib.trailStart(tr, t, trailS), b = tr.cur;
      if (b < a) { continue; }
      var p = paths[d.sym] || (paths[d.sym] = new Path2D());
      var ts = tr.t, lx = px(tr.mx[a]), ly = py(tr.my[a]);
      p.moveTo(lx, ly);
      for (k = a + 1; k <= b; k++) {
        x = px(tr.mx[k]); y = py(tr.my[k]);
        if (ts[k] - ts[k - 1] > gapS) { p.moveTo(x, y); lx = x; ly = y; continue; }
        if (Math.abs(x - lx) + Math.abs(y - ly) >= minStep || k === b) { p.lineTo(x, y); lx = x; ly = y; }
      }
      if (d.state === lib.ON) { p.lineTo(px(d.mx), py(d.my)); }
      drawn += 1;
    }
    ctx.lineWidth = drawn <= WIDE_UPTO ? 2 * m : 1;
    ctx.lineJoin = "round";
    ctx.globalAlpha = 0.75;
    for (s = 0; s < SYMBOLS.length; s++) {
      if (paths[s]) { ctx.strokeStyle = gw.symbols.color(SYMBOLS[s]); ctx.stroke(paths[s]); paths[s] = null; }
    }
    ctx.globalAlpha = 1;
  }

  // The followed device's whole track, faint, under everything.
  function drawWhole(d) {
    var tr = d.tr, ts = tr.t, k;
    if (tr.n < 2) { return; }
    ctx.beginPath();
    ctx.moveTo(px(tr.mx[0]), py(tr.my[0]));
    for (k = 1; k < tr.n; k++) {
      if (ts[k] - ts[k - 1] > gapS) { ctx.moveTo(px(tr.mx[k]), py(tr.my[k])); } else { ctx.lineTo(px(tr.mx[k]), py(tr.my[k])); }
    }
    ctx.lineWidth = 3 * F.m;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.28)";
    ctx.stroke();
  }

  // Stops: a ring at each place (filled while the device stands there); every device's when
  // there are few, else the followed one's.
  function drawStops(t) {
    var devices = R.devices, m = F.m;
    var which = followIdx >= 0 ? [devices[followIdx]] : (devices.length <= STOPS_ALL_UPTO ? devices : []);
    which.forEach(function (d) {
      if (!d) { return; }
      var color = gw.symbols.color(SYMBOLS[d.sym]);
      d.doc.stops.forEach(function (s) {
        project(s.lat, s.lon, P);
        var x = px(P.mx), y = py(P.my);
        if (x < -20 || y < -20 || x > F.w + 20 || y > F.h + 20) { return; }
        ctx.beginPath();
        ctx.arc(x, y, 7 * m, 0, 2 * Math.PI);
        ctx.lineWidth = 2 * m;
        ctx.strokeStyle = color;
        if (t >= s.t0 && t <= s.t1) { ctx.fillStyle = color; ctx.globalAlpha = 0.45; ctx.fill(); ctx.globalAlpha = 1; }
        ctx.stroke();
      });
    });
  }

  function drawDevices() {
    var devices = R.devices, n = devices.length, dev = sprites.dev, m = F.m;
    for (var i = 0; i < n; i++) {
      var d = devices[i];
      if (d.state === lib.BEFORE) { continue; }
      var x = px(d.mx), y = py(d.my);
      if (x < -20 * m || y < -20 * m || x > F.w + 20 * m || y > F.h + 20 * m) { continue; }
      var sp = dev[d.sym][d.state === lib.ON ? 0 : 1];
      ctx.drawImage(sp.img, Math.round(x - sp.dx), Math.round(y - sp.dy));
      if (i === followIdx) {
        ctx.beginPath();
        ctx.arc(x, y, 14 * m, 0, 2 * Math.PI);
        ctx.lineWidth = 2.5 * m;
        ctx.strokeStyle = "#ffffff";
        ctx.stroke();
      }
    }
  }

  // --- the player ----------------------------------------------------------------------------------
  function showTime() {
    var c = R.clock, slider = byId("gw-r-slider"), label = byId("gw-r-time"), play = byId("gw-r-play");
    if (!c) { return; }
    if (slider && document.activeElement !== slider) { slider.value = String(Math.round(c.t)); }
    if (label) { label.textContent = lib.timeText(from + c.t, tz, true) + ":" + lib.timeText(from + c.t, tz).slice(6); }
    if (play) {
      var text = c.playing ? words.replay_pause : words.replay_play;
      if (play.textContent !== text) { play.textContent = text; }
    }
  }

  function bindPlayer() {
    var play = byId("gw-r-play"), slider = byId("gw-r-slider"), speed = byId("gw-r-speed"), trail = byId("gw-r-trail");
    play.addEventListener("click", function () {
      var c = R.clock;
      if (!c) { return; }
      if (c.playing) { c.playing = false; } else { lib.play(c, performance.now()); }
      showTime();
      requestDraw();
    });
    slider.addEventListener("input", function () {
      if (!R.clock) { return; }
      lib.seek(R.clock, +slider.value);
      R.clock.lastMs = R.clock.playing ? performance.now() : null;
      requestDraw();
      showTime();
    });
    speed.addEventListener("change", function () { if (R.clock) { R.clock.speed = +speed.value || 1; } });
    trail.addEventListener("change", function () { trailS = +trail.value; requestDraw(); });
    speed.value = defaults.speed || "60";
    trail.value = defaults.trail || "600";
    trailS = +trail.value;
  }

  // --- the choice ----------------------------------------------------------------------------------
  var FIELDS = ["what", "department", "devices", "from", "to", "stop_min"];
  function readForm() {
    var f = {};
    FIELDS.forEach(function (k) { var e = byId("gw-r-f-" + k); f[k] = e ? e.value : ""; });
    return f;
  }
  function fillForm(q) {
    var f = lib.formOf(q);
    f.from = f.from || defaults.night_from || defaults.from;
    f.to = f.to || defaults.night_to || defaults.to;
    f.stop_min = f.stop_min || defaults.stop_min;
    if (!f.what) { f.what = defaults.what || "vehicle:"; }
    FIELDS.forEach(function (k) {
      var e = byId("gw-r-f-" + k);
      if (e && f[k] !== undefined) {
        if (e.tagName === "SELECT" && f[k] && !Array.prototype.some.call(e.options, function (o) { return o.value === f[k]; })) {
          e.appendChild(el("option", null, f[k])).value = f[k];   // a department the options do not list (yet)
        }
        e.value = f[k];
      }
    });
    showDevicesField();
  }
  function showDevicesField() {
    var what = byId("gw-r-f-what"), box = byId("gw-r-f-devices"), field = box && box.closest(".gw-d-field");
    if (what && field) { field.hidden = what.value !== "devices"; }
  }

  function bindForm() {
    byId("gw-r-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = lib.queryOf(readForm());
      if (query.lang) { q.lang = query.lang; }
      go(q);
    });
    byId("gw-r-f-what").addEventListener("change", showDevicesField);
    byId("gw-r-lastnight").addEventListener("click", function () {
      byId("gw-r-f-from").value = defaults.night_from; byId("gw-r-f-to").value = defaults.night_to;
    });
    byId("gw-r-lasthour").addEventListener("click", function () {
      byId("gw-r-f-from").value = defaults.from; byId("gw-r-f-to").value = defaults.to;
    });
  }

  function loadOptions() {
    if (optionsLoaded) { return; }
    optionsLoaded = true;
    getJSON("/desk/api/replay/options").then(function (res) {
      if (res.status !== 200) { return; }
      var select = byId("gw-r-f-department");
      if (!select) { return; }
      var keep = select.value;
      while (select.options.length > 1) { select.remove(1); }
      res.body.departments.forEach(function (dep) {
        var n = dep.vehicle + dep.collector;
        var o = el("option", null, (lang === "en" ? dep.en : dep.zh) + " (" + n + ")");
        o.value = dep.code;
        select.appendChild(o);
      });
      select.value = keep;
    }).catch(function () { optionsLoaded = false; });
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); }
      return resp.json().then(function (body) { return {status: resp.status, body: body}; });
    });
  }

  function showError(text) {
    var box = byId("gw-r-error");
    if (!box) { return; }
    box.textContent = text || "";
    box.hidden = !text;
  }

  // The address names the replay: set it, then load.
  function go(q) {
    query = q;
    history.replaceState(null, "", lib.href(q));
    load();
  }

  function load() {
    var url = lib.apiUrl(query);
    if (!url) { byId("gw-r-summary").textContent = words.replay_pick; return; }
    var seq = ++loadSeq;
    showError("");
    byId("gw-r-summary").textContent = words.replay_loading;
    var early = prefetched && prefetched.url === url ? prefetched : null;
    prefetched = null;
    R.marks = {requested: early ? early.at : performance.now()};
    (early ? early.answer : getJSON(url)).then(function (res) {
      if (seq !== loadSeq) { return; }
      R.marks.fetched = performance.now();
      if (res.status !== 200) {
        byId("gw-r-summary").textContent = "";
        showError(fill(words.replay_failed, {detail: (res.body && (res.body.detail || res.body.reason)) || res.status}));
        return;
      }
      start(res.body);
    }).catch(function (err) {
      if (seq !== loadSeq) { return; }
      showError(fill(words.replay_failed, {detail: String(err && err.message || err)}));
    });
  }

  function start(answer) {
    R.answer = answer;
    followIdx = -1;
    rebuild();
    R.clock = lib.clock(answer.to - answer.from, +(byId("gw-r-speed").value) || 60);
    var slider = byId("gw-r-slider"), play = byId("gw-r-play");
    slider.max = String(Math.round(R.clock.end));
    slider.disabled = false;
    play.disabled = false;
    drawSummary();
    drawList();
    fitView();
    if (query.follow) {
      var idx = indexOf(query.follow);
      if (idx >= 0) { setFollow(idx); }
    }
    if (followIdx < 0) { drawStopsList(); }
    lib.play(R.clock, performance.now());
    R.marks.started = performance.now();
    requestDraw();
  }

  // The map shows where the chosen devices went (a single van: its streets; the fleet: the city).
  function fitView() {
    if (!map) { return; }
    var s = 90, w = 180, n = -90, e = -180, any = false;
    R.devices.forEach(function (d) {
      var tr = d.tr;
      for (var k = 0; k < tr.n; k++) {
        var la = tr.lat[k], lo = tr.lon[k];
        if (la < s) { s = la; } if (la > n) { n = la; } if (lo < w) { w = lo; } if (lo > e) { e = lo; }
        any = true;
      }
    });
    if (!any) { return; }
    geo.shiftInto(s, w, shift, OUT);
    var sw = L.latLng(OUT.lat, OUT.lon);
    geo.shiftInto(n, e, shift, OUT);
    map.fitBounds(L.latLngBounds(sw, L.latLng(OUT.lat, OUT.lon)), {padding: [30, 30], maxZoom: 16, animate: false});
  }

  function indexOf(id) {
    for (var i = 0; i < R.devices.length; i++) { if (R.devices[i].doc.id === id) { return i; } }
    return -1;
  }

  // --- the lists -----------------------------------------------------------------------------------
  function deviceName(d) {
    return d.name ? d.name + " · " + d.id : d.id;
  }
  function kindWord(d) {
    if (d.kind === "collector") { return words.replay_collectors; }
    return words["veh_" + d.subtype] || d.subtype || "";
  }

  function drawSummary() {
    var s = R.answer.summary, box = byId("gw-r-summary");
    if (!s.fixes) { box.textContent = words.replay_none; return; }
    box.textContent = fill(words.replay_summary, {n: s.devices, "with": s.with_fixes, fixes: s.fixes, km: lib.km(s.distance_m),
                                             moving: duration(s.moving_s), stops: s.stops});
  }

  function drawList() {
    var list = byId("gw-r-list");
    list.textContent = "";
    R.devices.forEach(function (dev, i) {
      var d = dev.doc, li = el("li", "gw-r-dev");
      li.setAttribute("data-id", d.id);
      var head = el("button", "gw-r-dev-name");
      head.type = "button";
      var dot = el("span", "gw-r-dot");
      dot.style.background = gw.symbols.color(SYMBOLS[dev.sym]);
      head.appendChild(dot);
      head.appendChild(el("span", null, deviceName(d)));
      head.addEventListener("click", function () { setFollow(followIdx === i ? -1 : i); });
      li.appendChild(head);
      li.appendChild(el("div", "gw-d-sub", [kindWord(d), lang === "en" ? d.dept_en : d.dept_zh].filter(Boolean).join(" · ")));
      li.appendChild(el("div", "gw-r-dev-line", d.fixes.length
        ? fill(words.replay_device_line, {km: lib.km(d.distance_m), moving: duration(d.moving_s), stops: d.stops.length})
        : words.replay_no_fix));
      list.appendChild(li);
    });
  }

  function setFollow(i) {
    followIdx = i;
    var box = byId("gw-r-follow");
    box.textContent = "";
    Array.prototype.forEach.call(byId("gw-r-list").children, function (li, k) { li.classList.toggle("gw-r-on", k === i); });
    if (i >= 0) {
      var d = R.devices[i].doc;
      box.appendChild(el("span", "gw-r-following", fill(words.replay_following, {name: deviceName(d)})));
      var off = el("button", "gw-d-btn gw-d-btn-quiet", words.replay_unfollow);
      off.type = "button";
      off.addEventListener("click", function () { setFollow(-1); });
      box.appendChild(off);
      query.follow = d.id;
      var dev = R.devices[i];
      if (dev.tr.n && map) {
        var k = Math.max(0, lib.indexAt(dev.tr, R.clock.t));
        map.panTo(displayLatLng(dev.tr.lat[k], dev.tr.lon[k]), {animate: false});
      }
    } else {
      delete query.follow;
    }
    history.replaceState(null, "", lib.href(query));
    drawStopsList();
    requestDraw();
  }

  function drawStopsList() {
    var list = byId("gw-r-stops"), title = byId("gw-r-stops-title");
    list.textContent = "";
    if (followIdx < 0) {
      title.textContent = words.replay_stops_hint;
      return;
    }
    var d = R.devices[followIdx].doc;
    title.textContent = fill(words.replay_stops_of, {name: deviceName(d)});
    if (!d.stops.length) { list.appendChild(el("li", "gw-d-sub", "—")); return; }
    d.stops.forEach(function (s) {
      var li = el("li", "gw-r-stop");
      var a = lib.timeText(from + s.t0, tz, true), b = lib.timeText(from + s.t1, tz, true);
      // "10-14 21:43–21:55": the date once when the stop ends the day it began.
      var when = fill(words.replay_stop_line, {t0: a, t1: a.slice(0, 5) === b.slice(0, 5) ? b.slice(6) : b, dur: duration(s.s)});
      var go = el("button", "gw-r-stop-go", when);
      go.type = "button";
      go.title = words.replay_seek;
      go.addEventListener("click", function () {
        lib.seek(R.clock, s.t0);
        R.clock.lastMs = R.clock.playing ? performance.now() : null;
        if (map) { map.panTo(displayLatLng(s.lat, s.lon), {animate: false}); }
        requestDraw();
        showTime();
      });
      li.appendChild(go);
      var place = [lang === "en" ? s.street_en : s.street_zh, lang === "en" ? s.grid_en : s.grid_zh].filter(Boolean).join(" · ");
      li.appendChild(el("div", "gw-d-sub", (place ? place + " · " : "") + s.lat.toFixed(5) + ", " + s.lon.toFixed(5)));
      var flags = [];
      if (s.open_start) { flags.push(words.replay_open_start); }
      if (s.open_end) { flags.push(words.replay_open_end); }
      if (flags.length) { li.appendChild(el("span", "gw-d-mark", flags.join(" · "))); }
      list.appendChild(li);
    });
  }

  // --- for tests and a console: where a device is drawn now --------------------------------------------
  R.shown = function (id) {
    var i = indexOf(id);
    if (i < 0 || !map || !R.clock) { return null; }
    var d = R.devices[i];
    if (d.state === lib.BEFORE) { return {state: d.state}; }
    geometry();
    return {state: d.state, lat: d.lat, lon: d.lon, x: px(d.mx) / F.m, y: py(d.my) / F.m, t: R.clock.t};
  };
  R.pixelAt = function (x, y) {   // container px -> the canvas's RGBA there
    if (!ctx) { return null; }
    var m = ratio();
    return Array.prototype.slice.call(ctx.getImageData(Math.round(x * m), Math.round(y * m), 1, 1).data);
  };
  R.follow = function (id) { setFollow(indexOf(id)); };

  // --- start ---------------------------------------------------------------------------------------
  function begin() {
    root = byId("gw-replay");
    lib = gw.replayLib;
    deskLib = gw.deskLib;
    geo = gw.geo;
    if (!root || !lib || !deskLib || !geo || !gw.symbols) { return false; }
    var contract = {};
    try { contract = JSON.parse(root.getAttribute("data-contract") || "{}"); } catch (e) { contract = {}; }
    words = contract.words || {};
    lang = contract.lang || "zh";
    defaults = contract.defaults || {};
    tz = root.getAttribute("data-tz") || tz;
    SYMBOLS = ["collector", "vehicle"].concat(contract.vehicle_subtypes || []);
    if (canvas) { sprites = null; sizeCanvas(); }
    document.body.classList.add("gw-replay-page");
    bindPlayer();
    bindForm();
    query = lib.parse(location.search);
    fillForm(query);
    byId("gw-r-stops-title").textContent = words.replay_stops_hint;
    loadOptions();
    load();
    return true;
  }

  // A replay named by the address is asked for at once, while Dash is still building the page
  // (a third of a second on a desk PC): the answer is on its way before the page exists.
  var prefetched = null;
  (function prefetch() {
    var l = gw.replayLib;
    var url = l && location.pathname === "/desk/replay" ? l.apiUrl(l.parse(location.search)) : null;
    if (url) {
      prefetched = {url: url, at: performance.now(), answer: getJSON(url)};
      prefetched.answer.catch(function () { /* load() reports it, if it is still wanted */ });
    }
  })();

  // The page is rendered by Dash after the scripts ran: wait for its root.
  (function wait(tries) {
    if (!begin() && tries < 600) { setTimeout(function () { wait(tries + 1); }, 50); }
  })(0);
})();
