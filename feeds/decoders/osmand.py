"""Traccar Client's JSON location (the "OsmAnd" JSON of the Traccar Client app), on MQTT.

The app POSTs it over HTTP to a Traccar server. Where a city bridges those posts to MQTT
(Node-RED, an nginx/Lua shim) gridwall takes them on ``osmand/<device_id>``:
``{"location": {"timestamp", "coords": {latitude, longitude, accuracy, speed (m/s), heading},
"is_moving", "battery": {"level": 0..1}, "activity": {"type"}}, "device_id"}``.

Phones are collectors unless the device map says otherwise; ids are ``osmand:<device_id>``.
"""

from __future__ import annotations

from typing import Final

from dashboard.records import Position, Record
from feeds.decoders._fields import (
    load_object,
    optional_number,
    optional_object,
    optional_str,
    require_id,
    require_number,
    require_object,
    require_time,
    unknown_if_negative,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format

SOURCE: Final = "osmand"
MS_TO_KMH: Final = 3.6


def decode(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    msg = load_object(payload)
    location = require_object(msg, "location")
    coords = require_object(location, "coords", "location.")
    device_id = f"{SOURCE}:{require_id(msg, 'device_id')}"
    info = ctx.device(device_id)
    speed = unknown_if_negative(optional_number(coords, "speed", "location.coords."))
    heading = unknown_if_negative(optional_number(coords, "heading", "location.coords."))
    battery = optional_object(location, "battery", "location.") or {}
    level = optional_number(battery, "level", "location.battery.", lo=0.0, hi=1.0)
    activity = optional_object(location, "activity", "location.") or {}
    moving = location.get("is_moving")
    return [
        Position(
            device_id=device_id,
            kind=info.kind if info and info.kind else "collector",
            lat=require_number(coords, "latitude", "location.coords."),
            lon=require_number(coords, "longitude", "location.coords."),
            ts=require_time(location, "timestamp", "location.", naive_offset_s=ctx.naive_offset_s),
            subtype=info.subtype if info else None,
            speed=None if speed is None else speed * MS_TO_KMH,
            heading=None if heading is None else heading % 360.0,
            # The app sends 0 when it has no accuracy estimate.
            accuracy=unknown_if_negative(optional_number(coords, "accuracy", "location.coords.")) or None,
            battery=None if level is None else level * 100.0,
            status=optional_str(activity, "type", "location.activity.")
            or (None if not isinstance(moving, bool) else ("moving" if moving else "still")),
            name=info.name if info else None,
            department=info.department if info else None,
            source=SOURCE,
            crs=(info.crs if info and info.crs else "wgs84"),
        )
    ]


# The format this module decodes (feeds/decoders/format.py).
FORMATS: Final = (Format("osmand", topics=("osmand/+",), qos=0, feed="gps", decode=decode),)
