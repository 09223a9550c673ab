"""The dispatch desk's drill-down (dashboard/screens/desk.py, dashboard/desk_api.py), on a real
Redis and database (both stacks): each of the wall's live numbers opens exactly the cases it
counted, checked against the case states SQL holds and the casework light rule; the filters,
the sort and the pages; a bad query refused with its reason; the routes refused to whoever may
not see the desk, and cut to a limited user's districts."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from helpers import grant

from dashboard.access.masking import Masking
from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.app import create_app
from dashboard.casework.overdue import disposal_light
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.records import CaseEvent
from dashboard.screens.desk import CaseQuery, QueryError, case_list, case_view
from dashboard.screens.names import load_names
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore, connect
from dashboard.store.liverank import LiveRank
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook
from feeds.steps.publish import Ticker

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 10, 14, 10, 30, tzinfo=ZONE).timestamp()
CITY = load_city(ASSETS_DIR / "city")
NAMES = load_names(ASSETS_DIR / "city")
NONE = Masking.none()


@pytest.fixture(scope="module")
def world_events() -> list[CaseEvent]:
    world = World(CITY, SimConfig(seed=11, collectors=20, vehicles=0, backfill_days=8, cases_per_day=160), END)
    return [CaseEvent(**m.payload) for m in world.pop_case_events(END, 10**6)]


@pytest.fixture
def city(stack, tmp_path, world_events):
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    hot = HotStore(client)
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    live = LiveRank(client, settings.timezone, reconcile_s=10**9)
    for i in range(0, len(world_events), 500):
        outcome = book(world_events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
    yield settings, hot, book, BoardMaker(hot, engine, settings, live)
    engine.dispose()


def ids(page: dict) -> set[str]:
    return {r["case_id"] for r in page["rows"]}


def every(docs, now: float, scope: Scope = CITY_SCOPE, **filters) -> dict:
    """All of a drill-down's cases, page by page."""
    rows, offset = [], 0
    while True:
        page = case_list(docs, CaseQuery(offset=offset, limit=100, **filters), now, NAMES, NONE, scope)
        rows += page["rows"]
        offset += 100
        if offset >= page["total"]:
            return {"total": page["total"], "rows": rows, "lights": page["lights"]}


def test_every_live_number_opens_exactly_the_cases_it_counted(city) -> None:
    settings, hot, book, board_maker = city
    board = board_maker.update(END)
    docs = hot.open_cases()
    states = book.states([d["case_id"] for d in docs])
    # The casework rule on SQL's case states: each open case's light, independently of the hot docs.
    light = {cid: disposal_light(s, END, book.rules, book.policy) for cid, s in states.items()}
    ov = board["overdue"]
    assert ov["red"] > 5 and ov["yellow"] > 0
    checked = 0
    for dim in ("district", "department"):
        for row in ov[dim]:
            for colour in ("red", "yellow", "grey"):
                got = every(docs, END, light=colour, **{dim: row["code"]})
                want = {cid for cid, s in states.items() if light[cid] is not None and light[cid].value == colour
                        and getattr(s, dim) == row["code"]}
                assert got["total"] == row[colour] == len(want), (dim, row["code"], colour)
                assert ids(got) == want, (dim, row["code"], colour)
                checked += row[colour]
    assert checked > 20
    # The title bar's numbers: open, overdue, due soon.
    kpi = hot.case_counts(END)
    assert every(docs, END)["total"] == kpi["open"] == ov["open"]
    assert every(docs, END, light="red")["total"] == kpi["overdue"] == ov["red"]
    assert every(docs, END, light="yellow")["total"] == kpi["warn"] == ov["yellow"]


def test_filters_sort_and_pages(city) -> None:
    _, hot, _, _ = city
    docs = hot.open_cases()
    page = case_list(docs, CaseQuery(limit=20), END, NAMES, NONE)
    # Most overdue first: red by the oldest due, then yellow by the nearest due.
    lights = [r["light"] for r in page["rows"]]
    assert lights == sorted(lights, key=["red", "yellow", "green", "grey", None].index)
    reds = [r["due"] for r in page["rows"] if r["light"] == "red"]
    assert reds == sorted(reds) and page["rows"][0]["overdue_s"] == round(END - reds[0])
    assert page["total"] == len(docs) and len(page["rows"]) == 20
    assert sum(page["lights"].values()) == len(docs)
    # Pages cover the list once, in order.
    seen = []
    for offset in range(0, len(docs), 37):
        seen += [r["case_id"] for r in case_list(docs, CaseQuery(offset=offset, limit=37), END, NAMES, NONE)["rows"]]
    assert len(seen) == len(set(seen)) == len(docs)
    # Free text: a case number's tail, in any case.
    some = docs[3]["case_id"]
    assert some in ids(case_list(docs, CaseQuery(text=some[-6:].lower()), END, NAMES, NONE))
    urgent = every(docs, END, urgent=True)
    assert urgent["total"] == sum(1 for d in docs if d.get("urgent")) > 0
    newest = case_list(docs, CaseQuery(sort="reported", limit=5), END, NAMES, NONE)["rows"]
    assert [r["reported_at"] for r in newest] == sorted((d["reported_at"] for d in docs), reverse=True)[:5]
    # Names for the columns, from the city's files.
    row = page["rows"][0]
    assert row["district_zh"] == CITY.names[row["district"]] and row["problem_zh"] != row["small_code"]


