"""Rankings from SQL: the case_stat/case_step projection written by the case step gives the
same counters, scores and positions as folding the case states, on SQLite and PostgreSQL;
`gridwall rank` prints them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from dashboard import cli
from dashboard.casework import evaluation
from dashboard.casework.counters import Counters
from dashboard.casework.periods import period_range
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.store import db
from dashboard.store.casedoc import from_doc
from dashboard.store.counters_sql import collector_sql
from dashboard.store.evaluation import (
    GRID_ACTORS_SQL,
    city_objects,
    derived_grid_collectors,
    evaluate,
    read_grid_collectors,
)
from dashboard.store.history_writer import HistoryWriter, event_row, upsert
from dashboard.store.models import CaseEventRow, CaseRow, CaseStatRow, CaseStepRow
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 9, 15, tzinfo=ZONE).timestamp()  # a Friday afternoon
NOW = START


@pytest.fixture
def history(stack, tmp_path):
    """Twelve days of the demo city's cases, applied through the case step into SQL."""
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=5, collectors=24, vehicles=0, backfill_days=12,
                                                            cases_per_day=90), START)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(NOW, 10**6)]
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    for i in range(0, len(events), 400):
        outcome = book(events[i:i + 400])
        assert not outcome.refused, outcome.refused[:3]
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
    with engine.connect() as conn:
        states = [from_doc(doc["state"]) for (doc,) in conn.execute(select(CaseRow.doc))]
    yield settings, engine, states
    engine.dispose()


def _nonzero(rows: dict[str, Counters]) -> dict[str, Counters]:
    return {k: v for k, v in rows.items() if v != Counters()}


def test_projection_rows_follow_the_cases(history) -> None:
    _settings, engine, states = history
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(CaseStatRow)) == len(states) > 500
        steps = conn.scalar(select(func.count()).select_from(CaseStepRow))
        accepted = conn.scalar(select(func.count()).select_from(CaseStatRow).where(CaseStatRow.accept_at.is_not(None)))
    assert accepted > 0.9 * len(states)  # the 受理 of a case is on its row ...
    assert 0 < steps < len(states) / 4  # ... and only re-dispatches and re-checks are step rows


@pytest.mark.parametrize("by", ["department", "street", "district"])
def test_sql_ranking_equals_the_fold(history, by) -> None:
    _settings, engine, states = history
    period = period_range("month", date(2026, 10, 1))
    grids = list(load_city(ASSETS_DIR / "city").grid_info)
    result = evaluate(engine, by, period, NOW, "cjt292", grid_codes=grids)
    kind = "department" if by == "department" else "region"
    folded = evaluation.evaluate(states, kind, period, NOW, "cjt292", level=by, grid_codes=grids)
    assert [(r.code, r.position, r.score, r.grade) for r in result.rows if r.counters != Counters()] == [
        (r.code, r.position, r.score, r.grade) for r in folded if r.counters != Counters()
    ]
    assert {r.code: r.counters for r in result.rows} == {r.code: r.counters for r in folded}
    assert any(r.position is not None for r in result.rows)


def test_collector_ranking_equals_the_fold(history) -> None:
    _settings, engine, states = history
    period = period_range("week", date(2026, 10, 8))
    with engine.connect() as conn:
        watchers = derived_grid_collectors(conn, period, NOW)
    assert watchers
    result = evaluate(engine, "collector", period, NOW)
    folded = evaluation.by_collector(states, period, NOW, watchers)
    assert _nonzero({r.code: r.counters for r in result.rows}) == _nonzero(folded)


@pytest.mark.parametrize("kind", ["week", "month"])
def test_collector_ranking_with_an_assignment_equals_the_fold(history, kind) -> None:
    """With a grid_collectors file: each grid's 立案 goes to every collector of the grid, also to
    one with no case of their own, and a grid nobody answers for counts for nobody."""
    _settings, engine, states = history
    period = period_range(kind, date(2026, 10, 1) if kind == "month" else date(2026, 10, 8))
    grids = sorted({s.grid_code for s in states if s.grid_code is not None})
    assert len(grids) > 3
    watchers = {grid: ["A-desk", f"A-{i % 3}"] + (["A-extra"] if i % 2 else []) for i, grid in enumerate(grids[1:])}
    result = evaluate(engine, "collector", period, NOW, grid_collectors=watchers)
    folded = evaluation.by_collector(states, period, NOW, watchers)
    assert _nonzero({r.code: r.counters for r in result.rows}) == _nonzero(folded)
    assert {r.code for r in result.rows} >= {"A-desk", "A-0", "A-1", "A-2", "A-extra"}


