"""Generate the fictional demo city 江城市 (Jiangcheng) into assets/city/.

    python -m dashboard.city.generate [--out assets/city] [--seed 12319] [--grid-digits 14|15]

Deterministic (same seed → byte-identical files) and dependency-free. Writes:
basemap.json (drawable layers, no tiles needed), districts.json, streets.json, communities.json,
grids.json (nested admin polygons), roads.json (the road graph) and city.json (meta, departments,
cameras, sites). See docs/simulator.md for the formats.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dashboard.city import names
from dashboard.city.admin import PREFECTURE, Geography, Region, build_geography
from dashboard.city.layout import (
    RIVER_MID,
    RIVER_N,
    RIVER_S,
    Axis,
    H,
    W,
    build_axis,
    lake_outline,
    lake_rho,
    trace_boundary,
    warp,
)
from dashboard.city.planar import LocalProjection, ring_area_m2
from dashboard.city.roads import RoadNet, build_roads

DEFAULT_SEED = 12319
CENTER = (120.16, 30.27)  # lon, lat of the plan centre
PROJ = LocalProjection(*CENTER)
OUT_DEFAULT = Path(__file__).resolve().parents[2] / "assets" / "city"
FORMAT_VERSION = 1
N_CAMERAS = 32

Json = dict[str, Any]


def lonlat(u: float, v: float) -> tuple[float, float]:
    lon, lat = PROJ.to_lonlat(*warp(u, v))
    return (round(lon, 6), round(lat, 6))


def axes(seed: int) -> tuple[Axis, Axis]:
    rng = random.Random(f"{seed}:axes")
    umaj = [0.0] + [m + rng.uniform(-50, 50) for m in (1100, 2150, 3300, 4400, 5500, 6700)] + [W]
    vmaj = [
        0.0,
        950 + rng.uniform(-40, 40),
        RIVER_S,
        RIVER_MID,
        RIVER_N,
        3000 + rng.uniform(-40, 40),
        4000 + rng.uniform(-30, 30),
        5000 + rng.uniform(-30, 30),
        H,
    ]
    u_axis = build_axis(rng, umaj)
    v_axis = build_axis(
        rng,
        vmaj,
        no_minor=frozenset({2, 3}),  # the two river halves
        not_road=frozenset({3}),  # mid-stream is a boundary, not a road
        not_superblock=frozenset({2, 4}),  # banks: river halves belong to the bank's streets
        not_block=frozenset({2, 4}),
    )
    return u_axis, v_axis


def generate(seed: int = DEFAULT_SEED, grid_digits: int = 14) -> dict[str, Json]:
    """All output files as JSON-able objects (nothing written)."""
    u_axis, v_axis = axes(seed)
    up, vp = u_axis.positions, v_axis.positions
    nu, nv = len(up) - 1, len(vp) - 1
    lattice = [[lonlat(up[i], vp[j]) for j in range(nv + 1)] for i in range(nu + 1)]
    geo = build_geography(u_axis, v_axis, seed, grid_digits)
    roads = build_roads(u_axis, v_axis, seed, lonlat)
    blocks = _blocks(u_axis, v_axis, seed)
    landuse = _cell_landuse(u_axis, v_axis, blocks)

    def ring_of(cells: Iterable[tuple[int, int]]) -> list[list[float]]:
        ring = [list(lattice[i][j]) for i, j in trace_boundary(set(cells))]
        return ring + [ring[0]]

    def region_feature(r: Region) -> Json:
        ring = ring_of(r.cells)
        props = {
            "level": r.level,
            "code": r.code,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "parent": r.parent,
            "area_m2": round(ring_area_m2(ring[:-1], PROJ), 1),
            "grids": len(r.cells),
        }
        return _polygon(props, ring)

    regions = geo.all_regions()
    files: dict[str, Json] = {
        level + "s.json" if level != "community" else "communities.json": _collection(
            [region_feature(r) for r in regions if r.level == level]
        )
        for level in ("district", "street", "community")
    }
    grid_features = []
    for cell in sorted(geo.grid_code, key=geo.grid_code.__getitem__):
        comm = geo.community_of[cell]
        serial = geo.grid_serial[cell]
        ring = ring_of([cell])
        grid_features.append(
            _polygon(
                {
                    "code": geo.grid_code[cell],
                    "name_zh": f"{comm.name_zh}{serial:02d}号网格",
                    "name_en": f"{comm.name_en} Grid {serial:02d}",
                    "parent": comm.code,
                    "area_m2": round(ring_area_m2(ring[:-1], PROJ), 1),
                    "landuse": landuse[cell],
                },
                ring,
            )
        )
    files["grids.json"] = _collection(grid_features)
    files["roads.json"] = {
        "format": "gridwall-roads",
        "version": FORMAT_VERSION,
        "node_fields": ["id", "lon", "lat"],
        "edge_fields": ["from", "to", "class", "name_zh", "length_m"],
        "nodes": [list(n) for n in roads.nodes],
        "edges": [list(e) for e in roads.edges],
    }
    files["basemap.json"] = _basemap(u_axis, v_axis, geo, roads, blocks)
    cameras = _cameras(u_axis, v_axis, geo, roads, landuse, seed)
    sites = _sites(u_axis, v_axis, geo, roads, blocks, seed)
    files["city.json"] = _city_meta(files, geo, cameras, sites, seed, grid_digits)
    return files


# --- blocks, parks, land use -------------------------------------------------------------------


def _blocks(u_axis: Axis, v_axis: Axis, seed: int) -> list[Json]:
    """City blocks between roads (plan rectangles) with a kind: park, residential, ..."""
    rng = random.Random(f"{seed}:blocks")
    ur = [k for k, ln in enumerate(u_axis.lines) if ln.road]
    vr = [k for k, ln in enumerate(v_axis.lines) if ln.road]
    up, vp = u_axis.positions, v_axis.positions
    umaj, vmaj = u_axis.majors, v_axis.majors
    named_parks = {  # plan point → park name; the block containing it becomes that park
        (3900.0, 3500.0): names.PARKS[3],
        (6400.0, 4500.0): names.PARKS[4],
        (5600.0, 600.0): names.PARKS[5],
        (2700.0, 5300.0): names.PARKS[6],
    }
    out: list[Json] = []
    for a in range(len(ur) - 1):
        for b in range(len(vr) - 1):
            i0, i1, j0, j1 = ur[a], ur[a + 1], vr[b], vr[b + 1]
            u0, u1, v0, v1 = up[i0], up[i1], vp[j0], vp[j1]
            if v0 >= RIVER_S and v1 <= RIVER_N:
                continue  # the river
            uc, vc = (u0 + u1) / 2, (v0 + v1) / 2
            corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1), (uc, vc)]
            rho = min(lake_rho(u, v) for u, v in corners)
            if max(lake_rho(u, v) for u, v in corners) < 1.0:
                continue  # under water
            kind, name = _block_kind(rng, uc, vc, v0, v1, rho, umaj, vmaj)
            for (pu, pv), pname in named_parks.items():
                if u0 <= pu < u1 and v0 <= pv < v1:
                    kind, name = "park", pname
            out.append({"cells": (i0, i1, j0, j1), "plan": (u0, u1, v0, v1), "kind": kind,
                        "name": name})
    return out


def _block_kind(
    rng: random.Random,
    uc: float,
    vc: float,
    v0: float,
    v1: float,
    rho: float,
    umaj: tuple[float, ...],
    vmaj: tuple[float, ...],
) -> tuple[str, tuple[str, str] | None]:
    if rho < 1.45:
        return "park", names.PARKS[0]
    if abs(v0 - RIVER_N) < 1 and umaj[1] <= uc <= umaj[6]:
        return "park", names.PARKS[1]
    if abs(v1 - RIVER_S) < 1 and umaj[2] <= uc <= umaj[5]:
        return "park", names.PARKS[2]
    if math.hypot(uc - 4200, vc - 3300) < 1300:
        return "commercial", None
    if vc < vmaj[1] and uc > umaj[5]:
        return "industrial", None
    roll = rng.random()
    if roll < 0.05:
        return "education", None
    if roll < 0.07:
        return "hospital", None
    if roll < 0.20:
        return "commercial", None
    return "residential", None


def _cell_landuse(u_axis: Axis, v_axis: Axis, blocks: list[Json]) -> dict[tuple[int, int], str]:
    up, vp = u_axis.positions, v_axis.positions
    park_cells = {
        (i, j)
        for blk in blocks
        if blk["kind"] == "park"
        for i in range(blk["cells"][0], blk["cells"][1])
        for j in range(blk["cells"][2], blk["cells"][3])
    }
    out: dict[tuple[int, int], str] = {}
    for i in range(len(up) - 1):
        for j in range(len(vp) - 1):
            uc, vc = (up[i] + up[i + 1]) / 2, (vp[j] + vp[j + 1]) / 2
            if RIVER_S < vc < RIVER_N or lake_rho(uc, vc) < 1.0:
                out[(i, j)] = "water"
            elif (i, j) in park_cells:
                out[(i, j)] = "park"
            else:
                out[(i, j)] = "urban"
    return out


# --- basemap -----------------------------------------------------------------------------------


def _basemap(u_axis: Axis, v_axis: Axis, geo: Geography, roads: RoadNet, blocks: list[Json]) -> Json:
    up = u_axis.positions
    feats: list[Json] = []
    margin = 600.0
    land = _plan_rect(-margin, W + margin, -margin, H + margin, step=300.0)
    feats.append(_polygon({"layer": "land"}, land))
    for blk in blocks:
        u0, u1, v0, v1 = blk["plan"]
        inset = 9.0
        ring = _plan_rect(u0 + inset, u1 - inset, v0 + inset, v1 - inset, step=100.0)
        props: Json = {"layer": "park" if blk["kind"] == "park" else "block", "kind": blk["kind"]}
        if blk["name"]:
            props["name_zh"], props["name_en"] = blk["name"]
        feats.append(_polygon(props, ring))
    # The river runs on beyond the city edge; its banks share the grid vertices.
    us = [-margin] + up + [W + margin]
    river = [lonlat(u, RIVER_S) for u in us] + [lonlat(u, RIVER_N) for u in reversed(us)]
    feats.append(_polygon({"layer": "water", "kind": "river", "name_zh": names.RIVER[0],
                           "name_en": names.RIVER[1]}, [list(p) for p in river] + [list(river[0])]))
    lake = [list(lonlat(u, v)) for u, v in lake_outline()]
    feats.append(_polygon({"layer": "water", "kind": "lake", "name_zh": names.LAKE[0],
                           "name_en": names.LAKE[1]}, lake + [lake[0]]))
    feats.extend(sorted(roads.lines, key=lambda f: f["properties"]["layer"] == "road_major"))
    # Labels: districts, the river, the lake.
    for d in geo.districts:
        u, v = _plan_centroid(d.cells, u_axis, v_axis)
        feats.append(_point({"layer": "label", "kind": "district", "code": d.code,
                             "name_zh": d.name_zh, "name_en": d.name_en}, lonlat(u, v)))
    feats.append(_point({"layer": "label", "kind": "water", "name_zh": names.RIVER[0],
                         "name_en": names.RIVER[1]}, lonlat(W * 0.62, RIVER_MID)))
    feats.append(_point({"layer": "label", "kind": "water", "name_zh": names.LAKE[0],
                         "name_en": names.LAKE[1]}, lonlat(1300.0, 4500.0)))
    return _collection(feats)


def _plan_rect(u0: float, u1: float, v0: float, v1: float, step: float) -> list[list[float]]:
    """A plan rectangle as a closed CCW lon/lat ring, sampled so the warp's curvature shows."""

    def seg(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        n = max(1, math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / step))
        return [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n)]

    corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
    pts = [p for k in range(4) for p in seg(corners[k], corners[(k + 1) % 4])]
    ring = [list(lonlat(u, v)) for u, v in pts]
    return ring + [ring[0]]


