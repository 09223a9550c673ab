"""The desk's rankings of any period: ``GET /desk/api/ranks?period=day|week|month|quarter|year``.

The board carries the periods the wall shows (Settings.ranking_periods, counted live in Redis);
the desk may ask for any other. A period kept live is read from Redis; any other is counted
from SQL with the ranking's own queries (dashboard/store/evaluation.py ``counters_by``, the
numbers `gridwall rank` prints) and kept for ``CACHE_S`` per period (the city's counts; a
district scope is cut from them), so a room of desks costs one count a minute. Both build their rows in dashboard/screens/rankings.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import flask
import orjson
from sqlalchemy import Engine

from dashboard.access.web import Guard
from dashboard.casework.periods import PERIOD_KINDS, period_range
from dashboard.config import Settings
from dashboard.screens.names import load_names
from dashboard.screens.rankings import Rankings
from dashboard.store.evaluation import city_grid_codes, city_objects, counters_by
from dashboard.store.hot import REDIS_DOWN, HotStore
from dashboard.store.liverank import RECONCILE_S

CACHE_S = 60.0


def _json(body: bytes, status: int = 200) -> flask.Response:
    return flask.Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def install(server: flask.Flask, guard: Guard, settings: Settings, hot: HotStore, engine: Engine) -> None:
    rankings = Rankings(settings, load_names(settings.city_dir))
    known = city_objects(settings.city_dir)
    grid_codes = city_grid_codes(settings.city_dir)
    live = hot.live_rank(settings.timezone, RECONCILE_S, known=known, kinds=settings.ranking_period_kinds)
    cache: dict[str, tuple[float, dict[str, Any]]] = {}  # period kind -> (when, counts of the city)
    lock = threading.Lock()

    def from_sql(period_kind: str, now: float) -> dict[str, Any]:
        period = period_range(period_kind, now, settings.timezone)
        with engine.connect() as conn:
            return {kind: counters_by(conn, kind, period, now, grid_codes=grid_codes, known=known.get(kind))
                    for kind in ("department", rankings.region_kind)}

    @server.get("/desk/api/ranks")
    @guard.limit(settings.poll_rate)
    def _ranks() -> flask.Response:
        period_kind = flask.request.args.get("period", "month")
        if period_kind not in PERIOD_KINDS:
            return _json(orjson.dumps({"reason": "bad_period", "detail": f"period: one of {', '.join(PERIOD_KINDS)}"}), 400)
        now, scope = time.time(), guard.principal().scope
        if period_kind in live.kinds:
            try:
                counts = {kind: live.read(period_kind, kind, now) for kind in ("department", rankings.region_kind)}
            except REDIS_DOWN:
                return _json(orjson.dumps({"reason": "redis_down", "detail": "the live counters cannot be read now"}), 503)
            source = "live"
        else:
            with lock:  # one count at a time per web worker; the others wait for its answer
                at, counts = cache.get(period_kind, (0.0, {}))
                if now - at >= CACHE_S:
                    counts = from_sql(period_kind, now)
                    cache[period_kind] = (now, counts)
            source = "sql"
        body = rankings.pair(period_kind, counts.get("department"), counts.get(rankings.region_kind), scope)
        return _json(orjson.dumps({"now": now, "source": source, **body}))
