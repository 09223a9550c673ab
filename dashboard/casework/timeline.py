"""The case page's timeline (docs/desk.md): every event of one case, who did it and when, the time
each step took against its limit, the marks a leader looks for, and where the case stands now.

Pure: events and rules in, plain values out, ``now`` a parameter. Nothing here decides what a
transition does: the events are folded one by one through ``lifecycle.apply`` (the same fold the
case step and ``lifecycle.replay`` run), and every entry is read off the states before and after
its event. A mark is what the lifecycle changed (its 回退/延期/挂账/返工 counts went up, the pause
ended, the case was voided), not a second reading of the action's name; a step's deadline is the
one the lifecycle set when the step started; the light is overdue.py's one rule.

How time is counted (docs/casework.md "Deadlines"): each step on its own clock, the clock its
limit runs on. That is working time (the working calendar: periods of working days, holidays and
make-up days included) for 工作时/工作日 limits of a non-urgent case, natural time for 分钟/小时
limits and for urgent cases. So a 10-minute 受理 limit is measured in minutes whatever the hour,
and a 4-工作时 disposal started on Friday 16:00 has used two hours by Monday 08:00.

- 处置 (disposal) runs from the dispatch on the case's disposal clock; time under 挂账 does not
  count (it moves the deadline instead), and its limit is the granted time (limit + approved
  extensions). After 返工 the clock is still the one started at the dispatch, because 返工 keeps
  the deadline [D]: the second 处置反馈 is measured against the same limit.
- The other steps (受理, 核实, 立案, 派遣, 核查, 结案) run from the event that started them to the
  event that ended them, against the stage limit of the city's table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final, Protocol

from dashboard.casework import lifecycle
from dashboard.casework.actions import Action
from dashboard.casework.casestate import CaseState, StageMark
from dashboard.casework.errors import CaseworkError
from dashboard.casework.overdue import LightPolicy, disposal_boundaries, stage_light
from dashboard.casework.timelimits import Basis, Rules, Stage

# The steps by the names an operator uses (环节, docs/domain.md §5.1), keyed by casework's Stage.
STAGE_NAMES_ZH: Final[Mapping[Stage, str]] = {
    Stage.ACCEPT: "受理",
    Stage.VERIFY: "核实",
    Stage.FILE: "立案",
    Stage.DISPATCH: "派遣",
    Stage.DISPOSAL: "处置",
    Stage.CHECK: "核查",
    Stage.CLOSE: "结案",
}

# Events whose media show the problem after the disposal (处置后); everything else shows it as
# reported (处置前): the report's photo, a verification's.
_AFTER_ACTIONS: Final = frozenset({Action.FEEDBACK, Action.CHECK_PASS, Action.CHECK_FAIL, Action.CLOSE,
                                   Action.SELF_DISPOSE})
MEDIA_MAX: Final = 50  # links on one page at the most; a case has one to a few photos
# Only web links are links: a javascript: or data: URL in an <a href> would run in the page.
_LINK_PREFIXES: Final = ("http://", "https://")


class Mark(StrEnum):
    """What the leader looks for in a timeline, each from a change the lifecycle made."""

    RETURN = "return"  # 回退: the department sent it back (the dispatch was not accurate)
    EXTEND = "extend"  # 延期: approved more time; the deadline moved
    SUSPEND = "suspend"  # 挂账: the disposal clock stopped
    RESUME = "resume"  # 挂账恢复: the clock runs again; the deadline moved by the paused time
    REWORK = "rework"  # 返工: the check failed, the disposal starts again (same deadline)
    VOID = "void"  # 作废 / 不予受理: the case ends without a disposal
    SUPERVISE = "supervise"  # 督办: a leader pressed the case on (with a note, maybe a deadline asked for)


class TimelineEvent(lifecycle.EventIn, Protocol):
    """What the timeline reads from an event: the lifecycle's fields and the event's id
    (``dashboard.records.CaseEvent`` has this shape)."""

    @property
    def event_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class StepTime:
    """One step (环节) of the case: its time on its own clock against its limit.

    ``spent_s`` and ``limit_s`` are seconds of ``basis`` time: working seconds of the calendar
    for the working basis, elapsed seconds for the natural one. ``limit_s`` and ``due`` are None
    for a step the city set no limit for (always on time, as the counters count it).
    """

    stage: str  # casework Stage value: accept, verify, file, dispatch, disposal, check, close
    name_zh: str
    started_at: float  # 处置: the dispatch (its clock's start); others: the event that started it
    ended_at: float | None  # None: still waiting at ``now``
    ended_by: str | None  # the action that ended it (feedback, return, check_fail, void, ...)
    actor: str | None  # who ended it
    basis: str  # "working" | "natural"
    spent_s: float  # paused time (挂账) excluded
    limit_s: float | None
    due: float | None  # the deadline the lifecycle set (处置: moved by 延期 and 挂账)
    on_time: bool | None  # ended: by ``due``; waiting: False once late (never under 挂账), else None


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of the case, as the timeline shows it."""

    seq: int  # 0, 1, 2, ... in the order the events apply
    event_id: str
    action: str  # the wire code (dashboard.casework.actions.Action), language-neutral
    action_zh: str  # its name as an operator says it (lifecycle.ACTION_NAMES_ZH)
    actor: str | None
    ts: float
    state: str | None  # the case's state after the event; None when the event did not apply
    step: StepTime | None  # the step this event ended, if it ended one
    marks: tuple[str, ...]  # Mark values
    deadline: float | None  # the disposal deadline in force after the event
    previous_deadline: float | None  # set when the event moved the deadline (延期, 挂账恢复, a new one sent)
    extension_s: float | None  # 延期: the time granted, on the case's clock
    paused_s: float | None  # 挂账恢复: the time the clock stood still, on the case's clock
    returned_from: str | None  # 回退: the department that sent it back
    error: str | None  # why the lifecycle refused it (a stored event normally applies)
    note: str | None = None  # what the sender said with it (a 督办's instruction, a close's notes)
    deadline_request: float | None = None  # 督办: the deadline the leader asked for


