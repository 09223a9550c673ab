"""What a decoder may know besides the message: the clock and the deployment's configuration.

Decoders are pure functions of (topic, payload, context); everything a city configures (which
device is which, where each camera hangs, what a Frigate label means, how Open311 services map
to categories) comes in here, the way Traccar injects configuration into its handlers. The
context is frozen so one instance can be shared by every message; the worker refreshes the clock
with ``ctx.at(time.time())`` (cheap: one copy), e.g. once per batch or per second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from dashboard.casework.timelimits import normalise_category
from dashboard.records import Crs, DeviceKind
from feeds.rejects import Reason, Rejected

_EMPTY: Mapping[str, Any] = MappingProxyType({})

# [D] Proposed defaults, not from any standard: Frigate ships COCO labels; these map the ones a
# street camera sees to the video-AI types of docs/domain.md §7. AI hits go to human review
# (受理) before 立案, so a generous mapping costs a glance, not a wrong case. Configure per city.
DEFAULT_FRIGATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "person": "占道经营",  # street cameras in 数字城管 watch vending hot spots
        "car": "机动车乱停放",
        "bus": "机动车乱停放",
        "truck": "机动车乱停放",
        "motorcycle": "非机动车乱停放",
        "bicycle": "非机动车乱停放",
        "umbrella": "占道撑伞",
        "fire": "烟火",
        "smoke": "烟火",
    }
)

DEFAULT_VEHICLE_SUBTYPES: frozenset[str] = frozenset({"enforcement", "muck_truck", "sanitation"})


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the city knows about one device (key: the record's device_id)."""

    kind: DeviceKind | None = None
    subtype: str | None = None
    department: str | None = None
    name: str | None = None
    crs: Crs | None = None  # e.g. a phone whose OS reports GCJ-02


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A fixed camera: Frigate and other NVRs do not send where the camera is."""

    lat: float
    lon: float
    name: str | None = None
    department: str | None = None
    crs: Crs = "wgs84"


@dataclass(frozen=True, slots=True)
class ServiceCategory:
    """Where an Open311 service lands in the city's catalogue (docs/domain.md §3)."""

    category: str
    small_code: str | None = None


@dataclass(frozen=True, slots=True)
class DecodeContext:
    now: float  # UTC epoch seconds; for times the message does not carry (OwnTracks lwt)
    devices: Mapping[str, DeviceInfo] = field(default_factory=lambda: _EMPTY)
    cameras: Mapping[str, CameraInfo] = field(default_factory=lambda: _EMPTY)
    frigate_labels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_FRIGATE_LABELS)
    open311_services: Mapping[str, ServiceCategory] = field(default_factory=lambda: _EMPTY)
    vehicle_subtypes: frozenset[str] = DEFAULT_VEHICLE_SUBTYPES
    # Refuse devices and cameras that are not in the maps (Reason.UNKNOWN_DEVICE). Off by default:
    # the simulator and field devices describe themselves on the native topics.
    strict_devices: bool = False
    # Seconds east of UTC to assume for ISO times without an offset; None refuses them.
    naive_offset_s: int | None = None
    frigate_base_url: str | None = None  # e.g. "http://frigate:5000", for snapshot links
    open311_case_source: str = "public"  # 案件来源 of Open311 requests: 公众举报

    def at(self, now: float) -> DecodeContext:
        return replace(self, now=now)

    def device(self, device_id: str) -> DeviceInfo | None:
        """The configured entry, None for an unknown device, or UNKNOWN_DEVICE when strict."""
        info = self.devices.get(device_id)
        if info is None and self.strict_devices:
            raise Rejected(
                Reason.UNKNOWN_DEVICE,
                f"device {device_id!r} is not in feeds.devices and strict_devices is on; "
                "add it there or turn strict_devices off",
            )
        return info

    def camera(self, camera_id: str) -> CameraInfo | None:
        info = self.cameras.get(camera_id)
        if info is None and self.strict_devices:
            raise Rejected(
                Reason.UNKNOWN_DEVICE,
                f"camera {camera_id!r} is not in feeds.cameras and strict_devices is on; add it there with its lat/lon",
            )
        return info

    @classmethod
    def from_config(cls, section: Mapping[str, Any], now: float = 0.0) -> DecodeContext:
        """Build from the ``feeds`` section of the configuration (docs/mqtt.md, "Configuration").

        Raises ValueError on a malformed section: configuration errors stop the start-up, they
        are not dead letters.
        """
        labels = dict(DEFAULT_FRIGATE_LABELS)
        labels.update({str(k): str(v) for k, v in (section.get("frigate_labels") or {}).items()})
        subtypes = section.get("vehicle_subtypes")
        return cls(
            now=now,
            devices=MappingProxyType({str(k): _device(k, v) for k, v in (section.get("devices") or {}).items()}),
            cameras=MappingProxyType({str(k): _camera(k, v) for k, v in (section.get("cameras") or {}).items()}),
            frigate_labels=MappingProxyType(labels),
            open311_services=MappingProxyType(
                {str(k): _service(k, v) for k, v in (section.get("open311_services") or {}).items()}
            ),
            vehicle_subtypes=(frozenset(map(str, subtypes)) if subtypes is not None else DEFAULT_VEHICLE_SUBTYPES),
            strict_devices=bool(section.get("strict_devices", False)),
            naive_offset_s=parse_utc_offset(section.get("naive_time", "reject")),
            frigate_base_url=(
                str(section["frigate_base_url"]).rstrip("/") if section.get("frigate_base_url") else None
            ),
            open311_case_source=str(section.get("open311_case_source", "public")),
        )


