// The desk's pure parts (assets/gridwall-desk-lib.js): the list's query as an address, the
// breadcrumb built from it, durations and the due column, paging.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const lib = require("../../assets/gridwall-desk-lib.js");

const ZH = {unit_day: "天", unit_hour: "小时", unit_minute: "分", overdue_for: "超期 {t}", due_in: "剩 {t}"};
const EN = {unit_day: "d", unit_hour: "h", unit_minute: "min", overdue_for: "{t} late", due_in: "{t} left"};

test("an address names the query: known keys only, defaults left out, the page reset on a new filter", () => {
  assert.deepEqual(lib.parse("?light=red&district=339902&evil=1&text=&sort=overdue"),
    {light: "red", district: "339902", sort: "overdue"});
  assert.deepEqual(lib.parse("?text=%E4%BA%95%E7%9B%96+12"), {text: "井盖 12"});
  assert.equal(lib.href({}, {}), "/desk");
  assert.equal(lib.href({light: "red", sort: "overdue", offset: "0"}, {}), "/desk?light=red");
  assert.equal(lib.href({light: "red", offset: "100"}, {district: "339902"}), "/desk?district=339902&light=red",
    "a new filter starts at the first page");
  assert.equal(lib.href({light: "red", offset: "100"}, {offset: 150}), "/desk?light=red&offset=150");
  assert.equal(lib.href({light: "red", district: "339902"}, {light: null}), "/desk?district=339902");
  assert.equal(lib.href({}, {text: "a&b=c"}), "/desk?text=a%26b%3Dc");
  assert.deepEqual(lib.parse(lib.href({}, {text: "a&b=c #1"}).slice(5)), {text: "a&b=c #1"}, "round trip");
});

test("the breadcrumb: the city, then each filter, each crumb narrowing up to itself", () => {
  const label = (key, value) => (key === "city" ? "全市" : key + ":" + value);
  const crumbs = lib.crumbs({department: "ZFZD-339902", light: "red", district: "339902", offset: "50"}, label);
  assert.deepEqual(crumbs.map((c) => c.text), ["全市", "district:339902", "department:ZFZD-339902", "light:red"]);
  assert.deepEqual(crumbs.map((c) => c.href), ["/desk", "/desk?district=339902",
    "/desk?district=339902&department=ZFZD-339902", "/desk?district=339902&department=ZFZD-339902&light=red"]);
  assert.deepEqual(lib.crumbs({lang: "en"}, label).map((c) => c.href), ["/desk?lang=en"], "the language stays");
});

test("durations: the two largest units, in both languages", () => {
  assert.equal(lib.duration(3 * 86400 + 2 * 3600 + 59, ZH), "3天2小时");
  assert.equal(lib.duration(3 * 86400, ZH), "3天");
  assert.equal(lib.duration(5 * 3600 + 20 * 60, EN), "5 h 20 min");
  assert.equal(lib.duration(45 * 60, ZH), "45分");
  assert.equal(lib.duration(10, ZH), "1分", "never 0");
});

test("the due column: late by, left, or no clock", () => {
  const now = 1_000_000;
  assert.equal(lib.dueText({due: now - 7200, light: "red"}, now, ZH), "超期 2小时");
  assert.equal(lib.dueText({due: now + 1800, light: "yellow"}, now, EN), "30 min left");
  assert.equal(lib.dueText({due: null, light: null}, now, ZH), "—");
  assert.equal(lib.dueText({due: now - 60, light: "grey"}, now, ZH), "—", "suspended: the clock is paused");
});

test("pages", () => {
  assert.deepEqual(lib.pages(0, 0, 50), {page: 1, count: 1, prev: null, next: null});
  assert.deepEqual(lib.pages(120, 0, 50), {page: 1, count: 3, prev: null, next: 50});
  assert.deepEqual(lib.pages(120, 100, 50), {page: 3, count: 3, prev: 50, next: null});
  assert.deepEqual(lib.pages(120, 30, 50), {page: 1, count: 3, prev: 0, next: 80});
});

test("a counter's list: its own keys, its breadcrumb, and a filter leaves it for the live list", () => {
  const q = lib.parse("?counter=overdue_pending&period=month&by=department&code=ZFZD&offset=50");
  assert.deepEqual(q, {counter: "overdue_pending", period: "month", by: "department", code: "ZFZD", offset: "50"});
  assert.ok(lib.counted(q) && !lib.counted({light: "red"}));
  const label = (key, value) => (key === "city" ? "全市" : key + ":" + value);
  const crumbs = lib.crumbs(q, label);
  assert.deepEqual(crumbs.map((c) => c.text), ["全市", "period:month", "department:ZFZD", "counter:overdue_pending"]);
  assert.equal(crumbs[1].href, "/desk?counter=overdue_pending&period=month");
  assert.equal(lib.href(q, {light: "red"}), "/desk?light=red", "a filter drops the counter and its page");
  assert.equal(lib.href({light: "red", district: "339902"}, {counter: "reported", period: "day"}),
    "/desk?counter=reported&period=day", "a counter drops the filters");
  assert.equal(lib.href(q, {offset: 100}), "/desk?counter=overdue_pending&period=month&by=department&code=ZFZD&offset=100");
});
