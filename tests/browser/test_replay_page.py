"""The desk's replay in a real headless Chromium (layouts/replay.py, assets/gridwall-replay*.js):
the Dash app over HTTP on a real database holding a simulated night of muck trucks (one fix per
10 s, written as ingest writes it). The page loads a choice from its address and plays it; the
slider moved to a time t puts each truck where the history says it was at t (drawn there on the
canvas); following a truck lists its stops; the choice made in the form replays too; a window in
the future is refused with its reason. Screenshots at 1920×1080 and 390×844 go to test-artifacts/."""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import chrome, js
from helpers import eventually, grant
from replay_support import by_device, simulated_positions, write_history
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.launcher import free_port
from dashboard.records import Position
from dashboard.store import db

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]
ZONE = ZoneInfo("Asia/Shanghai")


def last_night() -> float:
    """21:30 last night (the night before, before 06:00): the muck trucks' shift."""
    day = datetime.now(ZONE) - timedelta(days=1)
    return day.replace(hour=21, minute=30, second=0, microsecond=0).timestamp()


START = last_night()
SPAN = 3600.0


@pytest.fixture(scope="module")
def night() -> list[Position]:
    return simulated_positions(START, SPAN, vehicles=60)


@pytest.fixture
def served(stack, tmp_path: Path, night) -> Iterator[tuple[str, Any]]:
    settings = stack.settings(tmp_path)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    write_history(engine, night)
    grant(settings.resolved_database_url)  # the token the tests' browsers carry (admin: may see the desk)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", settings
    server.shutdown()
    engine.dispose()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZONE).strftime("%Y-%m-%dT%H:%M")


def where(fixes: list[Position], t: float) -> tuple[float, float]:
    """The history's position at t: the stored fix, or the straight line between the two around t."""
    ts = [p.ts for p in fixes]
    i = bisect.bisect_right(ts, t) - 1
    a = fixes[i]
    if i == len(fixes) - 1 or ts[i] == t:
        return a.lat, a.lon
    b = fixes[i + 1]
    f = (t - a.ts) / (b.ts - a.ts)
    return a.lat + f * (b.lat - a.lat), a.lon + f * (b.lon - a.lon)


def playing(driver: Any) -> bool:
    return bool(js(driver, "var r = window.gridwall && window.gridwall.replay;"
                           " return !!(r && r.clock && r.clock.playing && r.stats.frames > 2);"))


def seek(driver: Any, t: float) -> None:
    """Pause, then move the slider to t as a person does (an input event), and wait for the frame
    drawn at t (not merely the next frame: one already asked for may still be drawn at the old t)."""
    js(driver, "var r = window.gridwall.replay; if (r.clock.playing) { document.getElementById('gw-r-play').click(); }")
    js(driver, "var s = document.getElementById('gw-r-slider'); s.value = String(arguments[0]);"
               " s.dispatchEvent(new Event('input', {bubbles: true}));", round(t))
    eventually(lambda: js(driver, "var r = window.gridwall.replay;"
                                  " return !r.clock.playing && r.clock.t === arguments[0] && r.stats.lastT === arguments[0];",
                          round(t)), 5, f"the frame drawn at {round(t)} s after the seek")


def no_severe_errors(driver: Any, expected: str | None = None) -> None:
    """No error in the console but the ``expected`` one (a refusal the test asked for is a 400 logged)."""
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and not (expected and expected in e["message"])]
    assert errors == [], errors


def test_the_trucks_play_back_and_the_slider_puts_each_where_the_history_says(served, night, browser,
                                                                               artifacts: Path) -> None:
    url, _ = served
    history = by_device([p for p in night if p.subtype == "muck_truck"], START, START + SPAN)
    browser.get(f"{url}/desk/replay?kind=vehicle&subtype=muck_truck&from={iso(START)}&to={iso(START + SPAN)}")
    eventually(lambda: playing(browser), 20, "the replay loaded and playing")
    shown = js(browser, "return window.gridwall.replay.devices.map(function (d) { return d.doc.id; });")
    assert sorted(shown) == sorted(history)
    summary = js(browser, "return document.getElementById('gw-r-summary').textContent;")
    assert summary.startswith(f"{len(history)} 台") and "公里" in summary, summary
    # It moves: t advances at the chosen speed (60×: a minute of the night each second).
    t1 = js(browser, "return window.gridwall.replay.clock.t;")
    time.sleep(1.0)
    t2 = js(browser, "return window.gridwall.replay.clock.t;")
    assert 20 < t2 - t1 < 75, (t1, t2)
    # The slider at t: every truck that has fixes around t is where the history puts it, and
    # drawn there (its sprite on the canvas at its screen place).
    for offset in (1234.0, 2900.0):
        seek(browser, offset)
        t = START + offset
        checked = 0
        for device_id, fixes in history.items():
            if not (fixes[0].ts <= t <= fixes[-1].ts):
                continue
            got = js(browser, "return window.gridwall.replay.shown(arguments[0]);", device_id)
            lat, lon = where(fixes, t)
            assert abs(got["lat"] - lat) < 1e-7 and abs(got["lon"] - lon) < 1e-7, (device_id, got, lat, lon)
            if 10 < got["x"] < 1000 and 10 < got["y"] < 600:  # inside the map box
                rgba = js(browser, "return window.gridwall.replay.pixelAt(arguments[0], arguments[1]);", got["x"], got["y"])
                assert rgba[3] > 0, (device_id, got)
            checked += 1
        assert checked >= len(history) // 2, checked
    label = js(browser, "return document.getElementById('gw-r-time').textContent;")
    assert label.endswith(datetime.fromtimestamp(START + 2900, ZONE).strftime("%H:%M:%S")), label
    # Follow the first truck: its stops are listed, with their duration and place.
    first = sorted(history)[0]
    js(browser, "window.gridwall.replay.follow(arguments[0]);", first)
    eventually(lambda: js(browser, "return document.getElementById('gw-r-stops-title').textContent;").endswith("的停留点"),
               5, "the followed truck's stops")
    assert "follow=" + first in js(browser, "return location.search;")
    stops = js(browser, "return Array.from(document.querySelectorAll('#gw-r-stops .gw-r-stop')).map(function (li) {"
                        " return li.textContent; });")
    answer = js(browser, "var id = arguments[0]; return window.gridwall.replay.answer.devices.filter(function (d) {"
                         " return d.id === id; })[0];", first)
    assert len(stops) == len(answer["stops"])
    if stops:
        assert "停留" in stops[0] and answer["stops"][0]["street_zh"] in stops[0]
    js(browser, "document.getElementById('gw-r-play').click();")
    time.sleep(1.5)
    browser.save_screenshot(str(artifacts / "replay-muck-trucks-1920x1080.png"))
    no_severe_errors(browser)


