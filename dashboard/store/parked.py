"""Case events waiting for their predecessor, in SQL (table ``case_parked``).

Durable on purpose: a case event that came before the one it follows (shared subscriptions deal
one case's events to several workers; a sender may replay out of order) was already acknowledged
to the broker, so the only copy is ours. Redis could lose it; SQL does not. Any worker may retry
any of them: the per-case locks (dashboard/store/hot.py) keep two workers off one case, and the
SQL dedupe in the case step makes a second try of an applied event a duplicate, so no claim is
needed.

An event still waiting after ``case_park_s`` stays here, retried slowly, and its case counts as
having an incomplete history (``incomplete``) until the missing events are imported or replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from dashboard.store.history_writer import insert_new
from dashboard.store.models import ParkedEventRow

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Parked:
    event_id: str
    case_id: str
    event: dict[str, Any]  # the decoded CaseEvent, as dataclasses.asdict made it
    topic: str
    payload: bytes
    parked_at: float
    reason: str


def _parked(row: Any) -> Parked:
    return Parked(row.event_id, row.case_id, dict(row.event), row.topic, bytes(row.payload), row.parked_at, row.reason)


class ParkedEvents:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def park(self, rows: Sequence[Parked], retry_at: float) -> None:
        """Keep these (an event already waiting keeps its first parked_at)."""
        if not rows:
            return
        with self.engine.begin() as conn:
            insert_new(conn, self.engine, ParkedEventRow.__table__, [
                {"event_id": p.event_id, "case_id": p.case_id, "event": p.event, "topic": p.topic,
                 "payload": p.payload, "parked_at": p.parked_at, "retry_at": retry_at, "reason": p.reason[:1000]}
                for p in rows], "event_id")
            self._reschedule(conn, [p.event_id for p in rows], retry_at)

    def due(self, now: float, limit: int) -> list[Parked]:
        """The events due for a try at ``now``, oldest schedule first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(ParkedEventRow).where(ParkedEventRow.retry_at <= now)
                                .order_by(ParkedEventRow.retry_at).limit(limit)).all()
            return [_parked(r) for r in rows]

    def get(self, event_ids: Iterable[str]) -> list[Parked]:
        ids = list(dict.fromkeys(event_ids))
        out: list[Parked] = []
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _CHUNK):
                rows = conn.execute(select(ParkedEventRow).where(ParkedEventRow.event_id.in_(ids[i:i + _CHUNK])))
                out += [_parked(r) for r in rows]
        return out

    def reschedule(self, event_ids: Iterable[str], retry_at: float, reason: dict[str, str] | None = None) -> None:
        ids = list(event_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            self._reschedule(conn, ids, retry_at)
            for eid, why in (reason or {}).items():
                conn.execute(update(ParkedEventRow).where(ParkedEventRow.event_id == eid).values(reason=why[:1000]))

    @staticmethod
    def _reschedule(conn: Any, ids: list[str], retry_at: float) -> None:
        for i in range(0, len(ids), _CHUNK):
            conn.execute(update(ParkedEventRow).where(ParkedEventRow.event_id.in_(ids[i:i + _CHUNK]))
                         .values(retry_at=retry_at))

    def wake_cases(self, case_ids: Iterable[str], now: float) -> None:
        """Make the waiting events of these cases due now: their cases moved on, so what they
        wait for may have come."""
        ids = sorted(set(case_ids))
        if not ids:
            return
        with self.engine.begin() as conn:
            for i in range(0, len(ids), _CHUNK):
                conn.execute(update(ParkedEventRow)
                             .where(ParkedEventRow.case_id.in_(ids[i:i + _CHUNK]), ParkedEventRow.retry_at > now)
                             .values(retry_at=now))

    def remove(self, event_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return
        with self.engine.begin() as conn:
            for i in range(0, len(ids), _CHUNK):
                conn.execute(delete(ParkedEventRow).where(ParkedEventRow.event_id.in_(ids[i:i + _CHUNK])))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ParkedEventRow)).scalar_one())

    def incomplete_count(self, waited_since: float) -> int:
        """How many cases have an event that has waited since before ``waited_since``."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count(func.distinct(ParkedEventRow.case_id)))
                                    .where(ParkedEventRow.parked_at < waited_since)).scalar_one())

    def incomplete(self, waited_since: float, limit: int = 1000) -> dict[str, list[Parked]]:
        """Cases with an incomplete history: case id -> its events that have waited since before
        ``waited_since`` (epoch s) for a predecessor that has not come."""
        with self.engine.connect() as conn:
            stale = select(ParkedEventRow.case_id).where(ParkedEventRow.parked_at < waited_since).distinct().limit(limit)
            rows = conn.execute(select(ParkedEventRow).where(ParkedEventRow.case_id.in_(stale))
                                .order_by(ParkedEventRow.case_id, ParkedEventRow.parked_at)).all()
        out: dict[str, list[Parked]] = {}
        for r in rows:
            out.setdefault(r.case_id, []).append(_parked(r))
        return out
