"""The nearest collectors to a point (dashboard/casework/nearest.py): distance, walking time, who
is on duty, the order. Pure: candidates are built here; tests/integration/test_nearby.py reads
them from a real Redis."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.casework import nearest
from dashboard.casework.nearest import Candidate, check_point, fresh_since, merge, on_duty, rank, walking_time_s
from dashboard.contract import OFFLINE_AFTER_S
from dashboard.geo import haversine_m

NOW = 1_795_230_000.0
POINT = (30.27, 120.16)


def cand(device_id: str, lat: float = 30.271, lon: float = 120.161, age_s: float = 10.0, kind: str = "collector",
         **doc: Any) -> Candidate:
    return Candidate(device_id, lat, lon, NOW - age_s, {"id": device_id, "kind": kind, "lat": lat, "lon": lon,
                                                        "ts": NOW - age_s, **doc})


def test_distance_is_the_projects_great_circle_and_walking_adds_the_street_detour():
    c = cand("C1", 30.28, 120.17)
    [n] = rank([c], *POINT, NOW)
    assert n.distance_m == haversine_m(*POINT, 30.28, 120.17)
    assert 1_400 < n.distance_m < 1_500  # ~1.1 km north, ~1 km east
    assert n.walk_s == pytest.approx(n.distance_m * 1.3 / 1.2)
    assert walking_time_s(1_200.0) == pytest.approx(1_300.0)  # 1.2 km: 1.56 km of streets at 4.3 km/h


def test_detour_and_speed_are_the_callers_to_override():
    [n] = rank([cand("C1")], *POINT, NOW, detour=1.0, speed_mps=1.0)
    assert n.walk_s == pytest.approx(n.distance_m)
    assert nearest.DETOUR_FACTOR == 1.3 and nearest.WALKING_SPEED_MPS == 1.2
    for detour, speed in ((0.9, 1.2), (1.3, 0.0), (1.3, -1.0), (math.nan, 1.2), (1.3, math.inf)):
        with pytest.raises(ValueError):
            rank([], *POINT, NOW, detour=detour, speed_mps=speed)
        with pytest.raises(ValueError):
            walking_time_s(100.0, detour, speed)


def test_on_duty_is_the_walls_offline_window():
    # The wall: offline once now - last fix > OFFLINE_AFTER_S; so on duty up to and at the edge.
    assert fresh_since(NOW) == NOW - OFFLINE_AFTER_S
    assert on_duty(cand("C1", age_s=0), NOW)
    assert on_duty(cand("C1", age_s=OFFLINE_AFTER_S), NOW)
    assert not on_duty(cand("C1", age_s=OFFLINE_AFTER_S + 0.001), NOW)
    assert not on_duty(cand("C1", age_s=30), NOW, offline_after_s=20)
    assert on_duty(cand("C1", age_s=-5), NOW)  # a fix a little ahead of this clock is fresh


def test_signed_off_or_offline_by_a_last_will_is_not_on_duty():
    assert not on_duty(cand("C1", status="off_duty"), NOW)
    assert not on_duty(cand("C1", status=" OFF_DUTY "), NOW)  # devices' free text, case and spaces aside
    assert not on_duty(cand("C1", online=False), NOW)
    for status in ("patrol", "idle", "reporting", None, ""):
        assert on_duty(cand("C1", status=status), NOW)
    assert on_duty(cand("C1", online=True), NOW)
    assert not on_duty(cand("C1", status="下班"), NOW, off_statuses=frozenset({"下班"}))


def test_only_on_duty_devices_of_the_kind_asked_for_are_ranked():
    found = rank([cand("V1", kind="vehicle"), cand("C1"), cand("C2", age_s=OFFLINE_AFTER_S + 1),
                  cand("C3", status="off_duty"), cand("C4", online=False), cand("X1", kind="other"),
                  Candidate("C5", 30.27, 120.16, NOW, {})],  # no doc kind: not known to be a collector
                 *POINT, NOW)
    assert [n.device_id for n in found] == ["C1"]
    assert [n.device_id for n in rank([cand("V1", kind="vehicle"), cand("C1")], *POINT, NOW, kind="vehicle")] == ["V1"]


def test_nearest_first_then_by_id_and_limit_respected():
    cs = [cand("C9", 30.275, 120.16), cand("C2", 30.271, 120.16), cand("C3", 30.271, 120.16), cand("C1", 30.28, 120.16)]
    assert [n.device_id for n in rank(cs, *POINT, NOW)] == ["C2", "C3", "C9", "C1"]  # C2 and C3 tie: by id
    assert [n.device_id for n in rank(cs, *POINT, NOW, limit=2)] == ["C2", "C3"]
    assert rank(cs, *POINT, NOW, limit=0) == []
    assert [n.device_id for n in rank(reversed(cs), *POINT, NOW)] == ["C2", "C3", "C9", "C1"]  # input order is no factor


def test_rankings_of_separate_sets_merge_into_the_ranking_of_their_union():
    # The store ranks each step of a widening search on its own (dashboard/store/nearby.py).
    rng = random.Random(2)
    cs = [cand(f"C{i:02d}", 30.27 + rng.uniform(-0.01, 0.01), 120.16 + rng.uniform(-0.01, 0.01)) for i in range(40)]
    cs += [cand("T1", 30.275, 120.16), cand("T0", 30.275, 120.16)]  # a tie across the two sets
    first, second = cs[::2], cs[1::2]
    whole = rank(cs, *POINT, NOW)
    assert merge(rank(first, *POINT, NOW), rank(second, *POINT, NOW)) == whole
    assert merge(rank(first, *POINT, NOW, limit=5), rank(second, *POINT, NOW, limit=5), limit=5) == whole[:5]
    assert merge() == [] and merge(whole, limit=0) == []


def test_as_doc_is_the_device_doc_with_the_rankings_numbers():
    [n] = rank([cand("C1", name="张三", department="JDZX", battery=77.0)], *POINT, NOW)
    doc = n.as_doc()
    assert doc["id"] == "C1" and doc["name"] == "张三" and doc["department"] == "JDZX" and doc["kind"] == "collector"
    assert doc["distance_m"] == round(n.distance_m, 1) and doc["walk_s"] == round(n.walk_s)
    assert doc["last_fix"] == NOW - 10


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 120.0), (30.0, math.inf), (91.0, 120.0), (-90.5, 0.0),
                                          (30.0, 180.01), (30.0, -200.0), ("30.2", 120.0), (True, 120.0), (30.0, None)])
def test_a_point_that_is_not_one_is_refused(lat: Any, lon: Any):
    with pytest.raises(ValueError):
        check_point(lat, lon)
    with pytest.raises(ValueError):
        rank([cand("C1")], lat, lon, NOW)


def test_points_on_the_edges_of_the_earth_are_points():
    for lat, lon in ((90, 180), (-90.0, -180.0), (0, 0)):
        check_point(lat, lon)


def test_brute_force_over_a_random_fleet():
    rng = random.Random(7)
    fleet = []
    for i in range(3_000):
        kind = "collector" if i % 10 < 3 else "vehicle"
        age = rng.choice([rng.uniform(0, OFFLINE_AFTER_S), rng.uniform(0, OFFLINE_AFTER_S), rng.uniform(301, 9_000)])
        status = rng.choice(["patrol", "idle", "off_duty", None, None, None])
        extra: dict[str, Any] = {"status": status} if status else {}
        if rng.random() < 0.05:
            extra["online"] = False
        fleet.append(cand(f"{kind[0].upper()}{i:05d}", rng.uniform(30.237, 30.302), rng.uniform(120.11, 120.21),
                          age, kind, **extra))
    for _ in range(20):
        lat, lon = rng.uniform(30.23, 30.31), rng.uniform(120.10, 120.22)
        limit = rng.choice([1, 5, 10, 50])
        expected = sorted(
            ((haversine_m(lat, lon, c.lat, c.lon), c.device_id) for c in fleet
             if c.doc["kind"] == "collector" and NOW - c.last_fix <= OFFLINE_AFTER_S
             and c.doc.get("status") != "off_duty" and c.doc.get("online") is not False),
        )[:limit]
        got = rank(fleet, lat, lon, NOW, limit=limit)
        assert [(n.distance_m, n.device_id) for n in got] == expected


@given(st.lists(st.tuples(st.floats(30.0, 30.5), st.floats(120.0, 120.5), st.floats(0, 600),
                          st.sampled_from(["collector", "vehicle"])), max_size=40),
       st.floats(30.0, 30.5), st.floats(120.0, 120.5))
def test_always_sorted_and_only_fresh_collectors(rows: list[tuple[float, float, float, str]], lat: float, lon: float):
    cs = [cand(f"D{i}", la, lo, age, kind) for i, (la, lo, age, kind) in enumerate(rows)]
    got = rank(cs, lat, lon, NOW)
    assert [(n.distance_m, n.device_id) for n in got] == sorted((n.distance_m, n.device_id) for n in got)
    assert {n.device_id for n in got} == {c.device_id for c in cs
                                         if c.doc["kind"] == "collector" and c.last_fix >= NOW - OFFLINE_AFTER_S}
    assert all(n.walk_s >= n.distance_m for n in got)  # 1.3 / 1.2 > 1