def test_on_a_phone_the_form_replays_and_a_future_window_is_refused(served, night, artifacts: Path, need_chromium) -> None:
    url, _ = served
    phone = chrome(390, 844)
    try:
        phone.get(f"{url}/desk/replay")
        eventually(lambda: js(phone, "return !!(window.gridwall && window.gridwall.replayLib"
                                     " && document.getElementById('gw-r-f-what'));"), 20, "the page")
        # Nothing chosen yet: the page says what to do; the form holds last night and the muck trucks.
        eventually(lambda: js(phone, "return document.getElementById('gw-r-summary').textContent;") != "", 10, "the hint")
        assert js(phone, "return document.getElementById('gw-r-f-what').value;") == "vehicle:muck_truck"
        # Every truck of the whole fleet this time, over the form.
        js(phone, "var f = function (id, v) { document.getElementById(id).value = v; };"
                  "f('gw-r-f-what', 'vehicle:'); f('gw-r-f-from', arguments[0]); f('gw-r-f-to', arguments[1]);"
                  "document.querySelector('#gw-r-form button[type=submit]').click();", iso(START), iso(START + SPAN))
        eventually(lambda: playing(phone), 20, "the replay from the form")
        n = js(phone, "return window.gridwall.replay.devices.length;")
        assert n == len({p.device_id for p in night})
        assert "kind=vehicle" in js(phone, "return location.search;")
        width = js(phone, "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
        assert width[0] <= width[1], width
        time.sleep(1.5)
        phone.save_screenshot(str(artifacts / "replay-all-vehicles-390x844.png"))
        # Below the map: the player, the summary, a followed vehicle's stops and the devices.
        js(phone, "window.gridwall.replay.follow(window.gridwall.replay.devices[0].doc.id);"
                  "document.getElementById('gw-r-play').scrollIntoView();")
        time.sleep(0.5)
        phone.save_screenshot(str(artifacts / "replay-all-vehicles-list-390x844.png"))
        # A window in the future: refused, and the page says why.
        future = time.time() + 7200
        js(phone, "var f = function (id, v) { document.getElementById(id).value = v; };"
                  "f('gw-r-f-from', arguments[0]); f('gw-r-f-to', arguments[1]);"
                  "document.querySelector('#gw-r-form button[type=submit]').click();", iso(future), iso(future + 3600))
        eventually(lambda: not js(phone, "return document.getElementById('gw-r-error').hidden;"), 10, "the refusal shown")
        assert "无法回放" in js(phone, "return document.getElementById('gw-r-error').textContent;")
        no_severe_errors(phone, expected="status of 400")
    finally:
        phone.quit()


def test_in_english_and_linked_from_the_desk(served, browser, artifacts: Path) -> None:
    url, _ = served
    browser.get(f"{url}/desk")
    eventually(lambda: js(browser, "return !!document.querySelector('a[href=\"/desk/replay\"]');"), 20, "the desk's link")
    browser.get(f"{url}/desk/replay?lang=en&kind=vehicle&subtype=enforcement&from={iso(START)}&to={iso(START + SPAN)}")
    eventually(lambda: js(browser, "var r = window.gridwall && window.gridwall.replay; return !!(r && r.answer);"), 20, "loaded")
    summary = js(browser, "return document.getElementById('gw-r-summary').textContent;")
    assert " devices (" in summary and " km" in summary, summary
    assert js(browser, "return document.querySelector('.gw-d-title').textContent;") == "Track replay"
