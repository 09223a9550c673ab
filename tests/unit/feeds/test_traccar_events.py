"""Traccar's own events (``traccar/events``, EventData) decode into the supervision's DeviceAlarm
and the device's DeviceStatus: geofences, overspeed, offline/online, the device's alarms and the
ignition. The fixtures are tests/fixtures/clients/traccar_event_*.json."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from dashboard import limits
from dashboard.records import DeviceAlarm, DeviceStatus
from feeds.decoders import traccar
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected

TOPIC = "traccar/events"
DEVICE = "traccar:123456789012345"


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


@pytest.fixture
def decode(ctx):
    """The decoder's records for a message given as a dict."""

    def run(msg: dict) -> list:
        return traccar.decode_event(TOPIC, orjson.dumps(msg), ctx)

    return run


@pytest.fixture
def fixture_msg(client_payload):
    def load(name: str) -> dict:
        return orjson.loads(client_payload(name))

    return load


def _event(fixture_msg, event_type: str, **event_fields) -> dict:
    """The ignition fixture's message (a position, no geofence) as another event type."""
    msg = fixture_msg("traccar_event_ignition_on.json")
    msg["event"].update(type=event_type, **event_fields)
    return msg


# --- geofences -------------------------------------------------------------------------------


GEOFENCE_ENTER = DeviceAlarm(
    device_id=DEVICE, rule="zone", phase="start", ts=utc(2024, 5, 20, 14, 31, 5), key="3",
    lat=31.2311, lon=121.4742, kind="vehicle", detail="老城区禁行区", source="traccar",
)  # fmt: skip


def test_geofence_enter_fixture_starts_the_zone_alarm_of_that_geofence(client_payload, ctx, city):
    payload = client_payload("traccar_event_geofence_enter.json")
    assert traccar.decode_event(TOPIC, payload, ctx) == [GEOFENCE_ENTER]
    # and through the whole decode step: routed by topic, validated, storable
    assert decode_and_validate(TOPIC, payload, ctx, city) == [GEOFENCE_ENTER]


def test_geofence_exit_ends_the_same_key(fixture_msg, decode):
    msg = fixture_msg("traccar_event_geofence_enter.json")
    msg["event"]["type"] = "geofenceExit"
    assert decode(msg) == [replace(GEOFENCE_ENTER, phase="end")]


def test_geofence_id_falls_back_to_the_geofence_object(fixture_msg, decode):
    msg = fixture_msg("traccar_event_geofence_enter.json")
    msg["event"]["geofenceId"] = 0  # Traccar's "none"
    msg["geofence"]["id"] = 41
    (alarm,) = decode(msg)
    assert (alarm.key, alarm.detail) == ("41", "老城区禁行区")


def test_geofence_without_a_name_has_no_detail(fixture_msg, decode):
    msg = fixture_msg("traccar_event_geofence_enter.json")
    msg["geofence"] = None
    assert decode(msg) == [replace(GEOFENCE_ENTER, detail=None)]


@pytest.mark.parametrize("event_type", ["geofenceEnter", "geofenceExit"])
@pytest.mark.parametrize("geofence_id", ["absent", None, 0, ""])
def test_geofence_event_without_a_geofence_id_is_refused(fixture_msg, event_type, geofence_id, decode):
    msg = fixture_msg("traccar_event_geofence_enter.json")
    msg["event"]["type"] = event_type
    msg["geofence"] = None
    if geofence_id == "absent":
        del msg["event"]["geofenceId"]
    else:
        msg["event"]["geofenceId"] = geofence_id
    with pytest.raises(Rejected) as exc:
        decode(msg)
    assert exc.value.reason is Reason.MISSING_FIELD
    assert "geofenceId" in exc.value.detail and event_type in exc.value.detail


# --- the device's alarms ---------------------------------------------------------------------


def test_alarm_sos_fixture_is_a_once_device_alarm_keyed_by_its_kind(client_payload, ctx, city):
    expected = DeviceAlarm(
        device_id=DEVICE, rule="device_alarm", phase="once", ts=utc(2024, 5, 20, 14, 32, 10), key="sos",
        lat=31.2304, lon=121.4737, kind="vehicle", detail="sos", source="traccar",
    )  # fmt: skip
    payload = client_payload("traccar_event_alarm_sos.json")
    assert traccar.decode_event(TOPIC, payload, ctx) == [expected]
    assert decode_and_validate(TOPIC, payload, ctx, city) == [expected]


def test_alarm_kinds_joined_by_commas_stay_one_key(fixture_msg, decode):
    msg = fixture_msg("traccar_event_alarm_sos.json")
    msg["event"]["attributes"]["alarm"] = "powerCut,vibration"
    (alarm,) = decode(msg)
    assert (alarm.rule, alarm.phase, alarm.key, alarm.detail) == (
        "device_alarm", "once", "powerCut,vibration", "powerCut,vibration",
    )  # fmt: skip


def test_alarm_kind_is_bounded_to_the_key_column(fixture_msg, decode):
    msg = fixture_msg("traccar_event_alarm_sos.json")
    msg["event"]["attributes"]["alarm"] = ",".join(["powerCut"] * 20)  # 179 characters
    (alarm,) = decode(msg)
    assert len(alarm.key) == limits.ALARM_KEY == 64
    assert alarm.key == alarm.detail == ",".join(["powerCut"] * 20)[:64]


