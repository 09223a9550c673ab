"""Small plane geometry around one city: a local equirectangular projection and ring helpers.

Distances on the sphere (haversine_m) and the Chinese datums live in dashboard/geo.py; this module
is only the flat, metric picture of one city that the generator and the simulator work in.

An 8 km × 6 km city is small enough that an equirectangular projection about its centre is exact to
well under a metre per kilometre, and being linear it keeps straight lines straight and convex
polygons convex, which the simulator relies on (a walk between two points of a grid stays inside it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Metres per degree of latitude on the mean-radius sphere (6 371 008.8 m × π / 180).
M_PER_DEG = 111_195.08

LonLat = tuple[float, float]
XY = tuple[float, float]


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Metres east/north of (lon0, lat0) and back."""

    lon0: float
    lat0: float

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG * math.cos(math.radians(self.lat0))

    def to_xy(self, lon: float, lat: float) -> XY:
        return ((lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * M_PER_DEG)

    def to_lonlat(self, x: float, y: float) -> LonLat:
        return (self.lon0 + x / self.m_per_deg_lon, self.lat0 + y / M_PER_DEG)


def ring_area(ring: Sequence[XY]) -> float:
    """Signed shoelace area; positive for counter-clockwise rings. Closed or open rings both work."""
    s = 0.0
    n = len(ring)
    for k in range(n):
        x1, y1 = ring[k]
        x2, y2 = ring[(k + 1) % n]
        s += x1 * y2 - x2 * y1
    return s / 2.0


def ring_area_m2(ring: Iterable[LonLat], proj: LocalProjection) -> float:
    """Unsigned area in m² of a lon/lat ring."""
    return abs(ring_area([proj.to_xy(lon, lat) for lon, lat in ring]))


def point_in_ring(x: float, y: float, ring: Sequence[XY]) -> bool:
    """Even-odd ray casting. Points exactly on an edge may go either way."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def dist_point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    if L2 == 0.0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def dist_point_ring(x: float, y: float, ring: Sequence[XY]) -> float:
    """Distance from a point to the boundary of a ring (0 on the edge)."""
    n = len(ring)
    return min(
        dist_point_segment(x, y, *ring[k], *ring[(k + 1) % n]) for k in range(n)
    )


def bearing_deg(ax: float, ay: float, bx: float, by: float) -> float:
    """Compass heading from a to b in the local plane: 0 = north, 90 = east."""
    return math.degrees(math.atan2(bx - ax, by - ay)) % 360.0