_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_utc_offset(value: Any) -> int | None:
    """``"reject"``/None -> None; ``"+08:00"`` -> 28800."""
    if value is None or value == "reject":
        return None
    match = _OFFSET.match(str(value).strip())
    if not match:
        raise ValueError(f"feeds.naive_time must be 'reject' or an offset like '+08:00', not {value!r}")
    sign = -1 if match.group(1) == "-" else 1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3)) * 60)


_KINDS = ("collector", "vehicle")
_CRS = ("wgs84", "gcj02", "bd09")


def _device(key: Any, value: Any) -> DeviceInfo:
    if not isinstance(value, Mapping):
        raise ValueError(f"feeds.devices.{key} must be a mapping")
    kind = value.get("kind")
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"feeds.devices.{key}.kind must be collector or vehicle, not {kind!r}")
    crs = value.get("crs")
    if crs is not None and crs not in _CRS:
        raise ValueError(f"feeds.devices.{key}.crs must be wgs84, gcj02 or bd09, not {crs!r}")
    return DeviceInfo(
        kind=kind,
        subtype=_opt_str(value.get("subtype")),
        department=_opt_str(value.get("department")),
        name=_opt_str(value.get("name")),
        crs=crs,
    )


def _camera(key: Any, value: Any) -> CameraInfo:
    if not isinstance(value, Mapping) or "lat" not in value or "lon" not in value:
        raise ValueError(f"feeds.cameras.{key} needs lat and lon")
    crs = value.get("crs", "wgs84")
    if crs not in _CRS:
        raise ValueError(f"feeds.cameras.{key}.crs must be wgs84, gcj02 or bd09, not {crs!r}")
    return CameraInfo(
        lat=float(value["lat"]),
        lon=float(value["lon"]),
        name=_opt_str(value.get("name")),
        department=_opt_str(value.get("department")),
        crs=crs,
    )


def _service(key: Any, value: Any) -> ServiceCategory:
    if isinstance(value, str):
        value = {"category": value}
    if not (isinstance(value, Mapping) and value.get("category")):
        raise ValueError(f"feeds.open311_services.{key} must be a category or {{category, small_code}}")
    try:
        # The lifecycle takes component (部件) or event (事件) only: say so at start-up.
        category = normalise_category(value["category"])
    except ValueError as exc:
        raise ValueError(f"feeds.open311_services.{key}: {exc}") from None
    return ServiceCategory(category=category, small_code=_opt_str(value.get("small_code")))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
