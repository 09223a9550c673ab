"""The case page's reads (dashboard/store/case_page.py) on a real database, both stacks: the
timeline is the stored events one for one and folds to the stored case; where the case stands is
the casework light of the stored state; the grid's history is its cases of the last 90 days,
newest first, bounded; an unknown case is None and a bad id a ValueError."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dashboard import limits
from dashboard.casework import lifecycle
from dashboard.casework.overdue import disposal_boundaries, light_at
from dashboard.casework.timeline import Mark, case_status
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.store import case_page as page_mod
from dashboard.store import db
from dashboard.store.case_page import case_events, case_page, grid_history
from dashboard.store.case_states import load_cases
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.models import CaseEventRow
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 10, 14, 10, 30, tzinfo=ZONE).timestamp()  # a Wednesday morning
DAY = 86400.0
CITY = load_city(ASSETS_DIR / "city")
OTHER_GRID = "33990200100101"


@pytest.fixture(scope="module")
def world_events() -> list[CaseEvent]:
    world = World(CITY, SimConfig(seed=7, collectors=20, vehicles=0, backfill_days=8, cases_per_day=200), END)
    return [CaseEvent(**m.payload) for m in world.pop_case_events(END, 10**6)]


def busiest_grid(events: list[CaseEvent]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for e in events:
        if e.action == "report" and e.case.get("grid_code") not in (None, OTHER_GRID):
            counts[e.case["grid_code"]] += 1
    return max(sorted(counts), key=lambda g: counts[g])


def crafted(grid: str) -> list[CaseEvent]:
    """Cases of one grid around the 90-day edge (and one of another grid), with photos."""
    fields = {"source": "supervisor", "category": "event", "small_code": "0102", "title": "暴露垃圾"}
    out: list[CaseEvent] = []
    for cid, ts, g in (("X-91", END - 91 * DAY, grid), ("X-89", END - 89 * DAY, grid), ("X-1H", END - 3600, grid),
                       ("X-EDGE", END - 90 * DAY, grid), ("X-LATER", END + 60, grid), ("X-OTHER", END - DAY, OTHER_GRID)):
        out.append(CaseEvent(f"{cid}-0", cid, "report", ts, "C0001",
                             {**fields, "grid_code": g, "media_url": f"https://img.example/{cid}-before.jpg"}))
    # X-1H goes on to a disposal with an after photo.
    t = END - 3600
    for n, (action, dt, case) in enumerate((("accept", 60, {}), ("file", 120, {}), ("dispatch", 180, {"department": "D01"}),
                                             ("sign", 240, {}),
                                             ("feedback", 1800, {"media_url": "https://img.example/X-1H-after.jpg"})), 1):
        out.append(CaseEvent(f"X-1H-{n}", "X-1H", action, t + dt, "W1", case))
    return sorted(out, key=lambda e: e.ts)


@pytest.fixture
def stored(stack, tmp_path, world_events):
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    grid = busiest_grid(world_events)
    applied: dict[str, list[CaseEvent]] = defaultdict(list)
    events = sorted([*world_events, *crafted(grid)], key=lambda e: e.ts)
    for i in range(0, len(events), 500):
        outcome = book(events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        for e in outcome.applied:
            applied[e.case_id].append(e)
    yield engine, book, grid, applied
    engine.dispose()


def sql_events(engine, case_id: str) -> list[tuple[str, str, str | None, float]]:
    """The stored events of a case straight from the table, in the order they were stored."""
    with engine.connect() as conn:
        rows = conn.execute(select(CaseEventRow.event_id, CaseEventRow.action, CaseEventRow.actor, CaseEventRow.ts)
                            .where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id))
        return [(r.event_id, r.action, r.actor, r.ts.timestamp()) for r in rows]


def test_the_timeline_is_the_stored_events_one_for_one(stored) -> None:
    engine, book, _grid, applied = stored
    states = book.states(applied)
    # Every case with a detour, and a spread of the others.
    detours = {m: [cid for cid, s in sorted(states.items()) if getattr(s, attr) > 0]
               for m, attr in ((Mark.RETURN, "returns"), (Mark.EXTEND, "extensions"), (Mark.SUSPEND, "suspensions"),
                               (Mark.REWORK, "reworks"))}
    assert all(detours.values()), {m: len(c) for m, c in detours.items()}
    voided = [cid for cid, s in sorted(states.items()) if s.voided_at is not None]
    chosen = sorted({*(c for cids in detours.values() for c in cids[:5]), *voided[:3], *sorted(states)[::40]})
    assert len(chosen) > 30
    for cid in chosen:
        state = states[cid]
        page = case_page(engine, cid, book.rules, book.policy, END)
        assert page is not None and page.case_id == cid
        rows = sql_events(engine, cid)
        assert [(e.event_id, e.action, e.actor) for e in page.entries] == [r[:3] for r in rows], cid
        assert [e.ts for e in page.entries] == pytest.approx([r[3] for r in rows], abs=1e-6)
        assert [e.event_id for e in page.entries] == [e.event_id for e in applied[cid]]
        assert [e.seq for e in page.entries] == list(range(len(rows)))
        assert [e.event_id for e in case_events(engine, cid)] == [r[0] for r in rows]
        assert page.complete and page.replay_matches and not page.events_cut, cid
        assert all(e.error is None for e in page.entries)
        # The marks are the lifecycle's counts.
        marks = [m for e in page.entries for m in e.marks]
        assert (marks.count(Mark.RETURN), marks.count(Mark.EXTEND), marks.count(Mark.SUSPEND),
                marks.count(Mark.REWORK)) == (state.returns, state.extensions, state.suspensions, state.reworks), cid
        assert marks.count(Mark.VOID) == (state.voided_at is not None)
        assert marks.count(Mark.RESUME) == state.suspensions - state.is_suspended
        # Where it stands: the casework status of the stored state, its light the one rule's.
        assert page.status == case_status(state, book.rules, book.policy, END)
        clock = disposal_boundaries(state, book.rules, book.policy)
        light = light_at(clock.due, clock.warn_at, clock.paused, END)
        assert page.status.light == (None if light is None else light.value)
        assert page.case["state"] == state.state.value and page.case["grid_code"] == state.grid_code
        # Each step once, in order, ended by an event of the timeline; the waiting one last.
        ended = [s for s in page.steps if s.ended_at is not None]
        assert ended == [e.step for e in page.entries if e.step is not None]
        assert [s.ended_at for s in page.steps[len(ended):]] == ([None] if state.is_open and state.stage else [])
    # The lifecycle folds the page's own events to the stored state.
    some = detours[Mark.REWORK][0]
    assert lifecycle.replay(case_events(engine, some), book.rules).version == states[some].version


def test_the_grid_history_is_its_cases_of_90_days(stored) -> None:
    engine, book, grid, applied = stored
    states = book.states(applied)
    in_grid = {cid: s for cid, s in states.items() if s.grid_code == grid}
    want = sorted((cid for cid, s in in_grid.items() if END - 90 * DAY <= s.reported_at <= END),
                  key=lambda cid: (-in_grid[cid].reported_at, cid))
    assert {"X-89", "X-1H", "X-EDGE"} <= set(want) and not {"X-91", "X-LATER", "X-OTHER"} & set(want)
    assert len(want) >= 5
    rows = grid_history(engine, grid, END, limit=200)
    assert [r.case_id for r in rows] == want
    assert [r.reported_at for r in rows] == sorted((r.reported_at for r in rows), reverse=True)
    extra = load_cases(engine, want)
    assert [(r.state, r.open, r.reported_at, r.deadline, r.title) for r in rows] == [
        (in_grid[c].state.value, in_grid[c].is_open, in_grid[c].reported_at, in_grid[c].deadline, extra[c].extra.get("title"))
        for c in want]
    assert all(r.title for r in rows)
    assert [r.case_id for r in grid_history(engine, grid, END, limit=2)] == want[:2]
    assert [r.case_id for r in grid_history(engine, grid, END, days=30, limit=200)] == [
        cid for cid in want if in_grid[cid].reported_at >= END - 30 * DAY]
    # The page lists the grid's others: its own case left out.
    page = case_page(engine, "X-1H", book.rules, book.policy, END)
    assert page is not None
    assert [r.case_id for r in page.history] == [cid for cid in want if cid != "X-1H"][:page_mod.HISTORY_DEFAULT]
    assert grid_history(engine, "00000000000000", END) == []


def test_the_media_before_and_after(stored) -> None:
    engine, book, _grid, _applied = stored
    page = case_page(engine, "X-1H", book.rules, book.policy, END)
    assert page is not None
    assert [(m.url, m.phase, m.action) for m in page.media] == [
        ("https://img.example/X-1H-before.jpg", "before", "report"),
        ("https://img.example/X-1H-after.jpg", "after", "feedback")]
    assert page.case["title"] == "暴露垃圾" and page.status.state == "await_check"
    assert page.steps[-1].stage == "check" and page.steps[-1].ended_at is None


def test_unknown_and_bad_ids(stored) -> None:
    engine, book, grid, _applied = stored
    assert case_page(engine, "NO-SUCH-CASE", book.rules, book.policy, END) is None
    assert case_events(engine, "NO-SUCH-CASE") == []
    for bad in ("", " X-1H", "X-1H ", "K" * (limits.CASE_ID + 1), "X\x00", "X\n1", "X\ud800", 42):
        with pytest.raises(ValueError):
            case_page(engine, bad, book.rules, book.policy, END)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            case_events(engine, bad)  # type: ignore[arg-type]
    assert case_page(engine, "K" * limits.CASE_ID, book.rules, book.policy, END) is None  # as long as may be
    for kwargs in ({"days": 0}, {"days": 10_000}, {"limit": 0}, {"limit": 10**6}, {"limit": True}):
        with pytest.raises(ValueError):
            grid_history(engine, grid, END, **kwargs)
    for bad_grid in ("", "9" * (limits.GRID_CODE + 1), "3399\x00"):
        with pytest.raises(ValueError):
            grid_history(engine, bad_grid, END)


def test_a_long_history_is_cut_and_said_so(stored, monkeypatch) -> None:
    engine, book, _grid, applied = stored
    monkeypatch.setattr(page_mod, "EVENTS_MAX", 3)
    cid = max(sorted(applied), key=lambda c: len(applied[c]))
    page = case_page(engine, cid, book.rules, book.policy, END)
    assert page is not None and len(applied[cid]) > 3
    assert len(page.entries) == 3 and page.events_cut and not page.complete and not page.replay_matches
    # Where it stands is still the stored case's.
    assert page.status == case_status(book.states([cid])[cid], book.rules, book.policy, END)
