"""The briefing's reads and its one write (docs/briefing.md): the case story chosen on the desk
(Redis), the closed case a rule picks when none was chosen, and the video alerts of a period
(SQL). What the scenes make of them is dashboard/screens/briefing.py's."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from dashboard.store.hot import HotStore
from dashboard.store.keys import BRIEFING_CASE
from dashboard.store.models import AlertRow, CaseStatRow

S = CaseStatRow


def chosen_case(hot: HotStore) -> dict[str, Any] | None:
    """``{"case_id", "by", "at"}`` as the desk chose it, or None."""
    raw = hot.r.get(BRIEFING_CASE)
    if not raw:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("case_id"), str) else None


def choose_case(hot: HotStore, case_id: str | None, by: str, now: float) -> None:
    """The desk's choice for the briefing's case story; None clears it (the rule picks again)."""
    if case_id is None:
        hot.r.delete(BRIEFING_CASE)
    else:
        hot.r.set(BRIEFING_CASE, orjson.dumps({"case_id": case_id, "by": by, "at": now}))


def fastest_closed(engine: Engine, start: float, end: float, urgent_only: bool,
                   district: str | None = None) -> str | None:
    """The case closed in [start, end) (and in ``district``) in the least time from its report:
    the briefing's rule-picked story. Ties: the earlier report, then the id."""
    took = S.closed_at - S.reported_at
    q = (select(S.case_id).where(S.closed_at.is_not(None), S.closed_at >= start, S.closed_at < end,
                                 S.reported_at.is_not(None))
         .order_by(took, S.reported_at, S.case_id).limit(1))
    if urgent_only:
        q = q.where(S.urgent == 1)
    if district is not None:
        q = q.where(S.district == district)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else str(row[0])


def video_counts(engine: Engine, start: float, end: float) -> tuple[Counter[str], Counter[str]]:
    """The video alerts (the cameras' own, not the supervision's alarms) that started in
    [start, end): per type, and per severity."""
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    q = (select(AlertRow.type, AlertRow.severity, func.count())
         .where(AlertRow.rule.is_(None), AlertRow.start >= lo, AlertRow.start < hi)
         .group_by(AlertRow.type, AlertRow.severity))
    by_type: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    with engine.connect() as conn:
        for kind, severity, n in conn.execute(q):
            by_type[str(kind)] += int(n)
            by_severity[str(severity)] += int(n)
    return by_type, by_severity
