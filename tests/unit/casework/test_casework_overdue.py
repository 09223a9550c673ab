"""Lights of open cases (docs/domain.md §5.3) and the wall's light counts."""

from __future__ import annotations

import pytest
from casework_support import RULES, at, disposed_case, drive

from dashboard.casework.overdue import (
    Light,
    LightPolicy,
    count_lights,
    disposal_light,
    stage_light,
)

MONDAY_8 = at(2026, 3, 2, 8, 0)


def open_case(case_id: str = "C1", dispatch: float = MONDAY_8, **fields):
    return disposed_case(case_id, dispatch, None, **fields)  # 暴露垃圾: 4 工作时 → 12:00


@pytest.mark.parametrize(
    ("now", "light"),
    [
        (at(2026, 3, 2, 8, 0), Light.GREEN),
        (at(2026, 3, 2, 9, 0), Light.GREEN),  # 25 % used
        (at(2026, 3, 2, 10, 0), Light.GREEN),  # 50 % used, 2 h left
        (at(2026, 3, 2, 10, 59), Light.GREEN),  # 1 h 01 min left, 74.6 % used
        (at(2026, 3, 2, 11, 0), Light.YELLOW),  # 1 工作时 left
        (at(2026, 3, 2, 12, 0), Light.YELLOW),  # exactly at the deadline: not yet overdue
        (at(2026, 3, 2, 12, 1), Light.RED),
        (at(2026, 3, 2, 13, 0), Light.RED),  # lunch break: no working time passes, still late
    ],
)
def test_lights_over_the_day(now: float, light: Light) -> None:
    assert disposal_light(open_case(), now, RULES) is light


def test_yellow_by_ratio_before_the_remaining_threshold() -> None:
    policy = LightPolicy(warn_ratio=0.5, warn_remaining_s=0)
    case = open_case()
    assert disposal_light(case, at(2026, 3, 2, 9, 59), RULES, policy) is Light.GREEN
    assert disposal_light(case, at(2026, 3, 2, 10, 0), RULES, policy) is Light.YELLOW  # 2 of 4 h


def test_remaining_is_counted_in_working_time_over_a_weekend() -> None:
    case = open_case(dispatch=at(2026, 3, 6, 17, 30))  # due Monday 11:30
    assert disposal_light(case, at(2026, 3, 7, 12, 0), RULES) is Light.GREEN  # 3.5 h left
    case = open_case(dispatch=at(2026, 3, 6, 14, 30))  # due Friday 18:00 + 0.5 h → Mon 08:30
    assert disposal_light(case, at(2026, 3, 7, 12, 0), RULES) is Light.YELLOW  # 0.5 h left


def test_urgent_cases_are_measured_in_natural_time() -> None:
    case = open_case(dispatch=at(2026, 3, 7, 22, 0), urgent=True)  # Saturday night, 4 h natural
    assert disposal_light(case, at(2026, 3, 7, 23, 0), RULES) is Light.GREEN
    assert disposal_light(case, at(2026, 3, 8, 1, 0), RULES) is Light.YELLOW
    assert disposal_light(case, at(2026, 3, 8, 2, 1), RULES) is Light.RED


def test_suspended_cases_are_grey_never_red() -> None:
    case = drive(
        [
            ("report", MONDAY_8 - 60),
            ("accept", MONDAY_8 - 50),
            ("file", MONDAY_8 - 40),
            ("dispatch", MONDAY_8, {"department": "D01"}),
            ("sign", MONDAY_8),
            ("suspend", MONDAY_8 + 600),
        ]
    )
    assert disposal_light(case, at(2026, 12, 31), RULES) is Light.GREY


def test_no_disposal_light_without_a_running_clock() -> None:
    assert disposal_light(drive([("report", MONDAY_8)]), MONDAY_8, RULES) is None
    done = disposed_case("C2", MONDAY_8, MONDAY_8 + 3600)
    assert disposal_light(done, at(2026, 3, 9), RULES) is None


def test_stage_light_of_a_waiting_report() -> None:
    case = drive([("report", MONDAY_8)])  # 受理 within 10 分钟 [D]
    assert stage_light(case, MONDAY_8 + 60, RULES) is Light.GREEN
    assert stage_light(case, MONDAY_8 + 480, RULES) is Light.YELLOW
    assert stage_light(case, MONDAY_8 + 601, RULES) is Light.RED


def test_count_lights_by_dimension() -> None:
    now = at(2026, 3, 2, 13, 0)
    cases = [
        open_case("A", department="D01"),  # due 12:00 → red at 13:00
        open_case("B", dispatch=at(2026, 3, 2, 11, 0), department="D01"),  # 1 h used, 3 h left
        open_case("C", dispatch=at(2026, 3, 2, 11, 0), department="D02", source="12345"),
        disposed_case("D", MONDAY_8, MONDAY_8 + 60, department="D02"),  # done: not counted
    ]
    counts = count_lights(cases, now, RULES)
    assert counts["all"]["all"] == {Light.GREEN: 2, Light.YELLOW: 0, Light.RED: 1, Light.GREY: 0}
    assert counts["department"]["D01"][Light.RED] == 1
    assert counts["department"]["D02"][Light.GREEN] == 1
    assert counts["source"]["public"][Light.GREEN] == 1
    assert counts["district"]["110102"][Light.GREEN] == 2
    assert counts["category"]["event"][Light.RED] == 1
    with pytest.raises(ValueError, match="no such field"):
        count_lights(cases, now, RULES, dimensions=["colour"])


def test_light_policy_from_config() -> None:
    policy = LightPolicy.from_data({"warn_ratio": 0.9, "warn_remaining": "30 分钟"})
    assert policy == LightPolicy(0.9, 1800)
    with pytest.raises(ValueError):
        LightPolicy.from_data({"warn_remaining": "1 工作日"})
    with pytest.raises(ValueError):
        LightPolicy(warn_ratio=1.5)
