/* Texts the panels write, pure: numbers, rates, changes, ages and the history's loading state,
 * from the board's values and the page's words (the contract's "words", dashboard/i18n.py).
 * Runs in the browser (window.gridwall.format) and under Node (tests/js/format.test.js). */
(function (factory) {
  "use strict";
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.format = factory();
  }
})(function () {
  "use strict";
  var DASH = "—";

  // "{name}" placeholders of a word filled from vars.
  function fill(template, vars) {
    var out = String(template);
    for (var k in vars) {
      if (Object.prototype.hasOwnProperty.call(vars, k)) { out = out.split("{" + k + "}").join(String(vars[k])); }
    }
    return out;
  }

  function text(value) { return value === null || value === undefined ? DASH : String(value); }

  // "93.72 %" as [number, unit]: a big number and a small unit; "—" (or any other text) as
  // [text, null]. A full "100.00" does not fit a tile at the size read from 10 m: a whole 100
  // says the same.
  function rateParts(value) {
    var t = text(value);
    var m = /^(.*?)\s*%$/.exec(t);
    if (!m) { return [t, null]; }
    return [m[1] === "100.00" ? "100" : m[1], "%"];
  }

  // ▲3 / ▼2 / ±0: for overdue counters an increase is bad news (red), a decrease good (green).
  function deltaText(n) { return n > 0 ? "▲" + n : n < 0 ? "▼" + (-n) : "±0"; }
  function deltaClass(n) { return n > 0 ? "gw-up" : n < 0 ? "gw-down" : "gw-flat"; }

  // The age of the newest data: "12 秒前", "3 min ago", "2 小时前".
  function ago(seconds, words) {
    var s = Math.max(Math.round(seconds), 0);
    if (s < 120) { return s + " " + words.seconds_ago; }
    if (s < 7200) { return Math.round(s / 60) + " " + words.minutes_ago; }
    return Math.round(s / 3600) + " " + words.hours_ago;
  }

  // The history of a fresh data directory still streaming in: the board says
  // {"history": {"ready": false, "pct": 63}}. Absent, or ready: nothing loading (as before the
  // field existed). pct: a whole percentage, never 100 while not ready; null when unknown.
  function history(board) {
    var h = board && board.history;
    if (!h || typeof h !== "object" || h.ready !== false) { return {loading: false, pct: null}; }
    var pct = typeof h.pct === "number" && isFinite(h.pct) ? Math.min(Math.max(Math.floor(h.pct), 0), 99) : null;
    return {loading: true, pct: pct};
  }
  function loadingText(state, words) {
    return state.pct === null ? words.history_loading_any : fill(words.history_loading, {pct: state.pct});
  }

  // The hourly chart's axis label for hour h: "9时", "9:00".
  function hourTick(h, words) { return fill(words.hour_tick, {h: h}); }

  // --- texts that came in a payload (docs/wall.md "Payload strings") ---------------------------
  // Everything a message names is written as text (textContent, text nodes), never as HTML.
  // These are for the few places that take something else.

  // For an API that reads markup (Plotly's labels and hover texts understand <b>, <br>,
  // <a href>, <span style> and entities): & < > escaped, which Plotly shows as themselves.
  function markupText(value) {
    return text(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // A value used as a class name or a word's key ("gw-sev-" + sev): itself only when the page's
  // words know it (words[prefix + value]), else the fallback. A class is never free text: a
  // severity "critical gw-ended" would otherwise style a row as it pleases.
  function known(value, words, prefix, fallback) {
    return typeof value === "string" && /^[a-z0-9_]+$/.test(value) && words &&
      Object.prototype.hasOwnProperty.call(words, prefix + value) ? value : fallback;
  }

  // A text followed by words of ours in the same element: an embedding or override it opens
  // (U+202A-U+202E, U+2066-U+2068, never closed) would reverse what follows too. Wrapped in
  // FSI ... PDI when it holds one, which ends them all; as is otherwise.
  var BIDI = /[\u202A-\u202E\u2066-\u2069]/;
  function isolate(value) {
    var t = text(value);
    return BIDI.test(t) ? "\u2068" + t + "\u2069" : t;
  }

  // Which of n things to show at nowMs when they take turns every everyMs (the wall's rankings
  // over their periods): the state {index, since} after nowMs. One thing, or no turning: the first.
  function turn(state, n, nowMs, everyMs) {
    var since = state && state.since ? state.since : nowMs;
    if (n <= 1 || !(everyMs > 0)) { return {index: 0, since: since}; }
    var index = (state && state.index ? state.index : 0) % n;
    if (nowMs - since >= everyMs) { return {index: (index + 1) % n, since: nowMs}; }
    return {index: index, since: since};
  }

  return {
    DASH: DASH,
    fill: fill,
    text: text,
    rateParts: rateParts,
    deltaText: deltaText,
    deltaClass: deltaClass,
    ago: ago,
    history: history,
    loadingText: loadingText,
    hourTick: hourTick,
    markupText: markupText,
    known: known,
    isolate: isolate,
    turn: turn
  };
});
