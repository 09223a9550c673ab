/* The briefing's pure parts (docs/briefing.md): the tour (which scene, for how long, paused or
 * not, looping when left alone), the keys a presenter or a clicker sends, and the words and
 * figures the scenes show (durations, the trend chart). No DOM, no clock read: the caller passes
 * the time. Runs in the browser (window.gridwall.briefingLib) and under Node
 * (tests/js/briefing.test.js). */
(function (factory) {
  "use strict";
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.briefingLib = factory();
  }
})(function () {
  "use strict";

  // What a key does. Clickers (presenters' remotes) send PageDown/PageUp for next/back and "b"
  // or "." for their "black screen" button, which pauses here; Space and "p" pause too.
  var KEYS = {
    ArrowRight: "next", PageDown: "next", ArrowDown: "next", Enter: "next",
    ArrowLeft: "back", PageUp: "back", ArrowUp: "back",
    " ": "pause", Spacebar: "pause", p: "pause", P: "pause", b: "pause", B: "pause", ".": "pause",
    Home: "first"
  };
  function action(key) { return Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : null; }

  // A tour over `seconds` (one per scene). `scale` shortens every scene for tests and benches
  // (?scene_s=1 sets each to one second).
  function tour(seconds, now) {
    return {n: seconds.length, seconds: seconds.slice(), index: 0, since: now, paused: false, elapsed: 0,
            loops: 0, changes: 0};
  }

  function ms(t, i) { return Math.max(t.seconds[i], 0.2) * 1000; }

  // The scene `dir` steps away that is ready (isReady(i) true), or the current one when none is.
  function step(t, dir, isReady) {
    for (var k = 1; k <= t.n; k++) {
      var i = ((t.index + dir * k) % t.n + t.n) % t.n;
      if (!isReady || isReady(i)) { return i; }
    }
    return t.index;
  }

  function go(t, i, now) {
    if (i === t.index) { return false; }
    if (i === 0 && t.index === t.n - 1) { t.loops += 1; }
    t.index = i;
    t.since = now;
    t.elapsed = 0;
    t.changes += 1;
    return true;
  }

  // The presenter's keys: next and back move at once (and stay paused when paused); pause
  // toggles. Returns whether the scene changed.
  function press(t, act, now, isReady) {
    if (act === "next") { return go(t, step(t, 1, isReady), now); }
    if (act === "back") { return go(t, step(t, -1, isReady), now); }
    if (act === "first") { return go(t, 0, now); }
    if (act === "pause") {
      if (t.paused) { t.paused = false; t.since = now - t.elapsed; }
      else { t.paused = true; t.elapsed = Math.min(now - t.since, ms(t, t.index)); }
    }
    return false;
  }

  // Left alone: the next ready scene once this one's time is up, from the last back to the first.
  function tick(t, now, isReady) {
    if (t.paused || t.n < 2) { return false; }
    if (now - t.since < ms(t, t.index)) { return false; }
    return go(t, step(t, 1, isReady), now);
  }

  // How far through its time the scene is, 0..1 (the progress line).
  function progress(t, now) {
    var spent = t.paused ? t.elapsed : now - t.since;
    return Math.max(0, Math.min(1, spent / ms(t, t.index)));
  }

  // Seconds of each scene: the configured ones, or `override` for every scene when given.
  function seconds(scenes, override) {
    var o = parseFloat(override);
    return scenes.map(function (s) { return o > 0 ? o : s.seconds; });
  }

  // "{a} to {b}" and the like.
  function fill(text, vars) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }

  // A duration as a person says it: "2天3小时", "1 h 5 min", "12分"; under a minute "1分".
  function duration(s, words) {
    if (s === null || s === undefined || !isFinite(s)) { return "—"; }
    var m = Math.max(1, Math.round(s / 60)), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    var sep = words.unit_day && /^[a-z]/i.test(words.unit_day) ? " " : "";
    var parts = [];
    if (d) { parts.push(d + sep + words.unit_day); }
    if (h) { parts.push(h + sep + words.unit_hour); }
    if (mm && !d) { parts.push(mm + sep + words.unit_minute); }
    return parts.join(sep);
  }

  // Thousands grouped (12,345), "—" for none.
  function number(n) {
    if (n === null || n === undefined || n === "") { return "—"; }
    if (typeof n !== "number") { return String(n); }
    return n.toLocaleString("en-US");
  }

  // Plotly reads labels as markup: escape what a label could carry.
  function markup(text) { return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

  // The trend: reports as bars (left axis), 结案率 and 按期结案率 as lines (right axis, %), the
  // targets as dashed lines with their labels. A period not over yet is drawn lighter.
  function trendFigure(trend, words, width, height) {
    var pts = trend.points || [];
    var x = pts.map(function (p) { return p.label; });
    var targets = trend.targets || {};
    var shapes = [], notes = [];
    [["close_rate", "#52e07c"], ["on_time_close_rate", "#ffc53d"]].forEach(function (pair) {
      var v = targets[pair[0]];
      if (typeof v !== "number") { return; }
      shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, yref: "y2", y0: v, y1: v,
                   line: {color: pair[1], width: 3, dash: "dash"}});
      notes.push({xref: "paper", x: 1, xanchor: "right", yref: "y2", y: v, yanchor: "bottom", showarrow: false,
                  text: markup(words[pair[0] === "close_rate" ? "bf_close_rate" : "bf_on_time_close_rate"] + " " +
                               fill(words.bf_target, {v: v})),
                  font: {size: 24, color: pair[1]}});
    });
    var rates = [];
    pts.forEach(function (p) {
      if (p.close_rate !== null) { rates.push(p.close_rate); }
      if (p.on_time_close_rate !== null) { rates.push(p.on_time_close_rate); }
    });
    var low = Math.min.apply(null, rates.concat([targets.close_rate || 100, targets.on_time_close_rate || 100]));
    return {
      data: [
        {type: "bar", x: x, y: pts.map(function (p) { return p.reported; }), name: markup(words.bf_reports),
         marker: {color: pts.map(function (p) { return p.partial ? "rgba(53,208,255,0.45)" : "#35d0ff"; })},
         yaxis: "y"},
        {type: "scatter", mode: "lines+markers", x: x, y: pts.map(function (p) { return p.close_rate; }),
         name: markup(words.bf_close_rate), line: {color: "#52e07c", width: 5}, marker: {size: 12}, yaxis: "y2"},
        {type: "scatter", mode: "lines+markers", x: x, y: pts.map(function (p) { return p.on_time_close_rate; }),
         name: markup(words.bf_on_time_close_rate), line: {color: "#ffc53d", width: 5}, marker: {size: 12}, yaxis: "y2"}
      ],
      layout: {
        width: width, height: height, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: {family: FONT, size: 26, color: "#dbe9ff"}, margin: {l: 110, r: 110, t: 70, b: 70},
        showlegend: true, legend: {orientation: "h", x: 0, y: 1.1, font: {size: 28}},
        xaxis: {type: "category", tickfont: {size: 24}, gridcolor: "rgba(0,0,0,0)"},
        yaxis: {title: {text: markup(words.bf_reports)}, rangemode: "tozero", gridcolor: "#1f4a7a", tickfont: {size: 24}},
        yaxis2: {overlaying: "y", side: "right", range: [Math.max(0, Math.floor(low / 10) * 10 - 10), 100],
                 dtick: 5, ticksuffix: "%", tickfont: {size: 24}, showgrid: false},
        bargap: 0.3, shapes: shapes, annotations: notes
      }
    };
  }

  return {KEYS: KEYS, action: action, tour: tour, press: press, tick: tick, step: step, progress: progress,
          seconds: seconds, fill: fill, duration: duration, number: number, markup: markup, trendFigure: trendFigure};
});
