"""Supervision rules: what a vehicle or a collector did that somebody must look at
(docs/supervision.md). Pure: no I/O, ``now`` and every fix's facts are parameters.

Every rule is one *condition* per device and key (a zone's id, a route's id, "" for the rest)
that an alarm follows:

- it **starts** once the condition has held, fix after fix, for longer than the rule's minimum
  (``over``: strictly longer, as "over the limit for longer than 10 s" reads), and starts at
  the fix where the condition began, so its duration is the whole episode;
- it **ends** at the first fix where the condition no longer holds, with its duration;
- a **gap** in fixes longer than ``gap_s`` restarts a pending condition (nobody knows it held
  in between), but an alarm already raised stays raised until a fix clears it;
- a fix **older** than the newest one seen changes nothing (fixes out of order, a late
  replay of a buffer): the rules follow the device's time, never back;
- **hysteresis** keeps an alarm from flapping at an edge: a zone is left only beyond
  ``edge_m`` outside it, a route rejoined only ``edge_m`` inside its corridor, a speed
  alarm ends only ``speed_hysteresis_kmh`` under the limit.

The caller (feeds/steps/watch.py) asks the geometry (dashboard/geofences.py) for a fix's
``Facts`` and keeps each device's ``WatchState`` in Redis between fixes, so that any ingest
worker can take the next fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# The rules, by the name the alarm carries (SQL alert.rule, the counts, the config's sections).
OVERSPEED = "overspeed"
ZONE = "zone"  # in a forbidden zone (in its hours)
ROUTE = "route"  # off an assigned route's corridor
STOP = "stop"  # a muck truck stopped outside its approved sites: a possible illegal dump (偷倒)
OFFLINE = "offline"  # no fix for too long while on duty
DEVICE_ALARM = "device_alarm"  # a device's own alarm (sos, power cut), said by its platform
OUT_OF_AREA = "out_of_area"  # a collector outside its assigned grids while on duty
IDLE = "idle"  # a collector still for too long while on duty
RULES: tuple[str, ...] = (OVERSPEED, ZONE, ROUTE, STOP, OFFLINE, DEVICE_ALARM, OUT_OF_AREA, IDLE)

# What the wall's ticker and the desk show as the alarm's type (Alert.type), as a video alert's
# type is shown: the Chinese name the city's staff use (JT/T 808's alarm names where it has one).
RULE_TYPES: Mapping[str, str] = {
    OVERSPEED: "超速",
    ZONE: "进入禁行区域",
    ROUTE: "路线偏离",
    STOP: "超时停车(疑似偷倒)",
    OFFLINE: "离线",
    DEVICE_ALARM: "设备报警",
    OUT_OF_AREA: "离开责任网格",
    IDLE: "长时间静止",
}

# How loud: "critical" rings on the wall (a possible illegal dump, a device's sos); "alert" the rest.
RULE_SEVERITY: Mapping[str, str] = {
    OVERSPEED: "alert", ZONE: "alert", ROUTE: "alert", STOP: "critical", OFFLINE: "alert", DEVICE_ALARM: "critical",
    OUT_OF_AREA: "alert", IDLE: "alert",
}

Phase = Literal["start", "end", "once"]


@dataclass(frozen=True, slots=True)
class Limits:
    """One vehicle type's thresholds (docs/supervision.md lists the defaults, [D])."""

    speed_limit_kmh: float = 60.0
    overspeed_min_s: float = 10.0
    speed_hysteresis_kmh: float = 3.0
    route_buffer_m: float = 50.0
    deviation_min_s: float = 120.0
    stop_speed_kmh: float = 3.0  # slower than this, and within stop_radius_m: stopped
    stop_radius_m: float = 30.0
    max_stop_outside_site_s: float = 600.0
    watch_stops: bool = False  # only the trucks that can dump (muck trucks) are watched for stops
    offline_after_s: float = 300.0
    edge_m: float = 20.0  # hysteresis at a zone's edge and a corridor's
    gap_s: float = 300.0  # fixes further apart than this: a pending condition starts again


