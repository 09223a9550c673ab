"""The weekly 督办 list's read (dashboard/screens/weekly.py): the cases that count in a week as
超期处置, 超期未处置 or 返工, by the counters' own conditions (``counters_sql.cases_sql``), so the
list and the ranking's numbers for the same week are the same cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from dashboard.store.counted import case_titles
from dashboard.store.counters_sql import cases_sql

WEEKLY_COUNTERS = ("overdue_pending", "disposed_late", "reworked")
_COLUMNS = ("case_id", "department", "district", "street", "category", "small_code", "source", "urgent",
            "reported_at", "first_dispatched_at", "deadline", "feedback_at", "closed_at", "is_open", "state",
            "reworks", "returns", "extensions")
_SQL = text(cases_sql(WEEKLY_COUNTERS, None, _COLUMNS))


def weekly_cases(engine: Engine, start: float, cutoff: float) -> list[dict[str, Any]]:
    """The week's listed cases (with a 0/1 column per counter) and each one's title from the case
    row."""
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(_SQL, {"start": start, "cutoff": cutoff}).mappings()]
        titles = case_titles(conn, [r["case_id"] for r in rows])
    for r in rows:
        r["title"] = titles.get(r["case_id"])
    return rows
