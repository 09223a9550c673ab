"""A wall whose backend is down keeps its last picture, marked stale, and recovers by itself; it
never reloads into an empty page (docs/wall.md "When the backend is down").

Headless Chromium against the Dash app on a Redis of the test's own, which the test really
stops (SIGTERM to the redis-server process) and starts again. The watchdog's thresholds come
from the page's query string (?stale_ms=&probe_ms=), so the page is past its "probe" threshold
(30 s in production, where the old watchdog reloaded) within seconds."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import servers
from browser_support import js
from helpers import eventually, grant
from werkzeug.serving import make_server

from dashboard import poll
from dashboard.app import create_app
from dashboard.config import load_settings
from dashboard.launcher import free_port
from dashboard.store.board import publish_board
from dashboard.store.hot import DeviceFix, HotStore, connect
from feeds.steps.publish import Ticker

pytestmark = pytest.mark.browser

STALE_MS, PROBE_MS = 1500, 3000
QUERY = f"?stale_ms={STALE_MS}&probe_ms={PROBE_MS}"


@dataclass
class Backend:
    """The web server (in this process) and its own Redis, which the test stops and starts."""

    workdir: Path
    url: str = ""
    redis: servers.Server | None = None
    hot: HotStore | None = None
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def start_redis(self, empty: bool = False) -> None:
        """Start it on the same unix socket; ``empty``: without its append-only file, like a
        Redis that lost its data."""
        if empty:
            shutil.rmtree(self.workdir / "redis", ignore_errors=True)
        self.redis = servers.start_redis("embedded", self.workdir / "redis")
        self.hot = HotStore(connect(self.redis.url))

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()  # SIGTERM to redis-server, waited for
        self.redis = None

    def fill(self, open_cases: int, devices: int) -> None:
        """A picture as ingest leaves it: open cases (two overdue, one due soon), devices on the
        map, the GPS feed's last message, the KPI snapshot and the board."""
        assert self.hot is not None
        now = time.time()
        self.hot.put_cases([{"case_id": f"K{i}", "open": True, "lat": 30.27 + i * 0.002, "lon": 120.16,
                             "due": now + (-60 if i < 2 else 3600), "warn_at": now + (-600 if i < 3 else 1800),
                             "suspended": False} for i in range(open_cases)])
        self.hot.write_positions([DeviceFix(f"C{i}", now - 1, 30.26 + i * 0.003, 120.15 + i * 0.003,
                                            {"id": f"C{i}", "kind": "collector", "ts": now - 1})
                                  for i in range(devices)])
        self.hot.count_batch({"gps": devices}, {}, {}, {"gps": now - 1})
        Ticker(self.hot).tick(now)
        publish_board(self.hot.r, orjson.dumps(board(reported=100 + open_cases)))


