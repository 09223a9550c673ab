"""The lifecycle of docs/domain.md §4: every legal transition, every rejection, and what each does."""

from __future__ import annotations

import pytest
from casework_support import GRID, RULES, at, drive, event, local
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.casework.actions import TERMINAL_STATES, Action, State
from dashboard.casework.casestate import Source
from dashboard.casework.errors import IllegalTransition, InvalidCaseData, UnknownAction
from dashboard.casework.lifecycle import TRANSITIONS, apply
from dashboard.casework.timelimits import Basis, Stage

A, S = Action, State
T0 = at(2026, 3, 2, 9, 0)  # Monday 09:00

# Written out by hand from docs/domain.md §4 (not derived from TRANSITIONS, which it checks).
LEGAL: dict[tuple[State, Action], State] = {
    (S.REPORTED, A.VERIFY_REQUEST): S.VERIFYING,
    (S.REPORTED, A.ACCEPT): S.ACCEPTED,
    (S.REPORTED, A.VOID): S.VOID,
    (S.REPORTED, A.SELF_DISPOSE): S.CLOSED,
    (S.VERIFYING, A.VERIFY): S.ACCEPTED,
    (S.VERIFYING, A.VOID): S.VOID,
    (S.ACCEPTED, A.VOID): S.VOID,
    (S.ACCEPTED, A.FILE): S.FILED,
    (S.ACCEPTED, A.NOT_FILE): S.NOT_FILED,
    (S.FILED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.SIGN): S.IN_DISPOSAL,
    (S.DISPATCHED, A.RETURN): S.FILED,
    (S.IN_DISPOSAL, A.RETURN): S.FILED,
    (S.IN_DISPOSAL, A.EXTEND): S.IN_DISPOSAL,
    (S.IN_DISPOSAL, A.SUSPEND): S.SUSPENDED,
    (S.IN_DISPOSAL, A.FEEDBACK): S.AWAIT_CHECK,
    (S.SUSPENDED, A.RESUME): S.IN_DISPOSAL,
    (S.AWAIT_CHECK, A.CHECK_PASS): S.AWAIT_CLOSE,
    (S.AWAIT_CHECK, A.CHECK_FAIL): S.IN_DISPOSAL,
    (S.AWAIT_CLOSE, A.CLOSE): S.CLOSED,
    # 督办 (docs/desk.md): on any open case, which stays where it is.
    **{(state, A.SUPERVISE): state for state in State if state not in TERMINAL_STATES},
}

_TO_DISPOSAL = ["report", "accept", "file", "dispatch", "sign"]
PATHS: dict[State, list[str]] = {
    S.REPORTED: ["report"],
    S.VERIFYING: ["report", "verify_request"],
    S.ACCEPTED: ["report", "accept"],
    S.VOID: ["report", "void"],
    S.FILED: ["report", "accept", "file"],
    S.NOT_FILED: ["report", "accept", "not_file"],
    S.DISPATCHED: ["report", "accept", "file", "dispatch"],
    S.IN_DISPOSAL: _TO_DISPOSAL,
    S.SUSPENDED: [*_TO_DISPOSAL, "suspend"],
    S.AWAIT_CHECK: [*_TO_DISPOSAL, "feedback"],
    S.AWAIT_CLOSE: [*_TO_DISPOSAL, "feedback", "check_pass"],
    S.CLOSED: [*_TO_DISPOSAL, "feedback", "check_pass", "close"],
}
# Fields an action needs to be legal at all.
NEEDS: dict[str, dict[str, object]] = {
    "dispatch": {"department": "D01"},
    "extend": {"extension": "1 工作时"},
}


def case_in(state: State):
    steps = [(name, T0 + 60 * i, NEEDS.get(name, {})) for i, name in enumerate(PATHS[state])]
    case = drive(steps)
    assert case.state is state
    return case


def test_the_transition_table_is_exactly_the_domain_table() -> None:
    table = {(src, action): t.target or src for action, t in TRANSITIONS.items() for src in t.sources}
    assert table == LEGAL


