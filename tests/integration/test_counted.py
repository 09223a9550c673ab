"""The cases behind a counter (dashboard/store/counted.py, GET /desk/api/counted), on the real
stack (both): for each drillable number, each period and each department or region, the list
holds exactly as many cases as the ranking's counter (``counters_by``) counts, every page of it
adds up to the whole, an open case shows with its live light, and a limited user gets its
districts only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from desk_support import Desk, seeded_site
from helpers import grant

from dashboard.app import create_app
from dashboard.casework.periods import period_range
from dashboard.screens.desk import COUNTED
from dashboard.store.counted import counted_cases
from dashboard.store.evaluation import counters_by


@pytest.fixture
def site(stack, tmp_path: Path):
    yield from seeded_site(stack, tmp_path, seed=7)


def value(counters, name: str) -> int:
    return int(getattr(counters, name))


def test_every_number_lists_exactly_the_cases_it_counted(site) -> None:
    settings, _hot, engine = site
    now = time.time()
    checked = 0
    for period in ("day", "week", "month"):
        start, end = period_range(period, now, settings.timezone)
        cutoff = min(end, now)
        with engine.connect() as conn:
            city = counters_by(conn, "city", (start, end), now)["city"]
            by = {kind: counters_by(conn, kind, (start, end), now) for kind in ("department", "district")}
        for name, parts in COUNTED.items():
            total, _ = counted_cases(engine, parts, None, None, start, cutoff, 0, 1)
            assert total == value(city, name), (period, name)
            for kind, rows in by.items():
                for code, counters in rows.items():
                    total, _ = counted_cases(engine, parts, kind, code, start, cutoff, 0, 1)
                    assert total == value(counters, name), (period, name, kind, code)
                    checked += total
    assert checked > 100, "the simulated days give numbers to check"


def test_pages_add_up_and_the_route_shows_live_lights_and_scope(site) -> None:
    settings, hot, engine = site
    now = time.time()
    start, end = period_range("week", now, settings.timezone)
    total, first = counted_cases(engine, COUNTED["reported"], None, None, start, min(end, now), 0, 1000)
    pages = [counted_cases(engine, COUNTED["reported"], None, None, start, min(end, now), o, 7)[1]
             for o in range(0, total, 7)]
    assert [r["case_id"] for p in pages for r in p] == [r["case_id"] for r in first]
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    status, body = leader.get("/desk/api/counted?counter=reported&period=week&limit=100")
    assert status == 200 and body["total"] == total
    open_ids = {d["case_id"] for d in hot.open_cases()}
    shown = {r["case_id"]: r for r in body["rows"]}
    assert any(r["light"] for cid, r in shown.items() if cid in open_ids), "open cases carry their light"
    assert all(r["light"] is None for cid, r in shown.items() if cid not in open_ids)
    district = max({r["district"] for r in first if r["district"]}, key=lambda c: sum(r["district"] == c for r in first))
    limited = Desk(app, grant(settings.resolved_database_url, "leader", "limited", token="", districts=[district]))
    status, body = limited.get("/desk/api/counted?counter=reported&period=week&limit=100")
    assert body["total"] == sum(r["district"] == district for r in first) < total
    for bad, reason in [("counter=nope", "bad_counter"), ("counter=reported&period=decade", "bad_period"),
                        ("counter=reported&by=department", "bad_by"), ("counter=reported&by=grid&code=1", "bad_by")]:
        status, body = leader.get(f"/desk/api/counted?{bad}")
        assert (status, body["reason"]) == (400, reason)


def test_the_desk_s_rankings_of_any_period_are_the_rank_command_s(site) -> None:
    """GET /desk/api/ranks: a period the wall keeps live (month) from Redis; any other from SQL,
    ranked as `gridwall rank` ranks it (store/evaluation.py evaluate): positions, scores, grades."""
    from dashboard.store.evaluation import city_grid_codes, city_objects, evaluate

    settings, _hot, engine = site
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "领导", token=""))
    now = time.time()
    known = city_objects(settings.city_dir)
    for period in ("week", "quarter", "year"):
        status, body = leader.get(f"/desk/api/ranks?period={period}")
        assert status == 200 and (body["period"], body["source"]) == (period, "sql")
        for kind, got in (("department", body["department"]), ("street", body["region"])):
            want = evaluate(engine, kind, period_range(period, now, settings.timezone), now,
                            grid_codes=city_grid_codes(settings.city_dir), known=known.get(kind))
            assert got["ready"] and got["kind"] == kind
            assert [(r["code"], r["pos"], r["grade"]) for r in got["rows"]] == [
                (r.code, r.position, r.grade or "—") for r in want.rows], (period, kind)
            assert sum(r["overdue"] for r in got["rows"]) == sum(r.counters.overdue_pending for r in want.rows)
        assert any(r["pos"] is not None for r in body["department"]["rows"]), "the seeded cases are ranked"
    status, body = leader.get("/desk/api/ranks?period=month")
    assert status == 200 and body["source"] == "live"  # the board's own period: the live counters
    assert leader.get("/desk/api/ranks?period=decade") == (400, {"reason": "bad_period",
                                                                "detail": "period: one of day, week, month, quarter, year"})
