"""Real clients' payloads (tests/fixtures/clients, copied from their public docs) decode into the
project's records with the right units and times."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import orjson
import pytest

from dashboard.records import Alert, CaseEvent, DeviceAlarm, DeviceStatus, Position
from feeds.decoders import (
    CameraInfo,
    DecodeContext,
    DeviceInfo,
    ServiceCategory,
    frigate,
    open311,
    osmand,
    owntracks,
    traccar,
)
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


# --- OwnTracks -------------------------------------------------------------------------------


def test_owntracks_location_fixture(client_payload, ctx):
    (pos,) = owntracks.decode("owntracks/alice/phone", client_payload("owntracks_location.json"), ctx)
    assert pos == Position(
        device_id="owntracks:alice/phone",
        kind="collector",
        lat=48.856826,
        lon=2.292713,
        ts=1706856298.0,  # tst, not created_at (1706856299)
        speed=0.0,
        battery=53.0,
        name="j1",  # the tracker id, for want of a configured name
        source="owntracks",
    )


def test_owntracks_old_app_sends_numbers_as_strings(ctx):
    payload = orjson.dumps(
        {"_type": "location", "lat": "31.2304", "lon": "121.4737", "tst": "1716215395",
         "vel": "36", "cog": "270", "acc": "12", "batt": "88", "tid": "zs"}
    )  # fmt: skip
    (pos,) = owntracks.decode("owntracks/zhang/android", payload, ctx)
    assert (pos.lat, pos.lon, pos.ts) == (31.2304, 121.4737, 1716215395.0)
    assert (pos.speed, pos.heading, pos.accuracy, pos.battery) == (36.0, 270.0, 12.0, 88.0)


def test_owntracks_invalid_course_and_speed_become_unknown(ctx):
    payload = b'{"_type":"location","lat":31.2,"lon":121.4,"tst":1716215395,"vel":-1,"cog":-1,"acc":-1}'
    (pos,) = owntracks.decode("owntracks/zhang/iphone", payload, ctx)
    assert (pos.speed, pos.heading, pos.accuracy) == (None, None, None)


def test_owntracks_device_map_sets_kind_subtype_department(ctx):
    ctx = DecodeContext(
        now=ctx.now,
        devices={"owntracks:li/van": DeviceInfo(kind="vehicle", subtype="enforcement", department="执法一队",
                                                 name="执法车 3")},
    )  # fmt: skip
    (pos,) = owntracks.decode("owntracks/li/van", b'{"_type":"location","lat":31.2,"lon":121.4,"tst":1}', ctx)
    assert (pos.kind, pos.subtype, pos.department, pos.name) == ("vehicle", "enforcement", "执法一队", "执法车 3")


def test_owntracks_lwt_means_offline_now_not_at_first_connect(client_payload, ctx):
    (status,) = owntracks.decode("owntracks/alice/phone", client_payload("owntracks_lwt.json"), ctx)
    assert status == DeviceStatus(
        device_id="owntracks:alice/phone", online=False, ts=ctx.now, kind="collector", source="owntracks"
    )
    assert status.ts != 1380738247  # the lwt's tst is when the app first connected


@pytest.mark.parametrize("msg_type", ["transition", "waypoint", "waypoints", "card", "cmd", "configuration", "steps"])
def test_owntracks_known_types_are_ignored_on_purpose(ctx, msg_type):
    payload = orjson.dumps({"_type": msg_type, "tst": 1716215395, "lat": 31.2, "lon": 121.4, "event": "enter"})
    assert owntracks.decode("owntracks/alice/phone/event", payload, ctx) == []


def test_owntracks_unknown_and_encrypted_types_are_refused(ctx):
    with pytest.raises(Rejected) as unknown:
        owntracks.decode("owntracks/alice/phone", b'{"_type":"teleport"}', ctx)
    assert unknown.value.reason is Reason.UNSUPPORTED
    assert "teleport" in unknown.value.detail
    with pytest.raises(Rejected) as encrypted:
        owntracks.decode("owntracks/alice/phone", b'{"_type":"encrypted","data":"xyz"}', ctx)
    assert encrypted.value.reason is Reason.UNSUPPORTED
    assert "encryption" in encrypted.value.detail


# --- Traccar ---------------------------------------------------------------------------------


def test_traccar_position_fixture_knots_to_kmh(client_payload, ctx):
    (pos,) = traccar.decode_position("traccar/positions", client_payload("traccar_position_forward.json"), ctx)
    assert pos.device_id == "traccar:123456789012345"
    assert pos.kind == "vehicle"  # category "truck"
    assert (pos.lat, pos.lon) == (31.2304, 121.4737)
    assert pos.speed == pytest.approx(25.002)  # 13.5 kn x 1.852
    assert pos.heading == 180.0
    assert pos.ts == utc(2024, 5, 20, 14, 29, 55) == 1716215395.0  # fixTime, not serverTime
    assert pos.battery == 85.0
    assert pos.accuracy is None  # Traccar's 0.0 means "not reported"
    assert pos.name == "环卫车-01"
    assert pos.source == "traccar"


def test_traccar_offset_without_colon_and_device_map(client_payload, ctx):
    msg = orjson.loads(client_payload("traccar_position_forward.json"))
    msg["position"]["fixTime"] = "2024-05-20T22:29:55.000+0800"
    ctx = DecodeContext(
        now=ctx.now,
        devices={"traccar:123456789012345": DeviceInfo(kind="vehicle", subtype="sanitation", department="环卫所")},
    )
    (pos,) = traccar.decode_position("traccar/positions", orjson.dumps(msg), ctx)
    assert pos.ts == 1716215395.0
    assert (pos.subtype, pos.department) == ("sanitation", "环卫所")


@pytest.mark.parametrize("flag", [{"valid": False}, {"outdated": True}])
def test_traccar_invalid_or_outdated_fix_is_ignored(client_payload, ctx, flag):
    msg = orjson.loads(client_payload("traccar_position_forward.json"))
    msg["position"].update(flag)
    assert traccar.decode_position("traccar/positions", orjson.dumps(msg), ctx) == []


def _traccar_event(client_payload, event_type: str) -> bytes:
    msg = orjson.loads(client_payload("traccar_position_forward.json"))
    msg["event"] = {"id": 77, "type": event_type, "eventTime": "2024-05-20T14:31:00.000+00:00", "deviceId": 10,
                    "positionId": 0, "geofenceId": 0, "maintenanceId": 0, "attributes": {}}  # fmt: skip
    msg["geofence"] = None
    return orjson.dumps(msg)


TRACCAR_ID = "traccar:123456789012345"
AT_FIX = {"lat": 31.2304, "lon": 121.4737}  # the forwarded event's position


@pytest.mark.parametrize(("event_type", "online"), [("deviceOffline", False), ("deviceOnline", True)])
def test_traccar_online_offline_events(client_payload, ctx, event_type, online):
    status, alarm = traccar.decode_event("traccar/events", _traccar_event(client_payload, event_type), ctx)
    assert status == DeviceStatus(
        device_id=TRACCAR_ID, online=online, ts=utc(2024, 5, 20, 14, 31), kind="vehicle", source="traccar",
    )  # fmt: skip
    assert alarm == DeviceAlarm(device_id=TRACCAR_ID, rule="offline", phase="end" if online else "start",
                                ts=utc(2024, 5, 20, 14, 31), kind="vehicle", source="traccar", **AT_FIX)


def test_traccar_geofence_enter_fixture_is_a_zone_alarm_and_exit_ends_it(client_payload, ctx):
    (enter,) = traccar.decode_event("traccar/events", client_payload("traccar_event_geofence_enter.json"), ctx)
    assert enter == DeviceAlarm(device_id=TRACCAR_ID, rule="zone", phase="start", ts=utc(2024, 5, 20, 14, 31, 5),
                                key="3", lat=31.2311, lon=121.4742, kind="vehicle", detail="老城区禁行区", source="traccar")
    msg = orjson.loads(client_payload("traccar_event_geofence_enter.json"))
    msg["event"]["type"] = "geofenceExit"
    (exit_,) = traccar.decode_event("traccar/events", orjson.dumps(msg), ctx)
    assert (exit_.rule, exit_.phase, exit_.key) == ("zone", "end", "3")
    msg["event"]["geofenceId"] = 0
    msg["geofence"] = None
    with pytest.raises(Rejected) as exc:
        traccar.decode_event("traccar/events", orjson.dumps(msg), ctx)
    assert exc.value.reason is Reason.MISSING_FIELD and "geofenceId" in str(exc.value)


def test_traccar_alarm_fixture_is_the_device_s_alarm_with_its_kind(client_payload, ctx):
    (sos,) = traccar.decode_event("traccar/events", client_payload("traccar_event_alarm_sos.json"), ctx)
    assert (sos.rule, sos.phase, sos.key, sos.detail, sos.ts) == ("device_alarm", "once", "sos", "sos",
                                                                  utc(2024, 5, 20, 14, 32, 10))
    msg = orjson.loads(client_payload("traccar_event_alarm_sos.json"))
    msg["event"]["attributes"]["alarm"] = "powerCut,vibration"
    (both,) = traccar.decode_event("traccar/events", orjson.dumps(msg), ctx)
    assert both.key == "powerCut,vibration"


def test_traccar_overspeed_and_ignition(client_payload, ctx):
    msg = orjson.loads(_traccar_event(client_payload, "deviceOverspeed"))
    msg["event"]["attributes"] = {"speed": 40.0, "speedLimit": 32.4}  # knots
    (fast,) = traccar.decode_event("traccar/events", orjson.dumps(msg), ctx)
    assert (fast.rule, fast.phase, fast.detail) == ("overspeed", "once", "74 km/h")
    (on,) = traccar.decode_event("traccar/events", _traccar_event(client_payload, "ignitionOn"), ctx)
    assert on == DeviceStatus(device_id=TRACCAR_ID, online=None, ts=utc(2024, 5, 20, 14, 31), kind="vehicle",
                              source="traccar", ignition=True)
    (off,) = traccar.decode_event("traccar/events", _traccar_event(client_payload, "ignitionOff"), ctx)
    assert off.ignition is False and off.online is None


@pytest.mark.parametrize("event_type", ["deviceUnknown", "deviceMoving", "maintenance", "media"])
def test_traccar_other_known_events_are_ignored(client_payload, ctx, event_type):
    assert traccar.decode_event("traccar/events", _traccar_event(client_payload, event_type), ctx) == []


def test_traccar_unknown_event_type_is_refused(client_payload, ctx):
    with pytest.raises(Rejected) as exc:
        traccar.decode_event("traccar/events", _traccar_event(client_payload, "teleported"), ctx)
    assert exc.value.reason is Reason.UNSUPPORTED


# --- Frigate ---------------------------------------------------------------------------------

CAMERAS = MappingProxyType({"front_door": CameraInfo(lat=31.2290, lon=121.4760, name="南京东路口", department="黄浦")})


def test_frigate_event_fixture_uses_after(client_payload, ctx):
    ctx = DecodeContext(now=ctx.now, cameras=CAMERAS, frigate_labels={"person": "占道经营"})
    (alert,) = frigate.decode_event("frigate/events", client_payload("frigate_event_update.json"), ctx)
    assert alert == Alert(
        alert_id="1607123955.475377-mxklsc",
        camera_id="front_door",
        type="占道经营",
        state="update",
        start=1607123955.475377,
        lat=31.2290,
        lon=121.4760,
        end=None,
        confidence=0.958984375,  # top_score, not the frame's score 0.87890625
        snapshot_url=None,  # has_snapshot is false
        severity="detection",
        source="frigate",
    )


def test_frigate_older_event_shape_and_end(ctx):
    # Older Frigate: snapshot_time instead of a snapshot object, no top_score.
    after = {"id": "1600000000.1-abc", "camera": "gate", "label": "car", "score": 0.8, "snapshot_time": 1600000003.2,
             "start_time": 1600000000.1, "end_time": 1600000060.5, "has_snapshot": True, "false_positive": False}  # fmt: skip
    ctx = DecodeContext(now=ctx.now, frigate_base_url="http://frigate:5000")
    payload = orjson.dumps({"type": "end", "before": after, "after": after})
    (alert,) = frigate.decode_event("frigate/events", payload, ctx)
    assert (alert.type, alert.state, alert.confidence, alert.end) == ("机动车乱停放", "end", 0.8, 1600000060.5)
    assert alert.snapshot_url == "http://frigate:5000/api/events/1600000000.1-abc/snapshot.jpg"
    assert (alert.lat, alert.lon) == (None, None)  # camera not in feeds.cameras


def test_frigate_unmapped_label_is_refused_with_the_fix(client_payload, ctx):
    ctx = DecodeContext(now=ctx.now, frigate_labels={"car": "机动车乱停放"})
    with pytest.raises(Rejected) as exc:
        frigate.decode_event("frigate/events", client_payload("frigate_event_update.json"), ctx)
    assert exc.value.reason is Reason.UNSUPPORTED
    assert "'person'" in exc.value.detail and "feeds.frigate_labels" in exc.value.detail


def test_frigate_review_fixture(client_payload, ctx):
    ctx = DecodeContext(now=ctx.now, frigate_base_url="http://frigate:5000",
                        frigate_labels={"car": "机动车乱停放"})  # fmt: skip
    (alert,) = frigate.decode_review("frigate/reviews", client_payload("frigate_review_update.json"), ctx)
    assert alert.alert_id == "1718987129.308396-fqk5ka"
    assert alert.camera_id == "front_cam"
    assert alert.severity == "alert"  # after's, while before said "detection"
    assert alert.type == "机动车乱停放"  # first mapped of objects ["person", "car"]
    assert alert.start == 1718987129.308396
    assert alert.snapshot_url == ("http://frigate:5000/clips/review/thumb-front_cam-1718987129.308396-fqk5ka.webp")


def test_frigate_false_positive_is_ignored(client_payload, ctx):
    msg = orjson.loads(client_payload("frigate_event_update.json"))
    msg["after"]["false_positive"] = True
    assert frigate.decode_event("frigate/events", orjson.dumps(msg), ctx) == []


# --- Open311 ---------------------------------------------------------------------------------


def test_open311_sample_with_its_json_quirks(client_payload, ctx):
    raw = client_payload("open311_requests_raw.txt")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)  # the spec's sample really is not strict JSON
    ctx = DecodeContext(now=ctx.now, open311_services={"006": ServiceCategory("event", "0110")})
    report, close = open311.decode("open311/requests", raw, ctx)
    assert isinstance(report, CaseEvent) and isinstance(close, CaseEvent)
    assert (report.event_id, report.case_id, report.action) == ("open311:638344:report", "open311:638344", "report")
    assert report.ts == utc(2010, 4, 14, 14, 37, 38) == 1271255858.0  # 06:37:38-08:00
    assert report.case == {
        "source": "public",
        "external": True,  # the city's Open311 system runs the lifecycle
        "category": "event",
        "small_code": "0110",  # found through service_code "006", leading zeros kept
        "title": "Sidewalk and Curb Issues",
        "address": "8TH AVE and JUDAH ST",
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",  # trailing space gone
        "lat": 37.762221815,
        "lon": -122.4651145,
        "deadline": utc(2010, 4, 15, 14, 37, 38),
    }
    assert close.action == "close"
    assert close.event_id == "open311:638344:close:1271255858"
    assert close.case["note"] == "Duplicate request."


def test_open311_redelivery_gives_the_same_event_ids(client_payload, ctx):
    raw = client_payload("open311_requests_raw.txt")
    first = [e.event_id for e in open311.decode("open311/requests", raw, ctx)]
    again = [e.event_id for e in open311.decode("open311/requests", raw, ctx)]
    assert first == again


def test_open311_single_open_object_reports_once(ctx):
    request = {"service_request_id": "A-17", "status": "open", "service_code": "sw", "service_name": "Litter",
               "requested_datetime": "2024-05-20T21:00:00+08:00", "updated_datetime": "2024-05-20T21:30:00+08:00",
               "lat": 31.23, "long": 121.47}  # fmt: skip
    (event,) = open311.decode("open311/requests", orjson.dumps(request), ctx)
    assert (event.action, event.event_id, event.ts) == ("report", "open311:A-17:report", utc(2024, 5, 20, 13, 0))
    assert "category" not in event.case and event.case["title"] == "Litter"  # unmapped: named, not classed
    request["updated_datetime"] = "2024-05-20T22:00:00+08:00"  # notes changed, still open
    (again,) = open311.decode("open311/requests", orjson.dumps(request), ctx)
    assert again.event_id == event.event_id


def test_open311_leading_zero_inside_strings_is_untouched(ctx):
    payload = b'{"service_request_id":7,"status":"open","service_code":007,"description":"gate 006, \\"x\\":009",' \
              b'"requested_datetime":"2024-05-20T13:00:00Z"}'  # fmt: skip
    (event,) = open311.decode("open311/requests", payload, ctx)
    assert event.case["description"] == 'gate 006, "x":009'
    assert "category" not in event.case  # service 007 is not mapped


def test_open311_outside_city_unless_anywhere(client_payload, ctx, city):
    raw = client_payload("open311_requests_raw.txt")
    with pytest.raises(Rejected) as exc:
        decode_and_validate("open311/requests", raw, ctx, city, anywhere=False)
    assert exc.value.reason is Reason.OUTSIDE_CITY
    assert len(decode_and_validate("open311/requests", raw, ctx, city, anywhere=True)) == 2


def test_osmand_traccar_client_fixture_decodes(client_payload, ctx, city):
    # The app POSTs this over HTTP; a bridge republishes it on osmand/<device_id>.
    raw = client_payload("osmand_traccar_client.json")
    with pytest.raises(Rejected) as err:  # the sample sits at 0°N 0°E, far outside the city
        decode_and_validate("osmand/48241179", raw, ctx, city)
    assert err.value.reason is Reason.OUTSIDE_CITY
    (fix,) = decode_and_validate("osmand/48241179", raw, ctx, city, anywhere=True)
    assert isinstance(fix, Position)
    assert (fix.device_id, fix.kind, fix.source) == ("osmand:48241179", "collector", "osmand")
    assert (fix.lat, fix.lon, fix.ts) == (0.0, 0.0, utc(2000, 1, 1, 0, 0, 0))
    assert (fix.speed, fix.heading, fix.accuracy) == (0.0, 0.0, None)  # accuracy 0 means unknown
    assert fix.battery == 100.0 and fix.status == "still"


def test_osmand_speed_is_metres_per_second(ctx):
    body = orjson.dumps({"device_id": "p1", "location": {"timestamp": "2024-05-20T13:00:00Z", "coords": {
        "latitude": 30.27, "longitude": 120.16, "speed": 10.0, "heading": 370, "accuracy": 8},
        "battery": {"level": 0.42}, "is_moving": True}})
    (fix,) = osmand.decode("osmand/p1", body, ctx)
    assert fix.speed == pytest.approx(36.0) and fix.heading == pytest.approx(10.0) and fix.accuracy == 8.0
    assert fix.battery == pytest.approx(42.0) and fix.status == "moving"
