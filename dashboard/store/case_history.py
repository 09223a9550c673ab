"""Reads of the case history in SQL for the screens: the events before an instant (to replay
the cases as they stood at local midnight) and today's reports and closures (the hourly chart).

The rules that make numbers of these rows live elsewhere: the replay in
dashboard/screens/daystart.py through dashboard.casework.lifecycle, the hours in
dashboard/screens/wall.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from itertools import groupby

from sqlalchemy import Engine, func, select

from dashboard.records import CaseEvent
from dashboard.store.models import CaseEventRow, CaseStatRow, utc

_CHUNK = 500
E = CaseEventRow


def newest_event_id(engine: Engine) -> int:
    """The history mark: the id of the newest stored case event (0 when there is none)."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.max(E.id))) or 0)


def late_events_since(engine: Engine, mark: int, start: float) -> tuple[bool, int]:
    """Has an event from before ``start`` been stored after ``mark``? (Then a starting point
    built at ``mark`` missed it.) Also returns the newest id looked at: when the answer is no,
    the starting point holds up to there, and the next look starts from it."""
    with engine.connect() as conn:
        newest = int(conn.scalar(select(func.max(E.id))) or 0)
        late = conn.scalar(select(E.id).where(E.id > mark, E.id <= newest, E.ts < utc(start)).limit(1))
    return late is not None, newest


def cases_moved_since(engine: Engine, start: float, mark: int) -> set[str]:
    """The cases with an event at or after ``start`` (among the events up to ``mark``)."""
    with engine.connect() as conn:
        return set(conn.scalars(select(E.case_id).where(E.ts >= utc(start), E.id <= mark).distinct()))


def events_before(engine: Engine, case_ids: list[str], start: float, mark: int) -> Iterator[tuple[str, list[CaseEvent]]]:
    """Each case's stored events before ``start`` (up to ``mark``), in the order they apply."""
    ids = sorted(case_ids)
    since = utc(start)
    with engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(
                select(E.event_id, E.case_id, E.action, E.ts, E.actor, E.source, E.payload)
                .where(E.case_id.in_(ids[i:i + _CHUNK]), E.ts < since, E.id <= mark)
                .order_by(E.case_id, E.ts, E.id))
            for case_id, group in groupby(rows, key=lambda r: r.case_id):
                yield case_id, [CaseEvent(r.event_id, r.case_id, r.action, r.ts.timestamp(), r.actor,
                                          dict(r.payload or {}), r.source) for r in group]


def report_and_close_times(engine: Engine, start: float, cutoff: float,
                           districts: Collection[str] | None = None) -> Iterator[tuple[float | None, float | None]]:
    """(reported_at, closed_at) of every case that can have been reported or closed in
    [start, cutoff), of ``districts`` only when given. span_end/span_start bound every instant
    a case counts at, its report and closing included: the condition reads the span index
    instead of the whole table."""
    query = select(CaseStatRow.reported_at, CaseStatRow.closed_at).where(
        CaseStatRow.span_end >= start, CaseStatRow.span_start < cutoff)
    if districts is not None:
        query = query.where(CaseStatRow.district.in_(sorted(districts)))
    with engine.connect() as conn:
        yield from conn.execute(query).tuples()
