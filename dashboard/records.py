"""The project's own records: what every decoder produces, whatever the wire format.

Nothing after the decoders knows which format a message came in (Traccar's rule). Units are
fixed here once: lat/lon in WGS-84 degrees (``crs`` says when a source sent GCJ-02/BD-09 and the
enrich step has not converted yet), speed in km/h, heading in degrees clockwise from north,
times as UTC epoch seconds (float).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Crs = Literal["wgs84", "gcj02", "bd09"]
DeviceKind = Literal["collector", "vehicle"]
AlertState = Literal["new", "update", "end"]
AlarmPhase = Literal["start", "end", "once"]


@dataclass(frozen=True, slots=True)
class Position:
    """One GPS fix of a collector or a vehicle."""

    device_id: str  # unique across sources, e.g. "C0012", "owntracks:alice/phone"
    kind: DeviceKind
    lat: float
    lon: float
    ts: float  # fix time, UTC epoch seconds
    subtype: str | None = None  # vehicles: enforcement, muck_truck, sanitation, ...
    speed: float | None = None  # km/h
    heading: float | None = None  # degrees, 0 = north
    accuracy: float | None = None  # metres
    battery: float | None = None  # percent 0..100
    status: str | None = None  # free text from the device, e.g. "patrol", "idle"
    name: str | None = None  # display name; personal data, masked in briefings
    department: str | None = None
    source: str = "native"  # which decoder made it
    crs: Crs = "wgs84"
    grid_code: str | None = None  # the unit grid (单元网格) it is in, set by the enrich step


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device went online/offline without a fix (OwnTracks lwt, Traccar deviceOffline), or its
    ignition went on or off (Traccar ignitionOn/ignitionOff): ``None`` is "not said"."""

    device_id: str
    online: bool | None
    ts: float
    kind: DeviceKind | None = None
    source: str = "native"
    ignition: bool | None = None


@dataclass(frozen=True, slots=True)
class DeviceAlarm:
    """A supervision alarm said by a device's own platform (Traccar's geofenceEnter/Exit,
    deviceOverspeed, alarm), not found by gridwall's rules. The watch step (feeds/steps/watch.py)
    turns it into an alarm in the alert stream as it does its own rules' findings, so that both
    start, end and count alike (docs/supervision.md)."""

    device_id: str
    rule: str  # one of dashboard.casework.supervision.RULES
    phase: AlarmPhase  # start/end: a condition that holds for a while; once: an instant (sos)
    ts: float
    key: str = ""  # which one of the rule's on this device: a geofence's id ("" when only one can be)
    lat: float | None = None
    lon: float | None = None
    kind: DeviceKind | None = None
    detail: str | None = None  # what the platform said of it: Traccar's alarm kind ("sos"), a geofence's name
    source: str = "native"


@dataclass(frozen=True, slots=True)
class Alert:
    """A video-AI alert. ``state`` follows Frigate's new/update/end."""

    alert_id: str
    camera_id: str
    type: str  # a video-AI type of docs/domain.md §7, e.g. "占道经营"
    state: AlertState
    start: float  # UTC epoch seconds
    lat: float | None = None
    lon: float | None = None
    end: float | None = None
    confidence: float | None = None  # 0..1
    snapshot_url: str | None = None
    severity: str = "detection"  # "detection" | "alert" (Frigate reviews) | "critical"
    source: str = "native"
    crs: Crs = "wgs84"
    grid_code: str | None = None  # set by the enrich step from the camera's place
    # A supervision alarm (made by the watch step, never sent by a camera): camera_id is then the
    # device's id, and these say which rule, which one of it, the device's type and department.
    rule: str | None = None
    alarm_key: str | None = None
    device_type: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One lifecycle action on one case (docs/domain.md §4).

    ``case`` carries the case fields that this event sets or changes (source, category,
    small_code, grid_code, lat, lon, department, urgent, condition, title, address,
    deadline for sources that fix it themselves such as Open311's expected_datetime).
    Only the first event of a case needs them; later events may repeat or change some.
    """

    event_id: str  # unique; QoS 1 redelivery is recognised by it
    case_id: str
    action: str  # one of dashboard.casework.actions.Action values
    ts: float  # UTC epoch seconds
    actor: str | None = None
    case: dict[str, Any] = field(default_factory=dict)
    source: str = "native"


Record = Position | DeviceStatus | DeviceAlarm | Alert | CaseEvent

# The case feed's topic (docs/mqtt.md §3.3): the native decoder subscribes to it with "+", the
# desk publishes its actions on it (dashboard/screens/desk_actions.py), one spelling for both.
CASE_TOPIC = "gridwall/case/{case_id}"


def event_digest(event: CaseEvent) -> str:
    """What a case event says, as 32 hex digits: an identical redelivery has the same digest, a
    different event under a reused ``event_id`` does not (a conflicting duplicate). The time is
    taken to the millisecond, as SQL keeps it."""
    body = orjson.dumps(
        [event.case_id, event.action, round(event.ts, 3), event.actor, event.source, event.case],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.blake2b(body, digest_size=16).hexdigest()
