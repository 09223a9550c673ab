"""Roads of the demo city: named runs along lattice lines plus two diagonals, cut by the river
(where there is no bridge) and by the lake, turned into one connected graph.

The graph nodes are the lattice points along each road (every ~100 m, so an edge follows the warped
curve to well under a metre) and the points where a diagonal crosses a lattice line. The basemap
draws exactly these node coordinates, so what the simulator drives on is what the wall shows.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from dashboard.city import names
from dashboard.city.layout import RIVER_MID, RIVER_N, RIVER_S, Axis, lake_rho
from dashboard.geo import haversine_m

NodeKey = tuple  # ("L", i, j) lattice point, or ("D", u, v) a diagonal crossing
LonLatFn = Callable[[float, float], tuple[float, float]]
LAKE_MARGIN = 1.04  # roads keep a few metres off the shore


@dataclass(slots=True)
class Run:
    """A road line: points sorted by the coordinate that varies along it."""

    cls: str  # major | minor
    points: list[tuple[float, NodeKey]]
    name_at: Callable[[float], tuple[str, str, bool]]  # t → (zh, en, is_bridge)


@dataclass(slots=True)
class RoadNet:
    nodes: list[tuple[int, float, float]]  # id, lon, lat
    plan: list[tuple[float, float]]  # node id → plan (u, v)
    edges: list[tuple[int, int, str, str, float]]  # from, to, class, name_zh, length_m
    lines: list[dict] = field(default_factory=list)  # basemap LineString features


def build_roads(u_axis: Axis, v_axis: Axis, seed: int, lonlat: LonLatFn) -> RoadNet:
    rng = random.Random(f"{seed}:roads")
    up, vp = u_axis.positions, v_axis.positions
    nu, nv = len(up) - 1, len(vp) - 1
    taken = {zh for pair in names.MAJOR_NS for zh, _ in filter(None, pair)}
    minor_pool = iter(names.minor_road_names(rng, 300, taken))
    runs: dict[tuple[str, int], Run] = {}

    def plan_of(key: NodeKey) -> tuple[float, float]:
        return (up[key[1]], vp[key[2]]) if key[0] == "L" else (key[1], key[2])

    # North-south lines (constant u).
    for i, ln in enumerate(u_axis.lines):
        if ln.road is None:
            continue
        pts = [(vp[j], ("L", i, j)) for j in range(nv + 1)]
        if ln.road == "major":
            assert ln.major is not None
            north, south = names.MAJOR_NS[ln.major]
            bridge = names.BRIDGES.get(ln.major)
            runs[("u", i)] = Run("major", pts, _ns_namer(north, south, bridge))
        else:
            north, south = next(minor_pool), next(minor_pool)
            runs[("u", i)] = Run("minor", pts, _ns_namer(north, south or north, None))
    # East-west lines (constant v); the river mid line is a boundary, not a road.
    ew_majors = iter(names.MAJOR_EW)
    for j, ln in enumerate(v_axis.lines):
        if ln.road is None:
            continue
        pts = [(up[i], ("L", i, j)) for i in range(nu + 1)]
        zh, en = next(ew_majors) if ln.road == "major" else next(minor_pool)
        runs[("v", j)] = Run(ln.road, pts, _fixed(zh, en))
    # Diagonals: north-east from a north-bank junction, south-east from a bridge head.
    umaj, vmaj = u_axis.majors, v_axis.majors
    diagonals = [
        ((umaj[3], RIVER_N), (umaj[6], vmaj[8]), names.DIAGONALS[0]),
        ((umaj[4], RIVER_S), (umaj[7], vmaj[0]), names.DIAGONALS[1]),
    ]
    for d_no, (a, b, (zh, en)) in enumerate(diagonals):
        runs[("d", d_no)] = Run(
            "major", _diagonal(a, b, u_axis, v_axis, runs), _fixed(zh, en)
        )

    # Cut: no road inside the river unless on a bridge, none in the lake.
    pieces: list[tuple[Run, list[tuple[float, NodeKey]]]] = []
    for run in runs.values():
        piece: list[tuple[float, NodeKey]] = []
        for t, key in run.points:
            u, v = plan_of(key)
            in_river = RIVER_S < v < RIVER_N and not run.name_at(t)[2]
            if in_river or lake_rho(u, v) < LAKE_MARGIN:
                if len(piece) > 1:
                    pieces.append((run, piece))
                piece = []
                continue
            piece.append((t, key))
        if len(piece) > 1:
            pieces.append((run, piece))

    # Graph, then keep the largest connected part (a stub cut off by the lake is not drivable).
    adj: dict[NodeKey, set[NodeKey]] = {}
    for _run, piece in pieces:
        for (_, a), (_, b) in pairwise(piece):
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
    keep = _largest_component(adj)
    ids: dict[NodeKey, int] = {}
    nodes: list[tuple[int, float, float]] = []
    plan: list[tuple[float, float]] = []
    edges: list[tuple[int, int, str, str, float]] = []
    lines: list[dict] = []

    def node_id(key: NodeKey) -> int:
        if key not in ids:
            ids[key] = len(nodes)
            lon, lat = lonlat(*plan_of(key))
            nodes.append((ids[key], lon, lat))
            plan.append(plan_of(key))
        return ids[key]

    for run, piece in pieces:
        kept = [(t, k) for t, k in piece if k in keep]
        segment: list[int] = []
        seg_name: tuple[str, str, bool] | None = None
        for (t0, a), (t1, b) in pairwise(kept):
            if b not in adj.get(a, ()):  # a gap left by dropped nodes
                _flush(lines, run.cls, seg_name, segment, nodes)
                segment, seg_name = [], None
                continue
            nm = run.name_at((t0 + t1) / 2)
            ia, ib = node_id(a), node_id(b)
            _, lon_a, lat_a = nodes[ia]
            _, lon_b, lat_b = nodes[ib]
            edges.append((ia, ib, run.cls, nm[0], round(haversine_m(lat_a, lon_a, lat_b, lon_b), 1)))
            if nm != seg_name:
                _flush(lines, run.cls, seg_name, segment, nodes)
                segment, seg_name = [ia], nm
            segment.append(ib)
        _flush(lines, run.cls, seg_name, segment, nodes)
    return RoadNet(nodes=nodes, plan=plan, edges=edges, lines=lines)


def _flush(
    lines: list[dict],
    cls: str,
    name: tuple[str, str, bool] | None,
    segment: list[int],
    nodes: list[tuple[int, float, float]],
) -> None:
    if name is None or len(segment) < 2:
        return
    props: dict = {"layer": f"road_{cls}", "name_zh": name[0], "name_en": name[1]}
    if name[2]:
        props["bridge"] = True
    lines.append(
        {
            "type": "Feature",
            "properties": props,
            "geometry": {
                "type": "LineString",
                "coordinates": [[nodes[n][1], nodes[n][2]] for n in segment],
            },
        }
    )


def _ns_namer(
    north: tuple[str, str], south: tuple[str, str], bridge: tuple[str, str] | None
) -> Callable[[float], tuple[str, str, bool]]:
    def name_at(v: float) -> tuple[str, str, bool]:
        if v > RIVER_N:
            return (*north, False)
        if v < RIVER_S:
            return (*south, False)
        if bridge is not None:
            return (*bridge, True)
        return (*(north if v >= RIVER_MID else south), False)

    return name_at


def _fixed(zh: str, en: str) -> Callable[[float], tuple[str, str, bool]]:
    return lambda _t: (zh, en, False)


def _diagonal(
    a: tuple[float, float],
    b: tuple[float, float],
    u_axis: Axis,
    v_axis: Axis,
    runs: dict[tuple[str, int], Run],
) -> list[tuple[float, NodeKey]]:
    """Points where segment a→b crosses lattice lines; crossings with roads become junctions
    (inserted into the crossed road's run too)."""
    up, vp = u_axis.positions, v_axis.positions
    hits: dict[float, NodeKey] = {}
    du, dv = b[0] - a[0], b[1] - a[1]
    for i, pos in enumerate(up):
        s = (pos - a[0]) / du
        if -1e-9 <= s <= 1 + 1e-9:
            v = a[1] + s * dv
            j = next((m for m, q in enumerate(vp) if abs(q - v) < 1e-6), None)
            key: NodeKey = ("L", i, j) if j is not None else ("D", round(pos, 3), round(v, 3))
            hits[round(s, 9)] = key
            run = runs.get(("u", i))
            if run is not None and j is None:
                run.points.append((v, key))
    for j, pos in enumerate(vp):
        s = (pos - a[1]) / dv
        if -1e-9 <= s <= 1 + 1e-9:
            u = a[0] + s * du
            i = next((m for m, q in enumerate(up) if abs(q - u) < 1e-6), None)
            key = ("L", i, j) if i is not None else ("D", round(u, 3), round(pos, 3))
            hits.setdefault(round(s, 9), key)
            run = runs.get(("v", j))
            if run is not None and i is None:
                run.points.append((u, key))
    for run in runs.values():
        run.points.sort(key=lambda p: p[0])
    return sorted(hits.items())


def _largest_component(adj: dict[NodeKey, set[NodeKey]]) -> set[NodeKey]:
    seen: set[NodeKey] = set()
    best: set[NodeKey] = set()
    for start in sorted(adj, key=repr):
        if start in seen:
            continue
        comp = {start}
        queue = deque([start])
        while queue:
            n = queue.popleft()
            for m in adj[n]:
                if m not in comp:
                    comp.add(m)
                    queue.append(m)
        seen |= comp
        if len(comp) > len(best):
            best = comp
    return best
