"""The demo city's supervision files (assets/city/zones.geojson, routes.geojson,
grid_collectors.csv): valid for the supervision, current with their generator, and fitting the
simulator's fleet and rota (feeds/simulator/supervision_files.py)."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import LineString, Point
from sim_support import CITY_DIR, city

from dashboard.contract import VEHICLE_SUBTYPES
from dashboard.geofences import load
from dashboard.store.evaluation import read_grid_collectors
from dashboard.supervision_config import CITY_GRID_COLLECTORS, CITY_ROUTES, CITY_ZONES, load_supervision
from feeds.simulator.supervision_files import demo_layout, files, main, muck_trips, stale
from feeds.simulator.world import SimConfig, World


@pytest.fixture(scope="module")
def world() -> World:
    """The demo's fleet and rota (SimConfig's counts, as `gridwall simulate` runs by default)."""
    return World(city(), SimConfig(cameras=0, cases_per_day=1, backfill_days=0), 0.0)


@pytest.fixture(scope="module")
def fences():
    return load(CITY_DIR / CITY_ZONES, CITY_DIR / CITY_ROUTES, centre=tuple(city().center),
                vehicle_subtypes=VEHICLE_SUBTYPES)


def test_the_files_are_the_generators_and_the_command_checks_them(world, tmp_path) -> None:
    assert CITY_ZONES in files(world) and CITY_ROUTES in files(world) and CITY_GRID_COLLECTORS in files(world)
    assert stale(CITY_DIR, world) == []  # regenerate: python -m feeds.simulator.supervision_files
    assert main(["--check"]) == 0
    other = World(city(), SimConfig(vehicles=30, collectors=40, cameras=0, cases_per_day=1, backfill_days=0), 0.0)
    assert stale(CITY_DIR, other) == [CITY_ROUTES, CITY_GRID_COLLECTORS]  # the zones fit any fleet
    assert stale(tmp_path, world) == [CITY_ZONES, CITY_ROUTES, CITY_GRID_COLLECTORS]


def test_the_supervision_loads_them_as_the_city_directorys_own() -> None:
    section = {"zones": str(CITY_DIR / CITY_ZONES), "routes": str(CITY_DIR / CITY_ROUTES)}
    sup = load_supervision(section, base_dir=CITY_DIR, centre=tuple(city().center),
                           grid_collectors=read_grid_collectors(CITY_DIR / CITY_GRID_COLLECTORS))
    assert sup.geofences.has_sites and sup.geofences.routes
    assert len(sup.areas) == SimConfig().collectors


def test_every_site_is_a_site_and_the_forbidden_blocks_are_for_muck_trucks(fences) -> None:
    kinds: dict[str, list] = {}
    for z in fences.zones:
        kinds.setdefault(z.kind, []).append(z)
    assert {z.id for z in kinds["site"]} == {s.id for s in city().sites}
    assert "OLD-TOWN" in {z.id for z in kinds["forbidden"]}
    assert all(z.subtypes == {"muck_truck"} and not z.hours for z in kinds["forbidden"])
    [school] = kinds["speed"]
    assert school.speed_limit_kmh == 30 and not school.subtypes
    for z in fences.zones:  # drawn where the truck stops: the site's own node, ~100 m a side
        if z.kind == "site":
            assert 9_000 < z.geom.area < 11_000
    for a in fences.zones:
        for b in fences.zones:
            if a is not b and "site" not in (a.kind, b.kind):
                assert not a.geom.intersects(b.geom), (a.id, b.id)


def test_every_muck_truck_has_its_route_and_no_trip_of_theirs_nears_a_forbidden_block(world, fences) -> None:
    trucks = [v for v in world.vehicles if v.subtype == "muck_truck"]
    assert len(trucks) == 18
    forbidden = [z.geom for z in fences.zones if z.kind == "forbidden"]
    plane = fences.plane
    for v in trucks:
        [route] = fences.routes_of(v.id)
        for trip in muck_trips(world.net, v.base, v.site, v.dump):
            # every node of every trip it drives lies on its route (the simulator's plane and the
            # supervision's differ by well under a metre)
            pts = [plane.xy(*reversed(world.cells.lonlat(*world.net.xy[n]))) for n in trip]
            assert max(route.geom.distance(Point(p)) for p in pts) < 1.0, (v.id, trip[0], trip[-1])
            line = LineString(pts)
            assert min(shapely.distance(line, z) for z in forbidden) > 200, v.id
    layout = demo_layout(world.city, world.net)
    assert layout.old_town == layout.forbidden[0] and len(layout.forbidden) >= 2
    ox, oy = world.net.xy[layout.old_town]
    assert math.hypot(ox, oy) < 2000  # the old town is central


def test_every_collector_answers_for_its_patrol_grids(world) -> None:
    grids = read_grid_collectors(CITY_DIR / CITY_GRID_COLLECTORS)
    areas: dict[str, set[str]] = {}
    for code, ids in grids.items():
        for cid in ids:
            areas.setdefault(cid, set()).add(code)
    assert set(areas) == {c.id for c in world.collectors}
    for c in world.collectors:
        assert areas[c.id] == {world.cells.cells[g].code for g in c.area.cells}
    assert set(grids) == {cell.code for cell in world.cells.cells}  # every grid has its collector
