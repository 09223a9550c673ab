/* Counters and data freshness, written straight into the page from the KPI snapshot. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var STALE_S = 60;

  function setText(id, value) {
    var el = document.getElementById(id);
    var text = value === null || value === undefined ? "—" : String(value);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  gw.setFresh = function (ok, ageS) {
    var box = document.getElementById("gw-fresh");
    var txt = document.getElementById("gw-fresh-text");
    if (!box || !txt) { return; }
    box.classList.toggle("stale", !ok);
    var lang = (document.getElementById("gw-canvas") || {}).getAttribute ? document.getElementById("gw-canvas").getAttribute("data-lang") : "zh";
    var unit = lang === "en" ? "s ago" : "秒前";
    txt.textContent = ageS === null || ageS === undefined ? (lang === "en" ? "no data" : "无数据") : Math.round(ageS) + " " + unit;
  };

  gw.kpi = {
    last: null,
    apply: function (raw) {
      if (!raw) { return window.dash_clientside.no_update; }
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
      var lastGps = k.feeds && k.feeds.gps ? k.feeds.gps.last_ts : null;
      var age = lastGps ? Math.max(msg.now - lastGps, 0) : null;
      gw.setFresh(age !== null && age < STALE_S, age);
      return msg.now;
    }
  };
})();
