"""Cases of the demo city: who reports what, where and when, and each case's whole lifecycle.

Everything is planned from the seed one local hour at a time (``births``), and each case's
lifecycle is planned in full the moment it is born (``plan``): report, verification, 立案,
dispatch, disposal, 核查, 结案 with their delays, returns, extensions, suspensions and rework.
So the case history is a pure function of (seed, configuration, hour): the 30-day backfill
and the live feed are the same plan read at different times, ids are stable across restarts,
and a restart only needs to know up to when it had published.

Delays follow docs/domain.md §5: the supervision center works around the clock (受理/立案/派遣 in
natural minutes), collectors verify and check during duty, departments dispose in working time
unless the case is urgent (natural time). How long a disposal takes is a share of its limit drawn
per department (departments.py). The limits, the urgent flags and the working calendar are the
casework domain's ``Rules`` (dashboard.casework.timelimits), the same the wall sets deadlines by,
so a case planned late is late on the wall.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from dashboard.casework.timelimits import Basis, Rules, TimeLimit
from feeds.simulator import problem_mix as mix
from feeds.simulator.areas import Cells
from feeds.simulator.clock import DAY_S, DUTY, HOUR_S, local_hour, local_stamp, weekday
from feeds.simulator.departments import Behaviour, behaviour
from feeds.simulator.problem_mix import CaseKind
from feeds.simulator.rand import lognormal, minutes, poisson, weighted

MAX_LIFE_S = 30 * DAY_S  # every case's events fall within this time after its report

# Share of the non-video cases per source, and their hour-of-day profiles (24 values).
SOURCE_SHARE = {
    mix.COLLECTOR: 0.70,
    mix.HOTLINE_12345: 0.16,
    mix.HOTLINE_12319: 0.05,
    mix.LEADER: 0.05,
    mix.IOT: 0.04,
}
_DUTY_PROFILE = tuple(
    {8: 1.0, 9: 1.3, 10: 1.3, 11: 1.0, 14: 1.0, 15: 1.3, 16: 1.2, 17: 0.9}.get(h, 0.0)
    for h in range(24)
)
_HOTLINE_PROFILE = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.5, 1.6, 1.5, 1.3, 1.0, 1.0, 1.4,
                    1.5, 1.4, 1.3, 1.2, 1.3, 1.2, 1.0, 0.7, 0.4)
_WHEN = {  # hour-of-day multipliers for kinds reported mostly at some time
    mix.ANY: (1.0,) * 24,
    mix.DAY: tuple(1.5 if 8 <= h < 18 else 0.4 for h in range(24)),
    mix.EVENING: tuple(3.0 if h >= 18 or h < 1 else 0.4 for h in range(24)),
    mix.NIGHT: tuple(3.0 if h >= 21 or h < 6 else 0.3 for h in range(24)),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红玉兰峰志新海波鹏宇浩凯晨欣怡"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


@dataclass(slots=True)
class Birth:
    """A reported problem: the case fields of its first event and who answers for its grid."""

    case_id: str
    ts: float
    source: str
    kind: CaseKind
    cell: int
    grid_code: str
    x: float
    y: float
    lat: float
    lon: float
    collector: int  # index of a collector answering for the grid (核实, 核查)
    reporter: int | None  # the reporting collector (source collector)
    dept: str
    wrong_dept: str
    limit: TimeLimit  # the disposal limit of the city's table for this kind
    urgent: bool
    address: str
    ticket: str | None = None
    media_url: str | None = None

    def case_fields(self) -> dict[str, Any]:
        k = self.kind
        out: dict[str, Any] = {
            "source": self.source,
            "category": k.category,
            "class_code": k.class_code,
            "small_code": k.small_code,
            "grid_code": self.grid_code,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "department": self.dept,
            "urgent": self.urgent,
            "condition": k.reported_condition,
            "title": k.title,
            "address": self.address,
            "description": f"{self.address}发现{k.title}",
        }
        if self.ticket:
            out["ticket"] = self.ticket
        if self.media_url:
            out["media_url"] = self.media_url
        return out


@dataclass(slots=True)
class PlannedEvent:
    ts: float
    seq: int
    birth: Birth
    action: str
    actor: str
    fields: dict[str, Any] | None = None

    @property
    def event_id(self) -> str:
        return f"{self.birth.case_id}-{self.seq:02d}"

    def payload(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "case_id": self.birth.case_id,
            "action": self.action,
            "ts": round(self.ts, 3),
            "actor": self.actor,
            "case": self.fields or {},
        }


@dataclass(slots=True)
class CasePlan:
    birth: Birth
    events: list[PlannedEvent] = field(default_factory=list)
    # (ts, deadline) each time the disposal deadline is set or moved; None = the clock stopped
    deadlines: list[tuple[float, float | None]] = field(default_factory=list)

    def state_at(self, t: float) -> tuple[str | None, float | None]:
        """(last action, deadline in force) as of time t, for checks."""
        action = None
        for ev in self.events:
            if ev.ts <= t:
                action = ev.action
        deadline = None
        for ts, d in self.deadlines:
            if ts <= t:
                deadline = d
        return action, deadline


@dataclass(frozen=True, slots=True)
class Disposal:
    """A case's disposal limit on the clock the wall counts it on: natural seconds, or working
    seconds of the city's calendar (the basis and the seconds come from ``Rules``)."""

    rules: Rules
    basis: Basis
    seconds: float

    @classmethod
    def of(cls, rules: Rules, limit: TimeLimit, urgent: bool) -> Disposal:
        basis = rules.basis(limit, urgent)
        return cls(rules, basis, rules.seconds(limit, basis))

    @property
    def natural(self) -> bool:
        return self.basis is Basis.NATURAL

    def add(self, t: float, seconds: float) -> float:
        return self.rules.add(t, seconds, self.basis)

    def measure(self, a: float, b: float) -> float:
        return self.rules.measure(a, b, self.basis)