def _plan_centroid(cells: list[tuple[int, int]], u_axis: Axis, v_axis: Axis) -> tuple[float, float]:
    up, vp = u_axis.positions, v_axis.positions
    return (
        sum(up[i] + up[i + 1] for i, _ in cells) / (2 * len(cells)),
        sum(vp[j] + vp[j + 1] for _, j in cells) / (2 * len(cells)),
    )


# --- cameras and sites -------------------------------------------------------------------------


def _junctions(roads: RoadNet) -> dict[int, list[tuple[str, str]]]:
    """Node → distinct (class, name) of the roads meeting there, for nodes where two roads meet."""
    meet: dict[int, set[tuple[str, str]]] = {}
    for a, b, cls, name, _ in roads.edges:
        meet.setdefault(a, set()).add((cls, name))
        meet.setdefault(b, set()).add((cls, name))
    return {n: sorted(v) for n, v in meet.items() if len(v) >= 2}


def _farthest(
    rng: random.Random, candidates: list[int], plan: list[tuple[float, float]], n: int
) -> list[int]:
    if not candidates:
        return []
    picked = [rng.choice(candidates)]
    best = {c: math.dist(plan[c], plan[picked[0]]) for c in candidates}
    while len(picked) < min(n, len(candidates)):
        nxt = max(candidates, key=lambda c: (best[c], -c))
        picked.append(nxt)
        for c in candidates:
            best[c] = min(best[c], math.dist(plan[c], plan[nxt]))
    return picked


