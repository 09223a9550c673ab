"""The cases behind a counter (the desk's drill-down from today's numbers and the rankings'
rows): the cases of ``case_stat`` that count in one of the counters for a period, of one
department or region or of the city, a page at a time, newest report first. The conditions are
the counters' own (``counters_sql.case_conditions``), so the list is exactly what the number
counted (tests/integration/test_counted.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, select, text

from dashboard.store.counters_sql import cases_sql
from dashboard.store.models import CaseRow

COLUMNS = ("case_id", "state", "source", "category", "small_code", "district", "street", "department", "urgent",
           "reported_at", "deadline", "feedback_at", "closed_at", "is_open")


def counted_cases(engine: Engine, counters: tuple[str, ...], by: str | None, code: str | None, start: float,
                  cutoff: float, offset: int, limit: int,
                  districts: Collection[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(how many, one page of rows with ``title``) of the cases counting in any of ``counters``
    in [start, cutoff); ``districts``: a limited user's, None for the whole city."""
    inner = cases_sql(counters, by, COLUMNS)
    where = " WHERE district IN :districts" if districts is not None else ""
    params: dict[str, Any] = {"start": start, "cutoff": cutoff, "code": code}
    count = text(f"SELECT COUNT(*) FROM ({inner}) AS listed{where}")
    # The page and the total in one pass over the period's cases (a window count is taken before
    # the LIMIT): half the time of a COUNT and a page (bench/bench_drilldown.py).
    page = text(f"SELECT *, COUNT(*) OVER () AS total_rows FROM ({inner}) AS listed{where} "
                "ORDER BY reported_at DESC, case_id LIMIT :limit OFFSET :offset")
    if districts is not None:
        count = count.bindparams(bindparam("districts", expanding=True))
        page = page.bindparams(bindparam("districts", expanding=True))
        params["districts"] = sorted(districts) or [""]
    if by is None:
        params.pop("code")
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(page, {**params, "limit": limit, "offset": offset}).mappings()]
        # A page past the end has no row to carry the total: then it is counted alone.
        total = int(rows[0]["total_rows"]) if rows else int(conn.execute(count, params).scalar_one()) if offset else 0
        titles = case_titles(conn, [r["case_id"] for r in rows])
    for r in rows:
        r.pop("total_rows", None)
        r["title"] = titles.get(r["case_id"])
    return total, rows


def case_titles(conn: Any, case_ids: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for i in range(0, len(case_ids), 500):
        chunk = list(case_ids[i:i + 500])
        out.update({r.case_id: r.title for r in conn.execute(
            select(CaseRow.case_id, CaseRow.title).where(CaseRow.case_id.in_(chunk)))})
    return out
