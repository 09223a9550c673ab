"""A one-month ranking over a million historical cases, on SQLite and on PostgreSQL.

Target (issue 4): at most 300 ms per ranking. The history is a year of cases ending at NOW:
real case states from the demo city's simulator (every lifecycle path the simulator takes:
回退, 延期, 挂账, 返工, 作废, ...) replicated with time shifts, departments and grids drawn at
random, written to the case_stat/case_step tables the pipeline writes (schema by Alembic), in
report order as a live system writes them.

Measured per database and per object (department, street, collector): the whole
``dashboard.store.evaluation.evaluate`` call — the SQL GROUP BY queries, Counters.from_row, scores and
the ranking — for the month before NOW (the last full month: every case of it settled) and the
current month so far. First run reported separately (cold cache), then the median and max of
``--repeat`` runs. Prints one JSON document.

The collectors' ranking is also measured as it was before migration 0010 (its per-role
covering indexes) in the same run, on the same data: ``baseline_collectors`` is the code as it
was (four GROUP BYs over the period's rows, a ``Counters`` per row), timed after a downgrade
to 0009 drops the indexes, and its counters must equal the new ones. ``--no-baseline`` skips it.

PostgreSQL reads an index alone only where the visibility map says a page's rows are visible
to all: the bench runs VACUUM ANALYZE after loading (a live system's autovacuum does the same
after enough writes), and first times the collectors' ranking before that VACUUM
(``collector_last_month_unvacuumed``: every index entry also reads its row).

Usage: python bench/bench_ranking.py [--cases 1000000] [--repeat 5] [--dbs sqlite,postgresql] [--no-baseline]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import servers  # noqa: E402 - the same real servers the tests start
from sqlalchemy import text  # noqa: E402

from dashboard.casedata import city_rules  # noqa: E402
from dashboard.casework import lifecycle  # noqa: E402
from dashboard.casework.counters import Counters  # noqa: E402
from dashboard.casework.gridcode import region_code  # noqa: E402
from dashboard.casework.periods import period_range  # noqa: E402
from dashboard.casework.projection import STAT_COLUMNS, STEP_COLUMNS, case_columns, step_rows  # noqa: E402
from dashboard.casework.ranking import rank  # noqa: E402
from dashboard.city.model import load_city  # noqa: E402
from dashboard.config import ASSETS_DIR  # noqa: E402
from dashboard.records import CaseEvent  # noqa: E402
from dashboard.store import db  # noqa: E402
from dashboard.store.counters_sql import CASE_WINDOW, STEP_WINDOW, _count, _filing_columns, _select, step_columns  # noqa: E402
from dashboard.store.evaluation import Evaluation, evaluate  # noqa: E402
from feeds.simulator.world import SimConfig, World  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=ZONE).timestamp()
YEAR_S = 365 * 86400
TIME_COLUMNS = ("reported_at", "filed_at", "voided_at", "not_filed_at", "first_dispatched_at", "feedback_at",
                "closed_at", "deadline", "close_deadline", "suspended_since", "last_suspended_at",
                "stage_deadline", "span_start", "span_end", "accept_at", "accept_settles", "verify_at",
                "verify_settles", "dispatch_at", "dispatch_settles", "check_at", "check_settles",
                "disposal_ok_at", "disposal_due_at", "close_ok_at", "close_due_at")


def templates(days: float, per_day: float) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Case states from the simulator's lifecycle, as (case_stat row, case_step rows)."""
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=3, collectors=40, vehicles=0, backfill_days=days,
                                                            cases_per_day=per_day), NOW)
    rules, _policy = city_rules({})
    states: dict[str, Any] = {}
    for m in world.pop_case_events(NOW, 10**8):
        event = CaseEvent(**m.payload)
        try:
            states[event.case_id] = lifecycle.apply(states.get(event.case_id), event, rules)
        except Exception:  # a refused event is the pipeline's business, not the bench's
            continue
    return [(case_columns(s), step_rows(s)) for s in states.values()]


