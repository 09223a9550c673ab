/* The wall's one poll: GET /wall/poll at a fixed rate (data-poll-ms on #gw-canvas), and each
 * part of the answer to the code that draws it (dashboard/poll.py describes the answer).
 *
 * Not a dcc.Interval with callbacks: the Dash renderer keeps every Interval tick in its undo
 * history, which is never trimmed, so a wall's heap grew for as long as it ran.
 *
 * One request at a time: a slow answer delays the next poll rather than queueing more, and the
 * next answer brings the newest state (deltas, or the whole picture when too far behind).
 *
 * When the server cannot give a picture (it is down, or it answers 503 because its Redis is
 * down or empty) nothing is drawn: the page keeps what it shows and keeps asking, a little
 * slower. Each outcome goes to the watchdog (gridwall-watchdog.js), which alone decides when
 * the page may reload: only on an answer that proves a fresh page would get a picture. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var TIMEOUT_MS = 10000;
  var FAILING_MS = 1000; // the poll's period while the server cannot answer

  // The versions this page last got from the server (the map's and the board's); `reason`: why
  // the last poll failed (the server's 503 reason, "HTTP 500", "network"), null after a good one.
  var poll = gw.poll = {period: 500, polls: 0, failures: 0, probes: 0, live: null, board: null, running: false,
    reason: null};

  function ready() {
    // The map's own code must be there to take the first picture; Dash renders the layout
    // after the scripts ran, so wait for the canvas and the Leaflet instance.
    return document.getElementById("gw-canvas") && gw.map && gw.map.instance && gw.live && gw.panels && gw.watchdog;
  }

  // The wall's poll, or the one its page names (the briefing's: the same answer, behind its own right).
  function base() { return gw.canvasAttr("data-poll-url", "/wall/poll"); }

  function url() {
    var v = poll.live, b = poll.board;
    return base() + "?v=" + (v === null ? "" : v) + "&b=" + (b === null ? "" : b);
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

  // No longer signed in (a revoked token, a session that timed out): this page may not show
  // what it shows, so it goes to the sign-in page at once (docs/access.md).
  function signedOut(reason) {
    poll.running = false;
    window.location.assign(gw.watchdogLib.loginAddress(reason, window.location.pathname + window.location.search));
  }

  function reload() {
    poll.running = false; // no more polls from this page
    window.location.reload();
  }

  // GET url with the poll's timeout: the parsed JSON of a 200, else a rejection with a reason.
  function get(address) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS);
    return fetch(address, {cache: "no-store", signal: ctrl.signal})
      .then(function (r) {
        if (r.ok) { return r.json(); }
        // The server's own reason when it gives one (dashboard/poll.py: {"reason": ...}).
        return r.json().catch(function () { return {}; }).then(function (body) {
          var reason = (body && body.reason) || "HTTP " + r.status;
          if (r.status === 401) { signedOut(reason); }
          throw new Error(reason);
        });
      }, function () { throw new Error("network"); })
      .finally(function () { clearTimeout(timer); });
  }

  // Would a freshly loaded page get a picture? The whole picture, as a new page asks for it.
  function probe() {
    var dog = gw.watchdog;
    dog.probeSent(Date.now());
    poll.probes += 1;
    get(base() + "?v=&b=")
      .then(function (msg) { dog.probed(Date.now(), gw.watchdogLib.usable(msg)); },
            function () { dog.probed(Date.now(), false); });
  }

  function once() {
    if (!poll.running) { return; }
    var started = Date.now();
    if (!ready()) { setTimeout(once, 100); return; }
    var dog = gw.watchdog;
    poll.period = parseInt(gw.canvasAttr("data-poll-ms", "500"), 10) || 500;
    var next = function () {
      var period = poll.reason === null ? poll.period : Math.max(poll.period, FAILING_MS);
      setTimeout(once, Math.max(period - (Date.now() - started), 0));
    };
    get(url())
      .then(function (msg) {
        if (!gw.watchdogLib.usable(msg)) { throw new Error("no picture"); }
        poll.polls += 1;
        poll.reason = null;
        if (dog.ok(Date.now(), {build: msg.build, ageS: gw.watchdogLib.ageOf(msg)}) === "reload") {
          reload(); // the server runs another build, and it has a picture for the new page
          return;
        }
        try {
          take(msg);
        } catch (e) {
          console.error("gridwall: applying a poll failed", e);  // a bug: say so, keep polling
        }
      })
      // The server or its Redis is down, or the network: keep what is shown and keep polling.
      // The page shows the data as stale (gridwall-core.js) and reloads only when the watchdog
      // says a fresh page would get a picture.
      .catch(function (e) {
        poll.failures += 1;
        poll.reason = (e && e.message) || "error";
        // Ask for the whole picture and the board when the server answers again: Redis may have
        // come back empty and counted its versions up from 1 again, and a version number equal
        // to this page's would then look current.
        poll.live = null;
        poll.board = null;
        var now = Date.now();
        if (dog.fail(now, started) === "reload") { reload(); return; }
        if (dog.wantProbe(now)) { probe(); }
      })
      .finally(function () {
        if (!poll.running) { return; }
        // The watchdog's state on the page at once, not at the next second's tick: the first
        // picture shows its figures, a first page load with no server shows it is waiting.
        if (gw.showState) { gw.showState(); }
        next();
      });
  }

  if (!poll.running) {
    poll.running = true;
    once();
  }
})();
