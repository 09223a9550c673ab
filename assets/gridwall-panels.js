/* gridwall panels: everything around the map, written into the page in place from the board
 * snapshot (dashboard/store/board.py, one Redis read per screen per tick). Nothing here re-renders a
 * component: texts and classes of existing elements change, list rows are reused, the charts go
 * through dcc.Graph (Plotly.react). Also: the ultra-wide 32:9 canvas, the rotating views, the
 * self-scrolling lists and the alert sound. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var SCROLL_MS = 3000; // one row up every 3 s: slow enough to read from 10 m
  var SCROLL_HOLD = 2; // steps to rest at the top and at the bottom
  var WIDE_RATIO = 3.0; // windows at least this wide for their height get the 32:9 canvas
  var SEEN_KEY = "gw-critical-seen";
  var SEEN_MAX = 500;

  var P = (gw.panels = {
    board: null,
    version: null,
    applies: 0,
    sound: {url: "", audio: null, played: 0, refused: 0, pending: false},
    seen: null, // critical alert ids already announced (kept across the watchdog's reloads)
    rotation: {index: 0, changes: 0, since: Date.now()},
    scroll: {},
    figs: {hourly: "", cats: ""}
  });

  function byId(id) { return document.getElementById(id); }

  var TEXT = null;
  function tx(key) {
    if (!TEXT) {
      var c = byId("gw-panels-conf");
      try { TEXT = JSON.parse(c.getAttribute("data-text")); } catch (e) { TEXT = null; return key; }
    }
    return TEXT[key] || key;
  }
  function name(row) { return gw.lang() === "en" ? (row.en || row.zh) : row.zh; }
  function wide() { var c = byId("gw-canvas"); return !!(c && c.classList.contains("gw-wide")); }

  var timeFmt = null, dayFmt = null;
  function hhmm(epoch) {
    if (epoch === null || epoch === undefined) { return "—"; }
    if (!timeFmt) {
      timeFmt = new Intl.DateTimeFormat("en-GB", {timeZone: gw.canvasAttr("data-tz", "Asia/Shanghai"),
        hour: "2-digit", minute: "2-digit", hour12: false});
    }
    return timeFmt.format(new Date(epoch * 1000));
  }
  // The time of day for today (the board's local day), the date ("10-12") for earlier days.
  function when(epoch, today) {
    if (epoch === null || epoch === undefined) { return "—"; }
    if (!dayFmt) {
      dayFmt = new Intl.DateTimeFormat("en-CA", {timeZone: gw.canvasAttr("data-tz", "Asia/Shanghai"),
        year: "numeric", month: "2-digit", day: "2-digit"});
    }
    var day = dayFmt.format(new Date(epoch * 1000));
    return !today || day === today ? hhmm(epoch) : day.slice(5);
  }

  function setText(el, value) {
    if (!el) { return; }
    var text = value === null || value === undefined ? "—" : String(value);
    if (el.textContent !== text) { el.textContent = text; }
  }
  function setClass(el, cls) { if (el && el.className !== cls) { el.className = cls; } }

  // "93.72 %" as a big number with a small unit; "—" as is.
  function setRate(el, value) {
    if (!el) { return; }
    var text = value === null || value === undefined ? "—" : String(value);
    if (el.getAttribute("data-v") === text) { return; }
    el.setAttribute("data-v", text);
    el.textContent = "";
    var m = /^(.*?)\s*%$/.exec(text);
    // "100.00" does not fit a tile at the size read from 10 m; a whole 100 says the same.
    el.appendChild(document.createTextNode(m ? (m[1] === "100.00" ? "100" : m[1]) : text));
    if (m) {
      var unit = document.createElement("span");
      unit.className = "gw-unit";
      unit.textContent = "%";
      el.appendChild(unit);
    }
  }

  // ▲3 / ▼2 / 0: for overdue counters an increase is bad news (red), a decrease good (green).
  function setDelta(el, n, extra) {
    if (!el) { return; }
    var cls = (extra ? extra + " " : "") + "gw-delta " + (n > 0 ? "gw-up" : n < 0 ? "gw-down" : "gw-flat");
    setClass(el, cls);
    setText(el, n > 0 ? "▲" + n : n < 0 ? "▼" + (-n) : "±0");
  }

  // Keep exactly n row elements in a list, reusing the ones there (no flicker, no re-creation).
  function rows(list, n, make) {
    while (list.children.length < n) { list.appendChild(make()); }
    while (list.children.length > n) { list.removeChild(list.lastChild); }
    return list.children;
  }
  function cells(classes) {
    return function () {
      var row = document.createElement("div");
      classes.forEach(function (c) {
        var span = document.createElement("span");
        span.className = c;
        row.appendChild(span);
      });
      return row;
    };
  }

  // --- today's tiles ----------------------------------------------------------------------------
  function applyToday(today) {
    var ready = today && today.ready;
    ["reported", "filed", "dispatched", "closed"].forEach(function (k) {
      setText(byId("gw-today-" + k), ready ? today[k] : "—");
    });
    setRate(byId("gw-today-close_rate"), ready ? today.close_rate : "—");
    setRate(byId("gw-today-on_time_close_rate"), ready ? today.on_time_close_rate : "—");
  }

  // --- overdue counters -------------------------------------------------------------------------
  function applyOverdue(ov) {
    if (!ov) { return; }
    setText(byId("gw-ov-since"), tx("since_day_start") + " " + hhmm(ov.base_at));
    setDelta(byId("gw-ov-d-red"), ov.d_red);
    setDelta(byId("gw-ov-d-yellow"), ov.d_yellow);
    setText(byId("gw-ov-grey"), ov.grey);
    fillOverdue(byId("gw-ov-district"), ov.district || []);
    fillOverdue(byId("gw-ov-department"), (ov.department || []).filter(function (r) {
      return r.red || r.yellow || r.d_red || r.d_yellow;
    }));
  }
  function fillOverdue(list, data) {
    if (!list) { return; }
    var make = cells(["gw-ov-name", "gw-ov-red", "gw-ov-dred", "gw-ov-yellow", "gw-ov-dyellow"]);
    var els = rows(list, data.length, make);
    data.forEach(function (r, i) {
      var c = els[i].children;
      setClass(els[i], "gw-ov-row" + (r.red ? " gw-has-red" : ""));
      els[i].setAttribute("data-code", r.code);
      setText(c[0], name(r));
      setText(c[1], r.red);
      setDelta(c[2], r.d_red, "gw-ov-dred");
      setText(c[3], r.yellow);
      setDelta(c[4], r.d_yellow, "gw-ov-dyellow");
    });
    clipRows(list);
  }
  // A list that does not scroll shows whole rows only: a row cut by the panel's edge is hidden.
  function clipRows(list) {
    var limit = list.clientHeight;
    for (var i = 0; i < list.children.length; i++) {
      var row = list.children[i];
      var cut = row.offsetTop - list.children[0].offsetTop + row.offsetHeight > limit + 0.5;
      if (row.style.visibility !== (cut ? "hidden" : "")) { row.style.visibility = cut ? "hidden" : ""; }
    }
  }

  // --- rankings ---------------------------------------------------------------------------------
  function applyRank(list, data) {
    if (!list || !data) { return; }
    if (!data.ready) {
      if (list.children.length !== 1 || list.firstChild.children.length !== 1) { list.textContent = ""; }
      var msg = rows(list, 1, cells(["gw-rank-msg"]));
      list.style.transform = "";
      setClass(msg[0], "gw-rrow gw-rank-wait");
      setText(msg[0].children[0], tx("not_ready"));
      return;
    }
    var make = cells(["gw-r-pos", "gw-r-name", "gw-r-score", "gw-r-grade", "gw-r-rate", "gw-r-over"]);
    var els = rows(list, data.rows.length, make);
    if (els.length && els[0].children.length !== 6) { // was the "counting" message
      list.textContent = "";
      els = rows(list, data.rows.length, make);
    }
    data.rows.forEach(function (r, i) {
      var el = els[i], c = el.children;
      var cls = "gw-rrow" + (r.pos === null ? " gw-unranked" : "") + (r.bottom ? " gw-bottom" : "") + (r.top ? " gw-top" : "");
      setClass(el, cls);
      el.setAttribute("data-code", r.code);
      setText(c[0], r.pos === null ? "—" : r.pos);
      setText(c[1], name(r));
      setText(c[2], r.score);
      setText(c[3], r.grade);
      setClass(c[3], "gw-r-grade gw-grade-" + (r.grade === "—" ? "none" : r.grade));
      setText(c[4], String(r.rate).replace(" %", "%"));
      setText(c[5], r.overdue);
    });
  }

  // --- the alert ticker -------------------------------------------------------------------------
  function applyTicker(items, today) {
    var list = byId("gw-ticker");
    if (!list) { return; }
    items = items || [];
    var firstBefore = list.firstChild && list.firstChild.getAttribute("data-id");
    if (!items.length) {
      if (list.children.length !== 1 || list.firstChild.children.length !== 1) { list.textContent = ""; }
      var none = rows(list, 1, cells(["gw-t-none"]));
      list.style.transform = "";
      setClass(none[0], "gw-titem gw-t-empty");
      none[0].setAttribute("data-id", "");
      setText(none[0].children[0], tx("no_alerts"));
      return;
    }
    var make = cells(["gw-t-time", "gw-t-sev", "gw-t-text", "gw-t-place"]);
    var els = rows(list, items.length, make);
    if (els[0].children.length !== 4) { list.textContent = ""; els = rows(list, items.length, make); }
    items.forEach(function (it, i) {
      var el = els[i], c = el.children;
      setClass(el, "gw-titem gw-sev-" + it.sev + (it.active ? "" : " gw-ended") + (it.kind === "case" && it.light ? " gw-light-" + it.light : ""));
      el.setAttribute("data-id", it.id);
      el.setAttribute("data-kind", it.kind);
      setText(c[0], when(it.at, today));
      setText(c[1], tx("sev_" + it.sev));
      setText(c[2], (gw.lang() === "en" ? it.en : it.zh) + (it.active ? "" : " · " + tx("ended")));
      setText(c[3], gw.lang() === "en" ? it.place_en : it.place_zh);
    });
    // Something new on top: show it now, whatever the scroll position was.
    if (items[0].id !== firstBefore) { scrollTo(byId("gw-ticker-box"), 0); }
  }

  // --- the alert sound: once per critical alert, when it first appears --------------------------
  function loadSeen() {
    if (P.seen) { return P.seen; }
    try {
      var raw = window.sessionStorage.getItem(SEEN_KEY);
      if (raw !== null) { P.seen = new Set(JSON.parse(raw)); }
    } catch (e) { P.seen = null; }
    return P.seen;
  }
  function saveSeen() {
    var ids = Array.from(P.seen);
    if (ids.length > SEEN_MAX) { ids = ids.slice(ids.length - SEEN_MAX); P.seen = new Set(ids); } // bounded, 24/7
    try {
      window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(ids));
    } catch (e) { /* private mode: remembered for this page only */ }
  }
  function checkCritical(items) {
    var critical = (items || []).filter(function (it) { return it.kind === "alert" && it.sev === "critical" && it.active; });
    var seen = loadSeen();
    if (seen === null) {
      // A fresh screen: what is already there was announced before it came up. Only what
      // appears from now on sounds (a reload by the watchdog keeps this memory).
      P.seen = new Set(critical.map(function (it) { return it.id; }));
      saveSeen();
      return;
    }
    var fresh = critical.filter(function (it) { return !seen.has(it.id); });
    if (!fresh.length) { return; }
    fresh.forEach(function (it) { seen.add(it.id); });
    saveSeen();
    P.sound.lastAlert = fresh[0].id;
    playSound();
  }
  function hint(show) {
    var el = byId("gw-sound-hint");
    if (el) { el.hidden = !show; }
  }
  function playSound() {
    var s = P.sound;
    if (!s.url) { return; }
    if (!s.audio) { s.audio = new Audio(s.url); s.audio.preload = "auto"; }
    try { s.audio.currentTime = 0; } catch (e) { /* not loaded yet */ }
    var p = s.audio.play();
    if (!p || !p.then) { s.played += 1; return; }
    p.then(function () { s.played += 1; s.pending = false; hint(false); }).catch(function (err) {
      // Autoplay refused (no user gesture yet, no kiosk flag): say so, quietly, and play on the
      // first click anywhere.
      s.refused += 1;
      s.pending = true;
      s.error = err && err.name;
      hint(true);
    });
  }
  function unlock() {
    if (P.sound.pending) { playSound(); } else { hint(false); }
  }
  document.addEventListener("click", unlock, true);
  document.addEventListener("keydown", unlock, true);

  // --- vehicles and categories ------------------------------------------------------------------
  function applyVehicles(v) {
    if (!v) { return; }
    var rowsByType = {};
    (v.rows || []).forEach(function (r) { rowsByType[r.subtype] = r; });
    rowsByType.total = v.total;
    ["enforcement", "muck_truck", "sanitation", "total"].forEach(function (k) {
      var r = rowsByType[k] || {total: 0, online: 0, moving: 0, parked: 0};
      setText(byId("gw-veh-" + k + "-registered"), r.total);
      setText(byId("gw-veh-" + k + "-online"), r.online);
      setText(byId("gw-veh-" + k + "-moving"), r.moving);
      setText(byId("gw-veh-" + k + "-parked"), r.parked);
    });
  }
  function applyCategories(c) {
    if (!c) { return; }
    setText(byId("gw-cat-component"), c.component);
    setText(byId("gw-cat-event"), c.event);
  }

  // --- the charts (dcc.Graph, through a clientside callback) -----------------------------------
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  function baseLayout(el) {
    return {
      width: Math.max(el.offsetWidth, 100), height: Math.max(el.offsetHeight, 80),
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: {family: FONT, size: 20, color: "#dbe9ff"},
      margin: {l: 56, r: 16, t: 36, b: 40},
      showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.16, font: {size: 20}},
      bargap: 0.25
    };
  }
  function hourlyFigure(h, el) {
    var hours = [], reported = [], closed = [];
    for (var i = 0; i < 24; i++) {
      hours.push(i);
      reported.push(i <= h.hour ? h.reported[i] : null);
      closed.push(i <= h.hour ? h.closed[i] : null);
    }
    var layout = baseLayout(el);
    layout.xaxis = {tickvals: [0, 3, 6, 9, 12, 15, 18, 21], ticktext: ["0", "3", "6", "9", "12", "15", "18", "21"].map(function (x) {
      return gw.lang() === "en" ? x + ":00" : x + "时"; }), range: [-0.6, 23.6], gridcolor: "rgba(0,0,0,0)", tickfont: {size: 18}};
    layout.yaxis = {gridcolor: "#1f4a7a", zeroline: false, rangemode: "tozero", tickfont: {size: 18}};
    return {
      data: [
        {type: "bar", x: hours, y: reported, name: tx("reported"), marker: {color: "#35d0ff"}},
        {type: "scatter", mode: "lines+markers", x: hours, y: closed, name: tx("closed"),
         line: {color: "#52e07c", width: 4}, marker: {size: 9}, connectgaps: false}
      ],
      layout: layout
    };
  }
  function catsFigure(c, el) {
    var layout = baseLayout(el);
    // As many classes as have room for a 20 px label each: 28 px a bar.
    var room = Math.max(Math.floor((layout.height - 16) / 28), 1);
    var top = (c.top || []).slice(0, room).reverse();
    layout.showlegend = false;
    layout.margin = {l: 8, r: 56, t: 8, b: 8};
    layout.xaxis = {visible: false, rangemode: "tozero"};
    layout.yaxis = {automargin: true, tickfont: {size: 20}, dtick: 1, tickmode: "linear"};
    return {
      data: [{
        type: "bar", orientation: "h",
        x: top.map(function (r) { return r.n; }),
        y: top.map(function (r) { return name(r); }),
        text: top.map(function (r) { return String(r.n); }), textposition: "outside", cliponaxis: false,
        constraintext: "none", textfont: {size: 20, color: "#dbe9ff"},
        marker: {color: top.map(function (r) { return r.category === "component" ? "#35d0ff" : "#ffc53d"; })}
      }],
      layout: layout
    };
  }
  P.figures = function (raw) {
    if (!raw) { return [null, null]; }
    var b = typeof raw === "string" ? JSON.parse(raw) : raw;
    var out = [null, null];  // a figure only for a chart whose data or size changed
    var hEl = byId("gw-chart-hourly"), cEl = byId("gw-chart-cats");
    if (b.hourly && hEl && hEl.offsetWidth) {
      var hk = [b.hourly.day, b.hourly.at, hEl.offsetWidth, hEl.offsetHeight, gw.lang()].join("|");
      if (hk !== P.figs.hourly) { P.figs.hourly = hk; out[0] = hourlyFigure(b.hourly, hEl); }
    }
    if (b.categories && cEl && cEl.offsetWidth) {
      var ck = JSON.stringify(b.categories.top) + "|" + cEl.offsetWidth + "|" + cEl.offsetHeight;
      if (ck !== P.figs.cats) { P.figs.cats = ck; out[1] = catsFigure(b.categories, cEl); }
    }
    return out;
  };
  // The charts, when their data changed or the canvas changed shape. set_props on a figure
  // that no callback reads adds nothing to the renderer's undo history.
  function redrawCharts() {
    if (!P.board || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var figs = P.figures(P.board);
    if (figs[0]) { window.dash_clientside.set_props("gw-chart-hourly", {figure: figs[0]}); }
    if (figs[1]) { window.dash_clientside.set_props("gw-chart-cats", {figure: figs[1]}); }
  }

  // --- one board --------------------------------------------------------------------------------
  P.apply = function (raw) {
    if (!raw) { return; }
    var b = typeof raw === "string" ? JSON.parse(raw) : raw;
    P.board = b;
    if (!P.sound.url && !P.sound.checked) {
      P.sound.checked = true;
      P.sound.url = (byId("gw-panels-conf") || {getAttribute: function () { return ""; }}).getAttribute("data-sound") || "";
    }
    applyToday(b.today);
    applyOverdue(b.overdue);
    applyRank(byId("gw-rank-dept"), b.rank && b.rank.department);
    applyRank(byId("gw-rank-region"), b.rank && b.rank.region);
    applyTicker(b.ticker, b.day);
    checkCritical(b.ticker);
    applyVehicles(b.vehicles);
    applyCategories(b.categories);
    redrawCharts();  // a figure only when its data or size changed: Plotly.react, in place
    P.applies += 1;
    return P.applies;
  };

  // --- self-scrolling lists: one row up every few seconds, rest at both ends --------------------
  function scrollTo(box, index) {
    if (!box) { return; }
    var list = box.firstElementChild;
    var st = P.scroll[box.id] || (P.scroll[box.id] = {index: 0, hold: SCROLL_HOLD});
    st.index = index;
    st.hold = SCROLL_HOLD;
    var row = list && list.children[index];
    var y = row ? row.offsetTop - list.children[0].offsetTop : 0;
    list.style.transform = y ? "translateY(" + (-y) + "px)" : "";
  }
  function scrollStep(box) {
    var list = box.firstElementChild;
    if (!list || !list.children.length) { return; }
    var st = P.scroll[box.id] || (P.scroll[box.id] = {index: 0, hold: SCROLL_HOLD});
    var items = list.children;
    var first = items[0].offsetTop;
    // The last index whose rows from there on still fill the box: no scrolling past the end.
    var last = 0;
    for (var i = items.length - 1; i >= 0; i--) {
      if (items[items.length - 1].offsetTop + items[items.length - 1].offsetHeight - items[i].offsetTop > box.clientHeight) {
        last = i + 1;
        break;
      }
    }
    box.classList.toggle("gw-scrolling", last > 0);
    if (last <= 0) { if (st.index) { scrollTo(box, 0); } return; }
    if (st.hold > 0) { st.hold -= 1; return; }
    if (st.index >= last) { scrollTo(box, 0); return; }
    st.index += 1;
    if (st.index >= last) { st.hold = SCROLL_HOLD; }
    var y = items[Math.min(st.index, items.length - 1)].offsetTop - first;
    list.style.transform = "translateY(" + (-y) + "px)";
  }
  setInterval(function () {
    var boxes = document.querySelectorAll("#gw-canvas .gw-scroll");
    for (var i = 0; i < boxes.length; i++) { scrollStep(boxes[i]); }
  }, SCROLL_MS);

  // --- rotating views (16:9 only; the 32:9 canvas shows them side by side) -----------------------
  function showView(index) {
    var rot = byId("gw-p-rot");
    if (!rot) { return; }
    var views = rot.querySelectorAll(".gw-view");
    var dots = rot.querySelectorAll(".gw-dot");
    if (!views.length) { return; }
    index = index % views.length;
    for (var i = 0; i < views.length; i++) {
      views[i].classList.toggle("gw-active", i === index);
      if (dots[i]) { dots[i].classList.toggle("gw-active", i === index); }
    }
    if (P.rotation.index !== index) { P.rotation.changes += 1; }
    P.rotation.index = index;
    P.rotation.since = Date.now();
    rot.setAttribute("data-active", views[index].getAttribute("data-view"));
  }
  P.showView = showView;
  setInterval(function () {
    var rot = byId("gw-p-rot");
    if (!rot) { return; }
    if (!rot.getAttribute("data-active")) { showView(0); }
    var every = parseFloat(rot.getAttribute("data-rotate-s")) || 0;
    if (every > 0 && !wide() && Date.now() - P.rotation.since >= every * 1000) {
      showView(P.rotation.index + 1);
    }
  }, 500);

  // --- 16:9 or 32:9: by ?aspect=, else by the window's shape ------------------------------------
  function pickAspect() {
    var c = byId("gw-canvas");
    if (!c) { return false; }
    var forced = c.getAttribute("data-aspect");
    var want = forced ? forced === "32x9" : window.innerWidth / Math.max(window.innerHeight, 1) >= WIDE_RATIO;
    if (c.classList.contains("gw-wide") !== want) {
      c.classList.toggle("gw-wide", want);
      window.dispatchEvent(new Event("resize")); // gridwall-core.js rescales, Leaflet resizes
      setTimeout(redrawCharts, 50);
    }
    return true;
  }
  P.pickAspect = pickAspect;
  window.addEventListener("resize", pickAspect);
  if (!pickAspect()) {
    var watch = new MutationObserver(function () { if (pickAspect()) { watch.disconnect(); } });
    watch.observe(document.documentElement, {childList: true, subtree: true});
  }
})();