@pytest.mark.parametrize("args, reason", [
    ({"light": "purple"}, "light must be one of"),
    ({"sort": "random()"}, "sort must be one of"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "9" * 12}, "offset"),
    ({"limit": "100000"}, "limit"),
    ({"text": "x" * 65}, "text"),
    ({"district": "33\x00"}, "district"),
    ({"urgent": "yes"}, "urgent"),
    ({"where": "1=1"}, "unknown argument"),
])
def test_a_bad_query_is_refused_with_its_reason(args, reason) -> None:
    with pytest.raises(QueryError) as err:
        CaseQuery.from_args(args)
    assert err.value.reason == "bad_filter" and reason in err.value.detail


def test_the_routes_need_the_desk_right_mask_and_cut_to_districts(city) -> None:
    settings, hot, _, board_maker = city
    Ticker(hot).tick(time.time())
    app = create_app(settings).server
    leader = grant(settings.resolved_database_url, "leader", "leader", token="")
    wall = grant(settings.resolved_database_url, "wall", "wall", token="")
    district = CITY.districts[0].code
    limited = grant(settings.resolved_database_url, "leader", "limited", [district], token="")
    c = app.test_client()

    def get(path: str, token: str | None) -> tuple[int, dict]:
        resp = c.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})
        return resp.status_code, orjson.loads(resp.data) if resp.data[:1] == b"{" else {}

    for path in ("/desk/api/cases", "/desk/api/board"):
        assert get(path, None)[0] == 401
        assert get(path, wall)[0] == 403, "a wall may not open the desk's data"
    status, body = get("/desk/api/cases?light=red&limit=5", leader)
    assert status == 200 and body["query"] == {"light": "red", "limit": "5"} and len(body["rows"]) <= 5
    status, body = get("/desk/api/cases?light=purple", leader)
    assert status == 400 and body["reason"] == "bad_filter"
    status, body = get("/desk/api/cases?limit=100", limited)
    assert status == 200 and body["total"] > 0 and {r["district"] for r in body["rows"]} == {district}
    everything = get("/desk/api/cases?limit=1", leader)[1]["total"]
    assert body["total"] < everything
    status, body = get("/desk/api/board", leader)
    assert status == 200 and body["kpi"]["cases"]["open"] == everything


def test_the_case_page_route_its_timeline_masking_and_districts(city) -> None:
    settings, hot, book, _ = city
    app = create_app(settings).server
    leader = grant(settings.resolved_database_url, "leader", "leader2", token="")
    wall = grant(settings.resolved_database_url, "wall", "wall2", token="")
    docs = hot.open_cases()
    case = next(d for d in docs if d.get("district") == CITY.districts[0].code)
    other = next(d for d in docs if d.get("district") not in (None, CITY.districts[0].code))
    limited = grant(settings.resolved_database_url, "leader", "limited2", [CITY.districts[0].code], token="")
    c = app.test_client()

    def get(path: str, token: str) -> tuple[int, dict]:
        resp = c.get(path, headers={"Authorization": f"Bearer {token}"})
        return resp.status_code, orjson.loads(resp.data)

    status, body = get(f"/desk/api/case/{case['case_id']}", leader)
    assert status == 200 and body["case_id"] == case["case_id"]
    with db.engine_for(settings.resolved_database_url).connect() as conn:
        from sqlalchemy import select

        from dashboard.store.models import CaseEventRow
        stored = conn.execute(select(CaseEventRow.event_id).where(CaseEventRow.case_id == case["case_id"])
                              .order_by(CaseEventRow.id)).scalars().all()
    assert [e["event_id"] for e in body["entries"]] == list(stored), "the timeline is the stored events, in order"
    assert body["status"]["light"] == (case_list([case], CaseQuery(), time.time(), NAMES, NONE)["rows"][0]["light"])
    assert body["case"]["district_zh"] == CITY.names[case["district"]]
    assert get(f"/desk/api/case/{case['case_id']}", wall)[0] == 403
    assert get(f"/desk/api/case/{case['case_id']}", limited)[0] == 200
    assert get(f"/desk/api/case/{other['case_id']}", limited)[0] == 404, "not told another district's case exists"
    assert get("/desk/api/case/NO-SUCH-CASE", leader)[0] == 404
    status, body = get("/desk/api/case/" + "x" * 300, leader)
    assert status == 400 and body["reason"] == "bad_case_id"


