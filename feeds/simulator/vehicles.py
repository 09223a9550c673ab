"""Vehicles on the road graph: enforcement patrols, sanitation rounds, muck trucks at night.

Each vehicle drives along graph edges only (so it is always on a drawn road), stops at some
junctions (lights), and follows its shift: enforcement cars patrol their district by day,
sanitation trucks work early morning and afternoon, muck trucks (渣土车) shuttle between a
construction site and a dump at night, a few of them by day too, and now and then one speeds.
Off shift they stand parked at their base and report every ``parked_interval`` seconds, as
JT/T 808 terminals do with the engine off.

In the demo (``SimConfig.misbehave``, on in `gridwall simulate`) a vehicle may be handed an
``Episode`` of misbehaviour (feeds/simulator/misbehaviour.py): a muck truck's detour off its
approved route through a block forbidden to it, a long stop on the road (偷倒), a speeding run. A vehicle
without episodes takes none of these paths and draws nothing more from its random stream.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from dashboard.city.planar import bearing_deg
from feeds.simulator.clock import DAY_S, HOUR_S, OFFSET_S
from feeds.simulator.roadnet import RoadNet

if TYPE_CHECKING:
    from feeds.simulator.misbehaviour import Episode

Window = tuple[float, float]  # seconds after local midnight; end may exceed a day (overnight)

SHIFTS: dict[str, tuple[Window, ...]] = {
    "enforcement": ((7.5 * HOUR_S, 12 * HOUR_S), (13.5 * HOUR_S, 20.5 * HOUR_S)),
    "sanitation": ((5 * HOUR_S, 11 * HOUR_S), (14 * HOUR_S, 19.5 * HOUR_S)),
    "muck_truck": ((21 * HOUR_S, 29.5 * HOUR_S),),  # 21:00–05:30, the usual permit window
    "muck_truck_day": ((21 * HOUR_S, 29.5 * HOUR_S), (9 * HOUR_S, 16 * HOUR_S)),
}
# Driving speed ranges in km/h per road class.
SPEEDS = {
    "enforcement": {"major": (30, 50), "minor": (15, 30)},
    "sanitation": {"major": (15, 30), "minor": (10, 20)},
    "muck_truck": {"major": (30, 50), "minor": (15, 28)},
}
SPEEDING_KMH = (62, 78)


def _windows_at(t: float, windows: tuple[Window, ...]) -> list[tuple[float, float]]:
    """Absolute (start, end) of the shift windows around t (yesterday, today, tomorrow)."""
    day = t - ((t + OFFSET_S) % DAY_S)
    return sorted((day + k * DAY_S + s, day + k * DAY_S + e) for k in (-1, 0, 1) for s, e in windows)


def on_shift(t: float, windows: tuple[Window, ...]) -> bool:
    return any(s <= t < e for s, e in _windows_at(t, windows))


def shift_end(t: float, windows: tuple[Window, ...]) -> float:
    return max((e for s, e in _windows_at(t, windows) if s <= t < e), default=t)


def next_shift(t: float, windows: tuple[Window, ...]) -> float:
    return min((s for s, _ in _windows_at(t, windows) if s > t), default=t + DAY_S)


class Vehicle:
    kind = "vehicle"

    def __init__(
        self,
        vid: str,
        subtype: str,
        name: str,
        department: str,
        net: RoadNet,
        rng: random.Random,
        start: float,
        *,
        base: int,
        area_radius: float = 2000.0,
        site: int | None = None,
        dump: int | None = None,
        day_permit: bool = False,
        interval: float = 5.0,
        parked_interval: float = 60.0,
        phase: float = 0.0,
    ) -> None:
        self.id, self.subtype, self.name, self.department = vid, subtype, name, department
        self.net, self.rng = net, rng
        self.base, self.site, self.dump = base, site, dump
        self.area_radius = area_radius
        self.windows = SHIFTS["muck_truck_day" if day_permit else subtype]
        self.speeds = SPEEDS[subtype]
        self.interval, self.parked_interval, self.phase = interval, parked_interval, phase
        self.route: tuple[int, ...] = ()
        self.ri = 0  # index in route of the node we are driving to
        self.node = base
        self.edge_pos = 0.0
        self.edge_len = 0.0
        self.speed = 0.0  # m/s while driving
        self.speeding = False
        self.wait_until = start
        self.status = "parked"
        self.heading = rng.uniform(0, 360)
        self.phase_name = "idle"  # muck trucks: to_site, loading, to_dump, unloading
        self.t = start
        self._place(start)
        self.episodes: list[Episode] = []  # misbehaviour to come, in time order (none: it behaves)

    # --- reporting ---------------------------------------------------------------------------
    @property
    def x_y(self) -> tuple[float, float]:
        if self.route and self.ri < len(self.route) and self.edge_len > 0:
            (ax, ay), (bx, by) = self.net.xy[self.route[self.ri - 1]], self.net.xy[self.route[self.ri]]
            f = self.edge_pos / self.edge_len
            return ax + (bx - ax) * f, ay + (by - ay) * f
        return self.net.xy[self.node]

    @property
    def speed_kmh(self) -> float:
        return 0.0 if self.wait_until > self.t or not self.driving else self.speed * 3.6

    @property
    def driving(self) -> bool:
        return bool(self.route) and self.ri < len(self.route)

    def first_report(self, start: float) -> float:
        return start + self.phase  # every vehicle shows up within its first interval

    def next_report(self, ts: float) -> float:
        return ts + (self.parked_interval if self.status == "parked" else self.interval)

    # --- behaviour ---------------------------------------------------------------------------
    def _place(self, t: float) -> None:
        """Where the vehicle is when the simulation starts: mid-shift vehicles are out already."""
        if not on_shift(t, self.windows):
            self.node, self.status = self.base, "parked"
            self.wait_until = next_shift(t, self.windows)
            return
        if self.subtype == "muck_truck" and self.site is not None:
            self.node = self.rng.choice([self.site, self.dump or self.site, self.base])
            self.phase_name = {self.site: "loading", self.dump: "unloading"}.get(self.node, "idle")
            self.status = self.phase_name if self.phase_name != "idle" else "stopped"
            self.wait_until = t + self.rng.uniform(0, 600)
            return
        bx, by = self.net.xy[self.base]
        self.node = self.rng.choice(self.net.nodes_near(bx, by, self.area_radius) or [self.base])
        self.status = "working"
        self.wait_until = t + self.rng.uniform(0, 90)  # spreads the first route searches

    def advance_to(self, until: float) -> None:
        guard = 0
        while self.t < until:
            guard += 1
            if guard > 10_000:  # a logic slip must never hang the publisher
                self.t = until
                return
            if self.episodes and not self.driving:
                self._begin_standing()
            if self.wait_until > self.t:
                wake = self.episodes[0].at if self.episodes and not self.driving else math.inf
                self.t = min(until, self.wait_until, wake)
                continue
            if self.driving:
                self.status = "speeding" if self.speed * 3.6 > 60 else "driving"  # after a light
                remaining = self.edge_len - self.edge_pos
                need = remaining / self.speed
                if self.t + need <= until:
                    self.t += need
                    self._arrive_node()
                else:
                    self.edge_pos += self.speed * (until - self.t)
                    self.t = until
                continue
            self._next_job()

    def _start_edge(self) -> None:
        a, b = self.route[self.ri - 1], self.route[self.ri]
        self.edge_len = math.dist(self.net.xy[a], self.net.xy[b])
        self.edge_pos = 0.0
        cls = self.net.edge_class(a, b)
        lo, hi = self.speeds[cls]
        kmh = self.rng.uniform(lo, hi)
        if (self.speeding or self._racing()) and cls == "major":
            kmh = self.rng.uniform(*SPEEDING_KMH)
            if self._racing():
                self.episodes[0].raced_m += self.edge_len
        self.speed = kmh / 3.6
        self.heading = bearing_deg(*self.net.xy[a], *self.net.xy[b])
        self.status = "speeding" if kmh > 60 else "driving"

    def _arrive_node(self) -> None:
        self.node = self.route[self.ri]
        self.ri += 1
        if self.episodes and self._episode_at_node():
            return
        if self.ri < len(self.route):
            self._start_edge()
            if self.net.degree(self.node) >= 3 and self.rng.random() < 0.25 and not self._racing():
                self.wait_until = self.t + self.rng.uniform(5, 40)  # a red light
                self.status = "stopped"
            return
        self.route, self.ri, self.edge_len = (), 0, 0.0
        self._at_destination()

    def _drive_to(self, target: int) -> None:
        route = self.net.route(self.node, target)
        if self.episodes and self.episodes[0].begun and not self.episodes[0].placed:
            route = self._misroute(self.episodes[0], route, target)
        if len(route) < 2:
            self.wait_until = self.t + 30.0
            return
        self.route, self.ri = route, 1
        self._start_edge()

    def _at_destination(self) -> None:
        t = self.t
        if self.node == self.base and not self._working(t):
            self.status = "parked"
            self.wait_until = next_shift(t, self.windows)
            return
        if self.subtype == "muck_truck":
            if self.phase_name == "to_site":
                self.phase_name, self.status = "loading", "loading"
                self.wait_until = t + self.rng.uniform(10, 25) * 60
            elif self.phase_name == "to_dump":
                self.phase_name, self.status = "unloading", "unloading"
                self.wait_until = t + self.rng.uniform(6, 15) * 60
            else:
                self.status = "stopped"
                self.wait_until = t + self.rng.uniform(20, 90)
            return
        self.status = "working"
        if self.subtype == "enforcement":
            stay = self.rng.uniform(3, 15) if self.rng.random() < 0.6 else self.rng.uniform(0.5, 1.5)
        else:
            stay = self.rng.uniform(1, 4)  # emptying bins, sweeping a corner
        self.wait_until = t + stay * 60

    def _next_job(self) -> None:
        t = self.t
        if not self._working(t):
            if self.node == self.base:
                self.status = "parked"
                self.wait_until = next_shift(t, self.windows)
            else:
                self.phase_name, self.speeding = "idle", False
                self._drive_to(self.base)
            return
        if self.subtype == "muck_truck" and self.site is not None and self.dump is not None:
            if self.phase_name == "loading":
                self.phase_name = "to_dump"
                self.speeding = self.rng.random() < 0.08  # a hurried, loaded trip
                self._drive_to(self.dump)
            else:
                self.phase_name, self.speeding = "to_site", False
                self._drive_to(self.site)
            return
        bx, by = self.net.xy[self.base]
        hop = 1200.0 if self.subtype == "sanitation" else self.area_radius
        x, y = self.net.xy[self.node]
        near = [n for n in self.net.nodes_near(x, y, hop)
                if math.dist(self.net.xy[n], (bx, by)) <= self.area_radius and n != self.node]
        if not near:
            self._drive_to(self.base)
            return
        self._drive_to(self.rng.choice(near))

    # --- misbehaviour (feeds/simulator/misbehaviour.py) -------------------------------------------
    # An episode begins at its time when the vehicle stands (whatever it waited for, it stops
    # waiting), or at the first junction it reaches after that time when it drives. Its trip is
    # then planned with the episode (``_misroute``) and the episode ends at the node it marks.
    def _racing(self) -> bool:
        ep = self.episodes[0] if self.episodes else None
        return ep is not None and ep.begun and ep.kind == "speed"

    def _working(self, t: float) -> bool:
        """On shift, or taken out of its yard by an episode (a trip nobody permitted)."""
        if on_shift(t, self.windows):
            return True
        ep = self.episodes[0] if self.episodes else None
        return ep is not None and ep.begun and ep.forced

    def _finish(self) -> None:
        self.episodes.pop(0).done = True

    def _begin_standing(self) -> None:
        ep = self.episodes[0]
        if not ep.begun and ep.at <= self.t:
            ep.begun = True
            self.wait_until = self.t  # loading, parked or pausing: it leaves now

    def _episode_at_node(self) -> bool:
        """At a junction: True when the episode set the vehicle going (or waiting) itself."""
        ep = self.episodes[0]
        if not ep.begun:
            if ep.at > self.t:
                return False
            ep.begun = True
        more = self.ri < len(self.route)
        if not ep.placed:
            if not more:
                ep.replanned = False  # the trip ends here: the next one carries the episode
                return False
            if ep.replanned:
                return False  # this trip could not carry it (a stop needs room on both sides)
            ep.replanned = True
            target = self.route[-1]
            self.route, self.ri, self.edge_len = (), 0, 0.0
            self._drive_to(target)  # the rest of the trip, planned with the episode
            return True
        if self.ri - 1 == ep.mark:
            if ep.kind == "stop":  # stands on the road, engine off: a dump, or waiting for a buyer
                self._finish()
                self._start_edge()
                self.wait_until, self.status = self.t + ep.dwell_s, "stopped"
                return True
            if ep.kind == "detour" and more:  # a pause in the forbidden block, then on to where it was going
                self._start_edge()
                self.wait_until, self.status = self.t + ep.dwell_s, "stopped"
                return True
        if not more and ep.kind == "detour":
            self._finish()
        elif ep.kind == "speed" and (ep.raced_m >= ep.run_m or self.t >= ep.at + ep.max_s):
            self._finish()  # the run is over; the trip goes on as usual
        return False

    def _misroute(self, ep: Episode, route: tuple[int, ...], target: int) -> tuple[int, ...]:
        """The trip to ``target`` as the episode drives it; ``ep.mark`` is its node's index."""
        if ep.vias:  # the nearest of the places it may go through
            here = self.net.xy[self.node]
            ep.via = min(ep.vias, key=lambda n: (math.dist(self.net.xy[n], here), n))
        if ep.kind in ("detour", "speed") and ep.via is not None and ep.via not in (self.node, target):
            first = self.net.route(self.node, ep.via)
            ep.placed, ep.mark = True, len(first) - 1
            return first + self.net.route(ep.via, target)[1:]
        if ep.kind == "speed":
            ep.placed = True  # fast from here, trip after trip, until its run is done
            return route
        if ep.kind == "stop":
            along = [0.0]
            for a, b in zip(route, route[1:], strict=False):
                along.append(along[-1] + math.dist(self.net.xy[a], self.net.xy[b]))
            total = along[-1]
            spots = [i for i in range(1, len(route) - 1)
                     if min(along[i], total - along[i]) >= ep.margin_m and ep.can_stop(route[i])]
            if spots:  # the first a few hundred metres on
                ep.placed, ep.mark = True, spots[0]
        return route
