/* The desk's video alerts (layouts/desk.py alerts()): the active ones not yet handled, newest
 * first, each with its snapshot and, for a role that may (act.dispatch), 确认 / 误报 / 转案件, each
 * asking for its reason; and today's handled ones, with who, how and why. Everything comes from
 * /desk/api/alerts and goes to /desk/api/act/alert[-case] (dashboard/desk_api.py) and is written
 * as text. Started by assets/gridwall-desk.js with the desk's helpers (``api``). */
(function () {
  "use strict";
  if (typeof window === "undefined") { return; }
  var ALERTS_MS = 5000;
  var api, timer = null, busy = false;
  var keep = {}; // alert id -> its open list of nearest collectors, kept across redraws

  function sevChip(a) {
    var sev = a.severity || "detection";
    return api.el("span", "gw-d-sev gw-d-sev-" + sev, api.words["sev_" + sev] || sev);
  }

  function act(a, action, said, buttons) {
    var toCase = action === "case";
    var text = window.prompt(toCase ? api.words.alert_case_note : api.words.alert_reason, "");
    if (text === null || !text.trim()) { return; }
    buttons.forEach(function (b) { b.disabled = true; });
    busy = true;
    var url = toCase ? "/desk/api/act/alert-case" : "/desk/api/act/alert";
    var body = toCase ? {alert_id: a.alert_id, note: text} : {alert_id: a.alert_id, action: action, reason: text};
    api.postJSON(url, body).then(function (res) {
      busy = false;
      if (res.status === 202) {
        said.textContent = api.words["alert_done_" + (toCase ? "case" : action)] + (res.body.case_id ? " " + res.body.case_id : "");
        setTimeout(load, 800);
      } else {
        buttons.forEach(function (b) { b.disabled = false; });
        said.textContent = api.lib.fill(api.words.alert_failed, {detail: res.body.detail || res.body.reason || res.status});
      }
    }).catch(function () {
      busy = false;
      buttons.forEach(function (b) { b.disabled = false; });
      said.textContent = api.words.desk_unavailable;
    });
  }

  function row(a, done) {
    var li = api.el("li", "gw-d-alert" + (done ? " gw-d-alert-done" : ""));
    li.setAttribute("data-alert-id", a.alert_id);
    var head = api.el("div", "gw-d-alert-head");
    head.appendChild(sevChip(a));
    head.appendChild(api.el("span", "gw-d-strong", api.lang === "en" ? a.type_en : a.type_zh));
    head.appendChild(api.el("span", "gw-d-sub", api.lang === "en" ? a.place_en : a.place_zh));
    head.appendChild(api.el("span", "gw-d-alert-time", api.time(done ? a.handled.at : a.start, false)));
    li.appendChild(head);
    if (done) {
      var h = a.handled;
      li.appendChild(api.el("div", "gw-d-sub", [api.words["alert_done_" + h.action] + (h.case_id ? " " + h.case_id : ""),
        h.by, h.reason].filter(Boolean).join(" · ")));
      return li;
    }
    var acts = api.el("div", "gw-d-alert-acts");
    if (a.snapshot_url && /^https?:\/\//.test(a.snapshot_url)) {
      var snap = api.el("a", "gw-d-link", api.words.alert_snapshot);
      snap.href = a.snapshot_url;
      snap.target = "_blank";
      snap.rel = "noopener noreferrer";
      acts.appendChild(snap);
    }
    var said = api.el("span", "gw-d-alert-said");
    var near = api.el("div", "gw-d-alert-near");
    if (api.mayDo("act.dispatch") && typeof a.lat === "number") {
      // 派人核实: the on-duty collectors nearest to the alert's camera, each one a button.
      var who = api.el("button", "gw-d-alert-who", api.words.send_verify);
      who.type = "button";
      who.addEventListener("click", function () {
        who.disabled = true;
        busy = true;
        api.getJSON("/desk/api/alert/" + encodeURIComponent(a.alert_id)).then(function (res) {
          near.textContent = "";
          if (res.status !== 200) { said.textContent = api.words.desk_unavailable; return; }
          if (!res.body.nearby.length) { near.appendChild(api.el("div", "gw-d-sub", api.words.case_none)); }
          res.body.nearby.forEach(function (n) {
            var line = api.el("div", "gw-d-near");
            line.setAttribute("data-id", n.id);
            line.appendChild(api.el("span", "gw-d-strong", n.name || n.id));
            line.appendChild(api.el("span", "gw-d-near-d", api.lib.fill(api.words.case_walk,
              {m: n.distance_m, t: api.lib.duration(n.walk_s, api.words)})));
            line.appendChild(api.sendButton({alert_id: a.alert_id}, n, "verify"));
            near.appendChild(line);
          });
        }).catch(function () { said.textContent = api.words.desk_unavailable; }).then(function () {
          busy = false;
          keep[a.alert_id] = near; // the list's next redraw keeps it open under its row
        });
      });
      acts.appendChild(who);
    }
    if (api.mayDo("act.dispatch")) {
      var buttons = [];
      ["ack", "dismiss", "case"].forEach(function (action) {
        var b = api.el("button", "gw-d-alert-" + action, api.words["alert_" + action]);
        b.type = "button";
        b.addEventListener("click", function () { act(a, action, said, buttons); });
        buttons.push(b);
        acts.appendChild(b);
      });
    }
    acts.appendChild(said);
    li.appendChild(acts);
    li.appendChild(keep[a.alert_id] || near);
    return li;
  }

  function draw(page) {
    var list = api.byId("gw-d-alerts-list"), doneList = api.byId("gw-d-alerts-done"), count = api.byId("gw-d-alerts-count");
    if (!list || !doneList) { return; }
    list.textContent = "";
    doneList.textContent = "";
    var active = {};
    page.active.forEach(function (a) { active[a.alert_id] = true; });
    Object.keys(keep).forEach(function (id) { if (!active[id]) { delete keep[id]; } });
    if (count) { count.textContent = page.active_total ? String(page.active_total) : ""; }
    if (!page.active.length) { list.appendChild(api.el("li", "gw-d-sub", api.words.alerts_none)); }
    page.active.forEach(function (a) { list.appendChild(row(a, false)); });
    page.handled.forEach(function (a) { doneList.appendChild(row(a, true)); });
  }

  function load() {
    if (timer) { clearTimeout(timer); timer = null; }
    // Not while a prompt's answer is on its way: the row it belongs to must stay.
    var go = busy ? Promise.resolve(null) : api.getJSON("/desk/api/alerts");
    go.then(function (res) {
      if (res && res.status === 200) { draw(res.body); }
    }).catch(function () { /* the next round tries again */ }).then(function () {
      timer = setTimeout(load, ALERTS_MS);
    });
  }

  window.gridwall = window.gridwall || {};
  window.gridwall.deskAlerts = {
    start: function (helpers) { api = helpers; load(); },
    redraw: function () { load(); },
  };
})();
