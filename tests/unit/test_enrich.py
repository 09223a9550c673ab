from dashboard.config import load_settings
from dashboard.geo import wgs84_to_gcj02
from dashboard.records import Alert, CaseEvent, Position
from feeds.citygeo import grid_lookup
from feeds.steps.enrich import enrich

LOOKUP = grid_lookup(load_settings(path=None, environ={}))
CENTRE = (30.2698, 120.16)  # inside the demo city


def test_a_fix_an_alert_and_a_case_get_their_unit_grid():
    lat, lon = CENTRE
    code = LOOKUP(lon, lat)
    assert code is not None and len(code) == 14
    p = enrich(Position("C1", "collector", lat, lon, 0.0), LOOKUP)
    a = enrich(Alert("A1", "CAM1", "暴露垃圾", "new", 0.0, lat=lat, lon=lon), LOOKUP)
    e = enrich(CaseEvent("E1", "K1", "report", 0.0, case={"lat": lat, "lon": lon}), LOOKUP)
    assert p.grid_code == a.grid_code == e.case["grid_code"] == code
    given = enrich(CaseEvent("E2", "K2", "report", 0.0, case={"lat": lat, "lon": lon, "grid_code": "x"}), LOOKUP)
    assert given.case["grid_code"] == "x"  # the sender's own grid code wins


def test_gcj02_is_converted_before_the_lookup():
    glat, glon = wgs84_to_gcj02(*CENTRE)
    p = enrich(Position("C1", "collector", glat, glon, 0.0, crs="gcj02"), LOOKUP)
    assert p.crs == "wgs84" and abs(p.lat - CENTRE[0]) < 1e-5 and abs(p.lon - CENTRE[1]) < 1e-5
    assert p.grid_code == LOOKUP(CENTRE[1], CENTRE[0])


def test_outside_every_grid_stays_unknown():
    assert enrich(Position("C1", "collector", 31.5, 121.5, 0.0), LOOKUP).grid_code is None
