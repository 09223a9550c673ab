"""The shared parsing helpers, and the configuration that feeds them."""

from __future__ import annotations

import math

import pytest

from feeds.decoders import CameraInfo, DecodeContext, DeviceInfo, ServiceCategory
from feeds.decoders._fields import load_object, parse_time, require_id, require_number, to_number
from feeds.decoders.context import DEFAULT_FRIGATE_LABELS, parse_utc_offset
from feeds.rejects import Reason, Rejected


def reason_of(call, *args, **kwargs) -> Reason:
    with pytest.raises(Rejected) as exc:
        call(*args, **kwargs)
    return exc.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1716215395, 1716215395.0),
        (1716215395.25, 1716215395.25),
        (1716215395250, 1716215395.25),  # ms
        ("1716215395", 1716215395.0),  # epoch as a string
        ("2024-05-20T14:29:55Z", 1716215395.0),
        ("2024-05-20T14:29:55.000+00:00", 1716215395.0),  # Traccar, Jackson default
        ("2024-05-20T14:29:55.000+0000", 1716215395.0),  # Traccar, other formatter
        ("2024-05-20T22:29:55+08:00", 1716215395.0),
        ("2010-04-14T06:37:38-08:00", 1271255858.0),  # Open311 sample
        (" 2024-05-20T14:29:55Z ", 1716215395.0),
    ],
)
def test_parse_time_accepts(value, expected):
    assert parse_time(value, "ts") == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-05-20T14:29:55", Reason.WRONG_TYPE),  # naive: ambiguous
        ("2024-05-20", Reason.WRONG_TYPE),  # a date is naive too
        ("tomorrow", Reason.WRONG_TYPE),
        ("", Reason.WRONG_TYPE),
        (True, Reason.WRONG_TYPE),
        ([1716215395], Reason.WRONG_TYPE),
        (-1, Reason.WRONG_TYPE),
        (math.inf, Reason.NOT_FINITE),
        (math.nan, Reason.NOT_FINITE),
        ("9" * 400, Reason.NOT_FINITE),
        ("１７１６２１５３９５", Reason.WRONG_TYPE),  # full-width digits are not epoch seconds
    ],
)
def test_parse_time_refuses(value, reason):
    assert reason_of(parse_time, value, "ts") is reason


def test_naive_time_with_city_offset():
    assert parse_time("2024-05-20T22:29:55", "ts", 8 * 3600) == 1716215395.0
    assert parse_utc_offset("+08:00") == 28800
    assert parse_utc_offset("-0330") == -12600
    assert parse_utc_offset("reject") is None
    with pytest.raises(ValueError):
        parse_utc_offset("Asia/Shanghai")


def test_numbers():
    assert to_number(3, "x") == 3.0 and type(to_number(3, "x")) is float
    assert to_number("12.5", "x", strings=True) == 12.5
    assert reason_of(to_number, "12.5", "x") is Reason.WRONG_TYPE  # strings only when asked
    assert reason_of(to_number, False, "x") is Reason.WRONG_TYPE
    assert reason_of(to_number, "NaN", "x", strings=True) is Reason.NOT_FINITE
    assert reason_of(to_number, "-inf", "x", strings=True) is Reason.NOT_FINITE
    assert reason_of(to_number, 5, "x", 0, 4) is Reason.WRONG_TYPE
    assert reason_of(require_number, {}, "lat", "position.") is Reason.MISSING_FIELD


def test_messages_name_the_nested_field():
    with pytest.raises(Rejected) as exc:
        require_number({"latitude": "x"}, "latitude", "position.")
    assert "'position.latitude'" in exc.value.detail


def test_ids_and_objects():
    assert require_id({"id": 638344}, "id") == "638344"
    assert require_id({"id": " A-1 "}, "id") == "A-1"
    assert reason_of(require_id, {"id": True}, "id") is Reason.WRONG_TYPE
    assert reason_of(require_id, {"id": 1.5}, "id") is Reason.WRONG_TYPE
    assert reason_of(load_object, b'"just a string"') is Reason.WRONG_TYPE
    assert reason_of(load_object, b"{} {}") is Reason.INVALID_JSON


def test_context_from_config():
    ctx = DecodeContext.from_config(
        {
            "devices": {"V7": {"kind": "vehicle", "subtype": "muck_truck", "department": "渣土办"}},
            "cameras": {"cam07": {"lat": 31.229, "lon": 121.476, "name": "南京东路口"}},
            "frigate_labels": {"dog": "流浪动物"},
            "open311_services": {"006": {"category": "event", "small_code": "0110"}, "sw": "event"},
            "vehicle_subtypes": ["muck_truck", "sweeper"],
            "strict_devices": True,
            "naive_time": "+08:00",
            "frigate_base_url": "http://frigate:5000/",
        },
        now=5.0,
    )
    assert ctx.now == 5.0
    assert ctx.devices["V7"] == DeviceInfo(kind="vehicle", subtype="muck_truck", department="渣土办")
    assert ctx.cameras["cam07"] == CameraInfo(lat=31.229, lon=121.476, name="南京东路口")
    assert ctx.frigate_labels["dog"] == "流浪动物"
    assert ctx.frigate_labels["car"] == DEFAULT_FRIGATE_LABELS["car"]  # defaults kept
    assert ctx.open311_services["006"] == ServiceCategory("event", "0110")
    assert ctx.open311_services["sw"] == ServiceCategory("event")
    assert ctx.vehicle_subtypes == {"muck_truck", "sweeper"}
    assert ctx.strict_devices and ctx.naive_offset_s == 28800
    assert ctx.frigate_base_url == "http://frigate:5000"
    assert ctx.at(9.0).now == 9.0 and ctx.at(9.0).devices is ctx.devices


@pytest.mark.parametrize(
    "section",
    [
        {"devices": {"V7": {"kind": "truck"}}},
        {"devices": {"V7": "vehicle"}},
        {"cameras": {"cam07": {"lat": 31.2}}},
        {"open311_services": {"006": 6}},
        {"naive_time": "local"},
    ],
)
def test_context_from_bad_config(section):
    with pytest.raises(ValueError):
        DecodeContext.from_config(section)


def test_default_context():
    ctx = DecodeContext(now=1.0)
    assert not ctx.strict_devices
    assert ctx.naive_offset_s is None
    assert ctx.vehicle_subtypes == {"enforcement", "muck_truck", "sanitation"}
    assert ctx.device("anything") is None
