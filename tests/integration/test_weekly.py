"""The weekly 督办 list (dashboard/screens/weekly.py, dashboard/store/weekly.py, /desk/weekly and
its export), on the real stack (both): for each department exactly the cases the ranking's
counters count as 超期未处置, 超期处置 and 返工 in the week, worst department first; the export
holds the same rows; a bad week is refused; a district-limited user sees its districts only."""

from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from desk_support import Desk, seeded_site
from helpers import grant

from dashboard.access.scope import Scope
from dashboard.app import create_app
from dashboard.desk_api import weekly_answer
from dashboard.screens.weekly import WeekError, shift_week, week_bounds
from dashboard.store.evaluation import counters_by


@pytest.fixture
def site(stack, tmp_path: Path):
    yield from seeded_site(stack, tmp_path, seed=5)


class Everyone:
    scope = Scope(None)


def test_each_department_lists_exactly_what_its_counters_count(site) -> None:
    settings, _hot, engine = site
    now = time.time()
    page = weekly_answer(engine, settings, Everyone(), None, now)
    label, start, end = week_bounds(None, now, settings.timezone)
    assert page["week"] == label and page["total"] > 0
    with engine.connect() as conn:
        counted = counters_by(conn, "department", (start, end), now)
    for d in page["departments"]:
        c = counted[d["code"]]
        assert (d["pending"], d["late"], d["reworked"]) == (c.overdue_pending, c.disposed_late, c.reworked), d["code"]
    listed = {d["code"] for d in page["departments"]}
    assert {code for code, c in counted.items() if c.overdue_pending + c.disposed_late + c.reworked} == listed
    overdue = [d["pending"] + d["late"] for d in page["departments"]]
    assert overdue == sorted(overdue, reverse=True), "worst department first"
    for d in page["departments"]:
        kinds = [0 if c["pending"] else 1 if c["late"] else 2 for c in d["cases"]]
        assert kinds == sorted(kinds), "still overdue, then done late, then reworked"
    # A week before the history: nothing; a week to come: refused.
    assert weekly_answer(engine, settings, Everyone(), shift_week(label, -8), now)["departments"] == []
    with pytest.raises(WeekError):
        weekly_answer(engine, settings, Everyone(), shift_week(label, 1), now)


def test_the_export_holds_the_same_rows_and_a_limited_user_its_districts(site) -> None:
    settings, _hot, engine = site
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    page = weekly_answer(engine, settings, Everyone(), None, time.time())
    resp = leader.c.get(f"/desk/api/weekly.xlsx?week={page['week']}", headers=leader.auth)
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    cases = [r for r in rows if r[5]]
    assert [r[5] for r in cases][:page["total"]] == [c["case_id"] for d in page["departments"] for c in d["cases"]]
    assert leader.c.get("/desk/api/weekly.csv?week=2026-W99", headers=leader.auth).status_code == 400
    viewer = Desk(app, grant(settings.resolved_database_url, "viewer", "viewer", token=""))
    assert viewer.c.get("/desk/api/weekly.xlsx", headers=viewer.auth).status_code == 403
    # A user limited to one district: that district's cases, no other.
    from dashboard.store.weekly import weekly_cases

    _label, start, end = week_bounds(page["week"], time.time(), settings.timezone)
    rows = weekly_cases(engine, start, min(end, time.time()))
    code = max({r["district"] for r in rows if r["district"]}, key=lambda c: sum(r["district"] == c for r in rows))
    limited = type("Limited", (), {"scope": Scope(frozenset({code}))})()
    mine = weekly_answer(engine, settings, limited, page["week"], time.time())
    assert mine["total"] == sum(r["district"] == code for r in rows) < page["total"]
