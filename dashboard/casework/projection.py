"""A case state as flat columns, for the SQL projection that feeds ``Counters.from_row``.

``case_columns`` is one row of a ``case`` table; ``step_rows`` are the rows of a ``case_step``
table (one per finished step: 受理, 核实, 派遣, 核查). docs/casework.md gives the GROUP BY
that turns them into counters with the same definitions as ``Counters.add``.
"""

from __future__ import annotations

from typing import Any

from dashboard.casework.casestate import CaseState, StageMark
from dashboard.casework.timelimits import Stage

CASE_COLUMNS: tuple[str, ...] = (
    "case_id", "state", "source", "category", "class_code", "small_code", "condition",
    "grid_code", "district", "street", "community", "department", "urgent", "reporter",
    "reported_at", "filed_at", "filed_on_time", "voided_at", "not_filed_at",
    "first_dispatched_at", "feedback_at", "closed_at", "self_disposed",
    "deadline", "close_deadline", "suspended_since", "last_suspended_at",
    "stage", "stage_deadline", "reworks", "returns", "extensions", "suspensions",
)  # fmt: skip


def case_columns(case: CaseState) -> dict[str, Any]:
    """One flat row; enums as their wire strings, booleans as 0/1 for SQL."""
    row: dict[str, Any] = {}
    for name in CASE_COLUMNS:
        if name == "filed_on_time":
            value: Any = None if case.file_mark is None else int(case.file_mark.on_time)
        else:
            value = getattr(case, name)
        if isinstance(value, bool):
            value = int(value)
        elif value is not None and hasattr(value, "value"):
            value = value.value
        row[name] = value
    row["is_open"] = int(case.is_open)
    return row


def _step(case: CaseState, stage: Stage, mark: StageMark) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "stage": stage.value,
        "at": mark.at,
        "due": mark.due,
        "settles_at": mark.settles_at,
        "on_time": int(mark.on_time),
        "actor": mark.actor,
        "returned": int(mark.returned),
    }


def step_rows(case: CaseState) -> list[dict[str, Any]]:
    rows = []
    if case.accept_mark is not None:
        rows.append(_step(case, Stage.ACCEPT, case.accept_mark))
    if case.verify_mark is not None:
        rows.append(_step(case, Stage.VERIFY, case.verify_mark))
    rows += [_step(case, Stage.DISPATCH, mark) for mark in case.dispatch_marks]
    rows += [_step(case, Stage.CHECK, mark) for mark in case.check_marks]
    return rows


# --- the same counters in SQL (SQLite >= 3.30 and PostgreSQL: aggregate FILTER clauses) --------
# Parameters :start and :cutoff are the period start and min(period end, now).

_IN = "{col} >= :start AND {col} < :cutoff"


def _outcomes(done: str, due: str) -> dict[str, str]:
    """The settle rule of ``counters._outcome`` for one (done, due) pair of columns."""
    exists = f"first_dispatched_at IS NOT NULL AND {due} IS NOT NULL"
    paused = f"suspended_since IS NOT NULL AND suspended_since < :cutoff AND suspended_since <= {due}"
    on_time = f"{exists} AND {_IN.format(col=done)} AND {done} <= {due}"
    late = f"{exists} AND {done} < :cutoff AND {done} > {due} AND {due} >= :start"
    pending = f"{exists} AND ({done} IS NULL OR {done} >= :cutoff) AND {_IN.format(col=due)} AND NOT ({paused})"
    return {"on_time": on_time, "late": late, "pending": pending, "due": f"({on_time}) OR ({late}) OR ({pending})"}


def _count(condition: str) -> str:
    return f"COUNT(*) FILTER (WHERE {condition})"


def _sum(column: str, condition: str) -> str:
    return f"COALESCE(SUM({column}) FILTER (WHERE {condition}), 0)"


def counters_sql(group_by: str, case_table: str = "case_state", step_table: str = "case_step") -> tuple[str, str]:
    """Two GROUP BY queries whose rows, each through ``Counters.from_row`` and then added,
    equal ``Counters.add`` over the same cases. ``group_by``: department, district, street,
    community, grid_code, reporter, ... (a column of ``CASE_COLUMNS``)."""
    if group_by not in CASE_COLUMNS:
        raise ValueError(f"cannot group by {group_by!r}: not a case column")
    disposal = _outcomes("feedback_at", "deadline")
    closing = _outcomes("closed_at", "close_deadline")
    filed = _IN.format(col="filed_at")
    reported = _IN.format(col="reported_at")
    columns = {
        "reported": _count(reported),
        "supervisor_reports": _count(f"{reported} AND source = 'supervisor'"),
        "valid_reports": _count(f"{reported} AND source = 'supervisor' AND filed_at < :cutoff"),
        "public_reports": _count(f"{reported} AND source = 'public'"),
        "filed": _count(filed),
        "filed_on_time": _count(f"{filed} AND filed_on_time = 1"),
        "accurate_filed": _count(f"{filed} AND state <> 'void'"),
        "public_filed": _count(f"{filed} AND source = 'public'"),
        "filed_suspended": _count(f"{filed} AND last_suspended_at < :cutoff"),
        "voided": _count(_IN.format(col="voided_at")),
        "not_filed": _count(_IN.format(col="not_filed_at")),
        "self_disposed": _count(f"self_disposed = 1 AND {_IN.format(col='closed_at')}"),
        "suspended": _count(_IN.format(col="last_suspended_at")),
        "disposed_on_time": _count(disposal["on_time"]),
        "disposed_late": _count(disposal["late"]),
        "overdue_pending": _count(disposal["pending"]),
        "extended": _count(f"({disposal['due']}) AND extensions > 0"),
        "extension_events": _sum("extensions", disposal["due"]),
        "closed_on_time": _count(closing["on_time"]),
        "closed_late": _count(closing["late"]),
        "overdue_unclosed": _count(closing["pending"]),
        "reworked": _count(f"({closing['due']}) AND reworks > 0"),
        "rework_events": _sum("reworks", closing["due"]),
    }
    # A step still waiting past its limit is due (the finished ones are in the step table).
    for stage in ("accept", "verify", "dispatch", "check"):
        waiting = f"is_open = 1 AND stage = '{stage}' AND {_IN.format(col='stage_deadline')}"
        columns[f"{stage}_due"] = _count(waiting)
    case_sql = _select(group_by, columns, case_table, "")
    done = _IN.format(col="s.at")
    settled = _IN.format(col="s.settles_at")
    steps: dict[str, str] = {
        "accepted": _count(f"s.stage = 'accept' AND {done}"),
        "dispatched": _count(f"s.stage = 'dispatch' AND {done}"),
        "returned": _count(f"s.stage = 'dispatch' AND {done} AND s.returned = 1"),
    }
    for stage in ("accept", "verify", "dispatch", "check"):
        steps[f"{stage}_due"] = _count(f"s.stage = '{stage}' AND {settled}")
        steps[f"{stage}_on_time"] = _count(f"s.stage = '{stage}' AND {settled} AND s.on_time = 1")
    step_sql = _select(
        f"c.{group_by}", steps, f"{step_table} AS s JOIN {case_table} AS c ON c.case_id = s.case_id", "c."
    )
    return case_sql, step_sql


def _select(key: str, columns: dict[str, str], source: str, prefix: str) -> str:
    body = ",\n  ".join(f"{expression} AS {name}" for name, expression in columns.items())
    bare = key.removeprefix(prefix)
    return f"SELECT {key} AS {bare},\n  {body}\nFROM {source}\nWHERE {key} IS NOT NULL\nGROUP BY {key}"