# Each collector query and the index that holds every column it reads (migration 0010).
COLLECTOR_INDEXES = {"reporter": "ix_case_stat_intake", "verify_actor": "ix_case_stat_verify",
                     "check_actor": "ix_case_stat_check", "grid_code": "ix_case_stat_filed"}


def test_collector_queries_read_their_index_alone(history) -> None:
    """The collectors' ranking reads each role's index and never the table (docs/performance.md):
    SQLite's plan says COVERING INDEX; PostgreSQL plans an Index Only Scan, which it can only do
    when the index holds every column the query reads. PostgreSQL prefers one where VACUUM (in a
    live system autovacuum) has marked the pages all-visible, and a table this small would be
    read whole: the test vacuums and switches the whole-table reads off."""
    _settings, engine, _states = history
    period = period_range("month", date(2026, 10, 1))
    params = {"start": period[0], "cutoff": NOW}
    queries = [(sql, COLLECTOR_INDEXES[key]) for sql, key in collector_sql() if key in COLLECTOR_INDEXES]
    queries.append((GRID_ACTORS_SQL, "ix_case_stat_span_actors"))
    assert len(queries) == 5
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE case_stat"))
    with engine.connect() as conn:
        if postgres:
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                conn.execute(text(f"SET LOCAL {setting} = off"))
        for sql, index in queries:
            plan = [str(row[0] if postgres else row[3]) for row in
                    conn.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql), params)]
            reads = [line.strip(" ->") for line in plan if "case_stat" in line]
            want = f"Index Only Scan using {index} on case_stat" if postgres else f"SEARCH case_stat USING COVERING INDEX {index} "
            assert reads and all(line.startswith(want) for line in reads), plan
        conn.rollback()


def _rank(monkeypatch, capsys, settings, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("GRIDWALL_REDIS_URL", settings.resolved_redis_url)
    monkeypatch.setenv("GRIDWALL_MQTT_URL", settings.mqtt_url)
    code = cli.main(["rank", *args, "--now", "2026-10-09T15:00"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rank_command_prints_every_counter_rate_score_and_grade(history, monkeypatch, capsys) -> None:
    settings, engine, _states = history
    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "department", "--at", "2026-10-05", "--format", "json")
    assert code == 0
    data = json.loads(out)
    # The city's departments are the rows, those without a case too (no position, no score);
    # a code the city does not list is never one (dashboard/store/evaluation.py).
    known = city_objects(settings.city_dir).get("department")
    expected = evaluate(engine, "department", period_range("month", date(2026, 10, 1)), NOW, known=known).rows
    assert [(r["code"], r["position"], r["score"], r["grade"]) for r in data["rows"]] == [
        (r.code, r.position, r.score, r.grade) for r in expected
    ]
    first = data["rows"][0]
    assert first["name"] and first["on_time_disposal_rate"] is not None and "overdue_pending" in first
    assert data["start"].startswith("2026-10-01T00:00:00+08:00")

    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "street", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 12 and {"score", "grade", "close_rate", "filed"} <= set(rows[0])

    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "department", "--period", "week")
    assert code == 0
    header = out.splitlines()[1]
    assert "排名" in header and "综合得分" in header and "按期处置率" in header and "超期未处置数" in header
    assert "%" in out

    # Collectors: the duty columns from the day figures ingest keeps (docs/supervision.md). One
    # collector was on duty in its area for 4,680 s on 8 October: the month so far (9 October
    # 15:00; 1-7 October are the National Day holidays) schedules 8 h + 5 h, so 10 %.
    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "collector", "--format", "json", "--lang", "en")
    rows = json.loads(out)["rows"]
    assert code == 0 and rows and all(r["on_duty_rate"] == 0 for r in rows)
    from dashboard.store.hot import HotStore, connect
    from dashboard.store.watch_state import DayAdds

    # Coverage is the share of the collector's assigned grids (the city's grid_collectors.csv)
    # passed: one of them passed, and one grid outside the assignment that must not count.
    assigned = sorted(g for g, ids in read_grid_collectors(ASSETS_DIR / "city" / "grid_collectors.csv").items()
                      if rows[0]["code"] in ids)
    assert len(assigned) > 1
    outside = next(g for g in sorted(read_grid_collectors(ASSETS_DIR / "city" / "grid_collectors.csv")) if g not in assigned)
    adds = DayAdds()
    adds.add("2026-10-08", rows[0]["code"], 4680.0, 12_345.0, assigned[0])
    adds.add("2026-10-08", rows[0]["code"], 0.0, 0.0, outside)
    HotStore(connect(settings.resolved_redis_url)).watch_states().add_duty([adds])
    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "collector", "--format", "json", "--lang", "en")
    first = json.loads(out)["rows"][0]
    assert first["on_duty_rate"] == pytest.approx(0.1) and first["km"] == 12.3
    # Over a period, coverage is the mean of the scheduled days' (8 and 9 October): 1/n, then 0.
    assert first["coverage"] == pytest.approx(1 / len(assigned) / 2)
    code, out, _ = _rank(monkeypatch, capsys, settings, "--by", "collector")
    assert "在岗率" in out.splitlines()[1] and "10.00 %" in out


