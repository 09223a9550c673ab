"""The names of evaluation periods as reports and their command line write them (docs/reports.md):

    day 2026-11-03 · week 2026-W47 (ISO) · month 2026-11 · quarter 2026-Q4 · year 2026

Pure: a label in, the period's first and after-last local days out (``periods.period_bounds``
decides what a period is; this module only reads and writes its name).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dashboard.casework.periods import PERIOD_KINDS, period_bounds

_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "day": (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "2026-11-03"),
    "week": (re.compile(r"^(\d{4})-W(\d{2})$"), "2026-W47"),
    "month": (re.compile(r"^(\d{4})-(\d{2})$"), "2026-11"),
    "quarter": (re.compile(r"^(\d{4})-Q([1-4])$"), "2026-Q4"),
    "year": (re.compile(r"^(\d{4})$"), "2026"),
}


class PeriodLabelError(ValueError):
    """A label that names no period of its kind; the message says what was expected."""


def parse_label(kind: str, label: str) -> date:
    """The first local day of the ``kind`` period named ``label``."""
    if kind not in PERIOD_KINDS:
        raise PeriodLabelError(f"period: {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")
    pattern, example = _FORMS[kind]
    m = pattern.match(label.strip())
    if m is None:
        raise PeriodLabelError(f"a {kind} is written like {example}, not {label!r}")
    parts = [int(g) for g in m.groups()]
    try:
        if kind == "day":
            first = date(parts[0], parts[1], parts[2])
        elif kind == "week":
            first = date.fromisocalendar(parts[0], parts[1], 1)
        elif kind == "month":
            first = date(parts[0], parts[1], 1)
        elif kind == "quarter":
            first = date(parts[0], (parts[1] - 1) * 3 + 1, 1)
        else:
            first = date(parts[0], 1, 1)
    except ValueError as exc:  # 2026-13, 2026-W54, 2026-02-30
        raise PeriodLabelError(f"no such {kind}: {label}") from exc
    return first


def label_of(kind: str, day: date) -> str:
    """The label of the ``kind`` period holding local ``day``."""
    first, _ = period_bounds(kind, day)
    if kind == "day":
        return first.isoformat()
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first.year}-{first.month:02d}"
    if kind == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def previous_first_day(kind: str, first: date) -> date:
    """The first day of the period before the one starting on ``first``."""
    return period_bounds(kind, first - timedelta(days=1))[0]


def chosen_first_day(kind: str, label: str | None, today: date) -> date:
    """The first day of the period ``label`` names, or, without one, of the last ``kind`` period
    that has ended by local ``today`` (a report is usually asked for once its period closed)."""
    if label:
        return parse_label(kind, label)
    if kind not in PERIOD_KINDS:
        raise PeriodLabelError(f"period: {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")
    return previous_first_day(kind, period_bounds(kind, today)[0])
