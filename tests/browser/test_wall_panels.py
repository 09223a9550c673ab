"""The wall around the map in a real headless Chromium: the Dash app served over HTTP, a real
Redis and database filled by the case pipeline's own steps (a simulated city's case events
through CaseBook, the SQL history, the hot state and the live counters), and the board computed
by the ingest side's BoardMaker. The panels show the board's numbers, the bottom three of the
ranking stand out, a critical alert reaches the ticker and sounds once, the side views rotate,
?lang=en is English, and the 32:9 canvas uses its width."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import OFFLINE_FLAGS, authorize, chrome, js
from helpers import TEST_TOKEN, Demo, eventually, grant
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

from dashboard.access.scope import Scope
from dashboard.app import create_app
from dashboard.city.model import load_city
from dashboard.config import ASSETS_DIR, Settings
from dashboard.launcher import free_port
from dashboard.records import CaseEvent
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DeviceFix, HotStore, connect
from dashboard.store.liverank import LiveRank
from dashboard.store.liverank_keeper import RankKeeper
from feeds.simulator.world import SimConfig, World
from feeds.steps.cases import CaseBook
from feeds.steps.publish import Ticker

# Browser tests run on the embedded stack only: what they test is the page; the board's numbers
# are tested on both stacks in tests/integration/test_board.py.
pytestmark = pytest.mark.browser
EMBEDDED = pytest.mark.parametrize("stack", ["embedded"], indirect=True)

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 10, 14, 10, 30, tzinfo=ZONE).timestamp()
CITY = load_city(ASSETS_DIR / "city")
GRIDS = list(CITY.grid_info)


@dataclass
class Wall:
    url: str
    settings: Settings
    hot: HotStore
    board: BoardMaker

    def alert(self, alert_id: str, severity: str = "critical", state: str = "new", kind: str = "烟火") -> dict[str, Any]:
        """A video alert into the hot state, and a new board with it."""
        self.hot.put_alerts([{"alert_id": alert_id, "camera_id": CITY.cameras[3].id, "type": kind, "state": state,
                              "severity": severity, "start": END + len(self.hot.recent_alerts())}])
        return self.board.update(END)


def fill(settings: Settings) -> tuple[HotStore, BoardMaker]:
    """A simulated city's last eight days of cases, stored as the ingest pipeline stores them."""
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    client = connect(settings.resolved_redis_url)
    hot = HotStore(client)
    book, writer = CaseBook(engine, settings), HistoryWriter(engine)
    # The quarter is kept too, for the wall whose rankings take turns (ranking_periods).
    live = LiveRank(client, settings.timezone, reconcile_s=10**9, kinds=("quarter",))
    world = World(CITY, SimConfig(seed=5, collectors=20, vehicles=0, backfill_days=8, cases_per_day=140), END)
    events = [CaseEvent(**m.payload) for m in world.pop_case_events(END, 10**6)]
    for i in range(0, len(events), 500):
        outcome = book(events[i:i + 500])
        writer.write(events=outcome.applied, cases=outcome.rows, case_stats=outcome.stats, case_steps=outcome.steps)
        hot.put_cases(outcome.docs)
        live.note_changes(outcome.changes, END)
    RankKeeper(live, engine, book, GRIDS).tick(END)
    fixes = [("V1", "muck_truck", 35.0), ("V2", "muck_truck", 0.0), ("V3", "sanitation", 12.0), ("V4", "enforcement", 0.5),
             ("V5", "enforcement", 40.0), ("V6", "sanitation", 0.0)]
    hot.write_positions([DeviceFix(d, END - 10, 30.27, 120.16, {"id": d, "kind": "vehicle", "ts": END - 10, "speed": v, "subtype": s})
                         for d, s, v in fixes])
    hot.put_alerts([{"alert_id": "OLD1", "camera_id": CITY.cameras[0].id, "type": "烟火", "state": "new",
                     "severity": "critical", "start": END - 300},
                    {"alert_id": "OLD2", "camera_id": CITY.cameras[1].id, "type": "占道经营", "state": "new",
                     "severity": "alert", "start": END - 200}])
    Ticker(hot).tick(END)  # the KPI counters (open, overdue, due soon)
    return hot, BoardMaker(hot, engine, settings, live)


