"""Opening hours for the simulation: the departments' working time and the collectors' duty.

Asia/Shanghai has had no daylight saving since 1991, so a fixed UTC+8 offset is exact and keeps
this module free of tz databases. Statutory holidays are not modelled: the simulator plans with
Monday–Friday working days, which differs from the dashboard's holiday calendar on a few days a
year only (a case planned "on time" may then look a few hours early or late there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

OFFSET_S = 8 * 3600
DAY_S = 86400
HOUR_S = 3600
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


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


@dataclass(frozen=True, slots=True)
class Periods:
    """Daily opening periods (seconds after local midnight) on some weekdays."""

    periods: tuple[tuple[int, int], ...] = ((8 * HOUR_S, 12 * HOUR_S), (14 * HOUR_S, 18 * HOUR_S))
    weekdays: frozenset[int] = frozenset(range(5))

    @property
    def day_seconds(self) -> int:
        return sum(e - s for s, e in self.periods)

    def _windows_from(self, t: float):  # type: ignore[no-untyped-def]
        """(start, end) of every opening window that ends after t, in order (endless)."""
        day = local_day_start(t)
        while True:
            if weekday(day + 1) in self.weekdays:
                for s, e in self.periods:
                    if day + e > t:
                        yield day + s, day + e
            day += DAY_S

    def is_open(self, t: float) -> bool:
        day = local_day_start(t)
        if weekday(t) not in self.weekdays:
            return False
        sec = t - day
        return any(s <= sec < e for s, e in self.periods)

    def next_open(self, t: float) -> float:
        """t itself when open, else the start of the next window."""
        start, _ = next(self._windows_from(t))
        return max(t, start)

    def window_end(self, t: float) -> float:
        """End of the window that is open at t (or of the next one)."""
        _, end = next(self._windows_from(t))
        return end

    def add(self, t: float, seconds: float) -> float:
        """t plus ``seconds`` of open time (work starts at the next opening when closed)."""
        remaining = max(0.0, seconds)
        for start, end in self._windows_from(t):
            begin = max(t, start)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def measure(self, a: float, b: float) -> float:
        """Open seconds between a and b (0 when b <= a)."""
        total = 0.0
        for start, end in self._windows_from(a):
            if start >= b:
                break
            total += min(end, b) - max(start, a)
        return max(0.0, total)


WORK = Periods()  # departments: Mon–Fri 08:00–12:00, 14:00–18:00 (domain.md §5.1)
DUTY = Periods(weekdays=frozenset(range(7)))  # collectors patrol the same hours every day
