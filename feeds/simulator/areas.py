"""Grid cells in metres, their neighbours, and the collectors' patrol areas (责任网格).

Collectors walk from a cell's centroid to the midpoint of an edge it shares with a neighbour and
on to that neighbour's centroid. Grids are convex, so each leg stays inside one grid, and a
collector whose patrol area is connected never leaves it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from dashboard.city.model import City
from dashboard.city.planar import XY, LocalProjection, ring_area


@dataclass(slots=True)
class Cell:
    idx: int
    code: str
    ring: tuple[XY, ...]  # open ring, metres
    centroid: XY
    landuse: str  # urban | park | water
    neighbours: list[tuple[int, XY]] = field(default_factory=list)  # (cell, shared-edge midpoint)

    @property
    def walkable(self) -> bool:
        return self.landuse != "water"

    def random_point(self, rng: random.Random, shrink: float = 0.8) -> XY:
        """A point inside the grid: in one fan triangle (centroid, v_k, v_k+1), drawn towards
        the centroid so it is not on an edge."""
        cx, cy = self.centroid
        n = len(self.ring)
        k = rng.randrange(n)
        (ax, ay), (bx, by) = self.ring[k], self.ring[(k + 1) % n]
        s, t = rng.random(), rng.random()
        if s + t > 1:
            s, t = 1 - s, 1 - t
        return (cx + shrink * (s * (ax - cx) + t * (bx - cx)),
                cy + shrink * (s * (ay - cy) + t * (by - cy)))


class Cells:
    """All grids of a city in a local metric plane centred on the city."""

    def __init__(self, city: City) -> None:
        lat0, lon0 = city.center
        self.proj = LocalProjection(lon0, lat0)
        self.cells: list[Cell] = []
        self.by_code: dict[str, int] = {}
        edges: dict[tuple[tuple[float, float], tuple[float, float]], int] = {}
        for code, ring in city.grids:
            pts = list(ring[:-1]) if ring[0] == ring[-1] else list(ring)
            xy = tuple(self.proj.to_xy(lon, lat) for lon, lat in pts)
            cell = Cell(len(self.cells), code, xy, _centroid(xy), city.grid_info[code].landuse)
            self.by_code[code] = cell.idx
            self.cells.append(cell)
            # Neighbours share an edge with identical vertices (the generator guarantees it).
            for k in range(len(pts)):
                a, b = pts[k], pts[(k + 1) % len(pts)]
                key = (min(a, b), max(a, b))
                other = edges.pop(key, None)
                if other is None:
                    edges[key] = cell.idx
                    continue
                mid = ((xy[k][0] + xy[(k + 1) % len(xy)][0]) / 2,
                       (xy[k][1] + xy[(k + 1) % len(xy)][1]) / 2)
                cell.neighbours.append((other, mid))
                self.cells[other].neighbours.append((cell.idx, mid))

    def __len__(self) -> int:
        return len(self.cells)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.proj.to_lonlat(x, y)


def _centroid(ring: Sequence[XY]) -> XY:
    area = ring_area(ring)
    if abs(area) < 1e-9:
        return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    cx = cy = 0.0
    n = len(ring)
    for k in range(n):
        x1, y1 = ring[k]
        x2, y2 = ring[(k + 1) % n]
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return (cx / (6 * area), cy / (6 * area))


@dataclass(slots=True)
class PatrolArea:
    cells: list[int]  # every grid this collector answers for (reports, 核实, 核查)
    walk: list[int]  # the connected land part it walks
    home: int  # where the day starts (a walkable cell)


def assign_areas(cells: Cells, n: int) -> list[PatrolArea]:
    """Split the city into n patrol areas that follow the admin units.

    With at least one collector per community, each community is split among its collectors
    (largest-remainder shares of its land grids); with fewer collectors, streets (or districts)
    are the units instead. Grids a collector cannot walk to (water, land cut off by the lake)
    are still assigned, to the nearest area, so every grid has someone answering for it.
    """
    if n < 1:
        return []
    codes = [c.code for c in cells.cells]
    for digits in (12, 9, 6, 0):
        units: dict[str, list[int]] = {}
        for cell in cells.cells:
            units.setdefault(codes[cell.idx][:digits], []).append(cell.idx)
        if n >= len(units) or digits == 0:
            break
    keys = sorted(units)
    land = {k: [c for c in units[k] if cells.cells[c].walkable] for k in keys}
    shares = _largest_remainder([max(1, len(land[k])) for k in keys], n, minimum=1)
    areas: list[PatrolArea] = []
    for key, share in zip(keys, shares, strict=True):
        areas.extend(_unit_areas(cells, units[key], land[key], share))
    return areas


def _unit_areas(cells: Cells, unit: list[int], land: list[int], k: int) -> list[PatrolArea]:
    inside = set(land)
    comps = _components(cells, land, inside)
    if not comps:  # a unit with no land at all: one can only stand at its first grid
        return [PatrolArea(cells=list(unit), walk=[unit[0]], home=unit[0]) for _ in range(k)]
    comps.sort(key=lambda c: (-len(c), min(c)))
    comp_shares = _largest_remainder([len(c) for c in comps], k, minimum=0)
    comp_shares[0] = max(1, comp_shares[0])
    while sum(comp_shares) > k:  # the forced 1 above may overshoot by one
        j = max(i for i, s in enumerate(comp_shares) if s > (1 if i == 0 else 0))
        comp_shares[j] -= 1
    parts: list[list[int]] = []
    for comp, share in zip(comps, comp_shares, strict=True):
        if share:
            parts.extend(_split(cells, comp, share))
    # Fewer parts than collectors: the largest parts get two collectors (a common practice).
    walk_parts = sorted(parts, key=lambda p: (-len(p), min(p)))
    slots = [walk_parts[i % len(walk_parts)] for i in range(k)]
    owner = {c: i for i, p in enumerate(parts) for c in p}
    extra = _attach(cells, [c for c in unit if c not in owner], owner, set(unit), parts)
    out = []
    for i, walk in enumerate(slots):
        pi = parts.index(walk)
        assigned = sorted(set(walk) | set(extra.get(pi, [])))
        ordered = sorted(walk)
        # A second collector on the same part starts the day at its other end.
        home = ordered[0] if i < len(walk_parts) else ordered[-1]
        out.append(PatrolArea(cells=assigned, walk=ordered, home=home))
    return out


def _components(cells: Cells, members: list[int], inside: set[int]) -> list[list[int]]:
    seen: set[int] = set()
    comps = []
    for start in sorted(members):
        if start in seen:
            continue
        comp, queue = [start], deque([start])
        seen.add(start)
        while queue:
            c = queue.popleft()
            for nb, _ in cells.cells[c].neighbours:
                if nb in inside and nb not in seen:
                    seen.add(nb)
                    comp.append(nb)
                    queue.append(nb)
        comps.append(comp)
    return comps


def _split(cells: Cells, comp: list[int], k: int) -> list[list[int]]:
    """k connected parts of similar size: bands across the longer side when they are connected
    (compact, walkable areas), else cuts of a spanning tree (always connected)."""
    if k <= 1:
        return [comp]
    if len(comp) <= k:
        return [[c] for c in comp]
    xs = [cells.cells[c].centroid[0] for c in comp]
    ys = [cells.cells[c].centroid[1] for c in comp]
    axes = (0, 1) if max(xs) - min(xs) >= max(ys) - min(ys) else (1, 0)
    for axis in axes:
        order = sorted(comp, key=lambda c: (cells.cells[c].centroid[axis], c))
        bands = [order[round(i * len(order) / k): round((i + 1) * len(order) / k)] for i in range(k)]
        if all(len(_components(cells, b, set(b))) == 1 for b in bands):
            return bands
    return _tree_split(cells, comp, k)


def _tree_split(cells: Cells, comp: list[int], k: int) -> list[list[int]]:
    inside = set(comp)
    root = min(comp)
    parent = {root: root}
    order = [root]
    queue = deque([root])
    while queue:
        c = queue.popleft()
        for nb, _ in cells.cells[c].neighbours:
            if nb in inside and nb not in parent:
                parent[nb] = c
                order.append(nb)
                queue.append(nb)
    children: dict[int, list[int]] = {c: [] for c in order}
    for c in order[1:]:
        children[parent[c]].append(c)
    target = len(comp) / k
    size = dict.fromkeys(order, 1)
    cut: set[int] = set()
    parts: list[list[int]] = []
    for c in reversed(order):  # children before parents
        if c != root and size[c] >= target and len(parts) < k - 1:
            members, stack = [], [c]
            while stack:
                m = stack.pop()
                members.append(m)
                stack.extend(ch for ch in children[m] if ch not in cut)
            cut.add(c)
            parts.append(members)
        elif c != root:
            size[parent[c]] += size[c]
    taken = {m for p in parts for m in p}
    parts.append([c for c in comp if c not in taken])
    return [p for p in parts if p]


def _attach(
    cells: Cells, loose: list[int], owner: dict[int, int], unit: set[int], parts: list[list[int]]
) -> dict[int, list[int]]:
    """Give every loose grid to the part nearest through the unit's grids (BFS), or by distance."""
    found: dict[int, int] = {}
    queue = deque(sorted(owner))
    dist_owner = dict(owner)
    while queue:
        c = queue.popleft()
        for nb, _ in cells.cells[c].neighbours:
            if nb in unit and nb not in dist_owner:
                dist_owner[nb] = dist_owner[c]
                queue.append(nb)
    out: dict[int, list[int]] = {}
    for c in loose:
        if c in dist_owner:
            found[c] = dist_owner[c]
        else:
            cx, cy = cells.cells[c].centroid
            found[c] = min(
                range(len(parts)),
                key=lambda i: min(math.dist(cells.cells[m].centroid, (cx, cy)) for m in parts[i]),
            )
        out.setdefault(found[c], []).append(c)
    return out


def _largest_remainder(weights: list[int], total: int, minimum: int) -> list[int]:
    """Integer shares of ``total`` proportional to weights, each at least ``minimum``."""
    n = len(weights)
    base = [minimum] * n
    left = total - minimum * n
    if left <= 0:
        return base
    wsum = sum(weights) or 1
    exact = [left * w / wsum for w in weights]
    shares = [b + math.floor(e) for b, e in zip(base, exact, strict=True)]
    rest = total - sum(shares)
    order = sorted(range(n), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares
