"""Time limits (工作时限, docs/domain.md §5): the limit table, stage limits and deadline arithmetic.

A limit is a value, a unit and an urgent flag. 分钟 and 小时 are natural time; 工作时 and 工作日
count only working time. An urgent limit runs in natural time whatever its unit (when the city
keeps ``urgent_counts_natural_time``), with 工作时 read as hours and 工作日 as 24 hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dashboard.casework.workcalendar import WorkCalendar


class Unit(StrEnum):
    MINUTES = "分钟"
    HOURS = "小时"
    WORK_HOURS = "工作时"
    WORK_DAYS = "工作日"

    @property
    def is_working_time(self) -> bool:
        return self in (Unit.WORK_HOURS, Unit.WORK_DAYS)


class Basis(StrEnum):
    """The clock a deadline runs on."""

    NATURAL = "natural"
    WORKING = "working"


class Stage(StrEnum):
    """The steps that each have their own limit (环节时限, §5.1)."""

    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实
    FILE = "file"  # 立案
    DISPATCH = "dispatch"  # 派遣
    DISPOSAL = "disposal"  # 处置 (limit from the rule table, not from the stage table)
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案


_UNIT_WORDS: dict[str, tuple[Unit, float]] = {}
for _unit, _factor, _words in (
    (Unit.MINUTES, 1, "分钟 分 min mins minute minutes m"),
    (Unit.HOURS, 1, "小时 时 h hr hrs hour hours 自然时"),
    (Unit.HOURS, 24, "天 日 自然日 d day days"),  # natural days: kept as hours
    (Unit.WORK_HOURS, 1, "工作时 工作小时 wh workhour workhours workinghour workinghours"),
    (Unit.WORK_DAYS, 1, "工作日 工作天 wd workday workdays workingday workingdays"),
):
    for _word in _words.split():
        _UNIT_WORDS[_word] = (_unit, _factor)

_LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([^\d\s].*?)\s*$")


@dataclass(frozen=True, slots=True)
class TimeLimit:
    value: float
    unit: Unit
    urgent: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.value) or self.value < 0:
            raise ValueError(f"a time limit must be a finite number >= 0, not {self.value}")

    def __str__(self) -> str:
        value = int(self.value) if self.value == int(self.value) else self.value
        return f"{value} {self.unit.value}" + (" (紧急)" if self.urgent else "")


def parse_limit(text: str, *, urgent: bool = False) -> TimeLimit:
    """Read '4 工作时', '2 hours', '30 min', '1 工作日', '2 小时', '3天' (natural days → hours)."""
    match = _LIMIT_RE.match(text)
    if match is None:
        raise ValueError(f"time limit {text!r} is not a number followed by a unit")
    number, word = match.groups()
    found = _UNIT_WORDS.get(re.sub(r"[\s_-]+", "", word.lower()))
    if found is None:
        raise ValueError(f"unknown time unit {word!r} in {text!r}: use 分钟, 小时, 工作时 or 工作日")
    unit, factor = found
    return TimeLimit(float(number) * factor, unit, urgent)


def as_limit(value: TimeLimit | str | Mapping[str, Any]) -> TimeLimit:
    """A limit from config data: a TimeLimit, a string, or {limit = "...", urgent = bool}."""
    if isinstance(value, TimeLimit):
        return value
    if isinstance(value, str):
        return parse_limit(value)
    return parse_limit(str(value["limit"]), urgent=bool(value.get("urgent", False)))


# --- clocks -------------------------------------------------------------------------------


def basis_for(limit: TimeLimit, case_urgent: bool, urgent_counts_natural_time: bool) -> Basis:
    if not limit.unit.is_working_time:
        return Basis.NATURAL
    if (limit.urgent or case_urgent) and urgent_counts_natural_time:
        return Basis.NATURAL
    return Basis.WORKING


def limit_seconds(limit: TimeLimit, basis: Basis, calendar: WorkCalendar) -> float:
    """The limit as seconds of its basis (working seconds for the working basis)."""
    if limit.unit is Unit.MINUTES:
        return limit.value * 60
    if limit.unit is Unit.HOURS or limit.unit is Unit.WORK_HOURS:
        return limit.value * 3600
    # 工作日: hours_per_workday working hours; on the natural clock a day is 24 hours.
    per_day = calendar.workday_seconds if basis is Basis.WORKING else 86400.0
    return limit.value * per_day


def add_time(start: float, seconds: float, basis: Basis, calendar: WorkCalendar) -> float:
    if basis is Basis.NATURAL:
        return calendar.add_natural(start, seconds)
    return calendar.add_working(start, seconds)


def measure(start: float, end: float, basis: Basis, calendar: WorkCalendar) -> float:
    """Seconds of ``basis`` time from start to end (negative when end is earlier)."""
    if basis is Basis.NATURAL:
        return end - start
    return calendar.working_seconds(start, end)


# --- tables -------------------------------------------------------------------------------

_CATEGORY_WORDS = {
    "component": "component",
    "部件": "component",
    "event": "event",
    "事件": "event",
    "matter": "event",
    "事项": "event",
}


def normalise_category(value: object) -> str:
    """'component' or 'event' from the English or Chinese word."""
    found = _CATEGORY_WORDS.get(str(value).strip().lower())
    if found is None:
        raise ValueError(f"category {value!r} is neither component (部件) nor event (事件)")
    return found


_RuleKey = tuple[str | None, str | None, str | None, str | None]  # category, class, small, cond


@dataclass(frozen=True)
class LimitTable:
    """Disposal limits per (category, class, small class, 立案条件) plus the stage limits.

    Lookup falls back: exact condition → the small class with any condition → the class
    default → the global default. A rule without a category applies to both categories, but a
    rule for the case's own category wins at the same level.
    """

    default: TimeLimit
    rules: Mapping[_RuleKey, TimeLimit] = field(default_factory=dict)
    stages: Mapping[str, TimeLimit] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LimitTable:
        """``{"default": "3 工作日", "rules": [{category, class_code, small_code, condition,
        limit, urgent}], "stages": {"accept": "10 分钟", "file_urgent": "10 分钟", ...}}``."""
        rules: dict[_RuleKey, TimeLimit] = {}
        for row in data.get("rules", ()):
            key = _rule_key(row)
            if key in rules:
                raise ValueError(f"two time-limit rules for the same key {key}")
            rules[key] = as_limit(row)
        stages = {str(name): as_limit(value) for name, value in data.get("stages", {}).items()}
        for name in stages:
            if name.removesuffix("_urgent") not in set(Stage) - {Stage.DISPOSAL}:
                raise ValueError(f"unknown stage {name!r} in the stage limits")
        return cls(default=as_limit(data["default"]), rules=rules, stages=stages)

    def disposal_limit(
        self,
        category: str | None,
        small_code: str | None,
        condition: str | None = None,
        class_code: str | None = None,
    ) -> TimeLimit:
        if class_code is None and small_code:
            class_code = small_code[:2]
        categories = (category, None) if category is not None else (None,)
        candidates: list[tuple[str | None, str | None, str | None]] = []
        if small_code and condition is not None:
            candidates.append((class_code, small_code, str(condition)))
        if small_code:
            candidates.append((class_code, small_code, None))
        if class_code:
            candidates.append((class_code, None, None))
        for class_, small, cond in candidates:
            for cat in categories:
                found = self.rules.get((cat, class_, small, cond))
                if found is not None:
                    return found
        return self.default

    def stage_limit(self, stage: Stage | str, urgent: bool = False) -> TimeLimit | None:
        """The stage's limit (its ``_urgent`` variant for urgent cases), or None if not set."""
        name = str(stage)
        if urgent and f"{name}_urgent" in self.stages:
            return self.stages[f"{name}_urgent"]
        return self.stages.get(name)


