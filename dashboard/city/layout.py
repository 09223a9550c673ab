"""The demo city in "plan space", and how plan space is warped into the real plane.

Plan space is a rectangle (u east, v north, metres). Every road and every admin boundary is a line of
constant u or v there, so unit grids are the cells of one lattice and nest exactly: a community is a
set of cells, its boundary is made of cell edges, and all files share the same rounded lattice
vertices. A smooth bijective warp then bends the lattice so that roads and the river curve like a
real city's instead of forming a chessboard.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

W, H = 8000.0, 6000.0  # plan size, metres
RIVER_S, RIVER_N = 1880.0, 2120.0  # river banks (plan v)
RIVER_MID = (RIVER_S + RIVER_N) / 2  # district boundary in mid-stream
CELL = 100.0  # nominal grid edge, giving the 万米单元网格 of ~10 000 m²
BLOCK = 260.0  # nominal spacing of minor streets
LAKE_C, LAKE_R = (1300.0, 4500.0), (650.0, 440.0)

Cell = tuple[int, int]
Vertex = tuple[int, int]


def warp(u: float, v: float) -> tuple[float, float]:
    """Plan (u, v) → metres east/north of the city centre.

    Two shears applied one after the other, each a bijection because it moves points along one
    axis only by an amount that depends on the other coordinate; so the whole warp is a bijection
    and preserves orientation (counter-clockwise rings stay counter-clockwise). The north-south
    meander is strongest near the river and fades with distance, so the river winds more than the
    streets far from it.
    """
    d = v - RIVER_MID
    amp = 260.0 * math.exp(-((d / 2200.0) ** 2))
    h = 0.75 * math.sin(2 * math.pi * u / 7000.0 + 0.6) + 0.25 * math.sin(
        2 * math.pi * u / 2600.0 + 2.1
    )
    v2 = v + amp * h
    x = u + 150.0 * math.sin(2 * math.pi * v2 / 5200.0 + 1.3) + 45.0 * math.sin(
        2 * math.pi * v2 / 1700.0 + 0.4
    )
    return x - W / 2, v2 - H / 2


def lake_rho(u: float, v: float) -> float:
    """< 1 inside the lake: distance from the lake centre relative to its wobbly radius."""
    du = (u - LAKE_C[0]) / LAKE_R[0]
    dv = (v - LAKE_C[1]) / LAKE_R[1]
    theta = math.atan2(dv, du)
    radius = 1.0 + 0.10 * math.sin(3 * theta + 1.0) + 0.06 * math.sin(5 * theta + 2.0)
    return math.hypot(du, dv) / radius


def lake_outline(n: int = 120) -> list[tuple[float, float]]:
    pts = []
    for k in range(n):
        theta = 2 * math.pi * k / n
        radius = 1.0 + 0.10 * math.sin(3 * theta + 1.0) + 0.06 * math.sin(5 * theta + 2.0)
        pts.append(
            (
                LAKE_C[0] + LAKE_R[0] * radius * math.cos(theta),
                LAKE_C[1] + LAKE_R[1] * radius * math.sin(theta),
            )
        )
    return pts


@dataclass(frozen=True, slots=True)
class AxisLine:
    """One lattice line of constant u (or v)."""

    pos: float
    road: str | None  # "major" | "minor" | None (a plain grid edge, or the river mid line)
    block: bool  # community blocks are bounded here
    superblock: bool  # street groups are bounded here (majors, except the river banks)
    major: int | None = None  # index among major lines


@dataclass(frozen=True, slots=True)
class Axis:
    lines: tuple[AxisLine, ...]
    majors: tuple[float, ...]  # positions of the major lines, in order

    @property
    def positions(self) -> list[float]:
        return [ln.pos for ln in self.lines]

    def cell_of(self, pos: float) -> int:
        """Index of the cell interval containing pos (clamped)."""
        k = bisect.bisect_right(self.positions, pos) - 1
        return max(0, min(len(self.lines) - 2, k))

    def index_of(self, pos: float) -> int:
        for k, ln in enumerate(self.lines):
            if abs(ln.pos - pos) < 1e-6:
                return k
        raise KeyError(pos)


def build_axis(
    rng: random.Random,
    majors: list[float],
    *,
    no_minor: frozenset[int] = frozenset(),
    not_road: frozenset[int] = frozenset(),
    not_superblock: frozenset[int] = frozenset(),
    not_block: frozenset[int] = frozenset(),
) -> Axis:
    """Lines along one axis: majors as given; between them minor streets every ~260 m with some
    jitter; between streets grid edges so that every cell is close to 100 m.

    Interval k (between majors k and k+1) gets no minor streets when k is in ``no_minor``.
    """
    lines: list[AxisLine] = []
    for k, a in enumerate(majors):
        lines.append(
            AxisLine(
                pos=a,
                road=None if k in not_road else "major",
                block=k not in not_block,
                superblock=k not in not_superblock,
                major=k,
            )
        )
        if k == len(majors) - 1:
            break
        b = majors[k + 1]
        length = b - a
        nblocks = 1 if k in no_minor else max(1, round(length / BLOCK))
        weights = [1.0 + rng.uniform(-0.12, 0.12) for _ in range(nblocks)]
        scale = length / sum(weights)
        pos = a
        for bi, wgt in enumerate(weights):
            blen = wgt * scale
            ncells = max(1, round(blen / CELL))
            for c in range(1, ncells):
                lines.append(AxisLine(pos=pos + blen * c / ncells, road=None, block=False,
                                      superblock=False))
            pos += blen
            if bi < nblocks - 1:
                lines.append(AxisLine(pos=pos, road="minor", block=True, superblock=False))
    return Axis(lines=tuple(lines), majors=tuple(majors))


def trace_boundary(cells: set[Cell]) -> list[Vertex]:
    """The single counter-clockwise boundary ring (lattice vertices, not closed) of a set of cells.

    Cells are unit squares of the lattice; edges shared by two cells of the set cancel, and the rest
    chain into rings. Raises ValueError when the set is not one simple polygon (several rings, a
    hole, or two cells touching only at a corner), so callers can pick another partition.
    """
    out: dict[Vertex, Vertex] = {}
    edges: set[tuple[Vertex, Vertex]] = set()
    for i, j in cells:
        a, b, c, d = (i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)
        for e in ((a, b), (b, c), (c, d), (d, a)):
            rev = (e[1], e[0])
            if rev in edges:
                edges.remove(rev)
            else:
                edges.add(e)
    for s, t in edges:
        if s in out:
            raise ValueError("pinch vertex: cells touch only at a corner")
        out[s] = t
    start = min(out)
    ring = [start]
    cur = out[start]
    while cur != start:
        ring.append(cur)
        cur = out[cur]
    if len(ring) != len(out):
        raise ValueError("more than one ring (disconnected or holed)")
    return ring


@dataclass(slots=True)
class Unit:
    """A building brick of a partition (a block or a superblock): its cells and plan centre."""

    key: tuple[int, int]
    cells: list[Cell]
    centre: tuple[float, float]
    neighbours: set[tuple[int, int]] = field(default_factory=set)


def grow_regions(
    units: dict[tuple[int, int], Unit],
    k: int,
    rng: random.Random,
    weight: Callable[[Unit], float] = lambda u: float(len(u.cells)),
) -> list[list[tuple[int, int]]]:
    """Split connected units into k connected regions of similar weight.

    Seeds are spread by farthest-point sampling; then the lightest region that can still grow
    takes the free neighbouring unit closest to its seed. Growing by adjacency keeps every region
    connected, and always feeding the lightest one keeps them balanced.
    """
    keys = sorted(units)
    if k >= len(keys):
        return [[key] for key in keys]
    seeds = [rng.choice(keys)]
    while len(seeds) < k:
        seeds.append(
            max(keys, key=lambda q: min(_d2(units[q].centre, units[s].centre) for s in seeds))
        )
    owner: dict[tuple[int, int], int] = {s: r for r, s in enumerate(seeds)}
    regions: list[list[tuple[int, int]]] = [[s] for s in seeds]
    loads = [weight(units[s]) for s in seeds]
    free = set(keys) - set(seeds)
    while free:
        grew = False
        for r in sorted(range(k), key=lambda r: (loads[r], r)):
            frontier = {n for q in regions[r] for n in units[q].neighbours if n in free}
            if not frontier:
                continue
            seed_c = units[seeds[r]].centre
            pick = min(frontier, key=lambda q: (_d2(units[q].centre, seed_c), q))
            free.discard(pick)
            owner[pick] = r
            regions[r].append(pick)
            loads[r] += weight(units[pick])
            grew = True
            break
        if not grew:  # units unreachable from any seed: the parent was not connected
            raise ValueError("units are not connected")
    return regions


def _d2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def link_units(units: dict[tuple[int, int], Unit]) -> None:
    """Units on a (bi, bj) lattice touch their four lattice neighbours."""
    for bi, bj in units:
        for n in ((bi + 1, bj), (bi - 1, bj), (bi, bj + 1), (bi, bj - 1)):
            if n in units:
                units[(bi, bj)].neighbours.add(n)


def bricks(
    u_axis: Axis,
    v_axis: Axis,
    u_cut: Callable[[AxisLine], bool],
    v_cut: Callable[[AxisLine], bool],
    keep: Iterable[Cell] | None = None,
) -> dict[tuple[int, int], Unit]:
    """Units formed by the lattice lines selected by u_cut / v_cut (optionally only those cells)."""
    ui = [k for k, ln in enumerate(u_axis.lines) if u_cut(ln) or k in (0, len(u_axis.lines) - 1)]
    vi = [k for k, ln in enumerate(v_axis.lines) if v_cut(ln) or k in (0, len(v_axis.lines) - 1)]
    upos, vpos = u_axis.positions, v_axis.positions
    allowed = set(keep) if keep is not None else None
    units: dict[tuple[int, int], Unit] = {}
    for bi in range(len(ui) - 1):
        for bj in range(len(vi) - 1):
            cells = [
                (i, j)
                for i in range(ui[bi], ui[bi + 1])
                for j in range(vi[bj], vi[bj + 1])
                if allowed is None or (i, j) in allowed
            ]
            if not cells:
                continue
            centre = (
                sum((upos[i] + upos[i + 1]) / 2 for i, _ in cells) / len(cells),
                sum((vpos[j] + vpos[j + 1]) / 2 for _, j in cells) / len(cells),
            )
            units[(bi, bj)] = Unit(key=(bi, bj), cells=cells, centre=centre)
    link_units(units)
    return units
