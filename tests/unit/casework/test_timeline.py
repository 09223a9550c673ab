"""The case page's timeline (dashboard/casework/timeline.py): one entry per event, each step's time
on its own clock against its limit (working time across a weekend, a holiday and a make-up
working day), the marks (回退, 延期, 挂账, 挂账恢复, 返工, 作废), and where the case stands at
``now``, by overdue.py's one rule. Expected times are worked out by hand from the shipped data:
periods 08–12 and 14–18, 暴露垃圾 (0102) 4 工作时, 受理 10 分钟, 立案/派遣/结案 30 分钟, 核实/核查
1 工作时, warn at 80 % used or 1 工作时 left."""

from __future__ import annotations

import pytest
from casework_support import GRID, RULES, at, event

from dashboard.casework import lifecycle
from dashboard.casework.overdue import DEFAULT_POLICY, Light, LightPolicy, disposal_boundaries, light_at, stage_light
from dashboard.casework.timeline import Mark, build_timeline, media
from dashboard.records import CaseEvent

FIELDS = {"source": "supervisor", "category": "event", "small_code": "0102", "grid_code": GRID}
H = 3600.0


def full_life() -> list[CaseEvent]:
    """Reported Monday 2 March 2026 08:00; returned by the first department, dispatched again
    (late), extended, suspended overnight, reworked once, closed on Tuesday."""
    return [
        event("report", at(2026, 3, 2, 8, 0), actor="C001", media_url="https://img.example/before.jpg", **FIELDS),
        event("accept", at(2026, 3, 2, 8, 5), actor="A1"),
        event("file", at(2026, 3, 2, 8, 20), actor="A1"),
        event("dispatch", at(2026, 3, 2, 8, 30), actor="P1", department="D01"),
        event("return", at(2026, 3, 2, 9, 0), actor="D01-w"),
        event("dispatch", at(2026, 3, 2, 9, 40), actor="P1", department="D02"),
        event("sign", at(2026, 3, 2, 9, 50), actor="D02-w"),
        event("extend", at(2026, 3, 2, 10, 0), actor="chief", extension="2 工作时"),
        event("suspend", at(2026, 3, 2, 10, 30), actor="chief"),
        event("resume", at(2026, 3, 3, 9, 30), actor="D02-w"),
        event("feedback", at(2026, 3, 3, 11, 0), actor="D02-w", media_url="https://img.example/after-1.jpg"),
        event("check_fail", at(2026, 3, 3, 11, 30), actor="C001"),
        event("feedback", at(2026, 3, 3, 15, 0), actor="D02-w", media_url="https://img.example/after-2.jpg"),
        event("check_pass", at(2026, 3, 3, 15, 30), actor="C001"),
        event("close", at(2026, 3, 3, 15, 50), actor="A1"),
    ]


def test_every_event_of_a_full_life_has_its_entry() -> None:
    events = full_life()
    timeline = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 4))
    assert timeline.complete and timeline.case_id == "C1"
    assert [(e.seq, e.event_id, e.action, e.actor, e.ts) for e in timeline.entries] == [
        (i, ev.event_id, ev.action, ev.actor, ev.ts) for i, ev in enumerate(events)]
    # The fold is the lifecycle's own: the timeline ends in the state replay gives.
    assert timeline.state == lifecycle.replay(events, RULES)
    zh = [e.action_zh for e in timeline.entries]
    assert zh == ["上报", "受理", "立案", "派遣", "回退", "派遣", "签收", "延期", "挂账", "挂账恢复", "处置反馈", "返工",
                  "处置反馈", "核查通过", "结案"]
    assert [e.state for e in timeline.entries] == [
        "reported", "accepted", "filed", "dispatched", "filed", "dispatched", "in_disposal", "in_disposal",
        "suspended", "in_disposal", "await_check", "in_disposal", "await_check", "await_close", "closed"]
    assert [e.marks for e in timeline.entries] == [
        (), (), (), (), (Mark.RETURN,), (), (), (Mark.EXTEND,), (Mark.SUSPEND,), (Mark.RESUME,), (), (Mark.REWORK,),
        (), (), ()]


