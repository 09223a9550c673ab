"""The demo city's supervision files, made from the city and the simulator's own fleet and rota
(docs/supervision.md "Zones and routes", "The demo city"):

- ``zones.geojson``: every site of city.json (construction sites, dumps, the muck-truck yard,
  the depots and bases, the transfer station) as a ``site`` square of 100 m; the old town and a
  few residential blocks, forbidden to muck trucks, that none of their roads comes near (a
  behaving truck never enters one); a school's 30 km/h zone;
- ``routes.geojson``: each construction site's approved route, the roads its muck trucks drive
  (yard → site, site ⇄ dump, back to the yard), assigned to those trucks' device ids;
- ``grid_collectors.csv``: each collector's patrol grids (责任网格), ``grid_code,collector``.

The supervision reads them from the city directory when the configuration names none
(dashboard/supervision_config.py ``CITY_ZONES``, ``CITY_ROUTES``, ``CITY_GRID_COLLECTORS``).
They follow from the city and the fleet's size, as the city's other files follow from its seed:

    python -m feeds.simulator.supervision_files [--city-dir assets/city] [--vehicles 60] [--collectors 120] [--check]

A simulator run with another fleet size (``--vehicles``, ``--collectors``) needs files made for
it: `gridwall simulate` says so at start (``stale``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString

from dashboard.city.model import City, load_city
from dashboard.city.planar import XY
from feeds.simulator.areas import Cells
from feeds.simulator.roadnet import RoadNet

if TYPE_CHECKING:
    from feeds.simulator.world import World

ZONES, ROUTES, GRID_COLLECTORS = "zones.geojson", "routes.geojson", "grid_collectors.csv"
DEFAULT_CITY_DIR = Path(__file__).resolve().parents[2] / "assets" / "city"
SITE_HALF_M = 50.0  # a site's square: 100 m a side around where its trucks stop
OLD_TOWN_HALF_M = 200.0  # the forbidden blocks' half side
OLD_TOWN_CLEAR_M = 500.0  # their centres this far from every road a muck truck drives: > 200 m from their corners
FORBIDDEN_APART_M = 2000.0  # one forbidden block within reach of most of the city (a detour takes the nearest)
FORBIDDEN_MAX = 4
SITE_CLEAR_M = 400.0  # the old town and the school this far from every site
SCHOOL_HALF_M = 100.0
SCHOOL_NEAR: XY = (0.0, 1500.0)  # the school is the quiet junction nearest this (m from the centre)
SCHOOL_LIMIT_KMH = 30
STOP_CLEAR_M = 150.0  # a truck stopped this far from every site is outside all of them (GPS noise too)


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo's zones are, in the simulator's metric plane."""

    forbidden: tuple[int, ...]  # the road nodes at the forbidden blocks' centres (a detour drives through one)
    school: int
    sites: tuple[XY, ...]

    @property
    def old_town(self) -> int:
        return self.forbidden[0]

    def can_stop(self, net: RoadNet, node: int) -> bool:
        """Whether a truck standing at this node is outside every site's square."""
        x, y = net.xy[node]
        return all(math.dist((x, y), s) >= STOP_CLEAR_M for s in self.sites)


def muck_trips(net: RoadNet, base: int, site: int, dump: int) -> list[tuple[int, ...]]:
    """Every trip a behaving muck truck drives (feeds/simulator/vehicles.py): out of the yard to
    its site, site ⇄ dump all shift, and back to the yard from either end when the shift ends."""
    out: list[tuple[int, ...]] = []
    for a, b in ((base, site), (site, dump), (dump, site), (site, base), (dump, base)):
        path = net.route(a, b)
        if len(path) > 1 and path not in out:
            out.append(path)
    return out


def _muck_plan(city: City, net: RoadNet) -> list[tuple[int, int, int]]:
    """(yard, site, dump) of every construction site, as world.py gives them to its trucks."""
    from feeds.simulator.world import nearest_dump

    by_kind: dict[str, list[Any]] = {}
    for s in city.sites:
        by_kind.setdefault(s.kind, []).append(s)
    yards = by_kind.get("muck_yard") or by_kind.get("dump") or []
    dumps = by_kind.get("dump") or []
    out = []
    for s in by_kind.get("construction") or []:
        dump = nearest_dump(net, dumps, s.node)
        if yards and dump is not None:
            out.append((yards[0].node, s.node, dump))
    return out


