"""Keep the hot state (Redis) true to SQL: rebuild it when Redis lost its data, and reconcile the
open cases now and then.

SQL is the memory; Redis is a picture of it. When Redis comes up empty (flushed, or restarted
without its data) the first worker to notice rebuilds the picture from SQL: open cases, active
alerts, each device's last known position and the ingest counters, so the wall shows the city
again at once and /healthz does not start from zero. ``{gw}:alive`` (HotStore.is_empty) is how
a worker notices, on every tick, not only at its start.

The reconcile compares the open cases in Redis with those in SQL and puts right what differs:
a batch whose SQL commit went through but whose Redis writes did not (Redis down for a moment),
or one that wrote into Redis while a rebuild read SQL. It fixes a case only under that case's
lock, after reading it again, so it never writes over a newer state a batch has just put there.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine

from dashboard.store.alert_handling import AlertHandling
from dashboard.store.case_states import load_cases, open_cases
from dashboard.store.feed_counters import FeedCounters
from dashboard.store.hot import DeviceFix, HotStore
from dashboard.store.hotdoc import hot_doc
from dashboard.store.last_known import read_last_known
from feeds.steps.alerts import alert_doc
from feeds.steps.cases import CaseBook
from feeds.steps.positions import device_doc

log = logging.getLogger("gridwall.rebuild")

DEVICE_WINDOW_S = 24 * 3600  # devices silent for longer than this are not put back on the map
LOCK_S = 120.0


def _case_docs(engine: Engine, book: CaseBook, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The hot docs of these cases as SQL has them now (a closed or unknown one: open=False)."""
    stored = load_cases(engine, case_ids)
    out = {cid: {"case_id": cid, "open": False} for cid in case_ids}
    for cid, c in stored.items():
        out[cid] = hot_doc(c.state, c.extra, book.rules, book.policy)
    return out


def reconcile_cases(hot: HotStore, engine: Engine, book: CaseBook) -> dict[str, int]:
    """Make Redis's open cases equal SQL's. Returns how many were put right, and how many were
    left for the next round because a worker held their lock."""
    in_redis = {d["case_id"]: d for d in hot.open_cases()}  # Redis first: a batch between the reads is seen in SQL
    with engine.connect() as conn:
        in_sql = {c.state.case_id: hot_doc(c.state, c.extra, book.rules, book.policy) for c in open_cases(conn)}
    differ = sorted(cid for cid in in_redis.keys() | in_sql.keys() if in_redis.get(cid) != in_sql.get(cid))
    fixed = busy = 0
    for i in range(0, len(differ), 500):
        chunk = differ[i:i + 500]
        locked = hot.lock_cases(chunk, book.token)
        try:
            docs = _case_docs(engine, book, sorted(locked))
            hot.put_cases([docs[c] for c in sorted(locked)])
        finally:
            hot.unlock_cases(locked, book.token)
        fixed += len(locked)
        busy += len(chunk) - len(locked)
    if fixed or busy:
        log.warning("hot state reconciled with SQL: %d cases put right, %d busy (next round)", fixed, busy)
    return {"fixed": fixed, "busy": busy}


def rebuild(hot: HotStore, engine: Engine, book: CaseBook, now: float | None = None) -> dict[str, int]:
    """Put the picture back from SQL (whatever Redis still has is kept or overwritten)."""
    now = time.time() if now is None else now
    known = read_last_known(engine, since=now - DEVICE_WINDOW_S)
    AlertHandling(engine, hot).restore(now)  # first: put_alerts leaves the handled ones out
    alerts = [alert_doc(a) for a in known.alerts]
    hot.put_alerts(alerts)
    fixes = [DeviceFix(p.device_id, p.ts, p.lat, p.lon, device_doc(p)) for p in known.positions]
    devices = len(hot.write_positions(fixes))
    hot.restore_stats(FeedCounters(engine).read())
    cases = reconcile_cases(hot, engine, book)
    hot.mark_alive(now)
    counts = {"cases": len(known.cases), "cases_fixed": cases["fixed"], "alerts": len(alerts), "devices": devices}
    log.warning("hot state rebuilt from SQL: %s", counts)
    return counts


def rebuild_if_empty(hot: HotStore, engine: Engine, book: CaseBook, owner: str = "rebuild") -> dict[str, int] | None:
    """Rebuild when Redis has no picture, once among all workers (the one that takes the lock;
    the others go on and see ``{gw}:alive`` again within a tick or two)."""
    if not hot.is_empty() or not hot.take_lock("rebuild", owner, LOCK_S):
        return None
    try:
        if not hot.is_empty():  # another worker finished it between our two looks
            return None
        return rebuild(hot, engine, book)
    finally:
        hot.release_lock("rebuild", owner)


def reconcile(hot: HotStore, engine: Engine, book: CaseBook, owner: str) -> dict[str, int] | None:
    """One worker's reconcile round (skipped when another worker is rebuilding or reconciling)."""
    if not hot.take_lock("rebuild", owner, LOCK_S):
        return None
    try:
        return reconcile_cases(hot, engine, book)
    finally:
        hot.release_lock("rebuild", owner)

