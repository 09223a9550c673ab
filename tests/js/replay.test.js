// The replay's pure parts (assets/gridwall-replay-lib.js): where a device is at t, the trail's
// start, the player's clock at 1-60x, the page's address and form.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const lib = require("../../assets/gridwall-replay-lib.js");

const GAP = 300;
// A device: fixes every 10 s going north-east, a 20-minute gap, two more fixes.
const FIXES = [[0, 30.0, 120.0], [10, 30.001, 120.002], [20, 30.002, 120.004], [1220, 30.01, 120.01], [1230, 30.011, 120.01]];

test("at a fix the device is exactly there; between two it is on the straight line, in proportion", () => {
  const tr = lib.buildTrack(FIXES);
  const out = {};
  for (const [t, lat, lon] of FIXES) {
    assert.equal(lib.positionAt(tr, t, GAP, out), lib.ON);
    assert.deepEqual([out.lat, out.lon], [lat, lon]);
  }
  assert.equal(lib.positionAt(tr, 12.5, GAP, out), lib.ON);
  assert.ok(Math.abs(out.lat - 30.00125) < 1e-12 && Math.abs(out.lon - 120.0025) < 1e-12, JSON.stringify(out));
});

test("before the first fix nothing; in a gap and after the last, held at the fix before, dimmed", () => {
  const tr = lib.buildTrack([[5, 1, 2], ...FIXES.slice(1)]);
  const out = {};
  assert.equal(lib.positionAt(tr, 4.9, GAP, out), lib.BEFORE);
  // 20 -> 1220 is a gap: up to gapS after 20 the device is held and shown; later, dimmed.
  assert.equal(lib.positionAt(tr, 200, GAP, out), lib.ON);
  assert.deepEqual([out.lat, out.lon], [30.002, 120.004]);
  assert.equal(lib.positionAt(tr, 700, GAP, out), lib.GAP);
  assert.deepEqual([out.lat, out.lon], [30.002, 120.004], "held, not interpolated across the gap");
  assert.equal(lib.positionAt(tr, 1235, GAP, out), lib.ON, "just after the last fix");
  assert.equal(lib.positionAt(tr, 1231 + GAP, GAP, out), lib.AFTER);
  assert.deepEqual([out.lat, out.lon], [30.011, 120.01]);
  assert.equal(lib.positionAt(lib.buildTrack([]), 10, GAP, out), lib.BEFORE, "no fix at all");
});

test("playing forward and jumping back both find the right fix (cursor and binary search agree)", () => {
  const fixes = [];
  for (let i = 0; i < 2000; i++) { fixes.push([i * 10 + (i % 3), 30 + i * 1e-4, 120 + i * 2e-4]); }
  const tr = lib.buildTrack(fixes);
  const brute = (t) => { let k = -1; for (let i = 0; i < fixes.length; i++) { if (fixes[i][0] <= t) { k = i; } } return k; };
  const out = {};
  // Forward at 60x and 60 frames a second: one second of the window a frame, across many fixes.
  for (let t = -5; t < 20100; t += 7.3) { assert.equal(lib.indexAt(tr, t), brute(t), "forward " + t); }
  // The slider: anywhere, any order.
  for (const t of [15000, 3, 19995, 0, 9999.99, 10000, 120, 20005, 7777]) {
    assert.equal(lib.indexAt(tr, t), brute(t), "jump " + t);
    lib.positionAt(tr, t, GAP, out);
  }
});

test("the trail: the fixes of the last tailS seconds, the whole track for -1", () => {
  const tr = lib.buildTrack(FIXES);
  assert.equal(lib.trailStart(tr, 1230, 15), 2, "1215 falls after the fix at 20, before 1220: from the fix before it");
  assert.equal(lib.trailStart(tr, 1230, -1), 0);
  assert.equal(lib.trailStart(tr, 15, 600), 0);
  assert.equal(lib.trailStart(tr, 20, 5), 1);
  assert.equal(tr.cur, 0, "the trail does not move the device's cursor");
});

