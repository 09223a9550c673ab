"""gridwall's own topics: GPS, video alerts and case events."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dashboard.records import Alert, CaseEvent, Position
from feeds.decoders import CameraInfo, DecodeContext, DeviceInfo
from feeds.decoders.native import decode_case, decode_gps, decode_video
from feeds.rejects import Reason, Rejected

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


def gps(**fields: object) -> bytes:
    base: dict[str, object] = {"lat": 31.2304, "lon": 121.4737, "ts": 1716215395}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not None})


def reject(call, *args) -> Rejected:
    with pytest.raises(Rejected) as exc:
        call(*args)
    return exc.value


# --- GPS -------------------------------------------------------------------------------------


def test_gps_full_message(ctx):
    payload = gps(id="C0012", kind="collector", speed=4.2, heading=87, accuracy=5, battery=77, status="patrol",
                  name="张三", department="城管一中队")  # fmt: skip
    (pos,) = decode_gps("gridwall/gps/collector/C0012", payload, ctx)
    assert pos == Position(
        device_id="C0012", kind="collector", lat=31.2304, lon=121.4737, ts=1716215395.0, speed=4.2, heading=87.0,
        accuracy=5.0, battery=77.0, status="patrol", name="张三", department="城管一中队",
    )  # fmt: skip


def test_gps_id_and_kind_come_from_the_topic(ctx):
    (pos,) = decode_gps("gridwall/gps/vehicle/V9", gps(), ctx)
    assert (pos.device_id, pos.kind) == ("V9", "vehicle")


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (1716215395, 1716215395.0),
        (1716215395123, 1716215395.123),  # milliseconds
        ("2024-05-20T14:29:55Z", 1716215395.0),
        ("2024-05-20T22:29:55+08:00", 1716215395.0),
        ("2024-05-20T22:29:55.500+0800", 1716215395.5),
    ],
)
def test_gps_time_forms(ctx, ts, expected):
    (pos,) = decode_gps("gridwall/gps/collector/C1", gps(ts=ts), ctx)
    assert pos.ts == pytest.approx(expected, abs=1e-6)


def test_gps_naive_time_refused_unless_city_offset_configured(ctx):
    err = reject(decode_gps, "gridwall/gps/collector/C1", gps(ts="2024-05-20T22:29:55"), ctx)
    assert err.reason is Reason.WRONG_TYPE and "UTC offset" in err.detail
    local = DecodeContext(now=ctx.now, naive_offset_s=8 * 3600)
    (pos,) = decode_gps("gridwall/gps/collector/C1", gps(ts="2024-05-20T22:29:55"), local)
    assert pos.ts == 1716215395.0


def test_gps_device_map_fills_gaps_but_message_wins(ctx):
    ctx = DecodeContext(
        now=ctx.now,
        devices={"V7": DeviceInfo(kind="vehicle", subtype="muck_truck", department="渣土办", name="沪A·12345")},
    )
    (pos,) = decode_gps("gridwall/gps/vehicle/V7", gps(name="渣土车 7"), ctx)
    assert (pos.subtype, pos.department, pos.name) == ("muck_truck", "渣土办", "渣土车 7")


def test_gps_vehicle_subtypes_come_from_configuration(ctx):
    err = reject(decode_gps, "gridwall/gps/vehicle/V1", gps(subtype="street_sweeper"), ctx)
    assert err.reason is Reason.WRONG_TYPE and "feeds.vehicle_subtypes" in err.detail
    wider = DecodeContext(now=ctx.now, vehicle_subtypes=frozenset({"street_sweeper"}))
    (pos,) = decode_gps("gridwall/gps/vehicle/V1", gps(subtype="street_sweeper"), wider)
    assert pos.subtype == "street_sweeper"


def test_gps_blank_optional_strings_count_as_absent(ctx):
    (pos,) = decode_gps("gridwall/gps/collector/C1", gps(status="", department="  ", name="张三"), ctx)
    assert (pos.status, pos.department, pos.name) == (None, None, "张三")
    assert reject(decode_gps, "gridwall/gps/collector/C1", gps(status=3), ctx).reason is Reason.WRONG_TYPE


def test_gps_crs_is_kept_for_the_enrich_step(ctx):
    (pos,) = decode_gps("gridwall/gps/vehicle/V1", gps(crs="GCJ-02"), ctx)
    assert pos.crs == "gcj02"
    assert reject(decode_gps, "gridwall/gps/vehicle/V1", gps(crs="utm"), ctx).reason is Reason.WRONG_TYPE


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": "C9"}, Reason.WRONG_TYPE),  # contradicts the topic
        ({"kind": "vehicle"}, Reason.WRONG_TYPE),
        ({"lat": None}, Reason.MISSING_FIELD),
        ({"ts": None}, Reason.MISSING_FIELD),
        ({"lat": "31.2"}, Reason.WRONG_TYPE),  # native numbers are numbers
        ({"speed": True}, Reason.WRONG_TYPE),  # bool is not a number
        ({"speed": -3}, Reason.WRONG_TYPE),
        ({"battery": 101}, Reason.WRONG_TYPE),
        ({"heading": 361}, Reason.WRONG_TYPE),
        ({"ts": "yesterday"}, Reason.WRONG_TYPE),
        ({"ts": -5}, Reason.WRONG_TYPE),
    ],
)
def test_gps_bad_fields(ctx, fields, reason):
    assert reject(decode_gps, "gridwall/gps/collector/C1", gps(**fields), ctx).reason is reason


# --- video alerts ----------------------------------------------------------------------------


def test_video_alert_takes_place_from_camera_map(ctx):
    ctx = DecodeContext(now=ctx.now, cameras={"cam07": CameraInfo(lat=31.229, lon=121.476, crs="gcj02")})
    payload = orjson.dumps({"alert_id": "a1", "type": "暴露垃圾", "state": "new", "start": "2024-05-20T22:20:00+08:00",
                            "confidence": 0.91, "snapshot_url": "http://nvr/a1.jpg"})  # fmt: skip
    (alert,) = decode_video("gridwall/video/cam07", payload, ctx)
    assert alert == Alert(
        alert_id="a1", camera_id="cam07", type="暴露垃圾", state="new", start=1716214800.0, lat=31.229, lon=121.476,
        confidence=0.91, snapshot_url="http://nvr/a1.jpg", crs="gcj02",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"alert_id": None}, Reason.MISSING_FIELD),
        ({"type": None}, Reason.MISSING_FIELD),
        ({"state": "resolved"}, Reason.WRONG_TYPE),
        ({"confidence": 87}, Reason.WRONG_TYPE),  # a percentage, not a fraction
        ({"lat": 31.2}, Reason.MISSING_FIELD),  # lat without lon
        ({"camera_id": "cam08"}, Reason.WRONG_TYPE),
        ({"severity": "meh"}, Reason.WRONG_TYPE),
    ],
)
def test_video_bad_fields(ctx, fields, reason):
    msg = {"alert_id": "a1", "type": "占道经营", "state": "new", "start": 1716214800}
    msg.update(fields)
    payload = orjson.dumps({k: v for k, v in msg.items() if v is not None})
    assert reject(decode_video, "gridwall/video/cam07", payload, ctx).reason is reason


# --- case events -----------------------------------------------------------------------------

CASE = {"source": "supervisor", "category": "暴露垃圾", "small_code": "0102", "grid_code": "310101001001001",
        "lat": 31.2304, "lon": 121.4737, "department": "环卫所", "urgent": False, "condition": "A"}  # fmt: skip


def test_case_event_nested_and_flat_are_the_same(ctx):
    head = {
        "event_id": "E1",
        "case_id": "K1",
        "action": "report",
        "time": "2024-05-20T22:10:00+08:00",
        "actor": "C0012",
    }
    (nested,) = decode_case("gridwall/case/K1", orjson.dumps({**head, "case": CASE}), ctx)
    (flat,) = decode_case("gridwall/case/K1", orjson.dumps({**head, **CASE}), ctx)
    assert (
        nested
        == flat
        == CaseEvent(event_id="E1", case_id="K1", action="report", ts=1716214200.0, actor="C0012", case=CASE)
    )


def test_case_event_fields_are_typed(ctx):
    msg = {"event_id": 42, "action": "dispatch", "ts": 1716214800,
           "case": {"deadline": "2024-05-21T10:00:00+08:00", "urgency": "紧急", "unknown_key": [1, 2]}}  # fmt: skip
    (event,) = decode_case("gridwall/case/K1", orjson.dumps(msg), ctx)
    assert event.event_id == "42"
    assert event.case == {"deadline": 1716256800.0, "urgent": True}  # unlisted keys dropped


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"action": "teleport"}, Reason.UNKNOWN_ACTION),
        ({"action": "REPORT"}, Reason.UNKNOWN_ACTION),  # the wire spelling never changes
        ({"event_id": None}, Reason.MISSING_FIELD),
        ({"time": None}, Reason.MISSING_FIELD),
        ({"case_id": "K2"}, Reason.WRONG_TYPE),
        ({"case": {"grid_code": 310101001001001}}, Reason.WRONG_TYPE),  # codes are strings
        ({"case": {"small_code": 102}}, Reason.WRONG_TYPE),
        ({"case": {"lat": 31.2}}, Reason.MISSING_FIELD),
        ({"case": {"urgent": "yes"}}, Reason.WRONG_TYPE),
        ({"case": "暴露垃圾"}, Reason.WRONG_TYPE),
    ],
)
def test_case_event_bad_fields(ctx, fields, reason):
    msg = {"event_id": "E1", "action": "accept", "time": 1716214800}
    msg.update(fields)
    payload = orjson.dumps({k: v for k, v in msg.items() if v is not None})
    assert reject(decode_case, "gridwall/case/K1", payload, ctx).reason is reason


# --- the documented schemas and the decoders agree -------------------------------------------

SCHEMA_CASES = [
    ("gps.schema.json", decode_gps, "gridwall/gps/{kind}/{id}"),
    ("video-alert.schema.json", decode_video, "gridwall/video/cam07"),
    ("case-event.schema.json", decode_case, "gridwall/case/C20240520-000123"),
]


def _topic(template: str, example: dict) -> str:
    return template.format(kind=example.get("kind", "collector"), id=example.get("id", "X1"))


@pytest.mark.parametrize(("name", "decode", "template"), SCHEMA_CASES)
def test_schema_examples_decode(ctx, name, decode, template):
    schema = orjson.loads((SCHEMAS / name).read_bytes())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in schema["examples"]:
        assert len(decode(_topic(template, example), orjson.dumps(example), ctx)) == 1


@pytest.mark.parametrize(("name", "decode", "template"), SCHEMA_CASES)
def test_schema_required_fields_are_required(ctx, name, decode, template):
    schema = orjson.loads((SCHEMAS / name).read_bytes())
    example = schema["examples"][0]
    for key in schema["required"]:
        partial = {k: v for k, v in example.items() if k != key}
        err = reject(decode, _topic(template, example), orjson.dumps(partial), ctx)
        assert err.reason is Reason.MISSING_FIELD, key
        assert key in err.detail


def test_case_schema_lists_every_action():
    from dashboard.casework.actions import Action

    schema = orjson.loads((SCHEMAS / "case-event.schema.json").read_bytes())
    assert set(schema["properties"]["action"]["enum"]) == {a.value for a in Action}
