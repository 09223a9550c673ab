"""The wall while the history of a fresh data directory is still streaming in, in a real headless
Chromium against the Dash app and a real Redis: the board says {"history": {"ready": false,
"pct": 63}}, so today's tiles, the overdue counters and the two rankings show
"载入历史数据 63%" and no figures; once the board says ready (or has no "history"), the
figures are back in the same elements, and nothing on the wall has moved."""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from browser_support import js
from helpers import eventually, grant
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.contract import LOADING_PANELS
from dashboard.launcher import free_port
from dashboard.store.board import publish_board
from dashboard.store.hot import HotStore, connect
from feeds.steps.publish import Ticker

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]

DAY = "2026-10-14"
AT = datetime(2026, 10, 14, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def board(history: dict[str, Any] | None) -> dict[str, Any]:
    """A board as the ingest worker writes it (docs/wall.md "The board's JSON"), small."""
    depts = [("环卫处", "Sanitation"), ("城管局", "Urban Mgmt"), ("住建局", "Housing"), ("交通局", "Transport")]
    rows = [{"code": f"D{i}", "zh": zh, "en": en, "pos": i + 1, "score": f"{98 - i * 3.1:.2f}", "grade": "ABCD"[i],
             "rate": f"{99 - i * 2.5:.2f} %", "overdue": i + 1, "bottom": False, "top": i == 0} for i, (zh, en) in enumerate(depts)]
    doc: dict[str, Any] = {
        "day": DAY,
        "today": {"ready": True, "reported": 312, "filed": 290, "dispatched": 270, "closed": 201,
                  "close_rate": "74.44 %", "on_time_close_rate": "93.72 %"},
        "overdue": {"base_at": AT - 37800, "open": 12, "red": 5, "yellow": 4, "grey": 2, "d_red": 3, "d_yellow": -1,
                    "district": [{"code": "Q1", "zh": "明湖区", "en": "Minghu", "red": 5, "yellow": 4, "grey": 2, "d_red": 3, "d_yellow": -1}],
                    "department": [{"code": "D0", "zh": "环卫处", "en": "Sanitation", "red": 5, "yellow": 4, "grey": 2, "d_red": 3,
                                    "d_yellow": -1}]},
        "rank": {"department": {"kind": "department", "ready": True, "rows": rows},
                 "region": {"kind": "street", "ready": True, "rows": copy.deepcopy(rows)}},
        "ticker": [],
        "hourly": {"day": DAY, "at": AT, "hour": 10, "reported": [3] * 24, "closed": [2] * 24},
        "categories": {"component": 4, "event": 8, "other": 0, "top": []},
        "vehicles": {"rows": [], "total": {"total": 0, "online": 0, "moving": 0, "parked": 0}},
    }
    if history is not None:
        doc["history"] = history
    return doc


@pytest.fixture
def start_wall(stack, tmp_path: Path) -> Iterator[Callable[..., tuple[str, HotStore]]]:
    servers: list[Any] = []
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def start(**overrides: Any) -> tuple[str, HotStore]:
        settings = stack.settings(tmp_path / f"wall{len(servers)}", **overrides)
        grant(settings.resolved_database_url)  # the token the tests' browsers carry
        app = create_app(settings)
        server = make_server("127.0.0.1", free_port(), app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", HotStore(connect(settings.resolved_redis_url))

    yield start
    for server in servers:
        server.shutdown()


def state(browser: Any) -> dict[str, Any]:
    """Each waiting panel: is it marked loading, its loading box's text if shown, the text a
    person sees in it (innerText: hidden figures are not seen); and the KPI counters."""
    return js(browser, "if (!document.getElementById('gw-today-loading')) { return null; }"
                       " var out = {}, ids = arguments[0]; Object.keys(ids).forEach(function (p) {"
                       " var el = document.getElementById(p), box = document.getElementById(ids[p]);"
                       " out[p] = {loading: el.classList.contains('gw-loading'),"
                       " box: box.hidden ? null : box.querySelector('.gw-loading-text').textContent,"
                       " bar: box.querySelector('.gw-loading-fill').style.width, seen: el.innerText}; });"
                       " out.kpi = ['open_cases', 'overdue', 'warn'].map(function (k) {"
                       " return document.getElementById('gw-kpi-' + k).textContent; });"
                       " out.tiles = Array.from(document.querySelectorAll('#gw-p-today .gw-tile-value')).map(function (e) {"
                       " return e.textContent; }); return out;", LOADING_PANELS)


def shown(browser: Any, panel: str) -> str | None:
    """The loading text a panel shows (None: none, or no page yet)."""
    got = state(browser)
    return got[panel]["box"] if got else None


def boxes(browser: Any) -> dict[str, list[int]]:
    """Where each element of the wall is: the waiting panels themselves and everything outside
    them (inside, the hidden figures may be laid out differently while they wait)."""
    return js(browser, "var o = {}, waiting = Object.keys(arguments[0]).map(function (i) { return '#' + i; }).join(',');"
                       " document.querySelectorAll('#gw-canvas [id]').forEach(function (e) {"
                       " var p = e.parentElement && e.parentElement.closest(waiting); if (p) { return; }"
                       " var b = e.getBoundingClientRect();"
                       " o[e.id] = [Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height)]; });"
                       " return o;", LOADING_PANELS)


def test_panels_show_the_history_loading_then_their_figures(start_wall, browser, artifacts: Path) -> None:
    url, hot = start_wall()
    now = time.time()
    hot.put_cases([{"case_id": f"K{i}", "open": True, "lat": 30.27, "lon": 120.16, "due": now + (-60 if i < 2 else 3600),
                    "warn_at": now + (-600 if i < 3 else 1800), "suspended": False} for i in range(5)])
    Ticker(hot).tick(now)  # the KPI counters: 5 open, 2 overdue, 1 due soon
    publish_board(hot.r, orjson.dumps(board({"ready": False, "pct": 63})))
    browser.get(url)
    eventually(lambda: js(browser, "var p = window.gridwall && gridwall.panels; return !!(p && p.applies > 0);"), 30,
               "the board applied")
    eventually(lambda: js(browser, "return !!(gridwall.kpi && gridwall.kpi.last);"), 10, "the KPI applied")

    got = state(browser)
    for panel in LOADING_PANELS:
        assert got[panel]["loading"] and got[panel]["box"] == "载入历史数据 63%", (panel, got[panel])
        assert got[panel]["bar"] == "63%", got[panel]
        # No figure is seen: the only digits in the panel are the percentage.
        assert not re.search(r"\d", re.sub(r"\d+%", "", got[panel]["seen"])), got[panel]
    assert got["kpi"] == ["—", "—", "—"], got["kpi"]
    assert set(got["tiles"]) == {"—"}, got["tiles"]
    assert js(browser, "return document.querySelectorAll('#gw-rank-dept > div, #gw-rank-region > div, #gw-ov-district > div').length;") == 0
    # The rest of the wall is not waiting for the history.
    assert js(browser, "return document.getElementById('gw-kpi-collectors').textContent;") == "0"
    assert js(browser, "return document.getElementById('gw-cat-event').textContent;") == "8"
    browser.save_screenshot(str(artifacts / "wall-loading-1920x1080.png"))
    loading_boxes = boxes(browser)

    # Further along: the same boxes, the new percentage; the KPI poll keeps the counters blank.
    publish_board(hot.r, orjson.dumps(board({"ready": False, "pct": 97.6})))
    eventually(lambda: shown(browser, "gw-p-today") == "载入历史数据 97%", 10, "97 %")
    time.sleep(1.2)  # two more polls bring the KPI again
    assert state(browser)["kpi"] == ["—", "—", "—"]

    # Ready: the figures, in the same elements, and nothing moved.
    publish_board(hot.r, orjson.dumps(board({"ready": True, "pct": 100})))
    eventually(lambda: not state(browser)["gw-p-today"]["loading"], 10, "the loading state gone")
    got = state(browser)
    for panel in LOADING_PANELS:
        assert not got[panel]["loading"] and got[panel]["box"] is None, (panel, got[panel])
    assert got["tiles"] == ["312", "290", "270", "201", "74.44%", "93.72%"], got["tiles"]
    eventually(lambda: state(browser)["kpi"] == ["5", "2", "1"], 5, "the KPI counters")
    assert js(browser, "return document.getElementById('gw-ov-d-red').textContent;") == "▲3"
    assert js(browser, "return document.querySelectorAll('#gw-rank-dept > div').length;") == 4
    assert js(browser, "return document.querySelector('#gw-rank-dept > div > .gw-r-name').textContent;") == "环卫处"
    ready_boxes = boxes(browser)
    assert set(LOADING_PANELS) <= set(ready_boxes) and "gw-map-box" in ready_boxes
    moved = {k: (v, ready_boxes.get(k)) for k, v in loading_boxes.items() if v != ready_boxes.get(k)}
    assert moved == {}, moved

    # A board without the field (a server from before it): as it always was.
    publish_board(hot.r, orjson.dumps(board(None) | {"day": "2026-10-15"}))
    eventually(lambda: js(browser, "return gridwall.panels.board.day;") == "2026-10-15", 10, "the next board")
    assert not any(state(browser)[p]["loading"] for p in LOADING_PANELS)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_loading_in_english_and_without_a_percentage(start_wall, browser) -> None:
    url, hot = start_wall()
    Ticker(hot).tick(time.time())
    publish_board(hot.r, orjson.dumps(board({"ready": False, "pct": 5})))
    browser.get(url + "?lang=en")
    eventually(lambda: shown(browser, "gw-p-rank-dept") == "Loading history 5%", 30, "the English loading text")
    publish_board(hot.r, orjson.dumps(board({"ready": False})))
    eventually(lambda: shown(browser, "gw-p-overdue") == "Loading history…", 10, "no percentage known")
    assert "载入" not in js(browser, "return document.getElementById('gw-canvas').innerText;")