@pytest.fixture
def start_wall(stack, tmp_path: Path) -> Iterator[Callable[..., Wall]]:
    servers: list[Any] = []
    filled: dict[str, Any] = {}
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def start(**overrides: Any) -> Wall:
        settings = stack.settings(tmp_path / f"wall{len(servers)}", **overrides)
        if not filled:
            filled["hot"], filled["board"] = fill(settings)
            filled["board"].update(END)
        grant(settings.resolved_database_url)  # the token the tests' browsers carry
        app = create_app(settings)
        server = make_server("127.0.0.1", free_port(), app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Wall(f"http://127.0.0.1:{server.server_port}/", settings, filled["hot"], filled["board"])

    yield start
    for server in servers:
        server.shutdown()


def open_wall(browser: Any, url: str) -> None:
    browser.get(url)
    eventually(lambda: js(browser, "var p = window.gridwall && gridwall.panels; return !!(p && p.applies > 0"
                                   " && document.querySelector('#gw-chart-hourly .bars path'));"),
               45, "the board applied and the charts drawn")


def text(browser: Any, element_id: str) -> str:
    return js(browser, "var e = document.getElementById(arguments[0]); return e ? e.textContent : null;", element_id)


def clipped(browser) -> list[str]:
    """Texts the wall cuts off (an ellipsis, or text wider than its cell): every cell and
    heading of the rankings and the overdue lists, the ticker's badges and places. Free-text
    case titles may be cut."""
    return js(browser, "return Array.from(document.querySelectorAll('.gw-rrow > span, .gw-thead > span,"
                       " #gw-ov-district > div > span, #gw-ov-department > div > span,"
                       " #gw-ticker .gw-t-sev, #gw-ticker .gw-t-place')).filter(function (e) {"
                       " return e.scrollWidth > e.clientWidth + 1; }).map(function (e) {"
                       " return e.textContent + ' (' + e.parentNode.parentNode.id + ': ' + e.scrollWidth + ' > ' + e.clientWidth + ')'; });")


def no_console_errors(browser: Any) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def no_overflow(browser: Any) -> None:
    """No scroll bars, and every panel's content fits its box (the self-scrolling lists clip on
    purpose, inside their panels)."""
    page = js(browser, "var d = document.documentElement; return [d.scrollWidth, d.clientWidth, d.scrollHeight, d.clientHeight];")
    assert page[0] <= page[1] and page[2] <= page[3], f"scroll bars: {page}"
    over = js(browser, "return Array.from(document.querySelectorAll('.gw-panel, .gw-view')).filter(function (p) {"
                       " return getComputedStyle(p).visibility !== 'hidden' && (p.scrollHeight > p.clientHeight + 1"
                       " || p.scrollWidth > p.clientWidth + 1); }).map(function (p) { return p.id + ' ' + p.scrollWidth + 'x'"
                       " + p.scrollHeight + ' in ' + p.clientWidth + 'x' + p.clientHeight; });")
    assert over == [], over


def rank_rows(browser: Any, list_id: str) -> list[dict[str, Any]]:
    return js(browser, "return Array.from(document.getElementById(arguments[0]).children).map(function (r) {"
                       " return {code: r.getAttribute('data-code'), cls: r.className,"
                       " cells: Array.from(r.children).map(function (c) { return c.textContent; }),"
                       " bg: getComputedStyle(r).backgroundImage}; });", list_id)


@EMBEDDED
def test_panels_show_the_board_in_place(start_wall, browser, artifacts: Path) -> None:
    wall = start_wall()
    board = wall.board.update(END)
    open_wall(browser, wall.url)

    # Today's tiles: the counts and rates of the board, numerals of at least 48 px.
    today = board["today"]
    for key in ("reported", "filed", "dispatched", "closed"):
        assert text(browser, f"gw-today-{key}") == str(today[key]), key
    for key in ("close_rate", "on_time_close_rate"):
        assert text(browser, f"gw-today-{key}") == today[key].replace(" ", ""), key
    # A full 100 % fits its tile: "100", not "100.00" spilling into the next one.
    js(browser, "var b = JSON.parse(JSON.stringify(gridwall.panels.board)); b.today.close_rate = '100.00 %';"
                " gridwall.panels.apply(b);")
    full = js(browser, "var e = document.getElementById('gw-today-close_rate'); return [e.textContent, e.scrollWidth <= e.clientWidth];")
    assert full == ["100%", True], full
    js(browser, "gridwall.panels.apply(arguments[0]);", board)  # the board as it was
    sizes = js(browser, "return ['gw-today-reported', 'gw-today-close_rate', 'gw-kpi-overdue', 'gw-kpi-warn', 'gw-kpi-open_cases',"
                        " 'gw-kpi-collectors', 'gw-cat-event'].map(function (i) {"
                        " return parseFloat(getComputedStyle(document.getElementById(i)).fontSize); });")
    assert min(sizes) >= 48, sizes

    # The overdue counters: the KPI's totals, the board's change since the start of the day, the districts.
    ov = board["overdue"]
    eventually(lambda: text(browser, "gw-kpi-overdue") == str(ov["red"]), 10, "the overdue total")
    assert text(browser, "gw-kpi-warn") == str(ov["yellow"]) and ov["d_red"] != 0
    assert text(browser, "gw-ov-d-red") == f"{'▲' if ov['d_red'] > 0 else '▼'}{abs(ov['d_red'])}"
    assert text(browser, "gw-ov-since") == "较今日 00:00"
    districts = js(browser, "return Array.from(document.querySelectorAll('#gw-ov-district > div')).map(function (r) {"
                            " return [r.children[0].textContent, r.children[1].textContent]; });")
    assert districts == [[r["zh"], str(r["red"])] for r in ov["district"]]

    # The department ranking: every row of the board in order, the bottom three highlighted in red.
    rows = rank_rows(browser, "gw-rank-dept")
    want = board["rank"]["department"]["rows"]
    assert [r["code"] for r in rows] == [r["code"] for r in want]
    for got, exp in zip(rows, want, strict=True):
        assert got["cells"] == ["—" if exp["pos"] is None else str(exp["pos"]), exp["zh"], exp["score"], exp["grade"],
                                exp["rate"].replace(" ", ""), str(exp["overdue"])], exp["code"]
    bottom = [r["code"] for r in rows if "gw-bottom" in r["cls"]]
    assert bottom == [r["code"] for r in want if r["bottom"]] and len(bottom) == 3
    assert all("255, 77, 79" in r["bg"] for r in rows if r["code"] in bottom)
    assert all(r["bg"] == "none" for r in rows if r["code"] not in bottom)
    region = rank_rows(browser, "gw-rank-region")
    assert [r["cells"][1] for r in region] == [r["zh"] for r in board["rank"]["region"]["rows"]]
    assert sum("gw-bottom" in r["cls"] for r in region) == 3

    # The ticker, the vehicles, the categories.
    ticker = js(browser, "return Array.from(document.querySelectorAll('#gw-ticker > div')).map(function (r) {"
                         " return r.getAttribute('data-id'); });")
    assert ticker == [i["id"] for i in board["ticker"]]
    assert text(browser, "gw-veh-muck_truck-moving") == "1" and text(browser, "gw-veh-total-online") == "6"
    assert text(browser, "gw-cat-event") == str(board["categories"]["event"])
    labels = js(browser, "return Array.from(document.querySelectorAll('#gw-chart-cats .ytick text')).map(function (t) {"
                         " return t.textContent; });")
    assert len(labels) >= 5 and labels[::-1] == [r["zh"] for r in board["categories"]["top"][:len(labels)]]
    assert js(browser, "return document.querySelectorAll('#gw-chart-cats .bars path').length;") == len(labels)

    # The ranking scrolls by itself: it has more rows than fit.
    eventually(lambda: "translateY(-" in js(browser, "return document.getElementById('gw-rank-dept').style.transform;"),
               20, "the department ranking scrolling")
    browser.save_screenshot(str(artifacts / "wall-panels-1920x1080.png"))
    no_overflow(browser)
    assert clipped(browser) == [], clipped(browser)  # short names (简称) where the wall has little room

    # A new board is written into the same elements: nothing is re-created.
    js(browser, "document.querySelector('#gw-rank-dept > div').dataset.probe = 'same';"
                " document.getElementById('gw-today-reported').dataset.probe = 'same';")
    applies = js(browser, "return gridwall.panels.applies;")
    wall.alert("NEW1", severity="alert", kind="占道经营")
    eventually(lambda: js(browser, "return gridwall.panels.applies;") > applies, 10, "the next board applied")
    assert js(browser, "return document.querySelector('#gw-rank-dept > div').dataset.probe"
                       " + document.getElementById('gw-today-reported').dataset.probe;") == "samesame"
    no_console_errors(browser)


@EMBEDDED
def test_a_district_limited_wall_shows_its_district_and_says_what_it_leaves_out(start_wall, browser,
                                                                                artifacts: Path) -> None:
    """A wall token limited to one district (docs/access.md "Districts"): its own KPI and board,
    built by the worker for its scope once it asked, the department ranking left to the city's
    wall with a sentence that says so, and the layout unchanged."""
    wall = start_wall()
    district = CITY.districts[0]
    token = grant(wall.settings.resolved_database_url, "wall", "district wall", [district.code], token="")
    authorize(browser, token)
    browser.get(wall.url)
    # The first poll says the scope is wanted (503 until its board is there); the worker's tick builds it.
    eventually(lambda: wall.board.store.wanted(time.time()) == [[district.code]], 15, "the scope asked for")
    board = wall.board.update(END, Scope.of([district.code]))
    eventually(lambda: js(browser, "var p = window.gridwall && gridwall.panels; return !!(p && p.applies > 0);"),
               30, "the district's board applied")
    ov = board["overdue"]
    eventually(lambda: text(browser, "gw-kpi-overdue") == str(ov["red"]), 10, "the district's overdue total")
    city = wall.board.update(END)["overdue"]
    assert ov["red"] < city["red"], "(the other districts have overdue cases the district wall must not count)"
    assert js(browser, "return Array.from(document.querySelectorAll('#gw-ov-district > div')).map(function (r) {"
                       " return r.children[0].textContent; });") == [district.name_zh]
    assert text(browser, "gw-rank-dept") == "部门排名仅在全市大屏显示"
    region = rank_rows(browser, "gw-rank-region")
    assert [r["code"] for r in region] == [r["code"] for r in board["rank"]["region"]["rows"]]
    assert all(r["code"].startswith(district.code) for r in region) and region
    browser.save_screenshot(str(artifacts / "wall-district-1920x1080.png"))
    no_overflow(browser)
    # The polls before the scope's first board were 503 "no picture yet", as documented; nothing else.
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and not ("/wall/poll" in e["message"] and "503" in e["message"])]
    assert errors == [], errors


