"""Unknown senders stay bounded (both stacks).

- A sender that invents device ids fills the hot state up to ``max_devices`` and no further:
  the fixes of the new ids beyond it are refused (unknown_device), counted and dead-lettered,
  and stored nowhere (neither Redis nor SQL), while the devices already there go on moving.
  Several workers at once never overshoot the bound.
- A device silent for longer than ``device_retention_s`` leaves the hot state with all of its
  keys, and the screens are told (``devices_gone``).
- A department or region code the city's files do not list is never a ranking row (live
  rankings, the evaluation's ranking, the board), is shown apart as ``unknown``, and its cases
  still count in the city's totals.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from helpers import eventually, gps, publisher, running_ingest
from sqlalchemy import distinct, func, select

from dashboard.casework.counters import Counters
from dashboard.casework.periods import period_range
from dashboard.casework.ranking import UNKNOWN
from dashboard.config import ASSETS_DIR
from dashboard.poll import live_payload
from dashboard.records import CaseEvent, DeviceKind
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.evaluation import city_grid_codes, city_objects, counters_by, evaluate
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DEVICE_KINDS, DeviceFix, HotStore, connect
from dashboard.store.keys import DEV, DEV_LAST, DEV_TS, GEO, seen_key, trail_key
from dashboard.store.liverank import LiveRank, current_periods, rank_key
from dashboard.store.liverank_keeper import RankKeeper
from dashboard.store.models import PositionRow
from feeds.steps.cases import CaseBook

BOUND = 40
DAY_S = 86400.0


def fix(device_id: str, ts: float, kind: str = "collector", lat: float = 30.27, lon: float = 120.16) -> DeviceFix:
    doc = {"id": device_id, "kind": kind, "lat": lat, "lon": lon, "ts": ts}
    return DeviceFix(device_id, ts, lat, lon, doc, trail=[(lon, lat, ts)])


def all_keys(hot: HotStore, pattern: str = "{gw}:*") -> list[bytes]:
    return list(hot.r.scan_iter(match=pattern, count=1000))


# --- devices ---------------------------------------------------------------------------------
def test_a_sender_inventing_ids_leaves_at_most_the_bound(stack, tmp_path) -> None:
    settings = stack.settings(tmp_path, max_devices=BOUND)
    hot = HotStore(connect(settings.resolved_redis_url))
    t = time.time()
    with running_ingest(settings) as _worker, publisher(settings) as pub:
        for i in range(2 * BOUND):  # twice as many ids as there is room for
            pub.publish(*gps(f"X{i:04d}", 30.27, 120.16 + i * 1e-4, ts=t), qos=1)
        stats = eventually(lambda: (s := hot.stats()["gps"])["accepted"] + s["rejected"] >= 2 * BOUND and s,
                           30, "every fix accepted or refused")
        assert stats["accepted"] == BOUND and stats["rejected_by_reason"] == {"unknown_device": BOUND}
        # A device already there goes on moving; a new one is still refused.
        pub.publish(*gps("X0000", 30.28, 120.17, ts=t + 5), qos=1)
        pub.publish(*gps("Y0001", 30.28, 120.17, ts=t + 5), qos=1)
        eventually(lambda: hot.stats()["gps"]["accepted"] + hot.stats()["gps"]["rejected"] >= 2 * BOUND + 2, 20,
                   "the last two fixes handled")
        assert orjson.loads(hot.r.hget(DEV, "X0000"))["lat"] == 30.28
        assert hot.r.hget(DEV, "Y0001") is None
        assert hot.stats()["gps"]["rejected_by_reason"] == {"unknown_device": BOUND + 1}

    assert hot.device_count() == BOUND and hot.r.hlen(DEV) == BOUND and hot.r.hlen(DEV_TS) == BOUND
    assert hot.r.zcard(GEO) == BOUND and hot.r.zcard(seen_key("collector")) == BOUND
    assert len(all_keys(hot, "{gw}:trail:*")) == BOUND
    # Whatever else the hot state holds does not grow with the ids (counters, versions, ...).
    assert len(all_keys(hot)) <= BOUND + 60
    engine = db.engine_for(settings.resolved_database_url)
    try:
        letters = DeadLetterStore(engine).list(feed="gps", reason="unknown_device", limit=500)
        assert len(letters) == BOUND + 1 and all("max_devices (40)" in d.detail for d in letters)
        admitted = {d.decode() for d in hot.r.hkeys(DEV)}
        refused = {f"X{i:04d}" for i in range(2 * BOUND)} - admitted | {"Y0001"}
        assert {orjson.loads(d.payload)["device_id"] for d in letters} == refused
        # Refused means stored nowhere: SQL has positions of the admitted devices only.
        with engine.connect() as conn:
            stored = conn.execute(select(func.count(distinct(PositionRow.device_id)))).scalar_one()
        assert stored == BOUND
    finally:
        engine.dispose()


def test_workers_writing_at_once_never_overshoot(settings) -> None:
    """Four workers, each inventing its own ids, half of them through admit_devices (the store
    step) and half straight through write_positions (the rebuild): the bound holds exactly."""
    t = time.time()
    refused: list[int] = []

    def worker(w: int) -> None:
        hot = HotStore(connect(settings.resolved_redis_url))
        n = 0
        for b in range(10):
            ids = [f"W{w}-{b}-{i}" for i in range(10)]
            if w % 2:
                out = hot.admit_devices(dict.fromkeys(ids, t), BOUND)
                n += len(out)
                hot.write_positions([fix(d, t) for d in ids if d not in out], BOUND)
            else:
                n += 10 - len(hot.write_positions([fix(d, t) for d in ids], BOUND))
        refused.append(n)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    hot = HotStore(connect(settings.resolved_redis_url))
    assert hot.device_count() == BOUND == hot.r.hlen(DEV)
    assert sum(refused) == 4 * 100 - BOUND
    assert len(all_keys(hot, "{gw}:trail:*")) == BOUND


def test_a_silent_device_is_pruned_with_all_its_keys_and_the_screens_are_told(settings) -> None:
    hot = HotStore(connect(settings.resolved_redis_url))
    now = time.time()
    retention = 7 * DAY_S
    hot.write_positions([fix("OLD", now - 8 * DAY_S), fix("TRUCK", now - 9 * DAY_S, kind="vehicle"),
                         fix("NEW", now - 60)], retention_s=retention)
    v = hot.publish_tick(["OLD", "TRUCK", "NEW"], {}, force=True)  # a screen has them all
    assert v is not None
    assert 0 < hot.r.ttl(trail_key("NEW")) <= retention  # the trail expires by itself too
    before = set(all_keys(hot))

    assert hot.prune_devices(now, retention) == ["TRUCK", "OLD"]  # the longest silent first

    for d in ("OLD", "TRUCK"):
        assert hot.r.hget(DEV, d) is None and hot.r.hget(DEV_TS, d) is None
        assert hot.r.zscore(GEO, d) is None and hot.r.zscore(DEV_LAST, d) is None
        assert all(hot.r.zscore(seen_key(k), d) is None for k in DEVICE_KINDS)
        assert not hot.r.exists(trail_key(d))
    assert hot.r.hget(DEV, "NEW") is not None and hot.r.exists(trail_key("NEW"))
    assert hot.device_count() == 1
    # The keys gone: the trails, and the vehicles' online set that TRUCK alone was in; the only
    # key new is the version's delta.
    after = set(all_keys(hot))
    assert before - after == {trail_key("OLD").encode(), trail_key("TRUCK").encode(), seen_key("vehicle").encode()}
    assert len(after - before) == 1

    # A screen at the version before learns it from a delta; a new screen never sees them.
    body, v2 = live_payload(hot, v)  # type: ignore[misc]
    assert v2 == v + 1 and orjson.loads(body)["deltas"] == [{"devices_gone": ["TRUCK", "OLD"]}]  # longest silent first
    body, _ = live_payload(hot, None)  # type: ignore[misc]
    assert [d["id"] for d in orjson.loads(body)["full"]] == ["NEW"]
    assert hot.prune_devices(now, retention) == []  # nothing left to prune: no version either
    assert hot.version() == v2
    # The place is free again: a new device fits where a pruned one was.
    assert hot.admit_devices({"NEXT": now}, max_devices=2) == set()
    assert hot.admit_devices({"MORE": now}, max_devices=2) == {"MORE"}


def test_every_online_set_is_pruned() -> None:
    assert set(DEVICE_KINDS) >= {*DeviceKind.__args__, "other"}  # type: ignore[attr-defined]


# --- departments and regions the city does not list -----------------------------------------
ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 10, 14, 10, 30, tzinfo=ZONE).timestamp()
GRID = "33990200100101"  # 明湖区 湖滨街道
NOWHERE = "88888800100101"  # a well-formed grid code of no district of the city


def _dispatched(case_id: str, t0: float, department: str, grid: str = GRID, deadline_s: float = 600) -> list[CaseEvent]:
    fields = {"source": "supervisor", "category": "event", "small_code": "0102", "grid_code": grid,
              "lat": 30.27, "lon": 120.16}
    return [
        CaseEvent(f"{case_id}-1", case_id, "report", t0, "test", fields),
        CaseEvent(f"{case_id}-2", case_id, "accept", t0 + 60, "test"),
        CaseEvent(f"{case_id}-3", case_id, "file", t0 + 120, "test"),
        CaseEvent(f"{case_id}-4", case_id, "dispatch", t0 + 180, "test",
                  {"department": department, "deadline": t0 + 180 + deadline_s}),
    ]


@pytest.fixture
def city(stack, tmp_path):
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    yield settings, engine, connect(settings.resolved_redis_url)
    engine.dispose()


def test_an_unknown_department_is_never_a_ranking_row_but_counts_for_the_city(city) -> None:
    settings, engine, client = city
    objects = city_objects(ASSETS_DIR / "city")
    assert "NOPE" not in objects["department"] and "HWC" in objects["department"]
    hot, book, writer = HotStore(client), CaseBook(engine, settings), HistoryWriter(engine)
    live = LiveRank(client, settings.timezone, reconcile_s=10**9, known=objects)
    keeper = RankKeeper(live, engine, book, city_grid_codes(ASSETS_DIR / "city"))
    board = BoardMaker(hot, engine, settings, live)

    def store(events: list[CaseEvent], now: float) -> None:
        outcome = book(events)
        assert not outcome.refused and not outcome.early, (outcome.refused, outcome.early)
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
        live.note_changes(outcome.changes, now)

    t0 = END - 3 * 3600
    # Before the live counters start (their starting point comes from SQL) ...
    store(_dispatched("K1", t0, "HWC") + _dispatched("K2", t0, "NOPE") + _dispatched("K3", t0, "HWC", NOWHERE), t0 + 300)
    keeper.tick(t0 + 400)
    # ... and after (counted as each batch comes).
    store(_dispatched("K4", t0 + 600, "NOPE-2") + _dispatched("K5", t0 + 600, "SZC"), t0 + 900)
    keeper.tick(END)

    # The live counters: one UNKNOWN field per counter, never a field per invented code.
    month_pid = current_periods(END, settings.timezone)[1].pid
    fields = [f.decode() for f in client.hkeys(rank_key(month_pid))]
    assert not any("NOPE" in f or "888888" in f for f in fields)
    depts = live.read("month", "department", END) or {}
    assert set(depts) <= objects["department"] | {UNKNOWN}
    assert depts[UNKNOWN].dispatched == 2 and depts[UNKNOWN].overdue_pending == 2
    streets = live.read("month", "street", END) or {}
    assert streets[UNKNOWN].reported == 1 and set(streets) <= objects["street"] | {UNKNOWN}
    # ... the same as SQL folds them (the hourly reconcile changes nothing).
    month = period_range("month", END)
    with engine.connect() as conn:
        for kind in ("department", "district", "street"):
            sql = counters_by(conn, kind, month, END, grid_codes=keeper.grid_codes, known=objects[kind])
            got = live.read("month", kind, END) or {}
            assert {k: v for k, v in got.items() if v != Counters(grids=v.grids)} == {
                k: v for k, v in sql.items() if v != Counters(grids=v.grids)}, kind
    # The city's totals count every case.
    assert (live.read("day", "city", END) or {})["city"].dispatched == 5

    # The evaluation's ranking (`gridwall rank`): the city's departments, exactly; the rest apart.
    ev = evaluate(engine, "department", month, END, known=objects["department"])
    assert {r.code for r in ev.rows} == objects["department"]
    assert ev.unlisted is not None and ev.unlisted.codes == ("NOPE", "NOPE-2")
    assert ev.unlisted.counters.dispatched == 2
    ev = evaluate(engine, "street", month, END, grid_codes=keeper.grid_codes, known=objects["street"])
    assert {r.code for r in ev.rows} == objects["street"] and ev.unlisted.codes == ("888888001",)  # type: ignore[union-attr]

    # The board: rows for the city's own only; the unknown shown apart; the totals whole.
    b = board.update(END)
    dept = b["rank"]["department"]
    assert {r["code"] for r in dept["rows"]} == objects["department"]
    assert dept["unknown"] == {"reported": 2, "filed": 2, "dispatched": 2, "overdue": 2}
    region = b["rank"]["region"]
    assert {r["code"] for r in region["rows"]} == objects["street"] and region["unknown"]["reported"] == 1
    assert b["today"]["dispatched"] == 5
    ov = b["overdue"]
    assert ov["red"] == 5 and ov["open"] == 5  # every case is past its deadline
    assert {r["code"] for r in ov["department"]} == objects["department"]
    assert {r["code"] for r in ov["district"]} == objects["district"]
    assert ov["unknown"]["department"]["red"] == 2 and ov["unknown"]["district"]["red"] == 1
    assert sum(r["red"] for r in ov["department"]) + 2 == ov["red"]
