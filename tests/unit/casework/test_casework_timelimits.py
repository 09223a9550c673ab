"""Time limits: parsing, the lookup fallbacks, bases and deadlines, and the shipped defaults."""

from __future__ import annotations

import pytest
from casework_support import RULES, at, local

from dashboard import casedata
from dashboard.casework.timelimits import (
    Basis,
    LimitTable,
    Rules,
    Stage,
    TimeLimit,
    Unit,
    parse_limit,
)
from dashboard.casework.workcalendar import WorkCalendar


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("4 工作时", 4, Unit.WORK_HOURS),
        ("2 hours", 2, Unit.HOURS),
        ("30 min", 30, Unit.MINUTES),
        ("1 工作日", 1, Unit.WORK_DAYS),
        ("2 小时", 2, Unit.HOURS),
        ("10分钟", 10, Unit.MINUTES),
        ("1.5 working hours", 1.5, Unit.WORK_HOURS),
        ("3 work days", 3, Unit.WORK_DAYS),
        ("3天", 72, Unit.HOURS),  # natural days are kept as natural hours
        ("6 h", 6, Unit.HOURS),
    ],
)
def test_parse_limit(text: str, value: float, unit: Unit) -> None:
    assert parse_limit(text) == TimeLimit(value, unit)


@pytest.mark.parametrize("text", ["", "工作时", "4", "four hours", "4 fortnights", "-2 小时", "2 小时 3 分钟"])
def test_parse_limit_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError):
        parse_limit(text)


TABLE = LimitTable.from_data(
    {
        "default": "3 工作日",
        "rules": [
            {"category": "event", "class_code": "01", "limit": "1 工作日"},
            {"category": "event", "small_code": "0102", "limit": "4 工作时"},
            {"category": "event", "small_code": "0102", "condition": "2", "limit": "2 工作时"},
            {"small_code": "0104", "limit": "5 工作时"},  # either category
            {"category": "component", "small_code": "0104", "limit": "1 工作日"},
        ],
        "stages": {"file": "30 分钟", "file_urgent": "10 分钟"},
    }
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (("event", "0102", "2"), "2 工作时"),  # exact
        (("event", "0102", "9"), "4 工作时"),  # small class, any condition
        (("event", "0102", None), "4 工作时"),
        (("event", "0199", "2"), "1 工作日"),  # class default
        (("event", "0301", None), "3 工作日"),  # global default
        (("component", "0102", "2"), "3 工作日"),  # the rules above are for events only
        (("event", "0104", None), "5 工作时"),  # a rule without category serves both ...
        (("component", "0104", None), "1 工作日"),  # ... unless the category has its own
        ((None, None, None), "3 工作日"),
    ],
)
def test_lookup_falls_back(key: tuple, expected: str) -> None:
    assert str(TABLE.disposal_limit(*key)) == expected


def test_stage_limits_have_urgent_variants() -> None:
    assert str(TABLE.stage_limit(Stage.FILE)) == "30 分钟"
    assert str(TABLE.stage_limit(Stage.FILE, urgent=True)) == "10 分钟"
    assert TABLE.stage_limit(Stage.CHECK) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"default": "1 工作日", "rules": [{"small_code": "0102", "limit": "1 h"}] * 2}, "two time-limit rules"),
        ({"default": "1 工作日", "rules": [{"limit": "1 h"}]}, "neither a class"),
        ({"default": "1 工作日", "rules": [{"class_code": "01", "condition": "1", "limit": "1 h"}]}, "no small class"),
        ({"default": "1 工作日", "stages": {"lunch": "1 h"}}, "unknown stage"),
        ({"default": "soon"}, "not a number"),
    ],
)
def test_bad_tables_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LimitTable.from_data(data)


@pytest.mark.parametrize(
    ("limit", "urgent", "basis", "seconds"),
    [
        (TimeLimit(4, Unit.WORK_HOURS), False, Basis.WORKING, 4 * 3600),
        (TimeLimit(4, Unit.WORK_HOURS), True, Basis.NATURAL, 4 * 3600),
        (TimeLimit(1, Unit.WORK_DAYS), False, Basis.WORKING, 8 * 3600),
        (TimeLimit(1, Unit.WORK_DAYS), True, Basis.NATURAL, 24 * 3600),
        (TimeLimit(1, Unit.WORK_DAYS, urgent=True), False, Basis.NATURAL, 24 * 3600),
        (TimeLimit(30, Unit.MINUTES), False, Basis.NATURAL, 1800),
        (TimeLimit(2, Unit.HOURS), False, Basis.NATURAL, 7200),
    ],
)
def test_the_clock_of_a_limit(limit: TimeLimit, urgent: bool, basis: Basis, seconds: float) -> None:
    assert RULES.basis(limit, urgent) is basis
    assert RULES.seconds(limit, basis) == seconds


def test_urgent_can_be_told_to_count_working_time() -> None:
    strict = Rules(RULES.calendar, RULES.limits, urgent_counts_natural_time=False)
    assert strict.basis(TimeLimit(4, Unit.WORK_HOURS), True) is Basis.WORKING


def test_a_working_day_is_hours_per_workday() -> None:
    six = Rules(WorkCalendar(hours_per_workday=6), RULES.limits)
    deadline = six.deadline(at(2026, 3, 2, 8, 0), parse_limit("1 工作日"))
    assert local(deadline).isoformat() == "2026-03-02T16:00:00"


def test_the_shipped_defaults() -> None:
    limits = casedata.load_limit_table()
    assert limits.disposal_limit("component", "0101", "缺失") == TimeLimit(2, Unit.HOURS, urgent=True)
    assert str(limits.disposal_limit("component", "0101", "破损")) == "3 工作日"
    assert str(limits.disposal_limit("component", "0118")) == "1 工作日"
    assert str(limits.disposal_limit("event", "0102")) == "4 工作时"
    assert str(limits.disposal_limit("event", "0101")) == "15 工作日"
    assert limits.disposal_limit("event", "0406").urgent  # 道路积水: class 04 default
    assert str(limits.disposal_limit("event", "0399")) == "5 工作日"
    assert str(limits.disposal_limit("event", "0901")) == "3 工作日"  # nothing matches
    assert str(limits.stage_limit(Stage.DISPATCH, urgent=True)) == "10 分钟"
    assert str(limits.stage_limit(Stage.CHECK)) == "1 工作时"


def test_every_default_in_the_file_is_marked_as_one() -> None:
    text = (casedata.DATA_DIR / "timelimits.toml").read_text(encoding="utf-8")
    assert "NOT FROM ANY STANDARD" in text
    for line in text.splitlines():
        if line.startswith("[[rule]]") or line.split("=")[0].strip() in (
            "accept",
            "verify",
            "file",
            "dispatch",
            "check",
            "close",
            "default",
        ):
            assert "[D]" in line or "[S]" in line or "[R]" in line, line
