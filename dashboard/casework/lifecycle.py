"""The case lifecycle of docs/domain.md §4: which action is allowed in which state, and what it does.

``apply(case, event, rules)`` returns the next ``CaseState`` or raises ``UnknownAction`` /
``IllegalTransition`` / ``InvalidCaseData`` with a reason in plain words. Choices made where
the domain leaves room (docs/casework.md repeats them):

- 核实 (VERIFY) leads to ACCEPTED: the 受理员 already took the report in when sending it for
  verification, so a confirmed report goes straight to the 立案 queue. A false report is VOID.
- 回退 (RETURN) clears the department and the disposal clock; the re-dispatch starts a new
  clock, because the late start was not the new department's fault.
- 返工 (CHECK_FAIL) keeps the original deadline [D] and clears the completion time, so the
  case can go overdue again; only the last 处置反馈 counts as the completion.
- 自行处置 (SELF_DISPOSE) closes a REPORTED case with no deadline; it is counted apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from dashboard.casework.actions import TERMINAL_STATES, Action, State
from dashboard.casework.casestate import CaseState, StageMark, normalise_source
from dashboard.casework.errors import IllegalTransition, InvalidCaseData, UnknownAction
from dashboard.casework.gridcode import grid_code_problem
from dashboard.casework.timelimits import (
    Basis,
    Rules,
    Stage,
    TimeLimit,
    normalise_category,
    parse_limit,
)


class EventIn(Protocol):
    """What ``apply`` reads from an event; ``dashboard.records.CaseEvent`` has this shape."""

    @property
    def case_id(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def ts(self) -> float: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def case(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[State]  # empty: only a new case (上报)
    target: State | None  # None: the case stays in its state (督办)


def _t(sources: Iterable[State], target: State | None) -> Transition:
    return Transition(frozenset(sources), target)


_S = State
TRANSITIONS: Mapping[Action, Transition] = {
    Action.REPORT: _t((), _S.REPORTED),
    Action.VERIFY_REQUEST: _t([_S.REPORTED], _S.VERIFYING),
    Action.VERIFY: _t([_S.VERIFYING], _S.ACCEPTED),
    Action.ACCEPT: _t([_S.REPORTED], _S.ACCEPTED),
    Action.VOID: _t([_S.REPORTED, _S.VERIFYING, _S.ACCEPTED], _S.VOID),
    Action.FILE: _t([_S.ACCEPTED], _S.FILED),
    Action.NOT_FILE: _t([_S.ACCEPTED], _S.NOT_FILED),
    Action.DISPATCH: _t([_S.FILED], _S.DISPATCHED),
    Action.SIGN: _t([_S.DISPATCHED], _S.IN_DISPOSAL),
    Action.RETURN: _t([_S.DISPATCHED, _S.IN_DISPOSAL], _S.FILED),
    Action.EXTEND: _t([_S.IN_DISPOSAL], _S.IN_DISPOSAL),
    Action.SUSPEND: _t([_S.IN_DISPOSAL], _S.SUSPENDED),
    Action.RESUME: _t([_S.SUSPENDED], _S.IN_DISPOSAL),
    Action.FEEDBACK: _t([_S.IN_DISPOSAL], _S.AWAIT_CHECK),
    Action.CHECK_PASS: _t([_S.AWAIT_CHECK], _S.AWAIT_CLOSE),
    Action.CHECK_FAIL: _t([_S.AWAIT_CHECK], _S.IN_DISPOSAL),
    Action.CLOSE: _t([_S.AWAIT_CLOSE], _S.CLOSED),
    Action.SELF_DISPOSE: _t([_S.REPORTED], _S.CLOSED),
    # 督办 presses an open case on, whatever step it is at; a finished case has nobody to press.
    Action.SUPERVISE: _t([s for s in State if s not in TERMINAL_STATES], None),
}

ACTION_NAMES_ZH: Mapping[Action, str] = {
    Action.REPORT: "上报",
    Action.VERIFY_REQUEST: "核实派发",
    Action.VERIFY: "核实",
    Action.ACCEPT: "受理",
    Action.VOID: "作废",
    Action.FILE: "立案",
    Action.NOT_FILE: "不予立案",
    Action.DISPATCH: "派遣",
    Action.SIGN: "签收",
    Action.RETURN: "回退",
    Action.EXTEND: "延期",
    Action.SUSPEND: "挂账",
    Action.RESUME: "挂账恢复",
    Action.FEEDBACK: "处置反馈",
    Action.CHECK_PASS: "核查通过",
    Action.CHECK_FAIL: "返工",
    Action.CLOSE: "结案",
    Action.SELF_DISPOSE: "自行处置",
    Action.SUPERVISE: "督办",
}


def parse_action(raw: str) -> Action:
    try:
        return Action(raw)
    except ValueError:
        raise UnknownAction(f"unknown action {raw!r}: expected one of {', '.join(a.value for a in Action)}") from None


def _named(action: Action) -> str:
    return f"{ACTION_NAMES_ZH[action]} ({action.value})"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def apply(case: CaseState | None, event: EventIn, rules: Rules) -> CaseState:
    """The case after ``event``; ``case`` is None for a case not seen before."""
    action = parse_action(event.action)
    ts = event.ts
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise InvalidCaseData(f"event time {ts!r} is not a finite number of epoch seconds")
    ts = float(ts)
    if case is None:
        if action is not Action.REPORT:
            raise IllegalTransition(
                f"cannot {_named(action)} case {event.case_id}: it is unknown, and a case "
                f"starts with {_named(Action.REPORT)}"
            )
        return _report(event, ts, rules)
    if event.case_id != case.case_id:
        raise ValueError(f"event for case {event.case_id} applied to case {case.case_id}")
    if action is Action.REPORT:
        raise IllegalTransition(f"case {case.case_id} was already reported")
    transition = TRANSITIONS[action]
    closed_elsewhere = action is Action.CLOSE and case.external and case.is_open
    if case.state not in transition.sources and not closed_elsewhere:
        allowed = ", ".join(sorted(s.value for s in transition.sources))
        ended = " (it is finished)" if case.state in TERMINAL_STATES else ""
        raise IllegalTransition(
            f"cannot {_named(action)} a case in state {case.state.value}{ended}; allowed from: {allowed}"
        )
    if ts < case.updated_at:
        raise IllegalTransition(
            f"{_named(action)} at {_when(ts)} is older than the case's last event at "
            f"{_when(case.updated_at)}; events of a case must arrive in order"
        )
    fields = _case_fields(event.case or {}, skip_deadline=action is Action.EXTEND)
    merged = replace(case, **fields) if fields else case
    if "deadline" in fields and merged.dispatched_at is not None:
        merged = _refix_deadline(merged, rules)
    changes = _HANDLERS[action](merged, event, ts, rules)
    state = transition.target or case.state
    return replace(merged, **changes, state=state, updated_at=ts, version=case.version + 1)


def replay(events: Iterable[EventIn], rules: Rules, case: CaseState | None = None) -> CaseState:
    """Fold the events of one case, in order."""
    for event in events:
        case = apply(case, event, rules)
    if case is None:
        raise ValueError("replay needs at least one event")
    return case


# --- case fields carried by events -------------------------------------------------------------


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCaseData(f"case field {key} must be a non-empty string, not {value!r}")
    return value.strip()


_FLAG_WORDS = {"1": True, "true": True, "yes": True, "是": True, "紧急": True,
               "0": False, "false": False, "no": False, "否": False, "一般": False}  # fmt: skip


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise InvalidCaseData(f"case field {key} must be true or false, not {value!r}")


def _instant(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidCaseData(f"case field {key} must be UTC epoch seconds, not {value!r}")
    return float(value)


def _grid(key: str, value: Any) -> str:
    problem = grid_code_problem(value)
    if problem is not None:
        raise InvalidCaseData(problem)
    return value


def _category(key: str, value: Any) -> str:
    try:
        return normalise_category(value)
    except ValueError as error:
        raise InvalidCaseData(str(error)) from None


def _code(key: str, value: Any) -> str:
    text = _text(key, value)
    if not text.isdigit():
        raise InvalidCaseData(f"case field {key} must be digits kept as a string, not {value!r}")
    return text


_FIELD_READERS: dict[str, Callable[[str, Any], Any]] = {
    "category": _category,
    "class_code": _code,
    "small_code": _code,
    "condition": lambda key, value: _text(key, str(value)),
    "grid_code": _grid,
    "department": _text,
    "urgent": _flag,
    "external": _flag,
}


def _case_fields(data: Mapping[str, Any], *, skip_deadline: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, read in _FIELD_READERS.items():
        if data.get(key) is not None:
            fields[key] = read(key, data[key])
    if "small_code" in fields and "class_code" not in fields:
        fields["class_code"] = fields["small_code"][:2]
    if data.get("source") is not None:
        channel = _text("source", data["source"])
        fields["channel"] = channel
        fields["source"] = normalise_source(channel)
    if not skip_deadline and data.get("deadline") is not None:
        # The source fixed the deadline itself (Open311 expected_datetime): natural time.
        fields["deadline"] = _instant("deadline", data["deadline"])
        fields["deadline_fixed"] = True
        fields["basis"] = Basis.NATURAL
    return fields


# --- what each action does ---------------------------------------------------------------------


def _mark(case: CaseState, stage: Stage, ts: float, actor: str | None) -> StageMark:
    due = case.stage_deadline if case.stage is stage else None
    return StageMark(at=ts, due=due, actor=actor)


def _start(case: CaseState, stage: Stage, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "stage": stage,
        "stage_started_at": ts,
        "stage_deadline": rules.stage_deadline(stage, ts, case.urgent),
    }


_NO_STAGE: dict[str, Any] = {"stage": None, "stage_started_at": None, "stage_deadline": None}


def _close_deadline(deadline: float, urgent: bool, rules: Rules) -> float:
    # [D] 按期结案 means closed by the disposal deadline plus the 核查 and 结案 limits.
    due = deadline
    for stage in (Stage.CHECK, Stage.CLOSE):
        due = rules.stage_deadline(stage, due, urgent) or due
    return due


def _disposal_clock(deadline: float, case: CaseState, rules: Rules) -> dict[str, Any]:
    return {
        "deadline": deadline,
        "close_deadline": _close_deadline(deadline, case.urgent, rules),
        "stage": Stage.DISPOSAL,
        "stage_deadline": deadline,
    }


def _refix_deadline(case: CaseState, rules: Rules) -> CaseState:
    # A deadline sent by the source mid-disposal replaces the whole clock, extensions included.
    assert case.deadline is not None and case.dispatched_at is not None
    return replace(
        case,
        limit=None,
        limit_s=max(0.0, case.deadline - case.dispatched_at),
        extension_s=0.0,
        suspended_s=0.0,
        close_deadline=_close_deadline(case.deadline, case.urgent, rules),
        stage_deadline=case.deadline if case.stage is Stage.DISPOSAL else case.stage_deadline,
    )


def _report(event: EventIn, ts: float, rules: Rules) -> CaseState:
    fields = _case_fields(event.case or {}, skip_deadline=False)
    case = CaseState(
        case_id=_text("case_id", event.case_id),
        state=State.REPORTED,
        reported_at=ts,
        updated_at=ts,
        reporter=event.actor,
        **fields,
    )
    if case.deadline is not None:
        case = replace(case, limit_s=max(0.0, case.deadline - ts))
    return replace(case, **_start(case, Stage.ACCEPT, ts, rules))


def _verify_request(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "accept_mark": _mark(case, Stage.ACCEPT, ts, event.actor),
        "verify_requested_at": ts,
        **_start(case, Stage.VERIFY, ts, rules),
    }


def _verify(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "verify_mark": _mark(case, Stage.VERIFY, ts, event.actor),
        "verified": True,
        "verified_at": ts,
        "accepted_at": ts,
        **_start(case, Stage.FILE, ts, rules),
    }


def _accept(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "accept_mark": _mark(case, Stage.ACCEPT, ts, event.actor),
        "accepted_at": ts,
        **_start(case, Stage.FILE, ts, rules),
    }


def _void(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    changes: dict[str, Any] = {"voided_at": ts, **_NO_STAGE}
    if case.state is State.REPORTED:  # 不予受理 is the 受理员's decision on the report
        changes["accept_mark"] = _mark(case, Stage.ACCEPT, ts, event.actor)
    elif case.state is State.VERIFYING:  # the verification found the report false
        changes["verify_mark"] = _mark(case, Stage.VERIFY, ts, event.actor)
        changes["verified"] = False
    return changes


def _file(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "file_mark": _mark(case, Stage.FILE, ts, event.actor),
        "filed_at": ts,
        **_start(case, Stage.DISPATCH, ts, rules),
    }


def _not_file(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {"not_filed_at": ts, **_NO_STAGE}


def _dispatch(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    if case.department is None:
        raise IllegalTransition(f"cannot {_named(Action.DISPATCH)} without a department")
    changes: dict[str, Any] = {
        "dispatch_marks": (*case.dispatch_marks, _mark(case, Stage.DISPATCH, ts, event.actor)),
        "dispatched_at": ts,
        "first_dispatched_at": case.first_dispatched_at or ts,
        "feedback_at": None,
        "extension_s": 0.0,
        "suspended_s": 0.0,
        "stage_started_at": ts,
    }
    if case.deadline_fixed and case.deadline is not None:
        limit: TimeLimit | None = None
        basis = Basis.NATURAL
        deadline = case.deadline
        limit_s = max(0.0, deadline - ts)
    else:
        limit = rules.limits.disposal_limit(case.category, case.small_code, case.condition, case.class_code)
        basis = rules.basis(limit, case.urgent)
        limit_s = rules.seconds(limit, basis)
        deadline = rules.add(ts, limit_s, basis)
    changes.update(limit=limit, basis=basis, limit_s=limit_s)
    changes.update(_disposal_clock(deadline, case, rules))
    return changes


def _sign(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {"signed_at": ts}


def _return(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    marks = case.dispatch_marks
    if marks:
        marks = (*marks[:-1], replace(marks[-1], returned=True))
    return {
        "dispatch_marks": marks,
        "returns": case.returns + 1,
        "returned_from": case.department,
        "department": None,
        "dispatched_at": None,
        "signed_at": None,
        "deadline": None if not case.deadline_fixed else case.deadline,
        "close_deadline": None,
        "limit": None,
        **_start(case, Stage.DISPATCH, ts, rules),
    }


def _extension_seconds(case: CaseState, data: Mapping[str, Any], rules: Rules) -> float:
    basis = case.basis or Basis.NATURAL
    if data.get("extension") is not None:
        value = data["extension"]
        if isinstance(value, str):
            try:
                seconds = rules.seconds(parse_limit(value), basis)
            except ValueError as error:
                raise InvalidCaseData(f"延期 (extend): {error}") from None
        else:
            seconds = _instant("extension", value)  # seconds on the case's own clock
    elif data.get("deadline") is not None and case.deadline is not None:
        seconds = rules.measure(case.deadline, _instant("deadline", data["deadline"]), basis)
    else:
        raise InvalidCaseData(
            f"{_named(Action.EXTEND)} needs the approved time: 'extension' (e.g. '1 工作日', or "
            "seconds) or the new 'deadline'"
        )
    if seconds <= 0:
        raise InvalidCaseData(f"{_named(Action.EXTEND)} must move the deadline later")
    return seconds


def _extend(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    seconds = _extension_seconds(case, event.case or {}, rules)
    basis = case.basis or Basis.NATURAL
    assert case.deadline is not None  # IN_DISPOSAL always has one
    return {
        "extensions": case.extensions + 1,
        "extension_s": case.extension_s + seconds,
        **_disposal_clock(rules.add(case.deadline, seconds, basis), case, rules),
    }


def _suspend(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {"suspended_since": ts, "last_suspended_at": ts, "suspensions": case.suspensions + 1}


def _resume(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    basis = case.basis or Basis.NATURAL
    assert case.suspended_since is not None and case.deadline is not None
    # The paused time, measured on the case's own clock, moves the deadline (§4, [R]).
    paused = rules.measure(case.suspended_since, ts, basis)
    return {
        "suspended_since": None,
        "suspended_s": case.suspended_s + paused,
        **_disposal_clock(rules.add(case.deadline, paused, basis), case, rules),
    }


def _feedback(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "feedback_at": ts,
        "first_feedback_at": case.first_feedback_at or ts,
        **_start(case, Stage.CHECK, ts, rules),
    }


def _check_pass(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "check_marks": (*case.check_marks, _mark(case, Stage.CHECK, ts, event.actor)),
        "checked_at": ts,
        **_start(case, Stage.CLOSE, ts, rules),
    }


def _check_fail(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {
        "check_marks": (*case.check_marks, _mark(case, Stage.CHECK, ts, event.actor)),
        "checked_at": ts,
        "reworks": case.reworks + 1,
        "feedback_at": None,
        "stage": Stage.DISPOSAL,
        "stage_started_at": ts,
        "stage_deadline": case.deadline,
    }


def _close(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    changes = {"close_mark": _mark(case, Stage.CLOSE, ts, event.actor), "closed_at": ts, **_NO_STAGE}
    if case.external and case.feedback_at is None:
        # The other system closed it without telling us when the fix was done: no later than now.
        changes.update(feedback_at=ts, first_feedback_at=case.first_feedback_at or ts)
    return changes


def _self_dispose(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    return {"self_disposed": True, "closed_at": ts, **_NO_STAGE}


_Handler = Callable[[CaseState, EventIn, float, Rules], dict[str, Any]]
def _supervise(case: CaseState, event: EventIn, ts: float, rules: Rules) -> dict[str, Any]:
    # A reminder with a note, not a step: no clock starts or stops, no deadline moves (a new
    # deadline the leader asks for is a request; the case system answers it with 延期).
    return {"supervisions": case.supervisions + 1, "supervised_at": ts}


_HANDLERS: Mapping[Action, _Handler] = {
    Action.SUPERVISE: _supervise,
    Action.VERIFY_REQUEST: _verify_request,
    Action.VERIFY: _verify,
    Action.ACCEPT: _accept,
    Action.VOID: _void,
    Action.FILE: _file,
    Action.NOT_FILE: _not_file,
    Action.DISPATCH: _dispatch,
    Action.SIGN: _sign,
    Action.RETURN: _return,
    Action.EXTEND: _extend,
    Action.SUSPEND: _suspend,
    Action.RESUME: _resume,
    Action.FEEDBACK: _feedback,
    Action.CHECK_PASS: _check_pass,
    Action.CHECK_FAIL: _check_fail,
    Action.CLOSE: _close,
    Action.SELF_DISPOSE: _self_dispose,
}
