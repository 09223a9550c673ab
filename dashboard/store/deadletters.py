"""Dead letters in SQL (table ``dead_letter``): every refused message, kept whole with its feed,
reason and sentence, so that an operator can see them by feed and reason and replay them once
the sender or the configuration is fixed (`gridwall deadletters`, docs/deadletters.md).

In SQL rather than a Redis stream: a dead letter is often the only copy of a message the broker
was already told was handled, and it must survive Redis and keep its whole payload to be
replayed.

Bounded at about ``dead_letter_max``: each write deletes the rows more than ``maxlen`` ids below
the newest. Ids only grow, so that is an index range on the primary key (no COUNT); gaps in the
ids (a rolled-back insert on PostgreSQL) only make it keep a few fewer. Letters already
replayed count towards the bound like any other: they are history now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from dashboard.limits import EVENT_ID
from dashboard.store.models import DeadLetterRow

_CHUNK = 500
_TRIM_LOCK = 727173  # PostgreSQL advisory lock: one worker trims at a time (db.py's is 727172)
# The columns' widths (models.py): PostgreSQL refuses a longer value, and a dead letter must
# never be refused itself.
_FEED, _REASON, _EVENT_ID, _DETAIL = 16, 32, EVENT_ID, 2000


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    """A refused message to keep."""

    at: float  # when it was refused (epoch s)
    feed: str
    reason: str
    detail: str
    topic: str
    payload: bytes
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead letter as kept."""

    id: int
    at: float
    feed: str
    reason: str
    detail: str
    topic: str
    payload: bytes
    size: int
    event_id: str | None
    replayed_at: float | None  # when `gridwall deadletters replay` took it through the pipeline


@dataclass(frozen=True, slots=True)
class LetterCount:
    """How many letters of one feed and reason are kept: waiting (never replayed) and replayed."""

    feed: str
    reason: str
    waiting: int
    replayed: int


def _letter(row: Any) -> DeadLetter:
    return DeadLetter(row.id, row.at, row.feed, row.reason, row.detail, row.topic, bytes(row.payload), row.size,
                      row.event_id, row.replayed_at)


class DeadLetterStore:
    def __init__(self, engine: Engine, maxlen: int | None = None) -> None:
        """``maxlen``: the bound (setting ``dead_letter_max``). None: a reader (/healthz, the
        CLI's list), which never writes."""
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"dead_letter_max must be at least 1, not {maxlen}")
        self.engine = engine
        self.maxlen = maxlen

    def add(self, rows: Sequence[NewDeadLetter]) -> None:
        """Keep these (one statement for the lot) and trim the oldest beyond the bound, in one
        transaction."""
        if not rows:
            return
        if self.maxlen is None:
            raise RuntimeError("a DeadLetterStore without maxlen only reads")
        params = [{"at": r.at, "feed": r.feed[:_FEED], "reason": r.reason[:_REASON], "detail": r.detail[:_DETAIL],
                   "topic": r.topic, "payload": r.payload, "size": len(r.payload),
                   "event_id": None if r.event_id is None else r.event_id[:_EVENT_ID], "replayed_at": None}
                  for r in rows]
        with self.engine.begin() as conn:
            conn.execute(insert(DeadLetterRow), params)
            self._trim(conn, self.maxlen)

    def _trim(self, conn: Any, maxlen: int) -> None:
        if self.engine.dialect.name == "postgresql" and not conn.execute(
                select(func.pg_try_advisory_xact_lock(_TRIM_LOCK))).scalar():
            # Another worker is trimming now; the next write trims what this one added. Skipping
            # rather than waiting also keeps two trimmers from locking rows against each other.
            return
        newest = select(func.max(DeadLetterRow.id)).scalar_subquery()
        conn.execute(delete(DeadLetterRow).where(DeadLetterRow.id <= newest - maxlen))

    def list(self, feed: str | None = None, reason: str | None = None, limit: int = 50,
             include_replayed: bool = False) -> list[DeadLetter]:
        """The newest letters first, of one feed and/or reason if given; the ones already
        replayed only with ``include_replayed``."""
        stmt = self._where(select(DeadLetterRow), feed, reason, include_replayed)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(DeadLetterRow.id.desc()).limit(limit)).all()
            return [_letter(r) for r in rows]

    def oldest(self, feed: str | None = None, reason: str | None = None, after_id: int = 0,
               through_id: int | None = None, limit: int = _CHUNK) -> Sequence[DeadLetter]:
        """Letters never replayed, oldest first, after ``after_id`` and up to ``through_id``: a
        replay goes through them in the order they came, a page at a time (payloads may be
        large), and stops at the newest there was when it began (what it refuses again comes
        back as new letters of the same reason)."""
        stmt = self._where(select(DeadLetterRow), feed, reason, False).where(DeadLetterRow.id > after_id)
        if through_id is not None:
            stmt = stmt.where(DeadLetterRow.id <= through_id)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(DeadLetterRow.id).limit(limit)).all()
            return [_letter(r) for r in rows]

    @staticmethod
    def _where(stmt: Any, feed: str | None, reason: str | None, include_replayed: bool) -> Any:
        if feed is not None:
            stmt = stmt.where(DeadLetterRow.feed == feed)
        if reason is not None:
            stmt = stmt.where(DeadLetterRow.reason == reason)
        if not include_replayed:
            stmt = stmt.where(DeadLetterRow.replayed_at.is_(None))
        return stmt

    def get(self, letter_id: int) -> DeadLetter | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(DeadLetterRow).where(DeadLetterRow.id == letter_id)).one_or_none()
            return None if row is None else _letter(row)

    def summary(self) -> Sequence[LetterCount]:
        """Counts by feed and reason, waiting and replayed: one pass over a bounded table."""
        stmt = (select(DeadLetterRow.feed, DeadLetterRow.reason, func.count(), func.count(DeadLetterRow.replayed_at))
                .group_by(DeadLetterRow.feed, DeadLetterRow.reason)
                .order_by(DeadLetterRow.feed, DeadLetterRow.reason))
        with self.engine.connect() as conn:
            return [LetterCount(feed, reason, int(n) - int(replayed), int(replayed))
                    for feed, reason, n, replayed in conn.execute(stmt)]

    def mark_replayed(self, ids: Iterable[int], at: float) -> None:
        todo = sorted(set(ids))  # sorted: two replays lock their rows in the same order
        if not todo:
            return
        with self.engine.begin() as conn:
            for i in range(0, len(todo), _CHUNK):
                conn.execute(update(DeadLetterRow).where(DeadLetterRow.id.in_(todo[i:i + _CHUNK]))
                             .values(replayed_at=at))
