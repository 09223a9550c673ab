"""Datum conversions against published reference values, and round trips under a metre."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import geo
from dashboard.city.planar import LocalProjection

# wandergis/coordtransform test/app.js, input (lng 116.404, lat 39.915), results as [lng, lat].
BEIJING = (39.915, 116.404)
REF_WGS84_TO_GCJ02 = (39.91640428150164, 116.41024449916938)
REF_GCJ02_TO_BD09 = (39.92133699351021, 116.41036949371029)
REF_BD09_TO_GCJ02 = (39.90865673957631, 116.39762729119315)  # one-step approximation
REF_GCJ02_TO_WGS84 = (39.91359571849836, 116.39775550083061)  # one-step approximation


def test_forward_conversions_match_the_reference_exactly():
    assert geo.wgs84_to_gcj02(*BEIJING) == pytest.approx(REF_WGS84_TO_GCJ02, abs=1e-12)
    assert geo.gcj02_to_bd09(*BEIJING) == pytest.approx(REF_GCJ02_TO_BD09, abs=1e-12)


def test_inverse_conversions_agree_with_the_reference_within_its_error():
    # The reference inverses are approximations good to a metre or so; ours are iterated.
    for mine, ref in (
        (geo.gcj02_to_wgs84(*BEIJING), REF_GCJ02_TO_WGS84),
        (geo.bd09_to_gcj02(*BEIJING), REF_BD09_TO_GCJ02),
    ):
        assert geo.haversine_m(*mine, *ref) < 1.0
        assert geo.haversine_m(*mine, *ref) > 0.001  # and really are different computations


def test_gcj02_shift_is_hundreds_of_metres_in_china():
    shift = geo.haversine_m(*BEIJING, *geo.wgs84_to_gcj02(*BEIJING))
    assert 300 < shift < 700


def test_gcj02_offset_applies_only_inside_china():
    for point in ((48.856826, 2.292713), (37.7622, -122.4651), (-33.86, 151.21)):
        assert geo.wgs84_to_gcj02(*point) == point
        assert geo.gcj02_to_wgs84(*point) == point


china = st.tuples(st.floats(min_value=18.0, max_value=53.0), st.floats(min_value=74.0, max_value=134.0))


@settings(max_examples=300, database=None)
@given(point=china)
def test_round_trips_stay_under_a_metre(point):
    lat, lon = point
    for forward, back in (
        (geo.wgs84_to_gcj02, geo.gcj02_to_wgs84),
        (geo.gcj02_to_bd09, geo.bd09_to_gcj02),
        (geo.wgs84_to_bd09, geo.bd09_to_wgs84),
    ):
        assert geo.haversine_m(lat, lon, *back(*forward(lat, lon))) < 1.0
        assert geo.haversine_m(lat, lon, *forward(*back(lat, lon))) < 1.0


def test_to_and_from_wgs84_dispatch_on_crs():
    assert geo.to_wgs84(*BEIJING, "wgs84") == BEIJING
    assert geo.from_wgs84(*BEIJING, "gcj02") == geo.wgs84_to_gcj02(*BEIJING)
    assert geo.haversine_m(*geo.to_wgs84(*geo.from_wgs84(*BEIJING, "bd09"), "bd09"), *BEIJING) < 0.01
    with pytest.raises(ValueError):
        geo.to_wgs84(*BEIJING, "utm")


def test_haversine_known_distances():
    assert geo.haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)  # one degree of latitude
    # Beijing Tiananmen -> Shanghai People's Square: about 1,067 km as the crow flies.
    assert geo.haversine_m(39.9087, 116.3975, 31.2304, 121.4737) == pytest.approx(1_067_000, rel=0.01)
    assert geo.haversine_m(31.2, 121.4, 31.2, 121.4) == 0.0


def test_haversine_takes_lat_then_lon_and_agrees_with_the_city_plane():
    # One haversine for the whole project, (lat, lon) like every function of dashboard.geo. The
    # city's flat picture (dashboard.city.planar) must measure a short hop the same way.
    proj = LocalProjection(lon0=120.16, lat0=30.27)
    east = geo.haversine_m(30.27, 120.16, 30.27, 120.17)
    north = geo.haversine_m(30.27, 120.16, 30.28, 120.16)
    assert east < north  # a degree of longitude is shorter than one of latitude away from the equator
    assert math.dist((0, 0), proj.to_xy(120.17, 30.27)) == pytest.approx(east, rel=1e-4)
    assert math.dist((0, 0), proj.to_xy(120.16, 30.28)) == pytest.approx(north, rel=1e-4)
