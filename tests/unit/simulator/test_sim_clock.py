"""Working time and duty time of the simulator (Asia/Shanghai, 08:00–12:00 and 14:00–18:00)."""

from __future__ import annotations

import pytest
from sim_support import local

from feeds.simulator.clock import DUTY, HOLIDAY_DIR, WORK, load_holidays, local_day, local_hour, local_stamp, weekday


def test_local_calendar_helpers() -> None:
    t = local(2026, 3, 9, 9, 30)
    assert weekday(t) == 0 and local_hour(t) == 9
    assert local_stamp(t) == "2026030909"


def test_working_time_skips_lunch_nights_and_weekends() -> None:
    friday_1730 = local(2026, 3, 13, 17, 30)
    assert WORK.add(friday_1730, 3600) == local(2026, 3, 16, 8, 30)
    assert WORK.measure(friday_1730, local(2026, 3, 16, 8, 30)) == pytest.approx(3600)
    assert WORK.add(local(2026, 3, 9, 11, 0), 2 * 3600) == local(2026, 3, 9, 15, 0)
    assert WORK.add(local(2026, 3, 9, 20, 0), 0) == local(2026, 3, 10, 8, 0)
    assert WORK.day_seconds == 8 * 3600
    assert not WORK.is_open(local(2026, 3, 14, 9, 0))  # Saturday


def test_collectors_are_on_duty_every_day_in_the_same_hours() -> None:
    saturday_9 = local(2026, 3, 14, 9, 0)
    assert DUTY.is_open(saturday_9) and not DUTY.is_open(local(2026, 3, 14, 12, 30))
    assert DUTY.next_open(local(2026, 3, 14, 12, 30)) == local(2026, 3, 14, 14, 0)
    assert DUTY.window_end(saturday_9) == local(2026, 3, 14, 12, 0)


@pytest.mark.skipif(not HOLIDAY_DIR.is_dir(), reason="no holiday data files")
def test_working_time_follows_the_public_holiday_files() -> None:
    off, make_up = load_holidays()
    if local_day(local(2026, 2, 16, 9, 0)) not in off:
        pytest.skip("the holiday files do not cover 2026")
    assert not WORK.is_open(local(2026, 2, 16, 9, 0))  # Spring Festival, a Monday
    assert WORK.is_open(local(2026, 2, 14, 9, 0))  # the Saturday worked instead (调休)
    assert local_day(local(2026, 2, 14, 9, 0)) in make_up
    assert DUTY.is_open(local(2026, 2, 16, 9, 0))  # collectors still patrol