def test_the_case_view_masks_for_a_masked_role(city) -> None:
    settings, hot, book, _ = city
    from dashboard.casedata import city_rules
    from dashboard.casework.nearest import Nearest
    from dashboard.store.case_page import case_page

    rules, policy = city_rules(settings.section("casework"))
    case_id = next(d["case_id"] for d in hot.open_cases() if d.get("lat") is not None)
    page = case_page(db.engine_for(settings.resolved_database_url), case_id, rules, policy, END)
    near = [Nearest("C0007", 120.0, 130.0, END - 5, {"id": "C0007", "kind": "collector", "name": "张三丰"})]
    clear = case_view(page, near, END, NAMES, NONE)
    masked = case_view(page, near, END, NAMES, Masking.on(b"k" * 32))
    actors = [e.actor for e in clear["entries"] if e.actor]
    assert actors and all(e.actor is None or e.actor.endswith("*") or e.actor == m
                          for e, m in zip(masked["entries"], [e.actor for e in masked["entries"]], strict=True))
    assert clear["nearby"][0] == {**clear["nearby"][0], "id": "C0007", "name": "张三丰"}
    assert masked["nearby"][0]["name"] == "张*" and masked["nearby"][0]["id"] != "C0007"
    assert masked["media"] == []


def test_the_list_exports_as_xlsx_and_csv_masked_audited_and_never_as_formulas(city) -> None:
    """The list leaves the building as a real spreadsheet: the same cases as the screen's list,
    every text a text (a title that starts with = is not run), times in the city's zone, masked
    for a masked role, written to the audit log; refused to a role without see.reports."""
    import csv
    import io

    import openpyxl

    from dashboard.store.accounts import Accounts

    settings, hot, _, _ = city
    docs = hot.open_cases()
    evil = dict(docs[0], title='=HYPERLINK("http://evil.example","点我") 13812341234')
    hot.put_cases([evil])
    app = create_app(settings).server
    leader = grant(settings.resolved_database_url, "leader", "exporter", token="")
    wall = grant(settings.resolved_database_url, "wall", "wall3", token="")
    c = app.test_client()
    auth = {"Authorization": f"Bearer {leader}"}
    listed = orjson.loads(c.get("/desk/api/cases?light=red&limit=100", headers=auth).data)
    resp = c.get("/desk/api/cases.xlsx?light=red", headers=auth)
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    table = [row for row in sheet.iter_rows(values_only=True)]
    header, body = table[0], [r for r in table[1:] if r[0] and str(r[0]).startswith("2")]
    assert header[:3] == ("案件号", "灯色", "状态")
    assert len(body) == listed["total"] > 100
    assert [r[0] for r in body[:100]] == [r["case_id"] for r in listed["rows"]], "the screen's list, in its order"
    assert all(r[1] == "超期" for r in body)
    assert any("导出于" in str(r[0]) and "light=red" in str(r[0]) for r in table if r[0]), "who, when and the filter"
    # All cases, and the evil title is a string cell, not a formula.
    everything = openpyxl.load_workbook(io.BytesIO(c.get("/desk/api/cases.xlsx", headers=auth).data)).active
    cell = next(row[9] for row in everything.iter_rows() if row[0].value == evil["case_id"])
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    text = c.get("/desk/api/cases.csv?lang=en", headers=auth).data
    assert text.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0][0] == "Case" and len(rows) - 1 == len(docs)
    assert next(r for r in rows if r[0] == evil["case_id"])[9].startswith("'="), "CSV: a formula start is quoted"
    audit = [e for e in Accounts(db.engine_for(settings.resolved_database_url)).audit_log(20) if e.action == "export"]
    assert len(audit) == 3 and audit[-1].detail["rows"] == listed["total"]
    assert c.get("/desk/api/cases.xlsx", headers={"Authorization": f"Bearer {wall}"}).status_code == 403
    assert c.get("/desk/api/cases.pdf", headers=auth).status_code == 404
    assert c.get("/desk/api/cases.xlsx?light=purple", headers=auth).status_code == 400