def _sound(browser: Any) -> dict[str, Any]:
    return js(browser, "var s = gridwall.panels.sound; return {played: s.played, refused: s.refused,"
                       " hint: !document.getElementById('gw-sound-hint').hidden};")


@EMBEDDED
def test_a_critical_alert_reaches_the_ticker_and_sounds_once(start_wall, browser, artifacts: Path) -> None:
    wall = start_wall()
    open_wall(browser, wall.url)
    time.sleep(1.5)
    assert _sound(browser)["played"] == 0  # what was there before the screen came up does not sound
    wall.alert("FIRE1")
    eventually(lambda: js(browser, "var f = document.querySelector('#gw-ticker > div');"
                                   " return f && f.getAttribute('data-id') === 'FIRE1' && f.className;"), 10, "the alert on top")
    first = js(browser, "var f = document.querySelector('#gw-ticker > div'); return [f.className,"
                        " Array.from(f.children).map(function (c) { return c.textContent; })];")
    assert "gw-sev-critical" in first[0] and first[1][1] == "严重" and first[1][2] == "烟火"
    eventually(lambda: _sound(browser)["played"] == 1, 10, "the alert sound played")
    wall.alert("FIRE1", state="update")  # the same alert again: no second sound
    wall.alert("STALL1", severity="alert", kind="占道经营")  # not critical: no sound
    time.sleep(3)
    assert _sound(browser) == {"played": 1, "refused": 0, "hint": False}
    wall.alert("FIRE2")
    eventually(lambda: _sound(browser)["played"] == 2, 10, "the next critical alert's sound")
    # The watchdog reloads a wall: alerts it already announced stay quiet.
    browser.refresh()
    open_wall(browser, wall.url)
    time.sleep(2)
    assert _sound(browser)["played"] == 0
    browser.save_screenshot(str(artifacts / "wall-panels-critical-alert.png"))
    no_console_errors(browser)


