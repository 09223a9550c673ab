"""The watch step: the supervision's rules on every vehicle fix (docs/supervision.md).

For each device in the batch, its state is read from Redis (dashboard/store/watch_state.py), its
fixes (in time order) and its platform's own alarms (``DeviceAlarm``, Traccar's events) go
through the rules (dashboard/casework/supervision.py) with what the zones and routes say of each
fix (dashboard/geofences.py), and the state is written back where no other worker wrote it
meanwhile (compare-and-set; a device that lost is run again on the newer state). What the rules
decided becomes ``Alert`` records on the batch: the store step writes them with the video
alerts, to SQL and to the live picture, so they reach the wall's ticker and map and the desk's
alert list by the one road alerts take.

An alarm's id is made of its device, rule, key and start (``alarm_id``): the same alarm decided
twice (a batch stored, its message redelivered) is the same row, counted once. A batch retried
after its store failed finds its fixes already in the state: the alerts the state's last write
made are made again (``emitted``), never lost.

Between batches, ``sweep`` raises the offline alarms: a device on duty that has sent nothing for
``offline_after_s`` (its silence is queued in Redis when its fix is watched).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard import limits as L
from dashboard.casework.supervision import (
    OFFLINE,
    RULE_SEVERITY,
    RULE_TYPES,
    Change,
    Facts,
    Limits,
    WatchState,
    at_task_place,
    in_hours,
    observe,
    observe_collector,
    said,
    silent,
)
from dashboard.geofences import NO_FACTS, Ask
from dashboard.records import Alert, DeviceAlarm, Position
from dashboard.store.watch_state import DayAdds, WatchStates
from dashboard.supervision_config import Supervision
from feeds.steps.batch import Batch

log = logging.getLogger("gridwall.watch")

MAX_TRIES = 5  # compare-and-set rounds before the batch is given up (and retried whole)
SILENT_FORGET_S = 24 * 3600.0  # a device silent this long is no longer swept (it was told once)
OFF_DUTY_RECHECK_S = 600.0  # a silent device off duty is looked at again this much later
RULE_SOURCE = "rule"  # an alarm gridwall's own rules raised (Alert.source)
FLUSH_S = 30.0  # a device's moves (no condition changed) are written at least this often, in its time
KNOWN_MAX = 100_000  # device states a worker keeps in memory between batches (then it starts again)


@dataclass(slots=True)
class Known:
    """A device's watch state as this worker last read or wrote it: its version (None: never
    written), the rules' state, what the device said of itself, and the alerts of its last write."""

    v: int | None
    state: WatchState
    meta: dict[str, Any]
    emitted: list[dict[str, Any]]
    written_ts: float = -math.inf  # the state's newest fix when it was last written
    dirty: bool = False  # fixes run since that are not written yet (see _apply)

    @classmethod
    def of(cls, doc: dict[str, Any] | None) -> Known:
        if not doc:
            return cls(None, WatchState(), {}, [])
        state = WatchState.from_json(doc)
        return cls(int(doc["v"]) if "v" in doc else None, state, dict(doc.get("meta") or {}), list(doc.get("emitted") or []),
                   state.ts)

    def doc(self) -> dict[str, Any]:
        return {**self.state.to_json(), "meta": self.meta, "emitted": self.emitted}


def alarm_id(device_id: str, rule: str, key: str, start: float) -> str:
    """The alarm's id: readable where it fits, a digest of the same where a long id would not."""
    text = f"{device_id}/{rule}/{key}/{round(start * 1000)}"
    if len(text) <= L.ALERT_ID:
        return text
    return f"alarm/{hashlib.blake2b(text.encode(), digest_size=16).hexdigest()}"


