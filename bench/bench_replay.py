"""The desk's replay (issue 12): 700 vehicles × 1 hour at one fix per 10 s (252,000 fixes), on
SQLite and PostgreSQL, and in headless Chromium.

Targets (issue 12): loaded and playing within 2 s; each frame at 60× costs at most 50 ms of
main-thread time.

The history: the demo city's simulator (feeds/simulator/, 700 vehicles: enforcement, sanitation,
muck trucks, on the road graph, parked ones reporting too) for the hour from 21:30 local, a fix
per vehicle every 10 s, written as ingest writes it (dashboard/store/history_writer.py: the
``position`` and ``device`` rows). Written straight, not through the history's downsampler (30 s
by default): the target's resolution is 10 s, three times the default's rows.

Measured per database:
- **the API**: ``GET /desk/api/replay?kind=vehicle&from=..&to=..`` through the Flask app as
  gunicorn serves it (the guard, a token, gzip as a browser asks for it), the median and max of
  ``--api-runs``; apart, its parts: the SQL read (dashboard/store/replay.py ``fixes``), the model
  (dashboard/screens/replay.py ``replay_model``: stops, distance, moving time, the compact
  arrays), the JSON, the gzip; the answer's bytes raw and gzipped;
- **the storage**: bytes per position row, the table with its index (SQLite: ``dbstat``;
  PostgreSQL: ``pg_total_relation_size``), and what that makes per 1,000 devices per day at the
  default resolution (one row per 30 s) and at 10 s, reporting round the clock.

In the browser (``--browser``; the site served by werkzeug in a thread of this process, so the
server and Chromium share the machine's two cores as they would on one desk PC; 1920×1080, and
once at 390×844 on SQLite):
- **loaded and playing**: the page opened on the choice's address, from the navigation's start
  (performance.now() = 0) to the first frame drawn while playing, and apart its steps (the
  request sent, the answer parsed, the tracks built); ``--loads`` times, a new tab state each;
- **a frame at 60×**: the page plays for ``--play-s`` seconds; per frame the draw function's own
  time (performance.now() around it: every device's position, the trails, the sprites) and the
  main thread's whole time per frame from CDP Performance metrics (TaskDuration: the
  requestAnimationFrame callback, the DOM writes of the clock and slider, style, paint
  included), with the default trail (10 min), the whole track, and following one truck.

Prints one JSON document.

Usage: python bench/bench_replay.py [--vehicles 700] [--minutes 60] [--every-s 10] [--dbs sqlite,postgresql]
                                    [--api-runs 5] [--browser] [--loads 3] [--play-s 8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import servers  # noqa: E402 - the same real servers the tests start
from replay_support import simulated_positions, write_history  # noqa: E402
from sqlalchemy import text  # noqa: E402

from dashboard.access.masking import Masking  # noqa: E402
from dashboard.access.scope import CITY_SCOPE  # noqa: E402
from dashboard.casedata import load_grid_index  # noqa: E402
from dashboard.config import ASSETS_DIR, load_settings  # noqa: E402
from dashboard.screens.names import load_names  # noqa: E402
from dashboard.screens.replay import ReplayQuery, replay_model  # noqa: E402
from dashboard.store import db  # noqa: E402
from dashboard.store import replay as history  # noqa: E402

LOAD_TARGET_MS = 2000.0
FRAME_TARGET_MS = 50.0
ZONE = ZoneInfo("Asia/Shanghai")
METRIC_KEYS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def last_night() -> float:
    """21:30 local, the night before last (inside the retained history, never in the future)."""
    day = datetime.now(ZONE) - timedelta(days=2)
    return day.replace(hour=21, minute=30, second=0, microsecond=0).timestamp()


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def storage(engine: Any, kind: str, rows: int, interval_s: float) -> dict[str, Any]:
    """Bytes per position row (table + its index), and the cost per 1,000 devices per day."""
    with engine.connect() as conn:
        if kind == "sqlite":
            sizes = dict(conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat WHERE name IN "
                                           "('position', 'ix_position_device_ts') GROUP BY name")).all())
            table, index = int(sizes.get("position", 0)), int(sizes.get("ix_position_device_ts", 0))
        else:
            conn.execute(text("ANALYZE position"))
            table = int(conn.execute(text("SELECT pg_relation_size('position')")).scalar() or 0)
            total = int(conn.execute(text("SELECT pg_total_relation_size('position')")).scalar() or 0)
            index = total - table
    per_row = (table + index) / rows
    day = 86400.0

    def per_1000_devices(every_s: float) -> dict[str, float]:
        n = 1000 * day / every_s
        return {"rows_per_day": round(n), "mb_per_day": round(n * per_row / 1e6, 1),
                "gb_per_30_days": round(30 * n * per_row / 1e9, 2)}

    return {"rows": rows, "table_bytes": table, "index_bytes": index, "bytes_per_row": round(per_row, 1),
            "table_bytes_per_row": round(table / rows, 1), "index_bytes_per_row": round(index / rows, 1),
            f"per_1000_devices_at_{int(interval_s)}s": per_1000_devices(interval_s),
            "per_1000_devices_at_10s": per_1000_devices(10.0)}


def measure_api(settings: Any, engine: Any, start: float, end: float, runs: int) -> dict[str, Any]:
    from helpers import grant

    from dashboard.app import create_app

    token = grant(settings.resolved_database_url, "admin", token="")
    client = create_app(settings).server.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    url = f"/desk/api/replay?kind=vehicle&from={start}&to={end}"
    client.get(url, headers=headers)  # warm-up: the grid index, the connection pool, the allocator
    totals, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        resp = client.get(url, headers=headers)
        totals.append(ms(t0))
        assert resp.status_code == 200, resp.data[:300]
        size = len(resp.data)
    # The parts, once more each.
    names = load_names(ASSETS_DIR / "city")
    grids = load_grid_index(ASSETS_DIR / "city" / "grids.json")
    query = ReplayQuery(start, end, kind="vehicle")
    t0 = time.perf_counter()
    devices = history.devices(engine, kind="vehicle")
    t_devices = ms(t0)
    t0 = time.perf_counter()
    fixes = history.fixes(engine, [d.device_id for d in devices], start, end, 1_000_000)
    t_sql = ms(t0)
    t0 = time.perf_counter()
    model = replay_model(query, devices, fixes, time.time(), names, Masking.none(), CITY_SCOPE,
                         lambda lat, lon: grids.lookup(lon, lat), 300.0, 300.0)
    t_model = ms(t0)
    t0 = time.perf_counter()
    body = orjson.dumps(model)
    t_json = ms(t0)
    t0 = time.perf_counter()
    zipped = gzip.compress(body, compresslevel=1, mtime=0)
    t_gzip = ms(t0)
    return {"route_ms": {"median": statistics.median(totals), "max": max(totals), "runs": totals},
            "parts_ms": {"devices": t_devices, "sql_read": t_sql, "model": t_model, "json": t_json, "gzip": t_gzip},
            "devices": len(devices), "fixes": fixes.count, "stops": model["summary"]["stops"],
            "bytes_raw": len(body), "bytes_gzip": len(zipped), "bytes_sent": size}


# --- the browser ----------------------------------------------------------------------------------

STATE_JS = """
var r = window.gridwall && window.gridwall.replay;
if (!r || !r.marks || r.marks.playing === undefined) { return null; }
var api = performance.getEntriesByType('resource').filter(function (e) { return e.name.indexOf('/desk/api/replay?') >= 0; })[0];
return {marks: r.marks, frames: r.stats.frames, devices: r.devices.length,
        net: api ? {start: api.requestStart, first_byte: api.responseStart, end: api.responseEnd,
                    bytes: api.transferSize, body: api.decodedBodySize} : null};
