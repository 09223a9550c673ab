"""The demo city misbehaves as the supervision is written to catch (docs/supervision.md "The demo
city"): the simulator's GPS, run through the pure rules with the city's own zones, routes and
责任网格 as the watch step runs them (feeds/steps/watch.py), raises each planned episode's alarm
within minutes of the start, and nothing else of the kind."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from sim_support import CITY_DIR, MONDAY_9, city, local

from dashboard.casedata import load_grid_index
from dashboard.casework.nearest import OFF_DUTY_STATUSES
from dashboard.casework.supervision import (
    IDLE,
    OFFLINE,
    OUT_OF_AREA,
    OVERSPEED,
    ROUTE,
    STOP,
    ZONE,
    WatchState,
    in_hours,
    observe,
    observe_collector,
    silent,
)
from dashboard.geofences import NO_FACTS, Ask
from dashboard.store.evaluation import read_grid_collectors
from dashboard.supervision_config import CITY_GRID_COLLECTORS, CITY_ROUTES, CITY_ZONES, Supervision, load_supervision
from feeds.simulator.world import SimConfig, World, shipped_rules

CFG = SimConfig(cameras=0, cases_per_day=1, backfill_days=0, misbehave=True)  # the demo's fleet and rota
SWEEP_S = 5.0  # feeds/steps/watch.py sweeps every 5 s
RUN_S = 32 * 60.0  # the first round begins by +8 min; a still collector is told 20 min later
# What each episode must raise, and by when after the start at the latest (the newcomer's minutes).
EXPECT = {"detour": ((ROUTE, ZONE), 25), "stop": ((STOP,), 25), "speed": ((OVERSPEED,), 20),
          "dark": ((OFFLINE,), 15), "out": ((OUT_OF_AREA,), 25), "idle": ((IDLE,), 32)}
NIGHT = local(2026, 3, 9, 22, 0)
EVENING = local(2026, 3, 9, 17, 30)  # no muck truck on shift, collectors' period ending


def supervision() -> Supervision:
    section = {"zones": str(CITY_DIR / CITY_ZONES), "routes": str(CITY_DIR / CITY_ROUTES)}
    return load_supervision(section, base_dir=CITY_DIR, centre=tuple(city().center), calendar=shipped_rules().calendar,
                            grid_collectors=read_grid_collectors(CITY_DIR / CITY_GRID_COLLECTORS))


SUP = supervision()
GRIDS = load_grid_index(CITY_DIR / "grids.json")


@dataclass(frozen=True)
class Alarm:
    device: str
    rule: str
    phase: str
    start: float
    at: float


def lead(rule: str) -> float:
    """How long before its episode an alarm may start: an offline one starts at the last fix sent
    (a parked vehicle's come a minute apart), an idle one where the collector stopped (at a task
    up to 5 min, or a pause); the rest where the episode's condition began."""
    return {OFFLINE: 61.0, IDLE: 600.0}.get(rule, 1.0)