@pytest.mark.parametrize("state", list(State), ids=str)
@pytest.mark.parametrize("action", [a for a in Action if a is not A.REPORT], ids=str)
def test_every_state_action_pair(state: State, action: Action) -> None:
    case = case_in(state)
    later = event(action.value, T0 + 3600, **NEEDS.get(action.value, {}))
    expected = LEGAL.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            apply(case, later, RULES)
        assert f"a case in state {state.value}" in refused.value.reason
    else:
        after = apply(case, later, RULES)
        assert after.state is expected
        assert after.version == case.version + 1
        assert after.updated_at == T0 + 3600


@pytest.mark.parametrize("state", list(State), ids=str)
def test_report_on_an_existing_case_is_refused(state: State) -> None:
    with pytest.raises(IllegalTransition, match="already reported"):
        apply(case_in(state), event("report", T0 + 3600), RULES)


def test_reason_names_the_action_in_chinese_and_english() -> None:
    with pytest.raises(IllegalTransition) as refused:
        apply(case_in(S.DISPATCHED), event("close", T0 + 3600), RULES)
    assert refused.value.reason.startswith("cannot 结案 (close) a case in state dispatched")
    assert "allowed from: await_close" in refused.value.reason


def test_finished_cases_say_so() -> None:
    with pytest.raises(IllegalTransition, match=r"state closed \(it is finished\)"):
        apply(case_in(S.CLOSED), event("feedback", T0 + 3600), RULES)


@pytest.mark.parametrize("raw", ["teleport", "CLOSE", "", "结案"])
def test_unknown_actions_are_their_own_error(raw: str) -> None:
    with pytest.raises(UnknownAction, match="unknown action"):
        apply(case_in(S.REPORTED), event(raw, T0 + 3600), RULES)
    with pytest.raises(UnknownAction):
        apply(None, event(raw, T0), RULES)


def test_a_new_case_must_start_with_a_report() -> None:
    with pytest.raises(IllegalTransition, match="starts with 上报"):
        apply(None, event("accept", T0), RULES)


def test_events_out_of_order_are_refused() -> None:
    case = case_in(S.REPORTED)
    with pytest.raises(IllegalTransition, match="older than the case's last event"):
        apply(case, event("accept", T0 - 1), RULES)


def test_dispatch_needs_a_department() -> None:
    with pytest.raises(IllegalTransition, match="without a department"):
        apply(case_in(S.FILED), event("dispatch", T0 + 3600), RULES)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"grid_code": "1101021010010"}, "13 digits"),
        ({"grid_code": "11010210100A01"}, "only the digits"),
        ({"urgent": "maybe"}, "true or false"),
        ({"small_code": 102}, "non-empty string"),
        ({"category": "tree"}, "neither component"),
        ({"deadline": "tomorrow"}, "epoch seconds"),
    ],
)
def test_unusable_case_fields_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCaseData, match=message):
        apply(None, event("report", T0, **fields), RULES)


def test_report_reads_the_case_fields() -> None:
    case = drive([("report", T0)], source="12345", small_code="0501", urgent="1")
    assert case.source is Source.PUBLIC and case.channel == "12345"
    assert (case.category, case.class_code, case.small_code) == ("event", "05", "0501")
    assert (case.district, case.street, case.community) == ("110102", "110102101", "110102101001")
    assert case.urgent is True and case.reporter == "u1"
    assert case.stage is Stage.ACCEPT and local(case.stage_deadline) == local(T0 + 600)


def test_dispatch_sets_the_disposal_deadline_in_working_time() -> None:
    friday = at(2026, 3, 6, 17, 30)
    case = drive(
        [
            ("report", friday - 60),
            ("accept", friday - 50),
            ("file", friday - 40),
            ("dispatch", friday, {"department": "D01"}),
        ]
    )
    assert case.basis is Basis.WORKING and case.limit_s == 4 * 3600
    assert local(case.deadline).isoformat() == "2026-03-09T11:30:00"  # Monday
    # [D] 按期结案: + 核查 1 工作时 (11:30–12:00, 14:00–14:30) + 结案 30 分钟 (natural)
    assert local(case.close_deadline).isoformat() == "2026-03-09T15:00:00"