def _cameras(
    u_axis: Axis,
    v_axis: Axis,
    geo: Geography,
    roads: RoadNet,
    landuse: dict[tuple[int, int], str],
    seed: int,
) -> list[Json]:
    """Cameras at major junctions, standing ~14 m off the junction on a corner (so each one sits
    inside one grid, not on a grid vertex)."""
    rng = random.Random(f"{seed}:cameras")
    junctions = _junctions(roads)
    en_of = _english_road_names(roads)
    # Busy junctions inside the city, not on the outer ring road (FPS would favour the rim).
    cands = [
        n
        for n, rs in sorted(junctions.items())
        if any(c == "major" for c, _ in rs)
        and 50 < roads.plan[n][0] < W - 50
        and 50 < roads.plan[n][1] < H - 50
    ]
    out: list[Json] = []
    for no, node in enumerate(_farthest(rng, cands, roads.plan, N_CAMERAS), start=1):
        u, v = roads.plan[node]
        for du, dv in rng.sample([(14, 14), (-14, 14), (14, -14), (-14, -14)], 4):
            cell = (u_axis.cell_of(u + du), v_axis.cell_of(v + dv))
            if landuse[cell] != "water":
                break
        lon, lat = lonlat(u + du, v + dv)
        rs = [name for _, name in junctions[node]][:2]
        code = geo.grid_code[cell]
        out.append(
            {
                "id": f"CAM{no:03d}",
                "lat": lat,
                "lon": lon,
                "name_zh": f"{rs[0]}与{rs[1]}路口",
                "name_en": f"{en_of.get(rs[0], rs[0])} & {en_of.get(rs[1], rs[1])}",
                "department": f"ZFZD-{code[:6]}",
                "grid_code": code,
                "node": node,
            }
        )
    return out