class Watch:
    def __init__(self, states: WatchStates, supervision: Supervision, timezone: str) -> None:
        self.states = states
        self.sup = supervision
        self.tz = ZoneInfo(timezone)
        self._limits: dict[str | None, Limits] = {}
        self._known: dict[str, Known] = {}  # device -> its state as this worker last wrote it
        self._facts: dict[int, Facts] = {}  # the batch's vehicle fixes (by id()) -> what the geometry says
        self._offsets: dict[int, float] = {}  # hour (epoch // 3600) -> the zone's UTC offset then, s
        # Collector -> the places of the tasks sent to it (lat, lon, sent), read again each sweep.
        self._tasks: dict[str, list[tuple[float, float, float]]] = {}

    # --- the step ---------------------------------------------------------------------------
    def run(self, batch: Batch) -> None:
        records = batch.records
        alarms = [r for r in records if isinstance(r, DeviceAlarm)]
        if alarms:  # a platform's alarm is not stored as such: it becomes an alert here
            batch.records = records = [r for r in records if not isinstance(r, DeviceAlarm)]
        if not self.sup.enabled:
            return
        items: dict[str, list[Position | DeviceAlarm]] = {}
        for r in records:
            if isinstance(r, Position):
                items.setdefault(r.device_id, []).append(r)
        for a in alarms:
            items.setdefault(a.device_id, []).append(a)
        if items:
            for seq in items.values():
                seq.sort(key=lambda r: r.ts)
            # What the zones and routes say of every vehicle fix, at once (it does not depend on
            # the state, so a device run again after a lost race reuses it).
            # Only the fixes some zone or route concerns are asked about.
            concerns = self.sup.geofences.concerns
            vehicles = [r for r in records if isinstance(r, Position) and r.kind == "vehicle"
                        and concerns(r.device_id, r.subtype)]
            asks = []
            for r in vehicles:
                limits = self._limits_for(r.subtype)
                asks.append(Ask(r.device_id, r.subtype, r.lat, r.lon, self._minute(r.ts), limits.edge_m,
                                limits.route_buffer_m))
            self._facts = dict(zip(map(id, vehicles), self.sup.geofences.facts_many(asks), strict=True))
            try:
                records.extend(self._apply(items, batch.now))
            finally:
                self._facts = {}

    def _apply(self, items: dict[str, list[Position | DeviceAlarm]], now: float) -> list[Alert]:
        pending = sorted(items)
        out: list[Alert] = []
        cache = self._known
        try:
            for _ in range(MAX_TRIES):
                # The states this worker wrote last are known without asking: the compare-and-set
                # still checks each against Redis, and a device another worker changed is read again.
                missing = [d for d in pending if d not in cache]
                if missing:
                    if len(cache) + len(missing) > KNOWN_MAX:
                        self.flush()
                        cache.clear()
                        missing = pending
                    for device_id, doc in self.states.read(missing).items():
                        cache[device_id] = Known.of(doc)
                writes: dict[str, tuple[dict[str, Any] | None, dict[str, Any], float | None | str]] = {}
                made: dict[str, list[Alert]] = {}
                days: dict[str, DayAdds] = {}
                for device_id in pending:
                    known = cache[device_id]
                    st = known.state
                    # What other workers must see: the conditions (copied only when there are any).
                    shape = (dict(st.pending), dict(st.open)) if st.pending or st.open else None
                    still = st.still
                    made[device_id], new, before = self._device(device_id, known, items[device_id], now, days)
                    # Written when a condition began, ended or held on (the shared part of the
                    # state), or when the newest fix written is FLUSH_S old: between those, a fix
                    # only moves the device on, and that waits in memory (flushed by the sweep
                    # too). A worker that reads it meanwhile sees every condition as it is.
                    if known.written_ts == -math.inf:  # a device new to Redis: its first write waits too
                        known.written_ts = st.ts
                    changed = (bool(st.pending or st.open) if shape is None else (st.pending, st.open) != shape
                               ) or st.still != still
                    if made[device_id] or changed or st.ts - known.written_ts >= FLUSH_S or new is not None:
                        writes[device_id] = (None if known.v is None else {"v": known.v}, new or known.doc(),
                                             self._due(known, before, now))
                    else:
                        known.dirty = True
                lost = self.states.write(writes)
                won = [d for d in pending if d not in lost]
                for device_id in won:
                    known = cache[device_id]
                    if device_id in writes:
                        known.v = (known.v or 0) + 1  # as the script counted it
                        known.written_ts, known.dirty = known.state.ts, False
                    out.extend(made[device_id])
                for device_id in lost:
                    del cache[device_id]  # changed by another worker: read it again
                # What the collectors' fixes add to their day, once: only the state's writer adds it.
                self.states.add_duty([days[d] for d in won if d in days])
                pending = sorted(lost)
                if not pending:
                    return out
        except BaseException:
            for device_id in pending:  # run but perhaps not written: known no more
                cache.pop(device_id, None)
            raise
        raise RuntimeError(f"supervision: {len(pending)} devices kept changing under this worker; batch retried")

    def _device(self, device_id: str, known: Known, seq: Sequence[Position | DeviceAlarm],
                now: float, days: dict[str, DayAdds]) -> tuple[list[Alert], dict[str, Any] | None, float]:
        """Run one device's fixes and alarms on its state (changed in place). Returns its alerts,
        the document to write when it must be written whatever changed (None: the caller decides)
        and the state's newest fix time before (for ``_due``)."""
        state, meta = known.state, known.meta
        before = state.ts
        # A batch whose newest fix is the state's newest already: this batch (or its copy) was
        # watched and written before; its store may have failed. Make its alerts again.
        if known.emitted and max((r.ts for r in seq if isinstance(r, Position)), default=None) == before:
            return [Alert(**a) for a in known.emitted], known.doc(), math.inf  # (as it was: "-")
        # (The document to write is made by the caller, and only when it writes: most fixes wait.)
        alerts: list[Alert] = []
        for r in seq:
            if isinstance(r, Position):
                if r.department:
                    meta["department"] = r.department
                if r.grid_code:
                    meta["grid"] = r.grid_code
                if r.kind == "collector":
                    meta["kind"] = meta["type"] = "collector"
                    meta["status"] = r.status or ""
                    changes = self._collector(device_id, r, state, days)
                else:
                    meta["kind"] = "vehicle"
                    if r.subtype:
                        meta["type"] = r.subtype
                    changes = observe(state, r.ts, r.lat, r.lon, r.speed, self._facts.get(id(r), NO_FACTS),
                                      self._limits_for(r.subtype))
                source = RULE_SOURCE
            else:
                meta.setdefault("type", r.kind)
                meta.setdefault("kind", r.kind)
                if r.rule == OFFLINE and r.phase == "start" and not self._on_duty(device_id, meta, r.ts):
                    continue  # a platform's offline off duty (parked for the night) is no alarm, as ours
                changes, source = said(state, r.rule, r.key, r.phase, r.ts, r.lat, r.lon, r.detail or ""), r.source
            if changes:
                alerts.extend(self._alert(device_id, c, meta, source) for c in changes)
        known.emitted = [_alert_dict(a) for a in alerts] if alerts else []
        return alerts, None, before

    def _due(self, known: Known, before: float, now: float) -> float | None | str:
        """When the device falls silent, as its write says it ("-": as it was)."""
        state = known.state
        if not state.ts > before:
            return "-"
        # A new fix: off the air if nothing more comes for offline_after_s. A fix that comes already
        # that old (a device's buffer sent late, an import) is history, not a device that just fell
        # silent: nobody is told of it now.
        due = state.ts + self._offline_after(known.meta)
        return None if "offline|" in state.open or due <= now else due

    def flush(self, now: float | None = None) -> None:
        """Write the states whose last fixes wait in memory: all of them, or at ``now`` those of
        the devices gone quiet (for FLUSH_S, or half their offline time if shorter), so that a
        device's last place is written before anyone judges its silence. A device that lost a
        race to another worker is forgotten: that worker's state is the newer."""
        dirty = {d: k for d, k in self._known.items()
                 if k.dirty and (now is None or now - k.state.ts >= min(FLUSH_S, self._offline_after(k.meta) / 2))}
        if not dirty:
            return
        writes: dict[str, tuple[dict[str, Any] | None, dict[str, Any], float | None | str]] = {}
        at = time.time() if now is None else now
        for device_id, known in dirty.items():
            # As a fix's write queues it (_due): a device whose silence began long ago is history.
            writes[device_id] = (None if known.v is None else {"v": known.v}, known.doc(),
                                 self._due(known, -math.inf, at))
        lost = self.states.write(writes)
        for device_id, known in dirty.items():
            if device_id in lost:
                del self._known[device_id]
            else:
                known.v = (known.v or 0) + 1
                known.written_ts, known.dirty = known.state.ts, False

    def _alert(self, device_id: str, c: Change, meta: dict[str, Any], source: str) -> Alert:
        severity = RULE_SEVERITY.get(c.rule, "alert")
        if c.phase == "start":
            state, end = "new", None
        elif c.phase == "end":
            state, end = "end", c.at
        else:  # an instant: a critical one waits on the desk for a person; the rest is told and done
            state, end = ("new", None) if severity == "critical" else ("end", c.at)
        return Alert(alert_id=alarm_id(device_id, c.rule, c.key, c.start), camera_id=device_id,
                     type=RULE_TYPES.get(c.rule, c.rule), state=state, start=c.start, end=end, lat=c.lat, lon=c.lon,
                     severity=severity, source=source, grid_code=meta.get("grid"), rule=c.rule,
                     alarm_key=c.key or None, device_type=meta.get("type") or meta.get("kind"),
                     department=meta.get("department"))

    def _collector(self, device_id: str, r: Position, state: WatchState, days: dict[str, DayAdds]) -> list[Change]:
        """A collector's fix: on duty by its rota unless it signed off; in its area when it has
        one and the fix is in a grid."""
        on = self.sup.on_duty(device_id, r.ts, r.status)
        area = self.sup.areas.get(device_id)
        in_area = None if not area or not r.grid_code else r.grid_code in area
        places = self._tasks.get(device_id)
        at_task = bool(places) and at_task_place(places, r.ts, r.lat, r.lon, self.sup.collector)
        changes, duty = observe_collector(state, r.ts, r.lat, r.lon, on, in_area, self.sup.collector, at_task)
        if duty.in_area_s or duty.metres or (on and r.grid_code):
            days.setdefault(device_id, DayAdds()).add(self._day(r.ts), device_id, duty.in_area_s, duty.metres,
                                                      r.grid_code if on else None)
        return changes

    def _offline_after(self, meta: dict[str, Any]) -> float:
        if meta.get("kind") == "collector":
            return self.sup.collector.offline_after_s
        return self.sup.limits_for(meta.get("type")).offline_after_s

    def _on_duty(self, device_id: str, meta: dict[str, Any], now: float) -> bool:
        if meta.get("kind") == "collector":
            return self.sup.on_duty(device_id, now, meta.get("status"))
        hours = self.sup.duty_hours(meta.get("type"))
        return not hours or in_hours(hours, self._minute(now))

    def _day(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).date().isoformat()

    def _limits_for(self, subtype: str | None) -> Limits:
        limits = self._limits.get(subtype)
        if limits is None:
            limits = self.sup.limits_for(subtype)
            if limits.watch_stops and not self.sup.geofences.has_sites:
                # "Outside its approved sites" says nothing where no site is drawn: every stop at
                # the yard would ring. The stop rule waits for the city's sites.
                limits = dataclasses.replace(limits, watch_stops=False)
            self._limits[subtype] = limits
        return limits

    def _minute(self, ts: float) -> int:
        """The local minute of the day at ts. The zone's offset is looked up once an hour of
        fixes (a datetime per fix cost more than the rules themselves)."""
        hour = int(ts // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            if len(self._offsets) > 1000:
                self._offsets.clear()
            delta = datetime.fromtimestamp(hour * 3600, self.tz).utcoffset()
            offset = self._offsets[hour] = delta.total_seconds() if delta else 0.0
        return int((ts + offset) // 60) % 1440

    # --- between batches: who went off the air ----------------------------------------------
    def sweep(self, batch: Batch) -> None:
        """The offline alarms due at ``batch.now``, as alerts on the batch (for the store step)."""
        if not self.sup.enabled:
            return
        now = batch.now
        self.flush(now)
        self._tasks = self.states.task_places(now, self.sup.collector.task_place_s)
        pending = self.states.silent_due(now)
        for device_id in pending:  # the sweep writes these: what this worker knows of them goes
            self._known.pop(device_id, None)
        for _ in range(MAX_TRIES):
            if not pending:
                return
            docs = self.states.read(pending)
            writes: dict[str, tuple[dict[str, Any] | None, dict[str, Any], float | None | str]] = {}
            made: dict[str, list[Alert]] = {}
            for device_id in pending:
                old = docs[device_id]
                if old is None:  # its state is gone (Redis lost it): nothing to tell
                    self.states.forget([device_id])
                    continue
                state = WatchState.from_json(old)
                meta = dict(old.get("meta") or {})
                changes = silent(state, now, self._on_duty(device_id, meta, now), self._offline_after(meta))
                alerts = [self._alert(device_id, c, meta, RULE_SOURCE) for c in changes]
                due: float | None = None
                if not changes and now - state.ts < SILENT_FORGET_S and "offline|" not in state.open:
                    due = now + OFF_DUTY_RECHECK_S
                writes[device_id] = (old, {**state.to_json(), "meta": meta,
                                           "emitted": [_alert_dict(a) for a in alerts] or old.get("emitted") or []}, due)
                made[device_id] = alerts
            lost = self.states.write(writes)
            for device_id, alerts in made.items():
                if device_id not in lost:
                    batch.records.extend(alerts)
            pending = sorted(lost)


def _alert_dict(a: Alert) -> dict[str, Any]:
    return {f.name: getattr(a, f.name) for f in dataclasses.fields(Alert)}
