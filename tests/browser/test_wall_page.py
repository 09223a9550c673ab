"""The wall in a real headless Chromium, against `gridwall demo` with the simulator."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_support import chrome, requested_hosts
from helpers import Demo, eventually

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    d = Demo(tmp_path_factory.mktemp("wall") / "data", "--collectors", "60", "--vehicles", "30", "--backfill-days", "2")
    try:
        d.wait_healthy()
        yield d
    finally:
        d.stop()


@pytest.fixture
def browser(need_chromium):
    driver = chrome(1920, 1080)
    yield driver
    driver.quit()


def markers(driver) -> dict[str, list[float]]:
    return driver.execute_script(
        "var o = {}; window.gridwall.live.markers.forEach(function (m, id) {"
        " var p = m.getLatLng(); o[id] = [p.lat, p.lng]; }); return o;"
    )


def test_map_shows_moving_points_offline(demo, browser, artifacts: Path):
    browser.get(demo.url)
    try:
        first = eventually(lambda: (m := markers(browser)) and len(m) >= 20 and m, 60, "points on the map")
    except AssertionError:
        browser.save_screenshot(str(artifacts / "wall-no-points.png"))
        state = browser.execute_script("var g = window.gridwall; return g && [g.live.updates, g.live.version, !!g.map.instance];")
        raise AssertionError(f"no points; page state {state}; console {browser.get_log('browser')}; demo:\n{demo.output()}") from None
    # Tag the map's DOM node: if the map were re-created, the tag would be gone.
    browser.execute_script("document.querySelector('#gw-map').dataset.probe = 'same-node';")
    # Collectors report every 10 s on duty and vehicles every 5 s; at midday (12:00-14:00) the
    # collectors are off duty, so wait for moves to add up rather than for one snapshot.
    moved: set[str] = set()

    def enough_moved() -> bool:
        later = markers(browser)
        moved.update(k for k in first if k in later and later[k] != first[k])
        return len(moved) >= 5

    time.sleep(6)
    assert eventually(enough_moved, 60, "five points moving"), f"only {len(moved)} of {len(first)} points moved"
    assert browser.execute_script("return document.querySelector('#gw-map').dataset.probe") == "same-node"
    counters = {k: browser.find_element("id", f"gw-kpi-{k}").text for k in ("open_cases", "overdue", "collectors", "vehicles")}
    assert all(v.isdigit() for v in counters.values()), counters
    assert int(counters["collectors"]) + int(counters["vehicles"]) > 0  # collectors are off duty at midday
    browser.save_screenshot(str(artifacts / "wall-1920x1080.png"))
    hosts = requested_hosts(browser)
    assert hosts <= {"127.0.0.1", "localhost"}, f"requests left the machine: {hosts}"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def canvas_text(driver) -> str:
    return driver.execute_script("var c = document.getElementById('gw-canvas'); return c ? c.innerText : '';")


def test_english_on_request(demo, browser):
    browser.get(demo.url + "?lang=en")
    eventually(lambda: "Open cases" in canvas_text(browser), 30, "English labels")
    assert "在办案件" not in canvas_text(browser)
    browser.get(demo.url)
    eventually(lambda: "在办案件" in canvas_text(browser), 30, "Chinese by default")
