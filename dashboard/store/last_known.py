"""What SQL knows of the live picture, for rebuilding the hot state when Redis comes up empty
(feeds/rebuild.py): the open cases, the alerts that have not ended, and each device's last
stored position. Read on one connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from dashboard.records import Alert, Position
from dashboard.store.case_states import StoredCase, open_cases
from dashboard.store.models import AlertRow, DeviceRow, PositionRow


@dataclass(frozen=True, slots=True)
class LastKnown:
    cases: list[StoredCase]
    alerts: list[Alert]
    positions: list[Position]  # one per device, the newest stored


def read_last_known(engine: Engine, since: float) -> LastKnown:
    """The picture as SQL has it; devices whose last position is older than ``since`` (epoch s)
    are left out."""
    with engine.connect() as conn:
        return LastKnown(open_cases(conn), active_alerts(conn), last_positions(conn, since))


def active_alerts(conn: Connection) -> list[Alert]:
    # Core rows (this is a Connection, not an ORM Session): mappings, not scalars.
    table = AlertRow.__table__
    return [
        Alert(a["alert_id"], a["camera_id"], a["type"], a["state"], a["start"].timestamp(),
              lat=a["lat"], lon=a["lon"], confidence=a["confidence"],
              snapshot_url=a["snapshot_url"], severity=a["severity"], source=a["source"])
        # Handled on the desk: off the screens for good (dashboard/store/alert_handling.py).
        for a in conn.execute(select(table).where(table.c.state != "end", table.c.handled_at.is_(None))).mappings()
    ]


def last_positions(conn: Connection, since: float) -> list[Position]:
    latest = (select(PositionRow.device_id, func.max(PositionRow.ts).label("ts"))
              .group_by(PositionRow.device_id).subquery())
    rows = conn.execute(
        select(DeviceRow.device_id, DeviceRow.kind, DeviceRow.subtype, DeviceRow.name, DeviceRow.department,
               PositionRow.lat, PositionRow.lon, PositionRow.ts, PositionRow.speed, PositionRow.heading)
        .join(latest, (PositionRow.device_id == latest.c.device_id) & (PositionRow.ts == latest.c.ts))
        .join(DeviceRow, DeviceRow.device_id == PositionRow.device_id)
    ).mappings().all()
    out = []
    for row in rows:
        ts = row["ts"].timestamp()
        if ts < since:
            continue
        out.append(Position(row["device_id"], row["kind"], row["lat"], row["lon"], ts, subtype=row["subtype"],
                            speed=row["speed"], heading=row["heading"], name=row["name"],
                            department=row["department"]))
    return out