def test_each_step_against_its_limit() -> None:
    entries = build_timeline(full_life(), RULES, DEFAULT_POLICY, at(2026, 3, 4)).entries
    steps = {e.seq: e.step for e in entries}
    assert [seq for seq, s in steps.items() if s is None] == [0, 6, 7, 8, 9]  # report, 签收, 延期, 挂账, 恢复
    expect = {
        # seq: (stage, started, basis, spent, limit, due, on time)
        1: ("accept", at(2026, 3, 2, 8, 0), "natural", 300, 600, at(2026, 3, 2, 8, 10), True),
        2: ("file", at(2026, 3, 2, 8, 5), "natural", 900, 1800, at(2026, 3, 2, 8, 35), True),
        3: ("dispatch", at(2026, 3, 2, 8, 20), "natural", 600, 1800, at(2026, 3, 2, 8, 50), True),
        # The first department held it half an hour of its 4 工作时 (due 14:30: 08:30 + 3.5 h + 0.5 h).
        4: ("disposal", at(2026, 3, 2, 8, 30), "working", 1800, 4 * H, at(2026, 3, 2, 14, 30), True),
        # After 回退 the 派遣 step starts again at the return: 40 min against 30 is late.
        5: ("dispatch", at(2026, 3, 2, 9, 0), "natural", 2400, 1800, at(2026, 3, 2, 9, 30), False),
        # 09:40 Mon → 11:00 Tue is 9 h 20 of working time, 7 h of it under 挂账: 2 h 20 used of
        # 4 h + 2 h granted; the deadline moved from 17:40 Mon by the 7 h paused to 16:40 Tue.
        10: ("disposal", at(2026, 3, 2, 9, 40), "working", 2 * H + 1200, 6 * H, at(2026, 3, 3, 16, 40), True),
        11: ("check", at(2026, 3, 3, 11, 0), "working", 1800, H, at(2026, 3, 3, 12, 0), True),
        # 返工 keeps the deadline: the second feedback is measured on the clock of the dispatch.
        12: ("disposal", at(2026, 3, 2, 9, 40), "working", 4 * H + 1200, 6 * H, at(2026, 3, 3, 16, 40), True),
        13: ("check", at(2026, 3, 3, 15, 0), "working", 1800, H, at(2026, 3, 3, 16, 0), True),
        14: ("close", at(2026, 3, 3, 15, 30), "natural", 1200, 1800, at(2026, 3, 3, 16, 0), True),
    }
    for seq, (stage, started, basis, spent, limit, due, on_time) in expect.items():
        step = steps[seq]
        assert step is not None, seq
        assert (step.stage, step.started_at, step.basis, step.spent_s, step.limit_s, step.due, step.on_time) == (
            stage, started, basis, spent, limit, due, on_time), seq
        assert step.ended_at == entries[seq].ts and step.ended_by == entries[seq].action
        assert step.actor == entries[seq].actor
    assert [steps[s].name_zh for s in expect] == ["受理", "立案", "派遣", "处置", "派遣", "处置", "核查", "处置", "核查", "结案"]  # type: ignore[union-attr]
    assert steps[4].ended_by == "return" and steps[11].ended_by == "check_fail"  # type: ignore[union-attr]


