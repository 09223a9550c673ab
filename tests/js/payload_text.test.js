// Payload strings on the wall (assets/gridwall-format.js): escaped where an API reads markup
// (Plotly's labels), never a class name unless the page's words know it, and a bidi override
// kept from reversing the words the wall writes after it. The XSS corpus of the browser test
// (tests/fixtures/xss_corpus.json) runs through each helper here too.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const fmt = require("../../assets/gridwall-format.js");

const CORPUS = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "xss_corpus.json"), "utf8"));
const WORDS = {sev_critical: "严重", sev_alert: "告警", sev_detection: "识别", sev_urgent: "紧急案件", ended: "已结束"};

// What Plotly does with a label (its svg_text_utils): entities back to characters, and any
// "<tag" left over read as a tag. Enough to tell escaped text from markup.
function plotlyDecode(s) {
  return s.replace(/&(#\d+|#x[\da-fA-F]+|[a-z]+);/g, (m, e) => {
    if (e[0] === "#") { return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)); }
    return {amp: "&", lt: "<", gt: ">", nbsp: "\u00a0", mu: "\u03bc", times: "\u00d7", plusmn: "\u00b1", deg: "\u00b0"}[e] || m;
  });
}

test("markup text: no tag survives, and Plotly shows the text as itself", () => {
  assert.equal(fmt.markupText("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
  assert.equal(fmt.markupText("a & b"), "a &amp; b");
  assert.equal(fmt.markupText("&lt;"), "&amp;lt;", "an entity in the text stays an entity, shown as typed");
  assert.equal(fmt.markupText("暴露垃圾"), "暴露垃圾", "names without markup characters are unchanged");
  assert.equal(fmt.markupText(null), fmt.DASH);
  assert.equal(fmt.markupText(12), "12");
  for (const s of CORPUS) {
    const out = fmt.markupText(s);
    assert.ok(!/[<>]/.test(out), `a tag character left in ${JSON.stringify(s.slice(0, 60))}`);
    assert.equal(plotlyDecode(out), s, `Plotly would not show ${JSON.stringify(s.slice(0, 60))} as itself`);
  }
});

test("known: a class name or a word's key only when the page's words know it", () => {
  for (const sev of ["critical", "alert", "detection", "urgent"]) {
    assert.equal(fmt.known(sev, WORDS, "sev_", "detection"), sev);
  }
  for (const bad of ["critical gw-ended", "x\" onmouseover=\"a", "Critical", "", "__proto__", "constructor",
    "hasOwnProperty", "toString", "critical\n", "<svg onload=alert(1)>", null, undefined, 7, {}, ["critical"]]) {
    assert.equal(fmt.known(bad, WORDS, "sev_", "detection"), "detection", JSON.stringify(bad));
  }
  assert.equal(fmt.known("critical", null, "sev_", "detection"), "detection", "no words: nothing is known");
  for (const s of CORPUS) {
    assert.equal(fmt.known(s, WORDS, "sev_", "detection"), "detection", JSON.stringify(s.slice(0, 60)));
  }
});

test("isolate: a text with an embedding or override is closed off; any other text is itself", () => {
  const RLO = "\u202e", FSI = "\u2068", PDI = "\u2069";
  assert.equal(fmt.isolate("烟火"), "烟火");
  assert.equal(fmt.isolate("abc\u200fdef"), "abc\u200fdef", "a mark opens nothing: left alone");
  assert.equal(fmt.isolate(RLO + "gnp.exe"), FSI + RLO + "gnp.exe" + PDI);
  assert.equal(fmt.isolate("a\u2067b"), FSI + "a\u2067b" + PDI, "an isolate opened and never closed");
  assert.equal(fmt.isolate(null), fmt.DASH);
  for (const s of CORPUS) {
    const out = fmt.isolate(s);
    assert.ok(out === s || out === FSI + s + PDI, JSON.stringify(s.slice(0, 60)));
    if (/[\u202a-\u202e\u2066-\u2069]/.test(s)) { assert.equal(out, FSI + s + PDI); }
  }
});

test("the corpus is what the browser test sends: hostile strings, none with a NUL", () => {
  assert.ok(CORPUS.length >= 20);
  assert.ok(CORPUS.some((s) => s.includes("<script")));
  assert.ok(CORPUS.some((s) => /onerror=/i.test(s)));
  assert.ok(CORPUS.some((s) => s.length >= 5000));
  assert.ok(CORPUS.every((s) => typeof s === "string" && !s.includes("\u0000")));
});
