"""A monthly evaluation report over a million historical cases, as XLSX and as PDF.

Target (issue 14): at most 10 s each, on this machine. The history is bench/bench_ranking.py's
(imported, not copied): a year of the demo city's case states replicated with time shifts, written
to the case_stat/case_step tables, ending 2026-11-20 16:00 +08:00. The report is October 2026's
(the last full month), as `gridwall report --period month --at 2026-10` makes it: three rankings
and their previous month, the city's figures, twelve months of trend (12 + 1 city evaluations),
the month's overdue list, then the file. Timed per run: the model (``reports.model.build``: every
query) and the file (``reports.files.render``), first run apart (it imports WeasyPrint and
matplotlib and warms the database's cache), then the median and max of ``--repeat``.

The bench writes no ``case`` rows (nor does bench_ranking): the overdue list's titles, read from
that table, are empty, so its cells are a little shorter than a real city's.

Usage: python bench/bench_report.py [--cases 1000000] [--repeat 3] [--dbs sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_ranking  # noqa: E402 - the million-case history (it puts tests/ and the root on the path)
import servers  # noqa: E402

from dashboard.city.model import load_city  # noqa: E402
from dashboard.config import ASSETS_DIR, load_settings  # noqa: E402
from dashboard.reports.files import render  # noqa: E402
from dashboard.reports.model import build  # noqa: E402
from dashboard.store import db  # noqa: E402

TARGET_S = 10.0
MONTH = date(2026, 10, 1)


def _pages(pdf: bytes) -> int | None:
    """The page count, by poppler's pdfinfo (the PDF's objects are compressed)."""
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=False).stdout.decode()
    found = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(found.group(1)) if found else None


def measure(engine: Any, settings: Any, fmt: str, repeat: int) -> dict[str, Any]:
    runs = []
    size = pages = 0
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        report = build(engine, settings, "month", MONTH, bench_ranking.NOW, "zh")
        t1 = time.perf_counter()
        body = render(report, fmt, settings)
        t2 = time.perf_counter()
        runs.append((t1 - t0, t2 - t1, t2 - t0))
        size = len(body)
        pages = _pages(body) if fmt == "pdf" else 0
        listed = report.overdue["total"]
    warm = runs[1:]
    total = statistics.median(r[2] for r in warm)
    return {"first_s": round(runs[0][2], 2), "model_median_s": round(statistics.median(r[0] for r in warm), 2),
            "file_median_s": round(statistics.median(r[1] for r in warm), 2), "median_s": round(total, 2),
            "max_s": round(max(r[2] for r in warm), 2), "target_s": TARGET_S,
            "ratio_to_target": round(total / TARGET_S, 3), "bytes": size, "overdue_cases": listed,
            **({"pages": pages} if fmt == "pdf" else {})}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    args = parser.parse_args()
    t0 = time.time()
    pool = bench_ranking.templates(days=40, per_day=300)
    city = load_city(ASSETS_DIR / "city")
    departments = [d.code for d in city.departments if d.kind != "center"]
    collectors = [f"C{i:04d}" for i in range(1, 201)]
    stats, steps = bench_ranking.generate(args.cases, 1, pool, departments, list(city.grid_info), collectors)
    out: dict[str, Any] = {
        "bench": "report", "cases": len(stats), "steps": len(steps), "report": "month 2026-10, zh",
        "history": "12 months ending 2026-11-20 16:00 +08:00 (bench_ranking.py)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_before": [round(x, 2) for x in os.getloadavg()], "generate_s": round(time.time() - t0, 1),
        "results": {},
    }
    started: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="gw-bench-report-") as tmp:
        try:
            loaded = {}
            for kind in args.dbs.split(","):
                if kind == "sqlite":
                    url = f"sqlite:///{tmp}/report.db"
                else:
                    started.append(servers.start_postgres())
                    url = started[-1].new_database()
                db.upgrade(url)
                t1 = time.time()
                (bench_ranking.load_sqlite if kind == "sqlite" else bench_ranking.load_postgres)(url, stats, steps)
                if kind != "sqlite":  # as bench_ranking does: what autovacuum does in a live system
                    bench_ranking.maintain(url, "VACUUM ANALYZE case_stat")
                    bench_ranking.maintain(url, "VACUUM ANALYZE case_step")
                loaded[kind] = (url, round(time.time() - t1, 1))
            del stats, steps, pool
            gc.collect()
            for kind, (url, load_s) in loaded.items():
                engine = db.engine_for(url)
                settings = load_settings(path=None, environ={}, database_url=url, data_dir=Path(tmp) / "data")
                res: dict[str, Any] = {"load_s": load_s}
                for fmt in ("xlsx", "pdf"):
                    res[fmt] = measure(engine, settings, fmt, args.repeat)
                out["results"][kind] = res
                engine.dispose()
        finally:
            for pg in started:
                pg.stop()
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
