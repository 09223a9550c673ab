"""Codes: the component/event catalogue, its crosswalk, AI alert types, grid codes, point → grid."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dashboard import casedata
from dashboard.casework.catalogue import Catalogue
from dashboard.casework.gridcode import grid_code_problem, is_grid_code, parse_grid_code, region_code
from dashboard.casework.gridindex import GridIndex

CATALOGUE = casedata.load_catalogue()


def test_catalogue_names_in_both_languages() -> None:
    assert CATALOGUE.name("component", "0101") == "上水井盖"
    assert CATALOGUE.name("部件", "0118", "en") == "Street light"
    assert CATALOGUE.name("event", "0101") == "私搭乱建"  # same number, other category
    assert CATALOGUE.large_class("event", "0505").zh == "街面秩序"
    assert CATALOGUE.item("event", "0999") is None
    assert len(CATALOGUE.items("component")) == 6 + 38 + 17 + 11 + 10 + 3 + 6
    assert all(item.en for item in CATALOGUE.items())


def test_crosswalk_between_code_generations() -> None:
    assert CATALOGUE.translate("0101", "gbt30428", "gbt47678") == "06001"
    assert CATALOGUE.translate("09009", "gbt47678", "gbt30428") == "0505"
    assert CATALOGUE.translate("04-06", "llss", "gbt30428") is None  # 占道经营: no old code
    assert CATALOGUE.translate("0102", "gbt30428", "llss") == "01-10"
    with pytest.raises(ValueError):
        CATALOGUE.translate("0101", "gbt30428", "cjt214")


def test_ai_alert_types_map_to_events_where_one_fits() -> None:
    assert CATALOGUE.alert("店外经营").small_code == "0504"
    assert CATALOGUE.alert("出店经营").small_code == "0504"  # alias
    assert CATALOGUE.alert("机动车乱停放").gbt47678 == "09009"
    assert CATALOGUE.alert("井盖异常").small_code is None
    assert CATALOGUE.alert("无人机") is None
    for alert in CATALOGUE.alerts:
        if alert.small_code is not None:
            assert CATALOGUE.item("event", alert.small_code) is not None, alert.type
        assert alert.fit in ("same", "nearest", "none")


def test_catalogue_data_mistakes_are_refused() -> None:
    one_class = {"event_class": [{"code": "01", "zh": "市容环境"}]}
    with pytest.raises(ValueError, match="twice"):
        Catalogue.from_data({**one_class, "event": [{"code": "0101", "zh": "a"}, {"code": "0101", "zh": "b"}]})
    with pytest.raises(ValueError, match="no known large class"):
        Catalogue.from_data({**one_class, "event": [{"code": "0901", "zh": "a"}]})
    with pytest.raises(ValueError, match="4 digits"):
        Catalogue.from_data({**one_class, "event": [{"code": "101", "zh": "a"}]})


@pytest.mark.parametrize("code", ["11010210100101", "110102101001001"])
def test_valid_grid_codes_split_into_regions(code: str) -> None:
    grid = parse_grid_code(code)
    assert (grid.district, grid.street, grid.community) == ("110102", "110102101", "110102101001")
    assert grid.serial == code[12:]
    assert region_code(code, "street") == "110102101" and region_code(code, "grid") == code


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("1101021010010", "13 digits"),
        ("1101021010010011", "16 digits"),
        ("11010210100a01", "only the digits"),
        ("１１０１０２１０１００１０１", "only the digits"),  # full-width digits
        (11010210100101, "must be a string"),
        ("", "empty"),
    ],
)
def test_invalid_grid_codes(code: object, problem: str) -> None:
    assert problem in grid_code_problem(code)
    assert not is_grid_code(code)
    assert region_code(code if isinstance(code, str) else None, "district") is None


def square(x: float, y: float, size: float) -> list[tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]


def city(n: int = 60, size: float = 0.001) -> GridIndex:
    """n×n square grids of about 100 m, starting at (116.3, 39.9); grid i is at column i % n."""
    return GridIndex((f"G{i}", square(116.3 + (i % n) * size, 39.9 + (i // n) * size, size)) for i in range(n * n))


def test_lookup_finds_the_containing_grid() -> None:
    index = GridIndex(
        [
            ("A", square(0, 0, 1)),
            ("B", square(1, 0, 1)),
            # an L shape: its bounding box covers the point (2.75, 0.75), the polygon does not
            ("L", [(2, 0), (3, 0), (3, 0.5), (2.5, 0.5), (2.5, 1), (2, 1)]),
        ]
    )
    assert index.lookup(0.5, 0.5) == "A"
    assert index.lookup(1.5, 0.5) == "B"
    assert index.lookup(2.25, 0.75) == "L"
    assert index.lookup(2.75, 0.75) is None
    assert index.lookup(5, 5) is None and index.lookup(-0.1, 0.5) is None
    assert len(index) == 3


def test_a_point_on_a_shared_edge_belongs_to_exactly_one_grid() -> None:
    left, right = GridIndex([("A", square(0, 0, 1))]), GridIndex([("B", square(1, 0, 1))])
    for y in (0.25, 0.5, 0.75):
        assert (left.lookup(1.0, y) is None) != (right.lookup(1.0, y) is None)


def test_a_grid_in_several_parts() -> None:
    index = GridIndex([("A", square(0, 0, 1)), ("A", square(5, 5, 1)), ("B", square(1, 0, 1))])
    assert index.lookup(5.5, 5.5) == "A" and index.lookup(3, 3) is None and len(index) == 2


def test_bad_rings_are_refused() -> None:
    with pytest.raises(ValueError, match="3 distinct"):
        GridIndex([("A", [(0, 0), (1, 1), (0, 0)])])
    with pytest.raises(ValueError, match="finite"):
        GridIndex([("A", [(0, 0), (1, float("nan")), (1, 1)])])
    with pytest.raises(ValueError, match="at least one"):
        GridIndex([])


def test_many_random_points_each_find_their_grid() -> None:
    # (Its speed, ~2 µs a lookup, is a benchmark's to measure, not a test's: a timed assertion
    # fails on a loaded machine and proves nothing on an idle one.)
    index = city()  # 3,600 grids
    rng = random.Random(7)
    points = [(116.3 + rng.random() * 0.06, 39.9 + rng.random() * 0.06) for _ in range(20_000)]
    found = [index.lookup(x, y) for x, y in points]
    for (x, y), code in zip(points[:500], found, strict=False):
        column, row = int((x - 116.3) / 0.001), int((y - 39.9) / 0.001)
        assert code == f"G{row * 60 + column}"


def test_grid_index_from_geojson(tmp_path: Path) -> None:
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "11010210100101"},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]},
            },
            {
                "type": "Feature",
                "properties": {"code": "11010210100102"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[[[2, 0], [3, 0], [3, 1], [2, 0]]]]},
            },
        ],
    }
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(geojson), encoding="utf-8")
    index = casedata.load_grid_index(path)
    assert index.lookup(0.5, 0.5) == "11010210100101"
    assert index.lookup(2.9, 0.2) == "11010210100102"