@EMBEDDED
def test_refused_autoplay_asks_for_a_click(start_wall, need_chromium, artifacts: Path) -> None:
    # A browser started without the kiosk flag: autoplay needs a user gesture first.
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in OFFLINE_FLAGS:
        if not flag.startswith("--autoplay-policy"):
            opts.add_argument(flag)
    opts.add_argument("--autoplay-policy=document-user-activation-required")
    opts.add_argument("--window-size=1920,1080")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    authorize(driver, TEST_TOKEN)
    try:
        wall = start_wall()
        open_wall(driver, wall.url)
        time.sleep(1.5)
        wall.alert("FIRE9")
        eventually(lambda: _sound(driver)["hint"], 10, "the click-to-enable hint")
        assert _sound(driver)["refused"] >= 1 and _sound(driver)["played"] == 0
        assert text(driver, "gw-sound-hint") == "点击此处开启告警声音"
        driver.find_element("id", "gw-sound-hint").click()
        eventually(lambda: _sound(driver)["played"] == 1 and not _sound(driver)["hint"], 10, "the sound after a click")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        driver.quit()


@EMBEDDED
def test_side_views_rotate(start_wall, browser) -> None:
    wall = start_wall(panel_rotate_s=2)
    open_wall(browser, wall.url)

    def active() -> str:
        return js(browser, "return document.getElementById('gw-p-rot').getAttribute('data-active');")

    seen = [active()]
    deadline = time.monotonic() + 12
    while len(set(seen)) < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
        if active() != seen[-1]:
            seen.append(active())
    # In their order, wherever the first look found it (a loaded machine opens the page late).
    order = ["hourly", "cats", "vehicles", "collectors"]
    assert len(set(seen)) >= 3 and all(order[(order.index(a) + 1) % len(order)] == b for a, b in zip(seen, seen[1:], strict=False)), seen
    time.sleep(1)  # the cross-fade
    shown = js(browser, "return Array.from(document.querySelectorAll('#gw-p-rot .gw-view')).filter(function (v) {"
                        " return getComputedStyle(v).visibility === 'visible'; }).map(function (v) { return v.id; });")
    assert len(shown) == 1
    no_console_errors(browser)


