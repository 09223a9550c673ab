"""The store step: the batch written once, SQL first, then Redis.

SQL first for what must survive (cases, alerts); Redis is rebuilt from it if lost. One SQL
transaction for the batch (dashboard/store/history_writer.py), Redis pipelines and the
newer-fix-wins script for the hot state (dashboard/store/hot.py). The per-case locks the case
step took are released whatever happens; a failure leaves the batch unstored, and the pipeline
has it retried whole.

Before anything is written, the batch's new devices take their places in the hot state, up to
``max_devices``: the fixes of a device it has no room for are refused (unknown_device, a dead
letter each) and stored nowhere, SQL included, so a sender that invents ids grows neither.
"""

from __future__ import annotations

import time
from collections import Counter

from dashboard.records import Alert, DeviceStatus, Position
from dashboard.store.feed_counters import counter_rows
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DEVICE_RETENTION_S, MAX_DEVICES, HotStore
from dashboard.store.liverank import LiveRank
from feeds.rejects import Reason
from feeds.steps.alerts import alert_doc
from feeds.steps.batch import Batch, feed_of
from feeds.steps.deadletters import DeadLetters
from feeds.steps.dedupe import ALERT_MARK, dedupe_key, mark_of
from feeds.steps.positions import Downsampler, fix_message, fold, newest_fixes, no_room, without


def _alert_time(a: Alert) -> float:
    return a.end or a.start


class Store:
    def __init__(self, hot: HotStore, history: HistoryWriter, downsampler: Downsampler,
                 live_rank: LiveRank | None, *, dead: DeadLetters | None = None,
                 max_devices: int = MAX_DEVICES, device_retention_s: float = DEVICE_RETENTION_S) -> None:
        self.hot = hot
        self.dead = dead  # where refused fixes go (the pipeline's dead letters)
        self.max_devices = max_devices
        self.device_retention_s = device_retention_s
        self._admitted: set[str] = set()  # devices this worker has seen given a place
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
        positions = self._admit(batch, [r for r in records if isinstance(r, Position)])
        statuses = [r for r in records if isinstance(r, DeviceStatus)]
        alerts = [r for r in records if isinstance(r, Alert)]
        applied, case_docs = outcome.applied, outcome.docs

        result.accepted["gps"] += len(positions) + len(statuses)
        result.accepted["video"] += sum(1 for a in alerts if a.rule is None)  # alarms are the watch's, not a feed's
        result.accepted["case"] += len(applied)
        # The counts known by now go into the batch's own transaction: a crash after the commit
        # must not leave the events stored but uncounted (their redelivery counts as duplicates).
        duplicates: Counter[str] = Counter()
        if not batch.spool:
            duplicates.update(feed_of(r) for r, _nth in batch.repeats)
            duplicates["case"] += len(outcome.duplicates)
        batch.counted = counter_rows(result.accepted, result.rejected, duplicates)
        self.history.write(
            positions=[p for p in positions if self.downsampler.keep(p)],
            devices=self.history.devices_due(positions),
            alerts=alerts,
            events=applied,
            cases=outcome.rows,
            case_stats=outcome.stats,
            case_steps=outcome.steps,
            counters=batch.counted,
        )
        result.changed_devices = self.hot.write_positions(fold(positions), self.max_devices, self.device_retention_s)
        for s in statuses:
            # What the status says, and only that: an ignition event leaves online as it was.
            fields = {k: v for k, v in (("online", s.online), ("ignition", s.ignition)) if v is not None}
            if fields and self.hot.set_device_fields(s.device_id, {**fields, "status_ts": s.ts}):
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
        # Only now, after the commit: a mark set earlier would make the redelivery of a batch that
        # died before its commit look like a duplicate, and lose it.
        self.hot.mark_seen({**{dedupe_key(e): mark_of(e) for e in applied},
                            **{dedupe_key(a): ALERT_MARK for a in alerts if a.rule is None}})  # type: ignore[dict-item]
        if applied:
            self.catchup.note((e.ts for e in applied), batch.now)

    def _admit(self, batch: Batch, positions: list[Position]) -> list[Position]:
        """The fixes of the devices the hot state has room for; the others refused."""
        if not positions:
            return positions
        # Only the devices this worker has not seen admitted ask Redis for a place: the others
        # have one (and the position script checks the bound again, should Redis have lost it).
        admitted = self._admitted
        newest = {d: ts for d, ts in newest_fixes(positions).items() if d not in admitted}
        refused = self.hot.admit_devices(newest, self.max_devices) if newest else set()
        if len(admitted) > self.max_devices:  # pruned devices linger here: start again
            admitted.clear()
        admitted.update(d for d in newest if d not in refused)
        if not refused:
            return positions
        for p in positions:
            if p.device_id in refused:
                detail = no_room(p.device_id, self.max_devices)
                if self.dead is not None:
                    self.dead.add(batch.result, "gps", fix_message(p, batch.now), Reason.UNKNOWN_DEVICE.value, detail)
                else:  # no dead letters wired (a store step on its own): counted all the same
                    batch.result.reject("gps", Reason.UNKNOWN_DEVICE.value)
        return without(positions, refused)