def test_urgent_dispatch_runs_in_natural_time_across_midnight() -> None:
    night = at(2026, 3, 6, 23, 0)
    case = drive(
        [
            ("report", night - 60),
            ("accept", night - 50),
            ("file", night - 40),
            ("dispatch", night, {"department": "D01", "urgent": True}),
        ]
    )
    assert case.basis is Basis.NATURAL
    assert local(case.deadline).isoformat() == "2026-03-07T03:00:00"  # 4 工作时 read as 4 h


def test_return_clears_the_department_and_redispatch_starts_a_new_clock() -> None:
    case = drive(
        [
            ("report", T0),
            ("accept", T0 + 60),
            ("file", T0 + 120),
            ("dispatch", T0 + 180, {"department": "D01"}),
            ("sign", T0 + 240),
            ("return", T0 + 3600),
        ]
    )
    assert case.state is S.FILED and case.department is None and case.returned_from == "D01"
    assert case.deadline is None and case.returns == 1
    assert case.dispatch_marks[-1].returned and case.stage is Stage.DISPATCH
    redispatch = at(2026, 3, 2, 14, 0)
    case = apply(case, event("dispatch", redispatch, department="D02"), RULES)
    assert case.department == "D02" and len(case.dispatch_marks) == 2
    assert local(case.deadline).isoformat() == "2026-03-02T18:00:00"
    assert case.first_dispatched_at == T0 + 180


def test_rework_keeps_the_original_deadline_and_reopens_the_clock() -> None:
    case = drive(
        [
            *[(n, T0 + i, NEEDS.get(n, {})) for i, n in enumerate(_TO_DISPOSAL)],
            ("feedback", T0 + 600),
            ("check_fail", T0 + 900),
        ]
    )
    before = case.deadline
    assert case.state is S.IN_DISPOSAL and case.reworks == 1
    assert case.feedback_at is None and case.first_feedback_at == T0 + 600
    assert case.deadline == before and case.stage is Stage.DISPOSAL
    assert len(case.check_marks) == 1


def test_extension_in_words_seconds_or_a_new_deadline() -> None:
    base = case_in(S.IN_DISPOSAL)  # dispatched Monday 09:03: 4 工作时 end at 15:03
    assert local(base.deadline).isoformat() == "2026-03-02T15:03:00"
    words = apply(base, event("extend", T0 + 3600, extension="1 工作日"), RULES)
    assert local(words.deadline).isoformat() == "2026-03-03T15:03:00"
    assert words.extensions == 1 and words.extension_s == 8 * 3600
    seconds = apply(base, event("extend", T0 + 3600, extension=1800), RULES)
    assert local(seconds.deadline).isoformat() == "2026-03-02T15:33:00"
    new = apply(base, event("extend", T0 + 3600, deadline=at(2026, 3, 3, 9, 0)), RULES)
    assert local(new.deadline).isoformat() == "2026-03-03T09:00:00"
    assert new.extension_s == 3 * 3600 - 3 * 60 + 3600  # 15:03→18:00, then 08:00→09:00
    with pytest.raises(InvalidCaseData, match="needs the approved time"):
        apply(base, event("extend", T0 + 3600), RULES)
    with pytest.raises(InvalidCaseData, match="later"):
        apply(base, event("extend", T0 + 3600, deadline=base.deadline - 60), RULES)


