"""What the briefing's tests share (tests/integration/test_briefing_data.py,
tests/browser/test_briefing.py, bench/bench_briefing.py): a site whose SQL and Redis hold a
simulated city's last eight days of cases (stored by the case pipeline's own steps), one closed
urgent case full of personal data, collectors and vehicles with names and phones in the hot
state, supervision alarms and video alerts of this week, and the wall's board."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dashboard.casework.supervision import OVERSPEED, STOP
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR, Settings
from dashboard.records import Alert, CaseEvent
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DeviceFix, HotStore, connect
from dashboard.store.liverank import LiveRank
from dashboard.store.liverank_keeper import RankKeeper
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook
from feeds.steps.publish import Ticker

CITY = load_city(ASSETS_DIR / "city")
STORY = "BF-STORY-1"
# Personal data that must never reach a masked briefing's bytes.
NAME, PHONE, ACTOR = "欧阳娜娜", "13812341234", "张三丰"
ADDRESS = "浙江省江城市明湖区湖滨街道解放路123号3幢201室"
COLLECTOR_ID, COLLECTOR_NAME, COLLECTOR_PHONE = "C0912", "李四海", "13987654321"
VEHICLE_ID, PLATE = "M0907", "浙A12345"
PERSONAL = (NAME, PHONE, ACTOR, "解放路123号", "3幢201室", COLLECTOR_ID, COLLECTOR_NAME, COLLECTOR_PHONE,
            "1398765", VEHICLE_ID, PLATE)


@dataclass
class Site:
    settings: Settings
    hot: HotStore
    engine: Any
    board: BoardMaker
    now: float


def story_events(now: float) -> list[CaseEvent]:
    """One urgent case, reported two hours ago and closed an hour later, that names a person, a
    phone and a door in every field a sender fills."""
    grid = next(iter(CITY.grid_info))
    t = now - 7200
    case = {"source": "public", "category": "event", "small_code": "0102", "grid_code": grid, "urgent": True,
            "title": f"{ADDRESS}门口垃圾 {NAME} 电话{PHONE}", "address": ADDRESS, "reporter": NAME,
            "reporter_phone": PHONE, "description": f"{NAME}反映 {PHONE}",
            "media_url": "https://img.example/story-before.jpg"}
    steps = [("report", 0, case), ("accept", 120, {}), ("file", 300, {}), ("dispatch", 420, {"department": CITY.departments[3].code}),
             ("sign", 600, {}), ("feedback", 2400, {"media_url": "https://img.example/story-after.jpg"}),
             ("check_pass", 3000, {}), ("close", 3300, {})]
    return [CaseEvent(f"{STORY}-{n}", STORY, action, t + dt, ACTOR, fields) for n, (action, dt, fields) in enumerate(steps)]


def seed(settings: Settings, now: float | None = None, cases_per_day: int = 120) -> Site:
    now = time.time() if now is None else now
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    hot = HotStore(client)
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    live = LiveRank(client, settings.timezone, reconcile_s=10**9)
    world = World(CITY, SimConfig(seed=7, collectors=20, vehicles=0, backfill_days=8, cases_per_day=cases_per_day),
                  now - 60)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(now - 60, 10**6)] + story_events(now)
    events.sort(key=lambda e: e.ts)
    for i in range(0, len(events), 500):
        outcome = book(events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
        live.note_changes(outcome.changes, now)
    RankKeeper(live, engine, book, list(CITY.grid_info)).tick(now)
    lat, lon = CITY.center
    hot.write_positions([
        DeviceFix(COLLECTOR_ID, now - 5, lat, lon, {"id": COLLECTOR_ID, "kind": "collector", "ts": now - 5,
                                                    "name": COLLECTOR_NAME, "phone": COLLECTOR_PHONE,
                                                    "status": f"在岗 {COLLECTOR_PHONE}"}),
        DeviceFix(VEHICLE_ID, now - 5, lat + 0.002, lon, {"id": VEHICLE_ID, "kind": "vehicle", "subtype": "muck_truck",
                                                          "ts": now - 5, "name": PLATE, "speed": 30.0}),
    ])
    start = datetime.fromtimestamp(now - 1800, UTC).timestamp()
    alarms = [Alert(f"AL{i}", VEHICLE_ID, "超速", "new", start - i * 60, lat, lon, rule=OVERSPEED if i % 3 else STOP,
                    alarm_key=str(i), device_type="muck_truck", department=CITY.departments[3].code) for i in range(6)]
    video = [Alert(f"V{i}", CITY.cameras[i % len(CITY.cameras)].id, ("占道经营", "烟火", "暴露垃圾")[i % 3], "new",
                   start - i * 90, severity=("critical", "alert", "detection")[i % 3]) for i in range(9)]
    writer.write(alerts=alarms + video)
    Ticker(hot).tick(now)
    board = BoardMaker(hot, engine, settings, live)
    board.update(now)
    return Site(settings, hot, engine, board, now)
