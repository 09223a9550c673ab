"""What the desk's action tests share: roles with and without each right, a site whose SQL and
Redis hold a simulated city's cases (by the case pipeline's own steps), and a client that acts
as a browser does (a token, the CSRF cookie an HTML page sets, JSON in and out)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.store import db
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore, connect
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook
from feeds.steps.publish import Ticker

CITY = load_city(ASSETS_DIR / "city")
ROLES = """
[roles.viewer]
zh = "查看"
en = "Viewer"
rights = ["see.wall", "see.desk"]
masked = false
[roles.leader]
zh = "领导"
en = "Leader"
rights = ["see.wall", "see.desk", "see.briefing", "see.reports", "act.supervise"]
masked = false
[roles.dispatcher]
zh = "值班长"
en = "Dispatcher"
rights = ["see.wall", "see.desk", "see.reports", "act.supervise", "act.dispatch"]
masked = false
[roles.wall]
zh = "大屏"
en = "Wall"
rights = ["see.wall"]
masked = true
[roles.admin]
zh = "管理员"
en = "Admin"
rights = ["see.wall", "see.desk", "admin.users", "admin.health"]
masked = false
"""


def seeded_site(stack: Any, tmp_path: Path, seed: int = 3) -> Iterator[tuple[Any, HotStore, Any]]:
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES, encoding="utf-8")
    settings = stack.settings(tmp_path, roles_file=roles)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    now = time.time()
    world = World(CITY, SimConfig(seed=seed, collectors=10, vehicles=0, backfill_days=4, cases_per_day=80), now - 60)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(now - 60, 10**6)]
    for i in range(0, len(events), 500):
        outcome = book(events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
    Ticker(hot).tick(now)
    yield settings, hot, engine
    engine.dispose()


class Desk:
    """A browser's view of the desk: a token, the CSRF cookie an HTML page sets, JSON in and out."""

    def __init__(self, app: Any, token: str) -> None:
        self.c = app.test_client()
        self.auth = {"Authorization": f"Bearer {token}"}
        self.c.get("/desk", headers={**self.auth, "Accept": "text/html"})
        cookie = self.c.get_cookie("_csrf_token")
        self.csrf = cookie.value if cookie is not None else ""

    def get(self, path: str) -> tuple[int, dict]:
        resp = self.c.get(path, headers=self.auth)
        return resp.status_code, orjson.loads(resp.data)

    def post(self, path: str, body: object, csrf: bool = True) -> tuple[int, dict]:
        headers = {**self.auth, "Content-Type": "application/json", **({"X-CSRFToken": self.csrf} if csrf else {})}
        resp = self.c.post(path, data=orjson.dumps(body), headers=headers)
        return resp.status_code, orjson.loads(resp.data) if resp.data[:1] == b"{" else {}