@dataclass(frozen=True, slots=True)
class Status:
    """Where the case stands at ``now``: the disposal clock's boundaries and light (what the wall
    counts and pins, from ``overdue.disposal_boundaries``) and the step waiting now."""

    state: str
    open: bool
    deadline: float | None  # the disposal deadline (kept after the disposal is done)
    close_deadline: float | None  # [D] deadline + 核查 + 结案 limits
    due: float | None  # the running clock's red boundary (None: no clock runs, or 挂账)
    warn_at: float | None  # its yellow boundary
    paused: bool  # 挂账
    light: str | None  # overdue.light_at on those boundaries at ``now``; None: no clock runs
    stage: str | None  # the step waiting now
    stage_deadline: float | None
    stage_light: str | None  # overdue.stage_light: the waiting step's own light


@dataclass(frozen=True, slots=True)
class Timeline:
    case_id: str
    entries: tuple[Entry, ...]  # one per event, in order
    steps: tuple[StepTime, ...]  # every step ended, in order, then the one waiting at ``now``
    status: Status | None  # None when no event applied
    state: CaseState | None  # the case after the events that applied
    complete: bool  # every event applied


@dataclass(frozen=True, slots=True)
class Media:
    """A photo or link a case event carried (``media_url``)."""

    url: str
    phase: str  # "before" (as reported) | "after" (the disposal's feedback, check, close)
    event_id: str
    action: str
    ts: float
    actor: str | None


def _action_zh(raw: str) -> str:
    try:
        return lifecycle.ACTION_NAMES_ZH[Action(raw)]
    except ValueError:
        return raw  # an unknown action is refused by apply; the entry still shows what was sent


