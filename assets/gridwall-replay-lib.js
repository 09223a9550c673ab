/* The replay's pure parts (docs/desk.md "Replay"): a device's track as typed arrays, where it is
 * at a time t (interpolated between fixes, held across a gap), the player's clock, the trail's
 * first fix, and the page's address and form. No DOM, no clock read: the caller passes the
 * times. Runs in the browser (window.gridwall.replayLib) and under Node
 * (tests/js/replay.test.js).
 *
 * The server sends each device's fixes as [t, lat, lon] arrays, t in seconds after the window's
 * start (dashboard/screens/replay.py); `gapS`, the step beyond which nothing is interpolated,
 * comes with them (dashboard/casework/tracks.py's rule: nobody knows where a device went in a
 * gap, so it is held at its last fix and drawn dimmed). */
(function (factory) {
  "use strict";
  // The address parser is the desk's (assets/gridwall-desk-lib.js, loaded first: Dash loads the
  // assets in name order).
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory(require("./gridwall-desk-lib.js"));
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.replayLib = factory(gw.deskLib);
  }
})(function (deskLib) {
  "use strict";
  // Where a device is at t, relative to its fixes.
  var BEFORE = 0;   // before its first fix in the window: not drawn
  var ON = 1;       // on its track: at a fix, between two, or just after its last
  var GAP = 2;      // in a gap: held at the fix before it
  var AFTER = 3;    // past its last fix by more than a gap: held there

  // A device's fixes as typed arrays (built once per answer, so a frame allocates nothing).
  // `project(lat, lon, into)`, optional, fills into.mx/into.my for the map (mx, my arrays).
  function buildTrack(fixes, project) {
    var n = fixes.length, P = {mx: 0, my: 0};
    var tr = {n: n, t: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
              mx: project ? new Float64Array(n) : null, my: project ? new Float64Array(n) : null, cur: 0};
    for (var i = 0; i < n; i++) {
      var f = fixes[i];
      tr.t[i] = f[0]; tr.lat[i] = f[1]; tr.lon[i] = f[2];
      if (project) { project(f[1], f[2], P); tr.mx[i] = P.mx; tr.my[i] = P.my; }
    }
    return tr;
  }

  // The largest index in [lo, hi] whose time is <= t (ts[lo] <= t is the caller's).
  function search(ts, t, lo, hi) {
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (ts[mid] <= t) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  }

  // The last fix at or before t (-1 before the first). Playing forward moves a few fixes a
  // frame: the cursor steps on from where it was; a jump (the slider) is a binary search.
  function indexAt(tr, t) {
    var n = tr.n, ts = tr.t, i = tr.cur;
    if (n === 0 || !(t >= ts[0])) { return -1; }
    if (!(i >= 0 && i < n)) { i = 0; }
    if (ts[i] <= t) {
      for (var k = 0; k < 8 && i + 1 < n && ts[i + 1] <= t; k++) { i++; }
      if (i + 1 < n && ts[i + 1] <= t) { i = search(ts, t, i + 1, n - 1); }
    } else {
      i = search(ts, t, 0, i);
    }
    tr.cur = i;
    return i;
  }

  // Where the device is at t: out.lat, out.lon, and the state (BEFORE, ON, GAP, AFTER). Between
  // two fixes no more than gapS apart it moves in a straight line at constant speed (fixes are
  // seconds apart, a few hundred metres at most: lat/lon are as straight as the map there).
  function positionAt(tr, t, gapS, out) {
    var i = indexAt(tr, t);
    if (i < 0) { return BEFORE; }
    var lat = tr.lat, lon = tr.lon, ts = tr.t;
    out.lat = lat[i]; out.lon = lon[i];
    if (i === tr.n - 1) { return t - ts[i] > gapS ? AFTER : ON; }
    var t0 = ts[i], t1 = ts[i + 1];
    if (t1 - t0 > gapS) { return t - t0 > gapS ? GAP : ON; }
    if (t1 > t0) {
      var f = (t - t0) / (t1 - t0);
      out.lat = lat[i] + f * (lat[i + 1] - lat[i]);
      out.lon = lon[i] + f * (lon[i + 1] - lon[i]);
    }
    return ON;
  }

  // The first fix of the trail that ends at t and reaches back tailS seconds (tailS < 0: the
  // whole track). Does not move the track's cursor.
  function trailStart(tr, t, tailS) {
    if (tr.n === 0 || tailS < 0) { return 0; }
    var from = t - tailS;
    if (!(from > tr.t[0])) { return 0; }
    return search(tr.t, from, 0, tr.n - 1);
  }

  // --- the player's clock -----------------------------------------------------------------------
  // {t, end, speed, playing, lastMs}: t seconds into the window; speed × the real time elapsed.
  function clock(end, speed) {
    return {t: 0, end: end, speed: speed, playing: false, lastMs: null};
  }

  // One frame at real time nowMs (performance.now()): t advances by speed × the time since the
  // last frame, at most MAX_STEP_MS of it (a frame that came late, a tab that was hidden: the
  // replay slows for a moment rather than jump), and stops at the end.
  var MAX_STEP_MS = 250;
  function step(c, nowMs) {
    if (c.playing && c.lastMs !== null) {
      var dt = Math.min(Math.max(nowMs - c.lastMs, 0), MAX_STEP_MS);
      c.t = Math.min(c.end, c.t + dt / 1000 * c.speed);
      if (c.t >= c.end) { c.playing = false; }
    }
    c.lastMs = c.playing ? nowMs : null;
    return c.t;
  }

  function play(c, nowMs) {
    if (c.t >= c.end) { c.t = 0; }   // play at the end starts again
    c.playing = c.end > 0;
    c.lastMs = nowMs;
  }

  function seek(c, t) {
    c.t = Math.max(0, Math.min(c.end, +t || 0));
  }

  // --- the address and the form -------------------------------------------------------------------
  // The page's address names the replay (/desk/replay?subtype=muck_truck&kind=vehicle&from=...),
  // so a replay is a link; "follow" and "lang" are the page's own, the rest is the API's query.
  var KEYS = ["devices", "kind", "subtype", "department", "from", "to", "stop_min", "follow", "lang"];
  var PAGE_ONLY = ["follow", "lang"];

  function parse(search) { return deskLib.parseKeys(search, KEYS); }

  function encode(query, keys) {
    var parts = [];
    keys.forEach(function (k) {
      if (query[k] !== undefined && query[k] !== null && query[k] !== "") {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(query[k]));
      }
    });
    return parts.join("&");
  }

  function href(query) {
    var s = encode(query, KEYS);
    return "/desk/replay" + (s ? "?" + s : "");
  }

  // The API's address for the page's query: null when it names no choice or no window yet.
  function apiUrl(query) {
    if (!query.from || !query.to || !(query.devices || query.kind || query.department)) { return null; }
    return "/desk/api/replay?" + encode(query, KEYS.filter(function (k) { return PAGE_ONLY.indexOf(k) < 0; }));
  }

  // The form's fields -> the query. `what`: "vehicle:<subtype>", "vehicle:" (every vehicle),
  // "collector:" (a collector team with a department) or "devices" (the ids typed in).
  function queryOf(f) {
    var q = {};
    if (f.what === "devices") {
      // Commas, full-width commas (a Chinese keyboard's), blanks: whatever separates the ids.
      q.devices = String(f.devices || "").split(/[,\uFF0C\s]+/).filter(Boolean).join(",");
    } else {
      var parts = String(f.what || "").split(":");
      q.kind = parts[0];
      if (parts[1]) { q.subtype = parts[1]; }
      if (f.department) { q.department = f.department; }
    }
    ["from", "to", "stop_min"].forEach(function (k) { if (f[k]) { q[k] = f[k]; } });
    return q;
  }

  // The query -> the form's fields (the inverse of queryOf).
  function formOf(q) {
    var what = q.devices ? "devices" : (q.kind || (q.subtype ? "vehicle" : "")) + ":" + (q.subtype || "");
    return {what: what === ":" ? "" : what, department: q.department || "", devices: q.devices || "",
            from: q.from || "", to: q.to || "", stop_min: q.stop_min || ""};
  }

  // --- texts ---------------------------------------------------------------------------------------
  function km(metres) {
    return (Math.round(metres / 100) / 10).toFixed(1);
  }

  // "22:15:30" (or with the date, "10-14 22:15") of an epoch time in the city's zone.
  var formats = {};
  function timeText(epochS, tz, withDate) {
    var key = tz + (withDate ? "|d" : "");
    if (!formats[key]) {
      formats[key] = new Intl.DateTimeFormat("en-GB", withDate
        ? {timeZone: tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false}
        : {timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
    }
    var parts = {};
    formats[key].formatToParts(new Date(epochS * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    var hh = parts.hour === "24" ? "00" : parts.hour;   // some engines say 24:00 for midnight
    return withDate ? parts.month + "-" + parts.day + " " + hh + ":" + parts.minute
      : hh + ":" + parts.minute + ":" + parts.second;
  }

  return {BEFORE: BEFORE, ON: ON, GAP: GAP, AFTER: AFTER, buildTrack: buildTrack, indexAt: indexAt,
          positionAt: positionAt, trailStart: trailStart, clock: clock, step: step, play: play, seek: seek,
          MAX_STEP_MS: MAX_STEP_MS, KEYS: KEYS, parse: parse, href: href, apiUrl: apiUrl, queryOf: queryOf,
          formOf: formOf, km: km, timeText: timeText};
});
