"""The working calendar: periods, weekends, 2026 holidays and 调休, time zones, speed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from casework_support import RULES, at, local
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import casedata
from dashboard.casework.workcalendar import WorkCalendar

CN = RULES.calendar  # the shipped calendar: 08–12, 14–18, with the 2026 holiday file
H = 3600


def test_friday_evening_plus_four_working_hours_is_monday_late_morning() -> None:
    assert local(CN.add_working(at(2026, 3, 6, 17, 30), 4 * H)).isoformat() == "2026-03-09T11:30:00"


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        ((2026, 3, 2, 8, 0), 4, "2026-03-02T12:00:00"),  # ends at the period end, not at 14:00
        ((2026, 3, 2, 8, 0), 4.5, "2026-03-02T14:30:00"),
        ((2026, 3, 2, 12, 30), 1, "2026-03-02T15:00:00"),  # reported in the lunch break
        ((2026, 3, 2, 6, 0), 1, "2026-03-02T09:00:00"),  # before the day starts
        ((2026, 3, 2, 19, 0), 1, "2026-03-03T09:00:00"),  # after it ends
        ((2026, 3, 7, 10, 0), 2, "2026-03-09T10:00:00"),  # on a Saturday
        ((2026, 3, 2, 9, 0), 16, "2026-03-04T09:00:00"),  # two working days
    ],
)
def test_add_working(start: tuple[int, ...], hours: float, end: str) -> None:
    assert local(CN.add_working(at(*start), hours * H)).isoformat() == end


def test_labour_day_week_and_the_make_up_saturday() -> None:
    # Thu 30 Apr 17:00 + 4 h: one hour on Thursday, 1–5 May off, three hours on Wed 6 May.
    assert local(CN.add_working(at(2026, 4, 30, 17, 0), 4 * H)).isoformat() == "2026-05-06T11:00:00"
    # Fri 8 May 17:00 + 2 h: the second hour falls on Saturday 9 May, a 调休 working day.
    assert local(CN.add_working(at(2026, 5, 8, 17, 0), 2 * H)).isoformat() == "2026-05-09T09:00:00"
    # ... and Sunday 10 May is an ordinary weekend day again.
    assert local(CN.add_working(at(2026, 5, 9, 17, 0), 2 * H)).isoformat() == "2026-05-11T09:00:00"
    # 30 Apr, 6–8 May and 9 May: five working days between Thursday morning and Saturday night.
    assert CN.working_seconds(at(2026, 4, 30, 8, 0), at(2026, 5, 9, 18, 0)) == 5 * 8 * H


def test_spring_festival_starts_after_a_working_saturday() -> None:
    assert CN.is_workday(date(2026, 2, 14))  # Saturday, 调休
    assert not CN.is_workday(date(2026, 2, 16)) and not CN.is_workday(date(2026, 2, 23))  # Mon, Mon
    assert local(CN.add_working(at(2026, 2, 13, 17, 0), 2 * H)).isoformat() == "2026-02-14T09:00:00"
    assert local(CN.add_working(at(2026, 2, 14, 17, 0), 2 * H)).isoformat() == "2026-02-24T09:00:00"


def test_new_year_across_the_year_boundary() -> None:
    # Wed 31 Dec 2025 17:00 + 2 h: 1–3 Jan off, Sunday 4 Jan is worked.
    assert local(CN.add_working(at(2025, 12, 31, 17, 0), 2 * H)).isoformat() == "2026-01-04T09:00:00"
    assert CN.working_seconds(at(2025, 12, 31, 17, 0), at(2026, 1, 4, 9, 0)) == 2 * H


def test_an_urgent_limit_crossing_midnight_runs_in_natural_time() -> None:
    limit = RULES.limits.disposal_limit("event", "0401")  # 路面塌陷: 2 小时, urgent
    start = at(2026, 5, 1, 23, 0)  # a holiday night
    assert local(RULES.deadline(start, limit)).isoformat() == "2026-05-02T01:00:00"
    assert CN.add_natural(start, 2 * H) == start + 2 * H


def test_working_seconds_is_signed_and_zero_over_a_weekend() -> None:
    friday, monday = at(2026, 3, 6, 18, 0), at(2026, 3, 9, 8, 0)
    assert CN.working_seconds(friday, monday) == 0
    assert CN.working_seconds(at(2026, 3, 9, 10, 0), at(2026, 3, 9, 9, 0)) == -H


def test_periods_are_local_time_stored_as_utc() -> None:
    assert CN.is_working_instant(datetime(2026, 3, 2, 0, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    assert not CN.is_working_instant(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("UTC")).timestamp())


def test_a_zone_with_daylight_saving_keeps_local_hours() -> None:
    berlin = WorkCalendar(timezone="Europe/Berlin")
    zone = ZoneInfo("Europe/Berlin")
    # Clocks went forward on Sunday 29 March 2026; Monday still has 8 working hours.
    start = datetime(2026, 3, 27, 9, 0, tzinfo=zone).timestamp()
    end = berlin.add_working(start, 8 * H)
    assert datetime.fromtimestamp(end, zone).replace(tzinfo=None).isoformat() == "2026-03-30T09:00:00"


def test_from_data_and_hours_per_workday() -> None:
    cal = WorkCalendar.from_data({"periods": ["09:00-12:00", "13:00-16:00"], "holidays": ["2026-03-03"]})
    assert cal.hours_per_workday == 6  # follows the periods unless set
    assert local(cal.add_working(at(2026, 3, 2, 15, 0), 2 * H)).isoformat() == "2026-03-04T10:00:00"
    assert WorkCalendar.from_data({"hours_per_workday": 8, "periods": ["09:00-15:00"]}).workday_seconds == 8 * H
    assert WorkCalendar(periods=["00:00-24:00"], weekend=[]).working_seconds(at(2026, 3, 7), at(2026, 3, 8)) == 24 * H


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"periods": ["08:00-12:00", "11:00-13:00"]}, "overlap"),
        ({"periods": ["12:00-08:00"]}, "ends before"),
        ({"periods": ["8h-12h"]}, "HH:MM"),
        ({"periods": []}, "at least one"),
        ({"holidays": ["2026-05-09"], "workdays": ["2026-05-09"]}, "both off and worked"),
        ({"weekend": [0]}, "ISO weekdays"),
        ({"weekend": [1, 2, 3, 4, 5, 6, 7]}, "every day"),
        ({"timezone": "Asia/Shanghai", "holiday": []}, "unknown calendar settings"),
    ],
)
def test_bad_calendar_data_is_refused(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_data(data)


def test_the_2026_file_holds_the_state_council_schedule() -> None:
    off, work = casedata.holiday_days([casedata.read_toml(casedata.HOLIDAY_DIR / "cn-2026.toml")])
    assert len(off) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert [d.isoformat() for d in work] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert all(d.isoweekday() in (6, 7) for d in work)  # make-up days fall on weekends
    assert date(2026, 10, 7) in off and date(2026, 10, 8) not in off


_instants = st.floats(min_value=at(2025, 6, 1), max_value=at(2027, 6, 1))


@settings(max_examples=300, deadline=None)
@given(_instants, st.floats(min_value=1, max_value=40 * 8 * H))
def test_adding_then_measuring_gives_back_the_duration(start: float, seconds: float) -> None:
    end = CN.add_working(start, seconds)
    assert end > start
    assert CN.working_seconds(start, end) == pytest.approx(seconds, abs=1e-3)
    assert CN.is_working_instant(end - 1e-3)  # a limit runs out inside working time


@settings(max_examples=300, deadline=None)
@given(_instants, _instants, _instants)
def test_working_time_adds_up(a: float, b: float, c: float) -> None:
    assert CN.working_seconds(a, c) == pytest.approx(CN.working_seconds(a, b) + CN.working_seconds(b, c), abs=1e-3)
    assert abs(CN.working_seconds(a, b)) <= abs(b - a) + 1e-6  # never more than elapsed time


def test_deadline_and_elapsed_agree_over_many_starts() -> None:
    # (Speed, ~3 µs a pair, is a benchmark's to measure, not a timed test's.)
    cal = casedata.load_calendar()
    start = at(2026, 1, 5, 9, 0)
    for i in range(0, 50_000, 97):
        due = cal.add_working(start + i * 613, 4 * H)
        assert cal.working_seconds(start + i * 613, due) == pytest.approx(4 * H, abs=1e-3)


def test_holiday_files_are_merged(tmp_path) -> None:
    local_file = tmp_path / "local.toml"
    local_file.write_text('off = [2026-03-05]\n[[holiday]]\nname = "x"\nfirst = 2026-03-10\n', encoding="utf-8")
    cal = casedata.load_calendar([casedata.HOLIDAY_DIR / "cn-2026.toml", local_file])
    assert not cal.is_workday(date(2026, 3, 5)) and not cal.is_workday(date(2026, 3, 10))
    assert cal.is_workday(date(2026, 3, 11)) and cal.is_workday(date(2026, 5, 9))
    clash = tmp_path / "clash.toml"
    clash.write_text("off = [2026-05-09]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both off and worked"):
        casedata.load_calendar([casedata.HOLIDAY_DIR / "cn-2026.toml", clash])
