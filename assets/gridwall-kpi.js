/* Counters and data freshness, written straight into the page from the KPI snapshot that comes
 * with every poll (dashboard/poll.py: open, overdue and due-soon cases, devices online, each
 * feed's last message). While the board says the history is still loading (gridwall.panels
 * .loading), the case counters show "—": their panel shows the loading state instead. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var CASES = [["gw-kpi-open_cases", "open"], ["gw-kpi-overdue", "overdue"], ["gw-kpi-warn", "warn"]];

  function setText(id, value) {
    var el = document.getElementById(id);
    var text = value === null || value === undefined ? "—" : String(value);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function canvasJson(name) {
    try { return JSON.parse(gw.canvasAttr(name, "{}")) || {}; } catch (e) { return {}; }
  }

  // ok: all is well; ageS: seconds since the feed's last message (null: none yet); feed: the
  // name of the quiet feed to show, or null for the GPS age. (gridwall-core.js also calls it,
  // with the word for "stale" in place of a feed, while the server gives no picture.)
  gw.setFresh = function (ok, ageS, feed) {
    var box = document.getElementById("gw-fresh");
    var txt = document.getElementById("gw-fresh-text");
    if (!box || !txt) { return; }
    box.classList.toggle("stale", !ok);
    var words = gw.contract().words;
    var what = ageS === null || ageS === undefined ? gw.word("no_data") : gw.format.ago(ageS, words);
    var text = (feed ? feed + " " : "") + what;
    if (txt.textContent !== text) { txt.textContent = text; }
  };

  // The first feed past its quiet limit (data-feed-quiet, from the feed_quiet_s setting), or null.
  function quietFeed(feeds, now) {
    var limits = canvasJson("data-feed-quiet");
    for (var feed in limits) {
      var last = feeds[feed] ? feeds[feed].last_ts : null;
      var age = last ? Math.max(now - last, 0) : null;
      if (age === null || age > limits[feed]) { return {feed: feed, age: age}; }
    }
    return null;
  }

  function showCases() {
    var cases = (gw.kpi.last && gw.kpi.last.cases) || {};
    var loading = !!(gw.panels && gw.panels.loading);
    CASES.forEach(function (c) { setText(c[0], loading ? null : cases[c[1]]); });
  }

  gw.kpi = {
    last: null,
    refresh: showCases,
    apply: function (raw) {
      if (!raw) { return; }
      var msg = typeof raw === "string" ? JSON.parse(raw) : raw;
      var k = msg.kpi || {};
      gw.kpi.last = k;
      showCases();
      var dev = k.devices || {};
      setText("gw-kpi-collectors", dev.collector);
      setText("gw-kpi-vehicles", dev.vehicle);
      var feeds = k.feeds || {};
      var quiet = quietFeed(feeds, msg.now);
      if (quiet) {
        gw.setFresh(false, quiet.age, gw.contract().words["feed_" + quiet.feed] || quiet.feed);
      } else {
        var lastGps = feeds.gps ? feeds.gps.last_ts : null;
        gw.setFresh(true, lastGps ? Math.max(msg.now - lastGps, 0) : null, null);
      }
      return msg.now;
    }
  };
})();
