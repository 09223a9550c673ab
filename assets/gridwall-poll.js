/* The wall's one poll: GET /wall/poll at a fixed rate (data-poll-ms on #gw-canvas), and each
 * part of the answer to the code that draws it (dashboard/poll.py describes the answer).
 *
 * Not a dcc.Interval with callbacks: the Dash renderer keeps every Interval tick in its undo
 * history, which is never trimmed, so a wall's heap grew for as long as it ran.
 *
 * One request at a time: a slow answer delays the next poll rather than queueing more, and the
 * next answer brings the newest state (deltas, or the whole picture when too far behind). */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var TIMEOUT_MS = 10000;

  // The versions this page last got from the server (the map's and the board's).
  var poll = gw.poll = {period: 500, polls: 0, failures: 0, live: null, board: null, running: false};

  function ready() {
    // The map's own code must be there to take the first picture; Dash renders the layout
    // after the scripts ran, so wait for the canvas and the Leaflet instance.
    return document.getElementById("gw-canvas") && gw.map && gw.map.instance && gw.live && gw.panels;
  }

  function url() {
    var v = poll.live, b = poll.board;
    return "/wall/poll?v=" + (v === null ? "" : v) + "&b=" + (b === null ? "" : b);
  }

  function take(msg) {
    gw.kpi.apply({now: msg.now, kpi: msg.kpi});
    if (msg.live) {
      // The store's version after it: null when it could not take the deltas (a gap, a reset),
      // so the next poll asks for the whole picture.
      poll.live = gw.live.apply(msg.live);
    }
    if (msg.board) {
      gw.panels.apply(msg.board);
      poll.board = msg.b;
    }
  }

  function once() {
    var started = Date.now();
    var next = function () { setTimeout(once, Math.max(poll.period - (Date.now() - started), 0)); };
    if (!ready()) { setTimeout(once, 100); return; }
    poll.period = parseInt(gw.canvasAttr("data-poll-ms", "500"), 10) || 500;
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS);
    fetch(url(), {cache: "no-store", signal: ctrl.signal})
      .then(function (r) {
        if (!r.ok) { throw new Error("poll: HTTP " + r.status); }
        return r.json();
      })
      .then(function (msg) {
        poll.polls += 1;
        try {
          take(msg);
        } catch (e) {
          console.error("gridwall: applying a poll failed", e);  // a bug: say so, keep polling
        }
      })
      // A server restart or a network drop: keep polling. The watchdog in gridwall-core.js
      // shows the data as stale after 10 s, and reloads the page if the polls still fail
      // after 30 s while the server answers /healthz.
      .catch(function () { poll.failures += 1; })
      .finally(function () { clearTimeout(timer); next(); });
  }

  if (!poll.running) {
    poll.running = true;
    once();
  }
})();