class CasePlanner:
    """Plans births per hour and lifecycles per case; pure (no clock, no I/O)."""

    def __init__(
        self,
        seed: int,
        cells: Cells,
        grid_collectors: dict[int, list[int]],
        collector_cells: list[list[int]],
        collector_ids: list[str],
        districts: list[str],
        addresses: dict[int, str],
        cases_per_day: float,
        video_per_day: float,
        rules: Rules,
        speedup: float = 1.0,
    ) -> None:
        self.seed = seed
        self.rules = rules
        self.calendar = rules.calendar  # the departments' working time
        self.cells = cells
        self.grid_collectors = grid_collectors
        self.collector_cells = collector_cells
        self.collector_ids = collector_ids
        self.districts = districts
        self.addresses = addresses
        self.speedup = max(1e-6, speedup)
        self.non_video_per_day = max(0.0, cases_per_day - video_per_day)
        self.land = [c.idx for c in cells.cells if c.walkable]
        self.water = [c.idx for c in cells.cells if not c.walkable]
        self._duty_mean = sum(_DUTY_PROFILE) / 24.0
        self._hotline_mean = sum(_HOTLINE_PROFILE) / 24.0

    # --- births ------------------------------------------------------------------------------
    def births(self, hour: float, video: list[tuple[float, str, CaseKind, int, str]]) -> list[Birth]:
        """Cases reported in the local hour starting at ``hour``.

        ``video``: (ts, alert_id, kind, cell, snapshot_url) of alerts of this hour that become
        cases. Births are numbered in time order: case id = local YYYYMMDDHH + 4 digits.
        """
        rng = random.Random(f"{self.seed}:births:{int(hour)}")
        h, wd = local_hour(hour), weekday(hour)
        raw: list[tuple[float, str, CaseKind | None, int | None, str | None]] = []
        per_hour = self.non_video_per_day / 24.0
        rates = {
            mix.COLLECTOR: _DUTY_PROFILE[h] / self._duty_mean if self.collector_ids else 0.0,
            mix.HOTLINE_12345: _HOTLINE_PROFILE[h] / self._hotline_mean,
            mix.HOTLINE_12319: _HOTLINE_PROFILE[h] / self._hotline_mean,
            # 领导交办 arrives in office hours on working days
            mix.LEADER: (24 / 8 * 7 / 5) if self.calendar.is_working_instant(hour + 1) and wd < 5 else 0.0,
            mix.IOT: 1.0,
        }
        for source, share in SOURCE_SHARE.items():
            for _ in range(poisson(rng, per_hour * share * rates[source])):
                raw.append((hour + rng.uniform(0, HOUR_S), source, None, None, None))
        for ts, _alert_id, kind, cell, url in video:
            raw.append((ts, mix.VIDEO, kind, cell, url))
        raw.sort(key=lambda r: (r[0], r[1]))
        out = []
        for n, (ts, source, kind, cell, url) in enumerate(raw, start=1):
            case_id = f"{local_stamp(hour)}{n:04d}"
            birth = self._birth(rng, case_id, ts, source, kind, cell, url)
            if birth is not None:
                out.append(birth)
        return out

    def _birth(
        self,
        rng: random.Random,
        case_id: str,
        ts: float,
        source: str,
        kind: CaseKind | None,
        cell: int | None,
        url: str | None,
    ) -> Birth | None:
        reporter = None
        if kind is None:
            kind = self._pick_kind(rng, source, local_hour(ts))
        if source == mix.COLLECTOR:
            reporter = rng.randrange(len(self.collector_ids))
            own = self.collector_cells[reporter]
            pool = [c for c in own if (not self.cells.cells[c].walkable) == kind.water]
            if not pool:  # e.g. 水域不洁 but no water in this area: report something else
                kind = self._pick_kind(rng, source, local_hour(ts), water=False)
                pool = [c for c in own if self.cells.cells[c].walkable] or own
            cell = rng.choice(pool)
        elif cell is None:
            cell = rng.choice(self.water if kind.water and self.water else self.land)
        grid = self.cells.cells[cell]
        x, y = grid.random_point(rng, 0.5 if source == mix.VIDEO else 0.8)
        lon, lat = self.cells.lonlat(x, y)
        district = grid.code[:6]
        dept = f"ZFZD-{district}" if kind.dept == "ZFZD" else kind.dept
        wrong = f"ZFZD-{district}" if kind.wrong_dept == "ZFZD" else kind.wrong_dept
        answering = self.grid_collectors.get(cell) or [reporter or 0]
        limit = self.limit_of(kind)
        # Urgent when the city's table says the limit is (缺失 covers, 突发事件); a fire a camera
        # saw (烟火 → 焚烧) is dispatched as urgent too.
        urgent = limit.urgent or (source == mix.VIDEO and kind.small_code == "0115")
        ticket = None
        if source in (mix.HOTLINE_12345, mix.HOTLINE_12319):
            ticket = f"{source[-5:]}-{case_id}"
        return Birth(
            case_id=case_id, ts=ts, source=source, kind=kind, cell=cell, grid_code=grid.code,
            x=x, y=y, lat=lat, lon=lon, collector=rng.choice(answering), reporter=reporter,
            dept=dept, wrong_dept=wrong, limit=limit, urgent=urgent,
            address=self.addresses.get(cell, ""),
            ticket=ticket, media_url=url,
        )

    def _pick_kind(self, rng: random.Random, source: str, hour: int, water: bool = True) -> CaseKind:
        kinds = [k for k in mix.KINDS if water or not k.water]
        if source == mix.COLLECTOR:
            weights = [k.collector for k in kinds]
        elif source == mix.LEADER:
            weights = [k.leader for k in kinds]
        elif source == mix.IOT:
            weights = [k.iot for k in kinds]
        else:
            weights = [k.public * _WHEN[k.when][hour] for k in kinds]
        return weighted(rng, kinds, weights)

    # --- lifecycle ---------------------------------------------------------------------------
    def plan(self, birth: Birth) -> CasePlan:
        """The whole lifecycle of one case, from its own random stream."""
        rng = random.Random(f"{self.seed}:case:{birth.case_id}")
        return _Lifecycle(self, birth, rng).run()

    def delay(self, seconds: float) -> float:
        return seconds / self.speedup

    def behaviour(self, dept: str) -> Behaviour:
        return behaviour(dept, self.districts)

    def limit_of(self, kind: CaseKind) -> TimeLimit:
        """The kind's disposal limit, looked up as the wall looks it up for the reported case."""
        return self.rules.limits.disposal_limit(
            kind.category, kind.small_code, kind.reported_condition, kind.class_code
        )


