"""The working calendar: which instants count as working time (docs/domain.md §5.1).

Non-urgent limits run only inside the working periods of working days, in the city's local
time; instants are UTC epoch seconds everywhere else. A ranking over a million cases asks this
calendar for every case, so each local year is turned once into a sorted list of working
intervals in UTC with a running total; every question is then one or two binary searches.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PERIODS: tuple[str, ...] = ("08:00-12:00", "14:00-18:00")
DEFAULT_WEEKEND: tuple[int, ...] = (6, 7)  # ISO weekdays: Saturday, Sunday

# A calendar with no working time at all would make add_working loop forever.
_MAX_YEARS_AHEAD = 200


@dataclass(frozen=True, slots=True)
class _Year:
    """The working intervals of one local calendar year, in UTC."""

    first: float  # UTC instant of local Jan 1 00:00
    after: float  # UTC instant of local Jan 1 00:00 of the next year
    starts: list[float]
    ends: list[float]
    done_before: list[float]  # working seconds of the year before interval i starts
    done_after: list[float]  # working seconds of the year when interval i ends
    total: float

    def position(self, t: float) -> float:
        """Working seconds of this year that lie before instant ``t`` (t inside the year)."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.done_before[i] + min(t, self.ends[i]) - self.starts[i]

    def instant(self, done: float) -> float:
        """The earliest instant at which ``done`` (0 < done <= total) working seconds are used."""
        j = bisect.bisect_left(self.done_after, done)
        return self.starts[j] + (done - self.done_before[j])


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    if not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"time of day {text!r} is not written as HH:MM")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60 or int(minutes) >= 60:
        raise ValueError(f"time of day {text!r} is not between 00:00 and 24:00")
    return value


def _parse_period(period: str | Iterable[str]) -> tuple[int, int]:
    if isinstance(period, str):
        start, sep, end = period.partition("-")
        if not sep:
            raise ValueError(f"working period {period!r} is not written as HH:MM-HH:MM")
    else:
        start, end = period
    first, last = _minutes(start), _minutes(end)
    if first >= last:
        raise ValueError(f"working period {period!r} ends before it starts")
    return first, last


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class WorkCalendar:
    """Working periods per day, weekends, public holidays and make-up working days (调休).

    ``holidays`` are days off even when they fall on a weekday; ``workdays`` are weekend days
    that are worked. Days in neither list follow ``weekend``.
    """

    def __init__(
        self,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        periods: Iterable[str | Iterable[str]] = DEFAULT_PERIODS,
        weekend: Iterable[int] = DEFAULT_WEEKEND,
        holidays: Iterable[date | str] = (),
        workdays: Iterable[date | str] = (),
        hours_per_workday: float | None = None,
    ) -> None:
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        spans = sorted(_parse_period(p) for p in periods)
        if not spans:
            raise ValueError("a working calendar needs at least one working period per day")
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ValueError("working periods overlap")
        self.periods: tuple[tuple[int, int], ...] = tuple(spans)
        self.weekend = frozenset(int(d) for d in weekend)
        if not self.weekend <= set(range(1, 8)):
            raise ValueError("weekend days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        self.holidays = frozenset(_as_date(d) for d in holidays)
        self.workdays = frozenset(_as_date(d) for d in workdays)
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"days both off and worked: {sorted(map(str, both))}")
        if len(self.weekend) == 7 and not self.workdays:
            raise ValueError("a calendar where every day is a weekend has no working time")
        day_minutes = sum(end - start for start, end in self.periods)
        # One 工作日 is the day's working periods unless the city says otherwise (§5.1: 8 h).
        hours = day_minutes / 60 if hours_per_workday is None else float(hours_per_workday)
        if hours <= 0:
            raise ValueError("hours_per_workday must be positive")
        self.hours_per_workday = hours
        self._years: dict[int, _Year] = {}
        self._recent: _Year | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """Build from plain data: the keys are the keyword arguments of the constructor."""
        known = {"timezone", "periods", "weekend", "holidays", "workdays", "hours_per_workday"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown calendar settings: {sorted(unknown)}")
        return cls(**{key: value for key, value in data.items() if value is not None})

    @property
    def workday_seconds(self) -> float:
        """Length of one 工作日 in working seconds."""
        return self.hours_per_workday * 3600.0

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.isoweekday() not in self.weekend

    def local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self._tz).date()

    def is_working_instant(self, t: float) -> bool:
        year = self._year_of(t)
        i = bisect.bisect_right(year.starts, t) - 1
        return i >= 0 and t < year.ends[i]

    def working_seconds(self, start: float, end: float) -> float:
        """Working seconds between two instants; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_seconds(end, start)
        first = self._year_of(start)
        last = self._year_of(end)
        if first is last:
            return last.position(end) - first.position(start)
        total = first.total - first.position(start)
        year = self._next_year(first)
        while year is not last:
            total += year.total
            year = self._next_year(year)
        return total + last.position(end)

    def add_working(self, start: float, seconds: float) -> float:
        """The instant at which ``seconds`` of working time, counted from ``start``, are used.

        A limit that runs out exactly at the end of a period ends there (12:00), not at the
        start of the next one (14:00).
        """
        if seconds < 0:
            raise ValueError("cannot add a negative working duration")
        if seconds == 0:
            return start
        year = self._year_of(start)
        target = year.position(start) + seconds
        for _ in range(_MAX_YEARS_AHEAD):
            if target <= year.total:
                return year.instant(target)
            target -= year.total
            year = self._next_year(year)
        raise ValueError(f"no working time within {_MAX_YEARS_AHEAD} years")

    @staticmethod
    def add_natural(start: float, seconds: float) -> float:
        """Natural time (urgent limits): elapsed seconds, 24×7, whatever the local clock does."""
        return start + seconds

    def _year_of(self, t: float) -> _Year:
        recent = self._recent
        if recent is not None and recent.first <= t < recent.after:
            return recent
        year = self._year(datetime.fromtimestamp(t, self._tz).year)
        self._recent = year
        return year

    def _next_year(self, year: _Year) -> _Year:
        return self._year(datetime.fromtimestamp(year.first, self._tz).year + 1)

    def _year(self, number: int) -> _Year:
        cached = self._years.get(number)
        if cached is None:
            cached = self._years[number] = self._build_year(number)
        return cached

    def _build_year(self, number: int) -> _Year:
        starts: list[float] = []
        ends: list[float] = []
        day = date(number, 1, 1)
        one_day = timedelta(days=1)
        while day.year == number:
            if self.is_workday(day):
                midnight = datetime(day.year, day.month, day.day, tzinfo=self._tz)
                for first, last in self.periods:
                    # Local wall-clock times, converted one by one so a DST shift lands right.
                    starts.append(self._local(midnight, first))
                    ends.append(self._local(midnight, last))
            day += one_day
        done_before: list[float] = []
        done_after: list[float] = []
        done = 0.0
        for start, end in zip(starts, ends, strict=True):
            done_before.append(done)
            done += end - start
            done_after.append(done)
        return _Year(
            first=datetime(number, 1, 1, tzinfo=self._tz).timestamp(),
            after=datetime(number + 1, 1, 1, tzinfo=self._tz).timestamp(),
            starts=starts,
            ends=ends,
            done_before=done_before,
            done_after=done_after,
            total=done,
        )

    @staticmethod
    def _local(midnight: datetime, minutes: int) -> float:
        if minutes == 24 * 60:
            following = midnight.date() + timedelta(days=1)
            return datetime(following.year, following.month, following.day, tzinfo=midnight.tzinfo).timestamp()
        return midnight.replace(hour=minutes // 60, minute=minutes % 60).timestamp()
