"""A supervision alarm on the wall, in headless Chromium (docs/supervision.md): a muck truck's
fixes at 75 km/h, published over MQTT through a real broker, ingest worker, Redis and SQL, raise
an overspeed alarm that shows in the wall's ticker (its type in the screen's words, as active)
and on the map (an alert marker under its id); when the truck slows down, the ticker shows it
ended. Screenshot: test-artifacts/wall-alarm.png."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import js
from helpers import eventually, gps, grant, publisher, running_ingest
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.launcher import free_port

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]


@pytest.fixture
def wall(stack, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = stack.settings(tmp_path)
    grant(settings.resolved_database_url)  # the token the tests' browsers carry
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", settings
    server.shutdown()


def ticker(browser: Any) -> dict[str, dict[str, Any]]:
    rows = js(browser, "return Array.from(document.querySelectorAll('#gw-ticker > div')).map(function (r) {"
                       " return {id: r.getAttribute('data-id'), cls: r.className,"
                       " cells: Array.from(r.children).map(function (c) { return c.textContent; })}; });")
    return {r["id"]: r for r in rows}


def fix(ts: float, speed: float, k: int) -> tuple[str, bytes]:
    return gps("M901", 30.26 + k * 2e-4, 120.15, ts, kind="vehicle", subtype="muck_truck", speed=speed,
               department="HWC", name="浙A·M901")


def test_an_overspeed_alarm_reaches_the_ticker_and_the_map_and_ends(wall, browser, artifacts: Path) -> None:
    url, settings = wall
    with running_ingest(settings), publisher(settings, "alarm") as pub:
        now = time.time()
        t0 = now - 60
        for k in range(5):  # over the muck trucks' 50 km/h for 20 s
            pub.publish(*fix(t0 + k * 5, 75, k), qos=1)
        browser.get(url)
        eventually(lambda: js(browser, "var g = window.gridwall; return !!(g && g.map && g.map.instance"
                                       " && g.live.version !== null && g.panels && g.panels.applies > 0);"),
                   45, "the wall up")
        alarm_id = f"M901/overspeed//{round(t0 * 1000)}"
        row = eventually(lambda: ticker(browser).get(alarm_id), 30, "the alarm in the ticker")
        assert "超速" in row["cells"] and "gw-titem" in row["cls"].split(), row
        markers = lambda: js(browser, "return Array.from(document.querySelectorAll('[data-alert-id]'))"  # noqa: E731
                                      ".map(function (e) { return e.getAttribute('data-alert-id'); });")
        eventually(lambda: alarm_id in markers(), 20, "the alarm on the map")
        browser.save_screenshot(str(artifacts / "wall-alarm.png"))
        pub.publish(*fix(t0 + 30, 30, 6), qos=1)  # slowed down: the alarm ends
        eventually(lambda: alarm_id not in markers(), 30, "the ended alarm off the map")
        assert alarm_id in ticker(browser)  # the ticker still tells it, as ended
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_the_collector_board_shows_each_team_on_duty(stack, tmp_path: Path, browser, artifacts: Path) -> None:
    """Three collectors of two teams walk (on duty around the clock, every day, for the test);
    the wall's rotating panel shows each team's collectors on duty, its 在岗率 and the total."""
    from dataclasses import replace

    settings = replace(stack.settings(tmp_path), sections={
        "supervision": {"collector": {"duty_hours": ["00:00-24:00"], "days": "every_day"}}})
    grant(settings.resolved_database_url)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with running_ingest(settings), publisher(settings, "coll") as pub:
            now = time.time()
            team = {"C701": "HWC", "C702": "HWC", "C703": "SZC"}
            for k in range(6):  # a fix every 20 s for the last two minutes
                for i, (cid, dept) in enumerate(team.items()):
                    pub.publish(*gps(cid, 30.26 + i * 1e-3 + k * 1e-4, 120.15, now - 120 + k * 20, kind="collector",
                                     department=dept, status="patrol"), qos=1)
            browser.get(f"http://127.0.0.1:{server.server_port}/")
            eventually(lambda: js(browser, "var g = window.gridwall; return !!(g && g.panels && g.panels.applies > 0"
                                           " && g.panels.board && g.panels.board.collectors"
                                           " && g.panels.board.collectors.total.members === 3);"), 60,
                       "the board with the three collectors")
            js(browser, "gridwall.panels.showView(3);")
            got = eventually(lambda: js(browser, "return Array.from(document.querySelectorAll('#gw-coll > div')).map("
                                                 "function (r) { return [r.getAttribute('data-code'),"
                                                 " Array.from(r.children).map(function (c) { return c.textContent; })]; });"),
                             10, "the collector rows")
            rows = dict(got)
            assert set(rows) == {"HWC", "SZC"}, got
            assert rows["HWC"][0] == "环卫处" and rows["HWC"][1] == "2/2" and rows["SZC"][1] == "1/1", got
            assert rows["HWC"][2].endswith("%") and rows["HWC"][2] != "—", got  # on duty in the last two minutes
            total = js(browser, "return Array.from(document.getElementById('gw-coll-total').children)"
                                ".map(function (c) { return c.textContent; });")
            assert total[0] == "全部" and total[1] == "3/3", total
            visible = js(browser, "var v = document.getElementById('gw-view-collectors'); var r = v.getBoundingClientRect();"
                                  " return getComputedStyle(v).display !== 'none' && r.width > 200 && r.height > 200;")
            assert visible
            time.sleep(1.5)  # the views cross-fade: the picture once it has
            browser.save_screenshot(str(artifacts / "wall-collectors.png"))
            # The desk's board: each team with its collectors by name (an admin sees them).
            browser.get(f"http://127.0.0.1:{server.server_port}/desk/collectors")
            sections = eventually(lambda: js(browser, "return Array.from(document.querySelectorAll("
                                                      "'#gw-collectors section[data-code]')).map(function (s) {"
                                                      " return [s.getAttribute('data-code'), Array.from("
                                                      "s.querySelectorAll('tr[data-id]')).map(function (r) {"
                                                      " return r.getAttribute('data-id'); })]; });"),
                                  30, "the desk's collector board")
            assert dict(sections) == {"HWC": ["C701", "C702"], "SZC": ["C703"]}, sections
            # Above them, today's supervision alarms per rule (none raised here).
            assert "今日监管告警" in js(browser, "return document.getElementById('gw-cb-alarms').textContent;")
            browser.save_screenshot(str(artifacts / "desk-collectors.png"))
    finally:
        server.shutdown()
