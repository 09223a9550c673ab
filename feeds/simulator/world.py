"""The simulated city as a pure model: agents, alerts and cases, stepped with an explicit ``now``.

No I/O and no wall clock here (the casework rules are handed in; only when none are, the shipped
ones are read once per process). ``advance(now)`` returns the GPS fixes and video alerts due by
``now``; ``pop_case_events(now, n)`` hands out case events in time order, at most n at a time,
so the runner can pace a backfill. Every message carries the time it was planned for, not the
time it was handed out, so the output is a function of (city, config, start, now) only.

With ``SimConfig.misbehave`` (on in `gridwall simulate`, off by default here) the demo city also
plays what the supervision catches (docs/supervision.md "The demo city"): a muck truck off its
route and through a forbidden block, one stopped on the road, a speeder, a vehicle gone dark, a
collector out of its grids and one standing still, planned by feeds/simulator/misbehaviour.py
on random streams of their own (the behaving agents' streams do not change).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from dashboard import casedata
from dashboard.casework.timelimits import Rules
from dashboard.city.model import City
from feeds.simulator.areas import Cells, assign_areas
from feeds.simulator.camera_alerts import AlertPlan, CameraSpot, expected_cases_per_day, plan_hour
from feeds.simulator.case_plans import (
    MAX_LIFE_S,
    CasePlan,
    CasePlanner,
    PlannedEvent,
    hour_floor,
    person_name,
)
from feeds.simulator.clock import DAY_S, HOUR_S
from feeds.simulator.collectors import Collector
from feeds.simulator.misbehaviour import Misbehaviour
from feeds.simulator.problem_mix import find_kind
from feeds.simulator.roadnet import RoadNet
from feeds.simulator.vehicles import Vehicle

HORIZON_S = HOUR_S  # cases are planned this far ahead, so collectors can walk to their reports
STALE_S = 60.0  # a fix more than this late (the process was stopped) is skipped, not sent
VIDEO_MAX_SHARE = 0.3  # video cases never exceed this share of --cases-per-day
MUCK_COMPANIES = ("江城宏远渣土运输公司", "江城顺达建筑运输公司", "江城通达土方工程公司")
TASK_STATUS = {"report": "reporting", "self_dispose": "reporting", "verify": "verifying",
               "check_pass": "checking", "check_fail": "checking"}


def nearest_dump(net: RoadNet, dumps: list[Any], site: int | None) -> int | None:
    """The dump a construction site's trucks take their spoil to: the nearest (straight line)."""
    if not dumps or site is None:
        return None
    return min(dumps, key=lambda d: math.dist(net.xy[d.node], net.xy[site])).node


@cache
def shipped_rules() -> Rules:
    """The casework rules of the shipped data files, read once: tests and benches build many
    worlds, and the files do not change while a process runs."""
    return casedata.load_rules()


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int = 12319
    collectors: int = 120
    vehicles: int = 60
    cameras: int | None = None  # None: every camera of city.json
    cases_per_day: float = 400.0
    speedup: float = 1.0  # lifecycle delays only
    collector_interval: float = 10.0
    vehicle_interval: float = 5.0
    parked_interval: float = 60.0
    alerts_per_camera_day: float = 6.0
    backfill_days: float = 30.0
    # The demo's scheduled misbehaviour (feeds/simulator/misbehaviour.py): a first round 2-8 min
    # after the start, then one about every ``misbehave_every_s``. Off in the pure model (tests
    # compare its output), on in `gridwall simulate` (--no-misbehave turns it off).
    misbehave: bool = False
    misbehave_every_s: float = 3600.0

    def plan_digest(self) -> str:
        """Fingerprint of what shapes the case plan; a restart with another one re-plans."""
        keys = ("seed", "collectors", "cameras", "cases_per_day", "speedup",
                "alerts_per_camera_day")
        data = asdict(self)
        text = "|".join(f"{k}={data[k]}" for k in keys)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(slots=True)
class Message:
    topic: str
    payload: dict[str, Any]
    qos: int
    ts: float
    kind: str  # gps | video | case
    ref: PlannedEvent | None = None  # case events: the plan entry, to put it back if unsent