def _english_road_names(roads: RoadNet) -> dict[str, str]:
    return {f["properties"]["name_zh"]: f["properties"]["name_en"] for f in roads.lines}


def _nearest_node(roads: RoadNet, u: float, v: float, pool: Iterable[int] | None = None) -> int:
    nodes = range(len(roads.plan)) if pool is None else pool
    return min(nodes, key=lambda n: (math.dist(roads.plan[n], (u, v)), n))


def _sites(
    u_axis: Axis, v_axis: Axis, geo: Geography, roads: RoadNet, blocks: list[Json], seed: int
) -> list[Json]:
    """Places vehicles drive between: construction sites and dumps (muck trucks), depots."""
    rng = random.Random(f"{seed}:sites")
    out: list[Json] = []

    def add(kind: str, zh: str, en: str, node: int) -> None:
        _, lon, lat = roads.nodes[node]
        u, v = roads.plan[node]
        cell = (u_axis.cell_of(u), v_axis.cell_of(v))
        out.append({"id": f"{kind.upper()}-{sum(s['kind'] == kind for s in out) + 1:02d}",
                    "kind": kind, "name_zh": zh, "name_en": en, "lat": lat, "lon": lon,
                    "node": node, "district": geo.grid_code[cell][:6]})

    # Construction sites: corners of outer residential/industrial blocks, spread out.
    corners: dict[int, tuple[str, str]] = {}
    for blk in blocks:
        u0, u1, v0, v1 = blk["plan"]
        if blk["kind"] not in ("residential", "industrial") or math.hypot(
            (u0 + u1) / 2 - 4200, (v0 + v1) / 2 - 3300
        ) < 1800:
            continue
        node = _nearest_node(roads, u0, v0)
        cell = (blk["cells"][0], blk["cells"][2])
        corners[node] = (geo.community_of[cell].name_zh, geo.community_of[cell].name_en)
    for node in _farthest(rng, sorted(corners), roads.plan, 8):
        zh, en = corners[node]
        add("construction", zh.removesuffix("社区") + "地块建设项目",
            en.removesuffix(" Community") + " Plot Construction Site", node)
    add("dump", "东郊渣土消纳场", "East Spoil Disposal Site", _nearest_node(roads, W, 400.0))
    add("dump", "西郊渣土消纳场", "West Spoil Disposal Site", _nearest_node(roads, 0.0, 5600.0))
    add("muck_yard", "江城渣土运输车场", "Jiangcheng Muck Truck Yard",
        _nearest_node(roads, 7000.0, 0.0))
    add("transfer_station", "城东垃圾中转站", "Chengdong Waste Transfer Station",
        _nearest_node(roads, W, 3000.0))
    for d in geo.districts:
        u, v = _plan_centroid(d.cells, u_axis, v_axis)
        pool = [n for n, (pu, pv) in enumerate(roads.plan)
                if geo.grid_code.get((u_axis.cell_of(pu), v_axis.cell_of(pv)), "")[:6] == d.code]
        add("enforcement_base", f"{d.name_zh}城管执法中队", f"{d.name_en} Enforcement Squad",
            _nearest_node(roads, u, v, pool))
        add("sanitation_depot", f"{d.name_zh}环卫所", f"{d.name_en} Sanitation Depot",
            _nearest_node(roads, u + 450.0, v - 350.0, pool))
    return out


