/* The dispatch desk's pure parts: the list's query as the page's address, the breadcrumb built
 * from it, and the texts of a row (how long overdue, how long left). No DOM, no clock read: the
 * caller passes `now`. Runs in the browser (window.gridwall.deskLib) and under Node
 * (tests/js/desk.test.js). The keys are dashboard/screens/desk.py CaseQuery's fields. */
(function (factory) {
  "use strict";
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.deskLib = factory();
  }
})(function () {
  "use strict";
  // The filters, in the breadcrumb's order (wider first), then the list's own settings.
  var FILTERS = ["district", "street", "grid_code", "department", "light", "category", "small_code", "source",
    "state", "urgent", "text"];
  // The cases behind a counter instead (dashboard/screens/desk.py CountedQuery): a number of
  // today's or a ranking's row, from SQL. Either these or the filters, never both.
  var COUNTED = ["counter", "period", "by", "code"];
  // "case": the case open in the panel; the page's own, like "lang", never a filter of the list.
  var KEYS = FILTERS.concat(COUNTED, ["sort", "offset", "limit", "lang", "case", "map"]);
  var DEFAULTS = {sort: "overdue", offset: "0", limit: "50"};

  // "?light=red&district=339902" -> {light: "red", district: "339902"}: known keys only, the
  // last of a repeated key, empty values dropped.
  // The desk's pages share it (assets/gridwall-replay-lib.js: the replay's own keys).
  function parseKeys(search, keys) {
    var out = {};
    String(search || "").replace(/^\?/, "").split("&").forEach(function (part) {
      if (!part) { return; }
      var eq = part.indexOf("=");
      var key = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, " "));
      var value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
      if (keys.indexOf(key) >= 0 && value !== "") { out[key] = value; }
    });
    return out;
  }

  function parse(search) { return parseKeys(search, KEYS); }

  // The address of `query` with `changes` applied (null or "" removes a key). A change of any
  // filter or of the sort starts again at the first page.
  function href(query, changes) {
    var next = {}, k;
    for (k in query) { if (Object.prototype.hasOwnProperty.call(query, k)) { next[k] = query[k]; } }
    var refilter = false;
    for (k in (changes || {})) {
      if (!Object.prototype.hasOwnProperty.call(changes, k)) { continue; }
      if (k !== "offset" && k !== "lang" && k !== "case" && k !== "map") { refilter = true; }
      // A filter leaves a counter's list for the live one, and a counter leaves the filters.
      var drop = FILTERS.indexOf(k) >= 0 ? COUNTED : k === "counter" ? FILTERS : [];
      drop.forEach(function (d) { if (!(d in changes)) { delete next[d]; } });
      if (changes[k] === null || changes[k] === undefined || changes[k] === "") { delete next[k]; } else { next[k] = String(changes[k]); }
    }
    if (refilter && !(changes && ("offset" in changes || "case" in changes || "map" in changes))) { delete next.offset; }
    var parts = [];
    KEYS.forEach(function (key) {
      if (next[key] !== undefined && next[key] !== DEFAULTS[key]) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(next[key]));
      }
    });
    return "/desk" + (parts.length ? "?" + parts.join("&") : "");
  }

  // 全市 › 东港区 › 东港执法中队 › 超期: each crumb the query narrowed up to that filter (the page's
  // own settings kept: the language). `label(key, value)` names a value.
  function crumbs(query, label) {
    var out = [{key: "city", text: label("city", null), href: href({lang: query.lang})}];
    var upto = {};
    if (query.lang) { upto.lang = query.lang; }
    if (counted(query)) { // 全市 › 本月 › 东港执法中队 › 超期未处置
      var base = {counter: query.counter, period: query.period || "day"};
      if (query.lang) { base.lang = query.lang; }
      out.push({key: "period", text: label("period", base.period), href: href(base)});
      if (query.by && query.code) {
        base.by = query.by; base.code = query.code;
        out.push({key: query.by, text: label(query.by, query.code), href: href(base)});
      }
      out.push({key: "counter", text: label("counter", query.counter), href: href(base)});
      return out;
    }
    FILTERS.forEach(function (key) {
      if (query[key] === undefined) { return; }
      upto[key] = query[key];
      out.push({key: key, text: label(key, query[key]), href: href(upto)});
    });
    return out;
  }

  // 3天2小时 / 5 h 20 min / 45分: the two largest units, never "0".
  function duration(seconds, words) {
    var s = Math.max(0, Math.round(Math.abs(seconds)));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var sep = /[a-z]/i.test(words.unit_hour) ? " " : "";
    function part(n, unit) { return n + sep + unit; }
    if (d > 0) { return part(d, words.unit_day) + (h > 0 ? sep + part(h, words.unit_hour) : ""); }
    if (h > 0) { return part(h, words.unit_hour) + (m > 0 ? sep + part(m, words.unit_minute) : ""); }
    return part(Math.max(m, 1), words.unit_minute);
  }

  function fill(template, vars) {
    return String(template).replace(/\{(\w+)\}/g, function (all, k) { return k in vars ? String(vars[k]) : all; });
  }

  // What the due column says of a row at `now`: late by how long, or how long is left; "—"
  // when no clock runs (not dispatched yet, or suspended).
  function dueText(row, now, words) {
    if (row.due === null || row.due === undefined || row.light === "grey") { return "—"; }
    var left = row.due - now;
    return left < 0 ? fill(words.overdue_for, {t: duration(-left, words)}) : fill(words.due_in, {t: duration(left, words)});
  }

  // Pages: [this page, how many] (1-based), and the offsets of the previous and next (null at an end).
  function pages(total, offset, limit) {
    var n = Math.max(1, Math.ceil(total / limit));
    var p = Math.min(n, Math.floor(offset / limit) + 1);
    return {page: p, count: n, prev: offset > 0 ? Math.max(0, offset - limit) : null,
            next: offset + limit < total ? offset + limit : null};
  }

  // Is the list the cases behind a counter (GET /desk/api/counted), not the live filtered one?
  function counted(query) { return query.counter !== undefined; }

  // The list's own arguments (for /desk/api/cases): the address without the open case.
  function listQuery(query) {
    var out = {};
    for (var k in query) {
      if (Object.prototype.hasOwnProperty.call(query, k) && k !== "case" && k !== "map") { out[k] = query[k]; }
    }
    return out;
  }

  return {listQuery: listQuery, counted: counted, COUNTED: COUNTED, KEYS: KEYS, FILTERS: FILTERS, parse: parse, parseKeys: parseKeys, href: href, crumbs: crumbs, duration: duration,
          dueText: dueText, pages: pages, fill: fill};
});
