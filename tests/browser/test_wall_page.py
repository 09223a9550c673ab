"""The wall in a real headless Chromium, against `gridwall demo` with the simulator."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import orjson
import pytest
from browser_support import requested_hosts
from helpers import Demo, descendants, eventually, lifecycle_to_dispatch, publisher, report
from sqlalchemy import text

from dashboard.config import load_settings
from dashboard.store import db
from dashboard.store.hot import HotStore, connect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    d = Demo(tmp_path_factory.mktemp("wall") / "data", "--collectors", "60", "--vehicles", "30", "--backfill-days", "2")
    try:
        d.wait_healthy()
        d.wait_history_in()  # the counters show figures only once the backfill is in
        yield d
    finally:
        d.stop()


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


# --- the end-to-end checks, against the demo and its simulator -------------------------

def demo_settings(demo):
    return load_settings(path=None, environ={"GRIDWALL_DATA_DIR": str(demo.data_dir)}, mqtt_url=demo.mqtt_url)


def open_wall(browser, url: str) -> None:
    browser.get(url)
    eventually(lambda: browser.execute_script("var g = window.gridwall; return !!(g && g.map.instance"
                                              " && g.live.version !== null);"), 60, "the wall up")


def counter(browser, key: str) -> int | None:
    text = browser.find_element("id", f"gw-kpi-{key}").text
    return int(text) if text.isdigit() else None


def test_counters_agree_with_the_database(demo, browser):
    settings = demo_settings(demo)
    engine = db.engine_for(settings.resolved_database_url)
    open_wall(browser, demo.url)
    eventually(lambda: counter(browser, "open_cases") is not None, 30, "the open-case counter")

    def open_in_sql() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM case_stat WHERE is_open = 1")).scalar() or 0)

    # The simulator keeps going: bracket the screen's figure between two reads of the database.
    def agrees() -> bool:
        before = open_in_sql()
        time.sleep(0.8)  # one poll of the page
        shown = counter(browser, "open_cases")
        after = open_in_sql()
        return shown is not None and min(before, after) - 2 <= shown <= max(before, after) + 2

    eventually(agrees, 30, "the open-case counter equal to the database's count")
    engine.dispose()


def test_an_overdue_case_turns_red_within_two_seconds(demo, browser, artifacts: Path):
    settings = demo_settings(demo)
    hot = HotStore(connect(settings.resolved_redis_url))
    open_wall(browser, demo.url)
    now = time.time()
    case_id = f"E2E{int(now)}"
    # A hotline case whose own deadline (the source fixed it) ran out a minute ago.
    events = lifecycle_to_dispatch(case_id, now - 600, department="HWC")
    topic, body = report(case_id, now - 600, lat=30.2690, lon=120.1610, source="12345", deadline=now - 60)
    events[0] = (topic, body)
    with publisher(settings, "e2e-overdue") as pub:
        for topic, body in events[:-1]:
            pub.publish(topic, body, qos=1)
        time.sleep(1.0)
        sent = time.time()
        pub.publish(*events[-1], qos=1)  # the dispatch starts the (already spent) clock
        light = eventually(lambda: browser.execute_script(
            "return gridwall.live.cases.has(arguments[0]) && gridwall.live.caseLight(arguments[0]);", case_id) == "red",
            10, "the case's marker red")
        took = time.time() - sent
    assert light and took <= 2.0, f"red after {took:.2f} s"
    # The counter counts it: it shows what Redis counts as overdue at the same tick.
    assert hot.r.zscore("{gw}:case:due", case_id) is not None

    def counted() -> bool:
        shown = counter(browser, "overdue")
        return shown is not None and abs(shown - hot.case_counts(time.time())["overdue"]) <= 2

    eventually(counted, 2, "the overdue counter including it")
    browser.save_screenshot(str(artifacts / "wall-e2e-overdue.png"))


def test_a_video_alert_reaches_the_ticker_and_the_map(demo, browser):
    settings = demo_settings(demo)
    open_wall(browser, demo.url)
    alert_id = f"E2E-ALERT-{int(time.time())}"
    body = {"alert_id": alert_id, "camera_id": "CAM001", "type": "烟火", "state": "new", "start": time.time() - 2,
            "lat": 30.2462, "lon": 120.1423, "severity": "critical"}
    with publisher(settings, "e2e-alert") as pub:
        pub.publish("gridwall/video/CAM001", orjson.dumps(body), qos=1)
        eventually(lambda: browser.execute_script(
            "return gridwall.live.alerts.has(arguments[0]) && !!document.querySelector("
            "'.gw-alert[data-alert-id=\"' + arguments[0] + '\"]');", alert_id), 10, "the alert pulsing on the map")
        eventually(lambda: browser.execute_script(
            "return !!document.querySelector('#gw-ticker > div[data-id=\"' + arguments[0] + '\"]');", alert_id),
            10, "the alert in the ticker")


def test_the_view_survives_a_minute_of_updates(demo, browser):
    open_wall(browser, demo.url)
    browser.execute_script("document.querySelector('#gw-map').dataset.probe = 'same-node';")
    view = "var m = gridwall.map.instance, c = m.getCenter(); return [c.lat, c.lng, m.getZoom()];"
    before = browser.execute_script(view)
    updates = browser.execute_script("return gridwall.live.updates;")
    time.sleep(60)
    assert browser.execute_script("return gridwall.live.updates;") > updates + 20  # it kept updating
    assert browser.execute_script("return document.querySelector('#gw-map').dataset.probe") == "same-node"
    assert browser.execute_script("return document.querySelectorAll('.leaflet-container').length;") == 1
    assert browser.execute_script(view) == before
    # Nothing the wall does each tick lands in dash-renderer's undo history, which is never
    # trimmed (a dcc.Interval did: ~28 KB a minute of heap, for as long as the wall ran).
    assert browser.execute_script("return window.dash_stores[0].getState().history.past.length;") <= 1
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def _web_server_pid(demo: Demo) -> int | None:
    """The demo's web server (`gridwall serve`, gunicorn's master), among the launcher's children."""
    for pid in sorted(descendants(demo.proc.pid)):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (b"dashboard.cli" in argv and b"serve" in argv) or argv[0].startswith(b"gunicorn: master"):
            return pid  # (gunicorn renames its processes when setproctitle is installed)
    return None


