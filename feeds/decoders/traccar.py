"""Traccar server forwarding (``forward.type=mqtt``): positions and events as JSON.

``traccar/positions`` carries ``{position, device}`` (PositionData), ``traccar/events`` carries
``{event, position, device, geofence, maintenance}`` (EventData). Units follow Traccar's model:
speed in KNOTS, course in degrees, times ISO 8601 with ``+00:00`` or ``+0000``.

Device ids are ``traccar:<uniqueId>`` (the IMEI or the id the device was registered with): the
same id whatever server-side row number Traccar gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dashboard.records import DeviceKind, DeviceStatus, Position, Record
from feeds.decoders._fields import (
    Json,
    load_object,
    optional_number,
    optional_object,
    optional_str,
    require_id,
    require_number,
    require_object,
    require_str,
    require_time,
    unknown_if_negative,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format
from feeds.rejects import Reason, Rejected

SOURCE: Final = "traccar"
KNOTS_TO_KMH: Final = 1.852
EventHandler = Callable[[str, Json, Json, DecodeContext], list[Record]]


def decode_position(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    msg = load_object(payload)
    position = require_object(msg, "position")
    device = require_object(msg, "device")
    # Guard clauses first, like Traccar's FilterHandler: a fix the device itself marks invalid
    # repeats the last known place, and an outdated one is Traccar re-sending an old position.
    # Neither is news, so neither moves a marker. Ignored on purpose, not refused.
    if position.get("valid") is False or position.get("outdated") is True:
        return []
    device_id = _device_id(device)
    info = ctx.device(device_id)

    speed = optional_number(position, "speed", "position.", lo=0.0)
    course = optional_number(position, "course", "position.")
    attributes = optional_object(position, "attributes", "position.") or {}
    battery = optional_number(attributes, "batteryLevel", "position.attributes.")
    kind = info.kind if info and info.kind else _kind_from_category(device)
    return [
        Position(
            device_id=device_id,
            kind=kind,
            lat=require_number(position, "latitude", "position."),
            lon=require_number(position, "longitude", "position."),
            ts=_fix_time(position, ctx),
            subtype=info.subtype if info else None,
            speed=None if speed is None else speed * KNOTS_TO_KMH,
            heading=None if course is None or course < 0 else course % 360.0,
            # Traccar writes 0 when the protocol reports no accuracy.
            accuracy=unknown_if_negative(optional_number(position, "accuracy", "position.")) or None,
            battery=battery if battery is not None and 0 <= battery <= 100 else None,
            name=optional_str(device, "name", "device.") or (info.name if info else None),
            department=info.department if info else None,
            source=SOURCE,
            crs=(info.crs if info and info.crs else "wgs84"),
        )
    ]


def decode_event(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    msg = load_object(payload)
    event = require_object(msg, "event")
    event_type = require_str(event, "type", "event.")
    handler = EVENT_HANDLERS.get(event_type)
    if handler is None:
        raise Rejected(
            Reason.UNSUPPORTED,
            f"Traccar event type {event_type!r} is unknown to gridwall; see docs/mqtt.md",
        )
    return handler(event_type, event, msg, ctx)


def _online(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    device = require_object(msg, "device")
    device_id = _device_id(device)
    info = ctx.device(device_id)
    ts = (
        require_time(event, "eventTime", "event.", naive_offset_s=ctx.naive_offset_s)
        if "eventTime" in event
        else require_time(event, "serverTime", "event.", naive_offset_s=ctx.naive_offset_s)
    )
    return [
        DeviceStatus(
            device_id=device_id,
            online=event_type == "deviceOnline",
            ts=ts,
            kind=info.kind if info and info.kind else _kind_from_category(device),
            source=SOURCE,
        )
    ]


def _ignore(_t: str, _e: Json, _m: Json, _c: DecodeContext) -> list[Record]:
    return []


EVENT_HANDLERS: Final[dict[str, EventHandler]] = {
    "deviceOnline": _online,
    "deviceOffline": _online,
    # Known but ignored on purpose. gridwall decides offline-after-N-minutes from the positions,
    # and overspeed, stops and grid exits belong to its own detectors with the city's limits
    # (docs/domain.md §7; not built yet), so Traccar's verdicts would be a second, differently tuned opinion.
    # Alarms (sos, power cut, ...) are vehicle alarms, not video alerts: there is no camera.
    "deviceUnknown": _ignore,
    "deviceInactive": _ignore,
    "deviceMoving": _ignore,
    "deviceStopped": _ignore,
    "deviceOverspeed": _ignore,
    "deviceFuelDrop": _ignore,
    "deviceFuelIncrease": _ignore,
    "geofenceEnter": _ignore,
    "geofenceExit": _ignore,
    "alarm": _ignore,
    "ignitionOn": _ignore,
    "ignitionOff": _ignore,
    "maintenance": _ignore,
    "textMessage": _ignore,
    "driverChanged": _ignore,
    "commandResult": _ignore,
    "queuedCommandSent": _ignore,
    "media": _ignore,
}


def _device_id(device: Json) -> str:
    return "traccar:" + require_id(device, "uniqueId", "device.")


def _fix_time(position: Json, ctx: DecodeContext) -> float:
    key = "fixTime" if position.get("fixTime") is not None else "deviceTime"
    return require_time(position, key, "position.", naive_offset_s=ctx.naive_offset_s)


def _kind_from_category(device: Json) -> DeviceKind:
    # Traccar's device categories are icons (person, car, truck, bicycle, ...). Without a
    # feeds.devices entry, a "person" is a field collector and anything else a vehicle.
    category = device.get("category")
    return "collector" if category == "person" else "vehicle"


# The formats this module decodes (feeds/decoders/format.py). Device status counts with the
# positions (the gps feed), but must arrive: QoS 1.
FORMATS: Final = (
    Format("traccar.positions", topics=("traccar/positions",), qos=0, feed="gps", decode=decode_position),
    Format("traccar.events", topics=("traccar/events",), qos=1, feed="gps", decode=decode_event),
)
