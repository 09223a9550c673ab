// The case lights of the map (assets/gridwall-live.js) against Python's rule
// (dashboard.casework.overdue.light_at): the rows of fixtures/lights.json are Python's answers
// (tests/unit/test_js_fixtures.py checks them), so equal answers here mean the same rule.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const store = require("../../assets/gridwall-live.js");

const rows = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "lights.json"), "utf8"));

test("every fixture row: the JS light equals Python's light_at", () => {
  assert.ok(rows.length >= 10);
  for (const r of rows) {
    assert.equal(store.lightAt(r.due, r.warn_at, r.suspended, r.now), r.light, JSON.stringify(r));
  }
});

test("the boundaries: exactly at warn_at is yellow, exactly at due is not red", () => {
  const due = 1000, warn = 900;
  assert.equal(store.lightAt(due, warn, false, warn - 1e-6), "green");
  assert.equal(store.lightAt(due, warn, false, warn), "yellow");
  assert.equal(store.lightAt(due, warn, false, due), "yellow");
  assert.equal(store.lightAt(due, warn, false, due + 1e-6), "red");
  assert.equal(store.lightAt(due, warn, true, due + 1e6), "grey");
  assert.equal(store.lightAt(null, null, false, due), null);
  assert.equal(store.lightAt(undefined, undefined, false, due), null);
});

test("a map pin: the same light, and green when no clock runs", () => {
  const live = store.createStore({clock: store.createClock(() => 0)});
  for (const [i, r] of rows.entries()) {
    live.apply({v: i + 1, now: r.now, full: [], cases: [{case_id: "K", open: true, lat: 30.27, lon: 120.16,
      due: r.due, warn_at: r.warn_at, suspended: r.suspended}], alerts: []});
    assert.equal(live.caseLight("K"), r.light === null ? "green" : r.light, JSON.stringify(r));
  }
});

test("the next instant a light changes: warn_at, then due, never while suspended", () => {
  assert.equal(store.nextChange(1000, 900, false, 800), 900);
  assert.equal(store.nextChange(1000, 900, false, 900), 900);
  assert.equal(store.nextChange(1000, 900, false, 950), 1000);
  assert.equal(store.nextChange(1000, 900, false, 1001), Infinity);
  assert.equal(store.nextChange(1000, 900, true, 800), Infinity);
  assert.equal(store.nextChange(null, null, false, 800), Infinity);
});
