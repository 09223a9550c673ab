"""Composite score (综合指标值, 0–100) and grade, docs/domain.md §6.3.

A preset is plain data, so a city can ship its own 考评办法 as config:

    {"name": ..., "grades": {"A": 90, "B": 75, "C": 60, "D": 40}, "score_decimals": 2,
     "tie_break": ["on_time_disposal_rate", "due_disposal"],
     "objects": {"department": [term, ...], "region": [...], "collector": [...]}}

A term is ``{"rate": <name in rates.RATES>, "weight": 30}`` (scored rate × 100, or
(1 − rate) × 100 for the rates that are better low) or ``{"count": <Counters field>,
"tiers": {"at_most" | "at_least": [[bound, score], ...], "else": 0}, "per_grid": bool,
"weight": 10}``. Weights are percentages and add up to 100. When any rate of a term is
missing (zero denominator) the object has no score and is left out of the ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dashboard.casework.counters import Counters
from dashboard.casework.rates import RATES, rate_fraction

# [R] tiers seen in the Unicom implementation (CJ/T 292 informative appendix); recalibrate
# them to local volumes.
DEPARTMENT_FILED_TIERS = {"at_most": [[50, 100], [100, 90], [200, 75], [500, 60], [1000, 40]], "else": 0}
REGION_FILED_PER_GRID_TIERS = {"at_most": [[0, 100], [2, 90], [4, 75], [6, 60], [8, 40]], "else": 0}
ACCEPTED_TIERS = {"at_least": [[2001, 100], [1201, 90], [501, 75], [301, 60], [101, 40]], "else": 0}

DEFAULT_GRADES: Mapping[str, float] = {"A": 90, "B": 75, "C": 60, "D": 40}  # [R]; below D: E
DEFAULT_TIE_BREAK: tuple[str, ...] = ("on_time_disposal_rate", "due_disposal")

CJT292: Mapping[str, Any] = {
    "name": "cjt292",
    "grades": DEFAULT_GRADES,
    "score_decimals": 2,
    "tie_break": DEFAULT_TIE_BREAK,
    "objects": {
        # [R] The source comment says 按期结案率 ×10 %; only 40 % makes the weights add up to 100.
        "region": [
            {"rate": "supervision_report_rate", "weight": 10},
            {"count": "filed_net", "per_grid": True, "tiers": REGION_FILED_PER_GRID_TIERS, "weight": 20},
            {"rate": "close_rate", "weight": 30},
            {"rate": "on_time_close_rate", "weight": 40},
        ],
        # [R] seen in one implementation only: verify against the local 考评办法.
        "department": [
            {"count": "filed", "tiers": DEPARTMENT_FILED_TIERS, "weight": 10},
            {"rate": "close_rate", "weight": 30},
            {"rate": "on_time_disposal_rate", "weight": 30},
            {"rate": "rework_rate", "weight": 30},
        ],
        "collector": [
            {"rate": "valid_report_rate", "weight": 40},
            {"rate": "missed_report_rate", "weight": 20},
            {"rate": "on_time_verify_rate", "weight": 20},
            {"rate": "on_time_check_rate", "weight": 20},
        ],
    },
}

# [R] Chengdu Jinniu, departments: 日常处置率×30 + 按期处置率×20 + (1−返工率)×20
# + (1−超期待处置率)×20 + (1−延期率)×10.
JINNIU: Mapping[str, Any] = {
    "name": "jinniu",
    "grades": DEFAULT_GRADES,
    "score_decimals": 2,
    "tie_break": DEFAULT_TIE_BREAK,
    "objects": {
        "department": [
            {"rate": "disposal_rate", "weight": 30},
            {"rate": "on_time_disposal_rate", "weight": 20},
            {"rate": "rework_rate", "weight": 20},
            {"rate": "overdue_pending_rate", "weight": 20},
            {"rate": "extension_rate", "weight": 10},
        ],
    },
}

PRESETS: Mapping[str, Mapping[str, Any]] = {"cjt292": CJT292, "jinniu": JINNIU}


@dataclass(frozen=True, slots=True)
class Score:
    value: float | None  # rounded to the preset's decimals; None: not ranked
    grade: str | None
    terms: dict[str, float | None]  # each term's 0–100 score, by its rate or count name


def preset(name_or_data: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A preset by name, or a city's own preset data checked for mistakes."""
    if isinstance(name_or_data, str):
        if name_or_data not in PRESETS:
            raise ValueError(f"unknown score preset {name_or_data!r}: expected {sorted(PRESETS)}")
        return PRESETS[name_or_data]
    data = name_or_data
    for kind, terms in data["objects"].items():
        total = sum(Fraction(str(term["weight"])) for term in terms)
        if total != 100:
            raise ValueError(f"weights of the {kind} score add up to {float(total)}, not 100")
        for term in terms:
            if "rate" in term and term["rate"] not in RATES:
                raise ValueError(f"unknown rate {term['rate']!r} in the {kind} score")
            if "count" in term and not hasattr(Counters, term["count"]):
                raise ValueError(f"unknown count {term['count']!r} in the {kind} score")
            if ("rate" in term) == ("count" in term):
                raise ValueError(f"a {kind} score term needs exactly one of rate or count")
    return data


def tier_score(value: Fraction | int, tiers: Mapping[str, Any]) -> Fraction:
    """The score of a count: the first step whose bound it meets, else ``tiers["else"]``."""
    if "at_most" in tiers:
        for bound, points in tiers["at_most"]:
            if value <= Fraction(str(bound)):
                return Fraction(str(points))
    else:
        for bound, points in tiers["at_least"]:
            if value >= Fraction(str(bound)):
                return Fraction(str(points))
    return Fraction(str(tiers.get("else", 0)))


def _term(counters: Counters, term: Mapping[str, Any]) -> tuple[str, Fraction | None]:
    if "rate" in term:
        name = term["rate"]
        exact = rate_fraction(counters, name)
        if exact is None:
            return name, None
        return name, (1 - exact if RATES[name].negative else exact) * 100
    name = term["count"]
    value: Fraction | int = getattr(counters, name)
    if term.get("per_grid"):
        value = Fraction(value, max(counters.grids, 1))
    return name, tier_score(value, term["tiers"])


def round_half_up(value: Fraction, decimals: int) -> float:
    scale = 10**decimals
    return float(Fraction(int(value * scale + Fraction(1, 2)), scale))


def grade(value: float | None, grades: Mapping[str, float] = DEFAULT_GRADES) -> str | None:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E (thresholds from the preset)."""
    if value is None:
        return None
    for letter, floor in sorted(grades.items(), key=lambda item: -item[1]):
        if value >= floor:
            return letter
    return "E"


def score(counters: Counters, kind: str, preset_data: str | Mapping[str, Any] = "cjt292") -> Score:
    """The composite score of one object of ``kind`` (department, region, collector)."""
    data = preset(preset_data)
    terms_data = data["objects"].get(kind)
    if terms_data is None:
        raise ValueError(f"score preset {data.get('name')!r} has no formula for {kind}")
    total = Fraction(0)
    terms: dict[str, float | None] = {}
    complete = True
    for term in terms_data:
        name, points = _term(counters, term)
        terms[name] = None if points is None else float(points)
        if points is None:
            complete = False
        else:
            total += points * Fraction(str(term["weight"])) / 100
    if not complete:
        return Score(None, None, terms)
    value = round_half_up(total, int(data.get("score_decimals", 2)))
    return Score(value, grade(value, data.get("grades", DEFAULT_GRADES)), terms)
