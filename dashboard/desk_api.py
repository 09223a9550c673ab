"""The dispatch desk's JSON routes (docs/desk.md): what the page at /desk fetches.

- ``GET /desk/api/board?b=<version>``: the wall's numbers for the desk, ``{"now", "kpi",
  "board", "b"}``: the same KPI and board the wall polls (the caller's districts' own when it is
  limited: dashboard/access/scope.py), without the live picture.
- ``GET /desk/api/cases?<query>``: one page of the open cases behind a number
  (dashboard/screens/desk.py ``CaseQuery``; a bad query is a 400 with its reason).
- ``GET /desk/api/cases.xlsx?<query>`` and ``.csv``: the whole list (up to EXPORT_MAX rows),
  masked as the screen is, as a spreadsheet (dashboard/exports.py); needs ``see.reports`` and is
  written to the audit log, because it leaves the building.
- ``GET /desk/api/report.pdf`` and ``.xlsx`` ``?period=month&at=2026-11&lang=zh``: the evaluation
  report (dashboard/reports/, docs/reports.md); needs ``see.reports``, audited; a period that has
  not begun is a 400 ``future``.
- ``GET /desk/api/case/<case_id>``: the case page (dashboard/store/case_page.py: its timeline,
  steps against their limits, media, the grid's 90 days) and the on-duty collectors nearest to
  it now (dashboard/store/nearby.py). 404 for a case SQL does not hold, or one outside the
  caller's districts (a limited user is not told it exists); 400 for an id that cannot be one.

Actions (``POST``, with the CSRF token in ``X-CSRFToken``; docs/desk.md "督办"):

- ``POST /desk/api/act/supervise`` ``{"case_id", "note", "deadline_request"?, "version"}``: 督办
  one case; 409 when the case moved on since the page showed it (``version``) or is finished.
- ``POST /desk/api/act/supervise-department`` ``{"department", "note", "deadline_request"?}``:
  督办 every overdue case of a department (the caller's districts' only).
- ``POST /desk/api/act/briefing-case`` ``{"case_id"}``: the briefing's case story (a closed
  case; ``null`` gives it back to the briefing's rule); needs ``act.supervise``.

Each is audited and leaves as case events through the outbox (dashboard/screens/desk_actions.py);
the answer is 202: queued, published by the ingest worker within about a second.

Every route needs ``see.desk`` (ROUTES in dashboard/access/web.py): the guard refuses the
request itself, whatever the page shows. Masking and districts are applied here, on the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import flask
import orjson
from sqlalchemy import Engine

from dashboard import casedata
from dashboard.access.masking import Masking
from dashboard.access.web import Guard
from dashboard.casework.nearest import Nearest
from dashboard.casework.period_labels import PeriodLabelError, chosen_first_day
from dashboard.casework.periods import period_range
from dashboard.config import Settings
from dashboard.contract import OFFLINE_AFTER_S
from dashboard.exports import Column, to_csv, to_xlsx
from dashboard.i18n import pick_lang, t
from dashboard.poll import board_answer, parse_version
from dashboard.reports.files import FORMATS as REPORT_FORMATS
from dashboard.reports.files import MIME as REPORT_MIME
from dashboard.reports.files import render as render_report
from dashboard.reports.files import stem as report_stem
from dashboard.reports.model import ReportError
from dashboard.reports.model import build as build_report
from dashboard.screens import collector_board
from dashboard.screens.desk import (
    COUNTED,
    EXPORT_MAX,
    CaseQuery,
    CountedQuery,
    QueryError,
    case_list,
    case_view,
    collectors_view,
    counted_list,
    export_table,
)
from dashboard.screens.desk_actions import (
    DEPARTMENT_MAX,
    ActionError,
    alert_case_report,
    alert_message,
    case_id_for_alert,
    parse_alert_act,
    parse_send,
    parse_supervise,
    supervise_messages,
    task_message,
)
from dashboard.screens.desk_alerts import alert_list, alert_row
from dashboard.screens.names import Names, load_names
from dashboard.screens.weekly import WeekError, week_bounds, weekly_list, weekly_table
from dashboard.store import briefing as briefing_store
from dashboard.store.alarm_counts import alarm_counts, alarms_by_device
from dashboard.store.alert_handling import AlertHandling
from dashboard.store.board import board_store
from dashboard.store.case_page import case_head, case_page
from dashboard.store.counted import counted_cases
from dashboard.store.evaluation import evaluate
from dashboard.store.hot import REDIS_DOWN, HotStore
from dashboard.store.outbox import Outbox
from dashboard.store.weekly import weekly_cases
from dashboard.supervision_config import Supervision

JSON = "application/json"


def _json(body: bytes, status: int = 200) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON, headers={"Cache-Control": "no-store"})


NEAREST = 8  # collectors listed on a case
SEND_AMONG = 50  # a collector may be sent if among this many nearest on duty (the desk lists 8)
ACTION_RATE = "60/minute"  # a person's actions; a script pressing every case is refused
REPORT_RATE = "10/minute"  # a report is seconds of CPU: a person's downloads, not a script's loop


def download(fmt: str, columns: list[Column], cells: list[list[Any]], sheet: str, note: str,
             stem: str) -> flask.Response:
    """A table as the file the browser saves: XLSX (one sheet, ``note`` under it) or CSV."""
    if fmt == "xlsx":
        body, mime = to_xlsx(columns, cells, sheet, note), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mime = to_csv(columns, cells), "text/csv; charset=utf-8"
    return flask.Response(body, mimetype=mime, headers={"Cache-Control": "no-store",
                                                         "Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


def weekly_answer(engine: Engine, settings: Settings, principal: Any, week: str | None,
                  now: float) -> dict[str, Any]:
    """The weekly 督办 list of ``week`` (default this one) in the principal's districts; WeekError
    for a week that is not one."""
    label, start, end = week_bounds(week, now, settings.timezone)
    rows = weekly_cases(engine, start, min(end, now))
    return weekly_list(rows, load_names(settings.city_dir), principal.scope, label, start, end, now)


def collectors_answer(engine: Engine, settings: Settings, hot: HotStore, principal: Any, masking: Masking,
                      now: float, sup: Supervision, names: Names) -> dict[str, Any]:
    """The collector board of today (docs/supervision.md "The collector board"): the collectors
    heard from today in the principal's districts, per team, with their day and today's counters.
    ``sup`` and ``names`` are read once when the app starts (zone files, rotas, the city)."""
    zone = ZoneInfo(settings.timezone)
    day = datetime.fromtimestamp(now, zone).date()
    period = period_range("day", now, settings.timezone)
    store = board_store(hot)
    ids = [i.decode() if isinstance(i, bytes) else str(i) for i in store.seen_since("collector", period[0])]
    collectors = [(cid, doc, float(doc.get("ts") or 0.0)) for cid, doc in zip(ids, store.device_docs(ids), strict=True)
                  if doc and principal.scope.sees(doc)]
    counters = {r.code: r.counters for r in evaluate(engine, "collector", period, now).rows}
    page = collector_board.desk_board(
        collectors, day, hot.watch_states().duty_day(day.isoformat()),
        alarms_by_device(engine, day, day, settings.timezone, "collector"), counters, period, now,
        sup, names, masking, settings.timezone, OFFLINE_AFTER_S)
    # Today's alarms of every device in the principal's districts are not told apart by district
    # here (an alarm row has no district): a district-limited role sees its collectors only.
    page["alarms"] = collector_board.alarm_summary(alarm_counts(engine, day, day, settings.timezone), names) \
        if principal.scope.whole else None
    return page


def install(server: flask.Flask, guard: Guard, settings: Settings, hot: HotStore, engine: Engine) -> None:
    names = load_names(settings.city_dir)
    rules, policy = casedata.city_rules(settings.section("casework"))
    outbox = Outbox(engine)
    handling = AlertHandling(engine, hot)

    def masking() -> Masking:
        return Masking.for_role(guard.principal().masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]

    def case_in_scope(case_id: str) -> Any:
        """The case's head when the caller's districts hold it; otherwise the action's refusal
        (one rule for every action on a case: a case outside them is "no such case")."""
        try:
            head = case_head(engine, case_id)
        except ValueError as exc:
            raise ActionError("bad_case_id", str(exc)[:200]) from exc
        if head is None or not guard.principal().scope.sees({"district": head.district}):
            raise ActionError("no_such_case", case_id[:64], 404)
        return head

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
        page = case_list(docs, query, now, names, masking(), guard.principal().scope,
                         pins=flask.request.args.get("pins") == "1")
        return _json(orjson.dumps({"now": now, "query": query.args(), **page}))

    @server.get("/desk/api/counted")
    @guard.limit(settings.poll_rate)
    def _desk_counted() -> flask.Response:
        """The cases behind one of today's numbers or a ranking row's (from SQL: finished cases
        and periods too): exactly those its counter counted."""
        try:
            query = CountedQuery.from_args(flask.request.args)
        except QueryError as exc:
            return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), 400)
        now, scope = time.time(), guard.principal().scope
        start, end = period_range(query.period, now, settings.timezone)
        total, rows = counted_cases(engine, COUNTED[query.counter], query.by, query.code, start, min(end, now),
                                    query.offset, query.limit, scope.districts)
        try:
            live = hot.case_docs([r["case_id"] for r in rows if r.get("is_open")])
        except REDIS_DOWN:
            live = {}  # the list from SQL still stands; open cases show without their light
        page = counted_list(total, rows, live, query, now, names, masking())
        return _json(orjson.dumps({"now": now, "query": query.args(), "period": [start, end], **page}))

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
        return download(fmt, columns, cells, t("desk_cases", lang), note, f"cases-{at:%Y%m%d-%H%M}")

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
            head = case_in_scope(case_id)
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

    @server.post("/desk/api/act/briefing-case")
    @guard.limit(ACTION_RATE)
    def _briefing_case() -> flask.Response:
        """The briefing's case story (docs/briefing.md): ``{"case_id"}`` a closed case, or
        ``{"case_id": null}`` to leave it to the briefing's rule again."""
        now, principal = time.time(), guard.principal()
        body = flask.request.get_json(silent=True)
        case_id = body.get("case_id") if isinstance(body, dict) else ""
        try:
            if case_id is not None:
                if not isinstance(case_id, str):
                    raise ActionError("bad_case_id", "case_id: the case's number, or null")
                head = case_in_scope(case_id)
                if head.open:
                    raise ActionError("case_open", "the briefing tells a case from report to close", 409)
            briefing_store.choose_case(hot, case_id, principal.name, now)
        except ActionError as exc:
            return refused(exc)
        except REDIS_DOWN:
            return _json(b'{"reason":"unavailable"}', 503)
        guard.audit("briefing_case", case_id=case_id)
        return _json(orjson.dumps({"case_id": case_id}), 200)

    @server.get("/desk/api/weekly.<fmt>")
    @guard.limit(settings.poll_rate)
    def _weekly_export(fmt: str) -> flask.Response:
        if fmt not in ("xlsx", "csv"):
            return _json(b'{"reason":"bad_format"}', 404)
        now, principal = time.time(), guard.principal()
        try:
            page = weekly_answer(engine, settings, principal, flask.request.args.get("week"), now)
        except WeekError as exc:
            return _json(orjson.dumps({"reason": "bad_week", "detail": str(exc)}), 400)
        lang = pick_lang(flask.request.args.get("lang"))
        columns, cells = weekly_table(page, lang, settings.timezone)
        at = datetime.fromtimestamp(now, ZoneInfo(settings.timezone))
        note = t("export_note", lang).format(who=principal.name, at=at.strftime("%Y-%m-%d %H:%M"), tz=settings.timezone,
                                             query=f"week={page['week']}", n=len(cells))
        guard.audit("export", what="weekly", format=fmt, week=page["week"], rows=len(cells))
        return download(fmt, columns, cells, t("weekly_title", lang), note, f"weekly-{page['week']}")

    @server.get("/desk/api/report.<fmt>")
    @guard.limit(REPORT_RATE)
    def _report(fmt: str) -> flask.Response:
        """The evaluation report of ``period`` (day … year) ``at`` (default: the last that ended),
        masked and cut to the districts as the principal is (docs/reports.md)."""
        if fmt not in REPORT_FORMATS:
            return _json(b'{"reason":"bad_format"}', 404)
        now, principal = time.time(), guard.principal()
        args = flask.request.args
        lang = pick_lang(args.get("lang"))
        try:
            kind = args.get("period") or "month"
            first = chosen_first_day(kind, args.get("at"), datetime.fromtimestamp(now, ZoneInfo(settings.timezone)).date())
            report = build_report(engine, settings, kind, first, now, lang, masking=masking(), scope=principal.scope,
                                  who=principal.name)
            body = render_report(report, fmt, settings)
        except PeriodLabelError as exc:
            return _json(orjson.dumps({"reason": "bad_period", "detail": str(exc)}), 400)
        except ReportError as exc:
            return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), 400 if exc.reason == "future" else 503)
        guard.audit("export", what="report", format=fmt, period=kind, at=report.label)
        return flask.Response(body, mimetype=REPORT_MIME[fmt], headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{report_stem(kind, report.label, lang)}.{fmt}"'})

    @server.get("/desk/api/alerts")
    @guard.limit(settings.poll_rate)
    def _desk_alerts() -> flask.Response:
        now = time.time()
        try:
            active, handled, recent = hot.active_alerts(), handling.handled(), hot.recent_alerts()
        except REDIS_DOWN:
            return _json(orjson.dumps({"now": now, "reason": "redis_down"}), 503)
        return _json(orjson.dumps(alert_list(active, handled, recent, names, masking(), guard.principal().scope, now)))

    def alert_in_scope(alert_id: str) -> dict[str, object]:
        try:
            doc = hot.alert(alert_id)
        except REDIS_DOWN as exc:
            raise ActionError("unavailable", "the live alerts cannot be read now", 503) from exc
        if doc is None or not guard.principal().scope.sees(doc):
            raise ActionError("no_such_alert", alert_id[:64], 404)
        return doc

    def collectors_near(place: Mapping[str, Any], now: float, limit: int = NEAREST) -> list[Nearest]:
        """The on-duty collectors nearest to a doc's place that the caller may see (a district-
        limited user its districts' only: fewer near a border); none for a doc without a place.
        Redis's errors and ValueError (a place the geo index cannot hold) are the caller's."""
        lat, lon = place.get("lat"), place.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            return []
        scope = guard.principal().scope
        return [n for n in hot.nearest_collectors(float(lat), float(lon), now, limit=limit) if scope.sees(n.doc)]

    @server.get("/desk/api/alert/<path:alert_id>")
    @guard.limit(settings.poll_rate)
    def _desk_alert(alert_id: str) -> flask.Response:
        """One alert and the on-duty collectors nearest to it (to send one to 核实)."""
        now = time.time()
        try:
            doc = alert_in_scope(alert_id[:128])
            nearby = collectors_near(doc, now)
        except ActionError as exc:
            return refused(exc)
        except (*REDIS_DOWN, ValueError):
            nearby = []
        return _json(orjson.dumps({"now": now, "alert": alert_row(doc, names, masking()),
                                   "nearby": collectors_view(nearby, names, masking())}))

    @server.post("/desk/api/act/alert")
    @guard.limit(ACTION_RATE)
    def _handle_alert() -> flask.Response:
        """确认 (ack) or 误报/无需处置 (dismiss), with a reason: the alert leaves the wall's ticker."""
        now, principal = time.time(), guard.principal()
        try:
            act = parse_alert_act(flask.request.get_json(silent=True), to_case=False)
            doc = alert_in_scope(act.alert_id)
            message = alert_message(act, str(doc.get("camera_id")), principal.name, now)
        except ActionError as exc:
            return refused(exc)
        if not handling.handle(act.alert_id, act.action, act.reason, principal.name, now, alert=doc, messages=[message]):
            return _json(b'{"reason":"already_handled","detail":"someone handled it first"}', 409)
        guard.audit("alert_" + act.action, alert_id=act.alert_id, reason=act.reason)
        return _json(orjson.dumps({"handled": act.action}), 202)

    @server.post("/desk/api/act/alert-case")
    @guard.limit(ACTION_RATE)
    def _alert_to_case() -> flask.Response:
        """转案件: the alert becomes a case report (source 视频) through the case feed."""
        now, principal = time.time(), guard.principal()
        try:
            act = parse_alert_act(flask.request.get_json(silent=True), to_case=True)
            doc = alert_in_scope(act.alert_id)
            stamp = datetime.fromtimestamp(now, ZoneInfo(settings.timezone)).strftime("%Y%m%d%H%M%S")
            case_id = case_id_for_alert(act.alert_id, stamp)
            mapped = names.catalogue.alert(str(doc.get("type", "")))
            report = alert_case_report(doc, case_id, act.reason, principal.name, now,
                                       mapped.small_code if mapped is not None else None)
            message = alert_message(act, str(doc.get("camera_id")), principal.name, now, case_id=case_id)
        except ActionError as exc:
            return refused(exc)
        if not handling.handle(act.alert_id, "case", act.reason, principal.name, now, case_id=case_id, alert=doc,
                               messages=[report, message]):
            return _json(b'{"reason":"already_handled","detail":"someone handled it first"}', 409)
        guard.audit("alert_case", alert_id=act.alert_id, case_id=case_id, note=act.reason)
        return _json(orjson.dumps({"handled": "case", "case_id": case_id}), 202)

    @server.post("/desk/api/act/send")
    @guard.limit(ACTION_RATE)
    def _send_collector() -> flask.Response:
        """A collector sent to 核实 or 核查 a case or an alert: a task on its handheld's topic. Only
        one of the on-duty collectors the desk offers (the nearest, in the caller's districts)."""
        now, principal = time.time(), guard.principal()
        try:
            send = parse_send(flask.request.get_json(silent=True))
            if send.case_id is not None:
                head = case_in_scope(send.case_id)
                if not head.open:
                    raise ActionError("case_finished", "a finished case needs nobody sent", 409)
                target = {"case_id": head.case_id, "lat": head.lat, "lon": head.lon, "title": head.title,
                          "grid_code": head.grid_code}
            else:
                doc = alert_in_scope(str(send.alert_id))
                target = {"alert_id": send.alert_id, "lat": doc.get("lat"), "lon": doc.get("lon"),
                          "title": doc.get("type"), "grid_code": doc.get("grid_code"),
                          "snapshot_url": doc.get("snapshot_url")}
            lat, lon = target.get("lat"), target.get("lon")
            if not isinstance(lat, int | float) or not isinstance(lon, int | float):
                raise ActionError("no_place", "it has no place to send anyone to", 409)
            try:
                near = collectors_near(target, now, SEND_AMONG)
            except REDIS_DOWN as exc:
                raise ActionError("unavailable", "the live positions cannot be read now", 503) from exc
            chosen = next((n for n in near if n.device_id == send.device_id), None)
            if chosen is None:
                raise ActionError("not_near", "not one of the on-duty collectors near it now; look again", 409)
            message = task_message(send, target, principal.name, now)
        except ActionError as exc:
            return refused(exc)
        outbox.add([message], now)
        task_id = orjson.loads(message[1])["task_id"]
        # Standing still there is the work, not idleness (docs/supervision.md "Collectors"). Without
        # Redis the task still goes out, and the idle rule may ring while it is done.
        with contextlib.suppress(*REDIS_DOWN):
            hot.watch_states().add_task_place(send.device_id, task_id, float(lat), float(lon), now)
        guard.audit("send_" + send.kind, device_id=send.device_id, case_id=send.case_id, alert_id=send.alert_id,
                    task_id=task_id, distance_m=round(chosen.distance_m))
        return _json(orjson.dumps({"queued": 1, "task_id": task_id, "distance_m": round(chosen.distance_m),
                                   "walk_s": round(chosen.walk_s)}), 202)

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
        nearby: list[Nearest] = []
        vehicles: list[tuple[str, float, dict[str, Any]]] = []
        lat, lon = page.case.get("lat"), page.case.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            scope = guard.principal().scope
            try:
                nearby = collectors_near(page.case, now)
                vehicles = [v for v in hot.nearest_vehicles(float(lat), float(lon), now) if scope.sees(v[2])]
            except (*REDIS_DOWN, ValueError):  # (ValueError: a place the geo index cannot hold)
                nearby = []  # the case page from SQL still stands; the live part is left out
        return _json(orjson.dumps(case_view(page, nearby, now, names, masking(), vehicles)))
