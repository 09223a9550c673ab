"""Evaluation (考评, docs/domain.md §6) from case states: counters per object, then the ranking.

Objects: departments (the case's current department), regions (district → street →
community → grid, from the grid code) and collectors (监督员). For a million cases the same
``Counters`` come from SQL rows instead (``Counters.from_row``) and go to ``ranking.rank``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.casework.casestate import CaseState, Source
from dashboard.casework.counters import Counters, Period
from dashboard.casework.gridcode import LEVELS, region_code
from dashboard.casework.ranking import RankedRow, rank
from dashboard.casework.timelimits import Stage

REGION_LEVELS: tuple[str, ...] = (*LEVELS, "grid")


def by_department(cases: Iterable[CaseState], period: Period, now: float) -> dict[str, Counters]:
    """Counters per department; cases not (or no longer) dispatched to one are left out."""
    out: dict[str, Counters] = {}
    for case in cases:
        if case.department is not None:
            out.setdefault(case.department, Counters()).add(case, period, now)
    return out


def by_region(
    cases: Iterable[CaseState],
    period: Period,
    now: float,
    level: str = "street",
    grid_codes: Iterable[str] | None = None,
) -> dict[str, Counters]:
    """Counters per district/street/community/grid. ``grid_codes`` (all grids of the city)
    gives each region its number of grids, for the per-grid 立案数 tiers, and lists regions
    without cases too."""
    if level not in REGION_LEVELS:
        raise ValueError(f"unknown region level {level!r}: expected one of {REGION_LEVELS}")
    out: dict[str, Counters] = {}
    for grid in grid_codes or ():
        code = region_code(grid, level)
        if code is not None:
            out.setdefault(code, Counters()).grids += 1
    for case in cases:
        code = region_code(case.grid_code, level)
        if code is not None:
            out.setdefault(code, Counters()).add(case, period, now)
    return out


def by_collector(
    cases: Iterable[CaseState],
    period: Period,
    now: float,
    grid_collectors: Mapping[str, Iterable[str]],
) -> dict[str, Counters]:
    """Counters per collector: their own reports, verifications and checks, and the 立案 of
    their grids (``grid_collectors``: grid code → collector ids) for the 漏报率.

    A verification or check still open past its limit has no actor yet, so it counts only
    for regions and departments.
    """
    start, cutoff = period[0], min(period[1], now)
    out: dict[str, Counters] = {}
    if cutoff <= start:
        return out

    def of(actor: str) -> Counters:
        return out.setdefault(actor, Counters())

    watchers = {grid: tuple(ids) for grid, ids in grid_collectors.items()}
    for case in cases:
        if case.source is Source.SUPERVISOR and case.reporter is not None:
            of(case.reporter).add_intake(case, start, cutoff)
        mark = case.verify_mark
        if mark is not None and mark.actor is not None:
            of(mark.actor).add_step(Stage.VERIFY, mark, start, cutoff)
        for mark in case.check_marks:
            if mark.actor is not None:
                of(mark.actor).add_step(Stage.CHECK, mark, start, cutoff)
        for collector in watchers.get(case.grid_code or "", ()):
            of(collector).add_filing(case, start, cutoff)
    return out


def evaluate(
    cases: Iterable[CaseState],
    kind: str,
    period: Period,
    now: float,
    preset_data: str | Mapping[str, Any] = "cjt292",
    *,
    level: str = "street",
    grid_codes: Iterable[str] | None = None,
    grid_collectors: Mapping[str, Iterable[str]] | None = None,
) -> list[RankedRow]:
    """The ranking of all departments, regions (at ``level``) or collectors for a period."""
    if kind == "department":
        rows = by_department(cases, period, now)
    elif kind == "region":
        rows = by_region(cases, period, now, level, grid_codes)
    elif kind == "collector":
        if grid_collectors is None:
            raise ValueError("collector evaluation needs grid_collectors for the 漏报率")
        rows = by_collector(cases, period, now, grid_collectors)
    else:
        raise ValueError(f"unknown evaluation object {kind!r}: department, region or collector")
    return rank(rows, kind, preset_data)