def test_the_marks_carry_what_moved() -> None:
    entries = build_timeline(full_life(), RULES, DEFAULT_POLICY, at(2026, 3, 4)).entries
    returned, extended, suspended, resumed, reworked = entries[4], entries[7], entries[8], entries[9], entries[11]
    assert returned.returned_from == "D01" and returned.deadline is None  # 回退 clears the clock
    assert entries[3].deadline == at(2026, 3, 2, 14, 30) and entries[5].deadline == at(2026, 3, 2, 15, 40)
    assert (extended.previous_deadline, extended.deadline, extended.extension_s) == (
        at(2026, 3, 2, 15, 40), at(2026, 3, 2, 17, 40), 2 * H)
    assert (suspended.previous_deadline, suspended.deadline) == (None, at(2026, 3, 2, 17, 40))
    # 10:30–12:00 and 14:00–18:00 Monday, 08:00–09:30 Tuesday: 7 working hours paused.
    assert (resumed.previous_deadline, resumed.deadline, resumed.paused_s) == (
        at(2026, 3, 2, 17, 40), at(2026, 3, 3, 16, 40), 7 * H)
    assert reworked.deadline == at(2026, 3, 3, 16, 40) and reworked.previous_deadline is None
    for entry in entries:
        assert (entry.extension_s is not None) == (Mark.EXTEND in entry.marks)
        assert (entry.paused_s is not None) == (Mark.RESUME in entry.marks)
        assert (entry.returned_from is not None) == (Mark.RETURN in entry.marks)
        assert entry.error is None


def test_a_void_is_marked_and_ends_the_step_it_stopped() -> None:
    events = [event("report", at(2026, 3, 2, 9, 0), case_id="V1", **{**FIELDS, "source": "12345"}),
              event("verify_request", at(2026, 3, 2, 9, 5), case_id="V1"),
              event("void", at(2026, 3, 2, 10, 35), case_id="V1", actor="C002")]
    timeline = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 3))
    void = timeline.entries[-1]
    assert void.marks == (Mark.VOID,) and void.state == "void"
    assert void.step is not None and (void.step.stage, void.step.spent_s, void.step.limit_s, void.step.on_time) == (
        "verify", 5400, H, False)  # 1.5 working hours of 核实 against 1
    assert timeline.steps[-1] == void.step  # nothing waits in a voided case
    assert timeline.status is not None and timeline.status.light is None and not timeline.status.open


def test_working_time_across_a_holiday() -> None:
    # 中秋节 2026: Friday 25 to Sunday 27 September off. Dispatched Thursday 16:00 with 4 工作时:
    # two hours on Thursday, the other two on Monday from 08:00, so due Monday 10:00; a feedback
    # at exactly 10:00 is on time.
    events = [event("report", at(2026, 9, 24, 15, 0), **FIELDS), event("accept", at(2026, 9, 24, 15, 5)),
              event("file", at(2026, 9, 24, 15, 10)), event("dispatch", at(2026, 9, 24, 16, 0), department="D01"),
              event("sign", at(2026, 9, 24, 16, 0)), event("feedback", at(2026, 9, 28, 10, 0))]
    disposal = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 9, 29)).entries[-1].step
    assert disposal is not None
    assert (disposal.spent_s, disposal.limit_s, disposal.due, disposal.on_time) == (
        4 * H, 4 * H, at(2026, 9, 28, 10, 0), True)
    assert RULES.calendar.working_seconds(at(2026, 9, 24, 16, 0), at(2026, 9, 28, 10, 0)) == disposal.spent_s


