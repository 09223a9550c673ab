"""The light of an open case at ``now`` (domain.md §5.3) and the wall's light counts.

green · yellow when ≥ ``warn_ratio`` of the time is used OR ≤ ``warn_remaining`` is left
(the latter only for limits longer than ``warn_remaining``) · red past the deadline · grey while suspended (挂账: the clock is paused, so never red).
Time used and left are measured on the case's own clock (working time unless urgent), so a
case due Monday 09:00 is yellow all weekend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dashboard.casework.casestate import CaseState
from dashboard.casework.timelimits import Basis, Rules, Stage, Unit, as_limit

UNKNOWN = "unknown"  # the key for cases without a district, department, ...
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


def clock_light(
    now: float,
    deadline: float,
    allowed_s: float,
    basis: Basis,
    rules: Rules,
    policy: LightPolicy,
) -> Light:
    """The light of one running clock that grants ``allowed_s`` seconds of ``basis`` time."""
    # Red compares instants: on the working clock no time passes over a weekend, yet a case
    # due Friday 18:00 is overdue on Saturday.
    if now > deadline:
        return Light.RED
    remaining = rules.measure(now, deadline, basis)
    # A limit no longer than the threshold would be yellow from its first second and say
    # nothing (a 10-minute 受理 limit): such limits get the ratio rule only.
    if allowed_s > policy.warn_remaining_s and remaining <= policy.warn_remaining_s:
        return Light.YELLOW
    if allowed_s > 0 and allowed_s - remaining >= policy.warn_ratio * allowed_s:
        return Light.YELLOW
    return Light.GREEN


def disposal_light(case: CaseState, now: float, rules: Rules, policy: LightPolicy = DEFAULT_POLICY) -> Light | None:
    """The disposal light, or None when no disposal clock runs (not dispatched, done, ended)."""
    if not case.is_open or case.deadline is None or case.feedback_at is not None:
        return None
    if case.is_suspended:
        return Light.GREY
    return clock_light(now, case.deadline, case.allowed_s, case.basis or Basis.NATURAL, rules, policy)


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
    return clock_light(now, case.stage_deadline, allowed, basis, rules, policy)


def count_lights(
    cases: Iterable[CaseState],
    now: float,
    rules: Rules,
    policy: LightPolicy = DEFAULT_POLICY,
    dimensions: Iterable[str] = DIMENSIONS,
) -> dict[str, dict[str, dict[Light, int]]]:
    """Disposal lights counted per dimension value: ``{"department": {"D01": {red: 3, ...}}}``.

    The dimension "all" holds the totals. Cases without a running disposal clock are skipped.
    """
    dims = tuple(dimensions)
    for dim in dims:
        if not hasattr(CaseState, dim):
            raise ValueError(f"cases cannot be counted by {dim!r}: CaseState has no such field")
    counts: dict[str, dict[str, dict[Light, int]]] = {dim: {} for dim in ("all", *dims)}
    total = counts["all"].setdefault("all", dict.fromkeys(Light, 0))
    for case in cases:
        light = disposal_light(case, now, rules, policy)
        if light is None:
            continue
        total[light] += 1
        for dim in dims:
            value = getattr(case, dim)
            key = UNKNOWN if value is None else str(value)
            row = counts[dim].get(key)
            if row is None:
                row = counts[dim][key] = dict.fromkeys(Light, 0)
            row[light] += 1
    return counts
