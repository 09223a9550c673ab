"""The collectors' duty figures (dashboard/casework/collector_duty.py): 在岗率 over the rota's
scheduled time up to now, coverage of the assigned grids as a mean of days, teams weighted by
time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.casework.collector_duty import by_team, days_of, figures
from dashboard.casework.workcalendar import WorkCalendar

TZ = "Asia/Shanghai"
ROTA = WorkCalendar(periods=("08:00-12:00", "14:00-18:00"), weekend=(6, 7))


@dataclass(frozen=True)
class Day:
    in_area_s: float
    metres: float
    grids: frozenset[str]


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(TZ)).timestamp()


def test_on_duty_rate_counts_the_schedule_up_to_now():
    # Friday 4 Dec 2026, seen at 10:00: two scheduled hours so far; one of them on duty in area.
    days = {date(2026, 12, 4): {"C1": Day(3600, 2500, frozenset({"G1"}))}}
    got = figures(["C1", "C2"], days, (at(2026, 12, 4), at(2026, 12, 5)), at(2026, 12, 4, 10), lambda _c: ROTA,
                  {"C1": frozenset({"G1", "G2"})}, TZ)
    assert got["C1"].on_duty_rate == pytest.approx(0.5) and got["C1"].coverage == pytest.approx(0.5)
    assert got["C1"].km == pytest.approx(2.5)
    assert got["C2"].on_duty_rate == 0 and got["C2"].coverage is None  # scheduled, nothing seen, no grids


def test_a_weekend_schedules_nothing_and_a_week_averages_coverage():
    week = (at(2026, 11, 30), at(2026, 12, 7))  # Monday to Sunday
    days = {date(2026, 11, 30): {"C1": Day(8 * 3600, 0, frozenset({"G1", "G2"}))},
            date(2026, 12, 5): {"C1": Day(3600, 0, frozenset({"G1"}))}}  # a Saturday: not scheduled
    got = figures(["C1"], days, week, week[1], lambda _c: ROTA, {"C1": frozenset({"G1", "G2"})}, TZ)["C1"]
    assert got.scheduled_s == 5 * 8 * 3600
    assert got.on_duty_rate == pytest.approx(8 / 40)  # the Saturday hour is outside every schedule
    assert got.coverage == pytest.approx(1 / 5)  # one full day of five
    assert len(days_of(*week, TZ)) == 7


def test_a_team_weighs_time_not_rates():
    days = {date(2026, 12, 4): {"A": Day(4 * 3600, 0, frozenset()), "B": Day(0, 0, frozenset())}}
    day = (at(2026, 12, 4), at(2026, 12, 5))
    short = WorkCalendar(periods=("08:00-09:00",), weekend=(6, 7))
    got = figures(["A", "B"], days, day, day[1], lambda c: ROTA if c == "A" else short, {}, TZ)
    team = by_team(got, {"A": "T", "B": "T"})["T"]
    assert team.on_duty_rate == pytest.approx(4 / 9)  # not the mean of 50 % and 0 %
