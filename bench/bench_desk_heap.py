"""Browser heap of the dispatch desk left open for a shift, against `gridwall demo`.

Target (issue 12): the desk open for a full 8-hour shift keeps its JS heap flat (≤ +10%).

The demo runs everything live (simulator, ingest, Redis, SQLite, the web server). The desk is
opened drilled down (``/desk?light=red``, or ``--path``, e.g. ``desk?map=1`` for every open case
on the list's map) with a case's panel open, as a leader leaves it. The
shift is accelerated: every timer the page sets runs ``--speed`` times sooner (a script added
before the page's own scales ``setTimeout``/``setInterval`` delays), so the numbers, the list,
the alerts and the panel are fetched and redrawn as many times as in 8 hours, in 8 h / speed.
Once a (desk-)period it forces a GC twice and reads the heap, the DOM nodes and the listeners.

Prints one JSON document. Usage:
    python bench/bench_desk_heap.py [--hours 8] [--speed 16] [--samples 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bench_wall import HEAP_TARGET_PCT, heap_figures  # noqa: E402 - the same figures as the wall's heap runs
from browser_support import chrome  # noqa: E402
from helpers import Demo, eventually  # noqa: E402

FAST_TIMERS = """
(function (speed) {
  var st = window.setTimeout, si = window.setInterval;
  window.setTimeout = function (f, d) { var a = Array.prototype.slice.call(arguments, 2);
    return st.apply(window, [f, (d || 0) / speed].concat(a)); };
  window.setInterval = function (f, d) { var a = Array.prototype.slice.call(arguments, 2);
    return si.apply(window, [f, (d || 0) / speed].concat(a)); };
})(%s);
"""


def sample(driver) -> dict[str, float]:
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    usage = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    rows = driver.execute_script("return document.querySelectorAll('#gw-d-rows tr').length;")
    return {"used_mb": round(usage["usedSize"] / 2**20, 2), "dom_nodes": int(metrics.get("Nodes", 0)),
            "listeners": int(metrics.get("JSEventListeners", 0)), "list_rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=8.0, help="the desk's time")
    parser.add_argument("--speed", type=float, default=16.0, help="timers run this many times sooner")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=float, default=60.0, help="real seconds before the first sample")
    parser.add_argument("--path", default="desk?light=red",
                        help="what the desk shows: e.g. 'desk?map=1' for every open case on the list's map")
    args = parser.parse_args()
    demo = Demo(Path(tempfile.mkdtemp(prefix="bench-desk-heap-")) / "data", "--collectors", "120", "--vehicles", "60",
                "--backfill-days", "3")
    samples: list[dict[str, float]] = []
    try:
        demo.wait_healthy()
        driver = chrome(1920, 1080, token=demo.token)
        try:
            driver.execute_cdp_cmd("Performance.enable", {})
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAST_TIMERS % args.speed})
            driver.get(demo.url + args.path)
            eventually(lambda: driver.execute_script("return document.querySelectorAll('#gw-d-rows tr[data-case]').length > 0;"),
                       120, "the desk's list")
            # A case's panel open, as a leader leaves it (its timeline and nearest collectors).
            driver.find_element("css selector", "#gw-d-rows tr[data-case]").click()
            eventually(lambda: driver.execute_script("return !document.getElementById('gw-d-case').hidden;"), 30, "the panel")
            case = driver.execute_script("return new URLSearchParams(location.search).get('case');")
            time.sleep(args.warmup)
            real_s = args.hours * 3600 / args.speed
            every = real_s / max(args.samples - 1, 1)
            t0 = time.monotonic()
            while True:
                s = sample(driver)
                s["t_min"] = round((time.monotonic() - t0) / 60, 2)
                s["desk_hours"] = round((time.monotonic() - t0) * args.speed / 3600, 2)
                samples.append(s)
                print(json.dumps(s), file=sys.stderr, flush=True)
                if len(samples) >= args.samples:
                    break
                time.sleep(max(0.0, t0 + every * len(samples) - time.monotonic()))
            errors = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()
    finally:
        demo.stop()
    print(json.dumps({
        "benchmark": "desk_heap_on_the_demo", "path": args.path, "desk_hours": args.hours, "speed": args.speed,
        "real_minutes": round(args.hours * 60 / args.speed, 1), "case_panel_open": case,
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        **heap_figures(samples), "target_pct": HEAP_TARGET_PCT, "console_errors": errors, "samples": samples,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