@EMBEDDED
def test_the_rankings_take_turns_over_the_city_s_periods(start_wall, browser) -> None:
    """ranking_periods = "month,quarter": both rankings show this month, then this quarter, each
    titled with its period, every panel_rotate_s (assets/gridwall-panels.js applyRanks)."""
    wall = start_wall(ranking_periods="month,quarter", panel_rotate_s=2)
    board = BoardMaker(wall.hot, wall.board.engine, wall.settings, wall.board.live).update(END)
    try:
        assert board["rank_more"][0]["department"]["ready"]
        open_wall(browser, wall.url)

        def titles() -> tuple[str, str]:
            return js(browser, "return ['gw-p-rank-dept', 'gw-p-rank-region'].map(function (id) {"
                               " return document.querySelector('#' + id + ' .gw-ph-title').textContent; });")

        seen = [tuple(titles())]
        deadline = time.monotonic() + 12
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
            if tuple(titles()) != seen[-1]:
                seen.append(tuple(titles()))
        assert seen[:3] == [("本月部门考评排名", "本月街道考评排名"), ("本季度部门考评排名", "本季度街道考评排名"),
                            ("本月部门考评排名", "本月街道考评排名")], seen
        # The rows follow the title: the quarter's first department is the board's.
        eventually(lambda: titles()[0] == "本季度部门考评排名", 5, "the quarter again")
        first = js(browser, "return document.querySelector('#gw-rank-dept .gw-rrow').getAttribute('data-code');")
        assert first == board["rank_more"][0]["department"]["rows"][0]["code"]
        no_console_errors(browser)
    finally:
        wall.board.update(END)  # the other tests' board, without the quarter


