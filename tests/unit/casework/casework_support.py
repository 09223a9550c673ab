"""Shared helpers of the casework tests: local times, events, a case driven through its life."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from dashboard import casedata
from dashboard.casework.actions import Action, State
from dashboard.casework.casestate import CaseState
from dashboard.casework.lifecycle import TRANSITIONS, apply
from dashboard.casework.timelimits import Rules
from dashboard.records import CaseEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
GRID = "11010210100101"  # 14 digits: 110102 / 101 / 001 / 01
RULES: Rules = casedata.load_rules()  # the shipped data: 2026 holidays, [D] limits
_ids = itertools.count()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """UTC epoch seconds of a Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, SHANGHAI).replace(tzinfo=None)


def event(action: str, ts: float, case_id: str = "C1", actor: str | None = "u1", **case: Any) -> CaseEvent:
    return CaseEvent(f"e{next(_ids)}", case_id, action, ts, actor, case)


def drive(
    steps: list[tuple[str, float] | tuple[str, float, dict[str, Any]]],
    case_id: str = "C1",
    rules: Rules = RULES,
    **report_fields: Any,
) -> CaseState:
    """Apply ('action', ts[, fields]) steps; the first step's fields default to a simple case."""
    fields = {
        "source": "supervisor",
        "category": "event",
        "small_code": "0102",  # 暴露垃圾: 4 工作时 in the shipped table
        "grid_code": GRID,
        **report_fields,
    }
    case: CaseState | None = None
    for index, step in enumerate(steps):
        action, ts = step[0], step[1]
        extra = dict(step[2]) if len(step) > 2 else {}  # type: ignore[misc]
        if index == 0:
            extra = {**fields, **extra}
        case = apply(case, event(action, ts, case_id, **extra), rules)
    assert case is not None
    return case


def disposed_case(
    case_id: str,
    dispatch: float,
    feedback: float | None,
    close: float | None = None,
    department: str = "D01",
    **fields: Any,
) -> CaseState:
    """A case reported, filed and dispatched at ``dispatch``; disposed and closed if given."""
    steps: list[Any] = [
        ("report", dispatch - 600),
        ("accept", dispatch - 500),
        ("file", dispatch - 400),
        ("dispatch", dispatch, {"department": department}),
        ("sign", dispatch),
    ]
    if feedback is not None:
        steps += [("feedback", feedback), ("check_pass", feedback)]
        if close is not None:
            steps.append(("close", close))
    return drive(steps, case_id=case_id, **fields)


# --- random cases for property tests -----------------------------------------------------------

_MAIN_FLOW = {
    State.REPORTED: Action.ACCEPT,
    State.VERIFYING: Action.VERIFY,
    State.ACCEPTED: Action.FILE,
    State.FILED: Action.DISPATCH,
    State.DISPATCHED: Action.SIGN,
    State.IN_DISPOSAL: Action.FEEDBACK,
    State.SUSPENDED: Action.RESUME,
    State.AWAIT_CHECK: Action.CHECK_PASS,
    State.AWAIT_CLOSE: Action.CLOSE,
}
_GAPS = [0, 60, 600, 3600, 4 * 3600, 86400, 3 * 86400]


@st.composite
def case_states(draw: st.DrawFn) -> CaseState:
    """A case reported between 26 Feb and 1 Apr 2026, moved mostly along the main flow (so
    many reach disposal and closing) with detours: 回退, 延期, 挂账, 返工, 作废, ..."""
    ts = at(2026, 2, 26) + draw(st.integers(0, 34 * 86400))
    case = drive(
        [("report", ts)],
        case_id=f"H{next(_ids)}",
        source=draw(st.sampled_from(["supervisor", "12345", "video"])),
        urgent=draw(st.booleans()),
        grid_code=draw(st.sampled_from([GRID, GRID[:-2] + "02", "11010210200101"])),
        small_code=draw(st.sampled_from(["0102", "0104", "0301"])),
    )
    for _ in range(draw(st.integers(0, 14))):
        legal = [a for a, t in TRANSITIONS.items() if case.state in t.sources]
        if not legal:
            break
        main = _MAIN_FLOW.get(case.state)
        take_main = main is not None and draw(st.integers(0, 3)) > 0
        action = main if take_main else draw(st.sampled_from(sorted(legal)))
        ts += draw(st.sampled_from(_GAPS)) + draw(st.integers(0, 600))
        needs: dict[str, Any] = {}
        if action is Action.DISPATCH:
            needs["department"] = draw(st.sampled_from(["D01", "D02", "D03"]))
        elif action is Action.EXTEND:
            needs["extension"] = "2 工作时"
        case = apply(case, event(action.value, ts, case.case_id, draw(st.sampled_from(["u1", "u2"])), **needs), RULES)
    return case
