"""The ranking tables the screens show: a department or region ranking of one period as rows
(position, name, score, grade, the rate that matters, 超期未处置), the city's objects listed
and the bottom and top flagged. One home: the wall's two panels (live counters), the desk's
rankings of any period (live or from SQL) and the briefing's evaluation scene build their rows
here (docs/wall.md "Rankings")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.casework.counters import Counters
from dashboard.casework.ranking import RankedRow, bottom_positions, rank, split_known
from dashboard.casework.rates import percent
from dashboard.casework.scoring import preset as load_preset
from dashboard.config import Settings
from dashboard.screens.names import Names

# The bottom (and top) positions flagged: the units that speak at the city's meeting, or lose
# points. A city's rule, [casework] bottom_units: 3 [D] (Xuchang's quarterly rule names 5).
BOTTOM = 3


def bottom_units(settings: Settings) -> int:
    value = settings.section("casework").get("bottom_units", BOTTOM)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
        raise ValueError(f"[casework] bottom_units = {value!r}: a whole number from 1 to 20 (3 or 5 in most cities)")
    return value


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class Rankings:
    def __init__(self, settings: Settings, names: Names) -> None:
        self.preset = load_preset(settings.section("casework").get("preset", "cjt292"))
        # A preset without a region formula (jinniu scores departments only) ranks regions by cjt292.
        self.region_preset = self.preset if "region" in self.preset.get("objects", {}) else load_preset("cjt292")
        self.region_kind = settings.board_region
        self.names = names
        self.city = names.city
        self.bottom = bottom_units(settings)

    def table(self, kind: str, rows: Mapping[str, Counters] | None, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        """The ranking of ``kind`` from its counters per code (None: not counted yet)."""
        if kind == "department" and not scope.whole:
            return {"kind": kind, "ready": False, "city_only": True, "rows": []}
        if rows is None:
            return {"kind": kind, "ready": False, "rows": []}
        rows = {code: c for code, c in rows.items() if scope.sees_area(code)}
        if kind == "department":
            formula, rate, preset = "department", "on_time_disposal_rate", self.preset
            known = [d.code for d in self.city.departments] if self.city is not None else []
            name = self.names.department
        else:
            formula, rate, preset = "region", "on_time_close_rate", self.region_preset
            areas = (self.city.districts if kind == "district" else self.city.streets) if self.city is not None else ()
            known = [a.code for a in areas if scope.sees_area(a.code)]
            name = self.names.area
        if self.city is None:  # no list of the city's objects: every code is a row
            ranked, unlisted = rank(rows, formula, preset), Counters()
        else:  # every department or region of the city is listed, ranked or not; no other code
            listed, rest = split_known(rows, known)
            ranked, unlisted = rank(listed, formula, preset), rest.counters
        bottom = set(bottom_positions(sum(1 for r in ranked if r.position is not None), self.bottom))
        return {"kind": kind, "ready": True, "rate": rate,
                "rows": [row(r, rate, name(r.code), bottom, self.bottom) for r in ranked],
                "unknown": {"reported": unlisted.reported, "filed": unlisted.filed,
                            "dispatched": unlisted.dispatched, "overdue": unlisted.overdue_pending}}

    def pair(self, period_kind: str, department: Mapping[str, Counters] | None,
             region: Mapping[str, Counters] | None, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        """The two rankings a screen shows side by side, for one period."""
        return {"period": period_kind, "department": self.table("department", department, scope),
                "region": self.table(self.region_kind, region, scope)}


def row(r: RankedRow, rate: str, names: tuple[str, str], bottom: set[int], top: int = BOTTOM) -> dict[str, Any]:
    return {"code": r.code, "zh": names[0], "en": names[1], "pos": r.position, "score": score_text(r.score),
            "grade": r.grade or "—", "rate": percent(r.rates.get(rate)), "overdue": r.counters.overdue_pending,
            "bottom": r.position in bottom, "top": r.position is not None and r.position <= top}
