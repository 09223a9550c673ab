"""The dispatch desk in a real headless Chromium (layouts/desk.py, assets/gridwall-desk*.js):
the Dash app over HTTP on a real Redis and database filled by the case pipeline's own steps.
A number opens exactly its cases, the breadcrumb and Back lead back, the filters narrow the
list, a payload's text stays text, and the page works at 1920×1080 and on a 390×844 phone.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chrome, js
from helpers import eventually, grant, running_ingest
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR
from dashboard.launcher import free_port
from dashboard.records import Alert, CaseEvent
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.evaluation import city_grid_codes
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DeviceFix, HotStore, connect
from dashboard.store.liverank import LiveRank
from dashboard.store.liverank_keeper import RankKeeper
from feeds.simulator.world import SimConfig, World
from feeds.steps.alerts import alert_doc
from feeds.steps.cases import CaseBook
from feeds.steps.publish import Ticker

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]
CITY = load_city(ASSETS_DIR / "city")


@pytest.fixture
def desk(stack, tmp_path: Path) -> Iterator[tuple[str, Any, dict]]:
    """A served app whose Redis holds a simulated city's open cases, the KPI and the board, as of now."""
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    hot = HotStore(client)
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    now = time.time()
    world = World(CITY, SimConfig(seed=11, collectors=20, vehicles=0, backfill_days=6, cases_per_day=160), now - 60)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(now - 60, 10**6)]
    for i in range(0, len(events), 500):
        outcome = book(events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
    # Collectors on duty around the city (the case panel lists the nearest).
    docs = hot.open_cases()
    hot.write_positions([DeviceFix(f"C{i:04d}", now - 5, d["lat"] + 0.001, d["lon"], {
        "id": f"C{i:04d}", "kind": "collector", "ts": now - 5, "lat": d["lat"] + 0.001, "lon": d["lon"],
        "name": "王五", "department": "CGZFJ"}) for i, d in enumerate(docs[:40]) if d.get("lat") is not None])
    # A payload's text is shown as text: a title that is markup.
    doc = dict(hot.open_cases()[0])
    doc["title"] = '<img src=x onerror="window.__pwned=1">井盖'
    hot.put_cases([doc])
    # Two video alerts waiting on the desk (SQL, as ingest stores them, and the hot docs).
    alerts = [Alert(f"AL{i}", cam.id, kind, "new", now - 60 * (i + 1), lat=cam.lat, lon=cam.lon, confidence=0.9,
                    snapshot_url=f"https://nvr.example/AL{i}.jpg", severity=sev, grid_code=cam.grid_code)
              for i, (cam, kind, sev) in enumerate([(CITY.cameras[0], "占道经营", "alert"),
                                                   (CITY.cameras[1], "暴露垃圾", "critical")])]
    writer.write(alerts=alerts)
    hot.put_alerts([alert_doc(a) for a in alerts])
    Ticker(hot).tick(now)
    # Today's numbers and the month's rankings: the live counters, built from SQL as ingest does.
    live = LiveRank(client, settings.timezone, reconcile_s=10**9)
    RankKeeper(live, engine, book, city_grid_codes(settings.city_dir)).tick(now)
    board = BoardMaker(hot, engine, settings, live).update(now)
    grant(settings.resolved_database_url)  # the token the tests' browsers carry (admin: may see the desk)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", settings, board
    server.shutdown()
    engine.dispose()


def rows(driver: Any) -> list[str]:
    return js(driver, "return Array.from(document.querySelectorAll('#gw-d-rows tr[data-case]')).map("
                      "function (r) { return r.getAttribute('data-case'); });")


def text(driver: Any, element_id: str) -> str:
    return js(driver, "var e = document.getElementById(arguments[0]); return e ? e.textContent : null;", element_id)


def no_sideways_scroll(driver: Any) -> None:
    width = js(driver, "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert width[0] <= width[1], width


def test_a_number_opens_its_cases_and_the_breadcrumb_leads_back(desk, browser, artifacts: Path) -> None:
    url, _, board = desk
    browser.get(url + "/desk")
    ov = board["overdue"]
    eventually(lambda: text(browser, "gw-d-kpi-red") == str(ov["red"]), 20, "the desk's numbers")
    eventually(lambda: len(rows(browser)) > 0, 10, "the list")
    assert text(browser, "gw-d-total") == f"共 {ov['open']} 件"
    # The district with the most overdue cases: its red count is a link to exactly those.
    top = ov["district"][0]
    assert top["red"] > 0
    link = browser.find_element("css selector", f"#gw-d-ov-district a[href='/desk?district={top['code']}&light=red']")
    link.click()
    eventually(lambda: text(browser, "gw-d-total") == f"共 {top['red']} 件", 10, "the district's overdue cases")
    assert len(rows(browser)) == min(top["red"], 50)
    assert js(browser, "return location.search;") == f"?district={top['code']}&light=red"
    crumbs = js(browser, "return Array.from(document.getElementById('gw-d-crumbs').children).map(function (c) {"
                         " return c.textContent; });")
    assert crumbs == ["全市", "›", top["zh"], "›", "超期"]
    lights = js(browser, "return Array.from(document.querySelectorAll('#gw-d-rows .gw-d-col_due')).map(function (c) {"
                         " return c.textContent; });")
    assert all(t.startswith("超期 ") for t in lights), lights
    browser.save_screenshot(str(artifacts / "desk-district-overdue-1920x1080.png"))
    # The crumb of the district: all its open cases; Back: the overdue ones again.
    browser.find_element("css selector", f"#gw-d-crumbs a[href='/desk?district={top['code']}']").click()
    eventually(lambda: js(browser, "return location.search;") == f"?district={top['code']}", 10, "the district crumb")
    browser.back()
    eventually(lambda: text(browser, "gw-d-total") == f"共 {top['red']} 件", 10, "Back")
    no_sideways_scroll(browser)
    assert js(browser, "return window.__pwned === undefined;"), "a payload's markup ran"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_todays_numbers_and_the_ranking_rows_open_exactly_their_cases(desk, browser, artifacts: Path) -> None:
    url, _, board = desk
    assert board["today"]["ready"] and board["rank"]["department"]["ready"], "the live counters are built"
    browser.get(url + "/desk")
    today = board["today"]
    eventually(lambda: text(browser, "gw-d-today-reported") == str(today["reported"]), 20, "today's numbers")
    browser.find_element("id", "gw-d-todaylink-reported").click()
    eventually(lambda: text(browser, "gw-d-total") == f"共 {today['reported']} 件", 10, "today's reported cases")
    crumbs = js(browser, "return Array.from(document.getElementById('gw-d-crumbs').children).map(function (c) {"
                         " return c.textContent; });")
    assert crumbs == ["全市", "›", "今日", "›", "上报"], crumbs
    worst = next(r for r in board["rank"]["department"]["rows"] if r["overdue"] > 0)
    browser.get(url + "/desk")
    # Taller than the screen, the page scrolls (the wall's stylesheet fixes html to the screen).
    eventually(lambda: js(browser, "window.scrollTo(0, 400); return window.scrollY;") > 0, 20, "the page scrolls")
    js(browser, "window.scrollTo(0, 0); return 0;")
    link = f"#gw-d-rank-department a[href='/desk?counter=overdue_pending&period=month&by=department&code={worst['code']}']"
    eventually(lambda: js(browser, "return !!document.querySelector(arguments[0]);", link), 20, "the ranking's rows")
    browser.find_element("css selector", link).click()
    eventually(lambda: text(browser, "gw-d-total") == f"共 {worst['overdue']} 件", 10, "the row's overdue cases")
    assert "本月" in text(browser, "gw-d-crumbs") and worst["zh"] in text(browser, "gw-d-crumbs")
    browser.save_screenshot(str(artifacts / "desk-rank-overdue-1920x1080.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_the_rankings_of_another_period_come_from_sql_and_open_that_period_s_cases(desk, browser, artifacts: Path) -> None:
    """本季度 chosen above the rankings: the captions say so, the rows are /desk/api/ranks' (the
    SQL count of the quarter), and a row's numbers open the quarter's cases."""
    url, _, _ = desk
    browser.get(url + "/desk")
    eventually(lambda: text(browser, "gw-d-rank-department-title") == "本月部门考评排名", 20, "the month's rankings")
    js(browser, "var s = document.getElementById('gw-d-rank-period'); s.value = 'quarter';"
                " s.dispatchEvent(new Event('change', {bubbles: true})); return 0;")
    eventually(lambda: text(browser, "gw-d-rank-department-title") == "本季度部门考评排名", 20, "the quarter's rankings")
    assert text(browser, "gw-d-rank-region-title") == "本季度街道考评排名"
    answer = js(browser, "return fetch('/desk/api/ranks?period=quarter', {credentials: 'same-origin'})"
                         ".then(function (r) { return r.json(); });")
    shown = js(browser, "return Array.from(document.querySelectorAll('#gw-d-rank-department tr')).map(function (tr) {"
                        " return tr.children[1].textContent; });")
    assert answer["source"] == "sql" and shown == [r["zh"] for r in answer["department"]["rows"]]
    worst = next(r for r in answer["department"]["rows"] if r["overdue"] > 0)
    link = f"#gw-d-rank-department a[href='/desk?counter=overdue_pending&period=quarter&by=department&code={worst['code']}']"
    browser.find_element("css selector", link).click()
    eventually(lambda: text(browser, "gw-d-total") == f"共 {worst['overdue']} 件", 10, "the row's overdue cases")
    assert "本季度" in text(browser, "gw-d-crumbs")
    browser.save_screenshot(str(artifacts / "desk-rank-quarter-1920x1080.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_a_row_opens_its_case_with_timeline_steps_and_nearest_collectors(desk, browser, artifacts: Path) -> None:
    url, settings, board = desk
    browser.get(url + "/desk?light=red")
    eventually(lambda: len(rows(browser)) > 0, 20, "the list")
    first = rows(browser)[0]
    browser.find_element("css selector", f"#gw-d-rows tr[data-case='{first}']").click()
    eventually(lambda: text(browser, "gw-d-case-body") and first in text(browser, "gw-d-case-body"), 10, "the case panel")
    assert js(browser, "return new URLSearchParams(location.search).get('case');") == first
    entries = js(browser, "return document.querySelectorAll('#gw-d-case-body .gw-d-tl').length;")
    events = page_events(settings, first)
    assert entries == events > 0, "one timeline entry per stored event"
    assert js(browser, "return document.querySelectorAll('#gw-d-case-body .gw-d-step').length;") > 0
    assert "超期" in text(browser, "gw-d-case-body")
    near = js(browser, "return Array.from(document.querySelectorAll('#gw-d-case-body .gw-d-near')).map(function (r) {"
                       " return r.getAttribute('data-id'); });")
    assert near, "the on-duty collectors nearest to the case"
    # The case on its map: the grid's outline, the case and the nearest collectors as markers.
    eventually(lambda: js(browser, "return document.querySelectorAll('.gw-d-map path.leaflet-interactive, "
                                   ".gw-d-map svg path').length;") >= 3, 10, "the case's map")
    eventually(lambda: js(browser, "return document.querySelectorAll('.gw-d-map svg path').length;") > 20, 10,
               "the basemap under it")
    js(browser, "document.querySelector('.gw-d-map').scrollIntoView(); return 0;")
    browser.save_screenshot(str(artifacts / "desk-case-1920x1080.png"))
    # Escape closes it; the list stays where it was.
    browser.find_element("css selector", "body").send_keys("\ue00c")
    eventually(lambda: js(browser, "return document.getElementById('gw-d-case').hidden;"), 10, "closed")
    assert js(browser, "return location.search;") == "?light=red"
    assert js(browser, "return window.__pwned === undefined;")


def test_supervise_from_the_case_panel_goes_out_and_comes_back_on_the_timeline(desk, browser, artifacts: Path) -> None:
    """督办 typed into the panel: refused while the note is empty (the browser's own check, then
    the server's for an oversized one), sent, published by a real ingest worker, and back on the
    case's timeline with its note and on the list as the badge."""
    url, settings, _ = desk
    browser.get(url + "/desk?light=red")
    eventually(lambda: len(rows(browser)) > 0, 20, "the list")
    first = rows(browser)[0]
    browser.find_element("css selector", f"#gw-d-rows tr[data-case='{first}']").click()
    eventually(lambda: js(browser, "return !!document.querySelector('#gw-d-case-body .gw-d-sup-form textarea');"), 10,
               "the 督办 form")
    before = page_events(settings, first)
    form = browser.find_element("css selector", "#gw-d-case-body .gw-d-sup-form")
    form.find_element("css selector", "textarea").send_keys("今天下班前处理完，拍照反馈")
    browser.save_screenshot(str(artifacts / "desk-supervise-1920x1080.png"))
    with running_ingest(settings):
        form.find_element("css selector", "button[type=submit]").click()
        eventually(lambda: "已发送督办" in (js(browser, "var s = document.querySelector('#gw-d-case-body .gw-d-sup-said');"
                                             " return s ? s.textContent : '';") or ""), 10, "the desk says it is sent")
        eventually(lambda: page_events(settings, first) == before + 1, 20, "the 督办 stored, through MQTT")
        eventually(lambda: js(browser, "return document.querySelectorAll('#gw-d-case-body .gw-d-tl').length;") == before + 1,
                   10, "its entry on the timeline")
    last = js(browser, "var e = document.querySelectorAll('#gw-d-case-body .gw-d-tl'); return e[e.length - 1].textContent;")
    assert "督办" in last and "今天下班前处理完，拍照反馈" in last, last
    assert "督办" in text(browser, "gw-d-case-body")
    browser.save_screenshot(str(artifacts / "desk-supervised-1920x1080.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_an_alert_is_acknowledged_with_a_reason_and_moves_to_the_handled(desk, browser, artifacts: Path) -> None:
    url, settings, _ = desk
    browser.get(url + "/desk")
    ids = "return Array.from(document.querySelectorAll(arguments[0] + ' li[data-alert-id]')).map(function (r) {" \
          " return r.getAttribute('data-alert-id'); });"
    eventually(lambda: js(browser, ids, "#gw-d-alerts-list") == ["AL0", "AL1"], 20, "the waiting alerts, newest first")
    assert text(browser, "gw-d-alerts-count") == "2"
    assert js(browser, "return document.querySelector('#gw-d-alerts-list li[data-alert-id=AL1] a').href;") == \
        "https://nvr.example/AL1.jpg"
    browser.save_screenshot(str(artifacts / "desk-alerts-1920x1080.png"))
    browser.find_element("css selector", "#gw-d-alerts-list li[data-alert-id=AL1] .gw-d-alert-ack").click()
    prompt = browser.switch_to.alert
    prompt.send_keys("已通知江南执法中队")
    prompt.accept()
    eventually(lambda: js(browser, ids, "#gw-d-alerts-list") == ["AL0"], 10, "off the waiting list")
    eventually(lambda: js(browser, ids, "#gw-d-alerts-done") == ["AL1"], 10, "on the handled list")
    done = js(browser, "return document.querySelector('#gw-d-alerts-done li').textContent;")
    assert "已确认" in done and "已通知江南执法中队" in done and "test-admin" in done, done
    browser.find_element("css selector", "#gw-d-alerts details summary").click()
    # 派核实 on the other: the collectors nearest to its camera, each with its own button, kept
    # open across the list's redraws.
    browser.find_element("css selector", "#gw-d-alerts-list li[data-alert-id=AL0] .gw-d-alert-who").click()
    near = "return document.querySelectorAll('#gw-d-alerts-list li[data-alert-id=AL0] .gw-d-near .gw-d-send').length;"
    eventually(lambda: js(browser, near) > 0, 10, "the alert's nearest collectors")
    time.sleep(6)  # a redraw of the list (every 5 s)
    assert js(browser, near) > 0, "still open after the redraw"
    browser.save_screenshot(str(artifacts / "desk-alert-handled-1920x1080.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_the_weekly_list_page_and_its_phone_view(desk, browser, need_chromium, artifacts: Path) -> None:
    url, settings, _ = desk
    from dashboard.access.scope import Scope
    from dashboard.desk_api import weekly_answer

    model = weekly_answer(db.engine_for(settings.resolved_database_url), settings,
                          type("Everyone", (), {"scope": Scope(None)})(), None, time.time())
    assert model["departments"], "the simulated week has overdue cases"
    browser.get(url + "/desk")
    eventually(lambda: js(browser, "return !!document.querySelector('a[href^=\"/desk/weekly\"]');"), 20, "the link")
    browser.find_element("css selector", "a[href^='/desk/weekly']").click()
    eventually(lambda: js(browser, "return document.querySelectorAll('.gw-w-section').length;") == len(model["departments"]),
               20, "a section per department")
    heads = js(browser, "return Array.from(document.querySelectorAll('.gw-w-dept')).map(function (h) { return h.textContent; });")
    assert heads[0].startswith("1" + model["departments"][0]["zh"]), heads[0]
    links = js(browser, "return document.querySelectorAll('.gw-w-table a').length;")
    assert links == model["total"]
    browser.save_screenshot(str(artifacts / "desk-weekly-1920x1080.png"))
    phone = chrome(390, 844, scale=2.0)
    try:
        phone.get(url + "/desk/weekly")
        eventually(lambda: js(phone, "return document.querySelectorAll('.gw-w-section').length;") > 0, 20, "on a phone")
        no_sideways_scroll(phone)
        phone.save_screenshot(str(artifacts / "desk-weekly-390x844.png"))
    finally:
        phone.quit()


def test_the_lists_map_shows_every_case_of_the_filter_and_a_pin_opens_it(desk, browser, artifacts: Path) -> None:
    url, _, board = desk
    browser.get(url + "/desk?light=red")
    eventually(lambda: len(rows(browser)) > 0, 20, "the list")
    browser.find_element("id", "gw-d-mapbtn").click()
    pins = "return document.querySelectorAll('#gw-d-listmap path.leaflet-interactive').length;"
    eventually(lambda: js(browser, pins) == board["overdue"]["red"], 20, "a pin per overdue case")
    assert js(browser, "return location.search;") == "?light=red&map=1"
    eventually(lambda: js(browser, "return document.querySelectorAll('#gw-d-listmap svg path').length;")
               > board["overdue"]["red"] + 20, 10, "the basemap under the pins")
    browser.save_screenshot(str(artifacts / "desk-map-1920x1080.png"))
    browser.find_element("css selector", "#gw-d-listmap path.leaflet-interactive").click()
    eventually(lambda: js(browser, "return new URLSearchParams(location.search).get('case');") in rows(browser), 10,
               "the pin's case opened")
    eventually(lambda: not js(browser, "return document.getElementById('gw-d-case').hidden;"), 10, "its panel")
    browser.find_element("id", "gw-d-mapbtn").click()  # back to the list: the map goes
    eventually(lambda: js(browser, "return document.getElementById('gw-d-listmap').hidden;"), 10, "the list alone")
    assert js(browser, "return new URLSearchParams(location.search).get('case');"), "the open case stays open"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def page_events(settings: Any, case_id: str) -> int:
    from sqlalchemy import func, select

    from dashboard.store.models import CaseEventRow

    with db.engine_for(settings.resolved_database_url).connect() as conn:
        return conn.execute(select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == case_id)).scalar_one()


def test_the_filters_narrow_the_list_and_a_bad_one_is_explained(desk, browser) -> None:
    url, _, board = desk
    department = next(r for r in board["overdue"]["department"] if r["yellow"] > 0)
    browser.get(url + f"/desk?department={department['code']}&light=yellow")
    eventually(lambda: text(browser, "gw-d-total") == f"共 {department['yellow']} 件", 20, "the filtered list")
    assert js(browser, "return document.getElementById('gw-d-f-light').value;") == "yellow"
    assert js(browser, "return document.getElementById('gw-d-f-department').value;") == department["code"]
    browser.get(url + "/desk?light=purple")
    eventually(lambda: "查询条件有误" in (text(browser, "gw-d-error") or ""), 20, "the refusal explained")


def test_the_desk_on_a_phone(desk, need_chromium, artifacts: Path) -> None:
    url, _, board = desk
    driver = chrome(390, 844, scale=2.0)
    try:
        driver.get(url + "/desk?light=red")
        eventually(lambda: len(rows(driver)) > 0, 20, "the list on a phone")
        no_sideways_scroll(driver)
        # One column, each case a card as wide as the screen; drilled down, the cases come first.
        boxes = js(driver, "return ['gw-d-numbers', 'gw-d-list'].map(function (i) {"
                           " var r = document.getElementById(i).getBoundingClientRect(); return [r.left, r.right, r.top]; });")
        assert boxes[1][2] < boxes[0][2] and all(b[0] >= 0 and b[1] <= 390 for b in boxes), boxes
        driver.save_screenshot(str(artifacts / "desk-phone-390x844.png"))
    finally:
        driver.quit()


def test_a_wall_token_is_refused_the_desk(desk, need_chromium) -> None:
    url, settings, _ = desk
    token = grant(settings.resolved_database_url, "wall", "lobby", token="")
    driver = chrome(1280, 800, token=token)
    try:
        driver.get(url + "/desk")
        eventually(lambda: "无权访问此页面" in driver.page_source, 10, "the refusal")
        assert not js(driver, "return !!document.getElementById('gw-desk');")
    finally:
        driver.quit()
