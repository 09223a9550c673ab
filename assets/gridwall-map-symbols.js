/* The map's symbols: the shape and colour of each kind of device, the case pins in their
 * light's colour, pre-drawn once per pixel ratio as small canvases ("sprites") that the live
 * canvas blits unscaled (assets/gridwall-map.js). Browser only (it paints on canvases).
 *
 * Shape tells the type from 10 m away; colour repeats it. The traffic-light colours are kept for
 * the cases' lights. Which vehicle subtypes exist is the contract's (dashboard/contract.py); a
 * subtype without a style of its own here is drawn as "vehicle". */
(function () {
  "use strict";
  var gw = (window.gridwall = window.gridwall || {});
  var PI = Math.PI;

  var STYLE = {
    collector: {shape: "circle", color: "#35d0ff"},
    enforcement: {shape: "diamond", color: "#5b8cff"},
    muck_truck: {shape: "triangle", color: "#e0a060"},
    sanitation: {shape: "square", color: "#3fe0c0"},
    vehicle: {shape: "hexagon", color: "#c9a7ff"},   // a vehicle of another subtype
    other: {shape: "dot", color: "#b0b8c4"}
  };
  // In the order of gridwall.store's LIGHTS: grey, green, yellow, red.
  var LIGHT_COLORS = ["#8c8c8c", "#52e07c", "#ffc53d", "#ff4d4f"];
  // The worse the light, the bigger the pin, so the few red ones stand out of hundreds of green.
  var PIN_SCALE = [0.95, 0.95, 1.3, 1.5];

  function style(name) { return STYLE[name] || STYLE.vehicle; }

  function shapePath(ctx, shape, r) {
    ctx.beginPath();
    if (shape === "circle" || shape === "dot") {
      ctx.arc(0, 0, shape === "circle" ? r * 0.75 : r * 0.6, 0, 2 * PI);
    } else if (shape === "diamond") {
      ctx.moveTo(0, -r); ctx.lineTo(r, 0); ctx.lineTo(0, r); ctx.lineTo(-r, 0); ctx.closePath();
    } else if (shape === "triangle") {
      ctx.moveTo(0, -r); ctx.lineTo(r * 0.95, r * 0.75); ctx.lineTo(-r * 0.95, r * 0.75); ctx.closePath();
    } else if (shape === "square") {
      ctx.rect(-r * 0.72, -r * 0.72, r * 1.44, r * 1.44);
    } else {                                      // hexagon
      for (var k = 0; k < 6; k++) {
        var a = PI / 6 + k * PI / 3;
        if (k === 0) { ctx.moveTo(r * Math.cos(a), r * Math.sin(a)); } else { ctx.lineTo(r * Math.cos(a), r * Math.sin(a)); }
      }
      ctx.closePath();
    }
  }

  function sprite(w, h, ax, ay, ratio, paint) {
    var c = document.createElement("canvas");
    c.width = Math.ceil(w * ratio); c.height = Math.ceil(h * ratio);
    var ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.translate(ax, ay);
    paint(ctx);
    return {img: c, dx: ax * ratio, dy: ay * ratio};   // anchor, device px
  }

  // names: the store's symbol names (gridwall.live.symbols). dev[sym][dim ? 1 : 0], cases[light].
  function makeSprites(ratio, names) {
    var dev = [], cases = [];
    names.forEach(function (name) {
      var st = style(name);
      dev.push([false, true].map(function (dim) {
        return sprite(22, 22, 11, 11, ratio, function (ctx) {
          ctx.globalAlpha = dim ? 0.4 : 1;
          shapePath(ctx, st.shape, 9);
          ctx.fillStyle = st.color; ctx.fill();
          ctx.lineWidth = 1.5; ctx.strokeStyle = "rgba(5, 13, 26, 0.9)"; ctx.stroke();
        });
      }));
    });
    // A map pin, its tip on the spot.
    LIGHT_COLORS.forEach(function (color, light) {
      cases.push(sprite(28, 36, 14, 34, ratio, function (ctx) {
        ctx.scale(PIN_SCALE[light], PIN_SCALE[light]);
        ctx.beginPath();
        ctx.moveTo(0, 0);
        ctx.bezierCurveTo(-2, -5, -7.5, -9, -7.5, -14.5);
        ctx.arc(0, -14.5, 7.5, PI, 0);
        ctx.bezierCurveTo(7.5, -9, 2, -5, 0, 0);
        ctx.closePath();
        ctx.fillStyle = color; ctx.fill();
        ctx.lineWidth = 1.5; ctx.strokeStyle = "rgba(5, 13, 26, 0.95)"; ctx.stroke();
        ctx.beginPath(); ctx.arc(0, -14.5, 2.8, 0, 2 * PI); ctx.fillStyle = "#0b1a2e"; ctx.fill();
      }));
    });
    return {ratio: ratio, names: names, dev: dev, cases: cases};
  }

  gw.symbols = {
    LIGHT_COLORS: LIGHT_COLORS,
    color: function (name) { return style(name).color; },
    makeSprites: makeSprites
  };
})();
