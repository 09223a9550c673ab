"""Opening hours for the simulation: the departments' working time and the collectors' duty.

Asia/Shanghai has had no daylight saving since 1991, so a fixed UTC+8 offset is exact and keeps
this module free of tz databases. Working days are Monday–Friday minus the public holidays and
plus the make-up days (调休) listed in dashboard/data/holidays/*.toml, read as plain data: the
simulator then plans lateness against the same calendar the wall counts with. Without those files
it falls back to plain Monday–Friday.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

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


def local_day(t: float) -> int:
    """Local calendar day as a proleptic ordinal (date.toordinal())."""
    return _EPOCH_ORDINAL + int((t + OFFSET_S) // DAY_S)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
HOLIDAY_DIR = Path(__file__).resolve().parents[2] / "dashboard" / "data" / "holidays"


def load_holidays(folder: Path = HOLIDAY_DIR) -> tuple[frozenset[int], frozenset[int]]:
    """(days off, make-up working days) as day ordinals, from every TOML file in ``folder``."""
    off: set[int] = set()
    work: set[int] = set()
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            for h in data.get("holiday", []):
                first, last = h["first"].toordinal(), h["last"].toordinal()
                off.update(range(first, last + 1))
                work.update(d.toordinal() for d in h.get("work", []))
        except (OSError, tomllib.TOMLDecodeError, KeyError, AttributeError, TypeError) as err:
            logging.getLogger("gridwall.simulator").warning("ignoring holiday file %s: %s", path, err)
    return frozenset(off), frozenset(work)


@dataclass(frozen=True, slots=True)
class Periods:
    """Daily opening periods (seconds after local midnight) on some weekdays."""

    periods: tuple[tuple[int, int], ...] = ((8 * HOUR_S, 12 * HOUR_S), (14 * HOUR_S, 18 * HOUR_S))
    weekdays: frozenset[int] = frozenset(range(5))
    days_off: frozenset[int] = frozenset()  # holidays (day ordinals)
    make_up_days: frozenset[int] = frozenset()  # weekend days worked instead (调休上班)

    @property
    def day_seconds(self) -> int:
        return sum(e - s for s, e in self.periods)

    def open_day(self, t: float) -> bool:
        day = local_day(t)
        if day in self.make_up_days:
            return True
        return weekday(t) in self.weekdays and day not in self.days_off

    def _windows_from(self, t: float) -> Iterator[tuple[float, float]]:
        """(start, end) of every opening window that ends after t, in order (endless)."""
        day = local_day_start(t)
        while True:
            if self.open_day(day + 1):
                for s, e in self.periods:
                    if day + e > t:
                        yield day + s, day + e
            day += DAY_S

    def is_open(self, t: float) -> bool:
        day = local_day_start(t)
        if not self.open_day(t):
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


_OFF, _MAKE_UP = load_holidays()
# Departments: working days 08:00–12:00, 14:00–18:00 (docs/domain.md §5.1).
WORK = Periods(days_off=_OFF, make_up_days=_MAKE_UP)
DUTY = Periods(weekdays=frozenset(range(7)))  # collectors patrol the same hours every day
