"""Cases whose lifecycle runs in another case system (Open311): we see only report and close."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboard import casedata
from dashboard.casework import lifecycle
from dashboard.casework.actions import State
from dashboard.casework.errors import IllegalTransition
from dashboard.records import CaseEvent
from feeds.decoders import DecodeContext
from feeds.decoders.open311 import decode

RULES = casedata.load_rules()
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "clients" / "open311_requests_raw.txt"


def ev(action: str, ts: float, **case: object) -> CaseEvent:
    return CaseEvent(event_id=f"{action}-{ts}", case_id="X1", action=action, ts=ts, case=dict(case))


def test_an_external_case_closes_from_any_open_state():
    case = lifecycle.apply(None, ev("report", 1000.0, source="public", external=True, category="event"), RULES)
    closed = lifecycle.apply(case, ev("close", 5000.0), RULES)
    assert closed.state is State.CLOSED and closed.closed_at == 5000.0
    assert closed.feedback_at == 5000.0  # the fix was done by then at the latest


def test_our_own_cases_still_follow_the_table():
    case = lifecycle.apply(None, ev("report", 1000.0, source="supervisor", category="event"), RULES)
    with pytest.raises(IllegalTransition, match="close"):
        lifecycle.apply(case, ev("close", 5000.0), RULES)


def test_the_open311_sample_replays_into_a_closed_case_with_its_deadline():
    ctx = DecodeContext(now=time.time())
    events = decode("open311/requests", FIXTURE.read_bytes(), ctx)
    assert [e.action for e in events] == ["report", "close"]
    case = lifecycle.replay(events, RULES)
    assert case.state is State.CLOSED and case.external
    assert case.deadline == events[0].case["deadline"]  # expected_datetime, fixed by the city
    assert case.closed_at <= case.deadline  # closed the same minute it was requested
