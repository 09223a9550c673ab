"""The nearest on-duty collectors from the live geo index of the collectors (dashboard/store/nearby.py),
against a real Redis on both stacks. The fleet is written by the store's own writer
(HotStore.write_positions, the position script every fix goes through), last wills by
set_device_fields and prunes by prune_devices, as ingest does; every answer is held to a brute
force over the whole fleet, and the collectors' index to the fleet's collectors."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import Any

import pytest

from dashboard.contract import OFFLINE_AFTER_S
from dashboard.geo import haversine_m
from dashboard.store import nearby
from dashboard.store.hot import DeviceFix, HotStore, connect
from dashboard.store.keys import GEO, GEO_COLLECTOR
from dashboard.store.nearby import LIMIT_MAX, nearest_collectors

NOW = 1_795_230_000.0
# The demo city's bounds (assets/city/city.json): south, west, north, east.
S, W, N, E = 30.237148, 120.110123, 30.302403, 120.20993
M_PER_DEG_LAT = 111_195.0


@pytest.fixture
def hot(stack) -> HotStore:
    return HotStore(connect(stack.redis_url))


def write(hot: HotStore, fleet: dict[str, dict[str, Any]], wills: Iterable[str] = ()) -> None:
    """Each doc as a fix (shaped as feeds/steps/positions.py device_doc), then the last wills."""
    hot.write_positions([DeviceFix(i, d["ts"], d["lat"], d["lon"], d) for i, d in fleet.items()])
    for i in wills:
        assert hot.set_device_fields(i, {"online": False, "status_ts": NOW - 60})
        fleet[i] = {**fleet[i], "online": False}


def doc(device_id: str, lat: float, lon: float, age_s: float = 5.0, kind: str = "collector", **extra: Any) -> dict[str, Any]:
    return {"id": device_id, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6), "ts": NOW - age_s, **extra}


def north_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return lat + metres / M_PER_DEG_LAT, lon


def brute(fleet: dict[str, dict[str, Any]], lat: float, lon: float, limit: int,
          radius_m: float = math.inf) -> list[tuple[float, str]]:
    """The rule restated over every device: fresh, a collector, not signed off, no last will."""
    rows = sorted((haversine_m(lat, lon, d["lat"], d["lon"]), i) for i, d in fleet.items()
                  if d["kind"] == "collector" and NOW - d["ts"] <= OFFLINE_AFTER_S
                  and d.get("status") != "off_duty" and d.get("online") is not False)
    return [r for r in rows if r[0] <= radius_m][:limit]


def same(got: list[tuple[float, str]], want: list[tuple[float, str]]) -> None:
    assert [i for _, i in got] == [i for _, i in want]
    assert [d for d, _ in got] == pytest.approx([d for d, _ in want], abs=1e-6)


def ranked(hot: HotStore, lat: float, lon: float, limit: int = 10, **kw: Any) -> list[tuple[float, str]]:
    return [(n.distance_m, n.device_id) for n in nearest_collectors(hot.r, lat, lon, NOW, limit, **kw)]


def random_fleet(rng: random.Random, collectors: int, vehicles: int) -> tuple[dict[str, dict[str, Any]], set[str]]:
    fleet: dict[str, dict[str, Any]] = {}
    for i in range(collectors + vehicles):
        kind = "collector" if i < collectors else "vehicle"
        device_id = f"{'C' if kind == 'collector' else 'V'}{i:05d}"
        roll = rng.random()
        age = rng.uniform(OFFLINE_AFTER_S + 1, 4 * 3600) if roll < 0.15 else rng.uniform(0, OFFLINE_AFTER_S - 1)
        extra: dict[str, Any] = {"status": "off_duty"} if 0.15 <= roll < 0.25 else {"status": rng.choice(["patrol", "idle"])}
        if kind == "vehicle":
            extra = {"subtype": rng.choice(["enforcement", "muck_truck", "sanitation"]), "speed": 20.0}
        fleet[device_id] = doc(device_id, rng.uniform(S, N), rng.uniform(W, E), age, kind, name="张三", **extra)
    wills = {i for i in fleet if i.startswith("C") and rng.random() < 0.05}
    return fleet, wills


def test_nearest_matches_a_brute_force_over_the_whole_fleet(hot: HotStore):
    rng = random.Random(11)
    fleet, wills = random_fleet(rng, collectors=1_200, vehicles=2_800)
    write(hot, fleet, wills)
    points = [(rng.uniform(S, N), rng.uniform(W, E)) for _ in range(40)]
    points += [(S - 0.02, W - 0.02), (N + 0.03, E), (30.27, E + 0.05)]  # outside the city: the search widens
    for lat, lon in points:
        limit = rng.choice([1, 3, 10, 25, LIMIT_MAX])
        got = ranked(hot, lat, lon, limit)
        same(got, brute(fleet, lat, lon, limit))
        assert len(got) == limit  # hundreds are on duty: the limit is always reached


def test_what_comes_back_is_a_collector_on_duty_with_its_doc(hot: HotStore):
    lat, lon = 30.27, 120.16
    fleet = {
        "V1": doc("V1", *north_of(lat, lon, 5), kind="vehicle", subtype="sanitation"),
        "C-old": doc("C-old", *north_of(lat, lon, 10), age_s=OFFLINE_AFTER_S + 1),
        "C-off": doc("C-off", *north_of(lat, lon, 15), status="off_duty"),
        "C-will": doc("C-will", *north_of(lat, lon, 20)),
        "C-edge": doc("C-edge", *north_of(lat, lon, 25), age_s=OFFLINE_AFTER_S),  # at the edge: still on duty
        "C-ok": doc("C-ok", *north_of(lat, lon, 400), name="李四", department="JDZX", battery=80.0, status="patrol"),
    }
    write(hot, fleet, {"C-will"})
    found = nearest_collectors(hot.r, lat, lon, NOW)
    assert [n.device_id for n in found] == ["C-edge", "C-ok"]
    ok = found[1]
    assert ok.distance_m == pytest.approx(400, abs=1)
    assert ok.walk_s == pytest.approx(ok.distance_m * 1.3 / 1.2)
    assert ok.last_fix == NOW - 5
    assert ok.as_doc()["name"] == "李四" and ok.as_doc()["department"] == "JDZX" and ok.as_doc()["distance_m"] == 400.0
    # A vehicle stays out whatever the limit; an hour later nobody is on duty.
    assert "V1" not in {n.device_id for n in nearest_collectors(hot.r, lat, lon, NOW, LIMIT_MAX)}
    assert nearest_collectors(hot.r, lat, lon, NOW + 3600) == []


def test_a_device_that_became_a_vehicle_is_not_a_collector(hot: HotStore):
    # Its old fix left it in {gw}:seen:collector; the doc, rewritten by the newer fix, says what it is now.
    lat, lon = 30.27, 120.16
    write(hot, {"D1": doc("D1", lat, lon, age_s=20)})
    assert hot.r.zscore(GEO_COLLECTOR, "D1") is not None
    write(hot, {"D1": doc("D1", lat, lon, age_s=10, kind="vehicle")})
    assert hot.r.zscore(GEO_COLLECTOR, "D1") is None and hot.r.zscore(GEO, "D1") is not None
    assert nearest_collectors(hot.r, lat, lon, NOW) == []
    write(hot, {"D1": doc("D1", lat, lon, age_s=30)})  # an older fix changes nothing, the index included
    assert hot.r.zscore(GEO_COLLECTOR, "D1") is None
    write(hot, {"D1": doc("D1", lat, lon, age_s=5)})  # a collector again
    assert [n.device_id for n in nearest_collectors(hot.r, lat, lon, NOW)] == ["D1"]


def members(hot: HotStore, key: str) -> set[str]:
    return {m.decode() for m in hot.r.zrange(key, 0, -1)}


def test_the_collector_index_holds_the_collectors_and_nothing_else(hot: HotStore):
    rng = random.Random(17)
    fleet, wills = random_fleet(rng, collectors=300, vehicles=700)
    write(hot, fleet, wills)
    collectors = {i for i, d in fleet.items() if d["kind"] == "collector"}
    assert members(hot, GEO_COLLECTOR) == collectors  # silent, signed off and last wills too: the search filters them
    assert members(hot, GEO) == set(fleet)
    for i in rng.sample(sorted(collectors), 20):  # the same places as in {gw}:geo
        assert hot.r.geopos(GEO_COLLECTOR, i) == hot.r.geopos(GEO, i)
    # Moves: the collectors' index follows the newest fix, an older one is refused.
    moved = {i: {**fleet[i], "lat": round(fleet[i]["lat"] + 0.001, 6), "ts": NOW} for i in ("C00000", "V00300")}
    write(hot, moved)
    stale = {"C00001": {**fleet["C00001"], "lat": round(fleet["C00001"]["lat"] + 0.002, 6), "ts": fleet["C00001"]["ts"] - 1}}
    write(hot, stale)
    assert hot.r.geopos(GEO_COLLECTOR, "C00000") == hot.r.geopos(GEO, "C00000")
    assert hot.r.geopos(GEO_COLLECTOR, "C00001") == hot.r.geopos(GEO, "C00001")
    assert hot.r.geopos(GEO_COLLECTOR, "C00000")[0][1] == pytest.approx(moved["C00000"]["lat"], abs=1e-5)
    # Prunes: the devices silent for longer than the retention leave both indexes.
    retention = 3600.0
    gone = set(hot.prune_devices(NOW, retention_s=retention))
    silent = {i for i, d in fleet.items() if max(d["ts"], moved.get(i, d)["ts"]) <= NOW - retention}
    assert gone == silent and any(i in collectors for i in gone) and any(i not in collectors for i in gone)
    assert members(hot, GEO_COLLECTOR) == collectors - gone
    assert members(hot, GEO) == set(fleet) - gone
    # A pruned collector is found nowhere, however near; one that comes back is found again.
    c = next(i for i in sorted(gone) if i in collectors)
    lat, lon = fleet[c]["lat"], fleet[c]["lon"]
    assert c not in {n.device_id for n in nearest_collectors(hot.r, lat, lon, NOW, LIMIT_MAX, radius_m=10)}
    write(hot, {c: {**{k: v for k, v in fleet[c].items() if k != "online"}, "ts": NOW, "status": "patrol"}})
    assert c in members(hot, GEO_COLLECTOR)
    assert [n.device_id for n in nearest_collectors(hot.r, lat, lon, NOW, 1)] == [c]


def test_limit_is_respected_and_capped(hot: HotStore):
    rng = random.Random(3)
    lat, lon = 30.27, 120.16
    fleet = {f"C{i:03d}": doc(f"C{i:03d}", lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01))
             for i in range(200)}
    write(hot, fleet)
    for limit in (1, 7, LIMIT_MAX):
        same(ranked(hot, lat, lon, limit), brute(fleet, lat, lon, limit))
    same(ranked(hot, lat, lon, 10_000), brute(fleet, lat, lon, LIMIT_MAX))  # cut to the cap


def test_the_search_widens_past_a_crowd_of_vehicles_to_far_collectors(hot: HotStore):
    rng = random.Random(5)
    lat, lon = 30.27, 120.16
    fleet: dict[str, dict[str, Any]] = {}
    for i in range(400):  # vehicles, offline and signed-off collectors all around the point
        kind, extra = ("vehicle", {}) if i % 2 else ("collector", {"status": "off_duty"} if i % 4 else {})
        age = 5.0 if kind == "vehicle" or i % 4 else OFFLINE_AFTER_S + 60
        fleet[f"N{i:03d}"] = doc(f"N{i:03d}", *north_of(lat, lon + rng.uniform(-0.003, 0.003), rng.uniform(1, 300)),
                                 age_s=age, kind=kind, **extra)
    for i, metres in enumerate((6_000, 7_500, 9_000)):  # the only ones on duty: kilometres away
        fleet[f"F{i}"] = doc(f"F{i}", *north_of(lat, lon, -metres))  # south of the point
    write(hot, fleet)
    assert [i for _, i in ranked(hot, lat, lon, 10)] == ["F0", "F1", "F2"]
    same(ranked(hot, lat, lon, 2), brute(fleet, lat, lon, 2))
    assert ranked(hot, lat, lon, 10, radius_m=5_000) == []  # none within the radius asked for
    assert [i for _, i in ranked(hot, lat, lon, 10, radius_m=8_000)] == ["F0", "F1"]
    assert [i for _, i in ranked(hot, lat, lon, 10, radius_m=math.inf)] == ["F0", "F1", "F2"]  # cut to RADIUS_MAX_M


def test_collectors_on_the_edges_of_the_circles_are_found(hot: HotStore):
    # Each step reads only the ring its circle grew by (dashboard/store/nearby.py, _MARGIN): a
    # collector just outside one circle is the next one's, never passed over.
    rng = random.Random(9)
    lat, lon = 30.27, 120.16
    fleet = {f"V{i:03d}": doc(f"V{i:03d}", *north_of(lat, lon, rng.uniform(1, 490)), kind="vehicle") for i in range(300)}
    for k, metres in enumerate((499.9, 500.1, 999.95, 1_000.05, 2_000.2, 3_999.9)):
        fleet[f"C{k}"] = doc(f"C{k}", *north_of(lat, lon, -metres))
    write(hot, fleet)
    for limit in range(1, 7):
        same(ranked(hot, lat, lon, limit), brute(fleet, lat, lon, limit))


def read_commands(hot: HotStore) -> dict[str, int]:
    stats = hot.r.info("commandstats")
    return {c: int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("geosearch", "hmget")}


def test_a_query_reads_the_neighbourhood_not_the_fleet(hot: HotStore):
    rng = random.Random(13)
    fleet, _ = random_fleet(rng, collectors=1_200, vehicles=2_800)
    write(hot, fleet)
    before = read_commands(hot)
    got = nearest_collectors(hot.r, 30.27, 120.16, NOW, 5)
    after = read_commands(hot)
    assert len(got) == 5 and got[-1].distance_m < 500
    assert after["geosearch"] - before["geosearch"] == 1  # one circle of 500 m: ~2 % of the city
    assert after["hmget"] - before["hmget"] == 1


def test_an_empty_index_or_a_fleet_off_duty_gives_nobody(hot: HotStore):
    assert nearest_collectors(hot.r, 30.27, 120.16, NOW) == []
    write(hot, {f"C{i}": doc(f"C{i}", 30.27 + i * 1e-3, 120.16, status="off_duty") for i in range(30)})
    assert nearest_collectors(hot.r, 30.27, 120.16, NOW) == []


def test_a_circle_fuller_than_one_reply_keeps_only_what_is_certain(hot: HotStore, monkeypatch: pytest.MonkeyPatch):
    # Bounded work: with a reply of 40 collectors at most, the collector behind 100 signed-off ones
    # cannot be told apart from one a collector further out, so it is left out rather than guessed.
    # (Vehicles are not in the collectors' index: however many, they never fill a reply.)
    lat, lon = 30.27, 120.16
    fleet = {"C-near": doc("C-near", *north_of(lat, lon, 20)), "C-far": doc("C-far", *north_of(lat, lon, 1_000))}
    fleet |= {f"O{i:03d}": doc(f"O{i:03d}", *north_of(lat, lon, 30 + i * 2), status="off_duty") for i in range(100)}
    fleet |= {f"V{i:03d}": doc(f"V{i:03d}", *north_of(lat, lon, 25 + i), kind="vehicle") for i in range(100)}
    write(hot, fleet)
    assert [i for _, i in ranked(hot, lat, lon, 2)] == ["C-near", "C-far"]
    monkeypatch.setattr(nearby, "COUNT_MAX", 40)
    assert [i for _, i in ranked(hot, lat, lon, 2)] == ["C-near"]
    monkeypatch.setattr(nearby, "COUNT_MAX", 150)  # the 102 collectors fit: the vehicles take no room
    assert [i for _, i in ranked(hot, lat, lon, 2)] == ["C-near", "C-far"]


@pytest.mark.parametrize("args", [
    {"lat": math.nan}, {"lat": 86.0}, {"lat": -91.0}, {"lon": 181.0}, {"lon": math.inf}, {"lat": "30.27"},
    {"limit": 0}, {"limit": -3}, {"limit": 2.5}, {"limit": True},
    {"radius_m": 0}, {"radius_m": -10.0}, {"radius_m": math.nan}, {"radius_m": "500"},
])
def test_bad_input_is_refused(hot: HotStore, args: dict[str, Any]):
    call: dict[str, Any] = {"lat": 30.27, "lon": 120.16, "now": NOW, **args}
    with pytest.raises(ValueError):
        nearest_collectors(hot.r, **call)
