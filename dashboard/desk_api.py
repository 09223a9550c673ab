"""The dispatch desk's JSON routes (docs/desk.md): what the page at /desk fetches.

- ``GET /desk/api/board?b=<version>``: the wall's numbers for the desk, ``{"now", "kpi",
  "board", "b"}``: the same KPI and board the wall polls (the caller's districts' own when it is
  limited: dashboard/access/scope.py), without the live picture.
- ``GET /desk/api/cases?<query>``: one page of the open cases behind a number
  (dashboard/screens/desk.py ``CaseQuery``; a bad query is a 400 with its reason).
- ``GET /desk/api/cases.xlsx?<query>`` and ``.csv``: the whole list (up to EXPORT_MAX rows),
  masked as the screen is, as a spreadsheet (dashboard/exports.py); needs ``see.reports`` and is
  written to the audit log, because it leaves the building.
- ``GET /desk/api/case/<case_id>``: the case page (dashboard/store/case_page.py: its timeline,
  steps against their limits, media, the grid's 90 days) and the on-duty collectors nearest to
  it now (dashboard/store/nearby.py). 404 for a case SQL does not hold, or one outside the
  caller's districts (a limited user is not told it exists); 400 for an id that cannot be one.

Every route needs ``see.desk`` (ROUTES in dashboard/access/web.py): the guard refuses the
request itself, whatever the page shows. Masking and districts are applied here, on the server.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import flask
import orjson
from sqlalchemy import Engine

from dashboard import casedata
from dashboard.access.masking import Masking
from dashboard.access.web import Guard
from dashboard.config import Settings
from dashboard.exports import to_csv, to_xlsx
from dashboard.i18n import pick_lang, t
from dashboard.poll import board_answer, parse_version
from dashboard.screens.desk import EXPORT_MAX, CaseQuery, QueryError, case_list, case_view, export_table
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

    @server.get("/desk/api/cases.<fmt>")
    @guard.limit(settings.poll_rate)
    def _desk_export(fmt: str) -> flask.Response:
        if fmt not in ("xlsx", "csv"):
            return _json(b'{"reason":"bad_format"}', 404)
        args = {k: v for k, v in flask.request.args.items() if k not in ("offset", "limit")}
        try:
            query = dataclasses.replace(CaseQuery.from_args(args), offset=0, limit=EXPORT_MAX)
        except QueryError as exc:
            return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), 400)
        now = time.time()
        try:
            docs = hot.open_cases()
        except REDIS_DOWN:
            return _json(orjson.dumps({"now": now, "reason": "redis_down"}), 503)
        principal = guard.principal()
        page = case_list(docs, query, now, names, masking(), principal.scope)
        lang = pick_lang(flask.request.args.get("lang"))
        columns, cells = export_table(page["rows"], lang, settings.timezone)
        at = datetime.fromtimestamp(now, ZoneInfo(settings.timezone))
        shown = " ".join(f"{k}={v}" for k, v in query.args().items() if k not in ("offset", "limit")) or "—"
        note = t("export_note", lang).format(who=principal.name, at=at.strftime("%Y-%m-%d %H:%M"), tz=settings.timezone,
                                             query=shown, n=page["total"])
        if page["total"] > len(cells):
            note += t("export_cut", lang).format(n=len(cells))
        guard.audit("export", what="cases", format=fmt, query=query.args(), rows=len(cells))
        if fmt == "xlsx":
            body, mime = to_xlsx(columns, cells, t("desk_cases", lang), note), \
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body, mime = to_csv(columns, cells), "text/csv; charset=utf-8"
        name = f"cases-{at:%Y%m%d-%H%M}.{fmt}"
        return flask.Response(body, mimetype=mime, headers={"Cache-Control": "no-store",
                                                             "Content-Disposition": f'attachment; filename="{name}"'})

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
