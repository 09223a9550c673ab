"""Evaluation periods (考评周期) as half-open UTC ranges [start, end) of local calendar days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("day", "week", "month", "quarter", "year")


def _local_date(at: date | datetime | float, zone: ZoneInfo) -> date:
    if isinstance(at, datetime):
        return (at.astimezone(zone) if at.tzinfo is not None else at).date()
    if isinstance(at, date):
        return at
    return datetime.fromtimestamp(float(at), zone).date()


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def _first_of_month(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_bounds(kind: str, at: date | datetime | float) -> tuple[date, date]:
    """First day and the day after the last day of the period containing local date ``at``."""
    day = at if isinstance(at, date) and not isinstance(at, datetime) else None
    if day is None:
        raise TypeError("period_bounds takes a local date; use period_range for instants")
    if kind == "day":
        return day, day + timedelta(days=1)
    if kind == "week":  # ISO weeks start on Monday, as Chinese work weeks do
        first = day - timedelta(days=day.isoweekday() - 1)
        return first, first + timedelta(days=7)
    if kind == "month":
        return day.replace(day=1), _first_of_month(day.year, day.month + 1)
    if kind == "quarter":
        month = (day.month - 1) // 3 * 3 + 1
        return date(day.year, month, 1), _first_of_month(day.year, month + 3)
    if kind == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    raise ValueError(f"unknown period {kind!r}: expected one of {', '.join(PERIOD_KINDS)}")


def period_range(kind: str, at: date | datetime | float, timezone: str = "Asia/Shanghai") -> tuple[float, float]:
    """The UTC range [start, end) of the day/week/month/quarter/year containing ``at``.

    ``at`` is a local date, a datetime (naive = local) or UTC epoch seconds.
    """
    zone = ZoneInfo(timezone)
    first, after = period_bounds(kind, _local_date(at, zone))
    return _midnight(first, zone), _midnight(after, zone)


def date_range(first: date, last: date, timezone: str = "Asia/Shanghai") -> tuple[float, float]:
    """Any range of whole local days, ``last`` included, as a UTC range [start, end)."""
    if last < first:
        raise ValueError("the last day of a range comes before its first day")
    zone = ZoneInfo(timezone)
    return _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
