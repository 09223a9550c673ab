/* gridwall panels: everything around the map, written into the page in place from the board
 * snapshot (dashboard/store/board.py, one Redis read per screen per tick; the fields are in
 * docs/wall.md). Nothing here re-renders a component: texts and classes of existing elements
 * change, list rows are reused. Today's tiles, the overdue counters, the two rankings, the
 * ticker, the vehicles and the categories are here; the charts are in gridwall-charts.js, the
 * alert sound in gridwall-sound.js, the rotating views, self-scrolling lists and the 32:9 canvas
 * in gridwall-screen.js. Texts come from gridwall-format.js and the page's words.
 *
 * While the history of a fresh data directory is still streaming in (the board's "history":
 * {"ready": false, "pct": 63}), the figures that depend on it (today's tiles, the overdue
 * counters and lists, the rankings) would be wrong: their panels show "载入历史数据 63%" instead. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var P = (gw.panels = gw.panels || {});
  P.board = null;
  P.version = null;
  P.applies = 0;
  P.loading = null;   // while the history loads: {loading: true, pct}; else null

  // The panels that wait for the history, each with its loading box (layouts/panels.py).
  var LOADING = [["gw-p-today", "gw-today-loading"], ["gw-p-overdue", "gw-ov-loading"],
    ["gw-p-rank-dept", "gw-rank-dept-loading"], ["gw-p-rank-region", "gw-rank-region-loading"]];
  var TODAY_COUNTS = ["reported", "filed", "dispatched", "closed"];
  var TODAY_RATES = ["close_rate", "on_time_close_rate"];

  function byId(id) { return document.getElementById(id); }
  function fmt() { return gw.format; }
  function words() { return gw.contract().words; }
  function name(row) { return gw.lang() === "en" ? (row.en || row.zh) : row.zh; }

  var timeFmt = null, dayFmt = null;
  function hhmm(epoch) {
    if (epoch === null || epoch === undefined) { return fmt().DASH; }
    if (!timeFmt) {
      timeFmt = new Intl.DateTimeFormat("en-GB", {timeZone: gw.canvasAttr("data-tz", "Asia/Shanghai"),
        hour: "2-digit", minute: "2-digit", hour12: false});
    }
    return timeFmt.format(new Date(epoch * 1000));
  }
  // The time of day for today (the board's local day), the date ("10-12") for earlier days.
  function when(epoch, today) {
    if (epoch === null || epoch === undefined) { return fmt().DASH; }
    if (!dayFmt) {
      dayFmt = new Intl.DateTimeFormat("en-CA", {timeZone: gw.canvasAttr("data-tz", "Asia/Shanghai"),
        year: "numeric", month: "2-digit", day: "2-digit"});
    }
    var day = dayFmt.format(new Date(epoch * 1000));
    return !today || day === today ? hhmm(epoch) : day.slice(5);
  }

  function setText(el, value) {
    if (!el) { return; }
    var text = fmt().text(value);
    if (el.textContent !== text) { el.textContent = text; }
  }
  function setClass(el, cls) { if (el && el.className !== cls) { el.className = cls; } }

  // "93.72 %" as a big number with a small unit; "—" as is.
  function setRate(el, value) {
    if (!el) { return; }
    var text = fmt().text(value);
    if (el.getAttribute("data-v") === text) { return; }
    el.setAttribute("data-v", text);
    el.textContent = "";
    var parts = fmt().rateParts(text);
    el.appendChild(document.createTextNode(parts[0]));
    if (parts[1]) {
      var unit = document.createElement("span");
      unit.className = "gw-unit";
      unit.textContent = parts[1];
      el.appendChild(unit);
    }
  }

  function setDelta(el, n, extra) {
    if (!el) { return; }
    setClass(el, (extra ? extra + " " : "") + "gw-delta " + fmt().deltaClass(n));
    setText(el, fmt().deltaText(n));
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
  function clear(list) {
    if (!list) { return; }
    if (list.children.length) { list.textContent = ""; }
    list.style.transform = "";
  }

  // --- the history's loading state ----------------------------------------------------------------
  function applyHistory(b) {
    var state = fmt().history(b);
    P.loading = state.loading ? state : null;
    var text = state.loading ? fmt().loadingText(state, words()) : "";
    LOADING.forEach(function (ids) {
      var panel = byId(ids[0]), box = byId(ids[1]);
      if (panel && panel.classList.contains("gw-loading") !== state.loading) { panel.classList.toggle("gw-loading", state.loading); }
      if (!box) { return; }
      if (box.hidden === state.loading) { box.hidden = !state.loading; }
      if (!state.loading) { return; }
      var label = box.querySelector(".gw-loading-text"), bar = box.querySelector(".gw-loading-fill");
      if (label && label.textContent !== text) { label.textContent = text; }
      if (bar) { bar.style.width = (state.pct === null ? 0 : state.pct) + "%"; }
    });
    // The KPI counters come with every poll, not with the board: have them follow at once.
    if (gw.kpi && gw.kpi.refresh) { gw.kpi.refresh(); }
    return state.loading;
  }

  // --- today's tiles ----------------------------------------------------------------------------
  function applyToday(today) {
    var ready = !P.loading && today && today.ready;
    TODAY_COUNTS.forEach(function (k) { setText(byId("gw-today-" + k), ready ? today[k] : null); });
    TODAY_RATES.forEach(function (k) { setRate(byId("gw-today-" + k), ready ? today[k] : null); });
  }

  // --- overdue counters -------------------------------------------------------------------------
  function applyOverdue(ov) {
    if (P.loading) {
      setText(byId("gw-ov-since"), "");
      setText(byId("gw-ov-d-red"), "");
      setText(byId("gw-ov-d-yellow"), "");
      setText(byId("gw-ov-grey"), null);
      clear(byId("gw-ov-district"));
      clear(byId("gw-ov-department"));
      return;
    }
    if (!ov) { return; }
    setText(byId("gw-ov-since"), gw.word("since_day_start") + " " + hhmm(ov.base_at));
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
    if (!list) { return; }
    if (P.loading) { clear(list); return; }
    if (!data) { return; }
    if (!data.ready) {
      if (list.children.length !== 1 || list.firstChild.children.length !== 1) { list.textContent = ""; }
      var msg = rows(list, 1, cells(["gw-rank-msg"]));
      list.style.transform = "";
      setClass(msg[0], "gw-rrow gw-rank-wait");
      // A district-limited wall: departments are ranked for the whole city only (screens/wall.py).
      setText(msg[0].children[0], data.city_only ? gw.word("rank_city_only") : gw.word("not_ready"));
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
      setText(c[0], r.pos === null ? fmt().DASH : r.pos);
      setText(c[1], name(r));
      setText(c[2], r.score);
      setText(c[3], r.grade);
      setClass(c[3], "gw-r-grade gw-grade-" + (r.grade === fmt().DASH ? "none" : r.grade));
      setText(c[4], String(r.rate).replace(" %", "%"));
      setText(c[5], r.overdue);
    });
  }

  // The rankings of the city's periods (Settings.ranking_periods): the board's first (b.rank)
  // and the others (b.rank_more) take turns every rotate_s, each panel titled with its period.
  P.rankTurn = {index: 0, since: 0};
  function rankTitle(panelId, kind, period) {
    var panel = byId(panelId), title = panel && panel.querySelector(".gw-ph-title");
    if (title && kind && period) { setText(title, gw.word("rank_" + kind + "_" + period)); }
  }
  function rankPeriods(b) { return b && b.rank ? [b.rank].concat(b.rank_more || []) : []; }
  function nextTurn(b) {
    var rot = byId("gw-p-rot");
    var every = rot ? (parseFloat(rot.getAttribute("data-rotate-s")) || 0) * 1000 : 0;
    return fmt().turn(P.rankTurn, rankPeriods(b).length, Date.now(), every);
  }
  function applyRanks(b) {
    P.rankTurn = nextTurn(b);
    var r = rankPeriods(b)[P.rankTurn.index] || {};
    rankTitle("gw-p-rank-dept", "department", r.period);
    rankTitle("gw-p-rank-region", r.region && r.region.kind, r.period);
    applyRank(byId("gw-rank-dept"), r.department);
    applyRank(byId("gw-rank-region"), r.region);
  }

  // The clock's part (gridwall-screen.js calls it with the side views' turns): a board that does
  // not change still turns its periods.
  P.turnRanks = function () {
    if (P.board && !P.loading && nextTurn(P.board).index !== P.rankTurn.index) { applyRanks(P.board); }
  };

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
      setText(none[0].children[0], gw.word("no_alerts"));
      return;
    }
    var make = cells(["gw-t-time", "gw-t-sev", "gw-t-text", "gw-t-place"]);
    var els = rows(list, items.length, make);
    if (els[0].children.length !== 4) { list.textContent = ""; els = rows(list, items.length, make); }
    var en = gw.lang() === "en";
    items.forEach(function (it, i) {
      var el = els[i], c = el.children;
      // A Frigate review names its own severity: a class and a word only when the page knows it.
      var sev = fmt().known(it.sev, words(), "sev_", "detection");
      setClass(el, "gw-titem gw-sev-" + sev + (it.active ? "" : " gw-ended") + (it.kind === "case" && it.light ? " gw-light-" + it.light : "")
        + (it.sup ? " gw-supervised" : ""));
      el.setAttribute("data-id", it.id);
      el.setAttribute("data-kind", it.kind);
      setText(c[0], when(it.at, today));
      setText(c[1], gw.word("sev_" + sev));
      var name = it.active ? (en ? it.en : it.zh) : fmt().isolate(en ? it.en : it.zh) + " · " + gw.word("ended");
      // 督办: a leader pressed this case on (the desk's action, docs/desk.md).
      setText(c[2], it.sup ? fmt().isolate(name) + " · " + gw.word("sup_badge") : name);
      setText(c[3], en ? it.place_en : it.place_zh);
    });
    // Something new on top: show it now, whatever the scroll position was.
    if (items[0].id !== firstBefore && gw.screen) { gw.screen.scrollTo(byId("gw-ticker-box"), 0); }
  }

  // --- vehicles and categories ------------------------------------------------------------------
  function applyVehicles(v) {
    if (!v) { return; }
    var rowsByType = {};
    (v.rows || []).forEach(function (r) { rowsByType[r.subtype] = r; });
    rowsByType.total = v.total;
    (gw.contract().vehicle_subtypes || []).concat(["total"]).forEach(function (k) {
      var r = rowsByType[k] || {total: 0, online: 0, moving: 0, parked: 0};
      setText(byId("gw-veh-" + k + "-registered"), r.total);
      setText(byId("gw-veh-" + k + "-online"), r.online);
      setText(byId("gw-veh-" + k + "-moving"), r.moving);
      setText(byId("gw-veh-" + k + "-parked"), r.parked);
    });
  }
  // --- the collectors per team (dashboard/screens/collector_board.py) -----------------------------
  var COLL_CELLS = ["gw-c-name", "gw-c-on", "gw-c-rate", "gw-c-cover", "gw-c-km", "gw-c-alarms"];
  function fillCollector(el, r, label) {
    var c = el.children;
    setClass(el, "gw-coll-row" + (r.low ? " gw-coll-low" : "") + (label ? " gw-coll-total" : ""));
    if (!label) { el.setAttribute("data-code", r.code); }
    setText(c[0], label || name(r));
    setText(c[1], r.on_duty + "/" + r.members);
    setText(c[2], String(r.rate).replace(" %", "%"));
    setText(c[3], String(r.coverage).replace(" %", "%"));
    setText(c[4], r.km);
    setText(c[5], r.alarms);
    setClass(c[5], "gw-c-alarms" + (r.alarms ? " gw-has-alarms" : ""));
  }
  function applyCollectors(data) {
    var list = byId("gw-coll"), total = byId("gw-coll-total");
    if (!list || !data || !data.ready) { return; }
    var make = cells(COLL_CELLS);
    var els = rows(list, data.rows.length, make);
    data.rows.forEach(function (r, i) { fillCollector(els[i], r, null); });
    clipRows(list);
    if (total) {  // the total row is the layout's own element: its cells made once
      if (total.children.length !== COLL_CELLS.length) {
        total.textContent = "";
        COLL_CELLS.forEach(function (c) {
          var span = document.createElement("span");
          span.className = c;
          total.appendChild(span);
        });
      }
      fillCollector(total, data.total, gw.word("coll_total"));
    }
  }
  function applyCategories(c) {
    if (!c) { return; }
    setText(byId("gw-cat-component"), c.component);
    setText(byId("gw-cat-event"), c.event);
  }

  // --- one board --------------------------------------------------------------------------------
  P.apply = function (raw) {
    if (!raw) { return; }
    var b = typeof raw === "string" ? JSON.parse(raw) : raw;
    P.board = b;
    applyHistory(b);
    applyToday(b.today);
    applyOverdue(b.overdue);
    applyRanks(b);
    applyTicker(b.ticker, b.day);
    if (gw.sound) { gw.sound.check(b.ticker); }
    applyVehicles(b.vehicles);
    applyCollectors(b.collectors);
    applyCategories(b.categories);
    if (gw.charts) { gw.charts.redraw(); }  // a figure only when its data or size changed: Plotly.react, in place
    P.applies += 1;
    return P.applies;
  };
})();
