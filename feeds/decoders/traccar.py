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

from dashboard import limits
from dashboard.casework.supervision import DEVICE_ALARM, OFFLINE, OVERSPEED, ZONE
from dashboard.records import AlarmPhase, DeviceAlarm, DeviceKind, DeviceStatus, Position, Record
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


def _event_time(event: Json, ctx: DecodeContext) -> float:
    key = "eventTime" if "eventTime" in event else "serverTime"
    return require_time(event, key, "event.", naive_offset_s=ctx.naive_offset_s)


def _who(msg: Json, ctx: DecodeContext) -> tuple[str, DeviceKind]:
    device = require_object(msg, "device")
    device_id = _device_id(device)
    info = ctx.device(device_id)
    return device_id, info.kind if info and info.kind else _kind_from_category(device)


def _alarm(msg: Json, ctx: DecodeContext, rule: str, phase: AlarmPhase, key: str = "",
           detail: str | None = None) -> DeviceAlarm:
    """An alarm the watch step runs through the supervision's lifecycle (feeds/steps/watch.py),
    at the event's position when Traccar sent one."""
    event = require_object(msg, "event")
    device_id, kind = _who(msg, ctx)
    position = optional_object(msg, "position", "")
    lat = optional_number(position, "latitude", "position.") if position else None
    lon = optional_number(position, "longitude", "position.") if position else None
    if lat is None or lon is None:
        lat = lon = None
    return DeviceAlarm(device_id=device_id, rule=rule, phase=phase, ts=_event_time(event, ctx), key=key,
                       lat=lat, lon=lon, kind=kind, detail=detail, source=SOURCE)


def _online(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    """Online or offline: the device's state, and the offline alarm's start or end (Traccar
    decided it with its own timeout; gridwall's sweep decides it too, and the lifecycle keeps
    one alarm whoever says it first)."""
    device_id, kind = _who(msg, ctx)
    online = event_type == "deviceOnline"
    return [
        DeviceStatus(device_id=device_id, online=online, ts=_event_time(event, ctx), kind=kind, source=SOURCE),
        _alarm(msg, ctx, OFFLINE, "end" if online else "start"),
    ]


def _geofence(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    """In or out of one of Traccar's geofences: the zone alarm, one per geofence."""
    geofence = optional_object(msg, "geofence", "") or {}
    gid = event.get("geofenceId") or geofence.get("id")
    if isinstance(gid, bool) or not isinstance(gid, int | str) or gid in (0, ""):
        raise Rejected(Reason.MISSING_FIELD, f"Traccar {event_type} without event.geofenceId: which geofence is it?")
    name = geofence.get("name") if isinstance(geofence.get("name"), str) else None
    return [_alarm(msg, ctx, ZONE, "start" if event_type == "geofenceEnter" else "end", str(gid), name)]


def _overspeed(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    """Traccar's overspeed is an instant (it fires once per episode): told, not held."""
    attributes = optional_object(event, "attributes", "event.") or {}
    knots = optional_number(attributes, "speed", "event.attributes.", lo=0.0)
    detail = None if knots is None else f"{knots * KNOTS_TO_KMH:.0f} km/h"
    return [_alarm(msg, ctx, OVERSPEED, "once", "", detail)]


def _device_alarm(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    """A device's own alarm (sos, powerCut, vibration, ...; Traccar may join several with commas)."""
    attributes = optional_object(event, "attributes", "event.") or {}
    kind = optional_str(attributes, "alarm", "event.attributes.") or "unknown"
    kind = kind[:limits.ALARM_KEY]
    return [_alarm(msg, ctx, DEVICE_ALARM, "once", kind, kind)]


def _ignition(event_type: str, event: Json, msg: Json, ctx: DecodeContext) -> list[Record]:
    """Ignition on or off: the vehicle's state (it says nothing about a rule)."""
    device_id, kind = _who(msg, ctx)
    return [DeviceStatus(device_id=device_id, online=None, ts=_event_time(event, ctx), kind=kind, source=SOURCE,
                         ignition=event_type == "ignitionOn")]


def _ignore(_t: str, _e: Json, _m: Json, _c: DecodeContext) -> list[Record]:
    return []


EVENT_HANDLERS: Final[dict[str, EventHandler]] = {
    "deviceOnline": _online,
    "deviceOffline": _online,
    # Traccar's own verdicts become the supervision's alarms (docs/supervision.md "The devices'
    # platforms' own alarms"), through the same lifecycle as gridwall's rules.
    "geofenceEnter": _geofence,
    "geofenceExit": _geofence,
    "deviceOverspeed": _overspeed,
    "alarm": _device_alarm,
    "ignitionOn": _ignition,
    "ignitionOff": _ignition,
    # Known but ignored on purpose: moving/stopped and unknown/inactive are states gridwall reads
    # from the fixes themselves; fuel, maintenance, messages, drivers, commands and media are no
    # part of the supervision.
    "deviceUnknown": _ignore,
    "deviceInactive": _ignore,
    "deviceMoving": _ignore,
    "deviceStopped": _ignore,
    "deviceFuelDrop": _ignore,
    "deviceFuelIncrease": _ignore,
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
