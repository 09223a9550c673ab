"""The briefing's scene switches and its browser heap over an accelerated 8 hours, against
`gridwall demo` (docs/briefing.md, docs/performance.md "The briefing (issue 14)").

Targets (issue 14): a scene switches in ≤ 300 ms with no blank frame (from the key press to the
new scene fully opaque, measured in the page: gridwall-briefing.js's performance.now() at the
key handler, requestAnimationFrame until the new scene's computed opacity is 1, and the lowest sum
of all scenes' opacities on the way); left looping for 8 hours, the JS heap stays flat (≤ +10 %).

1. Switches: the briefing opened as its screen role opens it, paused, then ``--presses`` key
   presses (→, ←, PageDown, PageUp) ``--gap`` s apart; and the timer's own switches.
2. Heap: the page loaded again with every timer ``--speed`` times sooner (the poll, the tour's
   loop, the data's refetch: 8 h of them in 8 h / speed) and every scene 1 s long (``scene_s=1``:
   an 8-hour tour of the default scenes, 19 s each on average, is ~1,500 switches; 30 minutes at
   one a second is 1,800). Samples: two forced GCs, then CDP Runtime.getHeapUsage, DOM nodes and
   listeners.

The demo's poll limit is raised for the run (GRIDWALL_POLL_RATE): at speed 16 the page polls 16
times a second. Prints one JSON document. Usage:
    python bench/bench_briefing.py [--hours 8] [--speed 16] [--samples 31] [--presses 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bench_desk_heap import FAST_TIMERS  # noqa: E402 - the desk's accelerated timers, as its heap run uses them
from bench_wall import HEAP_TARGET_PCT, heap_figures  # noqa: E402
from browser_support import chrome  # noqa: E402
from helpers import Demo, eventually, grant  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

TOKEN = "gridwall-bench-briefing-7e1c3a5b9d0f2468"
SWITCH_TARGET_MS = 300.0
READY = ("var B = window.gridwall && gridwall.briefing; return !!(B && B.started && B.fetches > 0"
         " && document.querySelector('.gw-bf-chart .main-svg .trace') && gridwall.poll && gridwall.poll.polls > 0);")


def sample(driver: Any) -> dict[str, Any]:
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    usage = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    tour = driver.execute_script("var B = gridwall.briefing; return {switches: B.tour.changes, loops: B.tour.loops,"
                                 " fetches: B.fetches, polls: gridwall.poll.polls};")
    return {"used_mb": round(usage["usedSize"] / 2**20, 2), "dom_nodes": int(metrics.get("Nodes", 0)),
            "listeners": int(metrics.get("JSEventListeners", 0)), **tour}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def switch_figures(recs: list[dict[str, Any]]) -> dict[str, Any]:
    ms = [r["ms"] for r in recs if r.get("ms") is not None]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1), "p95_ms": pct(ms, 0.95),
            "max_ms": round(max(ms), 1), "worst_vs_target": round(max(ms) / SWITCH_TARGET_MS, 2),
            "min_opacity_sum": round(min(r["minSum"] for r in recs), 4)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=8.0, help="the briefing's time")
    parser.add_argument("--speed", type=float, default=16.0, help="timers run this many times sooner")
    parser.add_argument("--samples", type=int, default=31)
    parser.add_argument("--warmup", type=float, default=60.0, help="real seconds before the first sample")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.8, help="seconds between key presses")
    args = parser.parse_args()
    os.environ["GRIDWALL_POLL_RATE"] = "60/second"  # the demo's web server reads it (an accelerated page polls faster)
    load_start = [round(x, 2) for x in os.getloadavg()]
    demo = Demo(Path(tempfile.mkdtemp(prefix="bench-briefing-")) / "data", "--collectors", "120", "--vehicles", "60",
                "--backfill-days", "3")
    samples: list[dict[str, Any]] = []
    try:
        demo.wait_healthy()
        demo.wait_history_in()
        grant(f"sqlite:///{demo.data_dir.resolve() / 'gridwall.db'}", role="briefing", token=TOKEN)
        driver = chrome(1920, 1080, network_log=False, token=TOKEN)
        try:
            # 1. The switches, keys and timer, at real speed.
            driver.get(demo.url + "briefing?scene_s=3")
            eventually(lambda: driver.execute_script(READY), 90, "the briefing ready")
            time.sleep(3 * 8)  # one loop of the timer's own switches
            timer = driver.execute_script("return gridwall.briefing.switches.filter(function (r) { return r.how === 'timer'; });")
            body = driver.find_element("tag name", "body")
            body.send_keys("p")
            keys = [Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_LEFT, Keys.PAGE_DOWN, Keys.PAGE_UP]
            for i in range(args.presses):
                body.send_keys(keys[i % len(keys)])
                time.sleep(args.gap)
            pressed = driver.execute_script("return gridwall.briefing.switches.filter(function (r) { return r.how === 'key'; });")
            # 2. The heap over an accelerated loop.
            driver.execute_cdp_cmd("Performance.enable", {})
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAST_TIMERS % args.speed})
            driver.get(demo.url + "briefing?scene_s=1")
            eventually(lambda: driver.execute_script(READY), 90, "the briefing ready, accelerated")
            time.sleep(args.warmup)
            real_s = args.hours * 3600 / args.speed
            every = real_s / max(args.samples - 1, 1)
            t0 = time.monotonic()
            while True:
                s = sample(driver)
                s["t_min"] = round((time.monotonic() - t0) / 60, 2)
                s["briefing_hours"] = round((time.monotonic() - t0) * args.speed / 3600, 2)
                samples.append(s)
                print(json.dumps(s), file=sys.stderr, flush=True)
                if len(samples) >= args.samples:
                    break
                time.sleep(max(0.0, t0 + every * len(samples) - time.monotonic()))
            looped = driver.execute_script("return gridwall.briefing.switches;")
            errors = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()
    finally:
        demo.stop()
    heap = heap_figures(samples)
    print(json.dumps({
        "benchmark": "briefing_on_the_demo", "cpus": os.cpu_count(), "load_avg_at_start": load_start,
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "switch_target_ms": SWITCH_TARGET_MS, "switches_by_key": switch_figures(pressed),
        "switches_by_timer": switch_figures(timer), "switches_in_the_heap_run_last_200": switch_figures(looped),
        "heap_run": {"briefing_hours": args.hours, "speed": args.speed, "real_minutes": round(args.hours * 60 / args.speed, 1),
                     "scene_s": 1, **heap, "growth_vs_target": round(heap["growth_pct"] / HEAP_TARGET_PCT, 2),
                     "target_pct": HEAP_TARGET_PCT},
        "console_errors": errors, "samples": samples,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
