"""The store step: the batch written once, SQL first, then Redis.

SQL first for what must survive (cases, alerts); Redis is rebuilt from it if lost. One SQL
transaction for the batch (dashboard/store/history_writer.py), Redis pipelines and the
newer-fix-wins script for the hot state (dashboard/store/hot.py). The per-case locks the case
step took are released whatever happens; a failure leaves the batch unstored, and the pipeline
has it retried whole.
"""

from __future__ import annotations

import time

from dashboard.records import Alert, DeviceStatus, Position
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore
from dashboard.store.liverank import LiveRank
from feeds.steps.alerts import alert_doc
from feeds.steps.batch import Batch
from feeds.steps.positions import Downsampler, fold


def _alert_time(a: Alert) -> float:
    return a.end or a.start


class Store:
    def __init__(self, hot: HotStore, history: HistoryWriter, downsampler: Downsampler,
                 live_rank: LiveRank | None) -> None:
        self.hot = hot
        self.history = history
        self.downsampler = downsampler
        self.live_rank = live_rank
        self.catchup = hot.catchup()  # is a stream of old case events (history) coming in?

    def run(self, batch: Batch) -> None:
        outcome = batch.outcome
        try:
            self._write(batch)
        finally:
            self.hot.unlock_cases(outcome.locked, outcome.lock_token)

    def _write(self, batch: Batch) -> None:
        records, outcome, result = batch.records, batch.outcome, batch.result
        positions = [r for r in records if isinstance(r, Position)]
        statuses = [r for r in records if isinstance(r, DeviceStatus)]
        alerts = [r for r in records if isinstance(r, Alert)]
        applied, case_docs = outcome.applied, outcome.docs

        self.history.write(
            positions=[p for p in positions if self.downsampler.keep(p)],
            devices=self.history.devices_due(positions),
            alerts=alerts,
            events=applied,
            cases=outcome.rows,
            case_stats=outcome.stats,
            case_steps=outcome.steps,
        )
        result.changed_devices = self.hot.write_positions(fold(positions))
        for s in statuses:
            if self.hot.set_device_fields(s.device_id, {"online": s.online, "status_ts": s.ts}):
                result.changed_devices.append(s.device_id)
        if alerts:
            self.hot.put_alerts([alert_doc(a) for a in sorted(alerts, key=_alert_time)])
            result.alerts_changed = True
            result.changed_alerts = list(dict.fromkeys(a.alert_id for a in alerts))
        if case_docs:
            self.hot.put_cases(case_docs)
            if self.live_rank is not None:
                self.live_rank.note_changes(outcome.changes, time.time())
            result.cases_changed = True
            result.changed_cases = list(dict.fromkeys(d["case_id"] for d in case_docs))
        if applied:
            self.catchup.note((e.ts for e in applied), batch.now)
        result.accepted["gps"] += len(positions) + len(statuses)
        result.accepted["video"] += len(alerts)
        result.accepted["case"] += len(applied)
