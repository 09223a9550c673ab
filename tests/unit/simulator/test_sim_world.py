"""The simulated agents: collectors stay in their grids and keep duty hours, vehicles stay on the
roads and keep their shifts, video alerts look like Frigate's, and the output is reproducible."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import pytest
from sim_support import MONDAY_9, city, local

from dashboard.city.planar import dist_point_ring, point_in_ring
from feeds.simulator.world import Message, SimConfig, World

# docs/domain.md §7 video-AI types (plus the names the simulator uses for the same scenes).
VIDEO_TYPES = {
    "占道经营", "游商", "店外经营", "暴露垃圾", "垃圾满溢", "积存垃圾渣土", "乱堆物料", "打包垃圾",
    "沿街晾晒", "违规户外广告", "占道撑伞", "露天烧烤", "机动车乱停放", "非机动车乱停放", "渣土车未密闭",
    "道路积水", "道路破损", "井盖异常", "人群聚集", "烟火",
}  # fmt: skip
GPS_KEYS = {"id", "kind", "subtype", "lat", "lon", "ts", "speed", "heading", "accuracy", "battery",
            "status", "name", "department"}
Morning = tuple[World, list[Message], list[tuple[int, float, float]], list[float]]
SMALL = SimConfig(collectors=60, vehicles=40, backfill_days=0.5, alerts_per_camera_day=60)


def run(world: World, start: float, seconds: float, step: float) -> list[Message]:
    out: list[Message] = []
    t = start
    while t < start + seconds:
        t += step
        out.extend(world.advance(t))
    return out


@pytest.fixture(scope="module")
def morning() -> Morning:
    """Three hours from Monday 09:00, checking every agent's true position as we go."""
    world = World(city(), SMALL, MONDAY_9)
    messages: list[Message] = []
    collector_off: list[tuple[int, float, float]] = []
    vehicle_off: list[float] = []
    t = MONDAY_9
    for k in range(3 * 360):
        t += 10.0
        messages.extend(world.advance(t))
        for i, c in enumerate(world.collectors):
            rings = [world.cells.cells[g].ring for g in c.area.cells]
            if not any(point_in_ring(c.x, c.y, r) for r in rings):
                collector_off.append((i, min(dist_point_ring(c.x, c.y, r) for r in rings), c.t))
        if k % 30 == 0:
            for v in world.vehicles:
                vehicle_off.append(world.net.distance_to_road(*v.x_y))
    return world, messages, collector_off, vehicle_off


def test_collectors_stay_inside_their_assigned_grids(morning: Morning) -> None:
    world, messages, off, _ = morning
    # Only the edge midpoints between two grids are "on" a boundary; nobody is ever outside.
    assert all(d < 1e-6 for _, d, _ in off), off[:5]
    rings = {c.id: [world.cells.cells[g].ring for g in c.area.cells] for c in world.collectors}
    fixes = [m.payload for m in messages if m.kind == "gps" and m.payload["kind"] == "collector"]
    assert len(fixes) > 60 * 3 * 300  # ~one fix per 10 s each, minus the lunch break
    for p in fixes[::25]:
        x, y = world.cells.proj.to_xy(p["lon"], p["lat"])
        inside = any(point_in_ring(x, y, r) for r in rings[p["id"]])
        assert inside or min(dist_point_ring(x, y, r) for r in rings[p["id"]]) < 30  # GPS noise


def test_collectors_walk_at_walking_speed_and_sign_off_at_noon(morning: Morning) -> None:
    _, messages, _, _ = morning
    fixes = [m.payload for m in messages if m.kind == "gps" and m.payload["kind"] == "collector"]
    moving = [p["speed"] for p in fixes if p["speed"] > 0]
    assert min(moving) >= 2.5 and max(moving) <= 5.5
    statuses = Counter(p["status"] for p in fixes)
    assert statuses["patrol"] > statuses["idle"] > 0
    assert statuses["reporting"] > 0 and statuses["checking"] > 0
    noon = local(2026, 3, 9, 12, 0)
    assert not [p for p in fixes if noon < p["ts"] < noon + 2 * 3600]
    sign_offs = [p for p in fixes if p["status"] == "off_duty"]
    assert len(sign_offs) == 60 and all(p["ts"] == noon for p in sign_offs)
    for p in fixes[:500]:
        assert set(p) == GPS_KEYS and p["subtype"] is None and 0 < p["battery"] <= 100


