// The kiosk watchdog (assets/gridwall-watchdog.js, docs/wall.md "When the backend is down"),
// on a fake clock: while the server cannot give a picture the page keeps its own, marked stale
// with the data's age, and never reloads; it reloads only on an answer that proves a fresh page
// would get a picture (another build, or a probe that got one while this page's polls fail).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const wd = require("../../assets/gridwall-watchdog.js");

const T0 = 1795230000000;
const S = 1000;

function dog(opts) {
  return wd.createWatchdog(Object.assign({now: T0, staleMs: 10 * S, probeMs: 30 * S}, opts || {}));
}
// A poll every half second from `from` to `to`, each failing; the reloads it was told to do.
function failFor(d, from, to) {
  const reloads = [];
  for (let t = from; t <= to; t += 500) {
    if (d.fail(t, t - 20) === "reload") { reloads.push(t); }
  }
  return reloads;
}

test("a new page waits for its first picture: no figures, and stale (no data) after staleMs", () => {
  const d = dog();
  assert.deepEqual(d.state(T0 + 2 * S), {waiting: true, stale: false, ageS: null, failing: false});
  failFor(d, T0 + 100, T0 + 11 * S);
  assert.deepEqual(d.state(T0 + 11 * S), {waiting: true, stale: true, ageS: null, failing: true});
  assert.equal(d.ok(T0 + 12 * S, {build: "b1", ageS: 3}), null);
  assert.deepEqual(d.state(T0 + 12 * S), {waiting: false, stale: false, ageS: 3, failing: false});
});

test("without a usable answer the picture turns stale, and its age keeps counting", () => {
  const d = dog();
  d.ok(T0, {build: "b1", ageS: 4});
  assert.equal(d.state(T0 + 10 * S).stale, false, "exactly staleMs is not yet stale");
  const st = d.state(T0 + 10 * S + 1);
  assert.equal(st.stale, true);
  assert.equal(st.waiting, false, "a page that had a picture never goes back to waiting");
  assert.ok(Math.abs(st.ageS - 14.001) < 1e-9, st.ageS);
  // No GPS age known: the age of the picture is the time since the last answer.
  const e = dog();
  e.ok(T0, {build: "b1", ageS: null});
  assert.equal(e.state(T0 + 125 * S).ageS, 125);
});

test("the server down for ten minutes: never a reload, probes every probeMs, one at a time", () => {
  const d = dog();
  d.ok(T0, {build: "b1", ageS: 1});
  let probes = 0;
  const reloads = [];
  for (let t = T0 + 500; t <= T0 + 600 * S; t += 500) {
    if (d.fail(t, t - 20) === "reload") { reloads.push(t); }
    if (d.wantProbe(t)) {
      probes += 1;
      assert.ok(t - (T0 + 500) >= 30 * S, "no probe before probeMs of failures");
      d.probeSent(t);
      assert.equal(d.wantProbe(t + 40 * S), false, "not while a probe is out");
      d.probed(t + 200, false); // the probe fails too: the server has no picture
    }
  }
  assert.deepEqual(reloads, []);
  assert.ok(probes >= 18 && probes <= 20, `${probes} probes in 10 minutes`);
  assert.equal(d.state(T0 + 600 * S).stale, true);
});

test("the server back: the polls resume, no reload, the data fresh again", () => {
  const d = dog();
  d.ok(T0, {build: "b1", ageS: 1});
  assert.deepEqual(failFor(d, T0 + 500, T0 + 45 * S), []);
  const t = T0 + 46 * S;
  assert.equal(d.ok(t, {build: "b1", ageS: 0.5}), null);
  assert.deepEqual(d.state(t + 500), {waiting: false, stale: false, ageS: 1, failing: false});
  assert.equal(d.wantProbe(t + 60 * S), false, "no probing once the polls are answered");
});

test("a redeploy: another build in a usable answer reloads; the same build or none does not", () => {
  const d = dog();
  assert.equal(d.ok(T0, {build: "b1"}), null, "the first build is this page's");
  assert.equal(d.build(), "b1");
  assert.equal(d.ok(T0 + 500, {build: "b1"}), null);
  assert.equal(d.ok(T0 + 1000, {}), null, "a server that sends no build");
  failFor(d, T0 + 1500, T0 + 20 * S); // the server restarting
  assert.equal(d.ok(T0 + 21 * S, {build: "b2"}), "reload");
});

test("polls failing while a fresh page would get a picture: reload after a later poll fails", () => {
  const d = dog();
  d.ok(T0, {build: "b1"});
  failFor(d, T0 + 500, T0 + 30 * S);
  const t = T0 + 30 * S + 500;
  assert.equal(d.fail(t, t - 20), null);
  assert.equal(d.wantProbe(t), true);
  d.probeSent(t);
  assert.equal(d.fail(t + 300, t - 100), null, "a poll in flight before the probe answered");
  d.probed(t + 400, true);
  assert.equal(d.fail(t + 500, t + 350), null, "sent before the probe's answer: not proof");
  assert.equal(d.fail(t + 1000, t + 450), "reload", "sent after it, and still failing");
});

test("a probe that gets a picture just as the polls recover: no reload", () => {
  const d = dog();
  d.ok(T0, {build: "b1"});
  failFor(d, T0 + 500, T0 + 31 * S);
  const t = T0 + 31 * S;
  assert.equal(d.wantProbe(t), true);
  d.probeSent(t);
  d.probed(t + 300, true);
  assert.equal(d.ok(t + 400, {build: "b1"}), null);
  assert.equal(d.fail(t + 2000, t + 1800), null, "one later failure is a new outage, not proof");
});

test("thresholds from the query string, clamped; anything else keeps the defaults", () => {
  assert.deepEqual(wd.settings(""), {staleMs: wd.STALE_MS, probeMs: wd.PROBE_MS});
  assert.deepEqual(wd.settings("?stale_ms=1500&probe_ms=4000&lang=en"), {staleMs: 1500, probeMs: 4000});
  assert.deepEqual(wd.settings("?stale_ms=abc&probe_ms="), {staleMs: 10000, probeMs: 30000});
  assert.deepEqual(wd.settings("?stale_ms=5&probe_ms=-3"), {staleMs: 200, probeMs: 200});
  assert.equal(wd.STALE_MS, 10000);
  assert.equal(wd.PROBE_MS, 30000);
});

test("a usable answer has the KPI snapshot; the data's age is the newest GPS fix's", () => {
  const msg = {now: 1795230000.5, kpi: {feeds: {gps: {last_ts: 1795229990.5}}}};
  assert.equal(wd.usable(msg), true);
  assert.equal(wd.ageOf(msg), 10);
  assert.equal(wd.ageOf({now: 5, kpi: {feeds: {gps: {last_ts: 9}}}}), 0, "a clock skew is no negative age");
  assert.equal(wd.ageOf({now: 5, kpi: {}}), null);
  for (const bad of [null, undefined, "text", {}, {kpi: null}, {kpi: []}, {reason: "redis_down"}]) {
    assert.equal(wd.usable(bad), false, JSON.stringify(bad));
    assert.equal(wd.ageOf(bad), null);
  }
});

test("signed out (401): the sign-in page, told why, and back to the same page after", () => {
  assert.equal(wd.loginAddress("login_token", "/?lang=en"), "/login?m=login_token&next=%2F%3Flang%3Den");
  assert.equal(wd.loginAddress("login", "/"), "/login?m=login_expired&next=%2F");
  assert.equal(wd.loginAddress("login_expired", ""), "/login?m=login_expired&next=%2F");
});
