"""The city's trend: reports, 结案率 and 按期结案率 per week or month over the last N periods.

One point is the city's counters for one period (``evaluate(..., "city", ...)``), so a trend
point and `gridwall rank --by city` for the same period can never differ. The current period is
counted up to ``now`` and flagged ``partial``. The briefing's trend scene and the reports' trend
charts both read this (docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.casework.counters import Counters
from dashboard.casework.period_labels import label_of, previous_first_day
from dashboard.casework.periods import period_bounds, period_range
from dashboard.casework.rates import rates
from dashboard.store.evaluation import evaluate

TREND_UNITS = ("week", "month")


@dataclass(frozen=True, slots=True)
class TrendPoint:
    first_day: date  # the period's first local day
    label: str  # "2026-11" or "2026-W47"
    reported: int  # 上报数
    filed: int  # 立案数
    closed: int  # 结案数
    close_rate: float | None  # 结案率, None when nothing was due
    on_time_close_rate: float | None  # 按期结案率
    partial: bool  # the period has not ended yet at ``now``


def period_starts(unit: str, count: int, now: float, timezone: str) -> list[date]:
    """The first local days of the last ``count`` periods of ``unit``, oldest first, the one
    holding ``now`` last."""
    if unit not in TREND_UNITS:
        raise ValueError(f"unknown trend unit {unit!r}: expected one of {', '.join(TREND_UNITS)}")
    if count < 1:
        raise ValueError("a trend needs at least one period")
    first, _ = period_bounds(unit, datetime.fromtimestamp(now, ZoneInfo(timezone)).date())
    out = [first]
    for _ in range(count - 1):
        out.append(previous_first_day(unit, out[-1]))
    return out[::-1]


def point(unit: str, first_day: date, counters: Counters, partial: bool) -> TrendPoint:
    r = rates(counters)
    return TrendPoint(first_day, label_of(unit, first_day), counters.reported, counters.filed, counters.closed,
                      r["close_rate"], r["on_time_close_rate"], partial)


def trend(engine: Engine, unit: str, count: int, now: float, timezone: str,
          preset: str = "cjt292") -> list[TrendPoint]:
    """The last ``count`` weeks or months up to ``now``, oldest first."""
    out = []
    for first_day in period_starts(unit, count, now, timezone):
        period = period_range(unit, first_day, timezone)
        result = evaluate(engine, "city", period, now, preset)
        counters = result.rows[0].counters if result.rows else Counters()
        out.append(point(unit, first_day, counters, partial=period[1] > now))
    return out