def test_vehicles_stay_on_the_road_graph(morning: Morning) -> None:
    world, messages, _, vehicle_off = morning
    assert max(vehicle_off) < 0.01
    fixes = [m.payload for m in messages if m.kind == "gps" and m.payload["kind"] == "vehicle"]
    for p in fixes[::50]:
        assert world.net.distance_to_road(*world.cells.proj.to_xy(p["lon"], p["lat"])) < 15  # noise
    subtypes = Counter(p["subtype"] for p in fixes)
    assert set(subtypes) == {"enforcement", "sanitation", "muck_truck"}
    assert max(p["speed"] for p in fixes if p["subtype"] != "muck_truck") <= 51
    driving = [p["speed"] for p in fixes if p["status"] == "driving"]
    assert 15 <= sorted(driving)[len(driving) // 2] <= 50


def test_reports_are_staggered_over_the_interval(morning: Morning) -> None:
    _, messages, _, _ = morning
    tenths = Counter(int((m.ts % 1.0) * 10) for m in messages if m.kind == "gps")
    assert len(tenths) == 10  # every tenth of the second gets fixes, not all at :00.000
    assert max(tenths.values()) < 3 * min(tenths.values())


def test_video_alerts_follow_new_update_end(morning: Morning) -> None:
    _, messages, _, _ = morning
    by_alert: dict[str, list[dict]] = defaultdict(list)
    for m in messages:
        if m.kind == "video":
            assert m.topic == f"gridwall/video/{m.payload['camera_id']}" and m.qos == 1
            by_alert[m.payload["alert_id"]].append(m.payload)
    assert len(by_alert) > 50
    for seq in by_alert.values():
        states = [p["state"] for p in seq]
        if states[-1] != "end":  # still running when the window closed
            assert states[0] == "new" and "end" not in states
            continue
        assert states[0] == "new" and set(states[1:-1]) <= {"update"}
        assert seq[-1]["end"] > seq[0]["start"]
        for p in seq:
            assert p["type"] in VIDEO_TYPES
            assert 0 <= p["confidence"] <= 1
            assert p["severity"] in ("detection", "alert", "critical")
            assert (p["severity"] == "critical") == (p["type"] == "烟火")
    short = [s for s in by_alert.values() if s[-1]["state"] == "end" and s[-1]["end"] - s[0]["start"] < 180]
    assert short  # fleeting detections, for the dwell filter to drop


def test_nights_belong_to_muck_trucks() -> None:
    start = local(2026, 3, 9, 22, 0)
    world = World(city(), SMALL, start)
    fixes = [m.payload for m in run(world, start, 6 * 3600, 30.0) if m.kind == "gps"]
    assert not [p for p in fixes if p["kind"] == "collector"]
    by_sub: dict[str, Counter] = defaultdict(Counter)
    for p in fixes:
        by_sub[p["subtype"]][p["status"]] += 1
    assert set(by_sub["enforcement"]) == {"parked"} and set(by_sub["sanitation"]) == {"parked"}
    assert {"loading", "unloading", "driving"} <= set(by_sub["muck_truck"])
    speeds = [p["speed"] for p in fixes if p["subtype"] == "muck_truck"]
    assert max(speeds) > 60 and max(speeds) < 80  # now and then one speeds
    # Parked vehicles report once a minute, not every five seconds.
    parked = Counter(p["id"] for p in fixes if p["subtype"] == "enforcement")
    assert max(parked.values()) <= 6 * 60 + 2


def test_output_does_not_depend_on_the_tick_and_is_reproducible() -> None:
    def gps(world: World, step: float) -> list[dict]:
        return [m.payload for m in run(world, MONDAY_9, 600, step) if m.kind == "gps"]

    a = gps(World(city(), SMALL, MONDAY_9), 1.0)
    b = [p for p in gps(World(city(), SMALL, MONDAY_9), 7.0) if p["ts"] <= MONDAY_9 + 600]
    c = gps(World(city(), replace(SMALL, seed=99), MONDAY_9), 1.0)
    assert a == b
    assert len(a) > 3000
    assert [(p["id"], p["lat"]) for p in a[:200]] != [(p["id"], p["lat"]) for p in c[:200]]


def test_stalled_process_skips_stale_fixes() -> None:
    world = World(city(), SMALL, MONDAY_9)
    world.advance(MONDAY_9 + 10)
    late = world.advance(MONDAY_9 + 3600)  # an hour with no tick: no hour of stale fixes
    assert not [m for m in late if m.kind == "gps"]
    fresh = [m for m in world.advance(MONDAY_9 + 3615) if m.kind == "gps"]
    assert len({m.payload["id"] for m in fresh}) > 0.8 * len(world.agents)
    assert all(m.ts > MONDAY_9 + 3600 for m in fresh)
