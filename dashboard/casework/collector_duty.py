"""The collectors' duty figures (docs/supervision.md "Collectors"): 在岗率, grid coverage and
distance walked, per collector and per team, for a day or a period. Pure: the day figures the
watch step keeps (dashboard/store/watch_state.py ``DutyDay``), the rotas and the 责任网格 come
in; ``now`` is a parameter.

- **在岗率** = time on duty with fixes inside the patrol area / scheduled time (the rota's
  working seconds of the period, up to ``now``). A stretch between two fixes counts as the fix
  that began it was; nothing across a gap in fixes.
- **Coverage**: the share of its assigned grids a collector passed through on duty that day; for
  a period, the mean over its scheduled days.
- **Distance**: metres between consecutive fixes, none across a gap.

A team's 在岗率 is its members' time over their scheduled time (not a mean of rates: a member
scheduled for one hour weighs an hour). Its coverage is the mean of its members' day coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dashboard.casework.workcalendar import WorkCalendar


class DayFigures(Protocol):
    in_area_s: float
    metres: float
    grids: frozenset[str]


@dataclass(frozen=True, slots=True)
class DutyFigures:
    in_area_s: float = 0.0
    scheduled_s: float = 0.0
    metres: float = 0.0
    coverage_sum: float = 0.0  # the days' coverage shares, summed
    coverage_days: int = 0  # the scheduled days of a collector with assigned grids

    @property
    def on_duty_rate(self) -> float | None:
        return min(1.0, self.in_area_s / self.scheduled_s) if self.scheduled_s > 0 else None

    @property
    def coverage(self) -> float | None:
        return self.coverage_sum / self.coverage_days if self.coverage_days else None

    @property
    def km(self) -> float:
        return self.metres / 1000.0

    def __add__(self, other: DutyFigures) -> DutyFigures:
        return DutyFigures(self.in_area_s + other.in_area_s, self.scheduled_s + other.scheduled_s,
                           self.metres + other.metres, self.coverage_sum + other.coverage_sum,
                           self.coverage_days + other.coverage_days)


def days_of(start: float, end: float, timezone: str) -> list[date]:
    """The local days a period [start, end) touches."""
    tz = ZoneInfo(timezone)
    first, last = datetime.fromtimestamp(start, tz).date(), datetime.fromtimestamp(max(start, end - 1e-3), tz).date()
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def figures(collectors: Iterable[str], days: Mapping[date, Mapping[str, DayFigures]], period: tuple[float, float],
            now: float, rota_of: Callable[[str], WorkCalendar], areas: Mapping[str, frozenset[str]],
            timezone: str) -> dict[str, DutyFigures]:
    """Each collector's figures over ``period`` (local days as ``days_of`` gives them), counted
    up to ``now``. ``days``: local day -> collector -> that day's figures (missing: nothing)."""
    tz = ZoneInfo(timezone)
    start, end = period[0], min(period[1], now)
    out: dict[str, DutyFigures] = {}
    for cid in collectors:
        rota = rota_of(cid)
        assigned = areas.get(cid, frozenset())
        total = DutyFigures()
        for day in days_of(period[0], period[1], timezone):
            lo = max(start, datetime.combine(day, datetime.min.time(), tz).timestamp())
            hi = min(end, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).timestamp())
            scheduled = rota.working_seconds(lo, hi) if hi > lo else 0.0
            got = days.get(day, {}).get(cid)
            in_area, metres = (got.in_area_s, got.metres) if got else (0.0, 0.0)
            cover, counted = 0.0, 0
            if assigned and scheduled > 0:
                cover, counted = len((got.grids if got else frozenset()) & assigned) / len(assigned), 1
            total = total + DutyFigures(min(in_area, scheduled) if scheduled > 0 else 0.0, scheduled, metres, cover,
                                        counted)
        out[cid] = total
    return out


def by_team(per_collector: Mapping[str, DutyFigures], team_of: Mapping[str, str]) -> dict[str, DutyFigures]:
    """The figures summed per team (a collector without a team is under "")."""
    out: dict[str, DutyFigures] = {}
    for cid, f in per_collector.items():
        team = team_of.get(cid, "")
        out[team] = out.get(team, DutyFigures()) + f
    return out