def generate(n: int, seed: int, pool: list[tuple[dict[str, Any], list[dict[str, Any]]]], departments: list[str],
             grids: list[str], collectors: list[str]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    first = NOW - YEAR_S
    stats: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    time_idx = [STAT_COLUMNS.index(c) for c in TIME_COLUMNS]
    step_time = [STEP_COLUMNS.index(c) for c in ("at", "due", "settles_at")]
    key_idx = {c: STAT_COLUMNS.index(c) for c in ("case_id", "department", "grid_code", "district", "street",
                                                  "community", "reporter")}
    actor_idx = [STAT_COLUMNS.index(c) for c in ("verify_actor", "check_actor")]
    step_key = {c: STEP_COLUMNS.index(c) for c in ("case_id", "department", "grid_code", "district", "street",
                                                   "community", "reporter", "actor")}
    # A grid has its own collector, who reports, verifies and checks its cases; one time in ten
    # another collector covers (a shift, leave).
    owner = {g: collectors[k % len(collectors)] for k, g in enumerate(grids)}

    def who(grid: str) -> str:
        return owner[grid] if rng.random() < 0.9 else rng.choice(collectors)

    for i in range(n):
        row, srows = pool[rng.randrange(len(pool))]
        shift = first + rng.random() * YEAR_S - row["reported_at"]
        if row["span_end"] + shift > NOW + 30 * 86400:
            shift = NOW - row["span_end"]  # keep the case's future within a month
        values = [row[c] for c in STAT_COLUMNS]
        for j in time_idx:
            if values[j] is not None:
                values[j] += shift
        grid = rng.choice(grids)
        dept = rng.choice(departments) if row["department"] is not None else None
        reporter = who(grid) if row["reporter"] is not None else None
        keys = {"case_id": f"B{i:08d}", "department": dept, "grid_code": grid,
                "district": region_code(grid, "district"), "street": region_code(grid, "street"),
                "community": region_code(grid, "community"), "reporter": reporter}
        for c, j in key_idx.items():
            values[j] = keys[c]
        for j in actor_idx:
            if values[j] is not None:
                values[j] = who(grid)
        stats.append(tuple(values))
        for s in srows:
            sv = [s[c] for c in STEP_COLUMNS]
            for j in step_time:
                if sv[j] is not None:
                    sv[j] += shift
            for c, j in step_key.items():
                if c == "actor":
                    if sv[j] is not None:
                        sv[j] = who(grid)
                else:
                    sv[j] = keys[c]
            steps.append(tuple(sv))
    # A real history is written as it happens: rows land roughly in report order (SQLite keeps
    # an upserted row in place; PostgreSQL appends new versions, later in time still).
    reported = STAT_COLUMNS.index("reported_at")
    stats.sort(key=lambda row: row[reported])
    at = STEP_COLUMNS.index("at")
    steps.sort(key=lambda row: row[at])
    return stats, steps


def load_sqlite(url: str, stats: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]) -> None:
    import sqlite3

    path = url.split("///", 1)[1]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    marks = ", ".join("?" * len(STAT_COLUMNS))
    conn.executemany(f"INSERT INTO case_stat ({', '.join(STAT_COLUMNS)}) VALUES ({marks})", stats)
    marks = ", ".join("?" * len(STEP_COLUMNS))
    conn.executemany(f"INSERT INTO case_step ({', '.join(STEP_COLUMNS)}) VALUES ({marks})", steps)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_postgres(url: str, stats: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        _copy(cur, "case_stat", STAT_COLUMNS, stats)
        _copy(cur, "case_step", STEP_COLUMNS, steps)
        conn.commit()
        conn.autocommit = True
        for table in ("case_stat", "case_step"):
            # VACUUM when the bench says so (run_all), not when autovacuum wakes up
            cur.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            cur.execute(f"ANALYZE {table}")


def maintain(url: str, statement: str) -> None:
    """One maintenance statement outside a transaction (VACUUM cannot run in one)."""
    engine = db.engine_for(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(statement))


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(db.alembic_config(url), revision)


# --- The collectors' ranking as it was before migration 0010, for the side-by-side figure ----

def _baseline_sql() -> list[tuple[str, str]]:
    """collector_sql as it was: every query bounded by the case window, the ranges inside."""
    reported = "reported_at >= :start AND reported_at < :cutoff"
    intake = {"reported": _count(reported), "supervisor_reports": _count(reported),
              "valid_reports": _count(f"{reported} AND filed_at < :cutoff")}
    queries = [(_select("reporter", intake, "case_stat", f"{CASE_WINDOW} AND source = 'supervisor' AND {reported}"),
                "reporter")]
    for stage in ("verify", "check"):
        actor = f"{stage}_actor"
        queries.append((_select(actor, step_columns((stage,), inline=True), "case_stat", CASE_WINDOW), actor))
    queries.append((_select("actor", step_columns(("check",), inline=False), "case_step",
                            f"stage = 'check' AND {STEP_WINDOW}"), "actor"))
    filed = "filed_at >= :start AND filed_at < :cutoff"
    queries.append((_select("grid_code", _filing_columns(), "case_stat", f"{CASE_WINDOW} AND {filed}"), "grid_code"))
    return queries


def baseline_collectors(engine: Any, period: tuple[float, float], now: float) -> Evaluation:
    """evaluation.evaluate(engine, "collector", period, now) as it was before migration 0010."""
    cutoff = min(period[1], now)
    params = {"start": period[0], "cutoff": cutoff}
    out: dict[str, Counters] = {}
    with engine.connect() as conn:
        window = "span_end >= :start AND span_start < :cutoff AND grid_code IS NOT NULL"
        found: dict[str, list[str]] = {}
        for grid, actor in conn.execute(text(
                f"SELECT DISTINCT grid_code, verify_actor FROM case_stat WHERE {window} AND verify_actor IS NOT NULL "
                f"UNION SELECT DISTINCT grid_code, check_actor FROM case_stat WHERE {window} AND check_actor IS NOT NULL"),
                params):
            found.setdefault(grid, []).append(actor)
        watchers = {grid: sorted(set(actors)) for grid, actors in found.items()}
        for sql, key in _baseline_sql():
            for row in conn.execute(text(sql), params).mappings():
                data = dict(row)
                code = str(data.pop(key))
                counters = Counters.from_row(data)
                for collector in watchers.get(code, ()) if key == "grid_code" else (code,):
                    out[collector] = out[collector] + counters if collector in out else counters
    return Evaluation("collector", period, cutoff, rank(out, "collector", "cjt292"))


def measure(engine: Any, by: str, period: tuple[float, float], repeat: int, run: Any = evaluate) -> dict[str, Any]:
    times = []
    rows = 0
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        result = run(engine, by, period, NOW) if run is evaluate else run(engine, period, NOW)
        times.append((time.perf_counter() - t0) * 1000)
        rows = len(result.rows)
    warm = times[1:]
    return {"objects": rows, "first_ms": round(times[0], 1), "median_ms": round(statistics.median(warm), 1),
            "max_ms": round(max(warm), 1), "target_ms": 300, "ratio_to_target": round(statistics.median(warm) / 300, 3)}


def run_all(kind: str, url: str, res: dict[str, Any], last_month: tuple[float, float],
            this_month: tuple[float, float], args: argparse.Namespace) -> None:
    engine = db.engine_for(url)
    with engine.connect() as conn:
        res["version"] = conn.execute(text("select sqlite_version()" if kind == "sqlite" else "show server_version")).scalar()
    if kind != "sqlite":  # no visibility map yet: an index-only scan still reads each row
        res["collector_last_month_unvacuumed"] = measure(engine, "collector", last_month, args.repeat)
        maintain(url, "VACUUM ANALYZE case_stat")
        maintain(url, "VACUUM ANALYZE case_step")
    for by in ("department", "street", "collector"):
        res[f"{by}_last_month"] = measure(engine, by, last_month, args.repeat)
    res["department_this_month"] = measure(engine, "department", this_month, args.repeat)
    if not args.no_baseline:
        new = {r.code: r.counters for r in evaluate(engine, "collector", last_month, NOW).rows}
        downgrade(url, "0009")  # the collectors' indexes dropped, as before
        maintain(url, "ANALYZE")
        res["collector_last_month_baseline"] = measure(engine, "collector", last_month, args.repeat, baseline_collectors)
        old = {r.code: r.counters for r in baseline_collectors(engine, last_month, NOW).rows}
        res["collector_last_month_baseline"]["same_counters"] = old == new
        if old != new:
            raise SystemExit(f"{kind}: the collectors' counters differ from the baseline's")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--no-baseline", action="store_true", help="skip the collectors' ranking as before 0010")
    args = parser.parse_args()
    t0 = time.time()
    pool = templates(days=40, per_day=300)
    city = load_city(ASSETS_DIR / "city")
    departments = [d.code for d in city.departments if d.kind != "center"]
    grids = list(city.grid_info)
    collectors = [f"C{i:04d}" for i in range(1, 201)]
    stats, steps = generate(args.cases, 1, pool, departments, grids, collectors)
    out: dict[str, Any] = {
        "bench": "ranking", "cases": len(stats), "steps": len(steps), "templates": len(pool),
        "history": "12 months ending 2026-11-20 16:00 +08:00",
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "generate_s": round(time.time() - t0, 1), "results": {},
    }
    last_month = period_range("month", date(2026, 10, 1))
    this_month = period_range("month", date(2026, 11, 1))
    servers_started: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="gw-bench-rank-") as tmp:
        try:
            loaded: dict[str, tuple[str, dict[str, Any]]] = {}
            for kind in args.dbs.split(","):
                if kind == "sqlite":
                    url = f"sqlite:///{tmp}/rank.db"
                else:
                    servers_started.append(servers.start_postgres())
                    url = servers_started[-1].new_database()
                db.upgrade(url)
                t1 = time.time()
                (load_sqlite if kind == "sqlite" else load_postgres)(url, stats, steps)
                loaded[kind] = url, {"load_s": round(time.time() - t1, 1)}
            # Timed without the generated rows: a list of a million rows in this process made
            # each full garbage collection cost ~100 ms (a service holds no such list).
            del stats, steps, pool
            gc.collect()
            for kind, (url, res) in loaded.items():
                out["results"][kind] = res
                run_all(kind, url, res, last_month, this_month, args)
        finally:
            for pg in servers_started:
                pg.stop()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
