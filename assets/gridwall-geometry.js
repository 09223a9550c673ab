/* Geometry and projection, pure: the WGS-84 -> GCJ-02 shift (the published formulas, as in
 * dashboard/geo.py, held to it by tests/js/geometry.test.js) and the normalised Web Mercator
 * the live canvas draws in. No DOM, no Leaflet: it runs in the browser (window.gridwall.geo)
 * and under Node (module.exports) alike.
 *
 * The hot paths write into an object the caller owns instead of returning a new one: the map
 * projects every moving device once a second, and at 50,000 devices an array per point is what
 * would keep the garbage collector busy. */
(function (factory) {
  "use strict";
  // Node (the tests in tests/js): a module. A browser: window.gridwall.geo. Decided by window,
  // not by a global "module", which some bundled script on a page might define.
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.geo = factory();
  }
})(function () {
  "use strict";
  var GA = 6378245.0, GEE = 0.00669342162296594323, PI = Math.PI, D2R = PI / 180;
  // Leaflet's limit of the Mercator latitude: beyond it the projection runs to infinity.
  var MAXLAT = 85.0511287798;
  var OUT = {lat: 0, lon: 0};

  function outOfChina(lat, lon) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }

  // WGS-84 -> GCJ-02 into out.lat, out.lon (no allocation per point).
  function gcjInto(lat, lon, out) {
    if (outOfChina(lat, lon)) { out.lat = lat; out.lon = lon; return out; }
    var dLat = tLat(lon - 105.0, lat - 35.0), dLon = tLon(lon - 105.0, lat - 35.0);
    var rad = lat * D2R, magic = 1.0 - GEE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((GA * (1.0 - GEE)) / (magic * sq) * PI);
    dLon = (dLon * 180.0) / (GA / sq * Math.cos(rad) * PI);
    out.lat = lat + dLat; out.lon = lon + dLon;
    return out;
  }

  // A WGS-84 position as the map shows it: shifted to GCJ-02 when the tiles are ("gcj02"),
  // as is otherwise. Into out.lat, out.lon.
  function shiftInto(lat, lon, shift, out) {
    if (shift === "gcj02") { return gcjInto(lat, lon, out); }
    out.lat = lat; out.lon = lon;
    return out;
  }

  // Normalised Web Mercator (0..1 across the world), times 256·2^zoom = Leaflet's pixel. Into
  // into.mx, into.my, after the shift.
  function project(lat, lon, shift, into) {
    if (shift === "gcj02") { gcjInto(lat, lon, OUT); lat = OUT.lat; lon = OUT.lon; }
    var la = lat > MAXLAT ? MAXLAT : (lat < -MAXLAT ? -MAXLAT : lat);
    var s = Math.sin(la * D2R);
    into.mx = lon / 360 + 0.5;
    into.my = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * PI);
    return into;
  }

  return {
    outOfChina: outOfChina,
    gcjInto: gcjInto,
    shiftInto: shiftInto,
    project: project,
    wgs84ToGcj02: function (lat, lon) { gcjInto(lat, lon, OUT); return [OUT.lat, OUT.lon]; }
  };
});
