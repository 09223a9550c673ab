"""A case state as flat columns, for the SQL projection that feeds ``Counters.from_row``.

``case_columns`` is one row of the ``case_stat`` table; ``step_rows`` are the rows of the
``case_step`` table (one per finished step: 受理, 核实, 派遣, 核查). ``counters_sql`` is the
GROUP BY that turns them into counters with the same definitions as ``Counters.add``.

Two things make a one-month ranking over a million cases fast (docs/performance.md):

- ``span_start``/``span_end`` bound every instant at which a case can count (report, filing,
  closing, the deadlines its outcomes settle at). A case counts in a period only if its span
  overlaps it, so the query reads an index range instead of the whole table.
- The first mark of each step (受理, 核实, 派遣, 核查) is on the case row itself, so one pass over
  the period's cases counts nearly everything. Only the rare further marks (a re-dispatch after
  回退, a re-check after 返工) are ``case_step`` rows; they carry copies of their case's grouping
  keys, so their query reads one table too: a step's object is the case's current one, as in
  ``Counters.add``.
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

# What a ranking can be grouped by; each is copied into the case's step rows.
GROUP_KEYS: tuple[str, ...] = (
    "department", "district", "street", "community", "grid_code", "reporter", "category", "source",
)  # fmt: skip
STEP_COLUMNS: tuple[str, ...] = (
    "case_id", "stage", "at", "due", "settles_at", "on_time", "actor", "returned", *GROUP_KEYS,
)  # fmt: skip
STAGES: tuple[str, ...] = ("accept", "verify", "dispatch", "check")
# The first mark of each stage, inline: <stage>_at, _settles, _on_time, _actor (+ dispatch_returned).
MARK_COLUMNS: tuple[str, ...] = (
    *(f"{stage}_{part}" for stage in STAGES for part in ("at", "settles", "on_time", "actor")),
    "dispatch_returned",
)
# The outcome of each clock split by what does not depend on the cutoff: done on time (when),
# or not done on time (the deadline it settles at). See _outcomes.
OUTCOME_COLUMNS: tuple[str, ...] = ("disposal_ok_at", "disposal_due_at", "close_ok_at", "close_due_at")
# Every column of a case_stat row, in the order case_columns builds it.
STAT_COLUMNS: tuple[str, ...] = (*CASE_COLUMNS, "is_open", *MARK_COLUMNS, *OUTCOME_COLUMNS, "span_start", "span_end")

# The instants at which some counter may count the case (Counters.add and its helpers).
_SPAN_TIMES = (
    "reported_at", "filed_at", "voided_at", "not_filed_at", "feedback_at", "closed_at",
    "deadline", "close_deadline", "last_suspended_at", "stage_deadline",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is not None and hasattr(value, "value"):
        return value.value
    return value


def _first_marks(case: CaseState) -> dict[str, StageMark | None]:
    return {
        "accept": case.accept_mark,
        "verify": case.verify_mark,
        "dispatch": case.dispatch_marks[0] if case.dispatch_marks else None,
        "check": case.check_marks[0] if case.check_marks else None,
    }


def span(case: CaseState) -> tuple[float, float]:
    """[first, last] instant at which the case row can count in any period (its inline first
    marks included; the further marks are rows of their own)."""
    times = [t for t in (getattr(case, name) for name in _SPAN_TIMES) if t is not None]
    if case.file_mark is not None:
        times.append(case.file_mark.at)
    for mark in _first_marks(case).values():
        if mark is not None:
            times += [mark.at, mark.settles_at]
    return min(times), max(times)


def case_columns(case: CaseState) -> dict[str, Any]:
    """One flat row; enums as their wire strings, booleans as 0/1 for SQL."""
    row: dict[str, Any] = {}
    for name in CASE_COLUMNS:
        if name == "filed_on_time":
            row[name] = None if case.file_mark is None else int(case.file_mark.on_time)
        else:
            row[name] = _plain(getattr(case, name))
    row["is_open"] = int(case.is_open)
    for stage, mark in _first_marks(case).items():
        row[f"{stage}_at"] = None if mark is None else mark.at
        row[f"{stage}_settles"] = None if mark is None else mark.settles_at
        row[f"{stage}_on_time"] = None if mark is None else int(mark.on_time)
        row[f"{stage}_actor"] = None if mark is None else mark.actor
    first_dispatch = case.dispatch_marks[0] if case.dispatch_marks else None
    row["dispatch_returned"] = None if first_dispatch is None else int(first_dispatch.returned)
    for prefix, done, due in (("disposal", case.feedback_at, case.deadline), ("close", case.closed_at, case.close_deadline)):
        clock = case.first_dispatched_at is not None and due is not None
        on_time = clock and done is not None and done <= due  # type: ignore[operator]
        row[f"{prefix}_ok_at"] = done if on_time else None
        row[f"{prefix}_due_at"] = due if clock and not on_time else None
    row["span_start"], row["span_end"] = span(case)
    return row


def _step(case: CaseState, stage: Stage, mark: StageMark) -> dict[str, Any]:
    row = {
        "case_id": case.case_id,
        "stage": stage.value,
        "at": mark.at,
        "due": mark.due,
        "settles_at": mark.settles_at,
        "on_time": int(mark.on_time),
        "actor": mark.actor,
        "returned": int(mark.returned),
    }
    row.update({key: _plain(getattr(case, key)) for key in GROUP_KEYS})
    return row


def step_rows(case: CaseState) -> list[dict[str, Any]]:
    """The marks after the first of their stage (re-dispatches, re-checks): the first ones are
    columns of the case row."""
    rows = [_step(case, Stage.DISPATCH, mark) for mark in case.dispatch_marks[1:]]
    rows += [_step(case, Stage.CHECK, mark) for mark in case.check_marks[1:]]
    return rows


# --- the same counters in SQL (SQLite >= 3.30 and PostgreSQL: aggregate FILTER clauses) --------
# Parameters :start and :cutoff are the period start and min(period end, now).

_IN = "{col} >= :start AND {col} < :cutoff"


def _outcomes(prefix: str, done: str, due: str) -> dict[str, str]:
    """The settle rule of ``counters._outcome`` for one clock, on the precomputed columns
    <prefix>_ok_at (done on time: when) and <prefix>_due_at (not done on time: the deadline)."""
    ok, late_at = f"{prefix}_ok_at", f"{prefix}_due_at"
    paused = f"suspended_since IS NOT NULL AND suspended_since < :cutoff AND suspended_since <= {due}"
    return {
        "on_time": _IN.format(col=ok),
        "late": f"{_IN.format(col=late_at)} AND {done} < :cutoff",
        "pending": f"{_IN.format(col=late_at)} AND ({done} IS NULL OR {done} >= :cutoff) AND NOT ({paused})",
        # on time, late or pending, in fewer steps
        "due": f"{_IN.format(col=ok)} OR ({_IN.format(col=late_at)} AND ({done} < :cutoff OR NOT ({paused})))",
    }


def _count(condition: str) -> str:
    return f"COUNT(*) FILTER (WHERE {condition})"


def _sum(column: str, condition: str) -> str:
    return f"COALESCE(SUM({column}) FILTER (WHERE {condition}), 0)"


def counters_sql(group_by: str, case_table: str = "case_stat", step_table: str = "case_step") -> tuple[str, str]:
    """Two GROUP BY queries whose rows, each through ``Counters.from_row`` and then added,
    equal ``Counters.add`` over the same cases. ``group_by``: one of ``GROUP_KEYS``."""
    if group_by not in GROUP_KEYS:
        raise ValueError(f"cannot group by {group_by!r}: not one of {', '.join(GROUP_KEYS)}")
    disposal = _outcomes("disposal", "feedback_at", "deadline")
    closing = _outcomes("close", "closed_at", "close_deadline")
    reported = _IN.format(col="reported_at")
    columns = {
        "reported": _count(reported),
        "supervisor_reports": _count(f"{reported} AND source = 'supervisor'"),
        "valid_reports": _count(f"{reported} AND source = 'supervisor' AND filed_at < :cutoff"),
        "public_reports": _count(f"{reported} AND source = 'public'"),
        **_filing_columns(),
        "voided": _count(_IN.format(col="voided_at")),
        "not_filed": _count(_IN.format(col="not_filed_at")),
        "self_disposed": _count(f"self_disposed = 1 AND {_IN.format(col='closed_at')}"),
        "suspended": _count(_IN.format(col="last_suspended_at")),
        "disposed_on_time": _count(disposal["on_time"]),
        "disposed_late": _count(disposal["late"]),
        "overdue_pending": _count(disposal["pending"]),
        "extended": _count(f"extensions > 0 AND ({disposal['due']})"),
        "extension_events": _sum("extensions", f"extensions > 0 AND ({disposal['due']})"),
        "closed_on_time": _count(closing["on_time"]),
        "closed_late": _count(closing["late"]),
        "overdue_unclosed": _count(closing["pending"]),
        "reworked": _count(f"reworks > 0 AND ({closing['due']})"),
        "rework_events": _sum("reworks", f"reworks > 0 AND ({closing['due']})"),
    }
    # The first mark of each step, inline; a step still waiting past its limit is due as well.
    columns.update(step_columns(STAGES, inline=True))
    for stage in STAGES:
        waiting = f"is_open = 1 AND stage = '{stage}' AND {_IN.format(col='stage_deadline')}"
        columns[f"{stage}_due"] += " + " + _count(waiting)
    case_sql = _select(group_by, columns, case_table, CASE_WINDOW)
    step_sql = _select(group_by, step_columns(("dispatch", "check"), inline=False), step_table, STEP_WINDOW)
    return case_sql, step_sql


# The index-friendly necessary conditions: a case (step) counts in [start, cutoff) only if its
# span (done .. settled) overlaps it.
CASE_WINDOW = "span_end >= :start AND span_start < :cutoff"
STEP_WINDOW = "at >= :start AND settles_at < :cutoff"


def step_columns(stages: tuple[str, ...], inline: bool) -> dict[str, str]:
    """The step counters of ``Counters.add_step``: over the inline first marks of the case row
    (<stage>_at, <stage>_settles, <stage>_on_time, dispatch_returned) or over ``case_step``
    rows (one stage per row: stage, at, settles_at, on_time, returned)."""

    def col(stage: str, part: str) -> str:
        return f"{stage}_{'settles' if part == 'settles_at' else part}" if inline else part

    def only(stage: str) -> str:
        return "" if inline else f"stage = '{stage}' AND "

    out: dict[str, str] = {}
    for stage in stages:
        done = _IN.format(col=col(stage, "at"))
        settled = _IN.format(col=col(stage, "settles_at"))
        if stage == "accept":
            out["accepted"] = _count(f"{only(stage)}{done}")
        if stage == "dispatch":
            out["dispatched"] = _count(f"{only(stage)}{done}")
            out["returned"] = _count(f"{only(stage)}{done} AND {col(stage, 'returned')} = 1")
        out[f"{stage}_due"] = _count(f"{only(stage)}{settled}")
        out[f"{stage}_on_time"] = _count(f"{only(stage)}{settled} AND {col(stage, 'on_time')} = 1")
    return out


def _filing_columns() -> dict[str, str]:
    filed = _IN.format(col="filed_at")
    return {
        "filed": _count(filed),
        "filed_on_time": _count(f"{filed} AND filed_on_time = 1"),
        "accurate_filed": _count(f"{filed} AND state <> 'void'"),
        "public_filed": _count(f"{filed} AND source = 'public'"),
        "filed_suspended": _count(f"{filed} AND last_suspended_at < :cutoff"),
    }


def collector_sql(case_table: str = "case_stat", step_table: str = "case_step") -> list[tuple[str, str]]:
    """The queries of ``evaluation.by_collector`` as (sql, key column): intake by reporter,
    核实/核查 by their actor (inline first marks and further marks), and 立案 by grid. The grid
    rows go to every collector of the grid (漏报率)."""
    reported = _IN.format(col="reported_at")
    intake = {
        "reported": _count(reported),
        "supervisor_reports": _count(reported),
        "valid_reports": _count(f"{reported} AND filed_at < :cutoff"),
    }
    queries = [(_select("reporter", intake, case_table, f"{CASE_WINDOW} AND source = 'supervisor' AND {reported}"), "reporter")]
    for stage in ("verify", "check"):
        actor = f"{stage}_actor"
        queries.append((_select(actor, step_columns((stage,), inline=True), case_table, CASE_WINDOW), actor))
    queries.append((_select("actor", step_columns(("check",), inline=False), step_table,
                            f"stage = 'check' AND {STEP_WINDOW}"), "actor"))
    filed = _IN.format(col="filed_at")
    queries.append((_select("grid_code", _filing_columns(), case_table, f"{CASE_WINDOW} AND {filed}"), "grid_code"))
    return queries


def _select(key: str, columns: dict[str, str], source: str, window: str) -> str:
    body = ",\n  ".join(f"{expression} AS {name}" for name, expression in columns.items())
    return f"SELECT {key},\n  {body}\nFROM {source}\nWHERE {window} AND {key} IS NOT NULL\nGROUP BY {key}"
