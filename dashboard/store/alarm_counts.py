"""The supervision alarms counted (docs/supervision.md "Counting"): per local day, rule, device
type and department, from the alert table's rows (feeds/steps/watch.py writes one row per alarm,
its id made of device, rule, key and start: an alarm decided twice is still one row, counted once).
An alarm counts on the day it started, in the city's zone."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from dashboard.store.models import AlertRow

Key = tuple[date, str, str, str]  # (local day, rule, device type, department)


def _days(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local day ``first`` 00:00 to the day after ``last``, in the city's zone."""
    return (datetime.combine(first, datetime.min.time(), tz),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), tz))


def alarm_counts(engine: Engine, first: date, last: date, timezone: str) -> Counter[Key]:
    """Alarms that started from local day ``first`` to ``last`` (both included)."""
    tz = ZoneInfo(timezone)
    lo, hi = _days(first, last, tz)
    q = (select(AlertRow.start, AlertRow.rule, AlertRow.device_type, AlertRow.department)
         .where(AlertRow.rule.is_not(None), AlertRow.start >= lo, AlertRow.start < hi))
    out: Counter[Key] = Counter()
    with engine.connect() as conn:
        for start, rule, device_type, department in conn.execute(q):
            out[(start.astimezone(tz).date(), rule, device_type or "", department or "")] += 1
    return out


def alarms_by_device(engine: Engine, first: date, last: date, timezone: str, device_type: str) -> Counter[str]:
    """Alarms that started from local day ``first`` to ``last``, per device of one type (the
    collector board's alarm column)."""
    lo, hi = _days(first, last, ZoneInfo(timezone))
    q = (select(AlertRow.camera_id, func.count())
         .where(AlertRow.rule.is_not(None), AlertRow.device_type == device_type, AlertRow.start >= lo,
                AlertRow.start < hi)
         .group_by(AlertRow.camera_id))
    with engine.connect() as conn:
        return Counter({device: int(n) for device, n in conn.execute(q)})
