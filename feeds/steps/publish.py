"""Publish: once per tick, cut a new version of the live picture for the screens.

Coalescing happens here: however many fixes a device sent during the tick (or events a case, or
updates an alert), the screens get its latest state once; a case that closed or an alert that
ended during the tick goes out as a removal. The counters are recomputed every tick even without
messages, because a case turns overdue by the clock alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from dashboard.contract import OFFLINE_AFTER_S
from dashboard.store.alert_handling import take_touched
from dashboard.store.hot import HotStore


class Ticker:
    def __init__(self, hot: HotStore, interval_s: float = 0.5, offline_after_s: float = OFFLINE_AFTER_S) -> None:
        self.hot = hot
        self.interval_s = interval_s
        self.offline_after_s = offline_after_s
        self.changed: set[str] = set()  # device ids
        self.changed_cases: set[str] = set()
        self.changed_alerts: set[str] = set()
        self._next = 0.0
        self._first = True

    def note(self, device_ids: Iterable[str], case_ids: Iterable[str] = (), alert_ids: Iterable[str] = ()) -> None:
        self.changed.update(device_ids)
        self.changed_cases.update(case_ids)
        self.changed_alerts.update(alert_ids)

    def note_result(self, result: Any) -> None:
        """What one pipeline batch (feeds.steps.batch.BatchResult) changed."""
        self.note(result.changed_devices, getattr(result, "changed_cases", ()), getattr(result, "changed_alerts", ()))

    def force_reset(self) -> None:
        """The picture was rebuilt (Redis lost it): the next tick tells every screen to take the
        whole picture, as the first one does."""
        self._first = True

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
            "alerts_active": self.hot.active_alert_count(),
            "feeds": {feed: {"last_ts": s["last_ts"], "accepted": s["accepted"], "rejected": s["rejected"]}
                      for feed, s in stats.items()},
        }
        changed, self.changed = sorted(self.changed), set()
        cases, self.changed_cases = sorted(self.changed_cases), set()
        # The alerts handled on the desk since the last tick: their removal goes to the screens.
        self.changed_alerts.update(take_touched(self.hot))
        alerts, self.changed_alerts = sorted(self.changed_alerts), set()
        # A picture at version 0 (fresh, or just rebuilt from SQL) is not one screens can tell
        # from "nothing yet": the first tick moves it to version 1 with a reset mark, so the
        # screens take the whole picture.
        force, self._first = self._first and self.hot.version() == 0, False
        return self.hot.publish_tick(changed, kpi, cases, alerts, force=force)
