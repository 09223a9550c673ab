"""The supervision on real Redis and SQL (both stacks): vehicle fixes through the whole pipeline
raise alarms that start once, end once with their duration, land in the alert table and the live
alerts (the wall's ticker and map, the desk's list read those), and are counted once; two ingest
workers given fixes of one device raise its alarm once; a batch whose store failed raises its
alarms when it is tried again; a device on duty that goes silent is told of by the sweep.
docs/supervision.md."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import gps
from sqlalchemy import select

from dashboard.store import db
from dashboard.store.alarm_counts import alarm_counts
from dashboard.store.hot import HotStore, connect
from dashboard.store.models import AlertRow
from dashboard.store.watch_state import WatchStates
from dashboard.supervision_config import load_supervision
from feeds.ingest import build_pipeline
from feeds.pipeline import Message

ZONE = "Asia/Shanghai"
M = 1 / 111_195.0
CENTRE = (30.269776, 120.160027)


def msg(tb: tuple[str, bytes]) -> Message:
    return Message(tb[0], tb[1], time.time(), 1)


def truck(device: str, ts: float, speed: float, lat: float = 30.26, lon: float = 120.15, subtype: str = "muck_truck"):
    return msg(gps(device, lat, lon, ts, kind="vehicle", subtype=subtype, speed=speed, department="HWC"))


def rows(engine) -> list[AlertRow]:
    with engine.connect() as conn:
        return list(conn.execute(select(AlertRow).where(AlertRow.rule.is_not(None)).order_by(AlertRow.start)))


@pytest.fixture
def parts(settings):
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    yield engine, hot
    engine.dispose()


def sup(tmp_path: Path, **section):
    return load_supervision(section, base_dir=tmp_path, centre=CENTRE)


def test_an_overspeed_starts_once_ends_once_and_is_counted_once(settings, parts, tmp_path):
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    t0 = time.time() - 120
    track = [truck("M001", t0 + i * 5, 70 if i < 5 else 30) for i in range(8)]  # 50 km/h limit, over for 20 s
    first = pipeline.handle(track[:4])
    assert first.alerts_changed and first.accepted["video"] == 0  # an alarm is not a video alert
    [row] = rows(engine)
    assert (row.rule, row.state, row.camera_id, row.type, row.device_type, row.department, row.source) == \
        ("overspeed", "new", "M001", "超速", "muck_truck", "HWC", "rule")
    assert row.start.timestamp() == pytest.approx(t0)
    active = [a for a in hot.active_alerts() if a.get("rule") == "overspeed"]
    assert [a["alert_id"] for a in active] == [row.alert_id]
    pipeline.handle(track[4:])
    [row] = rows(engine)
    assert row.state == "end" and (row.end - row.start).total_seconds() == pytest.approx(25)
    assert not [a for a in hot.active_alerts() if a.get("rule")]
    assert row.alert_id in [a["alert_id"] for a in hot.recent_alerts()]  # the ticker tells its end
    # The whole track again (a redelivery): nothing new, still one alarm.
    pipeline.handle(track)
    assert len(rows(engine)) == 1
    day = datetime.fromtimestamp(t0, ZoneInfo(ZONE)).date()
    assert alarm_counts(engine, day, day, ZONE) == {(day, "overspeed", "muck_truck", "HWC"): 1}


def test_two_workers_given_one_device_s_fixes_raise_its_alarm_once(settings, parts, tmp_path):
    engine, hot = parts
    a = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    b = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    t0 = time.time() - 300
    track = [truck("M002", t0 + i * 5, 80 if i < 10 else 20) for i in range(14)]
    for i, m in enumerate(track):  # a shared subscription deals them out by turns
        (a if i % 2 == 0 else b).handle([m])
    [row] = rows(engine)
    assert row.state == "end" and row.start.timestamp() == pytest.approx(t0)
    assert (row.end - row.start).total_seconds() == pytest.approx(50)


def test_a_worker_that_lost_the_race_runs_the_device_again_on_the_newer_state(settings, parts):
    _, hot = parts
    states = WatchStates(hot.r)
    assert states.write({"D": (None, {"ts": 1.0}, None)}) == set()
    seen = states.read(["D"])["D"]
    assert states.write({"D": (seen, {"ts": 2.0}, None)}) == set()
    assert states.write({"D": (seen, {"ts": 3.0}, None)}) == {"D"}  # written since: refused
    assert states.read(["D"])["D"]["ts"] == 2.0
    assert states.write({"D": (None, {"ts": 4.0}, None)}) == {"D"}  # "never watched" is stale too
    # A document whose version went (a hand-cleaned Redis): read as unversioned, and written over.
    hot.r.hdel("{gw}:watch:v", "D")
    again = states.read(["D"])["D"]
    assert "v" not in again and states.write({"D": (again, {"ts": 5.0}, None)}) == set()
    assert states.read(["D"])["D"]["ts"] == 5.0


def test_a_batch_whose_store_failed_raises_its_alarms_when_tried_again(settings, parts, tmp_path):
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    t0 = time.time() - 120
    batch = [truck("M003", t0 + i * 5, 90) for i in range(4)]
    real = pipeline.history.write

    def down(**_kw):
        raise ConnectionError("database down")

    pipeline.history.write = down
    with pytest.raises(ConnectionError):
        pipeline.handle(batch)
    pipeline.history.write = real
    pipeline.handle(batch)  # the retry: its fixes are in the watch state already
    [row] = rows(engine)
    assert row.rule == "overspeed" and row.state == "new"


def test_a_forbidden_zone_from_a_geojson_file(settings, parts, tmp_path):
    engine, hot = parts
    lat0, lon0, half = 30.27, 120.16, 200
    dlon = half * M / math.cos(math.radians(lat0))
    ring = [[lon0 - dlon, lat0 - half * M], [lon0 + dlon, lat0 - half * M], [lon0 + dlon, lat0 + half * M],
            [lon0 - dlon, lat0 + half * M], [lon0 - dlon, lat0 - half * M]]
    (tmp_path / "zones.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "old-town", "subtypes": ["muck_truck"]},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path, zones="zones.geojson"))
    t0 = time.time() - 600
    north = lat0 + half * M
    # In; then along the edge, 5 m in and 10 m out by turns (GPS jitter); then well out.
    lats = [lat0, *[north + (10 if i % 2 else -5) * M for i in range(8)], north + 100 * M]
    pipeline.handle([truck("M004", t0 + i * 10, 20, lat=la, lon=lon0) for i, la in enumerate(lats)])
    # An enforcement car there is not a muck truck: no alarm.
    pipeline.handle([truck("E004", t0 + i * 10, 20, lat=lat0, lon=lon0, subtype="enforcement") for i in range(3)])
    [row] = rows(engine)
    assert (row.rule, row.alarm_key, row.state, row.type) == ("zone", "old-town", "end", "进入禁行区域")
    assert (row.end - row.start).total_seconds() == pytest.approx(90)


def test_a_device_on_duty_that_goes_silent_is_told_of_by_the_sweep(settings, parts, tmp_path):
    engine, hot = parts
    section = {"vehicle": {"offline_after_s": 2, "duty_hours": []}}  # on duty around the clock
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path, **section))
    now = time.time()
    pipeline.handle([truck("E005", now - 1, 20, subtype="enforcement")])
    assert pipeline.sweep(now).alerts_changed is False  # not silent yet
    result = pipeline.sweep(now + 3)
    assert result.alerts_changed
    [row] = rows(engine)
    assert (row.rule, row.state, row.camera_id) == ("offline", "new", "E005")
    assert row.start.timestamp() == pytest.approx(now - 1)
    assert not pipeline.sweep(now + 10).alerts_changed  # told once
    pipeline.handle([truck("E005", now + 20, 20, subtype="enforcement")])
    [row] = rows(engine)
    assert row.state == "end" and (row.end - row.start).total_seconds() == pytest.approx(21)


def test_history_sent_late_does_not_ring_offline(settings, parts, tmp_path):
    engine, hot = parts
    section = {"vehicle": {"offline_after_s": 60, "duty_hours": []}}
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path, **section))
    now = time.time()
    pipeline.handle([truck("E006", now - 3600, 20, subtype="enforcement")])  # an hour-old buffer
    assert not pipeline.sweep(now + 1).alerts_changed and rows(engine) == []


# --- collectors -----------------------------------------------------------------------------------

def walker(device: str, ts: float, lat: float, lon: float, status: str = "patrol") -> Message:
    return msg(gps(device, lat, lon, ts, kind="collector", department="JDZX", status=status))


@pytest.fixture
def grids(settings):
    """Two grids of the demo city a few hundred metres apart, and a point in each."""
    from dashboard.casedata import load_grid_index

    index = load_grid_index(settings.city_dir / "grids.json")
    home = (30.2700, 120.1600)
    away = (30.2750, 120.1650)
    return index.lookup(home[1], home[0]), home, index.lookup(away[1], away[0]), away


def collectors_sup(tmp_path: Path, home_grid: str, **collector):
    from dashboard.casework.workcalendar import WorkCalendar

    section = {"collector": {"duty_hours": ["00:00-24:00"], **collector}}  # on duty whenever the test runs
    return load_supervision(section, base_dir=tmp_path, centre=CENTRE, calendar=WorkCalendar(weekend=()),
                            grid_collectors={home_grid: ["C901"]})


def test_a_collector_out_of_its_grids_and_its_day(settings, parts, tmp_path, grids):
    engine, hot = parts
    home_grid, home, away_grid, away = grids
    assert home_grid and away_grid and home_grid != away_grid
    pipeline = build_pipeline(settings, engine, hot, supervision=collectors_sup(tmp_path, home_grid, out_of_area_s=60))
    t0 = time.time() - 600
    track = [walker("C901", t0 + k * 30, *home) for k in range(4)]  # 90 s at home
    track += [walker("C901", t0 + 120 + k * 30, *away) for k in range(4)]  # 90 s away: > 60 s
    track += [walker("C901", t0 + 240, *home)]
    pipeline.handle(track)
    [row] = rows(engine)
    assert (row.rule, row.state, row.type, row.device_type, row.department) == \
        ("out_of_area", "end", "离开责任网格", "collector", "JDZX")
    assert (row.end - row.start).total_seconds() == pytest.approx(120)
    day = datetime.fromtimestamp(t0, ZoneInfo(ZONE)).date().isoformat()
    figures = hot.watch_states().duty_day(day)["C901"]
    assert figures.in_area_s == pytest.approx(120)  # the four 30 s stretches that began at home
    assert figures.grids == {home_grid, away_grid}
    assert figures.metres > 500


def test_a_collector_signed_off_is_not_offline(settings, parts, tmp_path, grids):
    engine, hot = parts
    home_grid, home, _, _ = grids
    pipeline = build_pipeline(settings, engine, hot, supervision=collectors_sup(tmp_path, home_grid, offline_after_s=2))
    now = time.time()
    pipeline.handle([walker("C901", now - 1, *home), walker("C902", now - 1, *home, status="off_duty")])
    pipeline.sweep(now + 3)
    assert [(r.rule, r.camera_id) for r in rows(engine)] == [("offline", "C901")]


def test_a_collector_still_at_a_task_s_place_is_not_idle(settings, parts, tmp_path, grids):
    """Two collectors stand still for 3 minutes (idle after 60 s). The desk sent C901 to the spot
    (its place in Redis, read by the watch step's sweep): only C902 is idle."""
    engine, hot = parts
    home_grid, home, _, _ = grids
    pipeline = build_pipeline(settings, engine, hot, supervision=collectors_sup(tmp_path, home_grid, idle_s=60))
    t0 = time.time() - 300
    hot.watch_states().add_task_place("C901", "desk-t1", home[0] + 0.0002, home[1], t0 - 10)  # ~22 m away
    pipeline.sweep(t0)  # the watch step reads the task places each sweep
    pipeline.handle([walker(d, t0 + k * 30, *home) for k in range(7) for d in ("C901", "C902")])
    assert [(r.rule, r.camera_id, r.state) for r in rows(engine)] == [("idle", "C902", "new")]
    # The place stops counting after task_place_s (7,200 s [D]): pruned from Redis at the sweep.
    assert hot.watch_states().task_places(t0 + 7200, 7200) == {}


def test_the_desk_s_collector_board_masks_names_for_a_masked_role(settings, parts, tmp_path, grids):
    from types import SimpleNamespace

    from dashboard.access.masking import Masking
    from dashboard.access.scope import CITY_SCOPE
    from dashboard.desk_api import collectors_answer
    from dashboard.screens.names import load_names
    from dashboard.store.alarm_counts import alarms_by_device
    from dashboard.supervision_config import from_settings

    engine, hot = parts
    home_grid, home, _away_grid, away = grids
    pipeline = build_pipeline(settings, engine, hot,
                              supervision=collectors_sup(tmp_path, home_grid, out_of_area_s=60, idle_s=60))
    now = time.time()
    track = [msg(gps("C901", *(home if k < 3 else away), now - 300 + k * 30, kind="collector", department="HWC",
                     name="张三丰", status="patrol")) for k in range(8)]
    pipeline.handle(track)
    day = datetime.fromtimestamp(now, ZoneInfo(ZONE)).date()
    assert alarms_by_device(engine, day, day, ZONE, "collector")["C901"] >= 1  # out of its grids
    who = SimpleNamespace(scope=CITY_SCOPE)
    board_sup, names = from_settings(settings), load_names(settings.city_dir)
    plain = collectors_answer(engine, settings, hot, who, Masking.none(), now, board_sup, names)
    [team] = plain["teams"]
    [member] = team["members"]
    assert (team["code"], member["id"], member["name"], member["alarms"]) == ("HWC", "C901", "张三丰", member["alarms"])
    assert member["alarms"] >= 1 and member["km"] != "0.0"
    summary = plain["alarms"]  # today's alarms per rule and device type
    assert summary["types"] == ["collector"] and summary["total"] == member["alarms"]
    assert {r["rule"]: r["counts"] for r in summary["rows"]}["out_of_area"] == [1]
    masked = collectors_answer(engine, settings, hot, who, Masking.on(b"k" * 32), now, board_sup, names)
    shown = masked["teams"][0]["members"][0]
    assert shown["name"] == "张*" and shown["id"] != "C901" and "张三丰" not in str(masked)


# --- Traccar's own events -----------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clients"


def traccar_event(name: str, ts: float, **event: object) -> Message:
    """A real forward payload (tests/fixtures/clients), its times moved to ``ts``."""
    import orjson

    doc = orjson.loads((FIXTURES / name).read_bytes())
    iso = datetime.fromtimestamp(ts, ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    doc["event"].update({"eventTime": iso, **event})
    doc["position"].update({"fixTime": iso, "deviceTime": iso, "serverTime": iso, "latitude": 30.26, "longitude": 120.15})
    return Message("traccar/events", orjson.dumps(doc), time.time(), 1)


def test_traccar_s_events_become_alarms_with_one_lifecycle(settings, parts, tmp_path):
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    now = time.time()
    enter = traccar_event("traccar_event_geofence_enter.json", now - 120)
    pipeline.handle([enter])
    pipeline.handle([enter])  # redelivered: still one alarm
    pipeline.handle([traccar_event("traccar_event_geofence_enter.json", now - 60, type="geofenceExit")])
    pipeline.handle([traccar_event("traccar_event_alarm_sos.json", now - 30)])
    got = {(r.rule, r.alarm_key): r for r in rows(engine)}
    assert set(got) == {("zone", "3"), ("device_alarm", "sos")}
    zone, sos = got[("zone", "3")], got[("device_alarm", "sos")]
    assert (zone.state, zone.source, zone.camera_id) == ("end", "traccar", "traccar:123456789012345")
    assert (zone.end - zone.start).total_seconds() == pytest.approx(60)
    assert (sos.state, sos.severity, sos.type) == ("new", "critical", "设备报警")  # waits for a person on the desk
    assert [a["alert_id"] for a in hot.active_alerts() if a.get("rule")] == [sos.alert_id]


def traccar_position(ts: float) -> Message:
    """Traccar's position forward (tests/fixtures/clients), at ``ts``, in the demo city."""
    import orjson

    doc = orjson.loads((FIXTURES / "traccar_position_forward.json").read_bytes())
    iso = datetime.fromtimestamp(ts, ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    doc["position"].update({"fixTime": iso, "deviceTime": iso, "serverTime": iso, "latitude": 30.26, "longitude": 120.15})
    return Message("traccar/positions", orjson.dumps(doc), time.time(), 0)


def test_the_ignition_a_traccar_event_said_stays_until_another_says_otherwise(settings, parts, tmp_path):
    """ignitionOn is the device's state: the next fix, which says nothing of the ignition, keeps
    it; ignitionOff changes it (dashboard/store/hot.py)."""
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot, supervision=sup(tmp_path))
    device = "traccar:123456789012345"
    now = time.time()

    def doc() -> dict:
        [found] = [d for d in map(json.loads, hot.devices_raw()) if d["id"] == device]
        return found

    def ignition() -> object:
        return doc().get("ignition")

    pipeline.handle([traccar_position(now - 150)])
    assert ignition() is None
    pipeline.handle([traccar_event("traccar_event_ignition_on.json", now - 120)])
    assert ignition() is True
    pipeline.handle([traccar_position(now - 60)])
    assert doc()["ts"] == pytest.approx(now - 60, abs=1) and ignition() is True  # a newer fix, the same ignition
    pipeline.handle([traccar_event("traccar_event_ignition_on.json", now - 30, type="ignitionOff")])
    assert ignition() is False
    pipeline.handle([traccar_position(now - 10)])
    assert doc()["ts"] == pytest.approx(now - 10, abs=1) and ignition() is False
