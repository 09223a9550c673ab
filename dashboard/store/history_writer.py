"""The SQL history's writes: one transaction per ingest batch for everything that needs history
(positions, devices, alerts, case events, the case projection and its counters' view), and the
rows they are written as.

Case events are append-only with a unique event_id (a redelivery that slipped past the Redis
dedupe is still refused here); the case projection is written in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Table, delete, insert

from dashboard.casework.casestate import CaseState
from dashboard.records import Alert, CaseEvent, Position, event_digest
from dashboard.store.casedoc import to_doc
from dashboard.store.db import dialect_insert
from dashboard.store.feed_counters import add_counters
from dashboard.store.models import (
    AlertRow,
    CaseEventRow,
    CaseRow,
    CaseStatRow,
    CaseStepRow,
    DeviceRow,
    PositionRow,
    utc,
)

DEVICE_REFRESH_S = 60.0  # last_seen in SQL is for reports, not live: once a minute is enough


def upsert(conn: Any, engine: Engine, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> None:
    if not rows:
        return
    stmt = dialect_insert(engine, table)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in key}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=update), list(rows))


def insert_new(conn: Any, engine: Engine, table: Table, rows: Sequence[Mapping[str, Any]], key: str) -> None:
    if rows:
        conn.execute(dialect_insert(engine, table).on_conflict_do_nothing(index_elements=[key]), list(rows))


def position_row(p: Position) -> dict[str, Any]:
    return {"device_id": p.device_id, "ts": utc(p.ts), "lat": p.lat, "lon": p.lon, "speed": p.speed, "heading": p.heading}


def device_row(p: Position) -> dict[str, Any]:
    return {"device_id": p.device_id, "kind": p.kind, "subtype": p.subtype, "name": p.name,
            "department": p.department, "source": p.source, "last_seen": utc(p.ts)}


def alert_row(a: Alert) -> dict[str, Any]:
    return {"alert_id": a.alert_id, "camera_id": a.camera_id, "type": a.type, "state": a.state,
            "severity": a.severity, "start": utc(a.start), "end": utc(a.end), "lat": a.lat, "lon": a.lon,
            "confidence": a.confidence, "snapshot_url": a.snapshot_url, "source": a.source,
            "rule": a.rule, "alarm_key": a.alarm_key, "device_type": a.device_type, "department": a.department,
            "updated_at": utc(time.time())}


def event_row(e: CaseEvent) -> dict[str, Any]:
    return {"event_id": e.event_id, "case_id": e.case_id, "action": e.action, "ts": utc(e.ts),
            "actor": e.actor, "source": e.source, "payload": dict(e.case), "digest": event_digest(e)}


def case_row(case: CaseState, extra: dict[str, Any], last_event_id: str) -> dict[str, Any]:
    """The projection's row of a case: its columns for queries, and the whole state in ``doc``."""
    return {
        "case_id": case.case_id, "state": case.state.value, "source": case.source.value,
        "category": case.category, "class_code": case.class_code, "small_code": case.small_code,
        "grid_code": case.grid_code, "district": case.district, "street": case.street,
        "community": case.community, "department": case.department, "urgent": case.urgent,
        "condition": case.condition, "title": extra.get("title"), "lat": extra.get("lat"),
        "lon": extra.get("lon"), "reported_at": utc(case.reported_at), "filed_at": utc(case.filed_at),
        "dispatched_at": utc(case.dispatched_at), "feedback_at": utc(case.feedback_at),
        "closed_at": utc(case.closed_at), "deadline": utc(case.deadline),
        "doc": {"state": to_doc(case), "extra": extra}, "version": case.version,
        "last_event_id": last_event_id, "updated_at": utc(case.updated_at),
    }


class HistoryWriter:
    """Writes one batch's history (``write``). Remembers when it last wrote each device's row,
    so a device's last_seen is refreshed once a minute rather than with every fix."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._device_seen: dict[str, float] = {}

    def devices_due(self, positions: Iterable[Position]) -> list[dict[str, Any]]:
        """The device rows these positions make due for a refresh (and note them as written)."""
        rows: dict[str, dict[str, Any]] = {}
        for p in positions:
            last = self._device_seen.get(p.device_id)
            if last is None or p.ts - last >= DEVICE_REFRESH_S:
                self._device_seen[p.device_id] = p.ts
                rows[p.device_id] = device_row(p)
        return list(rows.values())

    def write(
        self,
        *,
        positions: Sequence[Position] = (),
        devices: Sequence[Mapping[str, Any]] = (),
        alerts: Sequence[Alert] = (),
        events: Sequence[CaseEvent] = (),
        cases: Sequence[Mapping[str, Any]] = (),
        case_stats: Sequence[Mapping[str, Any]] = (),
        case_steps: Sequence[Mapping[str, Any]] = (),
        counters: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """``counters``: the batch's ingest counts (dashboard/store/feed_counters.py), added in
        the same transaction."""
        if not (positions or devices or alerts or events or cases or case_stats or counters):
            return
        latest_alerts = {a.alert_id: alert_row(a) for a in sorted(alerts, key=lambda a: (a.end or a.start))}
        with self.engine.begin() as conn:
            if counters:
                add_counters(conn, self.engine, counters)
            if positions:
                conn.execute(insert(PositionRow.__table__), [position_row(p) for p in positions])
            upsert(conn, self.engine, DeviceRow.__table__, list(devices), ["device_id"])
            upsert(conn, self.engine, AlertRow.__table__, list(latest_alerts.values()), ["alert_id"])
            insert_new(conn, self.engine, CaseEventRow.__table__, [event_row(e) for e in events], "event_id")
            upsert(conn, self.engine, CaseRow.__table__, list(cases), ["case_id"])
            if case_stats:
                ids = [row["case_id"] for row in case_stats]
                upsert(conn, self.engine, CaseStatRow.__table__, list(case_stats), ["case_id"])
                # A case's steps are few and change together: replace them rather than diff.
                conn.execute(delete(CaseStepRow.__table__).where(CaseStepRow.case_id.in_(ids)))
                if case_steps:
                    conn.execute(insert(CaseStepRow.__table__), list(case_steps))
