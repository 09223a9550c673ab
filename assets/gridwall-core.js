/* gridwall browser core: the namespace, fixed-canvas scaling, the page's settings and contract,
 * the clock, and what the kiosk watchdog says about the data. A wall runs unattended and nobody
 * refreshes it by hand: while the server cannot give a picture (server restart, Redis down,
 * network drop) the page keeps the last one, with the data age red, and carries on when the
 * polls are answered again. When it may reload is gridwall-watchdog.js's decision alone.
 *
 * The scripts of assets/ load in alphabetical order (Dash); each one that needs another at load
 * time sorts after it (gridwall-geometry < gridwall-live < gridwall-map-* < gridwall-map), the
 * rest look each other up on window.gridwall when they run. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  gw.DESIGN_W = 1920;
  gw.DESIGN_H = 1080;

  // Scale the fixed design canvas to the screen, letterboxed: text and SVG stay vector-crisp.
  function fit() {
    var root = document.documentElement;
    var canvas = document.getElementById("gw-canvas");
    var w = gw.DESIGN_W, h = gw.DESIGN_H;
    if (canvas && canvas.classList.contains("gw-wide")) { w = 3840; h = 1080; }
    var s = Math.min(window.innerWidth / w, window.innerHeight / h);
    root.style.setProperty("--gw-scale", s);
    root.style.setProperty("--gw-off-x", ((window.innerWidth - w * s) / 2) + "px");
    root.style.setProperty("--gw-off-y", ((window.innerHeight - h * s) / 2) + "px");
    gw.scale = s;
  }
  window.addEventListener("resize", fit);
  document.addEventListener("DOMContentLoaded", fit);
  fit();

  // The page's settings live in data-* attributes of #gw-canvas (layouts/wall.py); every
  // gridwall-*.js reads them through these two.
  function canvasAttr(name, dflt) {
    var c = document.getElementById("gw-canvas");
    return (c && c.getAttribute(name)) || dflt;
  }
  gw.canvasAttr = canvasAttr;
  gw.lang = function () { return canvasAttr("data-lang", "zh") === "en" ? "en" : "zh"; };

  // The contract (dashboard/contract.py, docs/contract.md): the values and words both sides
  // share, as JSON in data-contract. Read once the canvas is there; until then, empty.
  var contract = null;
  gw.contract = function () {
    if (contract) { return contract; }
    var c = document.getElementById("gw-canvas");
    if (!c) { return {words: {}}; }
    try { contract = JSON.parse(c.getAttribute("data-contract")) || {}; } catch (e) { contract = {}; }
    contract.words = contract.words || {};
    return contract;
  };
  // A word of the page's language, "{name}" placeholders filled from vars. A word missing from
  // the contract shows as its key: visible on the wall, and tests/browser catch it.
  gw.word = function (key, vars) {
    var w = gw.contract().words[key];
    if (typeof w !== "string") { return key; }
    return vars && gw.format ? gw.format.fill(w, vars) : w;
  };

  function tick() {
    var tz = canvasAttr("data-tz", "Asia/Shanghai");
    var now = new Date();
    var locale = gw.contract().words.date_locale || "zh-CN";
    var date = document.getElementById("gw-date");
    var clock = document.getElementById("gw-clock");
    if (date) {
      date.textContent = new Intl.DateTimeFormat(locale, {timeZone: tz, year: "numeric", month: "2-digit",
        day: "2-digit", weekday: "short"}).format(now);
    }
    if (clock) {
      clock.textContent = new Intl.DateTimeFormat("en-GB", {timeZone: tz, hour: "2-digit", minute: "2-digit",
        second: "2-digit", hour12: false}).format(now);
    }
    if (!document.getElementById("gw-canvas")) { return; }
    fit();
    showState();
  }
  setInterval(tick, 1000);

  // The watchdog's state on the page (docs/wall.md "When the backend is down"): before the
  // first picture the canvas is marked gw-waiting (its figures hidden, a banner over the map
  // says it waits for data: no dash pretends to be a number); without a usable answer for a
  // while it is marked gw-stale and the data age turns red, saying how old the picture is.
  function showState() {
    var canvas = document.getElementById("gw-canvas");
    if (!canvas || !gw.watchdog) { return; }
    var st = gw.watchdog.state(Date.now());
    if (canvas.classList.contains("gw-waiting") !== st.waiting) { canvas.classList.toggle("gw-waiting", st.waiting); }
    if (canvas.classList.contains("gw-stale") !== st.stale) { canvas.classList.toggle("gw-stale", st.stale); }
    if (st.waiting) { waitingBanner(canvas); }
    if (st.stale && gw.setFresh) {
      gw.setFresh(false, st.ageS, st.waiting ? null : gw.contract().words.fresh_stale);
    }
  }
  gw.showState = showState;

  // The banner over the map while the page waits for its first picture, made once.
  function waitingBanner(canvas) {
    var center = canvas.querySelector(".gw-center");
    if (!center || center.querySelector(".gw-waiting-banner")) { return; }
    var banner = document.createElement("div");
    banner.className = "gw-waiting-banner";
    var text = document.createElement("div");
    text.className = "gw-waiting-text";
    text.textContent = gw.word("waiting_data");
    banner.appendChild(text);
    center.appendChild(banner);
  }
})();
