/* Counters and data freshness, written straight into the page from the KPI snapshot. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  function setText(id, value) {
    var el = document.getElementById(id);
    var text = value === null || value === undefined ? "—" : String(value);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function canvasJson(name) {
    try { return JSON.parse(gw.canvasAttr(name, "{}")) || {}; } catch (e) { return {}; }
  }

  function ago(s) {
    s = Math.max(Math.round(s), 0);
    var en = gw.lang() === "en";
    if (s < 120) { return s + (en ? " s ago" : " 秒前"); }
    if (s < 7200) { return Math.round(s / 60) + (en ? " min ago" : " 分钟前"); }
    return Math.round(s / 3600) + (en ? " h ago" : " 小时前");
  }

  // ok: all is well; ageS: seconds since the feed's last message (null: none yet); feed: the
  // name of the quiet feed to show, or null for the GPS age.
  gw.setFresh = function (ok, ageS, feed) {
    var box = document.getElementById("gw-fresh");
    var txt = document.getElementById("gw-fresh-text");
    if (!box || !txt) { return; }
    box.classList.toggle("stale", !ok);
    var what = ageS === null || ageS === undefined ? (gw.lang() === "en" ? "no data" : "无数据") : ago(ageS);
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

  gw.kpi = {
    last: null,
    apply: function (raw) {
      if (!raw) { return; }
      var msg = typeof raw === "string" ? JSON.parse(raw) : raw;
      var k = msg.kpi || {};
      gw.lastOk = Date.now();
      gw.kpi.last = k;
      var cases = k.cases || {};
      setText("gw-kpi-open_cases", cases.open);
      setText("gw-kpi-overdue", cases.overdue);
      setText("gw-kpi-warn", cases.warn);
      var dev = k.devices || {};
      setText("gw-kpi-collectors", dev.collector);
      setText("gw-kpi-vehicles", dev.vehicle);
      var feeds = k.feeds || {};
      var quiet = quietFeed(feeds, msg.now);
      if (quiet) {
        gw.setFresh(false, quiet.age, canvasJson("data-feed-names")[quiet.feed] || quiet.feed);
      } else {
        var lastGps = feeds.gps ? feeds.gps.last_ts : null;
        gw.setFresh(true, lastGps ? Math.max(msg.now - lastGps, 0) : null, null);
      }
      return msg.now;
    }
  };
})();
