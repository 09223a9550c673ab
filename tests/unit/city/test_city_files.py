"""The generated demo city (assets/city): admin nesting, grid sizes, no gaps or overlaps,
codes, the road graph, meta; and that the generator is deterministic and the files are current."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections import Counter
from pathlib import Path

import pytest

from dashboard.city import generate
from dashboard.city.model import City, load_city
from dashboard.city.planar import LocalProjection, point_in_ring
from dashboard.geo import haversine_m

CITY_DIR = Path(__file__).resolve().parents[3] / "assets" / "city"


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(CITY_DIR)


@pytest.fixture(scope="module")
def proj(city: City) -> LocalProjection:
    return LocalProjection(city.center[1], city.center[0])


def _read(name: str) -> dict:
    return json.loads((CITY_DIR / name).read_text(encoding="utf-8"))


def test_code_lengths_and_nesting(city: City) -> None:
    districts = {a.code for a in city.districts}
    streets = {a.code: a for a in city.streets}
    communities = {a.code: a for a in city.communities}
    assert 3 <= len(districts) <= 4
    assert all(len(c) == 6 and c.isdigit() for c in districts)
    for s in streets.values():
        assert len(s.code) == 9 and s.code.isdigit() and s.parent == s.code[:6] in districts
    for c in communities.values():
        assert len(c.code) == 12 and c.code.isdigit() and c.parent == c.code[:9] in streets
    per_district = Counter(s[:6] for s in streets)
    assert all(2 <= n <= 4 for n in per_district.values())
    per_street = Counter(c[:9] for c in communities)
    assert all(n >= 3 for n in per_street.values())
    assert set(per_street) == set(streets)
    for code, _ring in city.grids:
        assert len(code) == city.grid_digits == 14 and code.isdigit()
        assert city.grid_info[code].parent == code[:12] in communities
    assert len({code for code, _ in city.grids}) == len(city.grids)


def test_grid_serials_run_west_to_east_then_north_to_south(city: City, proj: LocalProjection) -> None:
    by_community: dict[str, list[tuple[int, float, float]]] = {}
    for code, ring in city.grids:
        xs, ys = zip(*(proj.to_xy(*p) for p in ring[:-1]), strict=True)
        by_community.setdefault(code[:12], []).append((int(code[12:]), sum(xs) / 4, sum(ys) / 4))
    for cells in by_community.values():
        cells.sort()
        assert [s for s, _, _ in cells] == list(range(1, len(cells) + 1))
        assert len(cells) <= 99  # a two-digit serial
        # Rows follow the curved streets, so test the trend: serials go down the map.
        assert _rank_correlation([s for s, _, _ in cells], [-y for _, _, y in cells]) > 0.8


def _rank_correlation(a: list[float], b: list[float]) -> float:
    def ranks(v: list[float]) -> list[int]:
        order = sorted(range(len(v)), key=v.__getitem__)
        out = [0] * len(v)
        for r, i in enumerate(order):
            out[i] = r
        return out

    ra, rb = ranks(a), ranks(b)
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb, strict=True)) / (n * (n * n - 1))


def test_grid_areas_are_about_ten_thousand_square_metres(city: City, proj: LocalProjection) -> None:
    areas = [city.grid_info[code].area_m2 for code, _ in city.grids]
    assert 2000 <= len(areas) <= 8000
    assert 8_000 <= statistics.median(areas) <= 12_000
    assert min(areas) > 5_000 and max(areas) < 20_000
    # area_m2 is the ring's own area
    for code, ring in city.grids[::97]:
        xy = [proj.to_xy(*p) for p in ring[:-1]]
        shoelace = abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:] + xy[:1], strict=True))) / 2
        assert shoelace == pytest.approx(city.grid_info[code].area_m2, rel=1e-3)
    # Levels add up: the grids of a district cover exactly the district.
    for level in (city.districts, city.streets, city.communities):
        for area in level:
            total = sum(g.area_m2 for g in city.grid_info.values() if g.code.startswith(area.code))
            assert total == pytest.approx(area.area_m2, rel=1e-4), area.code


def test_sampled_points_fall_in_exactly_one_grid_of_the_right_parents(city: City) -> None:
    """No overlaps and no gaps: every point of the city is in one grid, and in that grid's own
    community, street and district (which therefore nest)."""
    index: dict[tuple[int, int], list[tuple[str, tuple]]] = {}
    cell_deg = 0.002

    def key(lon: float, lat: float) -> tuple[int, int]:
        return (math.floor(lon / cell_deg), math.floor(lat / cell_deg))

    for code, ring in city.grids:
        lons, lats = zip(*ring, strict=True)
        for i in range(math.floor(min(lons) / cell_deg), math.floor(max(lons) / cell_deg) + 1):
            for j in range(math.floor(min(lats) / cell_deg), math.floor(max(lats) / cell_deg) + 1):
                index.setdefault((i, j), []).append((code, ring))
    (south, west), (north, east) = city.bounds
    rng = random.Random(7)
    inside_city = 0
    for _ in range(4000):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        grids = [code for code, ring in index.get(key(lon, lat), []) if point_in_ring(lon, lat, ring)]
        districts = [a.code for a in city.districts if point_in_ring(lon, lat, a.ring)]
        assert len(grids) == len(districts) <= 1, (lon, lat, grids, districts)
        if not grids:
            continue
        inside_city += 1
        code = grids[0]
        assert districts == [code[:6]]
        assert [a.code for a in city.streets if point_in_ring(lon, lat, a.ring)] == [code[:9]]
        assert [a.code for a in city.communities if point_in_ring(lon, lat, a.ring)] == [code[:12]]
    assert inside_city > 1000


def test_cameras_sites_and_road_nodes_lie_inside_the_bounds(city: City) -> None:
    (south, west), (north, east) = city.bounds
    for lon, lat in city.roads.nodes:
        assert south <= lat <= north and west <= lon <= east
    assert 20 <= len(city.cameras) <= 40
    dept_codes = {d.code for d in city.departments}
    for cam in city.cameras:
        assert south <= cam.lat <= north and west <= cam.lon <= east
        assert cam.department in dept_codes and cam.grid_code in city.grid_info
        ring = dict(city.grids)[cam.grid_code]
        assert point_in_ring(cam.lon, cam.lat, ring)
    for site in city.sites:
        assert south <= site.lat <= north and west <= site.lon <= east
        assert (site.lon, site.lat) == city.roads.nodes[site.node]


def test_road_graph_is_connected_and_matches_the_drawn_roads(city: City) -> None:
    nodes, edges = city.roads.nodes, city.roads.edges
    assert len(nodes) > 1000
    adj: dict[int, set[int]] = {}
    for e in edges:
        assert e.cls in ("major", "minor") and e.name_zh
        assert e.length_m == pytest.approx(haversine_m(*nodes[e.a][::-1], *nodes[e.b][::-1]), abs=0.2)  # nodes: (lon, lat)
        assert 1 <= e.length_m < 400
        adj.setdefault(e.a, set()).add(e.b)
        adj.setdefault(e.b, set()).add(e.a)
    seen, todo = {0}, [0]
    while todo:
        for m in adj[todo.pop()]:
            if m not in seen:
                seen.add(m)
                todo.append(m)
    assert len(seen) == len(nodes)
    node_set = set(nodes)
    drawn = [f for f in _read("basemap.json")["features"] if f["properties"]["layer"].startswith("road")]
    for f in drawn:
        for lon, lat in f["geometry"]["coordinates"]:
            assert (lon, lat) in node_set


def test_basemap_has_the_layers_a_tile_free_map_needs() -> None:
    feats = _read("basemap.json")["features"]
    layers = Counter(f["properties"]["layer"] for f in feats)
    for layer in ("land", "water", "park", "block", "road_major", "road_minor", "label"):
        assert layers[layer] >= 1, layer
    kinds = {f["properties"].get("kind") for f in feats if f["properties"]["layer"] == "water"}
    assert {"river", "lake"} <= kinds
    names = {f["properties"].get("name_zh") for f in feats}
    assert {"解放路", "中山北路", "滨江大道"} <= names
    for f in feats:
        if f["properties"].get("name_zh"):
            assert f["properties"].get("name_en"), f["properties"]


def test_city_meta(city: City) -> None:
    meta = city.meta
    assert meta["fictional"] is True and city.fictional
    assert city.timezone == "Asia/Shanghai"
    assert abs(city.center[0] - 30.27) < 0.02 and abs(city.center[1] - 120.16) < 0.02
    (south, west), (north, east) = city.bounds
    width = haversine_m(city.center[0], west, city.center[0], east)
    height = haversine_m(south, city.center[1], north, city.center[1])
    assert 7_000 < width < 11_000 and 5_000 < height < 9_000
    codes = [d.code for d in city.departments]
    assert len(codes) == len(set(codes)) and 10 <= len(codes) <= 16
    assert {"HWC", "SZC", "YLJ", "JJDD", "GDGS", "SWJT", "RQGS"} <= set(codes)
    assert sum(d.kind == "district" for d in city.departments) == len(city.districts)
    assert city.names[city.districts[0].code] == city.districts[0].name_zh


def test_load_city_is_cached(city: City) -> None:
    assert load_city(CITY_DIR) is city
    assert load_city(str(CITY_DIR)) is city


def test_generator_is_deterministic_and_the_committed_files_are_current() -> None:
    files = generate.generate()
    for name, obj in files.items():
        assert generate.dump(obj) == (CITY_DIR / name).read_bytes(), f"{name}: run python -m dashboard.city.generate"
    total = sum(p.stat().st_size for p in CITY_DIR.glob("*.json"))
    assert total < 4 * 1024 * 1024


def test_fifteen_digit_grid_codes(tmp_path: Path) -> None:
    generate.write(tmp_path, generate.generate(grid_digits=15))
    city15 = load_city(tmp_path)
    city14 = load_city(CITY_DIR)
    assert city15.grid_digits == 15 and city15.meta["code_scheme"]["grid"] == 15
    codes15 = [code for code, _ in city15.grids]
    assert all(len(c) == 15 and c.isdigit() for c in codes15)
    # Same geography, only the serial is one digit longer.
    assert sorted(c[:12] + c[13:] for c in codes15) == sorted(code for code, _ in city14.grids)
    assert [ring for _, ring in city15.grids][:50] == [ring for _, ring in city14.grids][:50]