@EMBEDDED
def test_english_on_request(start_wall, browser) -> None:
    wall = start_wall()
    board = wall.alert("FIRE3")
    open_wall(browser, wall.url + "?lang=en")
    canvas = js(browser, "return document.getElementById('gw-canvas').innerText;")
    for words in ("Today", "Reported", "Closed on time", "Overdue watch", "Departments this month", "Streets this month",
                  "Live alerts", "District", "Critical", "Smoke or fire"):
        assert words in canvas, words
    for words in ("今日案件", "部门考评", "实时告警", "严重"):
        assert words not in canvas, words
    names = [r["cells"][1] for r in rank_rows(browser, "gw-rank-dept")]
    assert names == [r["en"] for r in board["rank"]["department"]["rows"]]
    assert "Sanitation" in names and "Gulou" in [r["cells"][1] for r in rank_rows(browser, "gw-rank-region")]
    assert text(browser, "gw-ov-since") == "since 00:00"
    assert clipped(browser) == [], clipped(browser)
    no_console_errors(browser)


@EMBEDDED
def test_ultra_wide_uses_the_width(start_wall, need_chromium, artifacts: Path) -> None:
    wall = start_wall()
    driver = chrome(3840, 1080)
    try:
        open_wall(driver, wall.url)  # no parameter: picked from the window's shape
        assert js(driver, "return document.getElementById('gw-canvas').classList.contains('gw-wide');")
        boxes = js(driver, "var r = function (s) { var b = document.querySelector(s).getBoundingClientRect();"
                           " return [Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height)]; };"
                           " return {canvas: r('#gw-canvas'), map: r('#gw-map-box'), hourly: r('#gw-view-hourly'),"
                           " cats: r('#gw-view-cats'), veh: r('#gw-view-vehicles'), coll: r('#gw-view-collectors'),"
                           " dept: r('#gw-p-rank-dept'),"
                           " alerts: r('#gw-p-alerts'), today: r('#gw-p-today')};")
        assert boxes["canvas"][2] == 3840
        assert boxes["map"][2] >= 1500, boxes  # the map grows, and so do the panels beside it
        views = [boxes[k] for k in ("hourly", "cats", "veh", "coll")]
        assert len({v[1] for v in views}) == 4 and all(v[3] >= 200 for v in views), views  # all four, one above the other
        visible = js(driver, "return Array.from(document.querySelectorAll('#gw-p-rot .gw-view')).map(function (v) {"
                             " return getComputedStyle(v).visibility + getComputedStyle(v).opacity; });")
        assert visible == ["visible1"] * 4
        lefts = sorted({boxes[k][0] for k in ("today", "dept", "map", "hourly", "alerts")})
        assert len(lefts) == 5, boxes  # five columns
        no_overflow(driver)
        assert clipped(driver) == [], clipped(driver)
        driver.save_screenshot(str(artifacts / "wall-panels-3840x1080.png"))
        no_console_errors(driver)
    finally:
        driver.quit()
    # Asked for by the URL on a 16:9 window: letterboxed 32:9.
    driver = chrome(1920, 1080)
    try:
        open_wall(driver, wall.url + "?aspect=32x9")
        assert js(driver, "return document.getElementById('gw-canvas').classList.contains('gw-wide');")
        assert js(driver, "return window.gridwall.scale;") == pytest.approx(0.5)
    finally:
        driver.quit()


