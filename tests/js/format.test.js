// The panels' texts (assets/gridwall-format.js): rates, changes, ages, the hourly axis and the
// history's loading state, with the words of dashboard/i18n.py as the page carries them.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fmt = require("../../assets/gridwall-format.js");

const ZH = {seconds_ago: "秒前", minutes_ago: "分钟前", hours_ago: "小时前", hour_tick: "{h}时",
  history_loading: "载入历史数据 {pct}%", history_loading_any: "载入历史数据…"};
const EN = {seconds_ago: "s ago", minutes_ago: "min ago", hours_ago: "h ago", hour_tick: "{h}:00",
  history_loading: "Loading history {pct}%", history_loading_any: "Loading history…"};

test("the history: loading only while the board says ready: false", () => {
  assert.deepEqual(fmt.history({}), {loading: false, pct: null});
  assert.deepEqual(fmt.history(null), {loading: false, pct: null});
  assert.deepEqual(fmt.history({history: {ready: true, pct: 100}}), {loading: false, pct: null});
  assert.deepEqual(fmt.history({history: {ready: false, pct: 63}}), {loading: true, pct: 63});
  assert.deepEqual(fmt.history({history: {ready: false, pct: 63.9}}), {loading: true, pct: 63});
  assert.deepEqual(fmt.history({history: {ready: false, pct: 100}}), {loading: true, pct: 99}, "never 100 % while loading");
  assert.deepEqual(fmt.history({history: {ready: false, pct: -3}}), {loading: true, pct: 0});
  assert.deepEqual(fmt.history({history: {ready: false}}), {loading: true, pct: null});
});

test("the loading text, in both languages", () => {
  assert.equal(fmt.loadingText({loading: true, pct: 63}, ZH), "载入历史数据 63%");
  assert.equal(fmt.loadingText({loading: true, pct: 63}, EN), "Loading history 63%");
  assert.equal(fmt.loadingText({loading: true, pct: null}, ZH), "载入历史数据…");
});

test("ages: seconds, then minutes, then hours", () => {
  assert.equal(fmt.ago(7.4, ZH), "7 秒前");
  assert.equal(fmt.ago(-3, ZH), "0 秒前");
  assert.equal(fmt.ago(90, ZH), "90 秒前");
  assert.equal(fmt.ago(600, ZH), "10 分钟前");
  assert.equal(fmt.ago(600, EN), "10 min ago");
  assert.equal(fmt.ago(7200, EN), "2 h ago");
});

test("rates, changes and the hour axis", () => {
  assert.deepEqual(fmt.rateParts("93.72 %"), ["93.72", "%"]);
  assert.deepEqual(fmt.rateParts("100.00 %"), ["100", "%"]);
  assert.deepEqual(fmt.rateParts("—"), ["—", null]);
  assert.deepEqual(fmt.rateParts(null), ["—", null]);
  assert.deepEqual([fmt.deltaText(3), fmt.deltaText(-2), fmt.deltaText(0)], ["▲3", "▼2", "±0"]);
  assert.deepEqual([fmt.deltaClass(3), fmt.deltaClass(-2), fmt.deltaClass(0)], ["gw-up", "gw-down", "gw-flat"]);
  assert.equal(fmt.hourTick(9, ZH), "9时");
  assert.equal(fmt.hourTick(9, EN), "9:00");
  assert.equal(fmt.fill("{a} and {a}, {b}", {a: 1, b: "x"}), "1 and 1, x");
  assert.equal(fmt.text(0), "0");
  assert.equal(fmt.text(undefined), "—");
});

test("turn: things take turns every everyMs; one thing or no turning stays on the first", () => {
  let s = fmt.turn(null, 3, 1000, 20000);
  assert.deepEqual(s, {index: 0, since: 1000});
  s = fmt.turn(s, 3, 20999, 20000);
  assert.equal(s.index, 0);  // not yet
  s = fmt.turn(s, 3, 21000, 20000);
  assert.deepEqual(s, {index: 1, since: 21000});
  s = fmt.turn(fmt.turn(s, 3, 41000, 20000), 3, 61000, 20000);
  assert.equal(s.index, 0);  // after the last, the first again
  assert.equal(fmt.turn({index: 2, since: 1}, 1, 1e9, 20000).index, 0);  // one period: no turning
  assert.equal(fmt.turn({index: 2, since: 1}, 3, 1e9, 0).index, 0);  // rotate_s = 0: the first
  assert.equal(fmt.turn({index: 5, since: 1}, 2, 2, 20000).index, 1);  // fewer periods than before
});