# --- overspeed -------------------------------------------------------------------------------


def test_overspeed_is_once_with_the_speed_in_kmh(fixture_msg, decode):
    msg = _event(fixture_msg, "deviceOverspeed", eventTime="2024-05-20T14:29:50.000+00:00",
                 attributes={"speed": 38.88, "speedLimit": 32.4})  # knots: 72.006 and 60 km/h  # fmt: skip
    assert decode(msg) == [
        DeviceAlarm(device_id=DEVICE, rule="overspeed", phase="once", ts=utc(2024, 5, 20, 14, 29, 50), key="",
                    lat=31.2298, lon=121.4731, kind="vehicle", detail="72 km/h", source="traccar")
    ]  # fmt: skip


def test_overspeed_without_a_speed_has_no_detail(fixture_msg, decode):
    (alarm,) = decode(_event(fixture_msg, "deviceOverspeed"))
    assert (alarm.rule, alarm.phase, alarm.detail) == ("overspeed", "once", None)


# --- online / offline ------------------------------------------------------------------------


@pytest.mark.parametrize(("event_type", "online", "phase"), [("deviceOffline", False, "start"),
                                                              ("deviceOnline", True, "end")])  # fmt: skip
def test_offline_online_is_the_state_and_the_offline_alarm(fixture_msg, event_type, online, phase, decode):
    ts = utc(2024, 5, 20, 14, 29, 40)
    assert decode(_event(fixture_msg, event_type)) == [
        DeviceStatus(device_id=DEVICE, online=online, ts=ts, kind="vehicle", source="traccar"),
        DeviceAlarm(device_id=DEVICE, rule="offline", phase=phase, ts=ts, key="", lat=31.2298, lon=121.4731,
                    kind="vehicle", detail=None, source="traccar"),
    ]  # fmt: skip


def test_an_event_without_a_position_has_no_place(fixture_msg, decode):
    msg = _event(fixture_msg, "deviceOffline")
    msg["position"] = None
    status, alarm = decode(msg)
    assert status.online is False
    assert (alarm.rule, alarm.phase, alarm.lat, alarm.lon) == ("offline", "start", None, None)


def test_an_event_without_event_time_takes_the_server_time(fixture_msg, decode):
    msg = _event(fixture_msg, "deviceOffline")
    del msg["event"]["eventTime"]
    msg["event"]["serverTime"] = "2024-05-20T14:29:45.000+0000"
    status, alarm = decode(msg)
    assert status.ts == alarm.ts == utc(2024, 5, 20, 14, 29, 45)


def test_an_event_without_any_time_is_refused(fixture_msg, decode):
    msg = _event(fixture_msg, "deviceOffline")
    del msg["event"]["eventTime"]
    with pytest.raises(Rejected) as exc:
        decode(msg)
    assert exc.value.reason is Reason.MISSING_FIELD


def test_the_device_kind_follows_the_category(fixture_msg, decode):
    msg = _event(fixture_msg, "deviceOffline")
    msg["device"]["category"] = "person"
    status, alarm = decode(msg)
    assert status.kind == alarm.kind == "collector"


# --- ignition --------------------------------------------------------------------------------


def test_ignition_on_fixture_is_the_ignition_state_not_online(client_payload, ctx, city):
    expected = DeviceStatus(device_id=DEVICE, online=None, ts=utc(2024, 5, 20, 14, 29, 40), kind="vehicle",
                            source="traccar", ignition=True)  # fmt: skip
    payload = client_payload("traccar_event_ignition_on.json")
    assert traccar.decode_event(TOPIC, payload, ctx) == [expected]
    assert decode_and_validate(TOPIC, payload, ctx, city) == [expected]


def test_ignition_off(fixture_msg, decode):
    assert decode(_event(fixture_msg, "ignitionOff")) == [
        DeviceStatus(device_id=DEVICE, online=None, ts=utc(2024, 5, 20, 14, 29, 40), kind="vehicle",
                     source="traccar", ignition=False)
    ]  # fmt: skip


# --- the rest --------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["deviceUnknown", "deviceInactive", "deviceMoving", "deviceStopped",
                                        "deviceFuelDrop", "maintenance", "textMessage", "driverChanged",
                                        "commandResult", "queuedCommandSent", "media"])  # fmt: skip
def test_other_known_events_are_ignored(fixture_msg, event_type, decode):
    assert decode(_event(fixture_msg, event_type)) == []


@pytest.mark.parametrize("event_type", ["deviceTeleport", "GeofenceEnter", "ALARM"])
def test_an_unknown_event_type_is_refused(fixture_msg, event_type, decode):
    with pytest.raises(Rejected) as exc:
        decode(_event(fixture_msg, event_type))
    assert exc.value.reason is Reason.UNSUPPORTED
    assert repr(event_type) in exc.value.detail


@pytest.mark.parametrize("event_type", ["", None])
def test_an_event_without_a_type_is_refused(fixture_msg, event_type, decode):
    with pytest.raises(Rejected) as exc:
        decode(_event(fixture_msg, event_type))
    assert exc.value.reason is Reason.MISSING_FIELD
    assert "event.type" in exc.value.detail
