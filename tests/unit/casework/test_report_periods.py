"""The names of report periods (dashboard/casework/period_labels.py): read and written back, the
previous period, the default of the command line and the desk (the last period that ended)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.casework.period_labels import (
    PeriodLabelError,
    chosen_first_day,
    label_of,
    parse_label,
    previous_first_day,
)


@pytest.mark.parametrize(("kind", "label", "first", "previous"), [
    ("day", "2026-11-03", date(2026, 11, 3), date(2026, 11, 2)),
    ("day", "2026-03-01", date(2026, 3, 1), date(2026, 2, 28)),
    ("week", "2026-W47", date(2026, 11, 16), date(2026, 11, 9)),
    ("week", "2026-W01", date(2025, 12, 29), date(2025, 12, 22)),  # ISO week 1 starts in December
    ("week", "2026-W53", date(2026, 12, 28), date(2026, 12, 21)),  # 2026 has 53 ISO weeks
    ("month", "2026-11", date(2026, 11, 1), date(2026, 10, 1)),
    ("month", "2026-01", date(2026, 1, 1), date(2025, 12, 1)),
    ("quarter", "2026-Q4", date(2026, 10, 1), date(2026, 7, 1)),
    ("quarter", "2026-Q1", date(2026, 1, 1), date(2025, 10, 1)),
    ("year", "2026", date(2026, 1, 1), date(2025, 1, 1)),
])
def test_a_label_names_its_period_and_back(kind: str, label: str, first: date, previous: date) -> None:
    assert parse_label(kind, label) == first
    assert label_of(kind, first) == label
    assert label_of(kind, first.replace(day=first.day + 2) if kind in ("month", "quarter", "year") else first) == label
    assert previous_first_day(kind, first) == previous


@pytest.mark.parametrize(("kind", "label"), [
    ("month", "2026-W47"), ("month", "2026-13"), ("month", "2026-1"), ("week", "2026-W54"), ("week", "2025-W53"),
    ("day", "2026-02-30"), ("quarter", "2026-Q5"), ("year", "26"), ("fortnight", "2026-11"), ("month", ""),
])
def test_a_label_that_names_no_period_is_refused_with_the_form_expected(kind: str, label: str) -> None:
    with pytest.raises(PeriodLabelError) as exc:
        parse_label(kind, label)
    assert str(exc.value)


def test_without_a_label_the_last_period_that_ended() -> None:
    today = date(2026, 12, 5)  # a Saturday
    assert chosen_first_day("day", None, today) == date(2026, 12, 4)
    assert chosen_first_day("week", None, today) == date(2026, 11, 23)
    assert chosen_first_day("month", None, today) == date(2026, 11, 1)
    assert chosen_first_day("quarter", None, today) == date(2026, 7, 1)
    assert chosen_first_day("year", None, today) == date(2025, 1, 1)
    assert chosen_first_day("month", "2026-12", today) == date(2026, 12, 1)