def test_rank_command_refuses_bad_ranges(history, monkeypatch, capsys) -> None:
    settings, _engine, _states = history
    code, _out, err = _rank(monkeypatch, capsys, settings, "--from", "2026-10-05")
    assert code == 2 and "--from and --to" in err
    code, _out, err = _rank(monkeypatch, capsys, settings, "--from", "2026-10-05", "--to", "2026-10-01")
    assert code == 2 and "before its first day" in err


def test_migration_backfills_existing_cases(stack, tmp_path) -> None:
    """A database filled before case_stat existed gets its history counted after `migrate`."""
    from alembic import command

    settings = stack.settings(tmp_path)
    url = settings.resolved_database_url
    cfg = db.alembic_config(url)
    command.upgrade(cfg, "0001")
    engine = db.engine_for(url)
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=9, collectors=8, vehicles=0, backfill_days=3,
                                                            cases_per_day=60), START)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(NOW, 10**6)]
    # The lifecycle on a scratch database of today's schema; the rows written as 0001 had them.
    scratch = f"sqlite:///{tmp_path / 'scratch.sqlite'}"
    db.upgrade(scratch)
    outcome = CaseBook(db.engine_for(scratch), settings)(events)
    with engine.begin() as conn:
        conn.execute(insert(CaseEventRow.__table__),
                     [{k: v for k, v in event_row(e).items() if k != "digest"} for e in outcome.applied])
        upsert(conn, engine, CaseRow.__table__, outcome.rows, ["case_id"])
    db.upgrade(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(CaseStatRow)) == len(outcome.stats) > 50
        assert conn.scalar(select(func.count()).select_from(CaseStepRow)) == len(outcome.steps)
    engine.dispose()


def test_migrations_build_the_schema_the_models_describe(stack, tmp_path) -> None:
    """Every table, column and index of dashboard.store.models, after `migrate` from nothing."""
    from sqlalchemy import inspect

    from dashboard.store.models import Base

    url = stack.settings(tmp_path).resolved_database_url
    db.upgrade(url)
    engine = db.engine_for(url)
    found = inspect(engine)
    for table in Base.metadata.sorted_tables:
        assert {c["name"] for c in found.get_columns(table.name)} == {c.name for c in table.columns}, table.name
        want = {(ix.name, tuple(c.name for c in ix.columns)) for ix in table.indexes}
        got = {(ix["name"], tuple(ix["column_names"])) for ix in found.get_indexes(table.name)}
        assert want <= got, (table.name, want - got)
    engine.dispose()


def test_trend_points_are_the_city_rankings_of_their_periods(history) -> None:
    """Each trend point is the city's counters for its period (dashboard/store/trend.py): the
    weekly trend's points equal the fold of the case states for the same weeks, and the week
    holding ``now`` is partial."""
    from dashboard.casework.rates import rates
    from dashboard.store.trend import trend

    _settings, engine, states = history
    points = trend(engine, "week", 3, NOW, "Asia/Shanghai")
    assert [p.label for p in points] == ["2026-W39", "2026-W40", "2026-W41"]
    assert [p.partial for p in points] == [False, False, True]
    assert sum(p.reported for p in points) > 0
    for p in points:
        period = period_range("week", p.first_day)
        total = Counters()
        for s in states:
            total = total + Counters.of(s, period, NOW)
        want = rates(total)
        assert (p.reported, p.filed, p.closed) == (total.reported, total.filed, total.closed)
        assert (p.close_rate, p.on_time_close_rate) == (want["close_rate"], want["on_time_close_rate"])
    # A month with no cases at all is a point of zeros with no rates, not an error.
    empty = trend(engine, "month", 14, NOW, "Asia/Shanghai")[0]
    assert (empty.label, empty.reported, empty.close_rate) == ("2025-09", 0, None)
