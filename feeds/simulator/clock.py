"""Local time for the simulation, and the collectors' duty rota.

Asia/Shanghai has had no daylight saving since 1991, so the local-time helpers use a fixed UTC+8
offset: they only name hours and days (case ids, hour-of-day profiles, shifts) and stay plain
arithmetic. Working time is not counted here: the departments' working calendar (periods,
weekends, public holidays, 调休) and the time limits are the casework domain's own
(dashboard.casework, loaded through dashboard.casedata), so the simulator plans lateness on
exactly the clock the wall counts it on. The collectors' duty is a rota of the simulator, kept on
a WorkCalendar of its own so that all opening-hours arithmetic has one implementation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.casework.workcalendar import WorkCalendar

OFFSET_S = 8 * 3600
DAY_S = 86400
HOUR_S = 3600
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
# How far ahead a rota looks for its next window; a calendar without any working day for this
# long is a configuration error, not something to loop over for ever.
_MAX_DAYS_AHEAD = 400


def local_day_start(t: float) -> float:
    """Epoch seconds of local midnight at or before t."""
    return t - ((t + OFFSET_S) % DAY_S)


def local_hour(t: float) -> int:
    return int(((t + OFFSET_S) % DAY_S) // HOUR_S)


def weekday(t: float) -> int:
    """Local weekday, Monday = 0."""
    return (int((t + OFFSET_S) // DAY_S) + _EPOCH_WEEKDAY) % 7


def local_stamp(t: float, fmt: str = "%Y%m%d%H") -> str:
    return datetime.fromtimestamp(t + OFFSET_S, UTC).strftime(fmt)


class Rota:
    """The opening windows of a WorkCalendar one after another.

    A shift plan asks what the calendar's deadline arithmetic does not: when the next window
    opens and when the current one ends. Everything else is the calendar's own answer.
    """

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._tz = ZoneInfo(calendar.timezone)

    def is_open(self, t: float) -> bool:
        return self.calendar.is_working_instant(t)

    def next_open(self, t: float) -> float:
        """t itself when open, else the start of the next window."""
        start, _ = next(self._windows_from(t))
        return max(t, start)

    def window_end(self, t: float) -> float:
        """End of the window that is open at t (or of the next one)."""
        _, end = next(self._windows_from(t))
        return end

    def add(self, t: float, seconds: float) -> float:
        """t plus ``seconds`` of open time (counted from the next opening when closed)."""
        return self.calendar.add_working(t, seconds)

    def measure(self, a: float, b: float) -> float:
        """Open seconds between a and b."""
        return self.calendar.working_seconds(a, b)

    def _windows_from(self, t: float) -> Iterator[tuple[float, float]]:
        """(start, end) of every window that ends after t, in order."""
        day = self.calendar.local_date(t)
        for _ in range(_MAX_DAYS_AHEAD):
            if self.calendar.is_workday(day):
                midnight = datetime(day.year, day.month, day.day, tzinfo=self._tz)
                for first, last in self.calendar.periods:  # minutes after local midnight
                    # Wall-clock arithmetic on an aware datetime, so 24:00 is the next midnight.
                    start = (midnight + timedelta(minutes=first)).timestamp()
                    end = (midnight + timedelta(minutes=last)).timestamp()
                    if end > t:
                        yield start, end
            day += timedelta(days=1)
        raise ValueError(f"no open window within {_MAX_DAYS_AHEAD} days of {t}")


# Collectors patrol 08:00–12:00 and 14:00–18:00 every day of the year, holidays included: no
# weekend and no days off, unlike the departments' working calendar.
DUTY = Rota(WorkCalendar(periods=("08:00-12:00", "14:00-18:00"), weekend=()))
