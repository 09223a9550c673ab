"""GET /healthz: is every part up, and how is each feed doing.

200 when the broker connection, Redis and the database are all up; 503 otherwise. The broker
state is what the ingest workers report (they hold the MQTT connections; the web server holds
none), with a heartbeat so a dead worker does not keep reporting "connected".
"""

from __future__ import annotations

import time
from typing import Any

from dashboard.store import db
from dashboard.store.hot import REDIS_DOWN, HotStore, read_broker_state

QUIET_AFTER_S = 60.0  # a feed with no message for this long is shown as quiet (not "down")


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
    ok = all(p.get("up") for p in parts.values())
    return {"status": "ok" if ok else "degraded", "parts": parts, "feeds": feeds, "time": now}, 200 if ok else 503