test("the clock: speed x real time, capped per frame, stops at the end, play again from the start", () => {
  const c = lib.clock(3600, 60);
  assert.equal(lib.step(c, 0), 0, "paused");
  lib.play(c, 1000);
  assert.equal(lib.step(c, 1016), 60 * 0.016);
  assert.ok(Math.abs(lib.step(c, 2016) - (0.96 + 60 * lib.MAX_STEP_MS / 1000)) < 1e-9, "a late frame moves at most 250 ms");
  c.speed = 1;
  const before = c.t;
  assert.ok(Math.abs(lib.step(c, 2116) - (before + 0.1)) < 1e-9);
  lib.seek(c, 3599.99);
  c.speed = 60;
  assert.equal(lib.step(c, 2132), 3600);
  assert.equal(c.playing, false, "stopped at the end");
  assert.equal(lib.step(c, 5000), 3600, "and stays");
  lib.play(c, 6000);
  assert.equal(c.t, 0, "play at the end starts again");
  lib.seek(c, -5); assert.equal(c.t, 0);
  lib.seek(c, 99999); assert.equal(c.t, 3600);
  const empty = lib.clock(0, 10);
  lib.play(empty, 0);
  assert.equal(empty.playing, false, "nothing to play");
});

test("at 60x for an hour's window: 60 frames a second reach the end in a minute", () => {
  const c = lib.clock(3600, 60);
  lib.play(c, 0);
  let ms = 0, frames = 0;
  while (c.playing && frames < 10000) { ms += 1000 / 60; lib.step(c, ms); frames++; }
  assert.ok(Math.abs(frames - 3600) <= 2, String(frames));
});

test("the address: the API's query without the page's own keys; the form and the query round-trip", () => {
  const q = lib.parse("?kind=vehicle&subtype=muck_truck&from=2026-10-14T21%3A00&to=2026-10-15T06:00&follow=M001&evil=1");
  assert.deepEqual(q, {kind: "vehicle", subtype: "muck_truck", from: "2026-10-14T21:00", to: "2026-10-15T06:00", follow: "M001"});
  assert.equal(lib.apiUrl(q), "/desk/api/replay?kind=vehicle&subtype=muck_truck&from=2026-10-14T21%3A00&to=2026-10-15T06%3A00");
  assert.equal(lib.apiUrl({kind: "vehicle"}), null, "no window yet");
  assert.equal(lib.apiUrl({from: "a", to: "b"}), null, "no choice yet");
  assert.deepEqual(lib.parse(lib.href(q).slice("/desk/replay".length)), q);
  const f = {what: "vehicle:muck_truck", department: "", devices: "", from: "2026-10-14T21:00", to: "2026-10-15T06:00", stop_min: "10"};
  assert.deepEqual(lib.queryOf(f), {kind: "vehicle", subtype: "muck_truck", from: f.from, to: f.to, stop_min: "10"});
  assert.deepEqual(lib.formOf(lib.queryOf(f)), f);
  const team = {what: "collector:", department: "JDZX", devices: "", from: "x", to: "y", stop_min: ""};
  assert.deepEqual(lib.queryOf(team), {kind: "collector", department: "JDZX", from: "x", to: "y"});
  assert.deepEqual(lib.formOf(lib.queryOf(team)), team);
  const named = lib.queryOf({what: "devices", devices: "M001， M002 ,,E003", from: "x", to: "y"});
  assert.equal(named.devices, "M001,M002,E003");
  assert.equal(lib.formOf(named).what, "devices");
});

test("texts: kilometres to one decimal, times in the city's zone", () => {
  assert.equal(lib.km(12345), "12.3");
  assert.equal(lib.km(0), "0.0");
  const t = Date.UTC(2026, 9, 14, 13, 5, 9) / 1000;   // 21:05:09 in Shanghai
  assert.equal(lib.timeText(t, "Asia/Shanghai"), "21:05:09");
  assert.equal(lib.timeText(t, "Asia/Shanghai", true), "10-14 21:05");
  assert.equal(lib.timeText(Date.UTC(2026, 9, 14, 16, 0, 0) / 1000, "Asia/Shanghai"), "00:00:00", "midnight is 00, not 24");
});
