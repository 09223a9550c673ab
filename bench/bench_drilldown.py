"""The desk's drill-down from a number to its cases over a million-case history, on SQLite and
on PostgreSQL: the first page (50 rows) of ``dashboard.store.counted.counted_cases`` and its
total, for every drillable counter (dashboard/screens/desk.py COUNTED) × period (today, this
week, this month, last month) × object (the city, a department, a district, a street).

Target (issue 12): p95 ≤ 200 ms for any combination, first page. The history is the ranking
bench's (bench/bench_ranking.py: a year of simulated case states ending 2026-11-20 16:00
+08:00, written to case_stat/case_step as the pipeline writes them). Prints one JSON document.

Usage: python bench/bench_drilldown.py [--cases 1000000] [--dbs sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import servers  # noqa: E402 - the same real servers the tests start
from bench_ranking import NOW, generate, load_postgres, load_sqlite, templates  # noqa: E402

from dashboard.casework.periods import period_range  # noqa: E402
from dashboard.city.model import load_city  # noqa: E402
from dashboard.config import ASSETS_DIR  # noqa: E402
from dashboard.screens.desk import COUNTED  # noqa: E402
from dashboard.store import db  # noqa: E402
from dashboard.store.counted import counted_cases  # noqa: E402

TARGET_MS = 200.0


def combos(city: Any, seed: int) -> list[tuple[str, str, str | None, str | None]]:
    rng = random.Random(seed)
    departments = [d.code for d in city.departments if d.kind != "center"]
    districts = [a.code for a in city.districts]
    streets = [a.code for a in city.streets]
    objects = [(None, None)] + [("department", rng.choice(departments)) for _ in range(2)] + \
              [("district", rng.choice(districts)), ("street", rng.choice(streets))]
    return [(counter, period, by, code) for counter in COUNTED for period in ("day", "week", "month", "last_month")
            for by, code in objects]


def measure(engine: Any, cases: list[tuple[str, str, str | None, str | None]]) -> dict[str, Any]:
    times, worst = [], (0.0, "")
    for counter, period, by, code in cases:
        start, end = period_range("month", date(2026, 10, 1)) if period == "last_month" else period_range(period, NOW)
        t0 = time.perf_counter()
        total, rows = counted_cases(engine, COUNTED[counter], by, code, start, min(end, NOW), 0, 50)
        ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        if ms > worst[0]:
            worst = (ms, f"{counter} {period} {by or 'city'} total={total}")
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return {"queries": len(times), "median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
            "max_ms": round(times[-1], 1), "worst": worst[1], "target_p95_ms": TARGET_MS,
            "ratio_to_target": round(p95 / TARGET_MS, 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    args = parser.parse_args()
    t0 = time.time()
    city = load_city(ASSETS_DIR / "city")
    stats, steps = generate(args.cases, 1, templates(days=40, per_day=300),
                            [d.code for d in city.departments if d.kind != "center"], list(city.grid_info),
                            [f"C{i:04d}" for i in range(1, 201)])
    cases = combos(city, 2)
    out: dict[str, Any] = {
        "bench": "drilldown", "cases": len(stats), "combinations": len(cases),
        "history": "12 months ending 2026-11-20 16:00 +08:00 (bench_ranking's)",
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "generate_s": round(time.time() - t0, 1), "results": {},
    }
    with tempfile.TemporaryDirectory(prefix="gw-bench-drill-") as tmp:
        for kind in args.dbs.split(","):
            pg = None
            if kind == "sqlite":
                url = f"sqlite:///{tmp}/drill.db"
            else:
                pg = servers.start_postgres()
                url = pg.new_database()
            try:
                db.upgrade(url)
                (load_sqlite if kind == "sqlite" else load_postgres)(url, stats, steps)
                engine = db.engine_for(url)
                measure(engine, cases[:10])  # warm the caches once, as a desk in use has them
                out["results"][kind] = measure(engine, cases)
                engine.dispose()
            finally:
                if pg is not None:
                    pg.stop()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
