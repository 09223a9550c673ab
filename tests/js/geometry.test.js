// WGS-84 -> GCJ-02 in the browser (assets/gridwall-geometry.js) against dashboard/geo.py: the
// rows of fixtures/gcj02.json are Python's answers (tests/unit/test_js_fixtures.py checks them).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const geo = require("../../assets/gridwall-geometry.js");

const rows = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "gcj02.json"), "utf8"));
const TOL = 1e-9;  // degrees: about 0.1 mm

test("every fixture point: the JS shift equals Python's wgs84_to_gcj02", () => {
  assert.ok(rows.length >= 10);
  for (const r of rows) {
    const [lat, lon] = geo.wgs84ToGcj02(r.lat, r.lon);
    assert.ok(Math.abs(lat - r.gcj_lat) <= TOL && Math.abs(lon - r.gcj_lon) <= TOL,
      `${r.lat},${r.lon}: JS ${lat},${lon} Python ${r.gcj_lat},${r.gcj_lon}`);
    assert.equal(geo.outOfChina(r.lat, r.lon), r.out_of_china, `${r.lat},${r.lon}`);
  }
});

test("outside China nothing moves; inside the shift is hundreds of metres", () => {
  assert.deepEqual(geo.wgs84ToGcj02(48.8566, 2.3522), [48.8566, 2.3522]);
  const [lat, lon] = geo.wgs84ToGcj02(30.27, 120.16);
  assert.ok(Math.abs(lat - 30.27) > 1e-3 && Math.abs(lon - 120.16) > 1e-3);
});

test("the shift the map applies: only for GCJ-02 tiles", () => {
  const out = {lat: 0, lon: 0};
  geo.shiftInto(30.27, 120.16, "", out);
  assert.deepEqual(out, {lat: 30.27, lon: 120.16});
  geo.shiftInto(30.27, 120.16, "gcj02", out);
  assert.deepEqual([out.lat, out.lon], geo.wgs84ToGcj02(30.27, 120.16));
});

test("Web Mercator, normalised: the origin in the middle, north up, shifted first under GCJ-02", () => {
  const p = {mx: 0, my: 0};
  geo.project(0, 0, "", p);
  assert.deepEqual(p, {mx: 0.5, my: 0.5});
  geo.project(85.0511287798, 180, "", p);
  assert.ok(Math.abs(p.mx - 1) < 1e-12 && Math.abs(p.my) < 1e-9);
  geo.project(89.9, -180, "", p);  // clamped at the projection's limit
  assert.ok(p.mx === 0 && Math.abs(p.my) < 1e-9);
  const raw = geo.project(30.27, 120.16, "", {});
  const shifted = geo.project(30.27, 120.16, "gcj02", {});
  const [glat, glon] = geo.wgs84ToGcj02(30.27, 120.16);
  assert.deepEqual(shifted, geo.project(glat, glon, "", {}));
  assert.notDeepEqual(raw, shifted);
});
