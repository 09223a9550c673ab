"""Rebuild the hot state from SQL when Redis comes up empty (it was lost or flushed).

Open cases, active alerts and each device's last known position all have their history in SQL,
so a wall that lost its Redis shows the city again as soon as one ingest worker starts, rather
than an empty map until every device has reported again.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, func, select

from dashboard.casework.actions import TERMINAL_STATES
from dashboard.records import Alert, Position
from dashboard.store.casedoc import from_doc
from dashboard.store.hot import DeviceFix, HotStore
from dashboard.store.models import AlertRow, CaseRow, DeviceRow, PositionRow
from feeds.cases import CaseBook, hot_doc
from feeds.steps.alerts import alert_doc
from feeds.steps.positions import device_doc

log = logging.getLogger("gridwall.rebuild")

DEVICE_WINDOW_S = 24 * 3600  # devices silent for longer than this are not put back on the map


def rebuild_if_empty(hot: HotStore, engine: Engine, book: CaseBook) -> dict[str, int] | None:
    if not hot.is_empty():
        return None
    counts = {"cases": 0, "alerts": 0, "devices": 0}
    with engine.connect() as conn:
        terminal = [s.value for s in TERMINAL_STATES]
        docs = []
        for (doc,) in conn.execute(select(CaseRow.doc).where(CaseRow.state.not_in(terminal))):
            docs.append(hot_doc(from_doc(doc["state"]), dict(doc.get("extra") or {}), book.rules, book.policy))
        hot.put_cases(docs)
        counts["cases"] = len(docs)

        # Core rows (this is a Connection, not an ORM Session): mappings, not scalars.
        table = AlertRow.__table__
        alerts = [
            alert_doc(Alert(a["alert_id"], a["camera_id"], a["type"], a["state"], a["start"].timestamp(),
                            lat=a["lat"], lon=a["lon"], confidence=a["confidence"],
                            snapshot_url=a["snapshot_url"], severity=a["severity"], source=a["source"]))
            for a in conn.execute(select(table).where(table.c.state != "end")).mappings()
        ]
        hot.put_alerts(alerts)
        counts["alerts"] = len(alerts)

        since = time.time() - DEVICE_WINDOW_S
        latest = (select(PositionRow.device_id, func.max(PositionRow.ts).label("ts"))
                  .group_by(PositionRow.device_id).subquery())
        rows = conn.execute(
            select(DeviceRow.device_id, DeviceRow.kind, DeviceRow.subtype, DeviceRow.name, DeviceRow.department,
                   PositionRow.lat, PositionRow.lon, PositionRow.ts, PositionRow.speed, PositionRow.heading)
            .join(latest, (PositionRow.device_id == latest.c.device_id) & (PositionRow.ts == latest.c.ts))
            .join(DeviceRow, DeviceRow.device_id == PositionRow.device_id)
        ).mappings().all()
        fixes = []
        for row in rows:
            ts = row["ts"].timestamp()
            if ts < since:
                continue
            p = Position(row["device_id"], row["kind"], row["lat"], row["lon"], ts, subtype=row["subtype"],
                         speed=row["speed"], heading=row["heading"], name=row["name"], department=row["department"])
            fixes.append(DeviceFix(p.device_id, ts, p.lat, p.lon, device_doc(p)))
        counts["devices"] = len(hot.write_positions(fixes))
    log.info("hot state rebuilt from SQL: %s", counts)
    return counts
