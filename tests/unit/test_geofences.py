"""The supervision's zones and routes (dashboard/geofences.py) and its section of the
configuration (dashboard/supervision_config.py): what a fix is in, near and how far off its
route, in metres; bad files and bad values refused at start with a clear message."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dashboard.geofences import GeofenceError, load
from dashboard.supervision_config import SupervisionConfigError, load_supervision

CENTRE = (30.27, 120.16)
SUBTYPES = ("enforcement", "muck_truck", "sanitation")
M = 1 / 111_195.0  # a metre of latitude, in degrees


def square(lat: float, lon: float, half_m: float) -> list[list[list[float]]]:
    dlat, dlon = half_m * M, half_m * M / math.cos(math.radians(lat))
    return [[[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
             [lon - dlon, lat - dlat]]]


def feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write(tmp: Path, name: str, features: list[dict]) -> Path:
    path = tmp / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture
def fences(tmp_path: Path):
    zones = write(tmp_path, "zones.geojson", [
        feature({"id": "old-town", "name": "老城区", "kind": "forbidden", "subtypes": ["muck_truck"]},
                {"type": "Polygon", "coordinates": square(30.27, 120.16, 500)}),
        feature({"id": "ring", "kind": "forbidden", "subtypes": ["muck_truck"], "hours": "07:00-22:00"},
                {"type": "Polygon", "coordinates": square(30.28, 120.16, 100)}),
        feature({"id": "school", "kind": "speed", "speed_limit_kmh": 30},
                {"type": "Polygon", "coordinates": square(30.27, 120.16, 100)}),
        feature({"id": "dump", "kind": "site"}, {"type": "Polygon", "coordinates": square(30.25, 120.16, 100)}),
    ])
    routes = write(tmp_path, "routes.geojson", [
        feature({"id": "R1", "devices": ["M001"], "buffer_m": 50},
                {"type": "LineString", "coordinates": [[120.15, 30.25], [120.17, 30.25]]}),
    ])
    return load(zones, routes, centre=CENTRE, vehicle_subtypes=SUBTYPES)


def test_a_fix_inside_near_and_outside_a_forbidden_zone(fences):
    at = 12 * 60
    inside = fences.facts("M001", "muck_truck", 30.27, 120.16, at, 20, 50)
    assert inside.forbidden == {"old-town"} and inside.speed_limit_kmh == 30
    edge = 30.27 + 510 * M  # 10 m north of the old town's edge (its half-side is 500 m)
    near = fences.facts("M001", "muck_truck", edge, 120.16, at, 20, 50)
    assert near.forbidden == frozenset() and near.forbidden_near == {"old-town"}
    far = fences.facts("M001", "muck_truck", 30.27 + 530 * M, 120.16, at, 20, 50)
    assert far.forbidden == frozenset() and far.forbidden_near == frozenset()


def test_a_zone_forbids_only_its_types_and_its_hours(fences):
    assert fences.facts("E001", "enforcement", 30.27, 120.16, 600, 20, 50).forbidden == frozenset()
    assert fences.facts("M001", "muck_truck", 30.28, 120.16, 8 * 60, 20, 50).forbidden == {"ring"}
    assert fences.facts("M001", "muck_truck", 30.28, 120.16, 23 * 60, 20, 50).forbidden == frozenset()


def test_the_distance_outside_a_route_corridor_is_in_metres(fences):
    facts = fences.facts("M001", "muck_truck", 30.25 + 80 * M, 120.16, 0, 20, 60)
    assert facts.route_m["R1"] == pytest.approx(30, abs=0.5)  # 80 m off the line, its corridor 50 m
    assert fences.facts("M002", "muck_truck", 30.25, 120.16, 0, 20, 60).route_m == {}  # not its route


def test_a_site_says_a_stop_there_is_the_job(fences):
    assert fences.facts("M001", "muck_truck", 30.25, 120.16, 0, 20, 50).at_site
    assert not fences.facts("M001", "muck_truck", 30.26, 120.16, 0, 20, 50).at_site
    assert fences.has_sites


@pytest.mark.parametrize(("features", "said"), [
    ([feature({"id": "bow"}, {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.3], [120.2, 30.2],
                                                                [120.1, 30.3], [120.1, 30.2]]]})],
     "is not valid: Self-intersection"),
    ([feature({"id": "z", "subtypes": ["tractor"]}, {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)})],
     "unknown vehicle type 'tractor'"),
    ([feature({"id": "z"}, {"type": "LineString", "coordinates": [[120.1, 30.2], [120.2, 30.3]]})],
     "its geometry is 'LineString', where a Polygon or MultiPolygon is needed"),
    ([feature({"name": "no id"}, {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)})],
     "has no properties.id"),
    ([feature({"id": "z", "hours": "7-22"}, {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)})],
     "is not HH:MM-HH:MM"),
    ([feature({"id": "z", "kind": "nice"}, {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)})],
     "kind 'nice' is not one of"),
    ([feature({"id": "z"}, {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)}),
      feature({"id": "z"}, {"type": "Polygon", "coordinates": square(30.3, 120.1, 50)})],
     "two zones have the id 'z'"),
])
def test_bad_zones_are_refused_with_a_reason(tmp_path: Path, features, said):
    with pytest.raises(GeofenceError, match=None) as exc:
        load(write(tmp_path, "z.geojson", features), None, centre=CENTRE, vehicle_subtypes=SUBTYPES)
    assert said in str(exc.value) and "z.geojson: " in str(exc.value)


def test_a_route_that_is_not_a_line_is_refused(tmp_path: Path):
    bad = write(tmp_path, "r.geojson", [feature({"id": "R", "devices": ["M001"]},
                                                {"type": "Polygon", "coordinates": square(30.2, 120.1, 50)})])
    with pytest.raises(GeofenceError, match="feature 0 .'R'.: its geometry is 'Polygon', where a LineString or "
                                            "MultiLineString is needed"):
        load(None, bad, centre=CENTRE, vehicle_subtypes=SUBTYPES)
    unassigned = write(tmp_path, "r2.geojson", [feature({"id": "R"}, {"type": "LineString",
                                                                      "coordinates": [[120.1, 30.2], [120.2, 30.2]]})])
    with pytest.raises(GeofenceError, match="devices must list"):
        load(None, unassigned, centre=CENTRE, vehicle_subtypes=SUBTYPES)


def test_a_file_that_is_not_geojson_is_refused(tmp_path: Path):
    (tmp_path / "x.geojson").write_text("{]", encoding="utf-8")
    with pytest.raises(GeofenceError, match="not JSON"):
        load(tmp_path / "x.geojson", None, centre=CENTRE, vehicle_subtypes=SUBTYPES)
    with pytest.raises(GeofenceError, match="no such file"):
        load(tmp_path / "none.geojson", None, centre=CENTRE, vehicle_subtypes=SUBTYPES)


# --- the [supervision] section --------------------------------------------------------------------

def test_the_defaults_and_a_type_s_own_values(tmp_path: Path):
    sup = load_supervision({"vehicle": {"speed_limit_kmh": 70, "muck_truck": {"overspeed_min_s": 20}}},
                           base_dir=tmp_path, centre=CENTRE)
    assert sup.limits_for("enforcement").speed_limit_kmh == 70
    muck = sup.limits_for("muck_truck")
    # The section's common value wins over the type's default; the type's own over both.
    assert (muck.speed_limit_kmh, muck.overspeed_min_s, muck.watch_stops) == (70, 20, True)
    assert sup.duty_hours("muck_truck") == ((20 * 60, 6 * 60),)
    assert not sup.limits_for("sanitation").watch_stops


@pytest.mark.parametrize(("section", "said"), [
    ({"vehicle": {"tractor": {"speed_limit_kmh": 20}}}, "unknown vehicle type"),
    ({"vehicle": {"speed_limt_kmh": 20}}, "unknown key 'speed_limt_kmh'"),
    ({"vehicle": {"muck_truck": {"speed_limit_kmh": -5}}}, "speed_limit_kmh = -5: a positive number"),
    ({"vehicle": {"muck_truck": {"duty_hours": ["8-17"]}}}, "is not HH:MM-HH:MM"),
    ({"zonez": "x.geojson"}, "unknown key 'zonez'"),
    ({"zones": "missing.geojson"}, "no such file"),
])
def test_a_bad_section_is_refused_at_start(tmp_path: Path, section, said):
    with pytest.raises(SupervisionConfigError) as exc:
        load_supervision(section, base_dir=tmp_path, centre=CENTRE)
    assert said in str(exc.value)


def test_a_start_with_a_bad_zone_file_stops_with_its_reason(tmp_path: Path, monkeypatch, capsys):
    from dashboard.cli import main

    bow = [[[120.1, 30.2], [120.2, 30.3], [120.2, 30.2], [120.1, 30.3], [120.1, 30.2]]]
    write(tmp_path, "z.geojson", [feature({"id": "bow"}, {"type": "Polygon", "coordinates": bow})])
    (tmp_path / "gridwall.toml").write_text('[supervision]\nzones = "z.geojson"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["--config", str(tmp_path / "gridwall.toml"), "ingest"]) == 2
    err = capsys.readouterr().err
    assert "z.geojson: feature 0 ('bow'): its Polygon is not valid: Self-intersection" in err
