"""The weekly 督办 list (每周督办通报): for a week, each department's overdue cases (超期未处置,
still overdue when the week ended or now; 超期处置, done after the deadline) and those sent back
at 核查 (返工), departments worst first, the way cities publish it for the weekly meeting where
the bottom unit answers (docs/desk.md "The weekly 督办 list").

Pure: the rows (dashboard/store/weekly.py) and the names come in; ``now`` is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.access.scope import Scope
from dashboard.exports import Column
from dashboard.i18n import t
from dashboard.screens.names import Names

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    pass


def week_bounds(label: str | None, now: float, timezone: str) -> tuple[str, float, float]:
    """An ISO week ``YYYY-Www`` (default: this week in the city) as (label, start, end): Monday
    00:00 to the next Monday 00:00, the city's time, in UTC epoch seconds. A week that has not
    begun is refused."""
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, zone).date()
    if label is None or label == "":
        year, week, _ = today.isocalendar()
    else:
        m = _WEEK.match(label)
        if m is None:
            raise WeekError("week: YYYY-Www, e.g. 2026-W49")
        year, week = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise WeekError(f"week: no week {label}") from exc
    monday = date.fromisocalendar(year, week, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    end = start + timedelta(days=7)
    if start.timestamp() > now:
        raise WeekError("week: that week has not begun")
    return f"{year}-W{week:02d}", start.timestamp(), end.timestamp()


def shift_week(label: str, weeks: int) -> str:
    year, week = int(label[:4]), int(label[6:])
    monday = date.fromisocalendar(year, week, 1) + timedelta(weeks=weeks)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def weekly_list(rows: Sequence[Mapping[str, Any]], names: Names, scope: Scope, week: str, start: float, end: float,
                now: float) -> dict[str, Any]:
    """Departments with at least one listed case, ordered: most overdue (超期未处置 + 超期处置) first,
    then most 返工, then by code. Within one: still overdue first (longest overdue first), then
    done late (latest first by how late), then 返工."""
    cutoff = min(end, now)
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if not scope.sees(r):
            continue
        department = r.get("department") or "unknown"
        problem = names.problem_class(r.get("category"), r.get("small_code"))
        district, street = names.area(r.get("district")), names.area(r.get("street"))
        late_s = None
        if r["overdue_pending"]:
            late_s = cutoff - float(r["deadline"])
        elif r["disposed_late"] and r.get("feedback_at") is not None:
            late_s = float(r["feedback_at"]) - float(r["deadline"])
        by_dept.setdefault(department, []).append({
            "case_id": r["case_id"], "title": r.get("title"), "problem_zh": problem[0], "problem_en": problem[1],
            "district_zh": district[0], "district_en": district[1], "street_zh": street[0], "street_en": street[1],
            "reported_at": r.get("reported_at"), "deadline": r.get("deadline"), "feedback_at": r.get("feedback_at"),
            "pending": bool(r["overdue_pending"]), "late": bool(r["disposed_late"]), "reworked": bool(r["reworked"]),
            "reworks": int(r.get("reworks") or 0), "returns": int(r.get("returns") or 0),
            "late_s": late_s, "open": bool(r.get("is_open")),
        })
    departments = []
    for code, cases in by_dept.items():
        cases.sort(key=lambda c: (0 if c["pending"] else 1 if c["late"] else 2, -(c["late_s"] or 0.0), c["case_id"]))
        zh, en = names.department(code if code != "unknown" else None)
        departments.append({
            "code": code, "zh": zh, "en": en, "cases": cases,
            "pending": sum(c["pending"] for c in cases), "late": sum(c["late"] for c in cases),
            "reworked": sum(c["reworked"] for c in cases),
        })
    departments.sort(key=lambda d: (-(d["pending"] + d["late"]), -d["reworked"], d["code"]))
    for i, d in enumerate(departments, start=1):
        d["position"] = i
    return {"week": week, "start": start, "end": end, "cutoff": cutoff, "complete": now >= end,
            "departments": departments, "total": sum(len(d["cases"]) for d in departments)}


def weekly_table(page: Mapping[str, Any], lang: str, timezone: str) -> tuple[list[Column], list[list[Any]]]:
    """The list as one sheet: a row per case, its department's place and counts repeated."""
    zone = ZoneInfo(timezone)

    def when(x: Any) -> str | None:
        return datetime.fromtimestamp(float(x), zone).strftime("%Y-%m-%d %H:%M") if isinstance(x, int | float) else None

    en = lang == "en"
    columns = [Column(t(k, lang), w) for k, w in (
        ("wk_position", 6), ("col_department", 14), ("wk_pending", 8), ("wk_late", 8), ("wk_reworked", 8),
        ("col_case", 16), ("wk_kind", 12), ("col_problem", 14), ("col_title", 30), ("col_district", 10),
        ("col_street", 12), ("col_reported", 17), ("col_due", 17), ("wk_done", 17), ("col_overdue_h", 10),
        ("wk_reworks", 6), ("wk_returns", 6))]
    cells = []
    for d in page["departments"]:
        for c in d["cases"]:
            kind = "wk_pending" if c["pending"] else "wk_late" if c["late"] else "wk_reworked"
            cells.append([
                d["position"], d["en" if en else "zh"], d["pending"], d["late"], d["reworked"],
                c["case_id"], t(kind, lang), c["problem_en" if en else "problem_zh"], c["title"],
                c["district_en" if en else "district_zh"], c["street_en" if en else "street_zh"],
                when(c["reported_at"]), when(c["deadline"]), when(c["feedback_at"]),
                round(c["late_s"] / 3600, 1) if c["late_s"] is not None else None, c["reworks"], c["returns"],
            ])
    return columns, cells
