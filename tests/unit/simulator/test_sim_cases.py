"""Simulated cases: legal lifecycles (docs/domain.md §4), full fields, unique and reproducible ids,
a backfill that spans the asked days and leaves open and overdue cases, departments that differ."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import pytest
from sim_support import MONDAY_9, city, local

from dashboard import casedata
from dashboard.casework import lifecycle
from dashboard.casework.workcalendar import WorkCalendar
from dashboard.city.planar import point_in_ring
from dashboard.records import CaseEvent
from feeds.simulator.case_plans import MAX_LIFE_S, CasePlan
from feeds.simulator.clock import DAY_S
from feeds.simulator.problem_mix import KINDS
from feeds.simulator.world import SimConfig, World

# The allowed transitions, written from docs/domain.md §4 (not from the implementation).
# 核实 (verify) sends a public/AI report "back" to the 受理 queue as accepted, which is how
# dashboard/casework/lifecycle.py reads the row; 受理 after 核实 would be a second acceptance.
ALLOWED: dict[str | None, dict[str, str]] = {
    None: {"report": "reported"},
    "reported": {"accept": "accepted", "verify_request": "verifying", "void": "void",
                 "self_dispose": "closed"},
    "verifying": {"verify": "accepted"},
    "accepted": {"file": "filed", "not_file": "not_filed", "void": "void"},
    "filed": {"dispatch": "dispatched"},
    "dispatched": {"sign": "in_disposal", "return": "filed"},
    "in_disposal": {"return": "filed", "extend": "in_disposal", "suspend": "suspended",
                    "feedback": "await_check"},
    "suspended": {"resume": "in_disposal"},
    "await_check": {"check_pass": "await_close", "check_fail": "in_disposal"},
    "await_close": {"close": "closed"},
}
TERMINAL = {"closed", "void", "not_filed"}
SOURCES = {"collector", "hotline_12345", "hotline_12319", "video", "leader", "iot"}
REPORT_FIELDS = {"source", "category", "class_code", "small_code", "grid_code", "lat", "lon",
                 "department", "urgent", "condition", "title"}
DAYS = 5
CFG = SimConfig(collectors=80, vehicles=10, backfill_days=DAYS)


@pytest.fixture(scope="module")
def world() -> World:
    return World(city(), CFG, MONDAY_9, keep_plans=True)


@pytest.fixture(scope="module")
def plans(world: World) -> list[CasePlan]:
    return list(world.plans.values())


def state_after(plan: CasePlan, t: float) -> str | None:
    state = None
    for ev in plan.events:
        if ev.ts <= t:
            state = ALLOWED[state][ev.action]
    return state


def test_every_case_is_a_legal_path(plans: list[CasePlan]) -> None:
    assert len(plans) > 1500
    ends = Counter()
    for plan in plans:
        state = None
        for ev in plan.events:
            assert ev.action in ALLOWED[state], (plan.birth.case_id, state, ev.action)
            state = ALLOWED[state][ev.action]
        ends[state] += 1
        assert state in TERMINAL  # planned to the end: nothing stays open for ever
        times = [ev.ts for ev in plan.events]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert times[-1] - times[0] < MAX_LIFE_S
    assert ends["closed"] > 0.8 * len(plans) and ends["void"] > 0 and ends["not_filed"] > 0


def test_the_flows_the_domain_describes_all_occur(plans: list[CasePlan]) -> None:
    actions = Counter(ev.action for p in plans for ev in p.events)
    for action in ("self_dispose", "return", "extend", "suspend", "resume", "check_fail", "void",
                   "not_file", "verify_request", "verify"):
        assert actions[action] > 0, action
    for plan in plans:
        seq = [ev.action for ev in plan.events]
        source = plan.birth.source
        if source in ("hotline_12345", "hotline_12319", "video") and "file" in seq:
            assert seq[1:3] == ["verify_request", "verify"] and "accept" not in seq
        if "self_dispose" in seq:
            assert source == "collector" and seq == ["report", "self_dispose"]
        if "return" in seq:  # re-dispatched to another department
            depts = [ev.fields["department"] for ev in plan.events if ev.action == "dispatch"]
            assert len(depts) == 2 and depts[0] != depts[1]


def test_events_carry_the_case_fields(world: World, plans: list[CasePlan]) -> None:
    dept_codes = {d.code for d in world.city.departments}
    rings = dict(world.city.grids)
    ids = [ev.event_id for p in plans for ev in p.events]
    assert len(ids) == len(set(ids))
    assert len({p.birth.case_id for p in plans}) == len(plans)
    for plan in plans:
        first = plan.events[0].payload()
        assert first["action"] == "report" and set(first["case"]) >= REPORT_FIELDS
        case = first["case"]
        assert case["source"] in SOURCES and case["category"] in ("component", "event")
        assert len(case["small_code"]) == 4 and case["class_code"] == case["small_code"][:2]
        assert case["grid_code"] in rings and case["department"] in dept_codes
        assert point_in_ring(case["lon"], case["lat"], rings[case["grid_code"]])
        assert isinstance(case["urgent"], bool) and case["title"] and case["condition"]
        if case["source"].startswith("hotline"):
            assert case["ticket"].startswith(case["source"][-5:])
        for ev in plan.events[1:]:
            p = ev.payload()
            assert p["event_id"] == f"{p['case_id']}-{ev.seq:02d}" and p["actor"]
            if ev.action == "dispatch":
                assert p["case"]["department"] in dept_codes
            if ev.action == "extend":
                assert p["case"]["deadline"] > p["ts"]
            if ev.action not in ("dispatch", "extend"):
                assert p["case"] == {}


def test_backfill_spans_the_days_asked_for(world: World, plans: list[CasePlan]) -> None:
    born = [p.birth.ts for p in plans if p.birth.ts <= MONDAY_9]
    assert min(born) >= MONDAY_9 - DAYS * DAY_S
    assert min(born) < MONDAY_9 - DAYS * DAY_S + 3 * 3600
    per_day = Counter(int((t - (MONDAY_9 - DAYS * DAY_S)) // DAY_S) for t in born)
    assert sorted(per_day) == list(range(DAYS))
    for n in per_day.values():  # --cases-per-day 400
        assert 280 <= n <= 520
    events = world.pop_case_events(MONDAY_9, 10**9)
    assert events and all(m.ts <= MONDAY_9 for m in events)
    assert [m.ts for m in events] == sorted(m.ts for m in events)
    assert {m.payload["case"]["source"] for m in events if m.payload["action"] == "report"} == SOURCES


def _open_overdue_and_near(plans: list[CasePlan], t: float, calendar: WorkCalendar) -> tuple[int, int]:
    overdue = near = 0
    for plan in plans:
        if plan.birth.ts > t or state_after(plan, t) not in ("dispatched", "in_disposal"):
            continue
        _, deadline = plan.state_at(t)
        if deadline is None:
            continue
        if deadline < t:
            overdue += 1
        elif deadline - t <= 2 * 3600 or calendar.working_seconds(t, deadline) <= 3600:
            near += 1  # 即将超期: at most one working hour (or two natural hours) left
    return overdue, near


@pytest.mark.parametrize("day, hour", [(-1, 3), (-1, 12), (-1, 21), (-2, 9), (-3, 16), (0, 9)])
def test_open_overdue_and_nearly_overdue_cases_exist_at_any_hour(
    world: World, plans: list[CasePlan], day: int, hour: int
) -> None:
    t = local(2026, 3, 9 + day, hour, 30) if day or hour != 9 else MONDAY_9
    overdue, near = _open_overdue_and_near(plans, t, world.rules.calendar)
    assert overdue >= 3 and near >= 1, (overdue, near)


def test_departments_differ_in_punctuality(plans: list[CasePlan]) -> None:
    late: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for plan in plans:
        feedbacks = [ev.ts for ev in plan.events if ev.action == "feedback"]
        if not feedbacks or feedbacks[0] > MONDAY_9:
            continue
        _, deadline = plan.state_at(feedbacks[0])
        if deadline is not None:
            total[plan.birth.dept] += 1
            late[plan.birth.dept] += feedbacks[0] > deadline
    share = {d: late[d] / total[d] for d in total if total[d] >= 30}
    assert share["HWC"] < 0.1 < share["SWJT"]
    assert max(share.values()) - min(share.values()) > 0.2


def test_plans_are_reproducible_and_independent_of_the_start_time(world: World) -> None:
    later = World(city(), CFG, MONDAY_9 + 5 * 3600, keep_plans=True)
    common = [cid for cid in world.plans if cid in later.plans][:300]
    assert len(common) == 300
    for cid in common:
        assert [e.payload() for e in world.plans[cid].events] == [e.payload() for e in later.plans[cid].events]
    other = World(city(), replace(CFG, seed=7), MONDAY_9, keep_plans=True)
    shared = [cid for cid in world.plans if cid in other.plans][:50]
    assert any(world.plans[c].events[0].payload() != other.plans[c].events[0].payload() for c in shared)


def test_live_cases_keep_coming_after_the_backfill() -> None:
    world = World(city(), replace(CFG, backfill_days=0), MONDAY_9)
    assert world.pop_case_events(MONDAY_9, 10**6) == []
    t = MONDAY_9
    reports = []
    for _ in range(12):
        t += 600
        world.advance(t)
        reports += [m for m in world.pop_case_events(t, 10**6) if m.payload["action"] == "report"]
    assert 30 <= len(reports) <= 130  # the busiest hours of a weekday at ~400/day
    assert all(MONDAY_9 < m.ts <= t for m in reports)


def test_speedup_shortens_lifecycles_only() -> None:
    def mean_life(speedup: float) -> float:
        w = World(city(), replace(CFG, backfill_days=1, speedup=speedup), MONDAY_9, keep_plans=True)
        lives = [p.events[-1].ts - p.events[0].ts for p in w.plans.values() if len(p.events) > 5]
        return sum(lives) / len(lives)

    # Less than 10x: shortened work still waits for the next working hours.
    assert mean_life(10.0) < mean_life(1.0) / 2.5


def test_cases_per_day_is_honoured() -> None:
    w = World(city(), replace(CFG, backfill_days=2, cases_per_day=1000), MONDAY_9, keep_plans=True)
    born = [p for p in w.plans.values() if p.birth.ts <= MONDAY_9]
    assert 1600 <= len(born) <= 2400
    sources = Counter(p.birth.source for p in born)
    assert sources["collector"] > sources["hotline_12345"] > sources["iot"] > 0
    assert 0.04 < sources["video"] / len(born) < 0.3


def test_collectors_report_in_their_own_grids(world: World, plans: list[CasePlan]) -> None:
    by_collector = defaultdict(set)
    for i, area in enumerate(world.areas):
        by_collector[world.collectors[i].id] = {world.cells.cells[c].code for c in area.cells}
    for plan in plans:
        first = plan.events[0]
        if plan.birth.source == "collector":
            assert first.payload()["case"]["grid_code"] in by_collector[first.actor]
        for ev in plan.events:
            if ev.action in ("verify", "check_pass", "check_fail"):
                assert plan.birth.grid_code in by_collector[ev.actor]


def test_the_wall_sets_the_deadlines_the_simulator_planned() -> None:
    # Over the Spring Festival of 2026 (days off, and a Saturday worked instead): the casework
    # lifecycle, fed the published events, must arrive at the deadline each plan counted with, so
    # a case planned late is late on the wall.
    world = World(city(), replace(CFG, backfill_days=8), local(2026, 2, 21, 9, 0), keep_plans=True)
    checked = 0
    for plan in world.plans.values():
        state = None
        for ev in plan.events:
            state = lifecycle.apply(state, CaseEvent(**ev.payload()), world.rules)
            _, planned = plan.state_at(ev.ts)
            if planned is not None and state.deadline is not None:
                assert state.deadline == pytest.approx(planned, abs=1.0), (plan.birth.case_id, ev.action)
                checked += 1
            assert state.urgent == plan.birth.urgent
    assert checked > 500


def test_case_kinds_follow_the_casework_catalogue() -> None:
    catalogue = casedata.load_catalogue()
    for kind in KINDS:
        item = catalogue.item(kind.category, kind.small_code)
        assert item is not None and item.zh == kind.name, kind