def _clock(case: CaseState, stage: Stage, end: float, rules: Rules) -> tuple[float, Basis, float, float | None, float | None]:
    """(started_at, basis, spent_s, limit_s, due) of ``stage`` as it stands in ``case``, measured
    up to ``end``."""
    if stage is Stage.DISPOSAL and case.deadline is not None:
        basis = case.basis or Basis.NATURAL
        start = case.dispatched_at if case.dispatched_at is not None else (case.stage_started_at or end)
        paused = case.suspended_s  # the lifecycle measured each pause on this clock
        if case.suspended_since is not None:  # still paused (an external close of a 挂账 case)
            paused += rules.measure(case.suspended_since, max(end, case.suspended_since), basis)
        spent = rules.measure(start, max(end, start), basis) - paused
        return start, basis, max(0.0, spent), case.allowed_s, case.deadline
    start = case.stage_started_at if case.stage_started_at is not None else end
    limit = rules.limits.stage_limit(stage, case.urgent)
    basis = Basis.NATURAL if limit is None else rules.basis(limit, case.urgent)
    limit_s = None if limit is None else rules.seconds(limit, basis)
    due = case.stage_deadline if limit is not None else None
    return start, basis, rules.measure(start, max(end, start), basis), limit_s, due


def _ended_step(before: CaseState, after: CaseState, event: TimelineEvent, rules: Rules) -> StepTime | None:
    """The step ``event`` ended: the one waiting before it, when the lifecycle started another
    (or none) after it. 签收, 延期, 挂账 and 挂账恢复 leave the step running."""
    stage = before.stage
    if stage is None or (after.stage is stage and after.stage_started_at == before.stage_started_at):
        return None
    ts = float(event.ts)
    start, basis, spent, limit_s, due = _clock(before, stage, ts, rules)
    return StepTime(stage=stage.value, name_zh=STAGE_NAMES_ZH[stage], started_at=start, ended_at=ts,
                    ended_by=event.action, actor=event.actor, basis=basis.value, spent_s=spent,
                    limit_s=limit_s, due=due, on_time=StageMark(at=ts, due=due).on_time)


