"""gridwall's own messages: GPS fixes, video-AI alerts and case events (docs/mqtt.md).

The topic names the thing (device kind and id, camera, case); the payload may repeat it, and a
payload that contradicts its topic is refused, because one of the two is misconfigured and
guessing would file a fix under the wrong device.

GPS is the hot path (thousands of devices every few seconds): one orjson parse, then plain dict
lookups; no per-message allocation beyond the record.
"""

from __future__ import annotations

from typing import Any, Final

from dashboard.casework.actions import Action
from dashboard.records import CASE_TOPIC, Alert, CaseEvent, Position, Record
from feeds.decoders._fields import (
    Json,
    load_object,
    optional_bool,
    optional_crs,
    optional_number,
    optional_object,
    optional_str,
    optional_time,
    parse_time,
    require_choice,
    require_id,
    require_str,
    require_time,
    to_id,
    to_number,
    topic_levels,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format
from feeds.rejects import Reason, Rejected

SOURCE: Final = "native"
_KINDS: Final = frozenset({"collector", "vehicle"})
_ALERT_STATES: Final = frozenset({"new", "update", "end"})
_SEVERITIES: Final = frozenset({"detection", "alert", "critical"})
_ACTIONS: Final = frozenset(a.value for a in Action)


# --- gridwall/gps/<kind>/<id> ----------------------------------------------------------------


def decode_gps(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    kind, device_id = topic_levels(topic, 2, "gridwall/gps/<collector|vehicle>/<id>")
    if kind not in _KINDS:
        raise Rejected(Reason.UNKNOWN_TOPIC, f"device kind {kind!r} in topic {topic!r} is not collector or vehicle")
    msg = load_object(payload)
    _same(msg, "id", device_id, "topic id")
    _same(msg, "kind", kind, "topic kind")
    info = ctx.device(device_id)

    subtype = optional_str(msg, "subtype")
    department = optional_str(msg, "department")
    name = optional_str(msg, "name")
    crs = optional_crs(msg)
    if info is not None:  # the message describes itself; the map only fills its gaps
        subtype = subtype or info.subtype
        department = department or info.department
        name = name or info.name
        crs = crs or info.crs
    if kind == "vehicle" and subtype is not None and subtype not in ctx.vehicle_subtypes:
        raise Rejected(
            Reason.WRONG_TYPE,
            f"vehicle subtype {subtype!r} is not configured (feeds.vehicle_subtypes: "
            f"{', '.join(sorted(ctx.vehicle_subtypes))})",
        )

    heading = optional_number(msg, "heading", lo=0.0, hi=360.0)
    return [
        Position(
            device_id=device_id,
            kind=kind,  # type: ignore[arg-type]  # checked against _KINDS above
            lat=_coord(msg, "lat"),
            lon=_coord(msg, "lon"),
            ts=require_time(msg, "ts", naive_offset_s=ctx.naive_offset_s),
            subtype=subtype,
            speed=optional_number(msg, "speed", lo=0.0),
            heading=None if heading is None else heading % 360.0,
            accuracy=optional_number(msg, "accuracy", lo=0.0),
            battery=optional_number(msg, "battery", lo=0.0, hi=100.0),
            status=optional_str(msg, "status"),
            name=name,
            department=department,
            source=SOURCE,
            crs=crs or "wgs84",  # type: ignore[arg-type]
        )
    ]


def _coord(msg: Json, key: str) -> float:
    # Range is the validate step's job (COORD_OUT_OF_RANGE); here only "is it a finite number".
    value = msg.get(key)
    if value is None:
        raise Rejected(Reason.MISSING_FIELD, f"required field '{key}' is missing")
    return to_number(value, key)


def _same(msg: Json, key: str, expected: str, where: str) -> None:
    value = msg.get(key)
    if value is not None and to_id(value, key) != expected:
        raise Rejected(
            Reason.WRONG_TYPE,
            f"'{key}' is {value!r} but the {where} is {expected!r}; fix the publisher's topic or payload",
        )


# --- gridwall/video/<camera_id> --------------------------------------------------------------


def decode_video(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    (camera_id,) = topic_levels(topic, 1, "gridwall/video/<camera_id>")
    msg = load_object(payload)
    _same(msg, "camera_id", camera_id, "topic camera")
    camera = ctx.camera(camera_id)

    lat = optional_number(msg, "lat")
    lon = optional_number(msg, "lon")
    if (lat is None) != (lon is None):
        raise Rejected(Reason.MISSING_FIELD, "an alert needs both 'lat' and 'lon', or neither")
    crs = optional_crs(msg)
    if lat is None and camera is not None:  # a fixed camera's place comes from feeds.cameras
        lat, lon, crs = camera.lat, camera.lon, camera.crs

    alert_id = msg.get("alert_id")
    if alert_id is None:
        alert_id = msg.get("id")  # short form, as Frigate names it
    if alert_id is None:
        raise Rejected(Reason.MISSING_FIELD, "required field 'alert_id' is missing")
    severity = optional_str(msg, "severity") or "detection"
    if severity not in _SEVERITIES:
        raise Rejected(Reason.WRONG_TYPE, f"'severity' is {severity!r}; expected detection, alert or critical")
    return [
        Alert(
            alert_id=to_id(alert_id, "alert_id"),
            camera_id=camera_id,
            type=require_str(msg, "type"),
            state=require_choice(msg, "state", _ALERT_STATES),  # type: ignore[arg-type]
            start=require_time(msg, "start", naive_offset_s=ctx.naive_offset_s),
            lat=lat,
            lon=lon,
            end=optional_time(msg, "end", naive_offset_s=ctx.naive_offset_s),
            confidence=_confidence(msg),
            snapshot_url=optional_str(msg, "snapshot_url"),
            severity=severity,
            source=SOURCE,
            crs=crs or "wgs84",  # type: ignore[arg-type]
        )
    ]


def _confidence(msg: Json) -> float | None:
    value = msg.get("confidence")
    if value is None:
        return None
    number = to_number(value, "confidence")
    if not 0.0 <= number <= 1.0:
        raise Rejected(Reason.WRONG_TYPE, f"'confidence' is {value!r}; send a fraction 0..1 (87 % is 0.87)")
    return number


# --- gridwall/case/<case_id> -----------------------------------------------------------------

# Case fields this feed carries, nested under "case" (canonical) or flat beside the event
# fields (accepted too). Anything else is dropped: the case record is a contract, not a bag.
# Public: `gridwall import` takes the same fields from a CSV export (feeds/import_cmd.py).
CASE_STR_FIELDS: Final = (
    "source", "category", "class_code", "small_code", "grid_code", "department", "condition",
    "title", "description", "address", "media_url", "ticket",
    "extension",  # 延期: the approved time on the case's clock, e.g. "1 工作日"
    "note",  # 督办 (and any action): what the sender says with it
)  # fmt: skip


def decode_case(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    (case_id,) = topic_levels(topic, 1, "gridwall/case/<case_id>")
    msg = load_object(payload)
    _same(msg, "case_id", case_id, "topic case")

    action = require_str(msg, "action")
    if action not in _ACTIONS:
        raise Rejected(
            Reason.UNKNOWN_ACTION,
            f"action {action!r} is not a case action ({', '.join(sorted(_ACTIONS))})",
        )
    time_key = "ts" if "ts" in msg and "time" not in msg else "time"  # "ts" as on GPS
    nested = optional_object(msg, "case")
    return [
        CaseEvent(
            event_id=require_id(msg, "event_id"),
            case_id=case_id,
            action=action,
            ts=require_time(msg, time_key, naive_offset_s=ctx.naive_offset_s),
            actor=optional_str(msg, "actor"),
            case=case_fields(nested if nested is not None else {}, msg, ctx),
            source=SOURCE,
        )
    ]


def case_fields(nested: Json, flat: Json, ctx: DecodeContext) -> dict[str, Any]:
    """The case dict from the nested object, with flat fields filling what it lacks."""
    at = "case." if nested else ""
    merged = {**flat, **nested} if nested else flat
    case: dict[str, Any] = {}
    for key in CASE_STR_FIELDS:
        # Codes stay strings: a grid code as a JSON number would survive, but small codes
        # such as 0101 lose their leading zero, so numbers are refused for all of them.
        value = optional_str(merged, key, at)
        if value is not None:
            case[key] = value
    lat = optional_number(merged, "lat", at)
    lon = optional_number(merged, "lon", at)
    if (lat is None) != (lon is None):
        raise Rejected(Reason.MISSING_FIELD, f"case location needs both '{at}lat' and '{at}lon'")
    if lat is not None:
        case["lat"], case["lon"] = lat, lon
        crs = optional_crs(merged, "crs", at)
        if crs is not None:
            case["crs"] = crs
    urgent = optional_bool(merged, "urgent", at)
    if urgent is None and merged.get("urgency") is not None:
        urgent = _urgency(merged["urgency"], at)
    if urgent is not None:
        case["urgent"] = urgent
    deadline = merged.get("deadline")
    if deadline is not None:
        case["deadline"] = parse_time(deadline, at + "deadline", ctx.naive_offset_s)
    # 督办: the deadline a leader asks for. A request only: the lifecycle never reads it (the
    # case system answers with 延期).
    request = merged.get("deadline_request")
    if request is not None:
        case["deadline_request"] = parse_time(request, at + "deadline_request", ctx.naive_offset_s)
    return case


# Public for the same reason: a CSV column "urgent" may hold these words.
URGENCY_WORDS: Final = {"urgent": True, "紧急": True, "general": False, "normal": False, "一般": False}


def _urgency(value: Any, at: str) -> bool:
    if type(value) is bool:
        return value
    flag = URGENCY_WORDS.get(value) if type(value) is str else None
    if flag is None:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}urgency' is {value!r}; send urgent: true/false")
    return flag


# The formats this module decodes (feeds/decoders/format.py): the registry, the default topics
# and their QoS are read from here.
FORMATS: Final = (
    Format("native.gps", topics=("gridwall/gps/+/+",), qos=0, feed="gps", decode=decode_gps),
    Format("native.video", topics=("gridwall/video/+",), qos=1, feed="video", decode=decode_video),
    Format("native.case", topics=(CASE_TOPIC.format(case_id="+"),), qos=1, feed="case", decode=decode_case),
)
