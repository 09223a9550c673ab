/* The two charts of the rotating side views (today's reports and closures by hour, open cases
 * by category): Plotly figures built from the board and set on their dcc.Graph with
 * dash_clientside.set_props, only when their data or size changed (Plotly.react, in place).
 * set_props on a figure that no callback reads adds nothing to the renderer's undo history.
 * Called by gridwall-panels.js after each board and by gridwall-screen.js when the canvas
 * changes shape. */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var P = (gw.panels = gw.panels || {});
  P.figs = P.figs || {hourly: "", cats: ""};   // what the charts show now: data and size

  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  var HOUR_TICKS = [0, 3, 6, 9, 12, 15, 18, 21];

  function byId(id) { return document.getElementById(id); }
  function name(row) { return gw.lang() === "en" ? (row.en || row.zh) : row.zh; }

  function baseLayout(el) {
    return {
      width: Math.max(el.offsetWidth, 100), height: Math.max(el.offsetHeight, 80),
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: {family: FONT, size: 20, color: "#dbe9ff"},
      margin: {l: 56, r: 16, t: 36, b: 40},
      showlegend: true,
      legend: {orientation: "h", x: 0, y: 1.16, font: {size: 20}},
      bargap: 0.25
    };
  }
  function hourlyFigure(h, el) {
    var hours = [], reported = [], closed = [];
    for (var i = 0; i < 24; i++) {
      hours.push(i);
      reported.push(i <= h.hour ? h.reported[i] : null);
      closed.push(i <= h.hour ? h.closed[i] : null);
    }
    var words = gw.contract().words;
    var layout = baseLayout(el);
    layout.xaxis = {tickvals: HOUR_TICKS, ticktext: HOUR_TICKS.map(function (x) { return gw.format.hourTick(x, words); }),
      range: [-0.6, 23.6], gridcolor: "rgba(0,0,0,0)", tickfont: {size: 18}};
    layout.yaxis = {gridcolor: "#1f4a7a", zeroline: false, rangemode: "tozero", tickfont: {size: 18}};
    return {
      data: [
        {type: "bar", x: hours, y: reported, name: gw.word("reported"), marker: {color: "#35d0ff"}},
        {type: "scatter", mode: "lines+markers", x: hours, y: closed, name: gw.word("closed"),
         line: {color: "#52e07c", width: 4}, marker: {size: 9}, connectgaps: false}
      ],
      layout: layout
    };
  }
  function catsFigure(c, el) {
    var layout = baseLayout(el);
    // As many classes as have room for a 20 px label each: 28 px a bar.
    var room = Math.max(Math.floor((layout.height - 16) / 28), 1);
    var top = (c.top || []).slice(0, room).reverse();
    layout.showlegend = false;
    layout.margin = {l: 8, r: 56, t: 8, b: 8};
    layout.xaxis = {visible: false, rangemode: "tozero"};
    layout.yaxis = {automargin: true, tickfont: {size: 20}, dtick: 1, tickmode: "linear"};
    return {
      data: [{
        type: "bar", orientation: "h",
        x: top.map(function (r) { return r.n; }),
        // Plotly reads its labels as markup (<b>, <br>, <a href>, entities): escaped, so a
        // name shows as itself, whatever a message or a catalogue put in it.
        y: top.map(function (r) { return gw.format.markupText(name(r)); }),
        text: top.map(function (r) { return String(r.n); }), textposition: "outside", cliponaxis: false,
        constraintext: "none", textfont: {size: 20, color: "#dbe9ff"},
        marker: {color: top.map(function (r) { return r.category === "component" ? "#35d0ff" : "#ffc53d"; })}
      }],
      layout: layout
    };
  }
  // [hourly, cats]: a figure only for a chart whose data or size changed, else null.
  function figures(raw) {
    if (!raw) { return [null, null]; }
    var b = typeof raw === "string" ? JSON.parse(raw) : raw;
    var out = [null, null];
    var hEl = byId("gw-chart-hourly"), cEl = byId("gw-chart-cats");
    if (b.hourly && hEl && hEl.offsetWidth) {
      var hk = [b.hourly.day, b.hourly.at, hEl.offsetWidth, hEl.offsetHeight, gw.lang()].join("|");
      if (hk !== P.figs.hourly) { P.figs.hourly = hk; out[0] = hourlyFigure(b.hourly, hEl); }
    }
    if (b.categories && cEl && cEl.offsetWidth) {
      var ck = JSON.stringify(b.categories.top) + "|" + cEl.offsetWidth + "|" + cEl.offsetHeight;
      if (ck !== P.figs.cats) { P.figs.cats = ck; out[1] = catsFigure(b.categories, cEl); }
    }
    return out;
  }
  function redraw() {
    if (!P.board || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var figs = figures(P.board);
    if (figs[0]) { window.dash_clientside.set_props("gw-chart-hourly", {figure: figs[0]}); }
    if (figs[1]) { window.dash_clientside.set_props("gw-chart-cats", {figure: figs[1]}); }
  }

  P.figures = figures;
  gw.charts = {figures: figures, redraw: redraw};
})();
