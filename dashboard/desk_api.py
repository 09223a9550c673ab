"""The dispatch desk's JSON routes (docs/desk.md): what the page at /desk fetches.

- ``GET /desk/api/board?b=<version>``: the wall's numbers for the desk, ``{"now", "kpi",
  "board", "b"}``: the same KPI and board the wall polls (the caller's districts' own when it is
  limited: dashboard/access/scope.py), without the live picture.
- ``GET /desk/api/cases?<query>``: one page of the open cases behind a number
  (dashboard/screens/desk.py ``CaseQuery``; a bad query is a 400 with its reason).
- ``GET /desk/api/case/<case_id>``: the case page (dashboard/store/case_page.py: its timeline,
  steps against their limits, media, the grid's 90 days) and the on-duty collectors nearest to
  it now (dashboard/store/nearby.py). 404 for a case SQL does not hold, or one outside the
  caller's districts (a limited user is not told it exists); 400 for an id that cannot be one.

Every route needs ``see.desk`` (ROUTES in dashboard/access/web.py): the guard refuses the
request itself, whatever the page shows. Masking and districts are applied here, on the server.
"""

from __future__ import annotations

import time

import flask
import orjson
from sqlalchemy import Engine

from dashboard import casedata
from dashboard.access.masking import Masking
from dashboard.access.web import Guard
from dashboard.config import Settings
from dashboard.poll import board_answer, parse_version
from dashboard.screens.desk import CaseQuery, QueryError, case_list, case_view
from dashboard.screens.names import load_names
from dashboard.store.case_page import case_page
from dashboard.store.hot import REDIS_DOWN, HotStore

JSON = "application/json"


def _json(body: bytes, status: int = 200) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON, headers={"Cache-Control": "no-store"})


NEAREST = 8  # collectors listed on a case


def install(server: flask.Flask, guard: Guard, settings: Settings, hot: HotStore, engine: Engine) -> None:
    names = load_names(settings.city_dir)
    rules, policy = casedata.city_rules(settings.section("casework"))

    def masking() -> Masking:
        return Masking.for_role(guard.principal().masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]

    @server.get("/desk/api/board")
    @guard.limit(settings.poll_rate)
    def _desk_board() -> flask.Response:
        body, status = board_answer(hot, parse_version(flask.request.args.get("b")), guard.principal().scope)
        return _json(body, status)

    @server.get("/desk/api/cases")
    @guard.limit(settings.poll_rate)
    def _desk_cases() -> flask.Response:
        try:
            query = CaseQuery.from_args(flask.request.args)
        except QueryError as exc:
            return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), 400)
        now = time.time()
        try:
            docs = hot.open_cases()
        except REDIS_DOWN:
            return _json(orjson.dumps({"now": now, "reason": "redis_down"}), 503)
        page = case_list(docs, query, now, names, masking(), guard.principal().scope)
        return _json(orjson.dumps({"now": now, "query": query.args(), **page}))

    @server.get("/desk/api/case/<path:case_id>")
    @guard.limit(settings.poll_rate)
    def _desk_case(case_id: str) -> flask.Response:
        now = time.time()
        try:
            page = case_page(engine, case_id, rules, policy, now)
        except ValueError as exc:
            return _json(orjson.dumps({"reason": "bad_case_id", "detail": str(exc)[:200]}), 400)
        if page is None or not guard.principal().scope.sees(page.case):
            return _json(b'{"reason":"no_such_case"}', 404)
        nearby: list[object] = []
        lat, lon = page.case.get("lat"), page.case.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            try:
                # A district-limited user is shown its districts' collectors only (fewer, near a border).
                nearby = [n for n in hot.nearest_collectors(float(lat), float(lon), now, limit=NEAREST)
                          if guard.principal().scope.sees(n.doc)]
            except (*REDIS_DOWN, ValueError):  # (ValueError: a place the geo index cannot hold)
                nearby = []  # the case page from SQL still stands; the live part is left out
        return _json(orjson.dumps(case_view(page, nearby, now, names, masking())))
