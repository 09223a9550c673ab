"""One overdue rule, everywhere: a case exactly at its warn time and exactly at its deadline has
the same light in casework, in the KPI counter (Redis ZCOUNTs), on the board (the district and
department rows) and on the map's pin (the browser's JS, run under Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard import casedata
from dashboard.casework.lifecycle import apply
from dashboard.casework.overdue import Light, disposal_light
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.hot import HotStore, connect
from dashboard.store.hotdoc import hot_doc
from dashboard.store.keys import CASE, CASE_DUE, CASE_WARN
from dashboard.store.liverank import LiveRank

ZONE = ZoneInfo("Asia/Shanghai")
DISPATCH = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE).timestamp()  # a Monday, 08:00
WARN = datetime(2026, 3, 2, 11, 0, tzinfo=ZONE).timestamp()  # 1 工作时 left of 4
DUE = datetime(2026, 3, 2, 12, 0, tzinfo=ZONE).timestamp()
GRID = "33990200100101"


def dispatched_case():
    rules, _policy = casedata.city_rules({})
    case = None
    steps = [("report", DISPATCH - 600, {"source": "supervisor", "category": "event", "small_code": "0102",
                                         "grid_code": GRID}),
             ("accept", DISPATCH - 500, {}), ("file", DISPATCH - 400, {}),
             ("dispatch", DISPATCH, {"department": "HWC"}), ("sign", DISPATCH, {})]
    for n, (action, ts, fields) in enumerate(steps):
        case = apply(case, CaseEvent(f"lb-{n}", "LB-1", action, ts, "u1", fields), rules)
    return case


def pin_lights(doc: dict, instants: list[float]) -> list[str | None]:
    """The map's light for the case doc at each instant, by the browser's own code."""
    script = (
        "const live = require(process.argv[1]);"
        "const [doc, instants] = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify(instants.map(t => live.lightAt(doc.due, doc.warn_at, doc.suspended, t))));"
    )
    out = subprocess.run(["node", "-e", script, str(ASSETS_DIR / "gridwall-live.js"), json.dumps([doc, instants])],
                         capture_output=True, text=True, check=True, timeout=30)
    return json.loads(out.stdout)


@pytest.fixture
def board(stack, tmp_path):
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    client.delete(CASE, CASE_DUE, CASE_WARN)  # other tests' open cases would count too
    hot = HotStore(client)
    yield hot, BoardMaker(hot, engine, settings, LiveRank(client, settings.timezone))
    client.delete(CASE, CASE_DUE, CASE_WARN)
    engine.dispose()


def test_counter_board_pin_and_casework_agree_at_the_boundaries(board) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is needed (make test installs nodejs)")
    hot, maker = board
    rules, policy = casedata.city_rules({})
    case = dispatched_case()
    doc = hot_doc(case, {"lat": 30.27, "lon": 120.16}, rules, policy)
    assert (doc["warn_at"], doc["due"]) == (WARN, DUE)  # exact instants, not approximations
    hot.put_cases([doc])

    expected = {WARN - 0.001: Light.GREEN, WARN: Light.YELLOW, DUE: Light.YELLOW, DUE + 0.001: Light.RED}
    pins = pin_lights(doc, list(expected))
    for (now, light), pin in zip(expected.items(), pins, strict=True):
        counts = hot.case_counts(now)
        counter = Light.RED if counts["overdue"] else Light.YELLOW if counts["warn"] else Light.GREEN
        rows = maker.build(now)["overdue"]
        on_board = Light.RED if rows["red"] else Light.YELLOW if rows["yellow"] else Light.GREEN
        department = next(r for r in rows["department"] if r["code"] == "HWC")
        district = next(r for r in rows["district"] if r["code"] == GRID[:6])
        seen = {
            "casework": disposal_light(case, now, rules, policy),
            "counter": counter,
            "board": on_board,
            "board row": Light.RED if department["red"] else Light.YELLOW if department["yellow"] else Light.GREEN,
            "district row": Light.RED if district["red"] else Light.YELLOW if district["yellow"] else Light.GREEN,
            "pin": Light(pin),
        }
        assert all(v is light for v in seen.values()), (datetime.fromtimestamp(now, ZONE), light, seen)
