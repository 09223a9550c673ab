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


def test_the_wall_s_board_is_per_team_worst_rate_first_with_no_person_on_it():
    from collections import Counter

    from dashboard.screens.collector_board import team_board
    from dashboard.screens.names import Names
    from dashboard.supervision_config import Supervision

    now = at(2026, 12, 4, 10)  # a Friday, two hours into the rota
    sup = Supervision(rota=ROTA, areas={"A1": frozenset({"G1", "G2"})})
    collectors = [("A1", {"department": "HWC", "name": "张三"}, now - 10),
                  ("A2", {"department": "HWC", "status": "off_duty"}, now - 10),
                  ("B1", {"department": "SZC"}, now - 3600)]  # silent an hour: not on duty now
    today = {"A1": Day(7200, 3000, frozenset({"G1"})), "A2": Day(3600, 0, frozenset()), "B1": Day(600, 0, frozenset())}
    board = team_board(collectors, date(2026, 12, 4), today, Counter({"HWC": 2, "SZC": 1}),
                       (at(2026, 12, 4), at(2026, 12, 5)), now, sup, Names(None, None), TZ, 300)
    assert [r["code"] for r in board["rows"]] == ["SZC", "HWC"]  # 600 s of 2 h before 10,800 s of 4 h
    hwc = board["rows"][1]
    assert (hwc["members"], hwc["on_duty"], hwc["rate"], hwc["coverage"], hwc["km"], hwc["alarms"]) == \
        (2, 1, "75.00 %", "50.00 %", "3.0", 2)
    assert board["rows"][0]["rate"] == "8.33 %" and board["rows"][0]["low"] and hwc["low"]  # both under 80 %
    assert board["total"]["members"] == 3 and board["total"]["alarms"] == 3
    assert "张三" not in str(board)  # the wall shows teams, never a person
