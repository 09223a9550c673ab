"""Reads of the desk's replay (docs/desk.md "Replay"): which devices a choice names (SQL's
``device`` table: one, a type, a department's vehicles, a collector team) and their positions in
a window (the ``position`` history, downsampled by feeds/steps/positions.py).

The rules that make a replay of the rows (stops, distance, moving time) are
dashboard/casework/tracks.py's; what the page gets is dashboard/screens/replay.py's. This module
only reads.

Bounded work whatever is asked: at most ``DEVICES_MAX`` devices a choice, at most ``limit``
fixes a read (the caller's ``replay_max_fixes``; one more is read to know it was cut), and the
positions are read by the ``(device_id, ts)`` index: one range per device, already in the order
the page needs. Times are turned into epoch seconds by the database (one float a row instead of
a datetime object made and converted in Python for each of hundreds of thousands of rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import Engine, Float, cast, extract, func, select

from dashboard import limits
from dashboard.store.models import DeviceRow, PositionRow, utc

DEVICES_MAX: Final = 5_000  # a choice naming more is refused (narrow it): the whole demo fleet is 1,000
READ_CACHE_KB: Final = 65_536  # SQLite's page cache while a replay is read (see fixes)
SQLITE_DEFAULT_CACHE: Final = -2000  # SQLite's own default (2 MB), what every other read runs with
_UNIX_EPOCH_JD: Final = 2440587.5  # the Julian day of 1970-01-01 00:00 UTC
_DAY_S: Final = 86400.0


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    kind: str
    subtype: str | None
    name: str | None
    department: str | None


@dataclass(frozen=True, slots=True)
class Fixes:
    """The fixes of a set of devices, per device in time order (parallel lists)."""

    ts: dict[str, list[float]]  # UTC epoch s, to the millisecond
    lat: dict[str, list[float]]
    lon: dict[str, list[float]]
    speed: dict[str, list[float | None]]
    count: int
    cut: bool  # more than the limit were there; ``count`` stops at it


def _device(row: Any) -> Device:
    return Device(row.device_id, row.kind, row.subtype, row.name, row.department)


def devices(engine: Engine, *, ids: Sequence[str] | None = None, kind: str | None = None, subtype: str | None = None,
            department: str | None = None, limit: int = DEVICES_MAX) -> list[Device]:
    """The devices a choice names, by id: ``ids`` (those SQL knows), or every device of a kind,
    a vehicle subtype and/or a department. At most ``limit`` (+1, so the caller can tell it was
    cut). Ids longer than the column are skipped: no device can have them."""
    d = DeviceRow
    stmt = select(d.device_id, d.kind, d.subtype, d.name, d.department)
    if ids is not None:
        wanted = [i for i in dict.fromkeys(ids) if 0 < len(i) <= limits.DEVICE_ID]
        if not wanted:
            return []
        stmt = stmt.where(d.device_id.in_(wanted))
    if kind is not None:
        stmt = stmt.where(d.kind == kind)
    if subtype is not None:
        stmt = stmt.where(d.subtype == subtype)
    if department is not None:
        stmt = stmt.where(d.department == department)
    with engine.connect() as conn:
        return [_device(r) for r in conn.execute(stmt.order_by(d.device_id).limit(limit + 1))]


def groups(engine: Engine) -> list[tuple[str, str | None, str | None, int]]:
    """What there is to choose from: (kind, subtype, department, devices), for the page's
    choices (a department's vehicles, a collector team, a type)."""
    d = DeviceRow
    stmt = (select(d.kind, d.subtype, d.department, func.count()).group_by(d.kind, d.subtype, d.department)
            .order_by(d.kind, d.subtype, d.department))
    with engine.connect() as conn:
        return [(r[0], r[1], r[2], int(r[3])) for r in conn.execute(stmt)]


def _epoch(engine: Engine) -> Any:
    """``position.ts`` as UTC epoch seconds, computed by the database. SQLite keeps it as naive
    UTC text, which julianday reads (to the millisecond, as SQLite's own time functions keep it)."""
    if engine.dialect.name == "sqlite":
        return (func.julianday(PositionRow.ts) - _UNIX_EPOCH_JD) * _DAY_S
    return cast(extract("epoch", PositionRow.ts), Float)


def fixes(engine: Engine, device_ids: Sequence[str], start: float, end: float, limit: int) -> Fixes:
    """Every stored fix of ``device_ids`` with ``start <= ts <= end`` (UTC epoch seconds), per
    device in time order, up to ``limit`` in all (``cut`` says more were there)."""
    p = PositionRow
    if not device_ids:
        return Fixes({}, {}, {}, {}, 0, False)
    stmt = (select(p.device_id, _epoch(engine), p.lat, p.lon, p.speed)
            .where(p.device_id.in_(list(device_ids)), p.ts >= utc(start), p.ts <= utc(end))
            .order_by(p.device_id, p.ts).limit(limit + 1))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Rows are stored as they arrived, every device's fixes of a minute side by side, so
            # reading one device after another revisits each page once per device on it; with
            # SQLite's default 2 MB page cache every visit is a read (0.67 s for 700 vehicles'
            # hour here, 0.39 s with this). Set back after the read, which frees the pages.
            conn.exec_driver_sql(f"PRAGMA cache_size = -{READ_CACHE_KB}")
        try:
            # The driver's own tuples: every column is a number or the id as the driver gives it,
            # so SQLAlchemy's Row for each of hundreds of thousands of rows would only cost time
            # (a third of the read; the statement and its parameters are still SQLAlchemy's).
            rows = conn.execute(stmt).cursor.fetchall()
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}")
    cut = len(rows) > limit
    if cut:
        del rows[limit:]
    out = Fixes({}, {}, {}, {}, len(rows), cut)
    for device_id, group in groupby(rows, key=itemgetter(0)):
        _, ts, lat, lon, speed = zip(*group, strict=True)  # one device's columns, transposed in C
        # To the millisecond on both databases: SQLite's time functions keep no finer (its
        # julianday is also off by some microseconds), and a stop of exactly five minutes must
        # be one on either.
        out.ts[device_id] = [round(t, 3) for t in ts]
        out.lat[device_id], out.lon[device_id] = list(lat), list(lon)
        out.speed[device_id] = list(speed)
    return out
