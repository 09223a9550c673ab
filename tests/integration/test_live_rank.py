"""The live rankings (dashboard.store.liverank) follow the cases incrementally and end up equal
to a fresh SQL count, across deadlines passing by the clock alone, re-dispatches and a new day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import in_steps

from dashboard.casework.counters import Counters
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.store import db
from dashboard.store.evaluation import counters_by
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import connect
from dashboard.store.liverank import KINDS, TIMERS, LiveRank, current_periods, rank_key, ready_key
from dashboard.store.liverank_keeper import RankKeeper
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 10, 14, 10, tzinfo=ZONE).timestamp()  # a Wednesday morning
STEP_S = 20 * 60


def _nonzero(rows: dict[str, Counters] | None) -> dict[str, Counters]:
    return {k: v for k, v in (rows or {}).items() if v.as_dict() != Counters(grids=v.grids).as_dict()}


@pytest.fixture
def setting(stack, tmp_path):
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    for key in client.scan_iter("{gw}:rank*"):
        client.delete(key)
    yield settings, engine, client
    engine.dispose()


def test_live_counters_equal_a_fresh_count(setting) -> None:
    settings, engine, client = setting
    world = World(load_city(ASSETS_DIR / "city"), SimConfig(seed=11, collectors=20, vehicles=0, backfill_days=6,
                                                            cases_per_day=120), END)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(END, 10**6)]
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    # Every period kind a wall may show in turn (Settings.ranking_periods), besides the day and month.
    live = LiveRank(client, settings.timezone, reconcile_s=10**9, kinds=("year", "week", "quarter"))
    assert live.kinds == ("day", "week", "month", "quarter", "year")
    grids = list(load_city(ASSETS_DIR / "city").grid_info)
    keeper = RankKeeper(live, engine, book, grids)

    def store(batch: list[CaseEvent], now: float) -> None:
        outcome = book(batch)
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        live.note_changes(outcome.changes, now)

    # History up to two days before the end goes in before the live counters exist ...
    start_live = END - 2 * 86400
    old = [e for e in events if e.ts <= start_live]
    for i in range(0, len(old), 500):
        store(old[i:i + 500], start_live)
    keeper.tick(start_live)
    assert all(client.exists(ready_key(lp.pid)) for lp in current_periods(start_live, settings.timezone, live.kinds))
    assert client.zcard(TIMERS) > 0  # reset from SQL: every case's next deadline
    # ... then the rest arrives as it would live, in 20-minute steps across midnight.
    rest = [e for e in events if e.ts > start_live]
    delivered, fired = 0, 0
    for now, batch in in_steps(events, start_live, END, STEP_S):
        if batch:
            store(batch, now)
        delivered += len(batch)
        fired += live.fire_timers(now, book.states)
        keeper.tick(now)
    assert delivered == len(rest) and fired > 0

    with engine.connect() as conn:
        for period_kind, lp in zip(live.kinds, current_periods(END, settings.timezone, live.kinds), strict=True):
            for kind in KINDS:
                expected = counters_by(conn, kind, lp.period, END, grid_codes=grids)
                got = live.read(period_kind, kind, END)
                assert _nonzero(got) == _nonzero(expected), (period_kind, kind)
    assert [lp.pid for lp in current_periods(END, settings.timezone, live.kinds)] == [
        "day:2026-10-14", "week:2026-W42", "month:2026-10", "quarter:2026-Q4", "year:2026"]
    month = live.read("month", "department", END) or {}
    assert sum(c.overdue_pending for c in month.values()) > 0  # deadlines passed with no message
    assert sum(c.closed_on_time for c in month.values()) > 0


def test_nothing_is_counted_before_the_starting_point(setting) -> None:
    settings, _engine, client = setting
    live = LiveRank(client, settings.timezone)
    assert live.read("month", "department", END) is None
    lp = current_periods(END, settings.timezone)[1]
    assert not client.exists(rank_key(lp.pid))