class World:
    def __init__(
        self,
        city: City,
        cfg: SimConfig,
        start: float,
        *,
        cases_from: float | None = None,
        published_until: float | None = None,
        keep_plans: bool = False,
        rules: Rules | None = None,
    ) -> None:
        """``rules``: the city's time limits and working calendar, as the wall's ingest loads them
        (dashboard.casedata.city_rules); None for the shipped ones (dashboard/data)."""
        self.city, self.cfg, self.start = city, cfg, start
        self.rules = shipped_rules() if rules is None else rules
        self.cases_from = start - cfg.backfill_days * DAY_S if cases_from is None else cases_from
        self.published_until = self.cases_from if published_until is None else published_until
        self.keep_plans = keep_plans
        self.plans: dict[str, CasePlan] = {}
        self.cells = Cells(city)
        self.net = RoadNet(city, self.cells.proj)
        self.collectors = self._make_collectors()
        self.vehicles = self._make_vehicles()
        self.agents: list[Collector | Vehicle] = [*self.collectors, *self.vehicles]
        self.cameras = self._make_cameras()
        video = expected_cases_per_day(len(self.cameras), cfg.alerts_per_camera_day)
        limit = VIDEO_MAX_SHARE * cfg.cases_per_day
        self.video_scale = 1.0 if video <= limit else limit / video
        grid_collectors: dict[int, list[int]] = {}
        for i, area in enumerate(self.areas):
            for c in area.cells:
                grid_collectors.setdefault(c, []).append(i)
        self.planner = CasePlanner(
            seed=cfg.seed,
            cells=self.cells,
            grid_collectors=grid_collectors,
            collector_cells=[a.cells for a in self.areas],
            collector_ids=[c.id for c in self.collectors],
            districts=[d.code for d in city.districts],
            addresses=self._addresses(),
            cases_per_day=cfg.cases_per_day,
            video_per_day=video * self.video_scale,
            rules=self.rules,
            speedup=cfg.speedup,
        )
        self._case_heap: list[tuple[float, str, int, PlannedEvent]] = []
        self._alert_heap: list[tuple[float, str, int, Message]] = []
        self._reports: list[tuple[float, int]] = [
            (agent.first_report(start), i) for i, agent in enumerate(self.agents)
        ]
        heapq.heapify(self._reports)
        self.planned_cases = 0
        self.misbehaviour = Misbehaviour(self) if cfg.misbehave else None
        first_hour = max(self.cases_from, self.published_until - MAX_LIFE_S)
        self._next_hour = hour_floor(min(first_hour, start))
        self._plan_until(start + HORIZON_S)

    # --- the public stepping API ---------------------------------------------------------------
    def advance(self, now: float) -> list[Message]:
        """GPS fixes and video alert messages due by ``now``, in time order per source."""
        self._plan_until(now + HORIZON_S)
        bad = self.misbehaviour
        if bad is not None:
            bad.plan_until(now + HORIZON_S)  # before any agent reaches the episodes' times
        out: list[Message] = []
        while self._reports and self._reports[0][0] <= now:
            ts, i = heapq.heappop(self._reports)
            agent = self.agents[i]
            if ts < now - STALE_S:  # we were stopped: resume the cadence from now
                agent.advance_to(now)
                heapq.heappush(self._reports, (agent.next_report(now), i))
                continue
            agent.advance_to(ts)
            if bad is None or not bad.dark(agent.id, ts):  # a dark terminal sends nothing
                out.append(self._gps(agent, ts))
            heapq.heappush(self._reports, (agent.next_report(ts), i))
        while self._alert_heap and self._alert_heap[0][0] <= now:
            out.append(heapq.heappop(self._alert_heap)[3])
        return out

    def pop_case_events(self, now: float, limit: int) -> list[Message]:
        """Up to ``limit`` case events due by ``now``, oldest first (backfill, then live)."""
        out: list[Message] = []
        while self._case_heap and self._case_heap[0][0] <= now and len(out) < limit:
            ev = heapq.heappop(self._case_heap)[3]
            self.published_until = max(self.published_until, ev.ts)
            out.append(Message(f"gridwall/case/{ev.birth.case_id}", ev.payload(), 1, ev.ts, "case",
                               ev))
        return out

    def push_back(self, messages: Iterable[Message]) -> None:
        """Case events that could not be handed to the client go back in front of the queue."""
        for m in messages:
            if m.ref is not None:
                heapq.heappush(self._case_heap, (m.ref.ts, m.ref.birth.case_id, m.ref.seq, m.ref))

    def due_case_events(self, now: float) -> int:
        return sum(1 for ts, *_ in self._case_heap if ts <= now)

    # --- planning ------------------------------------------------------------------------------
    def _plan_until(self, until: float) -> None:
        while self._next_hour < until:
            hour = self._next_hour
            self._next_hour += HOUR_S
            alerts = plan_hour(self.cfg.seed, hour, self.cameras, self.cfg.alerts_per_camera_day)
            video = []
            for a in alerts:
                if a.start >= self.start:
                    for ts, payload in a.messages():
                        msg = Message(f"gridwall/video/{a.camera.id}", payload, 1, ts, "video")
                        heapq.heappush(self._alert_heap, (ts, a.alert_id, len(self._alert_heap), msg))
                born = self._alert_case(a)
                if born is not None:
                    video.append(born)
            for birth in self.planner.births(hour, video):
                if birth.ts < self.cases_from:
                    continue
                plan = self.planner.plan(birth)
                self.planned_cases += 1
                if self.keep_plans:
                    self.plans[birth.case_id] = plan
                for ev in plan.events:
                    if ev.ts >= self.published_until:
                        heapq.heappush(self._case_heap, (ev.ts, birth.case_id, ev.seq, ev))
                    if ev.ts >= self.start and ev.action in TASK_STATUS:
                        self._task(ev)

    def _alert_case(self, a: AlertPlan) -> tuple[float, str, Any, int, str] | None:
        if not a.real or a.type.case is None:
            return None
        rng = random.Random(f"{self.cfg.seed}:alertcase:{a.alert_id}")
        if rng.random() >= a.type.p_case * self.video_scale:
            return None
        kind = find_kind(*a.type.case)
        ts = a.start + rng.uniform(2, 6) * 60  # the AI raises it, the 受理员 sees it
        return ts, a.alert_id, kind, a.camera.cell, f"sim://snapshots/{a.camera.id}/{a.alert_id}.jpg"

    def _task(self, ev: PlannedEvent) -> None:
        b = ev.birth
        idx = b.reporter if ev.action in ("report", "self_dispose") else b.collector
        if idx is None or not 0 <= idx < len(self.collectors):
            return
        dwell = 90.0 + zlib.crc32(ev.event_id.encode()) % 210  # 1.5–5 min on the spot
        self.collectors[idx].add_task(ev.ts, b.cell, b.x, b.y, dwell, TASK_STATUS[ev.action])

    # --- agents --------------------------------------------------------------------------------
    def _make_collectors(self) -> list[Collector]:
        cfg = self.cfg
        self.areas = assign_areas(self.cells, cfg.collectors)
        rng = random.Random(f"{cfg.seed}:collectors")
        out = []
        for i, area in enumerate(self.areas):
            cid = f"C{i + 1:04d}"
            out.append(Collector(
                cid, person_name(rng), "JDZX", area, self.cells,
                random.Random(f"{cfg.seed}:collector:{cid}"), self.start,
                cfg.collector_interval, phase=(i * 0.618034 % 1.0) * cfg.collector_interval,
            ))
        return out

    def _make_vehicles(self) -> list[Vehicle]:
        cfg = self.cfg
        n = cfg.vehicles
        n_enf = round(n * 0.3)
        n_muck = round(n * 0.3)
        kinds = ["enforcement"] * n_enf + ["muck_truck"] * n_muck + ["sanitation"] * (n - n_enf - n_muck)
        sites = self.city.sites
        by_kind: dict[str, list[Any]] = {}
        for s in sites:
            by_kind.setdefault(s.kind, []).append(s)
        fallback = [0]
        rng = random.Random(f"{cfg.seed}:vehicles")
        out: list[Vehicle] = []
        counters: dict[str, int] = {}
        for i, subtype in enumerate(kinds):
            counters[subtype] = counters.get(subtype, 0) + 1
            k = counters[subtype]
            prefix = {"enforcement": "E", "sanitation": "S", "muck_truck": "M"}[subtype]
            vid = f"{prefix}{k:03d}"
            plate = f"浙Z{rng.choice('ABCDFGHJKLMNPQRSTUVWXY')}{rng.randint(10000, 99999)}"
            vrng = random.Random(f"{cfg.seed}:vehicle:{vid}")
            phase = (i * 0.618034 % 1.0) * cfg.vehicle_interval
            common = dict(interval=cfg.vehicle_interval, parked_interval=cfg.parked_interval,
                          phase=phase)
            if subtype == "enforcement":
                bases = by_kind.get("enforcement_base") or []
                base = bases[k % len(bases)] if bases else None
                dept = f"ZFZD-{base.district}" if base else "CGZFJ"
                out.append(Vehicle(vid, subtype, plate, dept, self.net, vrng, self.start,
                                   base=base.node if base else fallback[0], **common))
            elif subtype == "sanitation":
                depots = by_kind.get("sanitation_depot") or []
                base = depots[k % len(depots)] if depots else None
                out.append(Vehicle(vid, subtype, plate, "HWC", self.net, vrng, self.start,
                                   base=base.node if base else fallback[0], area_radius=2500.0,
                                   **common))
            else:
                yards = by_kind.get("muck_yard") or by_kind.get("dump") or []
                cons = by_kind.get("construction") or []
                dumps = by_kind.get("dump") or []
                site = cons[k % len(cons)].node if cons else None
                dump = nearest_dump(self.net, dumps, site)
                out.append(Vehicle(vid, subtype, plate, MUCK_COMPANIES[k % len(MUCK_COMPANIES)],
                                   self.net, vrng, self.start,
                                   base=yards[0].node if yards else fallback[0], site=site,
                                   dump=dump, day_permit=vrng.random() < 0.12, **common))
        return out

    def _make_cameras(self) -> list[CameraSpot]:
        rng = random.Random(f"{self.cfg.seed}:cameras")
        want = len(self.city.cameras) if self.cfg.cameras is None else self.cfg.cameras
        out = []
        for cam in self.city.cameras[:want]:
            out.append(CameraSpot(cam.id, cam.lat, cam.lon, self.cells.by_code[cam.grid_code],
                                  rng.uniform(0.4, 1.8)))
        land = [c.idx for c in self.cells.cells if c.walkable]
        while len(out) < want:  # more than the city has: extra street cameras inside grids
            cell = self.cells.cells[rng.choice(land)]
            lon, lat = self.cells.lonlat(*cell.random_point(rng, 0.5))
            out.append(CameraSpot(f"CAM{len(out) + 1:03d}", round(lat, 6), round(lon, 6),
                                  cell.idx, rng.uniform(0.4, 1.8)))
        return out

    def _addresses(self) -> dict[int, str]:
        """A short address per grid: street (街道) + the nearest road, e.g. 湖滨街道解放路附近."""
        names: dict[int, str] = {}
        for e in self.city.roads.edges:
            names.setdefault(e.a, e.name_zh)
            names.setdefault(e.b, e.name_zh)
        out = {}
        for cell in self.cells.cells:
            node = self.net.nearest_node(*cell.centroid)
            street = self.city.names.get(cell.code[:9], "")
            out[cell.idx] = f"{street}{names.get(node, '')}附近"
        return out

    # --- messages ------------------------------------------------------------------------------
    def _gps(self, agent: Collector | Vehicle, ts: float) -> Message:
        rng = agent.rng
        if isinstance(agent, Collector):
            x, y = agent.x, agent.y
            sigma, accuracy = 4.0, round(rng.uniform(5, 20), 1)
            off = agent.status == "off_duty"
            moving = agent.moving and agent.wait_until <= ts and not off
            speed = round(agent.speed * 3.6 + rng.uniform(-0.3, 0.3), 1) if moving else 0.0
            battery = agent.battery(ts)
        else:
            x, y = agent.x_y
            sigma, accuracy = 2.5, round(rng.uniform(3, 8), 1)
            speed = round(max(0.0, agent.speed_kmh + rng.uniform(-1, 1)), 1) if agent.speed_kmh else 0.0
            battery = 100.0
        lon, lat = self.cells.lonlat(x + rng.gauss(0, sigma), y + rng.gauss(0, sigma))
        payload = {
            "id": agent.id,
            "kind": agent.kind,
            "subtype": agent.subtype,
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "ts": round(ts, 3),
            "speed": speed,
            "heading": round(agent.heading, 1),
            "accuracy": accuracy,
            "battery": battery,
            "status": agent.status,
            "name": agent.name,
            "department": agent.department,
        }
        return Message(f"gridwall/gps/{agent.kind}/{agent.id}", payload, 0, ts, "gps")
