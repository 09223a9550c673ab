/* The screen around the panels: the 16:9 or 32:9 canvas (by ?aspect=, else by the window's
 * shape), the side views that rotate on a 16:9 wall, and the lists that scroll by themselves
 * when they hold more rows than fit (docs/wall.md). State: gridwall.panels.rotation and
 * gridwall.panels.scroll. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var P = (gw.panels = gw.panels || {});
  var SCROLL_MS = 3000; // one row up every 3 s: slow enough to read from 10 m
  var SCROLL_HOLD = 2; // steps to rest at the top and at the bottom
  var WIDE_RATIO = 3.0; // windows at least this wide for their height get the 32:9 canvas
  P.rotation = P.rotation || {index: 0, changes: 0, since: Date.now()};
  P.scroll = P.scroll || {};

  function byId(id) { return document.getElementById(id); }
  function wide() { var c = byId("gw-canvas"); return !!(c && c.classList.contains("gw-wide")); }

  // --- self-scrolling lists: one row up every few seconds, rest at both ends --------------------
  function scrollTo(box, index) {
    if (!box) { return; }
    var list = box.firstElementChild;
    var st = P.scroll[box.id] || (P.scroll[box.id] = {index: 0, hold: SCROLL_HOLD});
    st.index = index;
    st.hold = SCROLL_HOLD;
    var row = list && list.children[index];
    var y = row ? row.offsetTop - list.children[0].offsetTop : 0;
    list.style.transform = y ? "translateY(" + (-y) + "px)" : "";
  }
  function scrollStep(box) {
    var list = box.firstElementChild;
    if (!list || !list.children.length) { return; }
    var st = P.scroll[box.id] || (P.scroll[box.id] = {index: 0, hold: SCROLL_HOLD});
    var items = list.children;
    var first = items[0].offsetTop;
    // The last index whose rows from there on still fill the box: no scrolling past the end.
    var last = 0;
    for (var i = items.length - 1; i >= 0; i--) {
      if (items[items.length - 1].offsetTop + items[items.length - 1].offsetHeight - items[i].offsetTop > box.clientHeight) {
        last = i + 1;
        break;
      }
    }
    box.classList.toggle("gw-scrolling", last > 0);
    if (last <= 0) { if (st.index) { scrollTo(box, 0); } return; }
    if (st.hold > 0) { st.hold -= 1; return; }
    if (st.index >= last) { scrollTo(box, 0); return; }
    st.index += 1;
    if (st.index >= last) { st.hold = SCROLL_HOLD; }
    var y = items[Math.min(st.index, items.length - 1)].offsetTop - first;
    list.style.transform = "translateY(" + (-y) + "px)";
  }
  setInterval(function () {
    var boxes = document.querySelectorAll("#gw-canvas .gw-scroll");
    for (var i = 0; i < boxes.length; i++) { scrollStep(boxes[i]); }
  }, SCROLL_MS);

  // --- rotating views (16:9 only; the 32:9 canvas shows them side by side) -----------------------
  function showView(index) {
    var rot = byId("gw-p-rot");
    if (!rot) { return; }
    var views = rot.querySelectorAll(".gw-view");
    var dots = rot.querySelectorAll(".gw-dot");
    if (!views.length) { return; }
    index = index % views.length;
    for (var i = 0; i < views.length; i++) {
      views[i].classList.toggle("gw-active", i === index);
      if (dots[i]) { dots[i].classList.toggle("gw-active", i === index); }
    }
    if (P.rotation.index !== index) { P.rotation.changes += 1; }
    P.rotation.index = index;
    P.rotation.since = Date.now();
    rot.setAttribute("data-active", views[index].getAttribute("data-view"));
  }
  setInterval(function () {
    var rot = byId("gw-p-rot");
    if (!rot) { return; }
    if (!rot.getAttribute("data-active")) { showView(0); }
    var every = parseFloat(rot.getAttribute("data-rotate-s")) || 0;
    if (every > 0 && !wide() && Date.now() - P.rotation.since >= every * 1000) {
      showView(P.rotation.index + 1);
    }
    if (gw.panels && gw.panels.turnRanks) { gw.panels.turnRanks(); }  // the rankings' periods, on any wall
  }, 500);

  // --- 16:9 or 32:9: by ?aspect=, else by the window's shape ------------------------------------
  function pickAspect() {
    var c = byId("gw-canvas");
    if (!c) { return false; }
    var forced = c.getAttribute("data-aspect");
    var want = forced ? forced === "32x9" : window.innerWidth / Math.max(window.innerHeight, 1) >= WIDE_RATIO;
    if (c.classList.contains("gw-wide") !== want) {
      c.classList.toggle("gw-wide", want);
      window.dispatchEvent(new Event("resize")); // gridwall-core.js rescales, Leaflet resizes
      setTimeout(function () { if (gw.charts) { gw.charts.redraw(); } }, 50);
    }
    return true;
  }
  window.addEventListener("resize", pickAspect);
  if (!pickAspect()) {
    var watch = new MutationObserver(function () { if (pickAspect()) { watch.disconnect(); } });
    watch.observe(document.documentElement, {childList: true, subtree: true});
  }

  P.showView = showView;
  P.pickAspect = pickAspect;
  gw.screen = {scrollTo: scrollTo, showView: showView, pickAspect: pickAspect};
})();