@dataclass(frozen=True, slots=True)
class CollectorLimits:
    """The collectors' thresholds (docs/supervision.md "Collectors", [D])."""

    out_of_area_s: float = 600.0
    idle_s: float = 1200.0
    idle_radius_m: float = 30.0
    # Still within this of the place of a task sent to it (核实/核查) is working, not idle; a sent
    # task's place counts for task_place_s after it was sent.
    task_radius_m: float = 50.0
    task_place_s: float = 7200.0
    offline_after_s: float = 300.0
    gap_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Duty:
    """What one collector fix adds to its day (the 在岗率, the distance walked): the seconds
    since its previous fix on duty inside its area, and the metres from it. Nothing across a gap."""

    in_area_s: float = 0.0
    metres: float = 0.0


@dataclass(frozen=True, slots=True)
class Facts:
    """What the geometry says of one fix (dashboard/geofences.py ``facts``)."""

    forbidden: frozenset[str] = frozenset()  # forbidden zones (in their hours) the fix is inside
    forbidden_near: frozenset[str] = frozenset()  # ... or within edge_m outside of
    speed_limit_kmh: float | None = None  # a zone's own limit here (the lowest), else the type's
    route_m: Mapping[str, float] = field(default_factory=dict)  # assigned route id -> metres outside its corridor
    at_site: bool = False  # inside an approved site, dump or depot (stops there are the job)


@dataclass(frozen=True, slots=True)
class Change:
    """An alarm starts, ends or happens (once) on a device."""

    rule: str
    key: str
    phase: Phase
    start: float  # when the condition began (an end carries its alarm's start)
    at: float  # the fix's time that decided it
    lat: float
    lon: float
    detail: str = ""

    @property
    def duration_s(self) -> float:
        return max(0.0, self.at - self.start)


@dataclass(slots=True)
class WatchState:
    """One device's watch between fixes: kept in Redis as ``to_json``'s document."""

    ts: float = -math.inf  # the newest fix's time
    lat: float = 0.0
    lon: float = 0.0
    pending: dict[str, float] = field(default_factory=dict)  # "rule|key" -> since (condition holds)
    open: dict[str, float] = field(default_factory=dict)  # "rule|key" -> the raised alarm's start
    still: tuple[float, float, float] | None = None  # (since, lat, lon): where it stopped

    def to_json(self) -> dict[str, Any]:
        return {"ts": None if self.ts == -math.inf else self.ts, "lat": self.lat, "lon": self.lon, "pending": self.pending, "open": self.open,
                "still": list(self.still) if self.still else None}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> WatchState:
        if not doc:
            return cls()
        still = doc.get("still")
        ts = doc.get("ts")
        return cls(ts=-math.inf if ts is None else float(ts), lat=float(doc.get("lat", 0.0)), lon=float(doc.get("lon", 0.0)),
                   pending={str(k): float(v) for k, v in (doc.get("pending") or {}).items()},
                   open={str(k): float(v) for k, v in (doc.get("open") or {}).items()},
                   still=(float(still[0]), float(still[1]), float(still[2])) if still else None)


def slot(rule: str, key: str = "") -> str:
    return f"{rule}|{key}"


