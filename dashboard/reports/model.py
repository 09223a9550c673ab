"""What an evaluation report says (docs/reports.md), built once and written as PDF or XLSX.

Every figure comes from the functions that already compute it, so the report and the screens
cannot disagree:

- the rankings (departments, districts, streets): ``store.evaluation.evaluate`` with exactly the
  arguments `gridwall rank` passes, flattened by ``rank_cmd.records``: a report row *is* a
  `gridwall rank --format json` row;
- the previous period: the same call one period earlier, for the changes;
- the bottom units: ``casework.ranking.bottom_positions`` with the city's count (``[casework]
  bottom_units``, the wall's too);
- the trend: ``store.trend.trend`` (the briefing's too);
- the overdue list: the weekly 督办 list's read and rule (``store.weekly.weekly_cases``,
  ``screens.weekly.weekly_list``) over the report's period.

Masking and districts are applied here, for the principal who asked: the overdue list's titles
are the only free text in a report (phones masked), the exporter's name is masked, and a
district-limited principal gets its districts' rows and cases (no department ranking: a
department's counters are the whole city's, as on the wall).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.access.masking import Masking, mask_name
from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.casework.counters import Counters
from dashboard.casework.period_labels import label_of, previous_first_day
from dashboard.casework.periods import period_bounds, period_range
from dashboard.casework.ranking import bottom_positions
from dashboard.city.model import load_city
from dashboard.config import Settings
from dashboard.rank_cmd import object_names as rank_names  # the names `gridwall rank` prints: one home
from dashboard.rank_cmd import records
from dashboard.screens.names import load_names
from dashboard.screens.rankings import bottom_units
from dashboard.screens.weekly import weekly_list
from dashboard.store.evaluation import city_grid_codes, city_objects, evaluate
from dashboard.store.trend import TrendPoint, point, trend
from dashboard.store.weekly import weekly_cases

RANKED = ("department", "district", "street")
# The trend drawn with each kind of report: (unit, points). The trend has weeks and months; a
# day's report shows the weeks around it, a quarter's and a year's the months.
TREND_OF = {"day": ("week", 8), "week": ("week", 12), "month": ("month", 12), "quarter": ("month", 12),
            "year": ("month", 12)}
# The city's headline figures on the first page (and the summary sheet), current against previous.
HEADLINE = ("reported", "filed", "due_disposal", "disposed_on_time", "overdue_pending", "due_close", "closed",
            "disposal_rate", "on_time_disposal_rate", "close_rate", "on_time_close_rate", "rework_rate")


class ReportError(ValueError):
    """A report that cannot be made: ``reason`` for the machine, the message for a person."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Ranking:
    by: str  # department | district | street
    rows: list[dict[str, Any]]  # rank_cmd.records: position, code, name, score, grade, rates, counters
    previous: dict[str, dict[str, Any]]  # code -> the previous period's record
    bottom: frozenset[str]  # the codes flagged as bottom units
    unlisted: tuple[str, ...] = ()  # codes the city does not list (their cases count in the city's totals)

    def change(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Against the previous period: its position and score, and how they moved (a positive
        position change is a climb). None where either period has no value."""
        return changes(row, self.previous.get(row["code"]))


def changes(row: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, Any]:
    prev_position = before.get("position") if before else None
    prev_score = before.get("score") if before else None
    position, score = row.get("position"), row.get("score")
    return {
        "prev_position": prev_position,
        "position_change": prev_position - position if position is not None and prev_position is not None else None,
        "prev_score": prev_score,
        "score_change": round(score - prev_score, 2) if score is not None and prev_score is not None else None,
    }


@dataclass(frozen=True, slots=True)
class Report:
    kind: str  # day | week | month | quarter | year
    label: str  # "2026-11"
    previous_label: str
    start: float  # UTC epoch s, [start, end)
    end: float
    cutoff: float  # min(end, now): counted up to here
    now: float
    lang: str
    timezone: str
    preset: str
    city_zh: str
    city_en: str
    rankings: list[Ranking]
    city: dict[str, Any]  # the whole city's record (as `gridwall rank --by city`)
    city_previous: dict[str, Any]
    trend_unit: str
    trend: list[TrendPoint]
    overdue: dict[str, Any]  # screens.weekly.weekly_list over the period (titles masked as asked)
    scope_whole: bool
    masked: bool
    who: str | None
    bottom_k: int
    departments_left_out: bool = False  # a district-limited principal: no department ranking

    @property
    def complete(self) -> bool:
        return self.now >= self.end

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, ZoneInfo(self.timezone))


def _trend(engine: Engine, kind: str, first_day: date, after_day: date, before: tuple[date, tuple[float, float]],
           period: tuple[float, float], now: float, timezone: str, preset: str, counters: Counters,
           counters_before: Counters) -> tuple[str, list[TrendPoint]]:
    """The trend up to the report's period, each finished point its final figures (``trend``
    counts a point up to its own end).

    When the trend's unit is the report's (a month's report, its months), the trend is asked for
    as seen at the previous period's start: the points before it are the same, and the last two
    are the ones this report has counted already (``counters_before``, ``counters``), not counted
    twice. Otherwise it is seen at min(end, now), one point more asked for, and the one past the
    period (empty: it starts at the cutoff) or the oldest dropped."""
    unit, count = TREND_OF[kind]
    if unit == kind:
        before_first, before_period = before
        points = trend(engine, unit, count - 1, before_period[0], timezone, preset)[:-1]
        return unit, [*points, point(unit, before_first, counters_before, partial=False),
                      point(unit, first_day, counters, partial=period[1] > now)]
    points = trend(engine, unit, count + 1, min(period[1], now), timezone, preset)
    return unit, points[:-1] if points[-1].first_day >= after_day else points[1:]


def build(engine: Engine, settings: Settings, kind: str, first_day: date, now: float, lang: str, *,
          masking: Masking | None = None, scope: Scope = CITY_SCOPE, who: str | None = None) -> Report:
    """The report of the ``kind`` period starting on local ``first_day``, as seen at ``now``.
    A period that has not begun is refused (ReportError "future"); the current one is reported
    so far."""
    masking = masking or Masking.none()
    tz = settings.timezone
    first, after = period_bounds(kind, first_day)
    period = period_range(kind, first, tz)
    if period[0] > now:
        raise ReportError("future", f"the {kind} {label_of(kind, first)} has not begun")
    before_first = previous_first_day(kind, first)
    before = period_range(kind, before_first, tz)
    casework = settings.section("casework")
    preset = str(casework.get("preset", "cjt292"))
    bottom_k = bottom_units(settings)  # the city's rule, [casework] bottom_units: the wall's too
    grids = city_grid_codes(settings.city_dir)
    objects = city_objects(settings.city_dir)
    names = rank_names(settings, lang)

    def ranked(by: str, span: tuple[float, float]) -> Any:
        # The very call `gridwall rank` makes (dashboard/rank_cmd.py command).
        return evaluate(engine, by, span, now, preset, grid_codes=grids, known=objects.get(by))

    rankings = []
    for by in RANKED:
        if by == "department" and not scope.whole:
            continue
        result = ranked(by, period)
        rows = records(result, names)
        flagged = set(bottom_positions(sum(1 for r in rows if r["position"] is not None), bottom_k))
        bottom = frozenset(r["code"] for r in rows if r["position"] in flagged)
        previous = {r["code"]: r for r in records(ranked(by, before), names)}
        if not scope.whole:  # the rows inside the principal's districts, their city-wide places kept
            rows = [r for r in rows if scope.sees_area(r["code"])]
        unlisted = result.unlisted.codes if result.unlisted is not None else ()
        rankings.append(Ranking(by, rows, previous, bottom, tuple(unlisted)))

    city_now, city_then = ranked("city", period), ranked("city", before)
    city, city_before = records(city_now, {"city": ""}), records(city_then, {"city": ""})
    unit, points = _trend(engine, kind, first, after, (before_first, before), period, now, tz, preset,
                          *(r.rows[0].counters if r.rows else Counters() for r in (city_now, city_then)))

    cutoff = min(period[1], now)
    cases = weekly_cases(engine, period[0], cutoff)
    overdue = weekly_list(cases, load_names(settings.city_dir), scope, label_of(kind, first), period[0], period[1], now)
    if masking.active:
        for d in overdue["departments"]:
            d["cases"] = [{**c, "title": masking.case({"title": c["title"]}).get("title")} for c in d["cases"]]
    try:
        city_files = load_city(settings.city_dir)
        city_zh, city_en = city_files.name_zh, city_files.name_en
    except (OSError, KeyError, ValueError):
        city_zh = city_en = ""
    return Report(
        kind=kind, label=label_of(kind, first), previous_label=label_of(kind, before_first),
        start=period[0], end=period[1], cutoff=cutoff, now=now, lang=lang, timezone=tz, preset=preset,
        city_zh=city_zh, city_en=city_en, rankings=rankings,
        city=city[0] if city else {}, city_previous=city_before[0] if city_before else {},
        trend_unit=unit, trend=points, overdue=overdue, scope_whole=scope.whole, masked=masking.active,
        who=mask_name(who) if masking.active and who else who, bottom_k=bottom_k,
        departments_left_out=not scope.whole,
    )
