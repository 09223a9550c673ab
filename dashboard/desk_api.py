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

Actions (``POST``, with the CSRF token in ``X-CSRFToken``; docs/desk.md "督办"):

- ``POST /desk/api/act/supervise`` ``{"case_id", "note", "deadline_request"?, "version"}``: 督办
  one case; 409 when the case moved on since the page showed it (``version``) or is finished.
- ``POST /desk/api/act/supervise-department`` ``{"department", "note", "deadline_request"?}``:
  督办 every overdue case of a department (the caller's districts' only).

Each is audited and leaves as case events through the outbox (dashboard/screens/desk_actions.py);
the answer is 202: queued, published by the ingest worker within about a second.

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
from dashboard.screens.desk_actions import DEPARTMENT_MAX, ActionError, parse_supervise, supervise_messages
from dashboard.screens.names import load_names
from dashboard.store.case_page import case_head, case_page
from dashboard.store.hot import REDIS_DOWN, HotStore
from dashboard.store.outbox import Outbox

JSON = "application/json"


def _json(body: bytes, status: int = 200) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON, headers={"Cache-Control": "no-store"})


NEAREST = 8  # collectors listed on a case
ACTION_RATE = "60/minute"  # a person's actions; a script pressing every case is refused


def install(server: flask.Flask, guard: Guard, settings: Settings, hot: HotStore, engine: Engine) -> None:
    names = load_names(settings.city_dir)
    rules, policy = casedata.city_rules(settings.section("casework"))
    outbox = Outbox(engine)

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

    def refused(exc: ActionError) -> flask.Response:
        return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), exc.status)

    @server.post("/desk/api/act/supervise")
    @guard.limit(ACTION_RATE)
    def _supervise_case() -> flask.Response:
        now, principal = time.time(), guard.principal()
        body = flask.request.get_json(silent=True)
        try:
            case_id = body.get("case_id") if isinstance(body, dict) else None
            if not isinstance(case_id, str):
                raise ActionError("bad_case_id", "case_id: the case's number")
            request = parse_supervise({k: v for k, v in body.items() if k != "case_id"}, now, needs_version=True)
            try:
                head = case_head(engine, case_id)
            except ValueError as exc:
                raise ActionError("bad_case_id", str(exc)[:200]) from exc
            if head is None or not principal.scope.sees({"district": head.district}):
                raise ActionError("no_such_case", case_id[:64], 404)
            if not head.open:
                raise ActionError("case_finished", "a finished case has nobody to press", 409)
            if head.version != request.version:
                raise ActionError("stale", f"the case moved on (version {head.version}); look again", 409)
            messages = supervise_messages([case_id], request, principal.name, now)
        except ActionError as exc:
            return refused(exc)
        outbox.add(messages, now)
        event_id = orjson.loads(messages[0][1])["event_id"]
        guard.audit("supervise", case_id=case_id, event_id=event_id, note=request.note,
                    deadline_request=request.deadline_request)
        return _json(orjson.dumps({"queued": 1, "event_id": event_id}), 202)

    @server.post("/desk/api/act/supervise-department")
    @guard.limit(ACTION_RATE)
    def _supervise_department() -> flask.Response:
        now, principal = time.time(), guard.principal()
        body = flask.request.get_json(silent=True)
        try:
            department = body.get("department") if isinstance(body, dict) else None
            if not isinstance(department, str) or not department or len(department) > 64:
                raise ActionError("bad_action", "department: its code")
            request = parse_supervise({k: v for k, v in body.items() if k != "department"}, now, needs_version=False)
            try:
                docs = hot.open_cases()
            except REDIS_DOWN as exc:
                raise ActionError("unavailable", "the live cases cannot be read now", 503) from exc
            # Exactly the cases the department's 超期 counts (the one light rule, in the caller's districts).
            page = case_list(docs, dataclasses.replace(CaseQuery(light="red", department=department), limit=DEPARTMENT_MAX),
                             now, names, Masking.none(), principal.scope)
            case_ids = [r["case_id"] for r in page["rows"]]
            if not case_ids:
                raise ActionError("nothing_overdue", "the department has no overdue case", 409)
            messages = supervise_messages(case_ids, request, principal.name, now)
        except ActionError as exc:
            return refused(exc)
        outbox.add(messages, now)
        guard.audit("supervise_department", department=department, cases=len(case_ids), note=request.note,
                    deadline_request=request.deadline_request)
        return _json(orjson.dumps({"queued": len(case_ids)}), 202)

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