def unslot(s: str) -> tuple[str, str]:
    rule, _, key = s.partition("|")
    return rule, key


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Ground distance for the few tens of metres a stop moves (equirectangular: exact enough there)."""
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon2 - lon1) * k, lat2 - lat1) * 111_195.0


def _hold(state: WatchState, s: str, on: bool, ts: float, lat: float, lon: float, min_s: float, gap: bool,
          out: list[Change], detail: str = "") -> None:
    """The one condition machine every rule runs on (the module's docstring)."""
    if on:
        since = state.pending.get(s)
        if since is None or (gap and s not in state.open):
            since = state.pending[s] = ts
        if s not in state.open and ts - since > min_s:
            state.open[s] = since
            rule, key = unslot(s)
            out.append(Change(rule, key, "start", since, ts, lat, lon, detail))
        return
    state.pending.pop(s, None)
    start = state.open.pop(s, None)
    if start is not None:
        rule, key = unslot(s)
        out.append(Change(rule, key, "end", start, ts, lat, lon, detail))


# The rules' own slots, spelled once (slot(rule) of a rule without keys).
_S_OFFLINE, _S_OVERSPEED, _S_ROUTE = f"{OFFLINE}|", f"{OVERSPEED}|", f"{ROUTE}|"
_ZONE_PREFIX = f"{ZONE}|"


def observe(state: WatchState, ts: float, lat: float, lon: float, speed_kmh: float | None, facts: Facts,
            limits: Limits) -> list[Change]:
    """One fix of a vehicle: the alarms it starts and ends. ``state`` is updated in place."""
    if not ts > state.ts:
        return []  # out of order or a repeat: the device's time never runs back
    gap = ts - state.ts > limits.gap_s
    out: list[Change] = []
    # Back on the air: a fix ends an offline alarm (raised by ``silent`` between fixes).
    pending, opened = state.pending, state.open
    if _S_OFFLINE in opened:
        _hold(state, _S_OFFLINE, False, ts, lat, lon, 0.0, gap, out)
    # (Each rule below runs the machine only when its condition holds or was holding: most
    # fixes of most vehicles meet none, and a fix costs a few dict lookups then.)

    # Overspeed: a fix without a speed says nothing either way; the limit is the zone's if lower.
    if speed_kmh is not None:
        limit = facts.speed_limit_kmh if facts.speed_limit_kmh is not None else limits.speed_limit_kmh
        s = _S_OVERSPEED
        over = speed_kmh > limit or (s in opened and speed_kmh > limit - limits.speed_hysteresis_kmh)
        if over or s in pending or s in opened:
            _hold(state, s, over, ts, lat, lon, limits.overspeed_min_s, gap, out,
                  f"{speed_kmh:.0f}/{limit:.0f} km/h")

    # Forbidden zones: in one (in its hours) is an alarm at once; leaving means beyond its edge.
    if facts.forbidden or pending or opened:
        zones = set(facts.forbidden)
        zones.update(z for z in facts.forbidden_near if _ZONE_PREFIX + z in opened)
        for s in [s for s in (*pending, *opened) if s.startswith(_ZONE_PREFIX)]:
            if s[len(_ZONE_PREFIX):] not in zones:
                _hold(state, s, False, ts, lat, lon, 0.0, gap, out)
        for z in sorted(zones):
            _hold(state, _ZONE_PREFIX + z, True, ts, lat, lon, -1.0, gap, out, z)

    # Route deviation: off every assigned route's corridor (a truck with two approved routes
    # may take either); back inside edge_m within one ends it.
    if facts.route_m:
        s = _S_ROUTE
        off = min(facts.route_m.values())
        deviating = off > (-limits.edge_m if s in opened else 0.0)
        if deviating or s in pending or s in opened:
            _hold(state, s, deviating, ts, lat, lon, limits.deviation_min_s, gap, out, f"{off:.0f} m")
    elif _S_ROUTE in pending or _S_ROUTE in opened:
        _hold(state, _S_ROUTE, False, ts, lat, lon, 0.0, gap, out)

    # A stop outside the approved sites (muck trucks): slow and within a few metres of where it stopped.
    if limits.watch_stops:
        _stop(state, ts, lat, lon, speed_kmh, facts, limits, gap, out)

    state.ts, state.lat, state.lon = ts, lat, lon
    return out


def observe_collector(state: WatchState, ts: float, lat: float, lon: float, on_duty: bool, in_area: bool | None,
                      limits: CollectorLimits, at_task: bool = False) -> tuple[list[Change], Duty]:
    """One fix of a collector: the alarms it starts and ends, and what it adds to the day.
    ``on_duty``: by the collector's schedule (and not signed off); ``in_area``: inside its
    assigned grids (None: no grids assigned, or the fix is in no grid: not judged); ``at_task``:
    at the place of a task sent to it (``at_task_place``), where standing still is the work."""
    if not ts > state.ts:
        return [], Duty()
    gap = ts - state.ts > limits.gap_s
    out: list[Change] = []
    if slot(OFFLINE) in state.open:
        _hold(state, slot(OFFLINE), False, ts, lat, lon, 0.0, gap, out)
    was_on = "on|" in state.pending  # the previous fix was on duty
    was_at_task = "task|" in state.pending  # the previous fix was at a task's place
    duty = Duty()
    if state.ts != -math.inf and not gap:
        # The stretch since the previous fix counts as that fix was (on duty, in its area).
        duty = Duty(ts - state.ts if "area|" in state.pending else 0.0, metres(state.lat, state.lon, lat, lon))
    for mark, yes in (("on|", on_duty), ("area|", on_duty and in_area is not False), ("task|", at_task)):
        if yes:  # since when (kept, not moved on each fix: the state changes only when this does)
            state.pending.setdefault(mark, ts)
        else:
            state.pending.pop(mark, None)
    _hold(state, slot(OUT_OF_AREA), on_duty and in_area is False, ts, lat, lon, limits.out_of_area_s, gap, out)
    # Still: within idle_radius_m of where it stopped (a walker's GPS wanders a few metres).
    still = state.still
    moved = still is None or gap or metres(still[1], still[2], lat, lon) > limits.idle_radius_m
    if moved:
        state.still = still = (ts, lat, lon)
    s = slot(IDLE)
    idle = on_duty and not moved and not at_task
    if idle and s not in state.pending:
        # Still since it stopped, counted from when its duty began if that was later (lunch), or
        # from when the task's place stopped counting if that was later.
        state.pending[s] = still[0] if was_on and not was_at_task else ts
    _hold(state, s, idle, ts, still[1], still[2], limits.idle_s, False, out)
    state.ts, state.lat, state.lon = ts, lat, lon
    return out, duty


def at_task_place(places: Iterable[tuple[float, float, float]], ts: float, lat: float, lon: float,
                  limits: CollectorLimits) -> bool:
    """Within ``task_radius_m`` of a place a task sent it to, while that place counts: ``places``
    are (lat, lon, sent at)."""
    return any(sent <= ts < sent + limits.task_place_s and metres(plat, plon, lat, lon) <= limits.task_radius_m
               for plat, plon, sent in places)


def _stop(state: WatchState, ts: float, lat: float, lon: float, speed_kmh: float | None, facts: Facts,
          limits: Limits, gap: bool, out: list[Change]) -> None:
    slow = speed_kmh is None or speed_kmh < limits.stop_speed_kmh
    still = state.still
    if slow and still is not None and metres(still[1], still[2], lat, lon) <= limits.stop_radius_m:
        pass  # still where it stopped
    elif slow:
        state.still = still = (ts, lat, lon)  # stopped here (or moved on and stopped again)
    else:
        state.still = still = None
    s = slot(STOP)
    stopped = still is not None and not facts.at_site
    if stopped and s not in state.open and still is not None:
        state.pending[s] = still[0]  # the stop's own start, across fixes and gaps alike
    _hold(state, s, stopped, ts, still[1] if still else lat, still[2] if still else lon,
          limits.max_stop_outside_site_s, False, out)


def silent(state: WatchState, now: float, on_duty: bool, offline_after_s: float) -> list[Change]:
    """Between fixes: a device on duty that has sent nothing for longer than offline_after_s is
    off the air, from its last fix on. Off duty (parked at the depot after hours, a collector
    signed off) it is not."""
    s = slot(OFFLINE)
    if s in state.open or state.ts == -math.inf:
        return []
    if on_duty and now - state.ts > offline_after_s:
        state.open[s] = state.ts
        return [Change(OFFLINE, "", "start", state.ts, now, state.lat, state.lon)]
    return []


def said(state: WatchState, rule: str, key: str, phase: Phase, ts: float, lat: float | None, lon: float | None,
         detail: str = "") -> list[Change]:
    """A device's platform said an alarm started, ended or happened (Traccar's events): the same
    lifecycle as the rules' own, so a repeated start or an end without a start changes nothing."""
    s = slot(rule, key)
    at_lat = state.lat if lat is None else lat
    at_lon = state.lon if lon is None else lon
    if phase == "once":
        return [Change(rule, key, "once", ts, ts, at_lat, at_lon, detail)]
    if phase == "start":
        if s in state.open:
            return []
        state.open[s] = ts
        return [Change(rule, key, "start", ts, ts, at_lat, at_lon, detail)]
    start = state.open.pop(s, None)
    return [] if start is None else [Change(rule, key, "end", start, ts, at_lat, at_lon, detail)]


def in_hours(hours: Iterable[tuple[int, int]], minute_of_day: int) -> bool:
    """Whether a local minute of the day falls in any (from, to) window, in minutes; a window
    whose end is before its start runs past midnight (22:00-06:00)."""
    return any((a <= minute_of_day < b) if a <= b else (minute_of_day >= a or minute_of_day < b) for a, b in hours)
