"""Evaluation (考评) from the SQL history: counters per object for a period, then the ranking.

The counting rules live in dashboard.casework (pure); this module only runs the queries of
``casework.projection`` against the ``case_stat``/``case_step`` tables and hands the rows to
``Counters.from_row`` and ``ranking.rank``. `gridwall rank` and the wall's live ranking (its
starting point for a new period) both come through here.

The objects a ranking ranks are the city's (``city_objects``): a department or region code that
its files do not list is never a row; its counters are kept apart (``Evaluation.unlisted``), and
its cases count in the city's totals like any other.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from dashboard.casework.counters import Counters, Period
from dashboard.casework.gridcode import region_code
from dashboard.casework.ranking import UNKNOWN, RankedRow, Unlisted, rank, split_known
from dashboard.city.model import load_city
from dashboard.store.counters_sql import collector_sql, counters_sql

# What `--by` accepts: (grouping column, score formula of casework.scoring)
OBJECTS: Mapping[str, tuple[str, str]] = {
    "department": ("department", "department"),
    "district": ("district", "region"),
    "street": ("street", "region"),
    "community": ("community", "region"),
    "grid": ("grid_code", "region"),
    "collector": ("reporter", "collector"),
    # The whole city as one row: every group is added to it, so the grouping column only picks
    # the plan. Not `source`: SQLite then reads all of migration 0010's (source, reported_at, ...)
    # index for any period (0.72 s a month at 1M cases, against 0.31 s by district).
    "city": ("district", "region"),
}
REGION_LEVEL = {"district": "district", "street": "street", "community": "community", "grid": "grid"}


@dataclass(frozen=True, slots=True)
class Evaluation:
    by: str
    period: Period
    cutoff: float
    rows: list[RankedRow]
    unlisted: Unlisted | None = None  # codes the city does not list (None: no list to check against)


def _rows(conn: Connection, sql: str, params: Mapping[str, float], key: str) -> Iterable[tuple[str, Counters]]:
    for row in conn.execute(text(sql), params).mappings():
        data = dict(row)
        code = data.pop(key)
        yield str(code), Counters.from_row(data)


def _add(out: dict[str, Counters], code: str, counters: Counters) -> None:
    out[code] = out[code] + counters if code in out else counters


def _sum_per_collector(sums: dict[str, dict[str, int]], result: Any, key: str,
                       watchers: Mapping[str, Iterable[str]]) -> None:
    """Add one collector query's rows (the key column first) to each collector's column sums;
    a grid's row goes to every collector of the grid. Summed as numbers and made ``Counters``
    once per collector: a month has thousands of grid rows and a few collectors each, and a
    ``Counters`` per row and collector cost more than the SQL (the sums are the same). Read in
    chunks, so that the rows do not pile up for the garbage collector."""
    first, *names = result.keys()
    if first != key:
        raise ValueError(f"the key column {key!r} must come first, not {first!r}")
    totals: dict[str, list[int]] = {}
    for rows in result.partitions(2000):
        for code, *values in rows:
            for collector in watchers.get(code, ()) if key == "grid_code" else (code,):
                if collector in totals:
                    total = totals[collector]
                    for i, value in enumerate(values):
                        total[i] += value
                else:
                    totals[collector] = list(values)  # its own: a grid row goes to several
    for collector, total in totals.items():
        into = sums.setdefault(str(collector), {})
        for name, value in zip(names, total, strict=True):
            into[name] = into.get(name, 0) + value


def city_grid_codes(city_dir: Path | str) -> list[str]:
    """The unit grids of the city's map files, for the regions' per-grid tiers."""
    try:
        return list(load_city(city_dir).grid_info)
    except (OSError, KeyError, ValueError):
        return []  # a city without grid polygons: regions rank without the per-grid tiers


def city_objects(city_dir: Path | str) -> dict[str, frozenset[str]]:
    """The codes of the city's own objects, per kind of ``OBJECTS`` that has a list: departments,
    districts, streets, communities and unit grids. Empty for a city without its files: then
    every code is taken as it comes."""
    try:
        city = load_city(city_dir)
    except (OSError, KeyError, ValueError):
        return {}
    return {
        "department": frozenset(d.code for d in city.departments),
        "district": frozenset(a.code for a in city.districts),
        "street": frozenset(a.code for a in city.streets),
        "community": frozenset(a.code for a in city.communities),
        "grid": frozenset(city.grid_info),
    }


def grid_counts(grid_codes: Iterable[str], by: str) -> dict[str, int]:
    """How many unit grids each region has (the per-grid 立案数 tiers of the region score)."""
    counts: dict[str, int] = {}
    for grid in grid_codes:
        code = region_code(grid, REGION_LEVEL[by])
        if code is not None:
            counts[code] = counts.get(code, 0) + 1
    return counts


def read_grid_collectors(path: Path | str) -> dict[str, list[str]]:
    """A city's 责任网格 assignment: a CSV with columns grid_code, collector."""
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["grid_code"].strip(), []).append(row["collector"].strip())
    return out


