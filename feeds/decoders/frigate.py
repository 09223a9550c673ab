"""Frigate NVR: ``frigate/events`` (one message per tracked object) and ``frigate/reviews``
(one per incident, Frigate 0.14+). Both carry ``{type, before, after}``; ``after`` is the state
now, so it is the one decoded.

Frigate says nothing about where a camera is or what its labels mean for a city: the camera's
place comes from feeds.cameras and the label's alert type from feeds.frigate_labels. A label
with no alert type is refused (UNSUPPORTED) so an operator sees which mapping is missing, rather
than the alert vanishing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from dashboard.records import Alert, Record
from feeds.decoders._fields import (
    Json,
    load_object,
    optional_list,
    optional_number,
    optional_object,
    optional_str,
    optional_time,
    require_id,
    require_object,
    require_str,
    require_time,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format
from feeds.rejects import Reason, Rejected

SOURCE: Final = "frigate"
Handler = Callable[[str, Json, DecodeContext], list[Record]]


def decode_event(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    return _dispatch(EVENT_HANDLERS, "frigate/events", payload, ctx)


def decode_review(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    return _dispatch(REVIEW_HANDLERS, "frigate/reviews", payload, ctx)


def _dispatch(handlers: dict[str, Handler], feed: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    msg = load_object(payload)
    msg_type = require_str(msg, "type")
    handler = handlers.get(msg_type)
    if handler is None:
        raise Rejected(
            Reason.UNSUPPORTED,
            f"{feed} type {msg_type!r} is unknown to gridwall (known: {', '.join(sorted(handlers))})",
        )
    return handler(msg_type, msg, ctx)


# --- frigate/events --------------------------------------------------------------------------


def _object_alert(state: str, msg: Json, ctx: DecodeContext) -> list[Record]:
    after = require_object(msg, "after")
    # Frigate publishes once an object stops being a false positive; an explicit true here is
    # a detection it has itself retracted.
    if after.get("false_positive") is True:
        return []
    event_id = require_id(after, "id", "after.")
    camera_id = require_str(after, "camera", "after.")
    label = require_str(after, "label", "after.")
    alert_type = _alert_type(label, ctx, camera_id)
    camera = ctx.camera(camera_id)
    # top_score is the best score over the object's life, which is what the alert claims;
    # the current frame's score is the fallback for older versions.
    confidence = optional_number(after, "top_score", "after.", lo=0.0, hi=1.0)
    if confidence is None:
        confidence = optional_number(after, "score", "after.", lo=0.0, hi=1.0)
    snapshot_url = None
    if ctx.frigate_base_url and after.get("has_snapshot") is True:
        snapshot_url = f"{ctx.frigate_base_url}/api/events/{event_id}/snapshot.jpg"
    return [
        Alert(
            alert_id=event_id,
            camera_id=camera_id,
            type=alert_type,
            state=state,  # type: ignore[arg-type]  # registry keys are new/update/end
            start=require_time(after, "start_time", "after."),
            lat=camera.lat if camera else None,
            lon=camera.lon if camera else None,
            end=optional_time(after, "end_time", "after."),
            confidence=confidence,
            snapshot_url=snapshot_url,
            severity="detection",
            source=SOURCE,
            crs=camera.crs if camera else "wgs84",
        )
    ]


EVENT_HANDLERS: Final[dict[str, Handler]] = {
    "new": _object_alert,
    "update": _object_alert,
    "end": _object_alert,
}


# --- frigate/reviews -------------------------------------------------------------------------


def _review_alert(state: str, msg: Json, ctx: DecodeContext) -> list[Record]:
    after = require_object(msg, "after")
    review_id = require_id(after, "id", "after.")
    camera_id = require_str(after, "camera", "after.")
    data = optional_object(after, "data", "after.") or {}
    alert_type = _review_type(optional_list(data, "objects", "after.data."), ctx, camera_id)
    camera = ctx.camera(camera_id)
    severity = optional_str(after, "severity", "after.") or "detection"
    return [
        Alert(
            alert_id=review_id,
            camera_id=camera_id,
            type=alert_type,
            state=state,  # type: ignore[arg-type]
            start=require_time(after, "start_time", "after."),
            lat=camera.lat if camera else None,
            lon=camera.lon if camera else None,
            end=optional_time(after, "end_time", "after."),
            confidence=None,  # a review groups objects; it has no score of its own
            snapshot_url=_thumb_url(after, ctx),
            severity=severity,
            source=SOURCE,
            crs=camera.crs if camera else "wgs84",
        )
    ]


def _review_type(objects: list[Any], ctx: DecodeContext, camera_id: str) -> str:
    labels = []
    for item in objects:
        if type(item) is str:
            # Frigate marks objects with a recognised sub label as "<label>-verified".
            label = item.removesuffix("-verified")
            alert_type = ctx.frigate_labels.get(label)
            if alert_type is not None:
                return alert_type
            labels.append(label)
    if not labels:
        raise Rejected(Reason.MISSING_FIELD, "review has no 'after.data.objects' to name the alert")
    return _alert_type(labels[0], ctx, camera_id)  # raises, naming the unmapped label


def _thumb_url(after: Json, ctx: DecodeContext) -> str | None:
    # thumb_path is a path inside Frigate's container (/media/frigate/clips/...), which
    # Frigate's web server publishes under /clips/.
    path = after.get("thumb_path")
    if not ctx.frigate_base_url or type(path) is not str or not path.startswith("/media/frigate/"):
        return None
    return ctx.frigate_base_url + "/" + path.removeprefix("/media/frigate/")


REVIEW_HANDLERS: Final[dict[str, Handler]] = {
    "new": _review_alert,
    "update": _review_alert,
    "end": _review_alert,
    # Known but ignored: newer Frigate publishes GenAI summaries of a review; text, no alert.
    "genai": lambda _s, _m, _c: [],
}


def _alert_type(label: str, ctx: DecodeContext, camera_id: str) -> str:
    alert_type = ctx.frigate_labels.get(label)
    if alert_type is None:
        raise Rejected(
            Reason.UNSUPPORTED,
            f"Frigate label {label!r} (camera {camera_id!r}) has no alert type; add it to "
            "feeds.frigate_labels or stop tracking it in Frigate",
        )
    return alert_type


# The formats this module decodes (feeds/decoders/format.py).
FORMATS: Final = (
    Format("frigate.events", topics=("frigate/events",), qos=1, feed="video", decode=decode_event),
    Format("frigate.reviews", topics=("frigate/reviews",), qos=1, feed="video", decode=decode_review),
)
