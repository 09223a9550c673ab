"""The live map in a real headless Chromium, against the Dash app served over HTTP and a real
Redis (and, for the pipeline test, a real broker and ingest worker): devices, cases and alerts
appear, move in place and leave; a case's light changes by the clock alone; layers, clusters and
the GCJ-02 shift follow the configuration; the map and its view are never reset."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import orjson
import pytest
from browser_support import js, requested_hosts
from helpers import case_event, eventually, gps, grant, publisher, report, running_ingest
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.geo import haversine_m, wgs84_to_gcj02
from dashboard.launcher import free_port
from dashboard.store.hot import DeviceFix, HotStore, connect
from feeds.steps.publish import Ticker

# Browser tests run on the embedded stack only: what they test is the page, and the payload's
# Redis side is tested on both stacks in tests/unit/test_live_payload.py.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]

# A 1×1 dark tile, for the tests that switch to intranet tiles.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
COLLECTOR, MUCK = "#35d0ff", "#e0a060"
GREEN, YELLOW, RED, GREY = "#52e07c", "#ffc53d", "#ff4d4f", "#8c8c8c"
PIN_BODY = -9  # a case pin's tip is on the spot; its colour is this many px above


@dataclass
class Wall:
    url: str
    settings: Settings
    hot: HotStore
    ticker: Ticker

    def publish(self, devices: Sequence[str] = (), cases: Sequence[str] = (), alerts: Sequence[str] = ()) -> int | None:
        self.ticker.note(devices, cases, alerts)
        return self.ticker.tick()

    def move(self, fixes: Sequence[tuple[str, float, float]], kind: str = "collector", subtype: str | None = None) -> None:
        now = time.time()
        docs = []
        for device_id, lat, lon in fixes:
            doc: dict[str, Any] = {"id": device_id, "kind": kind, "lat": lat, "lon": lon, "ts": now}
            if subtype:
                doc["subtype"] = subtype
            docs.append(DeviceFix(device_id, now, lat, lon, doc, trail=[(lon, lat, now)]))
        changed = self.hot.write_positions(docs)
        self.publish(devices=changed)


@pytest.fixture
def start_wall(stack, tmp_path: Path) -> Iterator[Callable[..., Wall]]:
    """Start the Dash app (create_app, as gunicorn loads it) on a free port, with settings."""
    servers: list[Any] = []
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request

    def start(**overrides: Any) -> Wall:
        settings = stack.settings(tmp_path / f"wall{len(servers)}", **overrides)
        grant(settings.resolved_database_url)  # the token the tests' browsers carry
        app = create_app(settings)
        app.server.add_url_rule("/tiles/<int:z>/<int:x>/<int:y>.png", "test_tiles",
                                lambda z, x, y: flask.Response(TILE_PNG, mimetype="image/png"))
        server = make_server("127.0.0.1", free_port(), app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        hot = HotStore(connect(settings.resolved_redis_url))
        return Wall(f"http://127.0.0.1:{server.server_port}/", settings, hot, Ticker(hot, settings.tick_s))

    yield start
    for server in servers:
        server.shutdown()


def open_wall(browser: Any, wall: Wall) -> None:
    wall.publish()  # ingest's tick: the KPI snapshot (until there is one the poll answers 503 no_picture)
    browser.get(wall.url)
    eventually(lambda: js(browser, "var g = window.gridwall; return !!(g && g.map.instance && g.live.frames > 0"
                                   " && g.live.version !== null);"), 30, "the map drawn and a first update applied")


def view(browser: Any) -> list[float]:
    return js(browser, "var m = gridwall.map.instance, c = m.getCenter(); return [c.lat, c.lng, m.getZoom()];")


def stats(browser: Any) -> dict[str, Any]:
    return js(browser, "return Object.assign({clustered: gridwall.live.clustered, version: gridwall.live.version,"
                       " fulls: gridwall.live.fulls}, gridwall.live.stats);")


def pixel(browser: Any, lat: float, lon: float, dy: float = 0, raw: bool = False) -> list[int] | None:
    return js(browser, "return gridwall.live.pixelAt(arguments[0], arguments[1], 0, arguments[2], arguments[3]);",
              lat, lon, dy, raw)


def looks(rgba: list[int] | None, color: str, tol: int = 40) -> bool:
    if not rgba or rgba[3] < 200:
        return False
    want = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return all(abs(a - b) <= tol for a, b in zip(rgba[:3], want, strict=True))


def empty(rgba: list[int] | None) -> bool:
    return rgba is not None and rgba[3] == 0


def no_console_errors(browser: Any) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def case_doc(case_id: str, lat: float, lon: float, **fields: Any) -> dict[str, Any]:
    return {"case_id": case_id, "open": True, "state": "dispatched", "lat": lat, "lon": lon, "due": None,
            "warn_at": None, "suspended": False, **fields}


def alert_message(alert_id: str, state: str, lat: float, lon: float, severity: str = "alert") -> tuple[str, bytes]:
    body = {"alert_id": alert_id, "camera_id": "CAM001", "type": "占道经营", "state": state, "start": time.time() - 5,
            "lat": lat, "lon": lon, "severity": severity}
    if state == "end":
        body["end"] = time.time()
    return "gridwall/video/CAM001", orjson.dumps(body)


# --- (a) + (c): objects from the real pipeline appear, and leave ------------------------------------

def test_pipeline_objects_appear_and_ended_ones_leave(start_wall, browser, artifacts: Path):
    wall = start_wall()
    open_wall(browser, wall)
    with running_ingest(wall.settings), publisher(wall.settings) as pub:
        t0 = time.time()
        pub.publish(*gps("C1", 30.2700, 120.1500), qos=1)
        pub.publish(*gps("V1", 30.2750, 120.1700, kind="vehicle", subtype="muck_truck"), qos=1)
        topic, body = report("K1", t0 - 60, lat=30.2650, lon=120.1600)
        pub.publish(topic, body, qos=1)
        pub.publish(*alert_message("A1", "new", 30.2800, 120.1550, severity="critical"), qos=1)

        def arrived() -> Any:
            return js(browser, "var l = gridwall.live; return l.markers.has('C1') && l.markers.has('V1') && l.cases.has('K1')"
                               " && !!document.querySelector('.gw-alert[data-alert-id=\"A1\"]');")

        eventually(arrived, 20, "collector, truck, case and alert on the map")
        eventually(lambda: looks(pixel(browser, 30.2700, 120.1500), COLLECTOR), 5, "the collector drawn in its colour")
        assert looks(pixel(browser, 30.2750, 120.1700), MUCK), "the muck truck in its colour"
        assert looks(pixel(browser, 30.2650, 120.1600, PIN_BODY), GREEN), "a reported case, not yet on a clock: green"
        alert = browser.find_element("css selector", ".gw-alert[data-alert-id='A1']")
        assert "gw-alert-critical" in alert.get_attribute("class")
        assert js(browser, "return getComputedStyle(arguments[0].querySelector('.gw-alert-dot')).animationName;", alert) == "gw-alert-flash"

        # A second fix: the collector moves in place and leaves a trail.
        pub.publish(*gps("C1", 30.2710, 120.1520), qos=1)
        eventually(lambda: looks(pixel(browser, 30.2710, 120.1520), COLLECTOR), 10, "the collector at its new place")
        assert js(browser, "return gridwall.live.markers.get('C1').tn;") >= 2
        assert stats(browser)["trails"] >= 1
        # Boundaries: the districts, and the unit grids from zoom 14 on (the default).
        eventually(lambda: js(browser, "var o = gridwall.map.overlays, m = gridwall.map.instance;"
                                       " return !!(o.districts && o.grids && m.hasLayer(o.districts) && m.hasLayer(o.grids))"
                                       " && o.grids.getLayers().length;") == 4988, 30, "districts and 4,988 grids drawn")
        browser.save_screenshot(str(artifacts / "wall-map-objects.png"))

        # A page loaded now gets the full picture, trails included.
        browser.get(wall.url)
        open_wall(browser, wall)
        eventually(lambda: js(browser, "var c = gridwall.live.markers.get('C1'); return !!c && c.tn >= 2"
                                       " && gridwall.live.cases.has('K1') && gridwall.live.alerts.has('A1');"),
                   10, "everything, and the collector's trail, right after a page load")
        assert stats(browser)["fulls"] >= 1

        # The alert ends; the case closes.
        pub.publish(*alert_message("A1", "end", 30.2800, 120.1550), qos=1)
        eventually(lambda: js(browser, "return !gridwall.live.alerts.has('A1') && !document.querySelector('.gw-alert');"),
                   10, "the ended alert gone from the map")
    wall.hot.put_cases([{**case_doc("K1", 30.2650, 120.1600), "open": False}])
    wall.publish(cases=["K1"])
    eventually(lambda: js(browser, "return !gridwall.live.cases.has('K1');"), 10, "the closed case gone")
    eventually(lambda: empty(pixel(browser, 30.2650, 120.1600, PIN_BODY)), 5, "nothing drawn where the case was")
    assert js(browser, "return gridwall.live.markers.has('C1');"), "devices stay"
    assert requested_hosts(browser) <= {"127.0.0.1", "localhost"}
    no_console_errors(browser)


# --- (b): the overdue light changes by the clock alone -------------------------------------------

def test_case_turns_yellow_then_red_by_the_clock_alone(start_wall, browser):
    wall = start_wall()
    now = time.time()
    due = now + 9
    wall.hot.put_cases([
        case_doc("K-clock", 30.2650, 120.1600, due=due, warn_at=now + 5),
        case_doc("K-late", 30.2680, 120.1450, due=now - 60, warn_at=now - 600),
        case_doc("K-paused", 30.2620, 120.1750, suspended=True),
    ])
    wall.publish(cases=["K-clock", "K-late", "K-paused"])
    open_wall(browser, wall)
    eventually(lambda: js(browser, "return gridwall.live.cases.size;") == 3, 10, "three cases")
    version = stats(browser)["version"]
    light = lambda cid: js(browser, "return gridwall.live.caseLight(arguments[0]);", cid)  # noqa: E731
    assert light("K-clock") == "green" and looks(pixel(browser, 30.2650, 120.1600, PIN_BODY), GREEN)
    assert light("K-late") == "red" and looks(pixel(browser, 30.2680, 120.1450, PIN_BODY), RED)
    assert light("K-paused") == "grey" and looks(pixel(browser, 30.2620, 120.1750, PIN_BODY), GREY)
    eventually(lambda: looks(pixel(browser, 30.2650, 120.1600, PIN_BODY), YELLOW), 10, "yellow once warn_at passed")
    eventually(lambda: looks(pixel(browser, 30.2650, 120.1600, PIN_BODY), RED), 15, "red once due passed")
    late_by = time.time() - due
    assert late_by <= 2.0, f"turned red {late_by:.1f} s after its due time"
    assert stats(browser)["version"] == version, "no new message was needed"
    no_console_errors(browser)


# --- (d): updates move things in place; the map and its view stay ------------------------------

def test_updates_never_recreate_the_map_or_move_the_view(start_wall, browser):
    wall = start_wall()
    ids = [f"D{i:02d}" for i in range(30)]
    wall.move([(d, 30.26 + i * 0.001, 120.15 + i * 0.001) for i, d in enumerate(ids)])
    open_wall(browser, wall)
    eventually(lambda: js(browser, "return gridwall.live.markers.size;") == 30, 10, "30 devices")
    js(browser, "document.querySelector('#gw-map').dataset.probe = 'same-node';"
                "gridwall.live.markers.get('D00').probe = 'same-object';")
    before = view(browser)
    for step in range(1, 4):
        wall.move([(d, 30.26 + i * 0.001 + step * 0.0005, 120.15 + i * 0.001) for i, d in enumerate(ids)])
        time.sleep(1.2)
    eventually(lambda: abs(js(browser, "return gridwall.live.markers.get('D00').lat;") - 30.2615) < 1e-9, 10, "moved")
    # Fall behind by more than MAX_DELTAS versions: the next poll brings the whole picture.
    fulls = stats(browser)["fulls"]
    for _ in range(25):
        wall.move([("D00", 30.2620, 120.1500)])
    eventually(lambda: stats(browser)["fulls"] > fulls, 10, "a full picture instead of a backlog")
    assert js(browser, "return gridwall.live.markers.get('D00').lat;") == 30.2620
    assert js(browser, "return document.querySelector('#gw-map').dataset.probe;") == "same-node"
    assert js(browser, "return gridwall.live.markers.get('D00').probe;") == "same-object", "moved in place"
    assert js(browser, "return document.querySelectorAll('.leaflet-container').length;") == 1
    assert view(browser) == before
    no_console_errors(browser)


# --- (e): layer toggles from the configuration ------------------------------------------------

def test_layers_switched_off_in_the_configuration_are_not_drawn(start_wall, browser):
    wall = start_wall(map_layers="districts,cases,collectors", map_grids_min_zoom=0)
    wall.move([("C1", 30.2700, 120.1500)])
    wall.move([("C1", 30.2705, 120.1505)])
    wall.move([("V1", 30.2750, 120.1700)], kind="vehicle", subtype="muck_truck")
    wall.hot.put_cases([case_doc("K1", 30.2650, 120.1600)])
    wall.hot.put_alerts([{"alert_id": "A1", "camera_id": "CAM001", "type": "占道经营", "state": "new",
                          "severity": "alert", "start": time.time(), "lat": 30.28, "lon": 120.155}])
    wall.publish(cases=["K1"], alerts=["A1"])
    open_wall(browser, wall)
    eventually(lambda: js(browser, "return !!gridwall.map.overlays.districts;"), 20, "the districts layer")
    time.sleep(1)  # the grid file would have been loaded by now too
    s = stats(browser)
    assert (s["devices"], s["cases"], s["trails"], s["alerts"]) == (1, 1, 0, 0), s
    assert looks(pixel(browser, 30.2705, 120.1505), COLLECTOR)
    assert empty(pixel(browser, 30.2750, 120.1700)), "vehicles are switched off"
    assert js(browser, "return gridwall.live.alerts.size;") == 1, "the alert is known ..."
    assert js(browser, "return document.querySelectorAll('.gw-alert').length;") == 0, "... but not drawn"
    assert js(browser, "return gridwall.map.overlays.grids;") is None
    no_console_errors(browser)


# --- (f): clusters past the configured count -----------------------------------------------------

def test_clusters_above_the_configured_count(start_wall, browser):
    wall = start_wall(map_cluster_above=50, map_grids_min_zoom=16)
    wall.move([(f"A{i:02d}", 30.255 + (i % 8) * 0.004, 120.13 + (i // 8) * 0.01) for i in range(40)])
    open_wall(browser, wall)
    eventually(lambda: stats(browser)["devices"] == 40, 10, "40 devices one by one")
    assert stats(browser)["clustered"] is False
    js(browser, "document.querySelector('#gw-map').dataset.probe = 'same-node';")
    before = view(browser)
    # 40 more, packed into a few blocks: past 50 objects the map shows clusters.
    wall.move([(f"B{i:02d}", 30.270 + (i % 4) * 0.0002, 120.160 + (i // 4) * 0.0002) for i in range(40)])
    eventually(lambda: stats(browser)["clustered"], 10, "clustered")
    s = stats(browser)
    assert s["clusters"] >= 1 and s["devices"] + s["clusters"] < 80 and s["trails"] == 0, s
    assert js(browser, "return gridwall.live.markers.size;") == 80
    grids_shown = "var o = gridwall.map.overlays; return !!o.grids && gridwall.map.instance.hasLayer(o.grids);"
    eventually(lambda: js(browser, "return !!gridwall.map.overlays.grids;"), 20, "the grid layer loaded")
    assert js(browser, grids_shown) is False, "unit grids only from zoom 16 (this wall's setting)"
    # Zooming in re-aggregates at the new zoom: more, smaller clusters or single points.
    js(browser, "gridwall.map.instance.setZoom(19, {animate: false});")
    eventually(lambda: stats(browser)["groups"] > s["groups"], 10, "clusters split on zoom in")
    assert js(browser, grids_shown) is True
    js(browser, "gridwall.map.instance.setView(arguments[0], arguments[1], {animate: false});", before[:2], before[2])
    assert js(browser, "return document.querySelector('#gw-map').dataset.probe;") == "same-node"
    no_console_errors(browser)


# --- (g): GCJ-02 tiles: everything is shifted, and the JS transform matches dashboard/geo.py -----------

POINTS = [(30.2700, 120.1600), (39.9087, 116.3975), (22.5431, 114.0579), (43.8256, 87.6168), (31.2304, 121.4737),
          (48.8566, 2.3522)]  # the last one is outside China: not shifted


def test_gcj02_tiles_shift_everything_by_the_same_transform(start_wall, browser):
    wall = start_wall(tile_url="/tiles/{z}/{x}/{y}.png", tile_crs="gcj02")
    wall.move([("C1", 30.2700, 120.1500)])
    wall.hot.put_alerts([{"alert_id": "A1", "camera_id": "CAM001", "type": "占道经营", "state": "new",
                          "severity": "alert", "start": time.time(), "lat": 30.28, "lon": 120.155}])
    wall.publish(alerts=["A1"])
    open_wall(browser, wall)
    got = js(browser, "return arguments[0].map(function (p) { return gridwall.geo.wgs84ToGcj02(p[0], p[1]); });",
             [list(p) for p in POINTS])
    for (lat, lon), (jlat, jlon) in zip(POINTS, got, strict=True):
        plat, plon = wgs84_to_gcj02(lat, lon)
        assert haversine_m(plat, plon, jlat, jlon) < 0.5, (lat, lon)
    assert got[-1] == list(POINTS[-1])
    assert haversine_m(*POINTS[0], *got[0]) > 100, "the shift is real here (hundreds of metres)"

    glat, glon = wgs84_to_gcj02(30.2700, 120.1500)
    eventually(lambda: looks(pixel(browser, glat, glon, raw=True), COLLECTOR), 10, "the collector at its GCJ-02 place")
    assert empty(pixel(browser, 30.2700, 120.1500, raw=True)), "nothing at the unshifted place"
    alat, alon = js(browser, "var ll = gridwall.live.alerts.get('A1').marker.getLatLng(); return [ll.lat, ll.lng];")
    assert haversine_m(alat, alon, *wgs84_to_gcj02(30.28, 120.155)) < 0.5
    districts = orjson.loads((wall.settings.city_dir / "districts.json").read_bytes())
    lon0, lat0 = districts["features"][0]["geometry"]["coordinates"][0][0]
    eventually(lambda: js(browser, "return !!gridwall.map.overlays.districts;"), 20, "the districts layer")
    dlat, dlon = js(browser, "var ll = gridwall.map.overlays.districts.getLayers()[0].getLatLngs()[0][0]; return [ll.lat, ll.lng];")
    assert haversine_m(dlat, dlon, *wgs84_to_gcj02(lat0, lon0)) < 0.5
    assert js(browser, "return document.querySelectorAll('.leaflet-tile').length;") > 0, "the intranet tiles"
    assert requested_hosts(browser) <= {"127.0.0.1", "localhost"}
    no_console_errors(browser)


def test_case_events_through_the_pipeline_keep_the_light(start_wall, browser):
    """A dispatched case gets its deadline from the city's rules: the map shows the same light the
    counters compute (here: on time, green), through the delta the tick cuts for it."""
    wall = start_wall()
    open_wall(browser, wall)
    with running_ingest(wall.settings), publisher(wall.settings) as pub:
        t0 = time.time() - 600
        for topic, body in [report("K9", t0, lat=30.2650, lon=120.1600),
                            case_event("K9", "accept", "K9-accept", t0 + 60),
                            case_event("K9", "file", "K9-file", t0 + 120),
                            case_event("K9", "dispatch", "K9-dispatch", t0 + 180, department="环卫处")]:
            pub.publish(topic, body, qos=1)
        eventually(lambda: js(browser, "var c = gridwall.live.cases.get('K9'); return !!c && c.due !== null;"), 20,
                   "the dispatched case with its deadline")
    doc = orjson.loads(wall.hot.r.hget("{gw}:case", "K9"))
    assert js(browser, "return gridwall.live.cases.get('K9').due;") == doc["due"]
    expected = "red" if time.time() > doc["due"] else "yellow" if time.time() >= doc["warn_at"] else "green"
    assert js(browser, "return gridwall.live.caseLight('K9');") == expected
    no_console_errors(browser)
