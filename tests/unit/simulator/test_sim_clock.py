"""Local time and duty time of the simulator, and the working calendar it shares with the wall.

The departments' working time is the casework domain's WorkCalendar (tested in
tests/unit/casework); here only that the simulator uses it, and the collectors' own duty rota.
"""

from __future__ import annotations

from datetime import date

import pytest
from sim_support import local

from dashboard import casedata
from dashboard.casework.workcalendar import WorkCalendar
from feeds.simulator.clock import DUTY, Rota, local_day_start, local_hour, local_stamp, weekday
from feeds.simulator.world import shipped_rules


def test_local_calendar_helpers() -> None:
    t = local(2026, 3, 9, 9, 30)
    assert weekday(t) == 0 and local_hour(t) == 9
    assert local_stamp(t) == "2026030909"
    assert local_day_start(t) == local(2026, 3, 9, 0, 0)


def test_collectors_are_on_duty_every_day_in_the_same_hours() -> None:
    saturday_9 = local(2026, 3, 14, 9, 0)
    assert DUTY.is_open(saturday_9) and not DUTY.is_open(local(2026, 3, 14, 12, 30))
    assert not DUTY.is_open(local(2026, 3, 14, 12, 0))  # a period ends at its end
    assert DUTY.next_open(local(2026, 3, 14, 12, 30)) == local(2026, 3, 14, 14, 0)
    assert DUTY.next_open(saturday_9) == saturday_9
    assert DUTY.next_open(local(2026, 3, 14, 18, 0)) == local(2026, 3, 15, 8, 0)
    assert DUTY.window_end(saturday_9) == local(2026, 3, 14, 12, 0)
    assert DUTY.window_end(local(2026, 3, 14, 13, 0)) == local(2026, 3, 14, 18, 0)
    assert DUTY.add(local(2026, 3, 14, 11, 30), 3600) == local(2026, 3, 14, 14, 30)
    assert DUTY.measure(local(2026, 3, 14, 0, 0), local(2026, 3, 14, 15, 0)) == pytest.approx(5 * 3600)
    assert DUTY.is_open(local(2026, 2, 16, 9, 0))  # Spring Festival: collectors still patrol


def test_a_rota_follows_its_calendar_s_days_off() -> None:
    rota = Rota(WorkCalendar(holidays=[date(2026, 3, 16)]))  # Monday off
    friday_1730 = local(2026, 3, 13, 17, 30)
    assert rota.window_end(friday_1730) == local(2026, 3, 13, 18, 0)
    assert rota.next_open(local(2026, 3, 13, 18, 0)) == local(2026, 3, 17, 8, 0)


def test_the_departments_work_on_the_casework_calendar_and_limits() -> None:
    rules = shipped_rules()
    assert rules is shipped_rules()  # read once
    loaded = casedata.load_rules()  # what the wall's ingest uses when the city configures nothing
    assert rules.limits == loaded.limits
    calendar = rules.calendar
    assert (calendar.periods, calendar.holidays, calendar.workdays) == (
        loaded.calendar.periods, loaded.calendar.holidays, loaded.calendar.workdays)
    assert not calendar.is_working_instant(local(2026, 2, 16, 9, 0))  # Spring Festival, a Monday
    assert calendar.is_working_instant(local(2026, 2, 14, 9, 0))  # the Saturday worked instead (调休)
    assert calendar.workday_seconds == 8 * 3600