def test_suspension_and_extension_together_shift_the_deadline() -> None:
    friday = at(2026, 3, 6, 17, 30)
    case = drive(
        [
            ("report", friday - 60),
            ("accept", friday - 50),
            ("file", friday - 40),
            ("dispatch", friday, {"department": "D01"}),
            ("sign", friday + 60),
            ("extend", at(2026, 3, 9, 9, 0), {"extension": "1 工作时"}),  # 11:30 → 14:30
            ("suspend", at(2026, 3, 9, 10, 0)),
        ]
    )
    assert case.state is S.SUSPENDED and local(case.deadline).isoformat() == "2026-03-09T14:30:00"
    case = apply(case, event("resume", at(2026, 3, 9, 15, 0)), RULES)
    # paused 10:00–12:00 and 14:00–15:00 = 3 工作时, so 14:30 + 3 工作时 = 17:30
    assert local(case.deadline).isoformat() == "2026-03-09T17:30:00"
    assert case.suspended_s == 3 * 3600 and case.suspensions == 1 and case.suspended_since is None
    assert case.allowed_s == 5 * 3600


def test_verification_confirms_or_voids() -> None:
    confirmed = drive([("report", T0), ("verify_request", T0 + 60), ("verify", T0 + 120)], source="12345")
    assert confirmed.state is S.ACCEPTED and confirmed.verified is True
    assert confirmed.accept_mark.at == T0 + 60 and confirmed.verify_mark.at == T0 + 120
    assert confirmed.stage is Stage.FILE
    false = drive([("report", T0), ("verify_request", T0 + 60), ("void", T0 + 120)], source="12345")
    assert false.state is S.VOID and false.verified is False and false.voided


def test_self_disposal_closes_without_a_deadline() -> None:
    case = drive([("report", T0), ("self_dispose", T0 + 60)])
    assert case.state is S.CLOSED and case.self_disposed and case.deadline is None
    assert case.closed_at == T0 + 60 and case.accept_mark is None


def test_a_deadline_fixed_by_the_source_is_kept() -> None:
    due = T0 + 86400
    case = drive(
        [
            ("report", T0, {"deadline": due}),
            ("accept", T0 + 60),
            ("file", T0 + 120),
            ("dispatch", T0 + 180, {"department": "D01"}),
        ]
    )
    assert case.deadline_fixed and case.deadline == due and case.basis is Basis.NATURAL
    assert case.limit is None and case.limit_s == due - (T0 + 180)


# Random walks through the table never break the case's invariants.
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Action)), st.integers(0, 3 * 86400)), max_size=25))
def test_random_event_sequences_keep_the_invariants(moves: list[tuple[Action, int]]) -> None:
    case = drive([("report", T0)])
    ts = T0
    for action, gap in moves:
        ts += gap
        before = case.state
        try:
            case = apply(case, event(action.value, ts, **NEEDS.get(action.value, {})), RULES)
        except IllegalTransition:
            assert (before, action) not in LEGAL
            continue
        assert case.state is LEGAL[(before, action)]
        assert min(case.reworks, case.returns, case.extensions, case.suspensions) >= 0
        if case.deadline is not None and case.dispatched_at is not None:
            assert case.deadline >= case.dispatched_at
            assert case.close_deadline >= case.deadline
        if case.state is S.SUSPENDED:
            assert case.suspended_since is not None
        if case.feedback_at is not None:
            assert case.state in (S.AWAIT_CHECK, S.AWAIT_CLOSE, S.CLOSED)
        assert all(m.due is None or m.due >= 0 for m in case.dispatch_marks)
    assert case.grid_code == GRID


def test_supervise_counts_and_changes_nothing_else() -> None:
    """督办 presses an open case on: counted, its time kept; no state, clock or deadline moves."""
    case = case_in(S.IN_DISPOSAL)
    after = apply(case, event("supervise", T0 + 3600, note="今天必须处理完", deadline_request=T0 + 7200), RULES)
    assert (after.supervisions, after.supervised_at) == (1, T0 + 3600)
    assert after.state is case.state and after.deadline == case.deadline and after.stage_deadline == case.stage_deadline
    assert after.version == case.version + 1
    again = apply(after, event("supervise", T0 + 3700), RULES)
    assert again.supervisions == 2
    with pytest.raises(IllegalTransition):
        apply(case_in(S.CLOSED), event("supervise", T0 + 3600 * 24), RULES)
