"""GET /healthz: is every part up, and how is each feed doing.

200 when the broker connection, Redis and the database are all up; 503 otherwise. "ingest" says
how ingest keeps up (lag, queue, GPS shed, batches retrying, incomplete cases); status "behind"
when it lags or retries. The broker
state is what the ingest workers report (they hold the MQTT connections; the web server holds
none), with a heartbeat so a dead worker does not keep reporting "connected". "dead_letters"
counts the refused messages waiting for an operator, from SQL (docs/deadletters.md).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import REDIS_DOWN, HotStore, read_broker_state
from dashboard.store.parked import ParkedEvents

QUIET_AFTER_S = 60.0  # a feed with no message for this long is shown as quiet (not "down")
BEHIND_AFTER_S = 5.0  # ingest is "behind" when a message has waited this long in a worker
INCOMPLETE_AFTER_S = 300.0  # a case event waiting this long for its predecessor: an incomplete case


def ingest_load(workers: dict[str, Any]) -> dict[str, Any]:
    """How ingest keeps up, from the workers' heartbeats (feeds/ingest.py): the longest wait of
    a message in a worker, what waits, the GPS fixes shed, and any batch being retried."""
    lag = max((float(w.get("lag_s") or 0) for w in workers.values()), default=0.0)
    return {
        "lag_s": round(lag, 2),
        "behind": lag > BEHIND_AFTER_S,
        "queue": sum(int(w.get("queue") or 0) for w in workers.values()),
        "shed": sum(int(w.get("shed") or 0) for w in workers.values()),
        "recovered": sum(int(w.get("recovered") or 0) for w in workers.values()),
        "retrying": {wid: w["retrying"] for wid, w in workers.items() if w.get("retrying")},
    }


def dead_letters(store: DeadLetterStore) -> dict[str, Any]:
    """The dead letters waiting for an operator (not replayed), by reason, and how many were
    replayed: one GROUP BY over a bounded table (`gridwall deadletters list` for the letters)."""
    by_reason: dict[str, int] = {}
    replayed = 0
    for c in store.summary():
        if c.waiting:
            by_reason[c.reason] = by_reason.get(c.reason, 0) + c.waiting
        replayed += c.replayed
    return {"total": sum(by_reason.values()), "by_reason": by_reason, "replayed": replayed}


def health(hot: HotStore, database_url: str, now: float | None = None) -> tuple[dict[str, Any], int]:
    now = time.time() if now is None else now
    parts: dict[str, Any] = {}
    feeds: dict[str, Any] = {}
    try:
        hot.ping()
        parts["redis"] = {"up": True}
        parts["broker"] = read_broker_state(hot, now)
        for feed, s in hot.stats().items():
            age = None if s["last_ts"] is None else round(max(now - s["last_ts"], 0.0), 1)
            feeds[feed] = {
                "accepted": s["accepted"],
                "rejected": s["rejected"],
                "duplicates": s["duplicates"],
                "rejected_by_reason": s["rejected_by_reason"],
                "last_message_age_s": age,
                "quiet": age is None or age > QUIET_AFTER_S,
            }
    except REDIS_DOWN as exc:
        parts["redis"] = {"up": False, "error": str(exc)[:200]}
        parts["broker"] = {"up": False, "error": "unknown: Redis is down"}
    parts["database"] = {"up": db.ping(database_url)}
    ingest = ingest_load(parts.get("broker", {}).get("workers") or {})
    body_dead: dict[str, Any] | None = None
    ok = all(p.get("up") for p in parts.values())
    if parts["database"]["up"]:
        with contextlib.suppress(Exception):
            ingest["cases_incomplete"] = ParkedEvents(db.engine_for(database_url)).incomplete_count(now - INCOMPLETE_AFTER_S)
        with contextlib.suppress(Exception):
            body_dead = dead_letters(DeadLetterStore(db.engine_for(database_url)))
    # Behind is not down: the web server is fine, so no 503 (a balancer would take it out), but
    # the status says it.
    status = ("behind" if ingest["behind"] or ingest["retrying"] else "ok") if ok else "degraded"
    body = {"status": status, "parts": parts, "feeds": feeds, "ingest": ingest, "time": now}
    if body_dead is not None:
        body["dead_letters"] = body_dead
    return body, 200 if ok else 503