_LAYOUTS: dict[int, tuple[City, DemoLayout]] = {}


def demo_layout(city: City, net: RoadNet) -> DemoLayout:
    """The old town: the junction nearest the centre that no muck truck's road comes within
    OLD_TOWN_CLEAR_M of (so a behaving truck never enters it); more such blocks, each
    FORBIDDEN_APART_M from the others; the school: a junction of minor roads north of the
    centre, away from the trucks' roads and the forbidden blocks. Computed once a city."""
    got = _LAYOUTS.get(id(city))
    if got is not None and got[0] is city:
        return got[1]
    lines = [LineString([net.xy[n] for n in p]) for y, s, d in _muck_plan(city, net) for p in muck_trips(net, y, s, d)]
    roads = shapely.union_all(lines) if lines else None
    xy = np.array(net.xy, dtype=float)
    clear = shapely.distance(shapely.points(xy), roads) if roads is not None else np.full(len(xy), np.inf)
    sites = tuple(net.xy[s.node] for s in city.sites)

    def far_from_sites(n: int) -> bool:
        return all(math.dist(net.xy[n], s) >= SITE_CLEAR_M for s in sites)

    old = [n for n in range(len(xy)) if net.degree(n) >= 3 and clear[n] >= OLD_TOWN_CLEAR_M and far_from_sites(n)]
    if not old:
        raise ValueError("no block of the city is clear of the muck trucks' roads for an old town")
    forbidden: list[int] = []
    for n in sorted(old, key=lambda n: (math.hypot(*net.xy[n]), n)):  # the centre's first: the old town
        if len(forbidden) < FORBIDDEN_MAX and all(math.dist(net.xy[n], net.xy[m]) >= FORBIDDEN_APART_M for m in forbidden):
            forbidden.append(n)
    quiet = [n for n in range(len(xy)) if net.degree(n) >= 3 and all(c == "minor" for _, _, c in net.adj[n])
             and clear[n] >= 2 * SCHOOL_HALF_M + 100 and far_from_sites(n)
             and all(math.dist(net.xy[n], net.xy[m]) >= OLD_TOWN_HALF_M + SCHOOL_HALF_M + 300 for m in forbidden)]
    if not quiet:
        raise ValueError("no junction of minor roads for the school's zone")
    school = min(quiet, key=lambda n: (math.dist(net.xy[n], SCHOOL_NEAR), n))
    layout = DemoLayout(tuple(forbidden), school, sites)
    _LAYOUTS[id(city)] = (city, layout)
    return layout


# --- the files ---------------------------------------------------------------------------------


def _square(cells: Cells, x: float, y: float, half: float) -> list[list[list[float]]]:
    corners = ((x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half))
    ring = [list(_lonlat(cells, cx, cy)) for cx, cy in corners]
    return [[*ring, ring[0]]]  # counter-clockwise, closed


def _lonlat(cells: Cells, x: float, y: float) -> tuple[float, float]:
    lon, lat = cells.lonlat(x, y)
    return round(lon, 6), round(lat, 6)


def _collection(features: Sequence[dict[str, Any]], **generator: Any) -> bytes:
    """One feature a line: small, and a diff shows which zone or route changed."""
    head = {"type": "FeatureCollection", "generator": {"module": "feeds.simulator.supervision_files", **generator}}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    return f'{text},"features":[\n{body}\n]}}\n'.encode()