# --- meta --------------------------------------------------------------------------------------

# Short names (简称) are what a wall has room for: a ranking's name column holds about seven
# Chinese characters or sixteen Latin ones at the size read from 10 m.
DEPARTMENTS: list[tuple[str, str, str, str, str, str]] = [
    # code, name_zh, name_en, kind, short_zh, short_en
    ("JDZX", "数字城管监督指挥中心", "Supervision and Command Center", "center", "指挥中心", "Command HQ"),
    ("HWC", "市环境卫生管理处", "Sanitation Department", "city", "环卫处", "Sanitation"),
    ("SZC", "市政设施管理处", "Municipal Facilities Department", "city", "市政处", "Municipal Works"),
    ("YLJ", "园林绿化局", "Landscaping Bureau", "city", "园林局", "Landscaping"),
    ("CGZFJ", "城市管理行政执法局", "Urban Management Enforcement Bureau", "city", "执法局", "Enforcement"),
    ("JJDD", "公安交警大队", "Traffic Police Brigade", "city", "交警大队", "Traffic Police"),
    ("ZJJ", "住房和城乡建设局", "Housing and Construction Bureau", "city", "住建局", "Housing Bureau"),
    ("GDGS", "江城供电公司", "Jiangcheng Power Supply Company", "utility", "供电公司", "Power Co."),
    ("SWJT", "江城水务集团", "Jiangcheng Water Group", "utility", "水务集团", "Water Group"),
    ("RQGS", "江城燃气公司", "Jiangcheng Gas Company", "utility", "燃气公司", "Gas Co."),
    ("TXGS", "江城通信公司", "Jiangcheng Telecom Company", "utility", "通信公司", "Telecom Co."),
]


