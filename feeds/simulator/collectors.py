"""Field collectors (信息采集员/监督员) walking their patrol grids during duty hours.

A collector signs on at 08:00 at its home grid, walks grid to grid (preferring grids not seen for
a while), pauses now and then, and goes to the places of its tasks (reports, 核实, 核查) shortly
before they are due. At 12:00 and 18:00 it sends one last fix with status "off_duty" and then
nothing until the next period: the wall shows it as signed off at once, not as lost.

State advances lazily (``advance_to``) only when the collector reports, with the collector's own
random stream, so its track does not depend on how often the runner ticks.

In the demo (``SimConfig.misbehave``, on in `gridwall simulate`) a collector may be handed an
``Episode`` (feeds/simulator/misbehaviour.py): it strays out of its grids for a while, or
stands still far longer than a pause. A collector without episodes never leaves its grids.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dashboard.city.planar import bearing_deg
from feeds.simulator.areas import Cells, PatrolArea
from feeds.simulator.clock import DUTY, local_day_start

if TYPE_CHECKING:
    from feeds.simulator.misbehaviour import Episode

STEER_AHEAD_S = 15 * 60  # start walking to a task this long before it is due
MORNING_S = 8 * 3600


@dataclass(order=True, slots=True)
class Task:
    ts: float
    seq: int
    cell: int = field(compare=False)
    x: float = field(compare=False)
    y: float = field(compare=False)
    dwell: float = field(compare=False)  # seconds spent on the spot after ts
    status: str = field(compare=False)  # reporting | verifying | checking


class Collector:
    kind = "collector"
    subtype: str | None = None

    def __init__(
        self,
        cid: str,
        name: str,
        department: str,
        area: PatrolArea,
        cells: Cells,
        rng: random.Random,
        start: float,
        interval: float,
        phase: float,
    ) -> None:
        self.id, self.name, self.department = cid, name, department
        self.area, self.cells, self.rng = area, cells, rng
        self.interval, self.phase = interval, phase
        self.walk = set(area.walk)
        self.speed = rng.uniform(0.85, 1.35)  # m/s: 3.1–4.9 km/h
        self.battery_start = rng.uniform(90, 100)
        self.drain_per_h = rng.uniform(4.0, 8.0)
        self.tasks: list[Task] = []
        self._task_seq = 0
        self.visited: dict[int, float] = {}
        self.path: deque[tuple[float, float, int]] = deque()
        self.wait_until = 0.0
        self.status = "patrol" if DUTY.is_open(start) else "off_duty"
        self.heading = 0.0
        self.moving = False
        self._go_home(start)
        self.t = start
        self.episodes: list[Episode] = []  # misbehaviour to come, in time order (none: it behaves)

    # --- tasks -------------------------------------------------------------------------------
    def add_task(self, ts: float, cell: int, x: float, y: float, dwell: float, status: str) -> None:
        self._task_seq += 1
        heapq.heappush(self.tasks, Task(ts, self._task_seq, cell, x, y, dwell, status))

    # --- time --------------------------------------------------------------------------------
    def first_report(self, start: float) -> float:
        return (start if DUTY.is_open(start) else DUTY.next_open(start)) + self.phase

    def next_report(self, ts: float) -> float:
        if not DUTY.is_open(ts):  # that was the sign-off fix
            return DUTY.next_open(ts) + self.phase
        end = DUTY.window_end(ts)
        nxt = ts + self.interval
        return end if nxt >= end else nxt  # one fix exactly at sign-off

    def advance_to(self, until: float) -> None:
        while self.t < until:
            if not DUTY.is_open(self.t):
                nxt = DUTY.next_open(self.t)
                if nxt > until:
                    self.t = until
                    break
                self.t = nxt
                self._sign_on(nxt)
                continue
            self._walk(min(until, DUTY.window_end(self.t)))
        if not DUTY.is_open(self.t):  # off duty, or exactly at the end of a period (sign-off)
            self.status, self.moving = "off_duty", False

    def _sign_on(self, t: float) -> None:
        if t - local_day_start(t) <= MORNING_S:
            self._go_home(t)  # a new day starts at the home grid
        self.path.clear()
        self.wait_until = 0.0
        self.status = "patrol"
        if self.episodes and self.episodes[0].begun:  # a period's end cuts an episode short
            self.episodes.pop(0).done = True

    def battery(self, t: float) -> float:
        day = local_day_start(t)
        on_duty_h = DUTY.measure(day, t) / 3600.0
        lunch_charge = 15.0 if t - day >= 14 * 3600 else 0.0
        return round(max(5.0, min(100.0, self.battery_start - self.drain_per_h * on_duty_h
                                  + lunch_charge)), 1)

    # --- movement ----------------------------------------------------------------------------
    def _go_home(self, t: float) -> None:
        self.cell = self.area.home
        self.x, self.y = self.cells.cells[self.cell].centroid
        self.visited[self.cell] = t

    def _walk(self, horizon: float) -> None:
        while self.t < horizon:
            h = horizon
            if self.episodes:
                self._episode_step()
                if self.episodes and not self.episodes[0].begun:
                    h = min(horizon, self.episodes[0].at)
            if self.wait_until > self.t:
                self.moving = False
                self.t = min(h, self.wait_until)
                continue
            if not self.path:
                self._plan()
                if not self.path and self.wait_until <= self.t:
                    self.wait_until = self.t + 60.0  # nowhere to go (a one-grid area): stand
                continue
            tx, ty, tc = self.path[0]
            d = math.hypot(tx - self.x, ty - self.y)
            reach = self.speed * (h - self.t)
            self.moving = True
            if d > 1e-9:
                self.heading = bearing_deg(self.x, self.y, tx, ty)
            if reach >= d:
                self.t += d / self.speed
                self.x, self.y, self.cell = tx, ty, tc
                self.path.popleft()
                self.visited[tc] = self.t
                if not self.path and self.status == "patrol" and self.rng.random() < 0.15:
                    self.wait_until = self.t + self.rng.uniform(30, 150)  # looking at something
                    self.status = "idle"
            else:
                f = reach / d
                self.x += (tx - self.x) * f
                self.y += (ty - self.y) * f
                self.t = h

    def _plan(self) -> None:
        if self.episodes and self.episodes[0].begun and self.episodes[0].kind == "out":
            self._stray(self.episodes[0])
            return
        if self.cell not in self.walk:  # back from outside its grids
            self.status = "patrol"
            if not self._route_any(self.walk.__contains__):
                self._go_home(self.t)
            return
        while self.tasks and self.tasks[0].ts + self.tasks[0].dwell < self.t:
            heapq.heappop(self.tasks)  # missed (e.g. assigned while off duty): the event still happens
        task = self.tasks[0] if self.tasks else None
        if task is not None and task.ts - self.t <= STEER_AHEAD_S:
            target = task.cell if task.cell in self.walk else self._nearest_walk(task.cell)
            if self.cell == target:
                if target == task.cell and math.hypot(task.x - self.x, task.y - self.y) > 0.5:
                    self.path.append((task.x, task.y, target))
                    self.status = "patrol"
                    return
                heapq.heappop(self.tasks)
                self.status = task.status
                self.moving = False
                self.wait_until = max(self.t, task.ts) + task.dwell
                return
            self._route_to(target)
            self.status = "patrol"
            return
        self.status = "patrol"
        options = [nb for nb, _ in self.cells.cells[self.cell].neighbours if nb in self.walk]
        if not options:
            return
        nxt = min(options, key=lambda c: self.visited.get(c, 0.0) + self.rng.uniform(0, 900))
        self._step_to(nxt)

    def _step_to(self, nxt: int) -> None:
        """Centroid-to-centroid through the midpoint of the shared edge: both legs stay inside
        one (convex) grid each."""
        mid = next(m for nb, m in self.cells.cells[self.cell].neighbours if nb == nxt)
        self.path.append((mid[0], mid[1], self.cell))
        cx, cy = self.cells.cells[nxt].centroid
        self.path.append((cx, cy, nxt))

    def _route_to(self, target: int) -> None:
        prev: dict[int, int] = {self.cell: self.cell}
        queue = deque([self.cell])
        while queue:
            c = queue.popleft()
            if c == target:
                break
            for nb, _ in self.cells.cells[c].neighbours:
                if nb in self.walk and nb not in prev:
                    prev[nb] = c
                    queue.append(nb)
        if target in prev:
            self._walk_back_from(target, prev)

    def _walk_back_from(self, target: int, prev: dict[int, int]) -> None:
        """Step grid to grid along a search's ``prev`` links, from here to ``target``."""
        chain = [target]
        while chain[-1] != self.cell:
            chain.append(prev[chain[-1]])
        here = self.cell
        for c in reversed(chain[:-1]):
            self.cell = here
            self._step_to(c)
            here = c
        self.cell = chain[-1]

    def _nearest_walk(self, cell: int) -> int:
        cx, cy = self.cells.cells[cell].centroid
        return min(self.walk, key=lambda c: (math.dist(self.cells.cells[c].centroid, (cx, cy)), c))

    # --- misbehaviour (feeds/simulator/misbehaviour.py) -------------------------------------------
    def _episode_step(self) -> None:
        """Begin the next episode at its time; end a still one whose time is up."""
        ep = self.episodes[0]
        if not ep.begun:
            if ep.at > self.t:
                return
            ep.begun = True
            if ep.kind == "idle":  # stops where it is, mid-step or not, and stands
                ep.resume_status = self.status if self.status != "idle" else "patrol"
                self.wait_until, self.status, self.moving = self.t + ep.dwell_s, "idle", False
            else:  # out: finishes the leg it is on, then heads out of its grids
                while len(self.path) > 1:
                    self.path.pop()
                self.wait_until = min(self.wait_until, self.t)
            return
        if ep.kind == "idle" and self.wait_until <= self.t:
            self.status = ep.resume_status
            self.episodes.pop(0).done = True

    def _stray(self, ep: Episode) -> None:
        """Out of its grids for ``ep.dwell_s`` (counted from the first grid centre outside):
        there by the shortest walk, then from grid to grid away from its area, then back."""
        self.status = "patrol"
        cells = self.cells.cells
        mine = set(self.area.cells)

        def outside(c: int) -> bool:
            return c not in mine

        if self.cell in mine:
            if not self._route_any(outside):
                self.episodes.pop(0).done = True  # nowhere to stray to
            return
        if ep.out_since is None:
            ep.out_since = self.t
        if self.t - ep.out_since >= ep.dwell_s:
            self.episodes.pop(0).done = True
            self._route_any(self.walk.__contains__)
            return
        options = [nb for nb, _ in cells[self.cell].neighbours if outside(nb) and cells[nb].walkable]
        # Grids that touch none of its own first: GPS noise at a shared corner says "back in".
        deep = [nb for nb in options if not any(m in mine for m, _ in cells[nb].neighbours)]
        if not options:
            self.wait_until = self.t + 60.0
            return
        self._step_to(min(deep or options, key=lambda c: (self.visited.get(c, 0.0), c)))

    def _route_any(self, goal: Callable[[int], bool]) -> bool:
        """Walk grid to grid over any land (not only its own) to the nearest grid meeting goal."""
        cells = self.cells.cells
        prev: dict[int, int] = {self.cell: self.cell}
        queue = deque([self.cell])
        found = None
        while queue:
            c = queue.popleft()
            if c != self.cell and goal(c):
                found = c
                break
            for nb, _ in cells[c].neighbours:
                if nb not in prev and cells[nb].walkable:
                    prev[nb] = c
                    queue.append(nb)
        if found is None:
            return False
        self._walk_back_from(found, prev)
        return True
