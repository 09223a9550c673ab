// The briefing's pure parts (assets/gridwall-briefing-lib.js): the tour advances by itself and
// loops, the keys move it and pause it, a scene not ready is skipped, and the words and the
// trend chart it shows.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const lib = require("../../assets/gridwall-briefing-lib.js");

const all = () => true;

test("left alone, each scene stays its seconds, then the next; after the last, the first again", () => {
  const t = lib.tour([2, 3, 1], 0);
  assert.equal(lib.tick(t, 1999, all), false);
  assert.equal(lib.tick(t, 2000, all), true);
  assert.equal(t.index, 1);
  assert.equal(lib.tick(t, 4999, all), false);
  assert.equal(lib.tick(t, 5000, all), true);
  assert.equal(t.index, 2);
  assert.equal(t.loops, 0);
  assert.equal(lib.tick(t, 6000, all), true);
  assert.equal(t.index, 0);
  assert.equal(t.loops, 1);
  assert.equal(t.changes, 3);
});

test("next and back move at once and wrap round; the scene's time starts again", () => {
  const t = lib.tour([10, 10, 10], 0);
  assert.equal(lib.press(t, "back", 100, all), true);
  assert.equal(t.index, 2);
  assert.equal(lib.press(t, "next", 200, all), true);
  assert.equal(t.index, 0);
  assert.equal(t.loops, 1);
  assert.equal(lib.tick(t, 10199, all), false); // its ten seconds count from the key
  assert.equal(lib.tick(t, 10200, all), true);
});

test("paused stays paused however long, with next and back still working; resumed, it ends its time", () => {
  const t = lib.tour([4, 4], 0);
  lib.press(t, "pause", 1000, all);
  assert.equal(t.paused, true);
  assert.equal(lib.tick(t, 10 ** 9, all), false);
  assert.equal(lib.press(t, "next", 5000, all), true);
  assert.equal(t.index, 1);
  assert.equal(t.paused, true);
  assert.equal(lib.tick(t, 20000, all), false);
  lib.press(t, "pause", 30000, all); // resumed: this scene had spent 0 s when paused (a key moved it)
  assert.equal(t.paused, false);
  assert.equal(lib.tick(t, 33999, all), false);
  assert.equal(lib.tick(t, 34000, all), true);
  // Paused half-way, resumed later: the other half is left.
  const u = lib.tour([4, 4], 0);
  lib.press(u, "pause", 2000, all);
  lib.press(u, "pause", 60000, all);
  assert.equal(lib.tick(u, 61999, all), false);
  assert.equal(lib.tick(u, 62000, all), true);
  assert.ok(Math.abs(lib.progress(u, 63000) - 0.25) < 1e-9);
});

test("a scene that is not ready (its chart not drawn yet) is skipped, never shown empty", () => {
  const t = lib.tour([1, 1, 1, 1], 0);
  const ready = (i) => i !== 1;
  assert.equal(lib.tick(t, 1000, ready), true);
  assert.equal(t.index, 2);
  assert.equal(lib.press(t, "back", 1500, ready), true);
  assert.equal(t.index, 0);
  const none = lib.tour([1, 1], 0);
  assert.equal(lib.tick(none, 5000, () => false), false); // nothing ready: it stays
  assert.equal(none.index, 0);
});

test("a presenter's keys and a clicker's", () => {
  for (const k of ["ArrowRight", "PageDown", "ArrowDown"]) { assert.equal(lib.action(k), "next", k); }
  for (const k of ["ArrowLeft", "PageUp", "ArrowUp"]) { assert.equal(lib.action(k), "back", k); }
  for (const k of [" ", "p", "P", "b", ".", "B"]) { assert.equal(lib.action(k), "pause", JSON.stringify(k)); }
  assert.equal(lib.action("x"), null);
  assert.equal(lib.action("constructor"), null);
});

test("seconds: the configured ones, or one value for all (tests and benches)", () => {
  const scenes = [{seconds: 20}, {seconds: 15}];
  assert.deepEqual(lib.seconds(scenes, null), [20, 15]);
  assert.deepEqual(lib.seconds(scenes, "1"), [1, 1]);
  assert.deepEqual(lib.seconds(scenes, "junk"), [20, 15]);
});

test("durations as a person says them, numbers grouped", () => {
  const zh = {unit_day: "天", unit_hour: "小时", unit_minute: "分"};
  const en = {unit_day: "d", unit_hour: "h", unit_minute: "min"};
  assert.equal(lib.duration(3300, zh), "55分");
  assert.equal(lib.duration(3700, zh), "1小时2分");
  assert.equal(lib.duration(2 * 86400 + 3 * 3600 + 120, zh), "2天3小时");
  assert.equal(lib.duration(20, zh), "1分");
  assert.equal(lib.duration(3700, en), "1 h 2 min");
  assert.equal(lib.duration(null, zh), "—");
  assert.equal(lib.number(12345), "12,345");
  assert.equal(lib.number(null), "—");
});

test("the trend: bars of reports, two rate lines, the targets dashed and named", () => {
  const words = {bf_reports: "上报数", bf_close_rate: "结案率", bf_on_time_close_rate: "按期结案率", bf_target: "目标 {v}%"};
  const trend = {unit: "month", targets: {close_rate: 90, on_time_close_rate: 85},
    points: [{label: "2026-11", reported: 250, close_rate: 96.5, on_time_close_rate: 88.1, partial: false},
             {label: "2026-12", reported: 410, close_rate: 97.8, on_time_close_rate: null, partial: true}]};
  const fig = lib.trendFigure(trend, words, 1800, 800);
  assert.deepEqual(fig.data.map((d) => d.type), ["bar", "scatter", "scatter"]);
  assert.deepEqual(fig.data[0].y, [250, 410]);
  assert.deepEqual(fig.data[2].y, [88.1, null]);
  assert.notEqual(fig.data[0].marker.color[0], fig.data[0].marker.color[1]); // the period not over is lighter
  assert.deepEqual(fig.layout.shapes.map((s) => s.y0), [90, 85]);
  assert.deepEqual(fig.layout.annotations.map((a) => a.text), ["结案率 目标 90%", "按期结案率 目标 85%"]);
  assert.equal(fig.layout.yaxis2.range[1], 100);
  assert.ok(fig.layout.yaxis2.range[0] <= 80);
  // A label is markup to Plotly: escaped.
  const odd = lib.trendFigure(trend, {...words, bf_reports: "<b>x</b>"}, 100, 100);
  assert.equal(odd.data[0].name, "&lt;b&gt;x&lt;/b&gt;");
});
