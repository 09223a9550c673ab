/* Clusters, pure: point objects aggregated into square grid cells of the screen (64 px by
 * default), one group per cell and kind (devices, cases), with the count, the centroid's sums
 * and, for cases, the worst light. Runs in the browser (window.gridwall.clusters) and under
 * Node (tests/js/clusters.test.js).
 *
 * An open-addressing hash over typed arrays, reused from one update to the next: no allocation
 * per point, which is what lets the map re-aggregate 50,000 objects once a second. */
(function (factory) {
  "use strict";
  if (typeof window === "undefined" && typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    var gw = (window.gridwall = window.gridwall || {});
    gw.clusters = factory();
  }
})(function () {
  "use strict";

  // cell: the cell's side in the units of the positions added (screen px at 1×).
  function createGrid(cell) {
    var g = {cell: cell || 64, n: 0, cap: 0, mask: 0, slot: null, cx: null, cy: null, kind: null, sx: null,
      sy: null, cnt: null, worst: null, first: []};

    // Empty, with room for want groups.
    g.reset = function (want) {
      if (want * 2 > g.cap) {
        var cap = 1024;
        while (cap < want * 2) { cap *= 2; }
        g.cap = cap; g.mask = cap - 1;
        g.slot = new Int32Array(cap);
        g.cx = new Int32Array(cap); g.cy = new Int32Array(cap); g.kind = new Int8Array(cap);
        g.sx = new Float64Array(cap); g.sy = new Float64Array(cap); g.cnt = new Int32Array(cap);
        g.worst = new Int8Array(cap);
      }
      g.slot.fill(-1);
      g.n = 0;
    };

    // One object at px, py; kind 0 or 1; light: its light's index (-1: none). The group keeps
    // its first object (drawn as itself when it stays alone).
    g.add = function (px, py, kind, obj, light) {
      var cx = Math.floor(px / g.cell), cy = Math.floor(py / g.cell);
      var h = (Math.imul(cx, 73856093) ^ Math.imul(cy, 19349663) ^ kind) & g.mask, i;
      while ((i = g.slot[h]) !== -1) {
        if (g.cx[i] === cx && g.cy[i] === cy && g.kind[i] === kind) { break; }
        h = (h + 1) & g.mask;
      }
      if (i === -1) {
        i = g.n++;
        g.slot[h] = i;
        g.cx[i] = cx; g.cy[i] = cy; g.kind[i] = kind;
        g.sx[i] = 0; g.sy[i] = 0; g.cnt[i] = 0; g.worst[i] = -1;
        g.first[i] = obj;
      }
      g.sx[i] += px; g.sy[i] += py; g.cnt[i] += 1;
      if (light > g.worst[i]) { g.worst[i] = light; }
    };

    // After the last add: drop references to objects of earlier rounds.
    g.finish = function () {
      for (var i = g.n; i < g.first.length; i++) { g.first[i] = null; }
      g.first.length = g.n;
    };
    return g;
  }

  return {createGrid: createGrid};
});
