"""Is the case history still streaming in? While ingest applies case events much older than
their arrival (the demo's 30-day backfill, a broker backlog after an outage, an import), the
open cases and the counters are not yet what the history says: cases that later events close
are still open. The screens show a loading state instead of those numbers.

Ingest notes every batch's case events (``note``); a catch-up is under way while old events
keep coming, and ends by itself a few seconds after the last one (the key expires). A lone
late event (a handheld back in range) is not a catch-up: it takes ``MIN_EVENTS`` old events.
The progress is how far the event time has come from where the catch-up started to now.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from dashboard.store.keys import HISTORY_CATCHUP

OLD_S = 600.0  # an event this much older than its arrival is history, not news
MIN_EVENTS = 50  # old events before the screens say "loading"
QUIET_S = 5  # the catch-up is over this long after its last old event

# since: the event time the catch-up started from (the first old event's); latest: the newest
# old event time; received: when the last old event arrived.
_NOTE_LUA = """
redis.call('HSETNX', KEYS[1], 'since', ARGV[1])
local latest = tonumber(redis.call('HGET', KEYS[1], 'latest') or '0')
if tonumber(ARGV[2]) > latest then redis.call('HSET', KEYS[1], 'latest', ARGV[2]) end
redis.call('HSET', KEYS[1], 'received', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'events', tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1
"""


class CatchUp:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._note = client.register_script(_NOTE_LUA)

    def note(self, event_times: Iterable[float], received: float) -> None:
        """Note the case events of one batch (their event times) that arrived at ``received``."""
        old = [t for t in event_times if received - t > OLD_S]
        if old:
            self._note(keys=[HISTORY_CATCHUP], args=[min(old), max(old), received, len(old), QUIET_S])

    def state(self) -> dict[str, Any]:
        """``{"ready": True}``, or ``{"ready": False, "pct": 0..99}`` while a catch-up runs."""
        raw = self.r.hgetall(HISTORY_CATCHUP)
        if not raw:
            return {"ready": True}
        doc = {k.decode(): float(v) for k, v in raw.items()}  # type: ignore[union-attr]
        if doc.get("events", 0) < MIN_EVENTS:
            return {"ready": True}
        since, latest, received = doc.get("since", 0.0), doc.get("latest", 0.0), doc.get("received", 0.0)
        span = received - since
        pct = 0 if span <= 0 else round(99 * min(max((latest - since) / span, 0.0), 1.0))
        return {"ready": False, "pct": pct}