def _city_meta(
    files: dict[str, Json],
    geo: Geography,
    cameras: list[Json],
    sites: list[Json],
    seed: int,
    grid_digits: int,
) -> Json:
    lons = [c[0] for f in files["basemap.json"]["features"] if f["properties"]["layer"] == "land"
            for c in f["geometry"]["coordinates"][0]]
    lats = [c[1] for f in files["basemap.json"]["features"] if f["properties"]["layer"] == "land"
            for c in f["geometry"]["coordinates"][0]]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    departments = [
        {"code": code, "name_zh": zh, "name_en": en, "kind": kind, "short_zh": short_zh, "short_en": short_en}
        for code, zh, en, kind, short_zh, short_en in DEPARTMENTS
    ]
    for d in geo.districts:
        departments.append(
            {
                "code": f"ZFZD-{d.code}",
                "name_zh": f"{d.name_zh}城管执法中队",
                "name_en": f"{d.name_en} Enforcement Squad",
                "kind": "district",
                "district": d.code,
                "short_zh": f"{d.name_zh.removesuffix('区')}执法中队",
                "short_en": f"{d.name_en.removesuffix(' District')} Squad",
            }
        )
    district_feats = {f["properties"]["code"]: f for f in files["districts.json"]["features"]}
    return {
        "format": "gridwall-city",
        "version": FORMAT_VERSION,
        "name_zh": "江城市",
        "name_en": "Jiangcheng",
        "fictional": True,
        "note": (
            "A fictional demo city. Geography, names, codes, departments and cameras are invented; "
            f"admin codes use the unassigned prefecture prefix {PREFECTURE} (33 = Zhejiang)."
        ),
        "center": [round((south + north) / 2, 6), round((west + east) / 2, 6)],
        "zoom": 14,
        "bounds": [[south, west], [north, east]],
        "timezone": "Asia/Shanghai",
        "code_scheme": {"district": 6, "street": 9, "community": 12, "grid": grid_digits,
                        "grid_standard": "CJ/T 213-2005" if grid_digits == 14 else "DB11 (15)"},
        "districts": [
            {
                "code": d.code,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "area_m2": district_feats[d.code]["properties"]["area_m2"],
                "streets": [s.code for s in d.children],
            }
            for d in geo.districts
        ],
        "counts": {
            "districts": len(geo.districts),
            "streets": sum(len(d.children) for d in geo.districts),
            "communities": sum(len(s.children) for d in geo.districts for s in d.children),
            "grids": len(geo.grid_code),
            "road_nodes": len(files["roads.json"]["nodes"]),
            "road_edges": len(files["roads.json"]["edges"]),
            "cameras": len(cameras),
        },
        "departments": departments,
        "cameras": cameras,
        "sites": sites,
        "generator": {"module": "dashboard.city.generate", "seed": seed},
    }


# --- GeoJSON helpers and output ----------------------------------------------------------------


def _collection(features: list[Json]) -> Json:
    return {"type": "FeatureCollection", "features": features}


def _polygon(props: Json, ring: list[list[float]]) -> Json:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _point(props: Json, lonlat_: tuple[float, float]) -> Json:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": list(lonlat_)}}


def dump(obj: Json) -> bytes:
    """Compact, stable JSON (UTF-8 Chinese, no escapes) so the files stay small and diffable."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write(out_dir: Path, files: dict[str, Json]) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    for name, obj in sorted(files.items()):
        data = dump(obj)
        tmp = out_dir / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out_dir / name)
        sizes[name] = len(data)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.city.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--grid-digits", type=int, choices=(14, 15), default=14,
                        help="14 = CJ/T 213 (2-digit serial), 15 = DB11 (3-digit serial)")
    args = parser.parse_args(argv)
    sizes = write(args.out, generate(args.seed, args.grid_digits))
    for name, size in sizes.items():
        print(f"{args.out / name}: {size / 1024:.0f} KiB")
    print(f"total {sum(sizes.values()) / 1024 / 1024:.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
