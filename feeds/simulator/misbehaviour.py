"""What the demo city does wrong, so that every supervision rule fires within minutes of a start
(docs/supervision.md "The demo city"). On with ``SimConfig.misbehave`` (`gridwall simulate`).

Rounds of episodes, each on its own random stream (``{seed}:misbehave:...``): the behaving
agents' streams, and so their tracks, are those of a run without misbehaviour. The first round
begins 2-8 min after the start, the next ones about every ``misbehave_every_s``.

Vehicles, every round (whatever the hour):

- ``detour``: a muck truck leaves its approved route through the forbidden block nearest to it
  (the old town or a residential block) and pauses there, then goes on to where it was going:
  路线偏离 after 2 min off its corridor, 进入禁行区域 when it enters;
- ``stop``: a muck truck stops on its road, outside every site, a few hundred metres into its
  next trip (or its current one), for 12-14 min: 超时停车(疑似偷倒) after 10 min;
- ``speed``: a vehicle at 62-78 km/h on the major roads for 2 km (an enforcement car by day on a
  far errand, a muck truck on its run): 超速 after 10 s;
- ``dark``: a vehicle on duty (by the supervision's duty hours of its type) sends nothing for
  6-8 min: 离线 after 5 min.

A muck truck is taken from those on shift (the day-permit ones by day); when none is, a parked
one leaves its yard anyway (``forced``: a trip nobody permitted), and goes back after.

Collectors, every round that falls on duty (08:00-12:00, 14:00-18:00 on the city's working days,
the supervision's rota): a round that would not fit before the period ends waits for the next.

- ``out``: a collector walks out of its grids and about for 12-13.5 min: 离开责任网格 after 10 min;
- ``idle``: a collector stands still for 22-25 min: 长时间静止 after 20 min.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dashboard.casework.supervision import in_hours
from dashboard.casework.workcalendar import WorkCalendar
from dashboard.geofences import parse_hours
from dashboard.supervision_config import COLLECTOR_PERIODS, TYPE_DEFAULTS
from feeds.simulator.clock import OFFSET_S, Rota
from feeds.simulator.supervision_files import demo_layout
from feeds.simulator.vehicles import Vehicle, on_shift

if TYPE_CHECKING:
    from feeds.simulator.collectors import Collector
    from feeds.simulator.world import World

FIRST_S = (120.0, 240.0)  # the first round's time after the start ...
SPREAD_S = 240.0  # ... and its episodes within this of it: 2-8 min
BUSY_S = 45 * 60.0  # an agent in an episode is not picked again this soon
DETOUR_PAUSE_S = (60.0, 120.0)
STOP_S = (12 * 60.0, 14 * 60.0)  # over max_stop_outside_site_s (600 s)
DARK_S = (6 * 60.0, 8 * 60.0)  # over offline_after_s (300 s)
OUT_S = (12 * 60.0, 13.5 * 60.0)  # over out_of_area_s (600 s)
IDLE_S = (22 * 60.0, 25 * 60.0)  # over idle_s (1200 s)
COLLECTOR_ROOM_S = SPREAD_S + IDLE_S[1] + 10 * 60.0  # a round's collector episodes end before the period does
SPEED_ERRAND_M = (1500.0, 3000.0)  # an enforcement car's far errand on the major roads
SPEED_RUN_M = 2000.0  # a speeder's run: this much major road at speed
SPEED_MAX_S = 30 * 60.0  # ... or this long, whichever comes first
STOP_MARGIN_M = 300.0  # a stop this far into the trip at least, and as far from its end


def _anywhere(_node: int) -> bool:
    return True


@dataclass(slots=True, eq=False)
class Episode:
    """One agent's misbehaviour: planned here, played by the agent (vehicles.py, collectors.py);
    ``dark`` by the world (no fixes sent)."""

    kind: str  # detour | stop | speed | dark | out | idle
    agent: str  # the device id
    at: float  # when it begins
    dwell_s: float = 0.0  # stop, out, idle: how long; detour: the pause in the forbidden block; dark: the silence
    via: int | None = None  # detour, speed: the road node the trip is bent through
    vias: tuple[int, ...] = ()  # detour: the candidates, the nearest taken when the trip is planned
    forced: bool = False  # a vehicle taken out while off shift
    margin_m: float = STOP_MARGIN_M  # stop: this far into its trip at least, and from its end
    run_m: float = SPEED_RUN_M  # speed: the run's major road at speed ...
    max_s: float = SPEED_MAX_S  # ... or its time, whichever ends it first
    can_stop: Callable[[int], bool] = field(default=_anywhere, repr=False)
    # As it is played:
    begun: bool = False
    done: bool = False
    placed: bool = False  # a vehicle's trip carries it (``mark``: the index of its node in the trip)
    replanned: bool = False
    mark: int = -1
    out_since: float | None = None
    raced_m: float = 0.0
    resume_status: str = "patrol"

    @property
    def end(self) -> float:
        return self.at + self.dwell_s


class Misbehaviour:
    """Plans the rounds as the world's time goes on (``plan_until``) and hands each episode to its
    agent before the agent reaches its time."""

    def __init__(self, world: World) -> None:
        cfg = world.cfg
        self.seed = cfg.seed
        self.every_s = max(600.0, cfg.misbehave_every_s)
        self.vehicles = world.vehicles
        self.collectors = world.collectors
        self.net = world.net
        self.layout = demo_layout(world.city, world.net)
        cal = world.rules.calendar
        # The supervision's collector rota (docs/supervision.md "Collectors"): its periods on the
        # city's working days. The simulator's collectors walk every day; only these days count.
        self.rota = Rota(WorkCalendar(timezone=cal.timezone, periods=COLLECTOR_PERIODS, weekend=cal.weekend,
                                      holidays=cal.holidays, workdays=cal.workdays))
        self.duty = {t: parse_hours(list(d.get("duty_hours", ())), "duty_hours") for t, d in TYPE_DEFAULTS.items()}
        self.episodes: list[Episode] = []  # every episode planned so far, in planning order
        self._runs: dict[str, tuple[float, bool]] = {}  # muck truck -> its run's major metres, room to stop
        self._dark: dict[str, list[Episode]] = {}
        self._busy: dict[str, float] = {}
        rng = random.Random(f"{self.seed}:misbehave")
        self.next_vehicle_round, self._vk = world.start + rng.uniform(*FIRST_S), 0
        self.next_collector_round, self._ck = self._collector_slot(world.start + rng.uniform(*FIRST_S), rng), 0

    # --- the world asks ---------------------------------------------------------------------
    def plan_until(self, until: float) -> None:
        while self.next_vehicle_round <= until:
            rng = random.Random(f"{self.seed}:misbehave:vehicles:{self._vk}")
            self._plan_vehicles(self.next_vehicle_round, rng)
            self._vk += 1
            self.next_vehicle_round += rng.uniform(0.75, 1.25) * self.every_s
        while self.next_collector_round <= until:
            rng = random.Random(f"{self.seed}:misbehave:collectors:{self._ck}")
            self._plan_collectors(self.next_collector_round, rng)
            self._ck += 1
            self.next_collector_round = self._collector_slot(
                self.next_collector_round + rng.uniform(0.75, 1.25) * self.every_s, rng)

    def dark(self, agent_id: str, ts: float) -> bool:
        """Whether the agent's terminal sends nothing at ts."""
        eps = self._dark.get(agent_id)
        return eps is not None and any(e.at <= ts < e.end for e in eps)

    # --- vehicles ---------------------------------------------------------------------------
    def _plan_vehicles(self, r: float, rng: random.Random) -> None:
        at = {k: r + rng.uniform(0.0, SPREAD_S) for k in ("detour", "stop", "speed", "dark")}
        muck = [v for v in self.vehicles if v.subtype == "muck_truck" and v.site is not None and v.dump is not None]
        truck = self._pick(muck, at["detour"], rng)
        if truck is not None:
            self._give(truck, Episode("detour", truck.id, at["detour"], rng.uniform(*DETOUR_PAUSE_S),
                                      vias=self.layout.forbidden, forced=not on_shift(at["detour"], truck.windows)))
        truck = self._pick([v for v in muck if self._run(v)[1]], at["stop"], rng)
        if truck is not None:
            self._give(truck, Episode("stop", truck.id, at["stop"], rng.uniform(*STOP_S),
                                      forced=not on_shift(at["stop"], truck.windows),
                                      can_stop=lambda n: self.layout.can_stop(self.net, n)))
        self._plan_speeder(at["speed"], rng)
        t = at["dark"]
        dur = rng.uniform(*DARK_S)
        on_duty = [v for v in self.vehicles if self._on_duty(v.subtype, t) and self._on_duty(v.subtype, t + dur + 60)]
        v = self._pick(on_duty, t, rng)
        if v is not None:
            ep = Episode("dark", v.id, t, dur)
            self.episodes.append(ep)
            self._dark.setdefault(v.id, []).append(ep)
            self._busy[v.id] = t + BUSY_S

    def _plan_speeder(self, t: float, rng: random.Random) -> None:
        free = [v for v in self.vehicles if self._busy.get(v.id, -math.inf) <= t]
        working = [v for v in free if on_shift(t, v.windows)]
        enforcement = [v for v in working if v.subtype == "enforcement"]
        muck = [v for v in working if v.subtype == "muck_truck" and v.site is not None and v.dump is not None
                and self._run(v)[0] >= SPEED_RUN_M / 2]
        pool = enforcement or muck or [v for v in free if v.subtype == "enforcement"]
        if not pool:
            return
        v = rng.choice(pool)
        via = None
        if v.subtype != "muck_truck":  # a far errand on the major roads; a muck truck speeds on its own run
            bx, by = self.net.xy[v.base]
            far = [n for n in self.net.nodes_near(bx, by, SPEED_ERRAND_M[1])
                   if math.dist(self.net.xy[n], (bx, by)) >= SPEED_ERRAND_M[0]
                   and all(c == "major" for _, _, c in self.net.adj[n])]
            via = rng.choice(far) if far else None
        self._give(v, Episode("speed", v.id, t, via=via, forced=not on_shift(t, v.windows)))

    def _run(self, truck: Vehicle) -> tuple[float, bool]:
        """A muck truck's run (site → dump): its metres of major road, and whether it has room for
        a stop outside every site (some sites' dumps are next door)."""
        got = self._runs.get(truck.id)
        if got is None:
            net = self.net
            trip = net.route(truck.site, truck.dump)  # type: ignore[arg-type]
            major = along = 0.0
            room = False
            total = sum(math.dist(net.xy[a], net.xy[b]) for a, b in zip(trip, trip[1:], strict=False))
            for a, b in zip(trip, trip[1:], strict=False):
                d = math.dist(net.xy[a], net.xy[b])
                major += d if net.edge_class(a, b) == "major" else 0.0
                along += d
                room = room or (STOP_MARGIN_M <= along <= total - STOP_MARGIN_M and self.layout.can_stop(net, b))
            got = self._runs[truck.id] = (major, room)
        return got

    def _pick(self, vehicles: list[Vehicle], t: float, rng: random.Random) -> Vehicle | None:
        free = [v for v in vehicles if self._busy.get(v.id, -math.inf) <= t]
        working = [v for v in free if on_shift(t, v.windows)]
        pool = working or free
        return rng.choice(pool) if pool else None

    def _give(self, agent: Vehicle | Collector, ep: Episode) -> None:
        agent.episodes.append(ep)
        agent.episodes.sort(key=lambda e: (e.begun is False, e.at))  # one begun stays first
        self.episodes.append(ep)
        self._busy[agent.id] = ep.at + BUSY_S

    def _on_duty(self, subtype: str | None, t: float) -> bool:
        hours = self.duty.get(subtype or "", ())
        return not hours or in_hours(hours, int((t + OFFSET_S) // 60) % 1440)

    # --- collectors -------------------------------------------------------------------------
    def _collector_slot(self, t: float, rng: random.Random) -> float:
        """t, or the first time after it that leaves a round room before its duty period ends."""
        rota = self.rota
        for _ in range(1000):
            if rota.is_open(t) and rota.window_end(t) - t >= COLLECTOR_ROOM_S:
                return t
            t = rota.next_open(rota.window_end(t) if rota.is_open(t) else t) + rng.uniform(*FIRST_S)
        return math.inf

    def _plan_collectors(self, r: float, rng: random.Random) -> None:
        free = [c for c in self.collectors if self._busy.get(c.id, -math.inf) <= r and len(c.area.walk) > 1]
        if not free:
            return
        out = rng.choice(free)
        self._give(out, Episode("out", out.id, r + rng.uniform(0.0, SPREAD_S), rng.uniform(*OUT_S)))
        rest = [c for c in free if c is not out]
        if rest:
            still = rng.choice(rest)
            self._give(still, Episode("idle", still.id, r + rng.uniform(0.0, SPREAD_S), rng.uniform(*IDLE_S)))


def summary(episodes: list[Episode], start: float) -> list[dict[str, Any]]:
    """The episodes as the log shows them: minutes after the start."""
    return [{"kind": e.kind, "agent": e.agent, "min": round((e.at - start) / 60, 1)} for e in episodes]