def test_the_demo_fills_every_panel(tmp_path: Path, browser, artifacts: Path) -> None:
    """The whole path: `gridwall demo` (simulator → MQTT → ingest worker, whose loop computes the
    board) → Dash → the page."""
    demo = Demo(tmp_path / "data", "--collectors", "30", "--vehicles", "30", "--backfill-days", "3")
    try:
        demo.wait_healthy()
        browser.get(demo.url)

        def filled() -> Any:
            # (While the demo's history streams in, the panels show its loading state instead.)
            return js(browser, "var b = window.gridwall && gridwall.panels && gridwall.panels.board;"
                               " return !!(b && b.today.ready && b.rank.department.ready && b.ticker.length"
                               " && b.vehicles.total.online > 0 && !(b.history && b.history.ready === false)) && b;")

        try:
            board = eventually(filled, 120, "every panel filled by the demo")
        except AssertionError:
            browser.save_screenshot(str(artifacts / "wall-panels-demo-failed.png"))
            raise AssertionError(f"console {browser.get_log('browser')}; demo:\n{demo.output()}") from None
        assert text(browser, "gw-today-reported") == str(board["today"]["reported"])
        eventually(lambda: js(browser, "return document.querySelectorAll('#gw-rank-dept .gw-bottom').length;") == 3, 10,
                   "the bottom three")
        eventually(lambda: js(browser, "return !!document.querySelector('#gw-chart-hourly .bars path');"), 30, "the hours drawn")
        browser.save_screenshot(str(artifacts / "wall-panels-demo.png"))
        no_console_errors(browser)
    finally:
        demo.stop()


@EMBEDDED
def test_4k_is_the_same_wall_twice_as_sharp(start_wall, need_chromium, artifacts: Path) -> None:
    wall = start_wall()
    driver = chrome(3840, 2160)
    try:
        open_wall(driver, wall.url)
        assert not js(driver, "return document.getElementById('gw-canvas').classList.contains('gw-wide');")
        assert js(driver, "return window.gridwall.scale;") == pytest.approx(2.0)
        no_overflow(driver)
        driver.save_screenshot(str(artifacts / "wall-panels-3840x2160.png"))
        no_console_errors(driver)
    finally:
        driver.quit()


@EMBEDDED
def test_data_age_turns_red_when_a_watched_feed_goes_quiet(start_wall, browser) -> None:
    wall = start_wall(feed_quiet_s="gps=60,video=120")  # a site whose cameras send heartbeats

    def feeds(gps_age: float, video_age: float) -> None:
        now = time.time()
        wall.hot.count_batch({}, {}, {}, {"gps": now - gps_age, "video": now - video_age})
        Ticker(wall.hot).tick(now)

    fresh = ("return [document.getElementById('gw-fresh').classList.contains('stale'),"
             " document.getElementById('gw-fresh-text').textContent];")
    feeds(2, 30)
    open_wall(browser, wall.url)
    eventually(lambda: js(browser, fresh)[0] is False, 10, "the data shown as fresh")
    assert js(browser, fresh)[1].endswith(" 秒前")  # the GPS age
    feeds(2, 600)  # the video feed quiet past its limit: red, and the wall says which feed
    eventually(lambda: js(browser, fresh) == [True, "视频 10 分钟前"], 10, "the video feed shown as quiet")
    feeds(2, 5)
    eventually(lambda: js(browser, fresh)[0] is False, 10, "fresh again")
    feeds(90, 5)  # no fix for a minute and a half: the GPS feed is the heartbeat
    eventually(lambda: js(browser, fresh) == [True, "定位 90 秒前"], 10, "the GPS feed shown as quiet")
    no_console_errors(browser)
