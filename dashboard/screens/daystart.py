"""The open cases as they stood at the start of the local day, rebuilt from the case history in
SQL: the starting point of the board's "change since 00:00" (▲/▼ beside 超期 and 即将超期).

Counting from the first board of the day instead would start from whatever the screen saw
first: on a system started at 14:00, or catching up on a backlog, every case that arrived late
would show as a rise. Rebuilt from the history, the starting point is the same whenever it is
computed, and it is computed again when an event from before midnight is stored later.

A case with no event since the start stood then as it stands now, so its current hot doc is
its doc at the start. Only the cases that moved since are replayed, from their events before
the start, through the same lifecycle the case step uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, func, select

from dashboard.casework import lifecycle
from dashboard.casework.errors import CaseworkError
from dashboard.casework.overdue import LightPolicy
from dashboard.casework.timelimits import Rules
from dashboard.records import CaseEvent
from dashboard.store.models import CaseEventRow, utc
from feeds.cases import hot_doc

log = logging.getLogger("gridwall.board")

_CHUNK = 500
E = CaseEventRow


def late_events_since(engine: Engine, mark: int, start: float) -> tuple[bool, int]:
    """Has an event from before ``start`` been stored after ``mark``? (Then the starting point
    built at ``mark`` missed it.) Also returns the newest id looked at: when the answer is no,
    the starting point holds up to there, and the next look starts from it."""
    with engine.connect() as conn:
        newest = int(conn.scalar(select(func.max(E.id))) or 0)
        late = conn.scalar(select(E.id).where(E.id > mark, E.id <= newest, E.ts < utc(start)).limit(1))
    return late is not None, newest


def docs_at(engine: Engine, start: float, open_now: Iterable[Mapping[str, Any]], rules: Rules,
            policy: LightPolicy) -> tuple[list[Mapping[str, Any]], int]:
    """The hot docs of the cases open at ``start``, and the history mark they were built at."""
    with engine.connect() as conn:
        mark = int(conn.scalar(select(func.max(E.id))) or 0)
        since = utc(start)
        moved = set(conn.scalars(select(E.case_id).where(E.ts >= since, E.id <= mark).distinct()))
        docs: list[Mapping[str, Any]] = [d for d in open_now if d["case_id"] not in moved]
        ids = sorted(moved)
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(
                select(E.event_id, E.case_id, E.action, E.ts, E.actor, E.source, E.payload)
                .where(E.case_id.in_(ids[i:i + _CHUNK]), E.ts < since, E.id <= mark)
                .order_by(E.case_id, E.ts, E.id))
            for case_id, group in groupby(rows, key=lambda r: r.case_id):
                events = [CaseEvent(r.event_id, r.case_id, r.action, r.ts.timestamp(), r.actor, dict(r.payload or {}),
                                    r.source) for r in group]
                try:
                    state = lifecycle.replay(events, rules)
                except CaseworkError as exc:
                    # Stored events were applied once, so this is rare (two events of one case
                    # with the same instant, applied in arrival order); leave the case out.
                    log.debug("case %s does not replay to the start of the day: %s", case_id, exc)
                    continue
                if state.is_open:
                    docs.append(hot_doc(state, {}, rules, policy))
    return docs, mark
