"""A case state as flat columns, for the SQL projection that feeds ``Counters.from_row``.

``case_columns`` is one row of the ``case_stat`` table; ``step_rows`` are the rows of the
``case_step`` table (one per finished step: 受理, 核实, 派遣, 核查). The GROUP BY that turns
them into counters with the same definitions as ``Counters.add`` is in
dashboard/store/counters_sql.py (the store owns every query).

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