# Who did the 核实/核查 of each grid's cases in the period: one pass over the period's cases
# in the index ix_case_stat_span_actors alone (a UNION of the two roles reads it twice).
GRID_ACTORS_SQL = (
    "SELECT DISTINCT grid_code, verify_actor, check_actor FROM case_stat "
    "WHERE span_end >= :start AND span_start < :cutoff AND grid_code IS NOT NULL "
    "AND (verify_actor IS NOT NULL OR check_actor IS NOT NULL)"
)


def derived_grid_collectors(conn: Connection, period: Period, cutoff: float) -> dict[str, list[str]]:
    """Who answered for a grid in the period, as the data shows it (without an assignment
    file): the collectors who did the 核实/核查 of its cases."""
    result = conn.execute(text(GRID_ACTORS_SQL), {"start": period[0], "cutoff": cutoff})
    found: dict[str, list[str]] = {}
    for rows in result.partitions(2000):
        for grid, verifier, checker in rows:
            actors = found.setdefault(grid, [])
            if verifier is not None:
                actors.append(verifier)
            if checker is not None:
                actors.append(checker)
    return {grid: sorted(set(actors)) for grid, actors in found.items()}


def next_deadlines(conn: Connection, after: float) -> dict[str, float]:
    """Each case's next deadline after ``after`` (disposal, closing, or the step waiting now):
    the instants at which its counters change by the clock alone (liverank's timers)."""
    rows = conn.execute(
        text("SELECT case_id, deadline, close_deadline, stage_deadline, is_open FROM case_stat WHERE span_end >= :t"),
        {"t": after},
    )
    out: dict[str, float] = {}
    for case_id, deadline, close_deadline, stage_deadline, is_open in rows:
        ahead = [t for t in (deadline, close_deadline, stage_deadline if is_open else None) if t is not None and t >= after]
        if ahead:
            out[case_id] = min(ahead)
    return out


def counters_by(
    conn: Connection,
    by: str,
    period: Period,
    now: float,
    *,
    grid_codes: Iterable[str] = (),
    grid_collectors: Mapping[str, Iterable[str]] | None = None,
    known: Collection[str] | None = None,
) -> dict[str, Counters]:
    """Counters per object of ``by`` (a key of ``OBJECTS``) for ``period`` as seen at ``now``;
    the same numbers as ``casework.evaluation`` folding the case states. With ``known`` (the
    city's codes of that kind), a code outside it counts under ``ranking.UNKNOWN``, as the live
    rankings count it."""
    if by not in OBJECTS:
        raise ValueError(f"cannot rank by {by!r}: expected one of {', '.join(OBJECTS)}")
    if known is not None and by not in ("city", "collector"):
        listed = frozenset(known)
        rows = counters_by(conn, by, period, now, grid_codes=grid_codes, grid_collectors=grid_collectors)
        folded: dict[str, Counters] = {}
        for code, counters in rows.items():
            _add(folded, code if code in listed else UNKNOWN, counters)
        return folded
    cutoff = min(period[1], now)
    out: dict[str, Counters] = {}
    if by == "city":
        out["city"] = Counters(grids=len(list(grid_codes)))
    elif by in REGION_LEVEL:  # every region, with or without cases, with its number of grids
        out.update({code: Counters(grids=n) for code, n in grid_counts(grid_codes, by).items()})
    if cutoff <= period[0]:
        return out
    params = {"start": period[0], "cutoff": cutoff}
    if by == "collector":
        watchers = derived_grid_collectors(conn, period, cutoff) if grid_collectors is None else grid_collectors
        sums: dict[str, dict[str, int]] = {}
        for sql, key in collector_sql():
            _sum_per_collector(sums, conn.execute(text(sql), params), key, watchers)
        for collector, row in sums.items():
            _add(out, collector, Counters.from_row(row))
        return out
    column = OBJECTS[by][0]
    for sql in counters_sql(column):
        for code, counters in _rows(conn, sql, params, column):
            _add(out, "city" if by == "city" else code, counters)
    return out


def evaluate(
    engine: Engine,
    by: str,
    period: Period,
    now: float,
    preset: str | Mapping[str, Any] = "cjt292",
    *,
    grid_codes: Iterable[str] = (),
    grid_collectors: Mapping[str, Iterable[str]] | None = None,
    known: Collection[str] | None = None,
) -> Evaluation:
    """The ranking of ``by``. With ``known`` (``city_objects(city_dir).get(by)``), exactly the
    city's objects are its rows, and the codes outside it are summed in ``unlisted``."""
    with engine.connect() as conn:
        rows = counters_by(conn, by, period, now, grid_codes=grid_codes, grid_collectors=grid_collectors)
    cutoff = min(period[1], now)
    if known is None or by in ("city", "collector"):
        return Evaluation(by, period, cutoff, rank(rows, OBJECTS[by][1], preset))
    listed, unlisted = split_known(rows, known)
    return Evaluation(by, period, cutoff, rank(listed, OBJECTS[by][1], preset), unlisted)
