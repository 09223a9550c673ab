"""The ingest counters in SQL (table ``feed_counter``): accepted, rejected, rejected:<reason> and
duplicates per feed, added once per batch as Redis gets them (dashboard/store/hot.py
count_batch). Redis is what /healthz reads; this copy is what puts it back after Redis lost its
data (feeds/rebuild.py), so the counters never go back to zero."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select

from dashboard.store.db import dialect_insert
from dashboard.store.models import FeedCounterRow


def counter_rows(accepted: Mapping[str, int], rejected: Mapping[str, Mapping[str, int]],
                 duplicates: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """(feed, name) -> how many to add, with the names Redis uses."""
    out: dict[tuple[str, str], int] = {}
    for feed, n in accepted.items():
        if n:
            out[feed, "accepted"] = out.get((feed, "accepted"), 0) + n
    for feed, reasons in rejected.items():
        for reason, n in reasons.items():
            if n:
                out[feed, "rejected"] = out.get((feed, "rejected"), 0) + n
                out[feed, f"rejected:{reason}"[:48]] = out.get((feed, f"rejected:{reason}"[:48]), 0) + n
    for feed, n in duplicates.items():
        if n:
            out[feed, "duplicates"] = out.get((feed, "duplicates"), 0) + n
    return out


def add_counters(conn: Any, engine: Engine, rows: Mapping[tuple[str, str], int]) -> None:
    """Add (feed, name) -> n on the caller's connection: the history writer adds a batch's counts
    in the batch's own transaction, so a crash after the commit cannot lose them (the redelivery
    would then be counted as duplicates, never as accepted)."""
    rows = {k: v for k, v in rows.items() if v}
    if not rows:
        return
    table = FeedCounterRow.__table__
    stmt = dialect_insert(engine, table)
    stmt = stmt.on_conflict_do_update(index_elements=["feed", "name"],
                                      set_={"value": table.c.value + stmt.excluded.value})
    # Sorted: two workers adding to the same rows take their row locks in the same order.
    conn.execute(stmt, [{"feed": f, "name": n, "value": v} for (f, n), v in sorted(rows.items())])


class FeedCounters:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, rows: Mapping[tuple[str, str], int]) -> None:
        """Add (feed, name) -> n (counter_rows makes them) in a transaction of its own."""
        if any(rows.values()):
            with self.engine.begin() as conn:
                add_counters(conn, self.engine, rows)

    def read(self) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            out: dict[str, dict[str, int]] = {}
            for feed, name, value in conn.execute(select(FeedCounterRow.feed, FeedCounterRow.name, FeedCounterRow.value)):
                out.setdefault(feed, {})[name] = int(value)
            return out
