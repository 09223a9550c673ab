"""Browser heap of the real wall against `gridwall demo`: everything live, nothing synthetic.

bench_wall.py measures the map's heap with a synthetic fleet; this one opens the wall on the
demo (simulator, ingest, Redis, SQLite, gunicorn: the launcher's own children) and leaves it to
run as a wall would: its own poll twice a second, the board, the charts, the ticker, the
rotating views. Once a minute it forces a GC (twice) and reads the heap.

The demo's own data changes meanwhile (cases open and close, alerts come and go, trails fill
up to their cap), so some drift is the data's, not a leak.

Prints one JSON document. Usage:
    python bench/bench_demo_heap.py [--minutes 30] [--collectors 120] [--vehicles 60]
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
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bench_wall import HEAP_TARGET_PCT, heap_figures  # noqa: E402 - the same figures as the synthetic heap run
from browser_support import chrome  # noqa: E402 - the same headless Chromium the browser tests use
from helpers import Demo, eventually  # noqa: E402


def heap(driver) -> dict[str, float]:
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    usage = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    state = driver.execute_script("var g = window.gridwall; return [g.poll.polls, g.live.updates, g.panels.applies,"
                                  " window.dash_stores[0].getState().history.past.length];")
    return {"used_mb": round(usage["usedSize"] / 2**20, 2), "dom_nodes": int(metrics.get("Nodes", 0)),
            "listeners": int(metrics.get("JSEventListeners", 0)), "polls": state[0], "live_updates": state[1],
            "board_applies": state[2], "dash_history": state[3]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=120.0, help="seconds before the first sample")
    parser.add_argument("--collectors", type=int, default=120)
    parser.add_argument("--vehicles", type=int, default=60)
    parser.add_argument("--network-log", action="store_true",
                        help="record the page's requests as the tests do (DevTools then keeps every poll's response)")
    args = parser.parse_args()
    demo = Demo(Path(tempfile.mkdtemp(prefix="bench-demo-heap-")) / "data", "--collectors", str(args.collectors),
                "--vehicles", str(args.vehicles), "--backfill-days", "3")
    samples: list[dict[str, float]] = []
    try:
        demo.wait_healthy()
        driver = chrome(1920, 1080, network_log=args.network_log, token=None)
        try:
            driver.execute_cdp_cmd("Performance.enable", {})
            driver.get(demo.wall_url)  # as a kiosk opens it: the wall token the demo printed
            eventually(lambda: driver.execute_script("var g = window.gridwall; return !!(g && g.poll && g.poll.polls > 3);"),
                       60, "the wall polling")
            time.sleep(args.warmup)
            t0 = time.monotonic()
            while True:
                s = heap(driver)
                s["t_min"] = round((time.monotonic() - t0) / 60, 2)
                samples.append(s)
                print(json.dumps(s), file=sys.stderr, flush=True)
                if s["t_min"] >= args.minutes:
                    break
                time.sleep(max(0.0, t0 + 60 * len(samples) - time.monotonic()))
            errors = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()
    finally:
        demo.stop()
    print(json.dumps({
        "benchmark": "wall_heap_on_the_demo", "minutes": args.minutes, "collectors": args.collectors,
        "vehicles": args.vehicles, "network_log": args.network_log, "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        **heap_figures(samples), "target_pct": HEAP_TARGET_PCT,
        "console_errors": errors, "samples": samples,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