def test_working_time_across_a_weekend_and_a_make_up_day() -> None:
    # Sunday 20 September 2026 is worked (调休 for 国庆); Saturday 19 is not. Dispatched Saturday
    # 10:00: the clock starts on Sunday 08:00, so a feedback on Sunday 11:00 used 3 of 4 hours.
    events = [event("report", at(2026, 9, 18, 17, 50), **FIELDS), event("accept", at(2026, 9, 18, 17, 55)),
              event("file", at(2026, 9, 18, 17, 58)), event("dispatch", at(2026, 9, 19, 10, 0), department="D01"),
              event("sign", at(2026, 9, 19, 10, 0)), event("feedback", at(2026, 9, 20, 11, 0)),
              event("check_pass", at(2026, 9, 21, 8, 30))]
    entries = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 9, 29)).entries
    disposal, check = entries[5].step, entries[6].step
    assert disposal is not None and check is not None
    assert (disposal.spent_s, disposal.due, disposal.on_time) == (3 * H, at(2026, 9, 20, 12, 0), True)
    # 核查 from Sunday 11:00 to Monday 08:30: 5 h of Sunday (a working day), 0.5 h of Monday, against 1 工作时.
    assert (check.spent_s, check.due, check.on_time) == (5.5 * H, at(2026, 9, 20, 12, 0), False)
    # An ordinary weekend: 30 min on Friday, 30 on Monday morning is exactly the hour.
    events = [event("report", at(2026, 3, 6, 17, 0), **FIELDS), event("accept", at(2026, 3, 6, 17, 1)),
              event("file", at(2026, 3, 6, 17, 2)), event("dispatch", at(2026, 3, 6, 17, 3), department="D01"),
              event("sign", at(2026, 3, 6, 17, 3)), event("feedback", at(2026, 3, 6, 17, 30)),
              event("check_pass", at(2026, 3, 9, 8, 30))]
    check = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 10)).entries[-1].step
    assert check is not None and (check.spent_s, check.due, check.on_time) == (H, at(2026, 3, 9, 8, 30), True)


def test_an_urgent_case_runs_in_natural_time() -> None:
    # Dispatched Saturday 22:00 as urgent: 4 工作时 read as 4 hours, the night counts.
    events = [event("report", at(2026, 3, 7, 21, 40), urgent=True, **FIELDS), event("accept", at(2026, 3, 7, 21, 45)),
              event("file", at(2026, 3, 7, 21, 50)), event("dispatch", at(2026, 3, 7, 22, 0), department="D01"),
              event("sign", at(2026, 3, 7, 22, 5)), event("feedback", at(2026, 3, 8, 1, 0))]
    disposal = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 9)).entries[-1].step
    assert disposal is not None
    assert (disposal.basis, disposal.spent_s, disposal.limit_s, disposal.due, disposal.on_time) == (
        "natural", 3 * H, 4 * H, at(2026, 3, 8, 2, 0), True)


# The case after the second dispatch and the 延期: due Monday 17:40 with 6 h granted, so yellow
# once 1.2 h (20 %) are left: 16:28.
OPEN_PREFIX = 8  # report ... extend
SUSPENDED_PREFIX = 9  # ... suspend


@pytest.mark.parametrize(("prefix", "now", "light"), [
    (OPEN_PREFIX, at(2026, 3, 2, 10, 5), Light.GREEN),
    (OPEN_PREFIX, at(2026, 3, 2, 16, 27), Light.GREEN),
    (OPEN_PREFIX, at(2026, 3, 2, 16, 28), Light.YELLOW),
    (OPEN_PREFIX, at(2026, 3, 2, 17, 40), Light.YELLOW),  # exactly at the deadline: not late
    (OPEN_PREFIX, at(2026, 3, 2, 17, 41), Light.RED),
    (OPEN_PREFIX, at(2026, 3, 3, 7, 0), Light.RED),
    (SUSPENDED_PREFIX, at(2026, 3, 2, 10, 31), Light.GREY),
    (SUSPENDED_PREFIX, at(2026, 12, 31), Light.GREY),  # 挂账: never red
    (10, at(2026, 3, 3, 9, 31), Light.GREEN),  # resumed, due Tuesday 16:40
    (10, at(2026, 3, 3, 15, 28), Light.YELLOW),
    (11, at(2026, 3, 3, 23, 0), None),  # disposal done: no clock runs
])
def test_the_light_at_now_is_the_overdue_rule(prefix: int, now: float, light: Light | None) -> None:
    events = full_life()[:prefix]
    timeline = build_timeline(events, RULES, DEFAULT_POLICY, now)
    status = timeline.status
    assert status is not None
    state = lifecycle.replay(events, RULES)
    clock = disposal_boundaries(state, RULES, DEFAULT_POLICY)
    assert (status.due, status.warn_at, status.paused) == (clock.due, clock.warn_at, clock.paused)
    assert status.light == light_at(clock.due, clock.warn_at, clock.paused, now) == light
    step = stage_light(state, now, RULES, DEFAULT_POLICY)
    assert status.stage_light == (None if step is None else step.value)
    assert status.deadline == state.deadline and status.stage == (state.stage and state.stage.value)
    if prefix == OPEN_PREFIX:
        assert status.warn_at == at(2026, 3, 2, 16, 28)


