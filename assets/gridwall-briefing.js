/* The briefing (docs/briefing.md): a tour of scenes on the wall's fixed canvas, the live map
 * behind. Every scene's DOM is in the page from the start (layouts/briefing.py) and filled here
 * once its figures come (/briefing/data), then updated in place; a scene change is a cross-fade
 * of opacity (gridwall-briefing.css), so nothing moves and nothing is re-created, and a scene
 * whose chart is not drawn yet is skipped rather than shown empty.
 *
 * The map, today's tiles and counters are the wall's own code (gridwall-map.js, -panels.js,
 * -kpi.js), fed by the wall's poll at /briefing/poll (data-poll-url). The tour's rules (which
 * scene, keys, pause, loop) are gridwall-briefing-lib.js, tested under Node.
 *
 * For tests and the bench: ?scene_s=1 gives every scene one second; gridwall.briefing holds the
 * tour, the last switches' times (key or timer to the new scene fully opaque) and the lowest sum
 * of the two scenes' opacities seen during each (1: never a blank frame). */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var B = (gw.briefing = gw.briefing || {started: false, switches: [], fetches: 0, failures: 0, data: null, tour: null});
  var FADE_MS = 200; // the cross-fade: within the switch's 300 ms with a frame or two to spare
  var LOOP_MS = 100;
  var REFETCH_MS = 60000; // the server builds the figures at most every refresh_s anyway
  var SWITCHES_KEPT = 200;

  function root() {
    var c = document.getElementById("gw-canvas");
    return c && c.classList.contains("gw-bf") ? c : null;
  }
  var conf = null, scenes = [], dots = [], lib = null, current = -1;

  function say(key, vars) {
    var w = conf.words[key];
    return typeof w === "string" ? lib.fill(w, vars) : key;
  }
  function text(el, value) {
    if (!el) { return; }
    var s = value === null || value === undefined || value === "" ? "—" : String(value);
    if (el.textContent !== s) { el.textContent = s; }
  }
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (content !== undefined) { e.textContent = content; }
    return e;
  }
  function slot(scene, name) { return scene.querySelector('[data-slot="' + name + '"]'); }
  function name2(row) { return conf.lang === "en" ? (row.en || row.zh) : row.zh; }
  function field(row, key) { return conf.lang === "en" ? (row[key + "_en"] || row[key + "_zh"]) : row[key + "_zh"]; }

  var timeFormats = {};
  function when(epochS, withDate) {
    if (!epochS) { return "—"; }
    var tz = gw.canvasAttr("data-tz", "Asia/Shanghai"), key = withDate ? "d" : "t";
    if (!timeFormats[key]) {
      timeFormats[key] = new Intl.DateTimeFormat(conf.words.date_locale || "zh-CN", withDate
        ? {timeZone: tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false}
        : {timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false});
    }
    return timeFormats[key].format(new Date(epochS * 1000));
  }

  // Rows of a list, reused: as many children as rows, each made once.
  function rowsOf(box, n, make) {
    while (box.children.length < n) { box.appendChild(make()); }
    while (box.children.length > n) { box.removeChild(box.lastChild); }
    return box.children;
  }
  function bars(box, rows) {
    // An empty list's placeholder and the bars are different rows: never reuse one as the other.
    var empty = !rows.length;
    if (box.firstChild && box.firstChild.classList.contains("gw-bf-empty") !== empty) { box.textContent = ""; }
    var max = 1;
    rows.forEach(function (r) { max = Math.max(max, r.n); });
    var items = rowsOf(box, rows.length, function () {
      var r = el("div", "gw-bf-bar");
      r.appendChild(el("span", "gw-bf-bar-label"));
      var track = el("span", "gw-bf-bar-track");
      track.appendChild(el("span", "gw-bf-bar-fill"));
      r.appendChild(track);
      r.appendChild(el("span", "gw-bf-bar-n"));
      return r;
    });
    rows.forEach(function (r, i) {
      text(items[i].children[0], r.label);
      var fill = items[i].children[1].firstChild, w = (100 * r.n / max).toFixed(1) + "%";
      if (fill.style.width !== w) { fill.style.width = w; }
      text(items[i].children[2], lib.number(r.n));
    });
    if (empty) { rowsOf(box, 1, function () { return el("div", "gw-bf-empty"); }); text(box.firstChild, say("bf_no_data")); }
  }
  function periodNote(scene, d) {
    var note = scene.querySelector(".gw-bf-note");
    if (d && d.first) { text(note, say("bf_" + d.period) + "  " + say("bf_period_range", {a: d.first, b: d.last})); }
  }

  // --- the scenes ------------------------------------------------------------------------------
  var fill = {
    city: function (scene, d) {
      ["area_km2", "streets", "grids", "collectors", "vehicles", "year_reported", "year_closed"].forEach(function (k) {
        text(slot(scene, k), lib.number(d[k]));
      });
      text(slot(scene, "year_close_rate"), d.year_close_rate);
      text(scene.querySelector(".gw-bf-note"), conf.lang === "en" ? d.name_en : d.name_zh);
      return true;
    },
    today: function () { return true; }, // the wall's tiles and counters, from the poll
    trend: function (scene, d, key) {
      var graph = scene.querySelector(".gw-bf-chart");
      text(scene.querySelector(".gw-bf-h1"), say(d.unit === "week" ? "bf_trend_week" : "bf_trend_month"));
      var sig = JSON.stringify(d.points) + graph.offsetWidth + "x" + graph.offsetHeight;
      B.drawnSig = B.drawnSig || {};
      if (B.drawnSig[key] !== sig && window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props(conf.chart_prefix + key,
          {figure: lib.trendFigure(d, conf.words, graph.offsetWidth, graph.offsetHeight)});
        B.drawnSig[key] = sig;
      }
      return drawn(scene);
    },
    evaluation: function (scene, d) {
      (d.tables || []).forEach(function (tb) {
        var box = slot(scene, tb.period);
        if (!box) { return; }
        text(box.querySelector(".gw-bf-h2"), say("bf_" + tb.period) + "  " + say("bf_period_range", {a: tb.first, b: tb.last}));
        var items = rowsOf(box.querySelector(".gw-bf-rows"), tb.rows.length, function () {
          var r = el("div", "gw-bf-row");
          for (var i = 0; i < 4; i++) { r.appendChild(el("span")); }
          return r;
        });
        tb.rows.forEach(function (row, i) {
          var r = items[i];
          var cls = "gw-bf-row" + (row.mark ? " gw-bf-" + row.mark : "") + " gw-bf-g-" + (row.grade || "none");
          if (r.className !== cls) { r.className = cls; }
          text(r.children[0], row.pos === null ? "—" : row.pos);
          text(r.children[1], name2(row));
          text(r.children[2], row.score);
          text(r.children[3], row.grade);
        });
      });
      return true;
    },
    case: function (scene, d) {
      var facts = scene.querySelector(".gw-bf-case-facts"), steps = scene.querySelector(".gw-bf-steps"),
          photos = scene.querySelector(".gw-bf-photos");
      if (facts.firstChild && facts.firstChild.classList.contains("gw-bf-empty") !== !d.found) { facts.textContent = ""; }
      if (!d.found) {
        rowsOf(facts, 1, function () { return el("div", "gw-bf-empty"); });
        text(facts.firstChild, say("bf_no_case"));
        rowsOf(steps, 0); rowsOf(photos, 0);
        return true;
      }
      text(scene.querySelector(".gw-bf-note"), say(d.by === "desk" ? "bf_by_desk" : "bf_by_rule"));
      var f = rowsOf(facts, 5, function () { return el("div"); });
      f[0].className = "gw-bf-case-problem" + (d.urgent ? " gw-bf-urgent" : "");
      text(f[0], field(d, "problem") + (d.urgent ? "  · " + say("bf_urgent") : ""));
      f[1].className = "gw-bf-case-place";
      text(f[1], [field(d, "district"), field(d, "street")].join(" · ") + (d.title ? "  " + d.title : ""));
      f[2].className = "gw-bf-case-dept";
      text(f[2], field(d, "department"));
      f[3].className = "gw-bf-case-took-label";
      text(f[3], say("bf_took"));
      f[4].className = "gw-bf-case-took";
      text(f[4], lib.duration(d.took_s, conf.words));
      var list = [{stage: null, ended_at: d.reported_at}].concat(d.steps || []);
      var items = rowsOf(steps, list.length, function () {
        var r = el("div", "gw-bf-step");
        r.appendChild(el("span", "gw-bf-step-dot"));
        r.appendChild(el("span", "gw-bf-step-name"));
        r.appendChild(el("span", "gw-bf-step-at"));
        r.appendChild(el("span", "gw-bf-step-spent"));
        return r;
      });
      list.forEach(function (s, i) {
        var r = items[i];
        var cls = "gw-bf-step" + (s.on_time === false ? " gw-bf-late" : "");
        if (r.className !== cls) { r.className = cls; }
        text(r.children[1], s.stage ? say("stage_" + s.stage) : say("bf_reported_at"));
        text(r.children[2], when(s.ended_at, true));
        var spent = s.stage ? lib.duration(s.spent_s, conf.words) + (s.limit_s ? " / " + say("bf_limit") + " " +
          lib.duration(s.limit_s, conf.words) : "") : "";
        text(r.children[3], spent || " ");
      });
      var media = d.media || [];
      var shown = {before: null, after: null};
      media.forEach(function (m) {
        // Only this site's images: the CSP allows no other, and a briefing loads nothing foreign.
        try { if (!shown[m.phase] && new URL(m.url, location.href).origin === location.origin) { shown[m.phase] = m.url; } }
        catch (e) { /* not a URL: left out */ }
      });
      var boxes = rowsOf(photos, 2, function () {
        var b = el("div", "gw-bf-photo");
        b.appendChild(el("div", "gw-bf-photo-label"));
        b.appendChild(el("div", "gw-bf-photo-frame"));
        return b;
      });
      ["before", "after"].forEach(function (phase, i) {
        text(boxes[i].children[0], say("bf_" + phase));
        var frame = boxes[i].children[1], url = shown[phase];
        var img = frame.querySelector("img");
        if (url) {
          if (!img) { frame.textContent = ""; img = el("img"); img.alt = ""; frame.appendChild(img); }
          if (img.getAttribute("src") !== url) { img.src = url; }
        } else {
          if (img) { frame.removeChild(img); }
          text(frame, say(d.photos ? "bf_no_data" : "bf_photo_hidden"));
        }
      });
      return true;
    },
    supervision: function (scene, d) {
      periodNote(scene, d);
      text(slot(scene, "muck_truck"), lib.number(d.muck_truck));
      text(slot(scene, "total"), lib.number(d.total));
      bars(scene.querySelector(".gw-bf-bars"), (d.rules || []).map(function (r) { return {label: name2(r), n: r.n}; }));
      return true;
    },
    video: function (scene, d) {
      periodNote(scene, d);
      text(slot(scene, "total"), lib.number(d.total));
      text(slot(scene, "critical"), lib.number((d.severity || {}).critical));
      text(slot(scene, "alert"), lib.number((d.severity || {}).alert));
      var rows = (d.types || []).map(function (r) { return {label: name2(r), n: r.n}; });
      if (d.others) { rows.push({label: say("bf_others"), n: d.others}); }
      bars(scene.querySelector(".gw-bf-bars"), rows);
      return true;
    }
  };

  // A chart scene is ready once Plotly drew its traces: never shown as an empty frame.
  function drawn(scene) { return !!scene.querySelector(".gw-bf-chart .main-svg .trace"); }

  var ready = [];
  function isReady(i) { return !!ready[i]; }

  function fillAll() {
    if (!B.data) { return; }
    scenes.forEach(function (scene, i) {
      var key = scene.getAttribute("data-scene"), kind = scene.getAttribute("data-kind");
      var d = B.data.data ? B.data.data[key] : null;
      if (d === null || d === undefined) { ready[i] = kind === "today"; return; }
      try { ready[i] = fill[kind](scene, d, key) !== false; }
      catch (e) { ready[i] = false; console.error("gridwall: the briefing's " + key + " scene", e); }
    });
  }

  // The muck trucks watched: live, from the wall's board (the same poll as the map).
  function fillLive() {
    var board = gw.panels && gw.panels.board;
    if (typeof board === "string") { try { board = JSON.parse(board); } catch (e) { board = null; } }
    if (!board || !board.vehicles) { return; }
    var row = (board.vehicles.rows || []).filter(function (r) { return r.subtype === "muck_truck"; })[0];
    scenes.forEach(function (scene) {
      if (scene.getAttribute("data-kind") === "supervision") {
        text(slot(scene, "muck_online"), row ? lib.number(row.online) + " / " + lib.number(row.total) : "—");
      }
    });
  }

  function load() {
    fetch(conf.data_url, {cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (doc) { B.data = doc; B.fetches += 1; fillAll(); })
      .catch(function () { B.failures += 1; }) // keep the figures shown; the next fetch may do
      .finally(function () { setTimeout(load, B.data ? REFETCH_MS : 5000); });
  }

  // --- the switch ------------------------------------------------------------------------------
  function opacity(e) { return parseFloat(getComputedStyle(e).opacity); }

  // Every scene fades from where it is to where it goes (the new one to 1, all others to 0), on
  // the same linear clock: the opacities add up to 1 on every frame, even when a key interrupts a
  // fade (CSS transitions reversed mid-way are shortened by the browser and fall out of step).
  var fades = [];
  function fadeTo(i, ms) {
    fades.forEach(function (a) { a.cancel(); });
    fades = [];
    scenes.forEach(function (scene, k) {
      var from = opacity(scene), to = k === i ? 1 : 0;
      scene.style.opacity = String(to);
      if (!ms || from === to) { return; }
      var anim = scene.animate([{opacity: from}, {opacity: to}], {duration: ms, easing: "linear"});
      fades.push(anim);
      anim.onfinish = function () { fades = fades.filter(function (a) { return a !== anim; }); };
    });
  }

  function show(i, t0, how) {
    var next = scenes[i], prev = current >= 0 ? scenes[current] : null;
    if (!next || next === prev) { return; }
    var kind = next.getAttribute("data-kind");
    var c = root();
    var cls = "gw-bf-k-" + kind;
    Array.prototype.slice.call(c.classList).forEach(function (k) { if (k.indexOf("gw-bf-k-") === 0 && k !== cls) { c.classList.remove(k); } });
    c.classList.add(cls);
    if (prev) { prev.classList.remove("gw-bf-on"); }
    next.classList.add("gw-bf-on");
    dots.forEach(function (d, k) { d.classList.toggle("gw-bf-on", k === i); });
    var from = current;
    current = i;
    fadeTo(i, prev ? FADE_MS : 0);
    if (!prev) { return; }
    // Measure: from the key (or the timer) to the new scene fully opaque, and the lowest sum of
    // the scenes' opacities on the way (a blank frame would show as a dip under 1).
    var rec = {from: from, to: i, how: how, ms: null, minSum: 2, frames: 0};
    function sample() {
      if (current !== i) { return; } // interrupted by the next switch: that one is measured
      var sum = 0;
      scenes.forEach(function (scene) { sum += opacity(scene); });
      rec.frames += 1;
      rec.minSum = Math.min(rec.minSum, sum);
      if (opacity(next) >= 0.999) {
        rec.ms = performance.now() - t0;
        B.switches.push(rec);
        if (B.switches.length > SWITCHES_KEPT) { B.switches.shift(); }
        return;
      }
      requestAnimationFrame(sample);
    }
    requestAnimationFrame(sample);
  }

  // The map is a backdrop here: the arrow keys move the tour, never the map (Leaflet pans on
  // them once its box has the focus, which a click on the screen gives it).
  function quietMap() {
    var m = gw.map && gw.map.instance;
    if (!m || B.mapQuiet) { return; }
    ["keyboard", "dragging", "scrollWheelZoom", "doubleClickZoom", "boxZoom", "touchZoom"].forEach(function (h) {
      if (m[h] && m[h].disable) { m[h].disable(); }
    });
    B.mapQuiet = true;
  }

  function loop() {
    var t = B.tour;
    var now = performance.now();
    quietMap();
    fillLive();
    // A chart drawn since the last look makes its scene ready.
    scenes.forEach(function (scene, i) {
      if (!ready[i] && scene.getAttribute("data-kind") === "trend" && B.data && drawn(scene)) { ready[i] = true; }
    });
    if (lib.tick(t, now, isReady)) { show(t.index, now, "timer"); }
  }

  function onKey(e) {
    var act = lib.action(e.key);
    if (!act || !B.tour) { return; }
    e.preventDefault();
    var t0 = performance.now(); // the event's own time stamp would be earlier still; this is the handler's
    if (lib.press(B.tour, act, t0, isReady)) { show(B.tour.index, e.timeStamp || t0, "key"); }
    root().classList.toggle("gw-bf-is-paused", B.tour.paused);
  }

  function start() {
    var c = root();
    lib = gw.briefingLib;
    if (!c || !lib || B.started) { return !!B.started; }
    try { conf = JSON.parse(c.getAttribute("data-briefing")); } catch (e) { return false; }
    B.started = true;
    scenes = Array.prototype.slice.call(c.querySelectorAll(".gw-bf-scene"));
    var dotBox = document.getElementById("gw-bf-dots");
    dots = scenes.map(function () { var d = el("span", "gw-bf-dot"); dotBox.appendChild(d); return d; });
    var override = new URLSearchParams(location.search).get("scene_s");
    B.tour = lib.tour(lib.seconds(conf.scenes, override), performance.now());
    show(0, performance.now(), "start");
    document.addEventListener("keydown", onKey);
    setInterval(loop, LOOP_MS);
    load();
    B.refill = fillAll; // (tests: figures that change shape between two fetches)
    return true;
  }

  if (!start()) {
    var watch = new MutationObserver(function () { if (start()) { watch.disconnect(); } });
    watch.observe(document.documentElement, {childList: true, subtree: true});
  }
})();