class _Lifecycle:
    """One case's plan being written; each step appends an event at a time after the last."""

    def __init__(self, planner: CasePlanner, birth: Birth, rng: random.Random) -> None:
        self.p, self.b, self.rng = planner, birth, rng
        self.plan = CasePlan(birth)
        self.t = birth.ts
        self.cap = birth.ts + MAX_LIFE_S - DAY_S  # keep every event inside MAX_LIFE_S
        self.collector = planner.collector_ids[birth.collector] if planner.collector_ids else "C0000"
        self.operators = {  # the center's staff on duty: 受理员, 值班长, 派遣员
            "accept": f"SL-{rng.randint(1, 6):02d}",
            "chief": f"ZB-{rng.randint(1, 3):02d}",
            "dispatch": f"PQ-{rng.randint(1, 4):02d}",
        }

    def emit(self, action: str, ts: float, actor: str, fields: dict[str, Any] | None = None) -> None:
        ts = max(ts, self.t + 1.0)  # strictly after the previous event of this case
        self.t = ts
        self.plan.events.append(PlannedEvent(ts, len(self.plan.events) + 1, self.b, action,
                                             actor, fields))

    def center(self, lo: float, hi: float) -> float:
        """After a delay of the 24-hour supervision center (a bit slower at night)."""
        night = 1.6 if local_hour(self.t) < 7 or local_hour(self.t) >= 22 else 1.0
        return self.t + self.p.delay(minutes(self.rng, lo, hi) * night)

    def duty(self, lo: float, hi: float) -> float:
        """After a delay counted in the collectors' duty time."""
        return DUTY.add(self.t, self.p.delay(minutes(self.rng, lo, hi)))

    def run(self) -> CasePlan:
        b, rng = self.b, self.rng
        reporter = self.p.collector_ids[b.reporter] if b.reporter is not None else None
        actor = reporter or {
            mix.HOTLINE_12345: "public:12345", mix.HOTLINE_12319: "public:12319",
            mix.VIDEO: "ai:video", mix.LEADER: "leader", mix.IOT: "iot:sensor",
        }.get(b.source, b.source)
        self.emit("report", b.ts, actor, b.case_fields())
        if b.source == mix.COLLECTOR:
            if b.kind.self_disposable and rng.random() < 0.25:
                self.emit("self_dispose", self.duty(3, 12), reporter or self.collector)
                return self.plan
            if rng.random() < 0.03:  # a duplicate of a case already open
                self.emit("void", self.center(1, 8), self.operators["accept"])
                return self.plan
            self.emit("accept", self.center(1, 8), self.operators["accept"])
        elif b.source in (mix.HOTLINE_12345, mix.HOTLINE_12319, mix.VIDEO):
            # Public and AI reports: the 受理员 screens them (false AI hits, duplicate calls),
            # then a collector verifies on site; a confirmed report is accepted (lifecycle.py).
            if rng.random() < (0.20 if b.source == mix.VIDEO else 0.08):
                self.emit("void", self.center(1, 10), self.operators["accept"])
                return self.plan
            self.emit("verify_request", self.center(1, 8), self.operators["accept"])
            self.emit("verify", self.duty(10, 70), self.collector)
        else:
            self.emit("accept", self.center(1, 6), self.operators["accept"])
        if rng.random() < 0.04:  # does not meet the 立案条件
            self.emit("not_file", self.center(3, 20), self.operators["chief"])
            return self.plan
        quick = (1, 6) if b.urgent else (3, 25)
        self.emit("file", self.center(*quick), self.operators["chief"])
        self._dispose(quick)
        return self.plan

    def _dispose(self, quick: tuple[float, float]) -> None:
        b, rng = self.b, self.rng
        beh = self.p.behaviour(b.dept)
        if rng.random() < beh.p_return and b.wrong_dept != b.dept:
            # Wrongly dispatched: the other unit signs or not, then sends it back (回退).
            self.emit("dispatch", self.center(*quick), self.operators["dispatch"],
                      {"department": b.wrong_dept})
            self._deadline(None)
            if rng.random() < 0.5:
                self.emit("sign", self._work(5, 60), b.wrong_dept)
            self.emit("return", self._work(15, 120), b.wrong_dept)
            self._deadline(None)
        self.emit("dispatch", self.center(*quick), self.operators["dispatch"],
                  {"department": b.dept})
        dispatched = self.t
        limit = Disposal.of(self.p.rules, b.limit, b.urgent)
        workday = self.p.calendar.workday_seconds  # one 工作日 in working seconds
        deadline = limit.add(dispatched, limit.seconds)
        self._deadline(deadline)
        sign_lo, sign_hi = (3, 15) if limit.natural else beh.sign_min
        self.emit("sign", self._on(limit, sign_lo, sign_hi), b.dept)
        # The work needed, in the limit's own clock (speedup shortens it).
        work = self.p.delay(limit.seconds * lognormal(rng, beh.pace, beh.sigma, 0.05, 6.0))
        used = limit.measure(dispatched, self.t)
        total_limit = limit.seconds
        if limit.seconds >= workday and rng.random() < beh.p_extend:
            at = max(self.t + 60, limit.add(dispatched, 0.6 * total_limit / self.p.speedup))
            if at < deadline:
                if limit.natural:
                    extra = 0.5 * total_limit
                else:  # whole working days, at least one
                    extra = max(workday, round(0.5 * total_limit / workday) * workday)
                deadline = limit.add(deadline, extra)
                self.emit("extend", at, self.operators["chief"], {"deadline": round(deadline)})
                self._deadline(deadline)
                # Having asked for time, the department mostly finishes within it.
                work = min(work, limit.measure(dispatched, deadline) * rng.uniform(0.6, 1.05))
        if b.kind.suspendable and rng.random() < beh.p_suspend:
            at = max(self.t + 60, limit.add(dispatched, max(used, 0.4 * work)))
            self.emit("suspend", at, self.operators["chief"])
            self._deadline(None)
            pause = self.p.delay(self.rng.uniform(2, 10) * workday)
            resume = min(self.cap - 2 * DAY_S, self.p.calendar.add_working(self.t, pause))
            done_before = limit.measure(dispatched, at)
            self.emit("resume", resume, b.dept)
            deadline = limit.add(deadline, limit.measure(at, self.t))
            self._deadline(deadline)
            finish = limit.add(self.t, max(60.0, work - done_before))
        else:
            finish = limit.add(dispatched, work)
        self.emit("feedback", min(self.cap - DAY_S, max(finish, self.t + 60)), b.dept)
        reworks = 0
        while reworks < 2 and rng.random() < (beh.p_rework if reworks == 0 else 0.15):
            self.emit("check_fail", self._check_time(), self.collector)
            reworks += 1
            redo = (0.5, 2) if limit.natural else (0.5, 6)
            self.emit("feedback", min(self.cap, limit.add(self.t, self.p.delay(
                rng.uniform(*redo) * HOUR_S))), b.dept)
        self.emit("check_pass", self._check_time(), self.collector)
        self.emit("close", self.center(3, 30), self.operators["chief"])

    def _check_time(self) -> float:
        # 核查 within one duty hour mostly; sometimes the collector is late.
        if self.rng.random() < 0.1:
            return self.duty(60, 180)
        return self.duty(10, 70)

    def _work(self, lo: float, hi: float) -> float:
        if self.b.urgent:
            return self.t + self.p.delay(minutes(self.rng, lo / 3, hi / 3))
        return self.p.calendar.add_working(self.t, self.p.delay(minutes(self.rng, lo, hi)))

    def _on(self, limit: Disposal, lo: float, hi: float) -> float:
        return limit.add(self.t, self.p.delay(minutes(self.rng, lo, hi)))

    def _deadline(self, deadline: float | None) -> None:
        self.plan.deadlines.append((self.t, deadline))


def hour_floor(t: float) -> float:
    return math.floor(t / HOUR_S) * HOUR_S
