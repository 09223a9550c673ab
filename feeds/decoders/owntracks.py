"""OwnTracks phone app: ``owntracks/<user>/<device>[/<subtopic>]`` (booklet docs/tech/json.md).

Dispatch by ``_type`` through one registry, as Home Assistant's owntracks/messages.py does:
location and lwt become records; the types that are valid OwnTracks but mean nothing on the wall
are registered to ``_ignore`` (decoded to no record, not a dead letter); only a type nobody
registered, or one we cannot read, is refused.

Device ids are ``owntracks:<user>/<device>``; kind, subtype and department come from
feeds.devices under that id, and a phone nobody listed is taken as a collector (监督员 carry the
phones; vehicles carry terminals).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dashboard.records import DeviceStatus, Position, Record
from feeds.decoders._fields import (
    Json,
    load_object,
    optional_number,
    optional_str,
    require_number,
    require_str,
    require_time,
    unknown_if_negative,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format
from feeds.rejects import Reason, Rejected

SOURCE: Final = "owntracks"
Handler = Callable[[str, Json, DecodeContext], list[Record]]


def decode(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    parts = topic.split("/")
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise Rejected(Reason.UNKNOWN_TOPIC, f"topic {topic!r} is not of the form owntracks/<user>/<device>")
    device_id = f"owntracks:{parts[1]}/{parts[2]}"
    msg = load_object(payload)
    msg_type = require_str(msg, "_type")
    handler = HANDLERS.get(msg_type)
    if handler is None:
        raise Rejected(
            Reason.UNSUPPORTED,
            f"OwnTracks _type {msg_type!r} is unknown to gridwall (known: {', '.join(sorted(HANDLERS))})",
        )
    return handler(device_id, msg, ctx)


def _location(device_id: str, msg: Json, ctx: DecodeContext) -> list[Record]:
    info = ctx.device(device_id)
    # Older app versions sent numbers as strings, hence strings=True throughout.
    battery = optional_number(msg, "batt", strings=True)
    return [
        Position(
            device_id=device_id,
            kind=(info.kind if info and info.kind else "collector"),
            lat=require_number(msg, "lat", strings=True),
            lon=require_number(msg, "lon", strings=True),
            ts=require_time(msg, "tst", naive_offset_s=ctx.naive_offset_s),
            subtype=info.subtype if info else None,
            speed=unknown_if_negative(optional_number(msg, "vel", strings=True)),  # km/h
            heading=_heading(optional_number(msg, "cog", strings=True)),
            accuracy=unknown_if_negative(optional_number(msg, "acc", strings=True)),
            battery=battery if battery is not None and 0 <= battery <= 100 else None,
            name=(info.name if info and info.name else optional_str(msg, "tid")),
            department=info.department if info else None,
            source=SOURCE,
            crs=(info.crs if info and info.crs else "wgs84"),
        )
    ]


def _heading(cog: float | None) -> float | None:
    return None if cog is None or cog < 0 else cog % 360.0


def _lwt(device_id: str, msg: Json, ctx: DecodeContext) -> list[Record]:
    info = ctx.device(device_id)
    # The lwt's tst is when the app first connected, not when it dropped: the broker publishes
    # the will on disconnect, so the moment we receive it is the best offline time we have.
    return [
        DeviceStatus(
            device_id=device_id,
            online=False,
            ts=ctx.now,
            kind=(info.kind if info and info.kind else "collector"),
            source=SOURCE,
        )
    ]


def _ignore(_device_id: str, _msg: Json, _ctx: DecodeContext) -> list[Record]:
    return []


def _encrypted(_device_id: str, _msg: Json, _ctx: DecodeContext) -> list[Record]:
    raise Rejected(
        Reason.UNSUPPORTED,
        "the app encrypts its payloads and gridwall holds no key; turn encryption off "
        "in the OwnTracks app for this device",
    )


HANDLERS: Final[dict[str, Handler]] = {
    "location": _location,
    "lwt": _lwt,
    "encrypted": _encrypted,
    # Known but ignored on purpose: region events, config, UI cards, commands, steps, beacons.
    # gridwall computes grid enter/leave itself from positions.
    "transition": _ignore,
    "waypoint": _ignore,
    "waypoints": _ignore,
    "card": _ignore,
    "cmd": _ignore,
    "configuration": _ignore,
    "beacon": _ignore,
    "steps": _ignore,
    "status": _ignore,
    "request": _ignore,
}


# The format this module decodes (feeds/decoders/format.py). ``+/+`` carries location and lwt;
# transitions come on ``…/event``, which the default does not subscribe to.
FORMATS: Final = (Format("owntracks", topics=("owntracks/+/+",), qos=0, feed="gps", decode=decode),)
