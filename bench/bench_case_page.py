"""The desk's case page (timeline included) for random cases over a large history, on SQLite and
on PostgreSQL.

Target (issue 12): at most 50 ms per page. One page is the whole
``dashboard.store.case_page.case_page`` call: the case row, its events, the timeline (every event
folded through the lifecycle, each step measured on the working calendar, the light), the media,
and the grid's cases of the last 90 days.

The history: ``--cases`` cases (default a million) over the year ending at NOW, written to
``case_stat``/``case_step`` by bench/bench_ranking.py's generator (real case states of the demo
city's simulator, replicated with time shifts, grids drawn at random), which the grid history
reads. That generator writes no events, so ``--samples`` cases get real ones here: a simulated
case's applied events (every lifecycle path the simulator takes: 回退, 延期, 挂账, 返工, 作废, ...)
moved by whole weeks into the year and to a random grid, folded again through the lifecycle,
and written as the pipeline writes them (``case_event``, ``case``, ``case_stat``, ``case_step``).
The pages measured are those cases'. ``case_event`` and ``case`` therefore hold the sample
cases only; their reads are by index (``case_event.case_id``) and primary key, whose depth grows
with the logarithm of the table.

The grid history filters ``case_stat`` by grid and report time. The schema has no index for
that, so it is measured twice: as the schema is, and with the index the page needs
(``case_stat (grid_code, reported_at)``), created here.

Measured per database: the first page (cold), then the median, p95 and max of ``--pages``
random pages (``--unindexed-pages`` without the grid index, where each is a scan), and apart:
the grid history alone, the timeline alone (pure, from events in memory). Prints one JSON
document.

Usage: python bench/bench_case_page.py [--cases 1000000] [--samples 3000] [--pages 300]
                                       [--unindexed-pages 30] [--dbs sqlite,postgresql]
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
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import bench_ranking  # noqa: E402 - its history generator, NOW and loaders
import servers  # noqa: E402 - the same real servers the tests start
from sqlalchemy import insert, text  # noqa: E402

from dashboard.casedata import city_rules  # noqa: E402
from dashboard.casework import lifecycle  # noqa: E402
from dashboard.casework.casestate import CaseState  # noqa: E402
from dashboard.casework.errors import CaseworkError  # noqa: E402
from dashboard.casework.projection import STAT_COLUMNS, STEP_COLUMNS, case_columns, step_rows  # noqa: E402
from dashboard.casework.timeline import build_timeline  # noqa: E402
from dashboard.city.model import load_city  # noqa: E402
from dashboard.config import ASSETS_DIR  # noqa: E402
from dashboard.records import CaseEvent  # noqa: E402
from dashboard.store import db  # noqa: E402
from dashboard.store.case_page import case_events, case_page, grid_history  # noqa: E402
from dashboard.store.history_writer import case_row, event_row  # noqa: E402
from dashboard.store.hotdoc import EXTRA_FIELDS  # noqa: E402
from dashboard.store.models import CaseEventRow, CaseRow  # noqa: E402
from feeds.simulator.world import SimConfig, World  # noqa: E402

NOW = bench_ranking.NOW  # 2026-11-20 16:00 +08:00
WEEK_S = 7 * 86400
TARGET_MS = 50.0
GRID_INDEX = "CREATE INDEX ix_case_stat_grid_reported ON case_stat (grid_code, reported_at)"

Template = tuple[dict[str, Any], list[dict[str, Any]]]


def simulate(days: float, per_day: float, rules: Any) -> tuple[list[Template], list[list[CaseEvent]]]:
    """The simulator's cases: their (case_stat row, case_step rows), the templates of
    bench_ranking.generate, and each one's applied events (refused ones are not stored either)."""
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=3, collectors=40, vehicles=0, backfill_days=days,
                                                            cases_per_day=per_day), NOW)
    states: dict[str, CaseState] = {}
    events: dict[str, list[CaseEvent]] = defaultdict(list)
    for m in world.pop_case_events(NOW, 10**8):
        event = CaseEvent(**m.payload)
        try:
            states[event.case_id] = lifecycle.apply(states.get(event.case_id), event, rules)
        except CaseworkError:
            continue
        events[event.case_id].append(event)
    return [(case_columns(s), step_rows(s)) for s in states.values()], [events[cid] for cid in states]