def waiting_step(case: CaseState, now: float, rules: Rules) -> StepTime | None:
    """The step waiting at ``now`` (None for a finished case), with its time so far."""
    if case.stage is None or not case.is_open:
        return None
    start, basis, spent, limit_s, due = _clock(case, case.stage, now, rules)
    # Under 挂账 the deadline waits for the resume to move it: a paused step is never late.
    late = due is not None and now > due and not (case.stage is Stage.DISPOSAL and case.is_suspended)
    return StepTime(stage=case.stage.value, name_zh=STAGE_NAMES_ZH[case.stage], started_at=start, ended_at=None,
                    ended_by=None, actor=None, basis=basis.value, spent_s=spent, limit_s=limit_s, due=due,
                    on_time=False if late else None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _marks(before: CaseState, after: CaseState) -> tuple[str, ...]:
    marks: list[str] = []
    if after.returns > before.returns:
        marks.append(Mark.RETURN.value)
    if after.extensions > before.extensions:
        marks.append(Mark.EXTEND.value)
    if after.suspensions > before.suspensions:
        marks.append(Mark.SUSPEND.value)
    if before.suspended_since is not None and after.suspended_since is None:
        marks.append(Mark.RESUME.value)
    if after.reworks > before.reworks:
        marks.append(Mark.REWORK.value)
    if after.voided_at is not None and before.voided_at is None:
        marks.append(Mark.VOID.value)
    if after.supervisions > before.supervisions:
        marks.append(Mark.SUPERVISE.value)
    return tuple(marks)


def _entry(seq: int, event: TimelineEvent, before: CaseState | None, after: CaseState, rules: Rules) -> Entry:
    entry = Entry(
        seq=seq, event_id=event.event_id, action=event.action, action_zh=_action_zh(event.action),
        actor=event.actor, ts=float(event.ts), state=after.state.value, step=None, marks=(),
        deadline=after.deadline, previous_deadline=None, extension_s=None, paused_s=None, returned_from=None,
        error=None, note=_text(event.case.get("note")), deadline_request=_number(event.case.get("deadline_request")),
    )
    if before is None:  # the report: nothing ended, nothing moved
        return entry
    marks = _marks(before, after)
    moved = before.deadline is not None and after.deadline is not None and after.deadline != before.deadline
    return replace(
        entry,
        step=_ended_step(before, after, event, rules),
        marks=marks,
        previous_deadline=before.deadline if moved else None,
        # The lifecycle's own sums: what it added to the clock is what this event granted or paused.
        extension_s=after.extension_s - before.extension_s if Mark.EXTEND in marks else None,
        paused_s=after.suspended_s - before.suspended_s if Mark.RESUME in marks else None,
        returned_from=before.department if Mark.RETURN in marks else None,
    )


def _refused(seq: int, event: TimelineEvent, case: CaseState | None, reason: str) -> Entry:
    return Entry(
        seq=seq, event_id=event.event_id, action=event.action, action_zh=_action_zh(event.action),
        actor=event.actor, ts=float(event.ts), state=None, step=None, marks=(),
        deadline=None if case is None else case.deadline, previous_deadline=None, extension_s=None,
        paused_s=None, returned_from=None, error=reason,
    )


def case_status(case: CaseState, rules: Rules, policy: LightPolicy, now: float) -> Status:
    """Where ``case`` stands at ``now``: the wall's boundaries and light, the waiting step's."""
    clock = disposal_boundaries(case, rules, policy)
    light = clock.light(now)  # overdue.light_at on the boundaries: the one rule
    step = stage_light(case, now, rules, policy)
    return Status(
        state=case.state.value, open=case.is_open, deadline=case.deadline, close_deadline=case.close_deadline,
        due=clock.due, warn_at=clock.warn_at, paused=clock.paused, light=None if light is None else light.value,
        stage=None if case.stage is None else case.stage.value, stage_deadline=case.stage_deadline,
        stage_light=None if step is None else step.value,
    )


def build_timeline(events: Iterable[TimelineEvent], rules: Rules, policy: LightPolicy, now: float) -> Timeline:
    """The timeline of one case's events (in the order they apply).

    Each event goes through ``lifecycle.apply`` as the case step applied it. An event the
    lifecycle refuses (a stored one applied once, so rare: e.g. the rules changed since) keeps
    its entry with the reason, and the fold goes on from the state before it; ``complete`` says
    so. Linear in the events; the caller bounds how many it passes.
    """
    case: CaseState | None = None
    case_id: str | None = None
    entries: list[Entry] = []
    steps: list[StepTime] = []
    complete = True
    for seq, event in enumerate(events):
        case_id = case_id or event.case_id
        try:
            after = lifecycle.apply(case, event, rules)
        except CaseworkError as exc:
            complete = False
            entries.append(_refused(seq, event, case, exc.reason))
            continue
        entry = _entry(seq, event, case, after, rules)
        entries.append(entry)
        if entry.step is not None:
            steps.append(entry.step)
        case = after
    status = None
    if case is not None:
        waiting = waiting_step(case, now, rules)
        if waiting is not None:
            steps.append(waiting)
        status = case_status(case, rules, policy, now)
    return Timeline(case_id=case_id or "", entries=tuple(entries), steps=tuple(steps), status=status,
                    state=case, complete=complete)


def _urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):  # a sender may list several photos
        return [v for v in value if isinstance(v, str)]
    return []


def media(events: Sequence[TimelineEvent], limit: int = MEDIA_MAX) -> tuple[Media, ...]:
    """The photos and links the events carried (``media_url``), each once, in event order, at
    most ``limit``: "before" from the report and verification, "after" from the disposal's
    feedback, the check and the close. Only http(s) links are kept, so the page can link them."""
    out: list[Media] = []
    seen: set[str] = set()
    for event in events:
        fields = event.case or {}
        for raw in _urls(fields.get("media_url")):
            url = raw.strip()
            if not url.lower().startswith(_LINK_PREFIXES) or url in seen:
                continue
            seen.add(url)
            try:
                after = Action(event.action) in _AFTER_ACTIONS
            except ValueError:
                after = False
            out.append(Media(url=url, phase="after" if after else "before", event_id=event.event_id,
                             action=event.action, ts=float(event.ts), actor=event.actor))
            if len(out) >= limit:
                return tuple(out)
    return tuple(out)