def zones(world: World) -> bytes:
    net, cells = world.net, world.cells
    layout = demo_layout(world.city, net)
    features: list[dict[str, Any]] = []
    for s in world.city.sites:
        x, y = net.xy[s.node]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": _square(cells, x, y, SITE_HALF_M)},
                         "properties": {"id": s.id, "name": s.name_zh, "kind": "site"}})
    for k, node in enumerate(layout.forbidden):
        x, y = net.xy[node]
        street = world.city.names.get(world.cells.cells[_cell_at(world, x, y)].code[:9], "")
        zid, name = ("OLD-TOWN", "老城历史街区") if k == 0 else (f"RESIDENTIAL-{k:02d}", f"{street}居住区")
        features.append({"type": "Feature",
                         "geometry": {"type": "Polygon", "coordinates": _square(cells, x, y, OLD_TOWN_HALF_M)},
                         "properties": {"id": zid, "name": f"{name}(渣土车禁行)", "kind": "forbidden",
                                        "subtypes": ["muck_truck"]}})
    x, y = net.xy[layout.school]
    features.append({"type": "Feature",
                     "geometry": {"type": "Polygon", "coordinates": _square(cells, x, y, SCHOOL_HALF_M)},
                     "properties": {"id": "SCHOOL-01", "name": "江城实验小学周边(限速30)", "kind": "speed",
                                    "speed_limit_kmh": SCHOOL_LIMIT_KMH}})
    return _collection(features)


def _cell_at(world: World, x: float, y: float) -> int:
    return min(range(len(world.cells)), key=lambda i: (math.dist(world.cells.cells[i].centroid, (x, y)), i))


def routes(world: World) -> bytes:
    net, cells = world.net, world.cells
    by_site: dict[str, list[Any]] = {}
    names = {s.node: s for s in world.city.sites}
    for v in world.vehicles:
        if v.subtype == "muck_truck" and v.site is not None and v.dump is not None:
            by_site.setdefault(names[v.site].id, []).append(v)
    features = []
    for site_id in sorted(by_site):
        trucks = by_site[site_id]
        v = trucks[0]  # the trucks of one site share its yard and dump: one route
        lines = [[list(_lonlat(cells, *net.xy[n])) for n in p] for p in muck_trips(net, v.base, v.site, v.dump)]
        features.append({"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                         "properties": {"id": f"ROUTE-{site_id}",
                                        "name": f"{names[v.site].name_zh}→{names[v.dump].name_zh}",
                                        "devices": sorted(t.id for t in trucks)}})
    return _collection(features, vehicles=len(world.vehicles))


def grid_collectors(world: World) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["grid_code", "collector"])
    for c in world.collectors:
        for code in sorted(world.cells.cells[g].code for g in c.area.cells):
            w.writerow([code, c.id])
    return out.getvalue().encode()


def files(world: World) -> dict[str, bytes]:
    return {ZONES: zones(world), ROUTES: routes(world), GRID_COLLECTORS: grid_collectors(world)}


def stale(city_dir: Path, world: World) -> list[str]:
    """The supervision files of ``city_dir`` that are not what this world's fleet and rota need
    (missing, or made for another fleet size): routes for trucks that are not there, grids of
    other collectors. Empty when they fit."""
    out = []
    for name, data in files(world).items():
        path = city_dir / name
        try:
            if path.read_bytes() != data:
                out.append(name)
        except OSError:
            out.append(name)
    return out


def _world(city: City, vehicles: int, collectors: int) -> World:
    from feeds.simulator.world import SimConfig, World

    # The areas and the trucks' sites follow from the counts alone (not the seed nor the time).
    return World(city, SimConfig(vehicles=vehicles, collectors=collectors, cameras=0, cases_per_day=1,
                                 backfill_days=0), 0.0)


def main(argv: list[str] | None = None) -> int:
    from feeds.simulator.world import SimConfig

    d = SimConfig()
    parser = argparse.ArgumentParser(prog="python -m feeds.simulator.supervision_files", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-dir", type=Path, default=DEFAULT_CITY_DIR, help="the generated city (and the output)")
    parser.add_argument("--vehicles", type=int, default=d.vehicles, help="the simulator's (default %(default)s)")
    parser.add_argument("--collectors", type=int, default=d.collectors, help="the simulator's (default %(default)s)")
    parser.add_argument("--check", action="store_true", help="only say whether the files are current (exit 1 if not)")
    args = parser.parse_args(argv)
    world = _world(load_city(args.city_dir), max(0, args.vehicles), max(0, args.collectors))
    if args.check:
        bad = stale(args.city_dir, world)
        for name in bad:
            print(f"{args.city_dir / name}: not current", file=sys.stderr)
        return 1 if bad else 0
    for name, data in files(world).items():
        tmp = args.city_dir / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(args.city_dir / name)
        print(f"{args.city_dir / name}: {len(data) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
