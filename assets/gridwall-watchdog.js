/* The kiosk watchdog, pure: when is the wall's picture stale, is it still waiting for its first
 * picture, and when may the page reload. Clock in, decisions out; gridwall-poll.js feeds it
 * each poll's outcome and gridwall-core.js shows its state (docs/wall.md "When the backend is
 * down"). Runs in the browser (window.gridwall.watchdog) and under Node
 * (tests/js/watchdog.test.js).
 *
 * The rule: a wall runs unattended, so it must never reload into an empty page. While the
 * server cannot give a picture (web server, Redis or the network down) the page keeps the last
 * one it had, marked stale, and keeps polling; when the server is back the polls simply resume.
 * It reloads only on an answer that proves a fresh page would get a picture:
 *   - a usable poll answer whose build differs from the one this page started with (the
 *     server was redeployed with other scripts or layout), or
 *   - its polls keep failing for probeMs while a fresh probe of /wall/poll gets a usable
 *     picture, and a poll sent after that probe still fails (this page's state is what fails). */
(function (factory) {
  "use strict";
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    var lib = factory();
    gw.watchdogLib = lib;
    gw.watchdog = lib.createWatchdog(Object.assign({now: Date.now()}, lib.settings(window.location.search)));
  }
})(function () {
  "use strict";
  var STALE_MS = 10000; // no usable answer for this long: the data age turns red
  var PROBE_MS = 30000; // polls failing this long: probe whether a fresh page would get a picture
  var MIN_MS = 200;     // thresholds from the query string are clamped to at least this

  // The thresholds, from the page's query string (?stale_ms=2000&probe_ms=5000) so that a test
  // need not wait half a minute; anything else keeps the defaults.
  function settings(search) {
    var out = {staleMs: STALE_MS, probeMs: PROBE_MS};
    var q = String(search || "").replace(/^\?/, "").split("&");
    for (var i = 0; i < q.length; i++) {
      var kv = q[i].split("=");
      var n = Number(kv[1]);
      if (!kv[1] || !isFinite(n)) { continue; }
      if (kv[0] === "stale_ms") { out.staleMs = Math.max(n, MIN_MS); }
      if (kv[0] === "probe_ms") { out.probeMs = Math.max(n, MIN_MS); }
    }
    return out;
  }

  // A poll answer the page can draw: a JSON object with the KPI snapshot. The server answers
  // 503 when it has none (dashboard/poll.py), so this is a second line of defence.
  // Where a page goes when the server says it is no longer signed in (401: a revoked wall
  // token, an idle session): the sign-in page, told why, and back to this page afterwards. The
  // one case where the page does not keep its picture: it may no longer show it.
  function loginAddress(reason, here) {
    var m = reason === "login_token" ? "login_token" : "login_expired";
    return "/login?m=" + m + "&next=" + encodeURIComponent(here || "/");
  }

  function usable(msg) {
    return !!(msg && typeof msg === "object" && msg.kpi && typeof msg.kpi === "object" && !Array.isArray(msg.kpi));
  }

  // The data's age in an answer, in seconds: the newest GPS fix against the server's clock, as
  // the title bar shows it (gridwall-kpi.js); null when there is none.
  function ageOf(msg) {
    var feeds = usable(msg) ? msg.kpi.feeds : null;
    var last = feeds && feeds.gps ? feeds.gps.last_ts : null;
    if (typeof last !== "number" || typeof msg.now !== "number") { return null; }
    return Math.max(msg.now - last, 0);
  }

  function createWatchdog(opts) {
    opts = opts || {};
    var staleMs = opts.staleMs || STALE_MS;
    var probeMs = opts.probeMs || PROBE_MS;
    var s = {
      startedAt: opts.now || 0,
      okAt: null,          // the last usable answer (null: none yet, the page is waiting)
      ageAtOk: null,       // the data's age in it (seconds), null when unknown
      build: null,         // the build this page runs, from its first usable answer
      failingSince: null,  // the first failed poll since the last usable answer
      probing: false,
      probeAt: null,       // when the last probe was sent
      probeOkAt: null      // when a probe last got a usable picture while the polls failed
    };

    return {
      // A usable answer at `now`: {build, ageS}. "reload" when the server runs another build.
      ok: function (now, info) {
        info = info || {};
        s.okAt = now;
        s.ageAtOk = typeof info.ageS === "number" ? info.ageS : null;
        s.failingSince = null;
        s.probeOkAt = null;
        if (!info.build) { return null; } // a server from before builds were sent
        if (s.build === null) { s.build = info.build; return null; }
        return info.build === s.build ? null : "reload";
      },
      // A poll sent at `sentAt` failed at `now` (network, HTTP error, no picture). "reload" only
      // when a probe sent after the failures began got a usable picture before this poll left.
      fail: function (now, sentAt) {
        if (s.failingSince === null) { s.failingSince = now; }
        if (s.probeOkAt !== null && sentAt >= s.probeOkAt) { return "reload"; }
        return null;
      },
      // Should the page probe now? After probeMs of failures, one probe at a time, every probeMs.
      wantProbe: function (now) {
        return s.failingSince !== null && !s.probing && now - s.failingSince >= probeMs &&
          (s.probeAt === null || now - s.probeAt >= probeMs);
      },
      probeSent: function (now) { s.probing = true; s.probeAt = now; },
      // The probe's outcome: a usable picture while the polls still fail is remembered for fail().
      probed: function (now, gotPicture) {
        s.probing = false;
        if (gotPicture && s.failingSince !== null) { s.probeOkAt = now; }
      },
      // What the page shows at `now`: waiting (no picture yet), stale (no usable answer for
      // staleMs), and the age of the data it shows in seconds (null when it has none).
      state: function (now) {
        var waiting = s.okAt === null;
        var quiet = now - (waiting ? s.startedAt : s.okAt);
        var ageS = null;
        if (!waiting) {
          var since = Math.max(now - s.okAt, 0) / 1000;
          ageS = s.ageAtOk === null ? since : s.ageAtOk + since;
        }
        return {waiting: waiting, stale: quiet > staleMs, ageS: ageS, failing: s.failingSince !== null};
      },
      build: function () { return s.build; },
      staleMs: staleMs,
      probeMs: probeMs
    };
  }

  return {
    STALE_MS: STALE_MS,
    PROBE_MS: PROBE_MS,
    settings: settings,
    usable: usable,
    loginAddress: loginAddress,
    ageOf: ageOf,
    createWatchdog: createWatchdog
  };
});