def _shifted(event: CaseEvent, case_id: str, n: int, shift: float, grid: str) -> CaseEvent:
    case = dict(event.case)
    if isinstance(case.get("deadline"), (int, float)):  # a new deadline (延期) or one the source fixed
        case["deadline"] = case["deadline"] + shift
    if "grid_code" in case:
        case["grid_code"] = grid
    return CaseEvent(f"{case_id}-{n:03d}", case_id, event.action, round(event.ts + shift, 3), event.actor, case,
                     event.source)


def samples(k: int, seed: int, lives: list[list[CaseEvent]], grids: list[str], rules: Any) -> list[list[CaseEvent]]:
    """``k`` cases with real events: a simulated life, moved by whole weeks (weekday and time of
    day kept) to a report time in the year before NOW, in a random grid; a life the lifecycle
    refuses after the move (a holiday makes an extension's new deadline no later) is redrawn."""
    rng = random.Random(seed)
    out: list[list[CaseEvent]] = []
    while len(out) < k:
        life = lives[rng.randrange(len(lives))]
        target = NOW - rng.random() * bench_ranking.YEAR_S
        shift = round((target - life[0].ts) / WEEK_S) * WEEK_S
        if life[-1].ts + shift > NOW:
            shift -= WEEK_S * (1 + int((life[-1].ts + shift - NOW) // WEEK_S))
        case_id = f"S{len(out):07d}"
        grid = rng.choice(grids)
        moved = [_shifted(e, case_id, n, shift, grid) for n, e in enumerate(life)]
        try:
            lifecycle.replay(moved, rules)
        except CaseworkError:
            continue
        out.append(moved)
    return out


def rows_of(lives: list[list[CaseEvent]], rules: Any) -> dict[str, list[Any]]:
    """The rows the pipeline writes for these cases, as dicts (case_event, case) and as tuples
    in bench_ranking's column order (case_stat, case_step)."""
    out: dict[str, list[Any]] = {"events": [], "cases": [], "stats": [], "steps": []}
    for life in lives:
        state = lifecycle.replay(life, rules)
        extra: dict[str, Any] = {}
        for e in life:
            extra.update({k: e.case[k] for k in EXTRA_FIELDS if e.case.get(k) is not None})
        out["events"] += [event_row(e) for e in life]
        out["cases"].append(case_row(state, extra, life[-1].event_id))
        stat = case_columns(state)
        out["stats"].append(tuple(stat[c] for c in STAT_COLUMNS))
        out["steps"] += [tuple(s[c] for c in STEP_COLUMNS) for s in step_rows(state)]
    return out


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _summary(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    median = statistics.median(ordered)
    return {"n": len(times), "median_ms": round(median, 2), "p95_ms": round(p95, 2), "max_ms": round(ordered[-1], 2),
            "target_ms": TARGET_MS, "ratio_to_target": round(median / TARGET_MS, 3)}


def measure_pages(engine: Any, ids: list[str], rules: Any, policy: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    first = case_page(engine, ids[0], rules, policy, NOW)
    first_ms = _ms(t0)
    assert first is not None and first.complete and first.replay_matches, ids[0]
    times: list[float] = []
    entries = history = 0
    for cid in ids[1:]:
        t0 = time.perf_counter()
        page = case_page(engine, cid, rules, policy, NOW)
        times.append(_ms(t0))
        assert page is not None and page.replay_matches, cid
        entries += len(page.entries)
        history += len(page.history)
    n = max(1, len(ids) - 1)
    return {"first_ms": round(first_ms, 2), **_summary(times), "mean_events": round(entries / n, 1),
            "mean_history_rows": round(history / n, 1)}


def measure_history(engine: Any, grids: list[str]) -> dict[str, Any]:
    times = []
    for grid in grids:
        t0 = time.perf_counter()
        grid_history(engine, grid, NOW)
        times.append(_ms(t0))
    return _summary(times)


def measure_timeline(lives: list[list[CaseEvent]], rules: Any, policy: Any) -> dict[str, Any]:
    times = []
    for life in lives:
        t0 = time.perf_counter()
        build_timeline(life, rules, policy, NOW)
        times.append(_ms(t0))
    return {**_summary(times), "mean_events": round(statistics.mean(len(life) for life in lives), 1)}


def write_samples(engine: Any, rows: dict[str, list[Any]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows["events"]), 5000):
            conn.execute(insert(CaseEventRow.__table__), rows["events"][i:i + 5000])
        for i in range(0, len(rows["cases"]), 2000):
            conn.execute(insert(CaseRow.__table__), rows["cases"][i:i + 2000])


def analyse(engine: Any, kind: str) -> None:
    """Fresh planner statistics after a bulk load (and a new index), as bench_ranking takes them."""
    if kind == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # VACUUM needs no transaction
        for table in ("case_stat", "case_event", "case"):
            conn.execute(text(f'VACUUM ANALYZE "{table}"'))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=300)
    # Without the grid index each page scans case_stat: a few dozen show it, and keep the run short.
    parser.add_argument("--unindexed-pages", type=int, default=30)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    args = parser.parse_args()
    t0 = time.time()
    rules, policy = city_rules({})
    pool, lives = simulate(days=40, per_day=300, rules=rules)
    city = load_city(ASSETS_DIR / "city")
    departments = [d.code for d in city.departments if d.kind != "center"]
    grids = list(city.grid_info)
    collectors = [f"C{i:04d}" for i in range(1, 201)]
    stats, steps = bench_ranking.generate(args.cases, 1, pool, departments, grids, collectors)
    sample_lives = samples(args.samples, 2, lives, grids, rules)
    rows = rows_of(sample_lives, rules)
    stats += rows["stats"]
    steps += rows["steps"]
    rng = random.Random(4)
    page_ids = [life[0].case_id for life in rng.sample(sample_lives, min(args.pages + 1, len(sample_lives)))]
    history_grids = [rng.choice(grids) for _ in range(args.pages)]
    actions: defaultdict[str, int] = defaultdict(int)
    for life in sample_lives:
        for e in life:
            actions[e.action] += 1
    out: dict[str, Any] = {
        "bench": "case_page", "cases": len(stats), "steps": len(steps), "sample_cases": len(sample_lives),
        "sample_events": len(rows["events"]), "sample_actions": dict(sorted(actions.items())),
        "history": "12 months ending 2026-11-20 16:00 +08:00; case_event and case hold the sample cases only",
        # The load average says whether something else shared the machine during the run.
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_start": [round(x, 2) for x in os.getloadavg()]},
        "generate_s": round(time.time() - t0, 1),
        "timeline_only": measure_timeline(sample_lives[:args.pages], rules, policy),
        "results": {},
    }
    with tempfile.TemporaryDirectory(prefix="gw-bench-page-") as tmp:
        for kind in args.dbs.split(","):
            pg = None
            if kind == "sqlite":
                url = f"sqlite:///{tmp}/page.db"
            else:
                pg = servers.start_postgres()
                url = pg.new_database()
            try:
                db.upgrade(url)
                t1 = time.time()
                (bench_ranking.load_sqlite if kind == "sqlite" else bench_ranking.load_postgres)(url, stats, steps)
                engine = db.engine_for(url)
                write_samples(engine, rows)
                analyse(engine, kind)
                res: dict[str, Any] = {"load_s": round(time.time() - t1, 1)}
                with engine.connect() as conn:
                    res["version"] = conn.execute(text("select sqlite_version()" if kind == "sqlite" else "show server_version")).scalar()
                assert len(case_events(engine, page_ids[0])) > 0
                slow = args.unindexed_pages
                res["schema_as_is"] = {"page": measure_pages(engine, page_ids[:slow + 1], rules, policy),
                                       "grid_history": measure_history(engine, history_grids[:slow])}
                with engine.begin() as conn:
                    conn.execute(text(GRID_INDEX))
                analyse(engine, kind)
                res["with_grid_index"] = {"index": GRID_INDEX,
                                          "page": measure_pages(engine, page_ids, rules, policy),
                                          "grid_history": measure_history(engine, history_grids)}
                engine.dispose()
                out["results"][kind] = res
            finally:
                if pg is not None:
                    pg.stop()
    out["total_s"] = round(time.time() - t0, 1)
    out["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