def minute(ts: float) -> int:
    return int((ts + 8 * 3600) // 60) % 1440  # Asia/Shanghai, no DST


def referee(world: World, start: float, seconds: float) -> list[Alarm]:
    """Every alarm the supervision's rules decide on the world's fixes, as the watch step decides
    them: each fix through ``observe``/``observe_collector`` with what the geometry says of it,
    and every SWEEP_S the silent devices on duty through ``silent``."""
    states: dict[str, WatchState] = {}
    seen: dict[str, dict[str, Any]] = {}
    out: list[Alarm] = []
    t = start
    while t < start + seconds:
        t += SWEEP_S
        fixes = sorted((m.payload for m in world.advance(t) if m.kind == "gps"), key=lambda p: p["ts"])
        vehicles = [p for p in fixes if p["kind"] == "vehicle" and SUP.geofences.concerns(p["id"], p["subtype"])]
        asks = [Ask(p["id"], p["subtype"], p["lat"], p["lon"], minute(p["ts"]), SUP.limits_for(p["subtype"]).edge_m,
                    SUP.limits_for(p["subtype"]).route_buffer_m) for p in vehicles]
        facts = dict(zip(map(id, vehicles), SUP.geofences.facts_many(asks), strict=True))
        for p in fixes:
            state = states.setdefault(p["id"], WatchState())
            seen[p["id"]] = p
            if p["kind"] == "collector":
                on = p["status"] not in OFF_DUTY_STATUSES and SUP.on_duty(p["id"], p["ts"])
                area = SUP.areas.get(p["id"])
                grid = GRIDS.lookup(p["lon"], p["lat"])
                changes, _ = observe_collector(state, p["ts"], p["lat"], p["lon"], on,
                                               None if not area or not grid else grid in area, SUP.collector)
            else:
                changes = observe(state, p["ts"], p["lat"], p["lon"], p["speed"], facts.get(id(p), NO_FACTS),
                                  SUP.limits_for(p["subtype"]))
            out += [Alarm(p["id"], c.rule, c.phase, c.start, c.at) for c in changes]
        for device, state in states.items():
            p = seen[device]
            if p["kind"] == "collector":
                on, after = p["status"] not in OFF_DUTY_STATUSES and SUP.on_duty(device, t), SUP.collector.offline_after_s
            else:
                hours = SUP.duty_hours(p["subtype"])
                on, after = not hours or in_hours(hours, minute(t)), SUP.limits_for(p["subtype"]).offline_after_s
            out += [Alarm(device, c.rule, c.phase, c.start, c.at) for c in silent(state, t, on, after)]
    return out


@pytest.fixture(scope="module", params=[MONDAY_9, EVENING, NIGHT], ids=["morning", "evening", "night"])
def played(request: pytest.FixtureRequest) -> tuple[float, World, list[Alarm]]:
    start = request.param
    world = World(city(), CFG, start)
    return start, world, referee(world, start, RUN_S)


def test_every_planned_misbehaviour_raises_its_alarm_within_minutes(played) -> None:
    start, world, alarms = played
    assert world.misbehaviour is not None
    first = [e for e in world.misbehaviour.episodes if e.at <= start + 8 * 60]
    kinds = {e.kind for e in first}
    assert {"detour", "stop", "speed", "dark"} <= kinds  # every hour of the day
    if start == MONDAY_9:
        assert {"out", "idle"} <= kinds  # collectors only on duty
    else:
        assert not {"out", "idle"} & kinds
    assert all(start + 120 <= e.at for e in first)
    for ep in first:
        rules, by_min = EXPECT[ep.kind]
        for rule in rules:
            raised = [a for a in alarms if a.device == ep.agent and a.rule == rule and a.phase == "start"
                      and a.start >= ep.at - lead(rule)]
            assert raised, f"{ep} raised no {rule} alarm"
            assert raised[0].at <= start + by_min * 60, (ep, raised[0], (raised[0].at - start) / 60)


def test_only_the_misbehaving_raise_route_stop_zone_and_collector_alarms(played) -> None:
    start, world, alarms = played
    assert world.misbehaviour is not None
    episodes: dict[str, list[Any]] = {}
    for e in world.misbehaviour.episodes:
        episodes.setdefault(e.agent, []).append(e)
    watched = {ROUTE, STOP, ZONE, OUT_OF_AREA, IDLE, OFFLINE}
    for a in alarms:
        if a.rule not in watched:
            continue
        eps = [e for e in episodes.get(a.device, []) if e.at - lead(a.rule) <= a.start and (e.begun or e.kind == "dark")]
        assert eps, f"{a}: raised by a device that was behaving"


def test_a_behaving_city_is_quiet() -> None:
    """Without misbehaviour, a night of muck trucks on their routes (all of them on shift) raises
    no route, stop or zone alarm, and nothing goes dark: the routes are the roads they drive."""
    world = World(city(), replace(CFG, misbehave=False, collectors=0, vehicle_interval=10.0), NIGHT)
    alarms = referee(world, NIGHT, 3 * 3600)
    assert world.misbehaviour is None
    trucks = {v.id for v in world.vehicles if v.subtype == "muck_truck"}
    assert {a.device for a in alarms if a.rule == OVERSPEED} <= trucks  # the odd hurried, loaded trip
    assert [a for a in alarms if a.rule != OVERSPEED] == []


def test_a_quiet_morning_for_collectors() -> None:
    world = World(city(), replace(CFG, misbehave=False, vehicles=0), MONDAY_9)
    assert referee(world, MONDAY_9, 40 * 60) == []


def test_the_behaving_agents_move_as_without_misbehaviour_and_the_play_does_not_depend_on_the_tick() -> None:
    def gps(cfg: SimConfig, step: float, seconds: float = 15 * 60) -> list[dict[str, Any]]:
        world = World(city(), cfg, MONDAY_9)
        out, t = [], MONDAY_9
        while t < MONDAY_9 + seconds:
            t += step
            out += [m.payload for m in world.advance(t) if m.kind == "gps"]
        return [p for p in out if p["ts"] <= MONDAY_9 + seconds]

    world = World(city(), CFG, MONDAY_9)
    world.advance(MONDAY_9 + 15 * 60)
    assert world.misbehaviour is not None
    bad = {e.agent for e in world.misbehaviour.episodes}
    on, off = gps(CFG, 1.0), gps(replace(CFG, misbehave=False), 1.0)
    assert [p for p in on if p["id"] not in bad] == [p for p in off if p["id"] not in bad]
    assert [p for p in on if p["id"] in bad] != [p for p in off if p["id"] in bad]
    assert gps(CFG, 7.0) == on


def test_the_command_turns_it_on_and_off() -> None:
    import argparse

    from feeds.simulator.command import add_arguments, config_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from(parser.parse_args([])).misbehave is True
    assert config_from(parser.parse_args(["--misbehave-every", "20"])).misbehave_every_s == 1200
    assert config_from(parser.parse_args(["--no-misbehave"])).misbehave is False
    assert SimConfig().misbehave is False  # the pure model's default: other tests compare its output
