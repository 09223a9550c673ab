/* The dispatch desk's page (layouts/desk.py): the wall's numbers as links to their cases, and
 * the case list those links open. Everything arrives from /desk/api/ (dashboard/desk_api.py)
 * and is written as text, never as HTML: titles and addresses came in payloads.
 *
 * The list's state is the page's address: a number's link, the filters' search, the breadcrumb
 * and the pager all change the address (history.pushState) and load the list for it, so Back
 * and a bookmark work. The numbers refresh every NUMBERS_MS, the list every LIST_MS. */
(function () {
  "use strict";
  if (typeof window === "undefined") { return; }
  var NUMBERS_MS = 5000, LIST_MS = 15000;
  var lib, root, words, lang, may = [], query = {}, boardVersion = null, board = null;
  var numbersTimer = null, listTimer = null, listSeq = 0;
  var lastKpi = null, lastPage = null; // what is drawn, to draw again into a page Dash rendered anew

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function link(text, changes, cls) {
    var a = el("a", cls, text);
    a.href = lib.href(query.lang ? {lang: query.lang} : {}, changes);
    a.setAttribute("data-desk", "1");
    return a;
  }
  // An action: a POST with the CSRF token the page's cookie carries (dashboard/access/web.py).
  function postJSON(url, body) {
    var m = /(?:^|;\s*)_csrf_token=([^;]+)/.exec(document.cookie);
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": m ? decodeURIComponent(m[1]) : ""}
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (b) { return {status: resp.status, body: b}; });
    });
  }
  function mayDo(right) { return may.indexOf(right) >= 0; }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); }
      return resp.json().then(function (body) { return {status: resp.status, body: body}; });
    });
  }

  // --- the numbers ---------------------------------------------------------------------------
  function label(key, value) {
    if (key === "city") { return words.desk_city; }
    if (key === "light") { return words["light_" + value] || value; }
    if (key === "urgent") { return words.desk_urgent; }
    if (key === "text") { return "“" + value + "”"; }
    if (key === "period") { return words["period_" + value] || value; }
    if (key === "counter") { return words["cnt_" + value] || value; }
    var names = (board && board.names) || {};
    if (board) {
      var ranked = board.rank && board.rank.region && board.rank.region.kind === key ? board.rank.region.rows : [];
      var rows = ((board.overdue && board.overdue[key]) || []).concat(ranked || []);
      for (var i = 0; i < rows.length; i++) {
        if (rows[i].code === value) { return lang === "en" ? rows[i].en : rows[i].zh; }
      }
    }
    var select = byId("gw-d-f-" + key);
    if (select && select.options) {
      for (var j = 0; j < select.options.length; j++) {
        if (select.options[j].value === value) { return select.options[j].textContent; }
      }
    }
    return names[value] || value;
  }

  function drawNumbers(kpi, b) {
    var cases = (kpi && kpi.cases) || {};
    var grey = b && b.overdue ? b.overdue.grey : null;
    var tiles = {open: cases.open, red: cases.overdue, yellow: cases.warn, grey: grey};
    Object.keys(tiles).forEach(function (k) {
      var num = byId("gw-d-kpi-" + k), a = byId("gw-d-tile-" + k);
      if (num) { num.textContent = tiles[k] === null || tiles[k] === undefined ? "—" : String(tiles[k]); }
      if (a) { a.href = lib.href(query.lang ? {lang: query.lang} : {}, k === "open" ? {} : {light: k}); a.setAttribute("data-desk", "1"); }
    });
    drawToday(b);
    drawRanks(b);
    if (!b || !b.overdue) { return; }
    ["district", "department"].forEach(function (dim) {
      var body = byId("gw-d-ov-" + dim);
      if (!body) { return; }
      body.textContent = "";
      (b.overdue[dim] || []).forEach(function (r) {
        if (!r.red && !r.yellow && !r.grey) { return; }
        var tr = el("tr");
        var name = el("td"), change = {};
        change[dim] = r.code;
        name.appendChild(link(lang === "en" ? r.en : r.zh, change));
        if (dim === "department" && r.red > 0 && mayDo("act.supervise")) {
          var press = el("button", "gw-d-mini", words.sup_button);
          press.type = "button";
          press.setAttribute("data-code", r.code);
          press.addEventListener("click", function () { superviseDepartment(r); });
          name.appendChild(press);
        }
        tr.appendChild(name);
        ["red", "yellow", "grey"].forEach(function (light) {
          var td = el("td", "gw-d-n gw-d-" + light);
          var c = {light: light};
          c[dim] = r.code;
          td.appendChild(r[light] ? link(r[light], c) : el("span", "gw-d-zero", "0"));
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
  }

  // Today's numbers (the wall's), each a link to the cases its counter counted today (SQL).
  function drawToday(b) {
    var today = (b && b.today) || {};
    ["reported", "filed", "closed"].forEach(function (k) {
      var num = byId("gw-d-today-" + k), a = byId("gw-d-todaylink-" + k);
      if (num) { num.textContent = today.ready ? String(today[k]) : "—"; }
      if (a) { a.href = lib.href(query.lang ? {lang: query.lang} : {}, {counter: k, period: "day"}); a.setAttribute("data-desk", "1"); }
    });
  }

  // The month's rankings: each row's name opens its live cases, its rate the cases it is due on
  // (应处置), its 超期未处置 those cases (SQL, the counters' own conditions).
  // The period chosen above them: the wall's periods come with the board; any other from
  // /desk/api/ranks (counted from SQL, a minute old at most), asked again each minute.
  var ranksAsked = {};  // period -> {at, ranks}
  function ranksOf(b, period) {
    var all = b && b.rank ? [b.rank].concat(b.rank_more || []) : [];
    for (var i = 0; i < all.length; i++) { if (all[i].period === period) { return all[i]; } }
    var got = ranksAsked[period];
    if (!got || Date.now() - got.at > 60000) {
      ranksAsked[period] = {at: Date.now(), ranks: got ? got.ranks : null};
      getJSON("/desk/api/ranks?period=" + encodeURIComponent(period)).then(function (r) {
        if (r.status === 200) { ranksAsked[period].ranks = r.body; drawRanks(board); }
      });
    }
    return got ? got.ranks : null;
  }
  function drawRanks(b) {
    var select = byId("gw-d-rank-period"), period = select ? select.value : "month";
    var ranks = ranksOf(b, period) || {};
    ["department", "region"].forEach(function (which) {
      var body = byId("gw-d-rank-" + which), title = byId("gw-d-rank-" + which + "-title");
      var r = ranks[which] || {};
      if (title) { title.textContent = r.kind ? words["rank_" + r.kind + "_" + period] || "" : ""; }
      if (!body) { return; }
      body.textContent = "";
      if (r.city_only) {
        var note = el("tr"), td = el("td", "gw-d-sub", words.rank_city_only);
        td.colSpan = 5; note.appendChild(td); body.appendChild(note); return;
      }
      (r.rows || []).forEach(function (row) {
        var by = r.kind, live = {}, of = {by: by, code: row.code, period: period};
        live[by] = row.code;
        var tr = el("tr", row.bottom ? "gw-d-bottom" : null);
        tr.appendChild(el("td", "gw-d-n", row.pos === null || row.pos === undefined ? "—" : String(row.pos)));
        var name = el("td");
        name.appendChild(link(lang === "en" ? row.en : row.zh, live));
        tr.appendChild(name);
        tr.appendChild(el("td", "gw-d-n", row.score + " " + row.grade));
        var rate = el("td", "gw-d-n");
        rate.appendChild(row.rate === null || row.rate === undefined ? el("span", "gw-d-zero", "—")
          : link(row.rate, Object.assign({counter: "due_disposal"}, of)));
        tr.appendChild(rate);
        var overdue = el("td", "gw-d-n gw-d-red");
        overdue.appendChild(row.overdue ? link(row.overdue, Object.assign({counter: "overdue_pending"}, of))
          : el("span", "gw-d-zero", "0"));
        tr.appendChild(overdue);
        body.appendChild(tr);
      });
    });
  }

  function loadNumbers() {
    clearTimeout(numbersTimer);
    var url = "/desk/api/board" + (boardVersion !== null ? "?b=" + boardVersion : "");
    getJSON(url).then(function (res) {
      if (res.status === 200) {
        if (res.body.board) { board = res.body.board; boardVersion = res.body.b; }
        lastKpi = res.body.kpi;
        drawNumbers(lastKpi, board);
        drawCrumbs();
      }
    }).catch(function () { /* the next round tries again */ }).then(function () {
      numbersTimer = setTimeout(loadNumbers, NUMBERS_MS);
    });
  }

  // --- the list ------------------------------------------------------------------------------
  function drawCrumbs() {
    var nav = byId("gw-d-crumbs");
    if (!nav) { return; }
    nav.textContent = "";
    lib.crumbs(query, label).forEach(function (c, i, all) {
      if (i > 0) { nav.appendChild(el("span", "gw-d-sep", "›")); }
      if (i === all.length - 1) { nav.appendChild(el("span", "gw-d-here", c.text)); return; }
      var a = el("a", "gw-d-crumb", c.text);
      a.href = c.href;
      a.setAttribute("data-desk", "1");
      nav.appendChild(a);
    });
  }

  function showError(text) {
    var box = byId("gw-d-error");
    if (!box) { return; }
    box.hidden = !text;
    box.textContent = text || "";
  }

  function drawList(page) {
    var now = page.now;
    var body = byId("gw-d-rows");
    body.textContent = "";
    page.rows.forEach(function (r) {
      var tr = el("tr", "gw-d-row gw-d-l-" + (r.light || "none"));
      tr.setAttribute("data-case", r.case_id);
      tr.tabIndex = 0;
      var id = el("td", "gw-d-col_case");
      id.appendChild(el("span", "gw-d-dot"));
      id.appendChild(el("span", "gw-d-caseid", r.case_id));
      if (r.urgent) { id.appendChild(el("span", "gw-d-badge", words.desk_urgent)); }
      if (r.supervised) { id.appendChild(el("span", "gw-d-badge gw-d-sup", words.sup_badge + (r.supervised > 1 ? " ×" + r.supervised : ""))); }
      tr.appendChild(id);
      var problem = el("td", "gw-d-col_problem");
      problem.appendChild(el("div", "gw-d-strong", lang === "en" ? r.problem_en : r.problem_zh));
      if (r.title) { problem.appendChild(el("div", "gw-d-sub", r.title)); }
      tr.appendChild(problem);
      var place = el("td", "gw-d-col_place");
      place.appendChild(el("div", null, (lang === "en" ? r.district_en + " · " + r.street_en : r.district_zh + " " + r.street_zh)));
      if (r.address) { place.appendChild(el("div", "gw-d-sub", r.address)); }
      tr.appendChild(place);
      tr.appendChild(el("td", "gw-d-col_department", lang === "en" ? r.department_en : r.department_zh));
      tr.appendChild(el("td", "gw-d-col_reported", r.reported_at ? new Date(r.reported_at * 1000).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", {timeZone: root.getAttribute("data-tz") || undefined, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}) : "—"));
      tr.appendChild(el("td", "gw-d-col_due gw-d-" + (r.light || "none"),
        r.closed_at ? words.case_closed : lib.dueText(r, now, words)));
      body.appendChild(tr);
    });
    if (!page.rows.length) {
      var empty = el("tr", "gw-d-empty");
      var td = el("td", null, words.desk_none);
      td.colSpan = 6;
      empty.appendChild(td);
      body.appendChild(empty);
    }
    byId("gw-d-total").textContent = lib.fill(words.desk_total, {n: page.total});
    var lights = byId("gw-d-lights");
    lights.textContent = "";
    ["red", "yellow", "green", "grey", "none"].forEach(function (k) {
      if (page.lights[k]) { lights.appendChild(el("span", "gw-d-chip gw-d-" + k, words["light_" + k] + " " + page.lights[k])); }
    });
    ["xlsx", "csv"].forEach(function (fmt) { // the export of this very list (present for a role that may export)
      var a = byId("gw-d-export-" + fmt);
      if (a) {
        a.hidden = lib.counted(query); // a counter's list is exported with the reports (issue 14)
        a.href = lib.href(lib.listQuery(query), {}).replace(/^\/desk/, "/desk/api/cases." + fmt);
      }
    });
    var p = lib.pages(page.total, page.offset, page.limit);
    byId("gw-d-pageno").textContent = lib.fill(words.desk_page, {p: p.page, n: p.count});
    [["gw-d-prev", p.prev], ["gw-d-next", p.next]].forEach(function (pair) {
      var a = byId(pair[0]);
      a.hidden = pair[1] === null;
      if (pair[1] !== null) { a.href = lib.href(query, {offset: pair[1] || null}); a.setAttribute("data-desk", "1"); }
    });
  }

  function loadList() {
    clearTimeout(listTimer);
    var seq = ++listSeq;
    var qs = lib.href(lib.listQuery(query), {}).replace(/^\/desk/, "");
    // A counter's cases come from SQL (finished ones too); the filtered list from the live cases,
    // with every case's pin when the map is shown.
    var counted = lib.counted(query);
    if (query.map && !counted) { qs += (qs ? "&" : "?") + "pins=1"; }
    getJSON((counted ? "/desk/api/counted" : "/desk/api/cases") + qs).then(function (res) {
      if (seq !== listSeq) { return; } // a newer query was asked meanwhile
      if (res.status === 200) {
        showError(null); lastPage = res.body; drawList(lastPage); drawListMap(lastPage);
        if (query["case"]) { loadCase(true); }
      }
      else if (res.status === 400) { showError(lib.fill(words.desk_bad_filter, {detail: res.body.detail || res.body.reason})); }
      else { showError(words.desk_unavailable); }
    }).catch(function () { showError(words.desk_unavailable); }).then(function () {
      if (seq === listSeq) { listTimer = setTimeout(loadList, LIST_MS); }
    });
  }

  // --- the case panel ------------------------------------------------------------------------
  function time(t, withDate) {
    if (t === null || t === undefined) { return "—"; }
    var opts = {timeZone: root.getAttribute("data-tz") || undefined, hour: "2-digit", minute: "2-digit"};
    if (withDate) { opts.month = "2-digit"; opts.day = "2-digit"; }
    return new Date(t * 1000).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", opts);
  }
  function section(parent, title) {
    var box = el("section", "gw-d-case-sec");
    box.appendChild(el("h3", "gw-d-h3", title));
    parent.appendChild(box);
    return box;
  }
  function kv(parent, key, value) {
    var row = el("div", "gw-d-kv");
    row.appendChild(el("span", "gw-d-k", key));
    row.appendChild(el("span", "gw-d-v", value));
    parent.appendChild(row);
  }

  function drawCase(c) {
    var body = byId("gw-d-case-body");
    body.textContent = "";
    var st = c.status || {}, cs = c.case || {};
    var head = el("div", "gw-d-case-head");
    head.appendChild(el("span", "gw-d-dot gw-d-dot-" + (st.light || "none")));
    head.appendChild(el("h2", "gw-d-case-id", c.case_id));
    if (st.light) { head.appendChild(el("span", "gw-d-chip gw-d-" + st.light, words["light_" + st.light])); }
    if (cs.urgent) { head.appendChild(el("span", "gw-d-badge", words.desk_urgent)); }
    body.appendChild(head);
    body.appendChild(el("div", "gw-d-strong", lang === "en" ? cs.problem_en : cs.problem_zh));
    if (cs.title) { body.appendChild(el("div", "gw-d-sub", cs.title)); }
    var facts = el("div", "gw-d-facts");
    kv(facts, words.district, (lang === "en" ? cs.district_en + " · " + cs.street_en : cs.district_zh + " " + cs.street_zh)
      + (cs.address ? " · " + cs.address : ""));
    kv(facts, words.department, lang === "en" ? cs.department_en : cs.department_zh);
    kv(facts, words.case_reported, time(cs.reported_at, true));
    kv(facts, words.case_deadline, st.deadline ? time(st.deadline, true) + " · " +
      lib.dueText({due: st.due, light: st.light}, c.now, words) : "—");
    body.appendChild(facts);

    if (cs.supervisions) { head.appendChild(el("span", "gw-d-badge gw-d-sup", words.sup_badge + " ×" + cs.supervisions)); }
    if (st.open && mayDo("act.supervise")) { superviseForm(body, c); }
    if (!st.open && (c.case || {}).closed_at && mayDo("act.supervise")) { briefingButton(body, c); }

    var steps = section(body, words.case_steps);
    (c.steps || []).forEach(function (s) {
      var row = el("div", "gw-d-step" + (s.on_time === false ? " gw-d-late" : ""));
      row.appendChild(el("span", "gw-d-step-name", lang === "en" ? s.stage : s.name_zh));
      var spent = lib.duration(s.spent_s, words), limit = s.limit_s ? lib.duration(s.limit_s, words) : "—";
      row.appendChild(el("span", "gw-d-step-time", lib.fill(words.case_spent, {a: spent, b: limit})));
      var waiting = s.ended_at === null;
      row.appendChild(el("span", "gw-d-step-ok", s.on_time === false ? words.case_late + (waiting ? " · " + words.case_waiting : "")
        : waiting ? words.case_waiting : s.on_time ? words.case_on_time : ""));
      if (s.actor) { row.appendChild(el("span", "gw-d-sub", s.actor)); }
      steps.appendChild(row);
    });

    var tl = section(body, words.case_timeline);
    var list = el("ol", "gw-d-timeline");
    (c.entries || []).forEach(function (e) {
      var li = el("li", "gw-d-tl" + (e.error ? " gw-d-tl-refused" : ""));
      li.appendChild(el("span", "gw-d-tl-time", time(e.ts, true)));
      li.appendChild(el("span", "gw-d-tl-action", lang === "en" ? e.action : e.action_zh));
      if (e.actor) { li.appendChild(el("span", "gw-d-sub", e.actor)); }
      if (e.note) { li.appendChild(el("span", "gw-d-note", e.note)); }
      (e.marks || []).forEach(function (m) { li.appendChild(el("span", "gw-d-mark", words["mark_" + m] || m)); });
      list.appendChild(li);
    });
    tl.appendChild(list);

    caseMap(body, c);

    var near = section(body, words.case_nearby);
    if (!(c.nearby || []).length) { near.appendChild(el("div", "gw-d-sub", words.case_none)); }
    (c.nearby || []).forEach(function (n) {
      var row = el("div", "gw-d-near");
      row.setAttribute("data-id", n.id);
      row.appendChild(el("span", "gw-d-strong", n.name || n.id));
      row.appendChild(el("span", "gw-d-sub", lang === "en" ? n.department_en : n.department_zh));
      row.appendChild(el("span", "gw-d-near-d", lib.fill(words.case_walk, {m: n.distance_m, t: lib.duration(n.walk_s, words)})));
      if (st.open && mayDo("act.dispatch")) { row.appendChild(sendButton(c, n, st.state === "await_check" ? "check" : "verify")); }
      near.appendChild(row);
    });

    // The vehicles near it now (enforcement, sanitation, muck trucks), in a straight line.
    if ((c.vehicles || []).length) {
      var cars = section(body, words.case_vehicles);
      c.vehicles.forEach(function (v) {
        var row = el("div", "gw-d-near gw-d-vehicle");
        row.setAttribute("data-id", v.id);
        row.appendChild(el("span", "gw-d-strong", v.name || v.id));
        row.appendChild(el("span", "gw-d-sub", (words["veh_" + v.subtype] || v.subtype || "") + " " +
          (lang === "en" ? v.department_en : v.department_zh)));
        row.appendChild(el("span", "gw-d-near-d", lib.fill(words.case_metres, {m: v.distance_m})));
        cars.appendChild(row);
      });
    }

    if ((c.media || []).length) {
      var media = section(body, words.case_media);
      c.media.forEach(function (m) {
        var a = el("a", "gw-d-media", (m.phase === "after" ? words.case_after : words.case_before) + " · " + time(m.ts, true));
        a.href = m.url; // http(s) only: the case page keeps no other (dashboard/casework/timeline.py)
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        media.appendChild(a);
      });
    }

    var hist = section(body, words.case_history);
    if (!(c.history || []).length) { hist.appendChild(el("div", "gw-d-sub", words.case_none)); }
    (c.history || []).forEach(function (h) {
      var row = el("div", "gw-d-hist");
      row.appendChild(link(h.case_id, {"case": h.case_id}, "gw-d-caseid"));
      row.appendChild(el("span", null, lang === "en" ? h.en : h.zh));
      row.appendChild(el("span", "gw-d-sub", time(h.reported_at, true)));
      hist.appendChild(row);
    });
  }

  // A closed case as the briefing's case story (docs/briefing.md): one button, one POST.
  function briefingButton(body, c) {
    var btn = el("button", "gw-d-btn gw-d-bf-pick", words.desk_briefing_pick);
    btn.addEventListener("click", function () {
      btn.disabled = true;
      postJSON("/desk/api/act/briefing-case", {case_id: c.case_id}).then(function (res) {
        btn.textContent = res.status === 200 ? words.desk_briefing_picked
          : lib.fill(words.sup_failed, {detail: res.body.detail || res.body.reason || res.status});
        btn.disabled = res.status === 200;
      }).catch(function () { btn.disabled = false; btn.textContent = words.desk_unavailable; });
    });
    body.appendChild(btn);
  }

  function superviseForm(body, c) {
    var box = section(body, words.sup_button);
    var form = el("form", "gw-d-sup-form");
    var note = el("textarea");
    note.name = "note"; note.maxLength = 500; note.rows = 3; note.required = true; note.placeholder = words.sup_note;
    var when = el("input");
    when.type = "datetime-local"; when.name = "deadline_request";
    var label = el("label", "gw-d-field", null);
    label.appendChild(el("span", "gw-d-flabel", words.sup_deadline));
    label.appendChild(when);
    var send = el("button", "gw-d-btn", words.sup_send);
    send.type = "submit";
    var said = el("div", "gw-d-sup-said");
    form.appendChild(note); form.appendChild(label); form.appendChild(send); form.appendChild(said);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send.disabled = true;
      // datetime-local is the browser's zone; the desk's users sit in the city's.
      var request = when.value ? new Date(when.value).getTime() / 1000 : null;
      postJSON("/desk/api/act/supervise", {case_id: c.case_id, note: note.value, deadline_request: request,
                                           version: (c.case || {}).version}).then(function (res) {
        send.disabled = false;
        if (res.status === 202) { said.textContent = words.sup_sent; note.value = ""; setTimeout(loadCase, 1500); }
        else { said.textContent = lib.fill(words.sup_failed, {detail: res.body.detail || res.body.reason || res.status}); }
      }).catch(function () { send.disabled = false; said.textContent = words.desk_unavailable; });
    });
    box.appendChild(form);
  }

  // The case on the map: the city's offline basemap (the wall's, /assets/city/basemap.json, its
  // style assets/gridwall-map.js), the case's unit grid, the case and the nearest collectors. One
  // Leaflet map at a time: the panel's redraw removes the last one first, or each would stay.
  var caseMapNow = null, basemap = null;
  function caseMap(body, c) {
    if (caseMapNow) { caseMapNow.remove(); caseMapNow = null; }
    var cs = c.case || {};
    if (!window.L || typeof cs.lat !== "number" || typeof cs.lon !== "number") { return; }
    var box = el("div", "gw-d-map");
    section(body, words.case_map).appendChild(box);
    var m = L.map(box, {attributionControl: false, zoomControl: true, scrollWheelZoom: false});
    caseMapNow = m;
    // Framed on the grid (a unit grid is ~100 m across) with the streets around it; the nearest
    // collectors in view are drawn, the others are in the list below.
    var frame = L.latLngBounds(c.grid || [[cs.lat, cs.lon]]).extend([cs.lat, cs.lon]);
    if (c.grid) { L.polygon(c.grid, {color: "#4cc9ff", weight: 2, fillOpacity: 0.15, interactive: false}).addTo(m); }
    (c.nearby || []).forEach(function (n) {
      if (typeof n.lat !== "number") { return; }
      L.circleMarker([n.lat, n.lon], {radius: 6, color: "#52d27c", fillOpacity: 0.9, weight: 2})
        .bindTooltip(n.name || n.id).addTo(m);
    });
    L.circleMarker([cs.lat, cs.lon], {radius: 8, color: "#fff", fillColor: "#ff5c5c", fillOpacity: 1, weight: 2}).addTo(m);
    m.fitBounds(frame.pad(3), {maxZoom: 17});
    addBasemap(m, function () { return caseMapNow === m; });
  }

  // The city's offline basemap under ``m`` (fetched once), unless ``still()`` says the map is gone.
  function addBasemap(m, still, loaded) {
    if (!basemap) {
      basemap = fetch("/assets/city/basemap.json", {credentials: "same-origin"}).then(function (r) { return r.json(); });
    }
    basemap.then(function (data) {
      if (!still()) { return; } // the panel or the list moved on meanwhile
      var style = window.gridwall.map && window.gridwall.map.basemapStyle;
      // Areas under streets: the file's order is not the drawing's, and land is opaque.
      var order = {land: 0, block: 1, park: 2, water: 3, road_minor: 4, road_major: 5};
      var features = (data.features || []).filter(function (f) { return f.geometry && f.geometry.type !== "Point"; });
      features.sort(function (a, b) { return (order[a.properties.layer] || 0) - (order[b.properties.layer] || 0); });
      var layer = L.geoJSON({type: "FeatureCollection", features: features}, {style: style, interactive: false});
      layer.addTo(m).bringToBack();
      if (loaded) { loaded(layer); }
    }).catch(function () { basemap = null; });
  }

  // The list's map (``map=1``): the filter's every case as a pin in its light's colour, a click
  // opening its case. One map while the mode is on; its pins are redrawn with each list.
  var listMap = null, listPins = null;
  var PIN = {red: "#ff5c5c", yellow: "#ffc53d", green: "#52d27c", grey: "#9aa3ad"};
  function drawListMap(page) {
    var box = byId("gw-d-listmap"), btn = byId("gw-d-mapbtn");
    var on = !!query.map && !!window.L;
    if (btn) {
      btn.textContent = query.map ? words.desk_list : words.desk_map;
      btn.href = lib.href(query, {map: query.map ? null : "1"});
      btn.setAttribute("data-desk", "1");
    }
    if (!box) { return; }
    box.hidden = !on;
    if (!on || (listMap && listMap.getContainer() !== box)) {
      if (listMap) { listMap.remove(); listMap = null; listPins = null; }
      if (!on) { return; }
    }
    if (!listMap) {
      var m = L.map(box, {attributionControl: false, scrollWheelZoom: true});
      listMap = m;
      listPins = L.layerGroup().addTo(m);
      var pins = (page.pins || []).map(function (p) { return [p[1], p[2]]; });
      // Framed on the pins; with none, on the whole city once its basemap is in.
      addBasemap(m, function () { return listMap === m; }, pins.length ? null : function (layer) { m.fitBounds(layer.getBounds()); });
      m.setView([0, 0], 2);
      if (pins.length) { m.fitBounds(L.latLngBounds(pins).pad(0.1), {maxZoom: 16}); }
    }
    listPins.clearLayers();
    (page.pins || []).forEach(function (p) {
      var pin = L.circleMarker([p[1], p[2]], {radius: 6, color: "#07111f", weight: 1, fillColor: PIN[p[3]] || "#8ea7c8",
                                                fillOpacity: 0.95});
      pin.bindTooltip(p[0]);
      pin.on("click", function () { go(lib.href(query, {"case": p[0]}), true); });
      pin.addTo(listPins);
    });
  }

  // 派核实 / 派核查: a task on the collector's handheld (POST /desk/api/act/send), after a confirm.
  // ``target``: {case_id} or {alert_id}, what the collector is sent to look at.
  function sendButton(target, n, kind) {
    var b = el("button", "gw-d-send", words["send_" + kind]);
    b.type = "button";
    b.addEventListener("click", function () {
      var name = n.name || n.id;
      if (!window.confirm(lib.fill(words.send_confirm, {name: name, kind: words["send_" + kind], m: n.distance_m}))) { return; }
      b.disabled = true;
      var body = {device_id: n.id, kind: kind};
      if (target.alert_id) { body.alert_id = target.alert_id; } else { body.case_id = target.case_id; }
      postJSON("/desk/api/act/send", body).then(function (res) {
        b.textContent = res.status === 202 ? lib.fill(words.send_sent, {name: name})
          : lib.fill(words.send_failed, {detail: res.body.detail || res.body.reason || res.status});
        if (res.status !== 202) { b.disabled = false; }
      }).catch(function () { b.disabled = false; b.textContent = words.desk_unavailable; });
    });
    return b;
  }

  function superviseDepartment(r) {
    var name = lang === "en" ? r.en : r.zh;
    if (!window.confirm(lib.fill(words.sup_dept_confirm, {name: name, n: r.red}))) { return; }
    var note = window.prompt(words.sup_note, "");
    if (!note) { return; }
    postJSON("/desk/api/act/supervise-department", {department: r.code, note: note}).then(function (res) {
      showError(res.status === 202 ? null : lib.fill(words.sup_failed, {detail: res.body.detail || res.body.reason || res.status}));
      if (res.status === 202) { setTimeout(loadList, 1500); }
    });
  }

  var caseSeq = 0, shownCase = null;
  // ``refresh``: the list's round (every LIST_MS) looks at the open case again; it is drawn anew
  // only when it moved on (a new event, a new version) and nobody is typing in its forms.
  function loadCase(refresh) {
    var panel = byId("gw-d-case");
    if (!panel) { return; }
    var id = query["case"];
    panel.hidden = !id;
    root.classList.toggle("gw-d-case-open", !!id);
    if (!id) { shownCase = null; return; }
    var seq = ++caseSeq;
    getJSON("/desk/api/case/" + encodeURIComponent(id)).then(function (res) {
      if (seq !== caseSeq) { return; }
      if (res.status === 200) {
        var mark = id + ":" + ((res.body.case || {}).version) + ":" + (res.body.entries || []).length;
        var typing = Array.prototype.some.call(panel.querySelectorAll("textarea, input"), function (f) { return f.value; });
        if (refresh === true && (mark === shownCase || typing)) { return; }
        shownCase = mark;
        drawCase(res.body);
        return;
      }
      var body = byId("gw-d-case-body");
      body.textContent = "";
      body.appendChild(el("div", "gw-d-error", res.status === 404 ? words.case_not_found : words.desk_unavailable));
    }).catch(function () { /* the panel keeps what it shows */ });
  }

  function fillForm() {
    var form = byId("gw-d-filters");
    if (!form) { return; }
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name) { input.value = query[input.name] || (input.name === "sort" ? "overdue" : ""); }
    });
  }

  function go(url, push) {
    var before = lib.href(lib.listQuery(query), {}), mapBefore = !!query.map;
    query = lib.parse(url.indexOf("?") >= 0 ? url.slice(url.indexOf("?")) : "");
    if (push) { history.pushState(null, "", url); }
    loadCase();
    if (push && lib.href(lib.listQuery(query), {}) === before) { // only the open case or the map changed
      if (!!query.map !== mapBefore && query.map) { loadList(); return; } // the map needs its pins
      if (lastPage) { drawListMap(lastPage); }
      return;
    }
    var drilled = lib.FILTERS.some(function (k) { return query[k] !== undefined; });
    root.classList.toggle("gw-d-drilled", drilled);
    fillForm();
    drawCrumbs();
    loadList();
  }

  function bindForm() {
    byId("gw-d-filters").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var changes = {};
      Array.prototype.forEach.call(ev.target.elements, function (input) {
        if (input.name) { changes[input.name] = input.value || null; }
      });
      go(lib.href(query, changes), true);
    });
  }

  // Dash renders a page's layout anew when its router sees the address change (a Back that
  // reached it, a language link): the new elements are empty. Draw what we have into them.
  function adopt() {
    var now = byId("gw-desk");
    if (!now || now === root) { return; }
    root = now;
    bindForm();
    query = lib.parse(location.search);
    root.classList.toggle("gw-d-drilled", lib.FILTERS.some(function (k) { return query[k] !== undefined; }));
    fillForm();
    drawCrumbs();
    if (lastKpi) { drawNumbers(lastKpi, board); }
    if (lastPage) { drawList(lastPage); }
    loadList();
    loadCase();
    if (window.gridwall.deskAlerts) { window.gridwall.deskAlerts.redraw(); }
  }

  // The report of the chosen period (empty: the last that ended) in the page's language.
  function reportPart(k) { return byId("gw-d-report-" + k); } // an optional family (contract.py)
  function reportLinks() {
    var period = reportPart("period"), at = reportPart("at");
    if (!period || !at) { return; }
    var when = (at.value || "").trim();
    ["pdf", "xlsx"].forEach(function (fmt) {
      var a = reportPart(fmt);
      if (a) {
        a.href = "/desk/api/report." + fmt + "?period=" + encodeURIComponent(period.value) +
          (when ? "&at=" + encodeURIComponent(when) : "") + "&lang=" + lang;
      }
    });
  }

  function start() {
    root = byId("gw-desk");
    lib = window.gridwall && window.gridwall.deskLib;
    if (!root || !lib) { return false; }
    new MutationObserver(adopt).observe(document.body, {childList: true, subtree: true});
    var contract = JSON.parse(root.getAttribute("data-contract") || "{}");
    words = contract.words || {};
    may = contract.may || [];
    lang = contract.lang || "zh";
    document.body.classList.add("gw-desk-page");
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest && ev.target.closest("a[data-desk]");
      if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) { return; }
      ev.preventDefault();
      go(a.id === "gw-d-mapbtn" ? lib.href(query, {map: query.map ? null : "1"}) : a.getAttribute("href"), true);
    });
    bindForm();
    // The evaluation report's download (for a role that may export): its links follow the choice.
    reportLinks();
    ["change", "input"].forEach(function (kind) {
      document.addEventListener(kind, function (ev) {
        if (ev.target && /^gw-d-report-/.test(ev.target.id || "")) { reportLinks(); }
      });
    });
    // The rankings' period: drawn from the board, or asked for (ranksOf).
    document.addEventListener("change", function (ev) {
      if (ev.target && ev.target.id === "gw-d-rank-period") { drawRanks(board); }
    });
    // A row opens its case; the panel's button closes it (the address says which is open).
    document.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest("#gw-d-case-close")) { go(lib.href(query, {"case": null}), true); return; }
      var row = ev.target.closest && ev.target.closest("#gw-d-rows tr[data-case]");
      if (row && !ev.target.closest("a")) { go(lib.href(query, {"case": row.getAttribute("data-case")}), true); }
    });
    document.addEventListener("keydown", function (ev) {
      var row = ev.target.closest && ev.target.closest("#gw-d-rows tr[data-case]");
      if (row && ev.key === "Enter") { go(lib.href(query, {"case": row.getAttribute("data-case")}), true); }
      if (ev.key === "Escape" && query["case"]) { go(lib.href(query, {"case": null}), true); }
    });
    // Back and Forward within the desk are the list's own: Dash's router would render the whole
    // page again for the new address (and lose what is drawn), so it does not see them. A
    // capturing listener on window runs before Dash's.
    window.addEventListener("popstate", function (ev) {
      if (location.pathname !== "/desk") { return; }
      ev.stopImmediatePropagation();
      go(location.pathname + location.search, false);
    }, true);
    go(location.pathname + location.search, false);
    loadNumbers();
    // The video alerts (assets/gridwall-desk-alerts.js), with this page's helpers.
    if (window.gridwall.deskAlerts) {
      window.gridwall.deskAlerts.start({el: el, byId: byId, postJSON: postJSON, getJSON: getJSON, words: words, lang: lang,
                                        mayDo: mayDo, time: time, lib: lib, sendButton: sendButton});
    }
    return true;
  }

  // The page is rendered by Dash after the scripts ran: wait for its root.
  (function wait(tries) {
    if (!start() && tries < 600) { setTimeout(function () { wait(tries + 1); }, 50); }
  })(0);
})();