def board(reported: int) -> dict[str, Any]:
    """A small board (docs/wall.md "The board's JSON"); today's tiles carry `reported`."""
    return {
        "day": time.strftime("%Y-%m-%d"),
        "today": {"ready": True, "reported": reported, "filed": 90, "dispatched": 80, "closed": 70,
                  "close_rate": "77.78 %", "on_time_close_rate": "95.00 %"},
        "overdue": {"base_at": time.time() - 3600, "open": 5, "red": 2, "yellow": 1, "grey": 0, "d_red": 1, "d_yellow": 0,
                    "district": [], "department": []},
        "rank": {}, "ticker": [], "hourly": {}, "categories": {"component": 2, "event": 3, "other": 0, "top": []},
        "vehicles": {"rows": [], "total": {"total": 0, "online": 0, "moving": 0, "parked": 0}},
    }


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per 503
    b = Backend(tmp_path)
    b.start_redis()
    assert b.redis is not None
    settings = load_settings(path=None, environ={}, redis_url=b.redis.url, data_dir=tmp_path / "data",
                             database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    grant(settings.resolved_database_url)  # the token the tests' browsers carry
    server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    b.url = f"http://127.0.0.1:{server.server_port}/"
    yield b
    server.shutdown()
    if b.redis is not None:
        b.redis.stop()


# --- what the page shows -------------------------------------------------------------------------

PAGE = """var g = window.gridwall, c = document.getElementById('gw-canvas');
if (!g || !c || !g.poll || !g.live) { return null; }
var fresh = document.getElementById('gw-fresh'), banner = c.querySelector('.gw-waiting-banner');
function txt(id) { var e = document.getElementById(id); return e ? e.textContent : null; }
function seen(id) { var e = document.getElementById(id); return !!e && getComputedStyle(e).visibility === 'visible'; }
return {kpi: ['open_cases', 'overdue', 'warn'].map(function (k) { return txt('gw-kpi-' + k); }), reported: txt('gw-today-reported'),
  kpi_seen: seen('gw-kpi-open_cases'), tiles_seen: seen('gw-today-reported'),
  markers: g.live.markers.size, cases: g.live.cases.size,
  stale: fresh.classList.contains('stale'), fresh: txt('gw-fresh-text'),
  waiting: c.classList.contains('gw-waiting'),
  banner: banner && getComputedStyle(banner).display !== 'none' ? banner.textContent : null,
  reason: g.poll.reason, polls: g.poll.polls, failures: g.poll.failures, probes: g.poll.probes,
  same_load: window.gwSameLoad === true,
  navigation: performance.getEntriesByType('navigation')[0].type};"""


def page(browser: Any) -> dict[str, Any]:
    return js(browser, PAGE) or {}


def same_page(browser: Any) -> dict[str, Any]:
    """What the page shows, failing at once if it reloaded since the test marked it."""
    got = page(browser)
    assert got.get("same_load"), f"the page reloaded while the server had no picture: {got}"
    return got


def age_s(fresh_text: str) -> int:
    """The seconds in "中断 12 秒前" / "3 秒前"."""
    number, unit = fresh_text.split()[-2:]
    assert unit == "秒前", fresh_text
    return int(number)


def open_wall(browser: Any, url: str) -> None:
    browser.get(url)
    try:
        eventually(lambda: (p := page(browser)).get("kpi") == ["5", "2", "1"] and p["markers"] == 4
                   and p["reported"] == "105", 30, "the wall showing its picture")
    except AssertionError:
        raise AssertionError(f"the wall shows {page(browser)}; console {browser.get_log('browser')}") from None
    js(browser, "window.gwSameLoad = true;")  # gone if the page reloads


# --- the tests -----------------------------------------------------------------------------------

def test_redis_down_keeps_the_picture_then_recovers_without_a_reload(backend: Backend, browser, artifacts: Path) -> None:
    backend.fill(open_cases=5, devices=4)
    open_wall(browser, backend.url + QUERY)
    live = page(browser)
    assert live["stale"] is False and not live["waiting"] and live["fresh"].endswith("秒前"), live
    browser.save_screenshot(str(artifacts / "wall-backend-0-live.png"))

    # Redis stops. The poll answers 503 "redis_down"; the page keeps everything it showed and,
    # after stale_ms, says how old it is, in red.
    backend.stop_redis()
    down_at = time.monotonic()
    eventually(lambda: same_page(browser)["reason"] == "redis_down", 10, "the poll answering 503 redis_down")
    eventually(lambda: same_page(browser)["stale"], 5, "the data age red")
    # Past the probe threshold (where the old watchdog reloaded), twice over: probes went out
    # and found no picture, so no reload.
    eventually(lambda: same_page(browser)["probes"] >= 2, 15, "the watchdog probing")
    down = same_page(browser)
    assert down["kpi"] == ["5", "2", "1"] and down["reported"] == "105", down
    assert down["markers"] == 4 and down["cases"] == 5, down
    assert not down["waiting"] and down["banner"] is None, down
    assert down["fresh"].startswith("中断 "), down["fresh"]
    assert age_s(down["fresh"]) >= int(time.monotonic() - down_at), down["fresh"]  # the picture's age, counting
    browser.save_screenshot(str(artifacts / "wall-backend-1-redis-down.png"))

    # Redis comes back empty (its data lost, ingest has not rebuilt yet): 503 "no_picture", and
    # the page still keeps its picture rather than drawing an empty one.
    backend.start_redis(empty=True)
    eventually(lambda: same_page(browser)["reason"] == "no_picture", 10, "the poll answering 503 no_picture")
    time.sleep(1.5)
    empty = same_page(browser)
    assert empty["stale"], empty
    assert empty["kpi"] == ["5", "2", "1"] and empty["markers"] == 4 and empty["reported"] == "105", empty

    # Ingest fills it again, with newer figures: the page takes them by itself, no reload.
    backend.fill(open_cases=6, devices=3)
    eventually(lambda: same_page(browser)["kpi"] == ["6", "2", "1"], 10, "the new figures")
    eventually(lambda: not same_page(browser)["stale"], 5, "the data age back to normal")
    back = same_page(browser)
    assert back["navigation"] == "navigate", back
    assert back["reason"] is None and back["reported"] == "106", back
    eventually(lambda: page(browser)["markers"] == 3, 5, "the map replaced by the new whole picture")
    assert not back["fresh"].startswith("中断") and age_s(back["fresh"]) <= 5, back["fresh"]
    browser.save_screenshot(str(artifacts / "wall-backend-2-recovered.png"))


def test_first_load_while_redis_is_down_waits_for_data(backend: Backend, browser, artifacts: Path) -> None:
    backend.stop_redis()
    browser.get(backend.url + QUERY)
    eventually(lambda: page(browser).get("banner") == "等待数据…", 20, "the waiting banner")
    js(browser, "window.gwSameLoad = true;")
    eventually(lambda: same_page(browser)["probes"] >= 1, 10, "the watchdog probing")
    waiting = same_page(browser)
    # No dash pretends to be a number: the figures are hidden while the page waits.
    assert waiting["waiting"] and not waiting["kpi_seen"] and not waiting["tiles_seen"], waiting
    assert waiting["stale"] and waiting["fresh"] == "无数据", waiting
    browser.save_screenshot(str(artifacts / "wall-backend-3-waiting.png"))

    backend.start_redis()
    backend.fill(open_cases=5, devices=4)
    eventually(lambda: same_page(browser)["kpi"] == ["5", "2", "1"], 10, "the figures")
    shown = same_page(browser)
    assert shown["kpi_seen"] and shown["tiles_seen"] and shown["banner"] is None and not shown["waiting"], shown
    assert shown["reported"] == "105" and shown["markers"] == 4, shown
    eventually(lambda: not same_page(browser)["stale"], 5, "the data age fresh")
    browser.save_screenshot(str(artifacts / "wall-backend-4-first-picture.png"))


def test_a_redeploy_reloads_only_once_the_server_has_a_picture(backend: Backend, browser, monkeypatch) -> None:
    backend.fill(open_cases=5, devices=4)
    open_wall(browser, backend.url + QUERY)
    first_build = js(browser, "return gridwall.watchdog.build();")
    assert first_build == poll.PAGE_BUILD

    # The server is redeployed (another build) while its Redis is down: its 503s prove no
    # picture, so the page stays as it is, past the probe threshold.
    backend.stop_redis()
    monkeypatch.setattr(poll, "PAGE_BUILD", "0123456789ab")
    eventually(lambda: same_page(browser)["probes"] >= 1, 15, "the watchdog probing")
    assert same_page(browser)["kpi"] == ["5", "2", "1"]

    # Redis is back: the first usable answer names the new build, and the page reloads onto a
    # server that has its picture. The new page's very first poll is a picture.
    backend.start_redis()
    eventually(lambda: not page(browser).get("same_load", False) and page(browser).get("navigation") == "reload", 15,
               "the page reloading")
    eventually(lambda: page(browser).get("kpi") == ["5", "2", "1"], 10, "the reloaded page's figures")
    after = page(browser)
    assert after["failures"] == 0 and not after["waiting"], after
    assert js(browser, "return gridwall.watchdog.build();") == "0123456789ab"