def test_the_wall_recovers_by_itself(demo, browser):
    """A server restart, then a network drop long enough for the watchdog: nobody touches the page.
    Last in the module: it restarts the demo's web server."""
    open_wall(browser, demo.url)
    browser.execute_script("window.gwSameLoad = true;")
    polls = "return gridwall.poll.polls;"

    # The web server restarts (the launcher brings it back): the page keeps asking and carries on.
    old = _web_server_pid(demo)
    assert old is not None, f"no web server among {sorted(descendants(demo.proc.pid))}"
    failures = browser.execute_script("return gridwall.poll.failures;")
    os.kill(old, signal.SIGTERM)
    eventually(lambda: browser.execute_script("return gridwall.poll.failures;") > failures, 30, "polls failing while it is down")
    eventually(lambda: _web_server_pid(demo) not in (None, old), 60, "the launcher restarting the web server")
    after = browser.execute_script(polls)
    eventually(lambda: browser.execute_script(polls) > after + 5, 60, "polls answered again")
    updates = browser.execute_script("return gridwall.live.updates;")
    eventually(lambda: browser.execute_script("return gridwall.live.updates;") > updates + 3, 30, "the map updating again")
    assert browser.execute_script("return window.gwSameLoad;") is True  # no reload was needed

    # The network drops for 40 s: the data shows as stale; once it is back the page carries on.
    # (An upgrade that changes the page shows in the poll's "build": the page reloads on the
    # first usable answer, tests/browser/test_wall_backend_down.py.)
    browser.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    stale = "return document.getElementById('gw-fresh').classList.contains('stale');"
    eventually(lambda: browser.execute_script(stale), 20, "the freshness shown as stale")
    time.sleep(40 - 12)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    eventually(lambda: not browser.execute_script(stale), 20, "the freshness back to normal")
    updates = browser.execute_script("return gridwall.live.updates;")
    eventually(lambda: browser.execute_script("return gridwall.live.updates;") > updates + 3, 30, "the map updating again")
    assert len(markers(browser)) >= 20

    # Polls fail while the rest of the server answers (its page, /healthz): it cannot give this
    # page a picture, so the page keeps the one it has and does not reload, past the watchdog's
    # 30 s; once the polls are answered it carries on (docs/wall.md "When the backend is down").
    browser.execute_script("window.gwSameLoad = true;")
    probes = browser.execute_script("return gridwall.poll.probes;")
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/wall/poll*"]})
    eventually(lambda: browser.execute_script(stale), 20, "the freshness shown as stale")
    eventually(lambda: browser.execute_script("return gridwall.poll.probes;") > probes, 45, "the watchdog probing")
    assert browser.execute_script("return window.gwSameLoad === true;"), "reloaded with no picture to land on"
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    eventually(lambda: not browser.execute_script(stale), 20, "the freshness back to normal")
    assert browser.execute_script("return window.gwSameLoad === true;")
    assert len(markers(browser)) >= 20