"""


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))]


def frames(driver: Any, seconds: float, setup: str) -> dict[str, Any]:
    """Play at 60× for ``seconds`` after ``setup`` (JS), from 60 % into the window; per frame the
    draw function's time and the main thread's (CDP)."""
    driver.execute_script(setup + """
        var r = window.gridwall.replay, speed = document.getElementById('gw-r-speed');
        speed.value = '60'; speed.dispatchEvent(new Event('change'));
        if (r.clock.playing) { document.getElementById('gw-r-play').click(); }
        r.clock.t = r.clock.end * 0.6;   // mid-window: a whole track is 36 minutes long, and growing
        r.stats.frames = 0; r.stats.sumMs = 0; r.stats.maxMs = 0; r.stats.recent = [];
        document.getElementById('gw-r-play').click();""")
    time.sleep(0.3)
    driver.execute_script("var s = window.gridwall.replay.stats; s.frames = 0; s.sumMs = 0; s.maxMs = 0; s.recent = [];")
    before = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    time.sleep(seconds)
    after = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    st = driver.execute_script("var r = window.gridwall.replay; return {frames: r.stats.frames, recent: r.stats.recent,"
                               " max: r.stats.maxMs, t: r.clock.t, playing: r.clock.playing};")
    n = max(1, st["frames"])
    main = {k: round(1000.0 * (after.get(k, 0.0) - before.get(k, 0.0)) / n, 2) for k in METRIC_KEYS}
    draw = st["recent"]
    return {"frames": st["frames"], "fps": round(st["frames"] / seconds, 1), "replay_s_played": round(st["t"]),
            "draw_ms": {"p50": round(statistics.median(draw), 2), "p95": round(pct(draw, 95), 2), "max": round(st["max"], 2)},
            "main_thread_ms_per_frame": main,
            "ratio_to_target": round(max(main["TaskDuration"], pct(draw, 95)) / FRAME_TARGET_MS, 3)}


def measure_browser(url: str, start: float, end: float, loads: int, play_s: float, width: int = 1920,
                    height: int = 1080) -> dict[str, Any]:
    from browser_support import chrome
    from helpers import eventually

    driver = chrome(width, height, network_log=False)
    driver.set_script_timeout(120)
    page = f"{url}/desk/replay?kind=vehicle&from={start}&to={end}"
    try:
        driver.get(url + "/desk/replay")  # the first load of the app's bundles, not measured
        eventually(lambda: driver.execute_script("return !!(window.gridwall && window.gridwall.replayLib);"), 60, "the page")
        runs = []
        for _ in range(loads):
            driver.get("about:blank")
            driver.get(page)
            state = eventually(lambda: driver.execute_script(STATE_JS), 60, "loaded and playing")
            m = state["marks"]
            net = state["net"] or {}
            runs.append({"playing_ms": round(m["playing"]), "requested_ms": round(m["requested"]),
                         "answer_ms": round(m["fetched"] - m["requested"]),
                         # of which: the server until its first byte, the bytes, JSON.parse
                         "server_ms": round(net.get("first_byte", 0) - net.get("start", 0)),
                         "download_ms": round(net.get("end", 0) - net.get("first_byte", 0)),
                         "parse_ms": round(m["fetched"] - net.get("end", m["fetched"])),
                         "bytes": net.get("bytes"), "json_bytes": net.get("body"),
                         "built_ms": round(m["built"] - m["fetched"]),
                         "first_frame_ms": round(m["playing"] - m["built"]), "devices": state["devices"]})
        played = [r["playing_ms"] for r in runs]
        driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "timeTicks"})
        out = {"viewport": f"{width}x{height}", "loads": runs, "loaded_and_playing_ms": {"median": statistics.median(played),
                                                                                "max": max(played)},
               "load_ratio_to_target": round(statistics.median(played) / LOAD_TARGET_MS, 3),
               "frame_60x_trail_10min": frames(driver, play_s, "var t = document.getElementById('gw-r-trail');"
                                                               "t.value = '600'; t.dispatchEvent(new Event('change'));"),
               "frame_60x_whole_track": frames(driver, play_s, "var t = document.getElementById('gw-r-trail');"
                                                              "t.value = '-1'; t.dispatchEvent(new Event('change'));"),
               "frame_60x_following": frames(driver, play_s, "var t = document.getElementById('gw-r-trail');"
                                                            "t.value = '600'; t.dispatchEvent(new Event('change'));"
                                                            "window.gridwall.replay.follow("
                                                            "window.gridwall.replay.devices[200].doc.id);")}
        errors = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        out["console_errors"] = errors
        return out
    finally:
        driver.quit()


def serve(settings: Any) -> tuple[str, Any]:
    """The app on a free port, werkzeug in a thread of this process; the browser's token granted."""
    from helpers import grant
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.launcher import free_port

    grant(settings.resolved_database_url)  # the token browser_support.chrome carries (admin)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=700)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--every-s", type=float, default=10.0)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--api-runs", type=int, default=5)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--play-s", type=float, default=8.0)
    args = parser.parse_args()
    t0 = time.time()
    start = last_night()
    end = start + args.minutes * 60
    positions = simulated_positions(start, args.minutes * 60, vehicles=args.vehicles, every_s=args.every_s)
    out: dict[str, Any] = {"bench": "replay", "vehicles": args.vehicles, "minutes": args.minutes, "every_s": args.every_s,
                           "fixes": len(positions), "machine": machine(), "simulate_s": round(time.time() - t0, 1),
                           "targets": {"loaded_and_playing_ms": LOAD_TARGET_MS, "frame_60x_main_thread_ms": FRAME_TARGET_MS},
                           "results": {}}
    with tempfile.TemporaryDirectory(prefix="gw-bench-replay-") as tmp:
        redis = servers.start_redis("embedded", Path(tmp) / "redis")  # the app's rate limits and sessions
        try:
            for kind in args.dbs.split(","):
                pg = None
                if kind == "sqlite":
                    url = f"sqlite:///{tmp}/replay.db"
                else:
                    pg = servers.start_postgres()
                    url = pg.new_database()
                try:
                    settings = load_settings(path=None, environ={}, redis_url=redis.url, database_url=url,
                                             data_dir=Path(tmp) / f"data-{kind}")
                    db.upgrade(url)
                    engine = db.engine_for(url)
                    t1 = time.time()
                    write_history(engine, positions)
                    res: dict[str, Any] = {"write_s": round(time.time() - t1, 1)}
                    with engine.connect() as conn:
                        res["version"] = conn.execute(text("select sqlite_version()" if kind == "sqlite"
                                                           else "show server_version")).scalar()
                        if kind == "postgresql":
                            conn.execute(text("ANALYZE"))
                            conn.commit()
                    res["storage"] = storage(engine, kind, len(positions), settings.history_interval_s)
                    res["api"] = measure_api(settings, engine, start, end, args.api_runs)
                    if args.browser:
                        base, server = serve(settings)
                        try:
                            res["browser"] = measure_browser(base, start, end, args.loads, args.play_s)
                            if kind == "sqlite":  # the phone once: the same page at 390×844
                                res["browser_phone"] = measure_browser(base, start, end, 1, args.play_s, 390, 844)
                        finally:
                            server.shutdown()
                    engine.dispose()
                    out["results"][kind] = res
                finally:
                    if pg is not None:
                        pg.stop()
        finally:
            redis.stop()
    out["total_s"] = round(time.time() - t0, 1)
    out["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
