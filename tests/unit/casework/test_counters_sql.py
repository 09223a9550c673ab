"""The SQL of projection.counters_sql gives the same counters as folding case states."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from casework_support import GRID, RULES, case_states, disposed_case, event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.casework.counters import Counters
from dashboard.casework.evaluation import by_collector, by_department, by_region
from dashboard.casework.lifecycle import apply
from dashboard.casework.periods import period_range
from dashboard.casework.projection import STAT_COLUMNS, STEP_COLUMNS, case_columns, step_rows
from dashboard.store.counters_sql import collector_sql, counters_sql


def load(cases) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute(f"CREATE TABLE case_stat ({', '.join(STAT_COLUMNS)})")
    db.execute(f"CREATE TABLE case_step ({', '.join(STEP_COLUMNS)})")
    for case in cases:
        row = case_columns(case)
        db.execute(f"INSERT INTO case_stat VALUES ({', '.join('?' * len(row))})", [row[c] for c in STAT_COLUMNS])
        for step in step_rows(case):
            marks = ", ".join("?" * len(STEP_COLUMNS))
            db.execute(f"INSERT INTO case_step VALUES ({marks})", [step[c] for c in STEP_COLUMNS])
    return db


def from_sql(db: sqlite3.Connection, key: str, period: tuple[float, float], now: float) -> dict[str, Counters]:
    params = {"start": period[0], "cutoff": min(period[1], now)}
    out: dict[str, Counters] = {}
    for sql in counters_sql(key):
        for row in db.execute(sql, params):
            data = dict(row)
            code = data.pop(key)
            out[code] = out.get(code, Counters()) + Counters.from_row(data)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(case_states(), max_size=30),
    st.sampled_from(["week", "month", "quarter"]),
    st.integers(0, 60 * 86400),
)
def test_sql_and_fold_agree(cases, kind, offset) -> None:
    period = period_range(kind, date(2026, 3, 10))
    now = period_range("day", date(2026, 3, 1))[0] + offset
    db = load(cases)
    folded = by_department(cases, period, now)
    sql = from_sql(db, "department", period, now)
    assert {k: v for k, v in sql.items() if v != Counters()} == {k: v for k, v in folded.items() if v != Counters()}
    streets = by_region(cases, period, now, "street")
    assert {k: v for k, v in from_sql(db, "street", period, now).items() if v != Counters()} == {
        k: v for k, v in streets.items() if v != Counters()
    }


def test_sql_counts_a_known_case() -> None:
    case = disposed_case("K", period_range("day", date(2026, 3, 2))[0] + 8 * 3600, None)
    march = period_range("month", date(2026, 3, 1))
    rows = from_sql(load([case]), "department", march, march[1])
    assert rows["D01"].overdue_pending == 1 and rows["D01"].dispatched == 1


def test_group_by_only_known_columns() -> None:
    with pytest.raises(ValueError, match="cannot group by"):
        counters_sql("department; DROP TABLE case_stat")


def test_sql_and_fold_agree_on_the_boundaries() -> None:
    monday_8 = period_range("day", date(2026, 3, 2))[0] + 8 * 3600  # due 12:00 (4 工作时)
    noon = monday_8 + 4 * 3600
    # feedback exactly at the deadline, closed exactly at the close deadline (15:30)
    just_in_time = disposed_case("J", monday_8, noon, noon + 3.5 * 3600)
    assert just_in_time.closed_at == just_in_time.close_deadline
    base = disposed_case("S", monday_8, None)
    paused_at_deadline = apply(base, event("suspend", noon, "S"), RULES)
    march = period_range("month", date(2026, 3, 1))
    cases = [just_in_time, paused_at_deadline]
    folded = by_department(cases, march, march[1])["D01"]
    assert (folded.disposed_on_time, folded.overdue_pending, folded.closed_on_time) == (1, 0, 1)
    assert from_sql(load(cases), "department", march, march[1])["D01"] == folded


def collectors_from_sql(db: sqlite3.Connection, period, now, grid_collectors) -> dict[str, Counters]:
    params = {"start": period[0], "cutoff": min(period[1], now)}
    out: dict[str, Counters] = {}
    for sql, key in collector_sql():
        for row in db.execute(sql, params):
            data = dict(row)
            code = data.pop(key)
            owners = grid_collectors.get(code, ()) if key == "grid_code" else [code]
            for owner in owners:
                out[owner] = out.get(owner, Counters()) + Counters.from_row(data)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case_states(), max_size=30), st.integers(0, 60 * 86400))
def test_collector_sql_and_fold_agree(cases, offset) -> None:
    period = period_range("month", date(2026, 3, 10))
    now = period_range("day", date(2026, 3, 1))[0] + offset
    watchers = {GRID: ["u1"], GRID[:-2] + "02": ["u1", "u2"]}
    folded = by_collector(cases, period, now, watchers)
    sql = collectors_from_sql(load(cases), period, now, watchers)
    assert {k: v for k, v in sql.items() if v != Counters()} == {k: v for k, v in folded.items() if v != Counters()}
