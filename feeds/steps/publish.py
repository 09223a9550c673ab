"""Publish: once per tick, cut a new version of the live picture for the screens.

Coalescing happens here: however many fixes a device sent during the tick, the screens get its
latest state once. The counters are recomputed every tick even without messages, because a case
turns overdue by the clock alone.
"""

from __future__ import annotations

import time

from dashboard.store.hot import ALERT, HotStore

OFFLINE_AFTER_S = 300.0  # [D] docs/domain.md §7: offline_after_min = 5


class Ticker:
    def __init__(self, hot: HotStore, interval_s: float = 0.5, offline_after_s: float = OFFLINE_AFTER_S) -> None:
        self.hot = hot
        self.interval_s = interval_s
        self.offline_after_s = offline_after_s
        self.changed: set[str] = set()
        self._next = 0.0

    def note(self, device_ids: list[str]) -> None:
        self.changed.update(device_ids)

    def due(self, now: float) -> bool:
        return now >= self._next

    def tick(self, now: float | None = None) -> int | None:
        now = time.time() if now is None else now
        self._next = now + self.interval_s
        stats = self.hot.stats()
        kpi = {
            "ts": now,
            "cases": self.hot.case_counts(now),
            "devices": self.hot.online(now, self.offline_after_s),
            "alerts_active": self.hot.r.hlen(ALERT),
            "feeds": {feed: {"last_ts": s["last_ts"], "accepted": s["accepted"], "rejected": s["rejected"]}
                      for feed, s in stats.items()},
        }
        changed, self.changed = sorted(self.changed), set()
        return self.hot.publish_tick(changed, kpi)
