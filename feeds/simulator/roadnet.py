"""The road graph in metres, with fastest-route search for the vehicles."""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict

from dashboard.city.model import City
from dashboard.city.planar import XY, LocalProjection, dist_point_segment

# Planning speeds (m/s) for route choice; actual driving speeds vary per vehicle and trip.
PLAN_SPEED = {"major": 40 / 3.6, "minor": 25 / 3.6}
_BUCKET_M = 250.0


class RoadNet:
    def __init__(self, city: City, proj: LocalProjection) -> None:
        self.xy: list[XY] = [proj.to_xy(lon, lat) for lon, lat in city.roads.nodes]
        self.adj: list[list[tuple[int, float, str]]] = [[] for _ in self.xy]
        for e in city.roads.edges:
            length = max(0.1, math.dist(self.xy[e.a], self.xy[e.b]))
            self.adj[e.a].append((e.b, length, e.cls))
            self.adj[e.b].append((e.a, length, e.cls))
        self.edges: list[tuple[int, int]] = [(e.a, e.b) for e in city.roads.edges]
        self._buckets: dict[tuple[int, int], list[int]] = {}
        for n, (x, y) in enumerate(self.xy):
            self._buckets.setdefault((int(x // _BUCKET_M), int(y // _BUCKET_M)), []).append(n)
        self._routes: OrderedDict[tuple[int, int], tuple[int, ...]] = OrderedDict()

    def degree(self, n: int) -> int:
        return len(self.adj[n])

    def edge_class(self, a: int, b: int) -> str:
        return next((cls for m, _, cls in self.adj[a] if m == b), "minor")

    def nodes_near(self, x: float, y: float, radius: float) -> list[int]:
        r = int(radius // _BUCKET_M) + 1
        bx, by = int(x // _BUCKET_M), int(y // _BUCKET_M)
        out = []
        for i in range(bx - r, bx + r + 1):
            for j in range(by - r, by + r + 1):
                for n in self._buckets.get((i, j), ()):
                    if math.dist(self.xy[n], (x, y)) <= radius:
                        out.append(n)
        return sorted(out)

    def nearest_node(self, x: float, y: float) -> int:
        for radius in (250.0, 1000.0, 4000.0, 1e9):
            near = self.nodes_near(x, y, radius) if radius < 1e8 else range(len(self.xy))
            if near:
                return min(near, key=lambda n: (math.dist(self.xy[n], (x, y)), n))
        raise ValueError("empty road graph")

    def distance_to_road(self, x: float, y: float) -> float:
        """Metres from a point to the nearest edge (for checks, not for the hot path)."""
        best = math.inf
        for a in self.nodes_near(x, y, 500.0):  # edges are < 400 m, so one end is this near
            for b, _, _ in self.adj[a]:
                best = min(best, dist_point_segment(x, y, *self.xy[a], *self.xy[b]))
        return best

    def route(self, a: int, b: int) -> tuple[int, ...]:
        """Fastest node path from a to b (A*), cached: trucks drive the same trips all night."""
        key = (a, b)
        cached = self._routes.get(key)
        if cached is not None:
            self._routes.move_to_end(key)
            return cached
        path = self._astar(a, b)
        self._routes[key] = path
        if len(self._routes) > 4096:
            self._routes.popitem(last=False)
        return path

    def _astar(self, a: int, b: int) -> tuple[int, ...]:
        if a == b:
            return (a,)
        vmax = max(PLAN_SPEED.values())
        bx, by = self.xy[b]
        best = {a: 0.0}
        prev: dict[int, int] = {}
        heap = [(math.dist(self.xy[a], (bx, by)) / vmax, 0.0, a)]
        while heap:
            _, cost, n = heapq.heappop(heap)
            if n == b:
                path = [b]
                while path[-1] != a:
                    path.append(prev[path[-1]])
                return tuple(reversed(path))
            if cost > best.get(n, math.inf):
                continue
            for m, length, cls in self.adj[n]:
                c = cost + length / PLAN_SPEED[cls]
                if c < best.get(m, math.inf):
                    best[m] = c
                    prev[m] = n
                    mx, my = self.xy[m]
                    heapq.heappush(heap, (c + math.hypot(mx - bx, my - by) / vmax, c, m))
        return (a,)  # unreachable: stay put (the generator keeps one connected graph)
