"""Positions: fold a batch of fixes into one hot-store write per device, decide which fixes
go into the SQL history (downsampled for replay: one per device per interval, or a turn), and
which devices of a batch the hot state has no room for (``max_devices``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from dashboard.records import Position
from dashboard.store.hot import DeviceFix
from feeds.steps.batch import Message


def newest_fixes(positions: Iterable[Position]) -> dict[str, float]:
    """Each device's newest fix time in the batch (what admit_devices registers it with)."""
    out: dict[str, float] = {}
    for p in positions:
        if p.ts > out.get(p.device_id, float("-inf")):
            out[p.device_id] = p.ts
    return out


def no_room(device_id: str, max_devices: int) -> str:
    """The dead letter's sentence for a fix refused because the hot state is full."""
    return (f"device {device_id!r} is new and the live picture already holds max_devices ({max_devices}) "
            "devices; it is taken once silent devices are pruned (device_retention_s) or the bound is raised")


def fix_message(p: Position, received: float) -> Message:
    """A message that stands for one decoded fix, for its dead letter: the store step refuses
    fixes by device, after decoding, when the message they came in is no longer at hand (as the
    park step names an event it retried). The payload is the fix as decoded."""
    return Message(f"gridwall/gps/{p.kind}/{p.device_id}", orjson.dumps(dataclasses.asdict(p)), received)


def without(positions: Sequence[Position], refused: set[str]) -> list[Position]:
    return [p for p in positions if p.device_id not in refused] if refused else list(positions)


def device_doc(p: Position) -> dict[str, object]:
    """What a screen needs of a device: short keys, no nulls, coordinates to ~0.1 m."""
    doc: dict[str, object] = {"id": p.device_id, "kind": p.kind, "lat": round(p.lat, 6), "lon": round(p.lon, 6), "ts": p.ts}
    for key in ("subtype", "speed", "heading", "battery", "status", "name", "department", "grid_code"):
        value = getattr(p, key)
        if value is not None:
            doc[key] = round(value, 1) if isinstance(value, float) else value
    return doc


def fold(positions: Iterable[Position]) -> list[DeviceFix]:
    """Latest fix per device, carrying every fix of the batch (time order) for its trail."""
    by_device: dict[str, list[Position]] = {}
    for p in positions:
        by_device.setdefault(p.device_id, []).append(p)
    fixes = []
    for device_id, ps in by_device.items():
        ps.sort(key=lambda p: p.ts)
        last = ps[-1]
        fixes.append(DeviceFix(device_id, last.ts, last.lat, last.lon, device_doc(last),
                               trail=[(p.lon, p.lat, p.ts) for p in ps]))
    return fixes


@dataclass
class _Kept:
    ts: float
    heading: float | None
    moving: bool


class Downsampler:
    """Keeps a fix for history when interval_s has passed since the last kept one for that
    device, when the heading turned by turn_deg or more, or when the device stopped or started.
    Memory is one small entry per device, so it is bounded by the fleet size."""

    def __init__(self, interval_s: float = 30.0, turn_deg: float = 45.0, stop_kmh: float = 2.0) -> None:
        self.interval_s = interval_s
        self.turn_deg = turn_deg
        self.stop_kmh = stop_kmh
        self._kept: dict[str, _Kept] = {}

    def keep(self, p: Position) -> bool:
        moving = (p.speed or 0.0) > self.stop_kmh
        prev = self._kept.get(p.device_id)
        if prev is not None and p.ts <= prev.ts:
            return False  # older or repeated fix (reordered delivery): history has a newer one
        take = (
            prev is None
            or p.ts - prev.ts >= self.interval_s
            or moving != prev.moving
            or (p.heading is not None and prev.heading is not None and _turn(prev.heading, p.heading) >= self.turn_deg)
        )
        if take:
            self._kept[p.device_id] = _Kept(p.ts, p.heading, moving)
        return take

    def forget(self, device_ids: Iterable[str]) -> None:
        """Drop what is kept for devices that left the hot state (HotStore.prune_devices), so a
        fleet whose ids change over the years does not grow this forever."""
        for device_id in device_ids:
            self._kept.pop(device_id, None)


def _turn(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d
