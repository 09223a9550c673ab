// The live store and its poll/delta protocol (assets/gridwall-live.js, docs/architecture.md
// "The live map"): a whole picture replaces everything; deltas, one per version after ours,
// update devices, cases and alerts in place and remove the ones gone; a delta marked "reset"
// or a gap in the versions is not applied, and the store asks for the whole picture instead.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const store = require("../../assets/gridwall-live.js");
const geo = require("../../assets/gridwall-geometry.js");

const NOW = 1795230000;

function make(config, hooks) {
  let wall = NOW * 1000;
  const clock = store.createClock(() => wall);
  const live = store.createStore({clock, hooks});
  live.configure(Object.assign({offlineAfterS: 300, subtypes: ["enforcement", "muck_truck", "sanitation"],
    layers: ["cases", "alerts", "collectors", "vehicles", "trails"], trailPoints: 5}, config || {}));
  live.tick = (s) => { wall += s * 1000; };
  return live;
}
function device(id, lat, lon, extra) {
  return Object.assign({id, kind: "collector", lat, lon, ts: NOW}, extra || {});
}
function kase(id, extra) {
  return Object.assign({case_id: id, open: true, lat: 30.26, lon: 120.15, due: NOW + 3600, warn_at: NOW + 2880,
    suspended: false}, extra || {});
}
function alert(id, extra) {
  return Object.assign({alert_id: id, severity: "alert", state: "new", lat: 30.28, lon: 120.15}, extra || {});
}
function picture(v) {
  return {v, now: NOW, full: [device("C1", 30.27, 120.16), device("V1", 30.275, 120.17, {kind: "vehicle", subtype: "muck_truck"})],
    cases: [kase("K1"), kase("K2", {due: NOW - 60, warn_at: NOW - 600})], alerts: [alert("A1")],
    trails: {C1: "120.161,30.271;120.162,30.272"}};
}

test("a whole picture: every device, case and alert, the version, a full counted", () => {
  const live = make();
  assert.equal(live.apply(JSON.stringify(picture(5))), 5);
  assert.equal(live.version, 5);
  assert.deepEqual([live.devices.size, live.cases.size, live.alerts.size, live.fulls, live.updates], [2, 2, 1, 1, 1]);
  assert.equal(live.markers, live.devices);
  assert.deepEqual(live.counts, [1, 1]);
  assert.equal(live.placedCases, 2);
  assert.equal(live.pointCount(), 4);
  assert.equal(live.caseLight("K1"), "green");
  assert.equal(live.caseLight("K2"), "red");
  const c1 = live.devices.get("C1");
  assert.deepEqual(c1.getLatLng(), {lat: 30.27, lng: 120.16});
  const p = geo.project(30.27, 120.16, "", {});
  assert.deepEqual([c1.mx, c1.my], [p.mx, p.my]);
  assert.equal(c1.tn, 3, "the server's trail, then the device's own position");
  assert.equal(live.symbols[live.devices.get("V1").sym], "muck_truck");
  assert.equal(live.symbols[c1.sym], "collector");
});

test("deltas update in place and remove what is gone", () => {
  const seen = [], gone = [];
  const live = make({}, {alert: (a) => seen.push(a.id + ":" + a.sev), alertGone: (a) => gone.push(a.id)});
  live.apply(picture(5));
  const c1 = live.devices.get("C1"), k1 = live.cases.get("K1"), a1 = live.alerts.get("A1");
  live.apply({v: 7, now: NOW + 10, deltas: [
    {devices: [device("C1", 30.28, 120.17)], cases: [kase("K1", {warn_at: NOW})], alerts: [alert("A1", {severity: "critical"})]},
    {devices: [device("C2", 30.25, 120.14)], cases_gone: ["K2"], alerts: [alert("A2")]}
  ]});
  assert.equal(live.version, 7);
  assert.equal(live.fulls, 1);
  assert.equal(live.devices.get("C1"), c1, "the same object, moved");
  assert.deepEqual([c1.lat, c1.lon], [30.28, 120.17]);
  assert.equal(c1.tn, 4, "the trail extended from the delta's position");
  assert.equal(live.cases.get("K1"), k1);
  assert.equal(live.caseLight("K1"), "yellow", "its new warn_at has passed by the server's clock");
  assert.equal(live.alerts.get("A1"), a1);
  assert.equal(a1.sev, "critical");
  assert.ok(live.devices.has("C2"));
  assert.ok(!live.cases.has("K2"));
  assert.equal(live.placedCases, 1);
  assert.deepEqual(seen, ["A1:alert", "A1:critical", "A2:alert"]);

  // A closed case, an ended alert, alerts_gone and devices_gone.
  live.apply({v: 8, now: NOW + 11, deltas: [{cases: [kase("K1", {open: false})], alerts: [alert("A1", {state: "end"})],
    alerts_gone: ["A2"], devices_gone: ["C2"]}]});
  assert.equal(live.version, 8);
  assert.equal(live.cases.size, 0);
  assert.equal(live.alerts.size, 0);
  assert.deepEqual(gone, ["A1", "A2"]);
  assert.ok(!live.devices.has("C2"));
  assert.deepEqual(live.counts, [1, 1]);
  assert.equal(live.pointCount(), 2);
});

test("a new whole picture replaces everything: what it lacks is removed", () => {
  const gone = [];
  const live = make({}, {alertGone: (a) => gone.push(a.id)});
  live.apply(picture(5));
  const c1 = live.devices.get("C1");
  live.apply({v: 40, now: NOW, full: [device("C1", 30.27, 120.16)], cases: [kase("K9")], alerts: [], trails: {}});
  assert.equal(live.version, 40);
  assert.deepEqual([...live.devices.keys()], ["C1"]);
  assert.equal(live.devices.get("C1"), c1, "kept, not re-created");
  assert.deepEqual([...live.cases.keys()], ["K9"]);
  assert.equal(live.alerts.size, 0);
  assert.deepEqual(gone, ["A1"]);
  assert.deepEqual(live.counts, [1, 0]);
  assert.equal(live.fulls, 2);
});