def test_a_policy_moves_the_warn_time() -> None:
    events = full_life()[:OPEN_PREFIX]
    policy = LightPolicy(warn_ratio=0.5, warn_remaining_s=0)  # yellow from 3 of 6 h: 14:40
    status = build_timeline(events, RULES, policy, at(2026, 3, 2, 14, 40)).status
    assert status is not None and (status.warn_at, status.light) == (at(2026, 3, 2, 14, 40), "yellow")


def test_the_waiting_step_counts_up_to_now() -> None:
    events = full_life()[:OPEN_PREFIX]
    # 09:40 → 17:00 Monday is 5 h 20 of working time; 6 h granted, not yet due.
    waiting = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 2, 17, 0)).steps[-1]
    assert (waiting.stage, waiting.ended_at, waiting.spent_s, waiting.limit_s, waiting.on_time) == (
        "disposal", None, 5 * H + 1200, 6 * H, None)
    late = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 3, 8, 0)).steps[-1]
    assert (late.spent_s, late.on_time) == (6 * H + 1200, False)
    # Under 挂账 the paused time does not count: 10:30 Monday is where it stopped.
    paused = build_timeline(full_life()[:SUSPENDED_PREFIX], RULES, DEFAULT_POLICY, at(2026, 3, 2, 17, 0)).steps[-1]
    assert paused.spent_s == 50 * 60.0
    # Long past the deadline, still paused: not late (the resume moves the deadline), as the light is grey.
    paused = build_timeline(full_life()[:SUSPENDED_PREFIX], RULES, DEFAULT_POLICY, at(2026, 3, 20)).steps[-1]
    assert (paused.spent_s, paused.on_time) == (50 * 60.0, None)
    # Every ended step is listed, in order, before the waiting one.
    steps = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 2, 17, 0)).steps
    assert [s.stage for s in steps] == ["accept", "file", "dispatch", "disposal", "dispatch", "disposal"]


def test_a_refused_event_keeps_its_entry_and_the_fold_goes_on() -> None:
    events = full_life()[:4]
    events.insert(2, event("close", at(2026, 3, 2, 8, 10)))  # not allowed from accepted
    timeline = build_timeline(events, RULES, DEFAULT_POLICY, at(2026, 3, 2, 9, 0))
    assert not timeline.complete and len(timeline.entries) == 5
    refused = timeline.entries[2]
    assert refused.state is None and refused.step is None and "cannot 结案" in (refused.error or "")
    assert timeline.entries[3].step is not None and timeline.entries[3].step.stage == "file"
    assert timeline.state == lifecycle.replay(full_life()[:4], RULES)
    assert build_timeline([], RULES, DEFAULT_POLICY, 0.0).status is None


def test_media_before_and_after_links_only() -> None:
    events = full_life()
    events[1] = event("accept", events[1].ts, media_url="javascript:alert(1)")  # never a link
    events[5] = event("dispatch", events[5].ts, department="D02", media_url="https://img.example/before.jpg")  # again
    events[13] = event("check_pass", events[13].ts,
                       media_url=["https://img.example/check.jpg", "data:image/png;base64,AAAA", 7])
    found = media(events)
    assert [(m.url, m.phase, m.action) for m in found] == [
        ("https://img.example/before.jpg", "before", "report"),
        ("https://img.example/after-1.jpg", "after", "feedback"),
        ("https://img.example/after-2.jpg", "after", "feedback"),
        ("https://img.example/check.jpg", "after", "check_pass"),
    ]
    assert found[0].event_id == events[0].event_id and found[0].actor == "C001"
    assert len(media(events, limit=2)) == 2
