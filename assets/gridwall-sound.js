/* The alert sound: once per critical video alert, when the screen first sees it in the board's
 * ticker (docs/wall.md "Sound for critical alerts"). Its state is gridwall.panels.sound (played,
 * refused, pending), the ids already announced gridwall.panels.seen.
 *
 * Browsers refuse to play before someone has clicked the page; a wall's kiosk browser is started
 * with the autoplay switch. Without it the refusal is never silent: the ticker's head shows a
 * click hint, and the first click or key press anywhere plays the alert that was refused. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var P = (gw.panels = gw.panels || {});
  var SEEN_KEY = "gw-critical-seen";
  var SEEN_MAX = 500;
  P.sound = P.sound || {url: "", audio: null, played: 0, refused: 0, pending: false};
  P.seen = P.seen || null; // critical alert ids already announced (kept across the watchdog's reloads)

  function byId(id) { return document.getElementById(id); }

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
  function soundUrl() {
    var s = P.sound;
    if (!s.url && !s.checked) {
      s.checked = true;
      var conf = byId("gw-panels-conf");
      s.url = (conf && conf.getAttribute("data-sound")) || "";
    }
    return s.url;
  }
  // The board's ticker items: a critical alert not announced yet sounds.
  function check(items) {
    soundUrl();
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
    play();
  }
  function hint(show) {
    var el = byId("gw-sound-hint");
    if (el) { el.hidden = !show; }
  }
  function play() {
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
    if (P.sound.pending) { play(); } else { hint(false); }
  }
  document.addEventListener("click", unlock, true);
  document.addEventListener("keydown", unlock, true);

  gw.sound = {check: check, play: play};
})();