test("a version gap: the deltas are not applied, and the next poll asks for the whole picture", () => {
  const live = make();
  live.apply(picture(5));
  // Two versions announced, one delta: something between is missing.
  assert.equal(live.apply({v: 7, now: NOW, deltas: [{devices: [device("C1", 30.3, 120.2)]}]}), null);
  assert.equal(live.version, null);
  assert.equal(live.gaps, 1);
  assert.equal(live.devices.get("C1").lat, 30.27, "nothing applied");
  // Deltas with no picture to apply them to: the same.
  assert.equal(live.apply({v: 8, now: NOW, deltas: [{devices: [device("C9", 30.3, 120.2)]}]}), null);
  assert.ok(!live.devices.has("C9"));
  // The whole picture puts it right.
  assert.equal(live.apply(picture(9)), 9);
  assert.equal(live.apply({v: 10, now: NOW, deltas: [{devices: [device("C1", 30.3, 120.2)]}]}), 10);
  assert.equal(live.devices.get("C1").lat, 30.3);
});

test("a delta marked reset is never applied as a delta: the whole picture is asked for", () => {
  const live = make();
  live.apply(picture(5));
  const v = live.apply({v: 6, now: NOW, deltas: [{reset: true, devices: [device("C1", 30.3, 120.2)], cases_gone: ["K1"]}]});
  assert.equal(v, null);
  assert.equal(live.gaps, 1);
  assert.equal(live.devices.get("C1").lat, 30.27);
  assert.ok(live.cases.has("K1"));
});

test("lights change by the server's clock alone", () => {
  const live = make();
  live.apply({v: 1, now: NOW, full: [], cases: [kase("K1", {due: NOW + 9, warn_at: NOW + 5}), kase("K2", {suspended: true, due: null,
    warn_at: null})], alerts: []});
  assert.equal(live.caseLight("K1"), "green");
  live.tick(5);
  assert.equal(live.caseLight("K1"), "yellow");
  live.tick(4);
  assert.equal(live.caseLight("K1"), "yellow", "exactly at due: on time");
  live.tick(0.001);
  assert.equal(live.caseLight("K1"), "red");
  assert.equal(live.caseLight("K2"), "grey");
  assert.equal(live.caseLight("nope"), null);
  // A server whose clock is an hour ahead: its "now" sets ours.
  live.apply({v: 1, now: NOW + 3600, full: [], cases: [kase("K3", {due: NOW + 1800, warn_at: NOW + 1000})], alerts: []});
  assert.equal(live.caseLight("K3"), "red");
});

test("offline devices and those silent past the contract's age are faded", () => {
  const live = make({offlineAfterS: 300});
  live.apply({v: 1, now: NOW, full: [device("C1", 30.27, 120.16, {ts: NOW - 299}), device("C2", 30.27, 120.16, {ts: NOW - 301}),
    device("C3", 30.27, 120.16, {online: false})], cases: [], alerts: []});
  const now = live.clock.now();
  assert.deepEqual(["C1", "C2", "C3"].map((id) => live.isDim(live.devices.get(id), now)), [false, true, true]);
});

test("vehicle symbols follow the contract's subtypes; others are 'vehicle'", () => {
  const live = make({subtypes: ["enforcement", "muck_truck", "sanitation", "tow"]});
  live.apply({v: 1, now: NOW, full: [device("V1", 30, 120, {kind: "vehicle", subtype: "tow"}),
    device("V2", 30, 120, {kind: "vehicle", subtype: "bus"}), device("X", 30, 120, {kind: "camera"})], cases: [], alerts: []});
  const sym = (id) => live.symbols[live.devices.get(id).sym];
  assert.deepEqual([sym("V1"), sym("V2"), sym("X")], ["tow", "vehicle", "other"]);
  live.configure({subtypes: ["enforcement"]});
  assert.equal(sym("V1"), "vehicle", "reclassified when the subtypes change");
});

test("a device without a position is known but not placed", () => {
  const live = make();
  live.apply({v: 1, now: NOW, full: [{id: "C1", kind: "collector", ts: NOW}], cases: [kase("K1", {lat: null, lon: null})], alerts: []});
  assert.ok(live.devices.has("C1") && live.cases.has("K1"));
  assert.deepEqual([live.counts[0], live.placedCases], [0, 0]);
  live.apply({v: 2, now: NOW, deltas: [{devices: [device("C1", 30.27, 120.16)], cases: [kase("K1")]}]});
  assert.deepEqual([live.counts[0], live.placedCases], [1, 1]);
});

test("a picture that will be clustered keeps no trails", () => {
  const live = make({clusterAbove: 1});
  live.apply(picture(1));
  assert.ok(live.clustered);
  assert.equal(live.devices.get("C1").tn, 0);
});

test("the applied hook runs inside apply (the map redraws there), and apply takes a string or an object", () => {
  let applied = 0;
  const live = make({}, {applied: () => { applied += 1; }});
  live.apply(JSON.stringify(picture(1)));
  live.apply({v: 2, now: NOW, deltas: [{}]});
  assert.equal(applied, 2);
  assert.equal(live.updates, 2);
  assert.ok(live.lastApplyMs >= 0);
  assert.equal(live.apply(null), 2, "nothing to apply: the version stays");
});
