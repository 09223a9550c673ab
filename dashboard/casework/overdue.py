"""The light of an open case at ``now`` (docs/domain.md §5.3) and the wall's light counts.

green · yellow when ≥ ``warn_ratio`` of the time is used OR ≤ ``warn_remaining`` is left
(the latter only for limits longer than ``warn_remaining``) · red past the deadline · grey while suspended (挂账: the clock is paused, so never red).
Time used and left are measured on the case's own clock (working time unless urgent), so a
case due Monday 09:00 is yellow all weekend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from dashboard.casework.casestate import CaseState
from dashboard.casework.timelimits import Basis, Rules, Stage, Unit, as_limit

UNKNOWN = "unknown"  # the key for cases without a district, department, ...
T = TypeVar("T")
DIMENSIONS: tuple[str, ...] = ("district", "street", "department", "category", "source")


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"


@dataclass(frozen=True, slots=True)
class LightPolicy:
    warn_ratio: float = 0.8  # [R] Unicom model: yellow from 80 % of the limit
    warn_remaining_s: float = 3600.0  # [D] 1 工作时 left, on the case's own clock

    def __post_init__(self) -> None:
        if not 0 < self.warn_ratio <= 1:
            raise ValueError("warn_ratio must be in (0, 1]")
        if self.warn_remaining_s < 0:
            raise ValueError("warn_remaining must not be negative")

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LightPolicy:
        """``{"warn_ratio": 0.8, "warn_remaining": "1 工作时"}`` (both optional)."""
        policy = cls()
        ratio = float(data.get("warn_ratio", policy.warn_ratio))
        remaining = policy.warn_remaining_s
        if data.get("warn_remaining") is not None:
            limit = as_limit(data["warn_remaining"])
            # One threshold serves both clocks, so a 工作日 (whose length the calendar knows) is refused.
            if limit.unit is Unit.WORK_DAYS:
                raise ValueError("warn_remaining must be given in minutes or hours")
            remaining = limit.value * (60 if limit.unit is Unit.MINUTES else 3600)
        return cls(warn_ratio=ratio, warn_remaining_s=remaining)


DEFAULT_POLICY = LightPolicy()


def light_at(due: float | None, warn_at: float | None, paused: bool, now: float) -> Light | None:
    """THE overdue rule: the light of one clock at ``now`` from its boundaries.

    grey while paused (挂账: the clock stands still, so never red) · red once ``now`` is past
    ``due`` (a case finished exactly at its deadline is on time, docs/casework.md) · yellow
    (即将超期) from ``warn_at`` on · green before · None when no clock runs.

    Every light in gridwall comes from here or from boundaries this module produced: the KPI
    counters (Redis ZCOUNTs over ``due`` and ``warn_at``, dashboard/store/hot.py), the district
    and department rows, the map pins (assets/gridwall-live.js applies the same boundaries
    between polls; tests/browser/test_wall_map.py checks the pins' lights), the desk and the briefing.
    """
    if paused:
        return Light.GREY
    if due is None:
        return None
    if now > due:
        return Light.RED
    if warn_at is not None and now >= warn_at:
        return Light.YELLOW
    return Light.GREEN


def warn_threshold_s(allowed_s: float, policy: LightPolicy) -> float:
    """Time left on the clock at which it turns yellow: ≤ ``warn_remaining`` left, or ≥
    ``warn_ratio`` of the limit used. A limit no longer than ``warn_remaining`` would be yellow
    from its first second and say nothing (a 10-minute 受理 limit): it gets the ratio rule only."""
    by_ratio = (1.0 - policy.warn_ratio) * allowed_s
    return max(policy.warn_remaining_s, by_ratio) if allowed_s > policy.warn_remaining_s else by_ratio


def warn_instant(start: float, deadline: float, allowed_s: float, basis: Basis, rules: Rules,
                 policy: LightPolicy = DEFAULT_POLICY) -> float:
    """The instant a clock that started at ``start`` and runs out at ``deadline`` turns yellow:
    the earliest instant at which no more than the threshold is left on its own clock (working
    time unless urgent, so weekends and breaks do not count down). Exact: it is the start plus
    the time that may be used, added on the same calendar that made the deadline."""
    total = rules.measure(start, deadline, basis)
    usable = total - warn_threshold_s(allowed_s, policy)
    return start if usable <= 0 else rules.add(start, usable, basis)


@dataclass(frozen=True, slots=True)
class Boundaries:
    """When a case's disposal light changes: what the hot state, the poll and the browser carry."""

    due: float | None  # red after this instant (None: no clock runs, or it is paused)
    warn_at: float | None  # yellow from this instant
    paused: bool  # 挂账

    def light(self, now: float) -> Light | None:
        return light_at(self.due, self.warn_at, self.paused, now)


NO_CLOCK = Boundaries(None, None, False)


def running_clock(case: CaseState) -> bool:
    """Does the disposal clock run now (dispatched, not finished, not suspended)?"""
    return case.is_open and case.deadline is not None and case.feedback_at is None and not case.is_suspended


def disposal_boundaries(case: CaseState, rules: Rules, policy: LightPolicy = DEFAULT_POLICY) -> Boundaries:
    """The boundaries of the disposal light: none without a disposal clock (not dispatched,
    done, ended), ``paused`` while suspended."""
    if not case.is_open or case.deadline is None or case.feedback_at is not None:
        return NO_CLOCK
    if case.is_suspended:
        return Boundaries(None, None, True)
    start = case.dispatched_at or case.reported_at
    basis = case.basis or Basis.NATURAL
    return Boundaries(case.deadline, warn_instant(start, case.deadline, case.allowed_s, basis, rules, policy), False)


def disposal_light(case: CaseState, now: float, rules: Rules, policy: LightPolicy = DEFAULT_POLICY) -> Light | None:
    """The disposal light, or None when no disposal clock runs (not dispatched, done, ended)."""
    return disposal_boundaries(case, rules, policy).light(now)


def stage_light(case: CaseState, now: float, rules: Rules, policy: LightPolicy = DEFAULT_POLICY) -> Light | None:
    """The light of the step now waiting (受理, 立案, 派遣, 核查, ...), None without a limit."""
    if case.stage is None or not case.is_open:
        return None
    if case.feedback_at is None and case.deadline is not None and case.stage is Stage.DISPOSAL:
        return disposal_light(case, now, rules, policy)
    if case.stage_deadline is None or case.stage_started_at is None:
        return None
    limit = rules.limits.stage_limit(case.stage, case.urgent)
    basis = rules.basis(limit, case.urgent) if limit is not None else Basis.NATURAL
    allowed = rules.measure(case.stage_started_at, case.stage_deadline, basis)
    warn = warn_instant(case.stage_started_at, case.stage_deadline, allowed, basis, rules, policy)
    return light_at(case.stage_deadline, warn, False, now)


def tally_lights(
    items: Iterable[T],
    light_of: Callable[[T], Light | None],
    value_of: Callable[[T, str], Any],
    dimensions: Iterable[str],
    skip: Iterable[Light] = (),
) -> dict[str, dict[str, dict[Light, int]]]:
    """Lights counted per dimension value: ``{"all": {"all": {...}}, "department": {"D01":
    {red: 3, ...}}}``. Items without a light (no clock runs) and lights in ``skip`` are left
    out; a missing value counts under UNKNOWN. One counting for casework, the board and the
    screens to come, whatever the items are (case states, hot docs)."""
    dims = tuple(dimensions)
    left_out = set(skip)
    counts: dict[str, dict[str, dict[Light, int]]] = {dim: {} for dim in ("all", *dims)}
    total = counts["all"].setdefault("all", dict.fromkeys(Light, 0))
    for item in items:
        light = light_of(item)
        if light is None or light in left_out:
            continue
        total[light] += 1
        for dim in dims:
            value = value_of(item, dim)
            key = UNKNOWN if value is None or value == "" else str(value)
            row = counts[dim].get(key)
            if row is None:
                row = counts[dim][key] = dict.fromkeys(Light, 0)
            row[light] += 1
    return counts


def count_lights(
    cases: Iterable[CaseState],
    now: float,
    rules: Rules,
    policy: LightPolicy = DEFAULT_POLICY,
    dimensions: Iterable[str] = DIMENSIONS,
) -> dict[str, dict[str, dict[Light, int]]]:
    """Disposal lights of case states counted per dimension value (see ``tally_lights``)."""
    dims = tuple(dimensions)
    for dim in dims:
        if not hasattr(CaseState, dim):
            raise ValueError(f"cases cannot be counted by {dim!r}: CaseState has no such field")
    return tally_lights(cases, lambda c: disposal_light(c, now, rules, policy), getattr, dims)
