"""The nearest collectors to a point (a case, an alert): the dispatch desk's "who can walk there".

Pure: the candidates come from the caller (dashboard/store/nearby.py reads them from the live geo
index), ``now`` is a parameter. This module decides three things, once for every caller:

- **distance**: great-circle metres from the point (``dashboard.geo.haversine_m``, the project's
  one distance), from the device's last fix;
- **walking time**: distance × ``DETOUR_FACTOR`` / ``WALKING_SPEED_MPS``. A collector walks
  streets, not the straight line: on a street grid the walk is ~1.27× the crow's distance on
  average (4/π for a square grid, over every direction), so 1.3; 1.2 m/s (4.3 km/h) is an
  unhurried walking pace, a common planning figure for pedestrians, inside the 3-5 km/h the simulator's
  collectors patrol at (docs/simulator.md). An estimate to compare candidates, not a route;
- **on duty**: a fix within the offline window (``OFFLINE_AFTER_S``, the same age that greys a
  marker on the wall and leaves it out of the online counts), not signed off by a status
  (``OFF_DUTY_STATUSES``: the simulator's last fix of a period says ``"off_duty"``) and not marked
  offline by a last will (``online: false``, as the wall's counts and the map read it).

Ranked by distance, then id, so equal distances never swap places between two requests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from dashboard.contract import OFFLINE_AFTER_S
from dashboard.geo import haversine_m

DETOUR_FACTOR: Final = 1.3  # street distance / straight-line distance on a street grid
WALKING_SPEED_MPS: Final = 1.2  # 4.3 km/h
COLLECTOR: Final = "collector"
# The device statuses (free text, dashboard/records.py Position.status) that mean signed off.
# Only values a source is known to send: the simulator's collectors (feeds/simulator/collectors.py).
# A device that sends its own word for it is added here, not guessed at.
OFF_DUTY_STATUSES: Final = frozenset({"off_duty"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One device near the point, as the live state knows it."""

    device_id: str
    lat: float
    lon: float
    last_fix: float  # its newest fix time, epoch s
    doc: Mapping[str, Any] = field(default_factory=dict)  # the hot doc: kind, status, online, name, ...


@dataclass(frozen=True, slots=True)
class Nearest:
    """A ranked collector: how far, how long on foot, and its doc for the desk to show."""

    device_id: str
    distance_m: float
    walk_s: float
    last_fix: float
    doc: Mapping[str, Any]

    def as_doc(self) -> dict[str, Any]:
        """The device doc with the ranking's numbers, rounded for a screen; personal fields are
        the caller's to mask (dashboard/access/masking.py ``Masking.device``)."""
        return {**self.doc, "id": self.device_id, "distance_m": round(self.distance_m, 1),
                "walk_s": round(self.walk_s), "last_fix": self.last_fix}


def check_point(lat: float, lon: float) -> None:
    """Refuse what is not a point on the Earth (ValueError): a NaN or a swapped pair must fail
    loudly, not rank every collector by a distance to nowhere."""
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, not {type(value).__name__}")
        if not math.isfinite(value) or abs(value) > bound:
            raise ValueError(f"{name} must be a finite number within ±{bound:g}, not {value!r}")


def fresh_since(now: float, offline_after_s: float = OFFLINE_AFTER_S) -> float:
    """The oldest fix time that still counts as on duty at ``now``: the wall's offline rule
    (offline once ``now - last fix > offline_after_s``), so a store can pre-filter by it."""
    return now - offline_after_s


def signed_off(status: Any, off_statuses: frozenset[str] = OFF_DUTY_STATUSES) -> bool:
    """A collector's last fix says it signed off (the supervision's rota asks this too)."""
    return str(status or "").strip().lower() in off_statuses


def on_duty(c: Candidate, now: float, offline_after_s: float = OFFLINE_AFTER_S,
            off_statuses: frozenset[str] = OFF_DUTY_STATUSES) -> bool:
    """Heard from within the offline window, not signed off, not offline by a last will."""
    if c.last_fix < fresh_since(now, offline_after_s):
        return False
    if c.doc.get("online") is False:  # a last will (OwnTracks lwt, Traccar deviceOffline)
        return False
    return not signed_off(c.doc.get("status"), off_statuses)


def _check_pace(detour: float, speed_mps: float) -> None:
    # A detour under 1 would walk shorter than the straight line; NaN fails both comparisons.
    if not (detour >= 1.0 and math.isfinite(detour) and speed_mps > 0.0 and math.isfinite(speed_mps)):
        raise ValueError(f"detour must be at least 1 and speed_mps positive, not {detour!r}, {speed_mps!r}")


def walking_time_s(distance_m: float, detour: float = DETOUR_FACTOR, speed_mps: float = WALKING_SPEED_MPS) -> float:
    """Estimated seconds on foot for a straight-line distance: the street detour at walking pace."""
    _check_pace(detour, speed_mps)
    return distance_m * detour / speed_mps


def rank(candidates: Iterable[Candidate], lat: float, lon: float, now: float, *, kind: str = COLLECTOR,
         limit: int | None = None, offline_after_s: float = OFFLINE_AFTER_S,
         off_statuses: frozenset[str] = OFF_DUTY_STATUSES, detour: float = DETOUR_FACTOR,
         speed_mps: float = WALKING_SPEED_MPS) -> list[Nearest]:
    """The on-duty devices of ``kind`` among ``candidates``, nearest first (then by id), at most
    ``limit`` (all when None). A candidate's kind is its doc's: a device index holds every kind."""
    check_point(lat, lon)
    _check_pace(detour, speed_mps)  # refused even when no candidate would use them
    out = [
        Nearest(c.device_id, d, walking_time_s(d, detour, speed_mps), c.last_fix, c.doc)
        for c in candidates
        if c.doc.get("kind") == kind and on_duty(c, now, offline_after_s, off_statuses)
        for d in (haversine_m(lat, lon, c.lat, c.lon),)
    ]
    out.sort(key=order)
    return out if limit is None else out[:max(limit, 0)]


def order(n: Nearest) -> tuple[float, str]:
    """The ranking's order: nearest first, then by id, so equal distances never swap places."""
    return n.distance_m, n.device_id


def merge(*rankings: Iterable[Nearest], limit: int | None = None) -> list[Nearest]:
    """One ranking from the rankings of separate candidate sets (a search that widens in steps
    ranks each step's new devices only)."""
    out = sorted((n for r in rankings for n in r), key=order)
    return out if limit is None else out[:max(limit, 0)]
