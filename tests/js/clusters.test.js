// The cluster grid (assets/gridwall-map-clusters.js): one group per cell and kind, with its
// count, centroid sums, worst light and first object.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const clusters = require("../../assets/gridwall-map-clusters.js");

test("points in one cell make one group per kind; the worst light wins", () => {
  const g = clusters.createGrid(64);
  g.reset(10);
  const a = {id: "a"}, b = {id: "b"};
  g.add(10, 10, 0, a, -1);
  g.add(60, 20, 0, b, -1);
  g.add(30, 30, 1, {id: "k1"}, 1);
  g.add(31, 31, 1, {id: "k2"}, 3);
  g.add(32, 32, 1, {id: "k3"}, 2);
  g.add(70, 10, 0, {id: "c"}, -1);   // the next cell
  g.finish();
  assert.equal(g.n, 3);
  assert.deepEqual([g.cnt[0], g.cnt[1], g.cnt[2]], [2, 3, 1]);
  assert.equal(g.first[0], a);
  assert.deepEqual([g.sx[0] / g.cnt[0], g.sy[0] / g.cnt[0]], [35, 15]);
  assert.equal(g.worst[1], 3);
  assert.equal(g.worst[0], -1);
});

test("a reset makes room for the objects to come, empties the grid and drops old objects", () => {
  const g = clusters.createGrid(64);
  g.reset(2);
  const small = g.cap;
  g.reset(5000);   // the map asks for room for every device and case it has
  assert.ok(g.cap > small && g.cap >= 10000);
  for (let i = 0; i < 5000; i++) { g.add(i * 64, 0, 0, {i}, -1); }
  g.finish();
  assert.equal(g.n, 5000);
  g.reset(5000);
  g.add(0, 0, 0, {i: 0}, -1);
  g.finish();
  assert.equal(g.n, 1);
  assert.equal(g.first.length, 1);
  g.reset(1);
  g.add(-1, -1, 0, {}, -1);   // negative positions have cells too
  g.add(-63, -63, 0, {}, -1);
  g.finish();
  assert.deepEqual([g.n, g.cnt[0]], [1, 2]);
});