def _rule_key(row: Mapping[str, Any]) -> _RuleKey:
    category = row.get("category")
    small = row.get("small_code")
    class_code = row.get("class_code") or (str(small)[:2] if small else None)
    if not class_code:
        raise ValueError(f"time-limit rule {dict(row)} names neither a class nor a small class")
    condition = row.get("condition")
    if condition is not None and not small:
        raise ValueError(f"time-limit rule {dict(row)} has a condition but no small class")
    return (
        normalise_category(category) if category else None,
        str(class_code),
        str(small) if small else None,
        str(condition) if condition is not None else None,
    )


@dataclass(frozen=True)
class Rules:
    """Everything the lifecycle needs to set deadlines: calendar, limits, one switch."""

    calendar: WorkCalendar
    limits: LimitTable
    urgent_counts_natural_time: bool = True

    def basis(self, limit: TimeLimit, case_urgent: bool) -> Basis:
        return basis_for(limit, case_urgent, self.urgent_counts_natural_time)

    def seconds(self, limit: TimeLimit, basis: Basis) -> float:
        return limit_seconds(limit, basis, self.calendar)

    def add(self, start: float, seconds: float, basis: Basis) -> float:
        return add_time(start, seconds, basis, self.calendar)

    def measure(self, start: float, end: float, basis: Basis) -> float:
        return measure(start, end, basis, self.calendar)

    def deadline(self, start: float, limit: TimeLimit, case_urgent: bool = False) -> float:
        """start + limit on the limit's clock (§5.2, before extensions and suspensions)."""
        basis = self.basis(limit, case_urgent)
        return self.add(start, self.seconds(limit, basis), basis)

    def stage_deadline(self, stage: Stage, start: float, urgent: bool) -> float | None:
        limit = self.limits.stage_limit(stage, urgent)
        return None if limit is None else self.deadline(start, limit, urgent)
