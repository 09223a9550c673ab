"""What the position history keeps: rows older than ``history_retention_days`` are deleted, a
batch at a time, by the ingest worker's heartbeat (feeds/ingest.py). The storage a day costs:
docs/desk.md "Replay".

Why by ``id`` and not by ``ts``: the table has one index besides its primary key,
``(device_id, ts)``, which cannot find the oldest rows of every device at once, and an index on
``ts`` alone would cost every row more bytes than the pruning saves time. Rows are written in the
order they arrive, so the lowest ids are the oldest: a prune reads the first ``batch`` ids (the
primary key's first pages) and deletes those past the cut-off. When nothing is due, one row is
read. A row that came in late with an old fix (an import of last month's history) has a high id
and waits behind the rows before it: it goes at most one retention period later.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, delete, select

from dashboard.store.models import PositionRow, utc

BATCH: Final = 5_000  # rows deleted per call: a few ms of SQLite's write lock, never a long one
_DAY_S: Final = 86400.0


def prune_positions(engine: Engine, now: float, retention_days: float, batch: int = BATCH) -> int:
    """Delete up to ``batch`` position rows whose fix is older than ``retention_days`` before
    ``now`` (UTC epoch s); returns how many went."""
    p = PositionRow
    cutoff = utc(now - retention_days * _DAY_S)
    with engine.begin() as conn:
        oldest = conn.execute(select(p.ts).order_by(p.id).limit(1)).scalar()
        if oldest is None or cutoff is None or oldest >= cutoff:
            return 0
        first = select(p.id).order_by(p.id).limit(batch).scalar_subquery()
        result = conn.execute(delete(p).where(p.id.in_(first), p.ts < cutoff))
        return int(result.rowcount or 0)
