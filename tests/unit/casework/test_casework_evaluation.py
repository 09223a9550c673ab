"""Evaluation (docs/domain.md §6): counters, rates, scores, grades, ranking, periods."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from casework_support import GRID, RULES, at, case_states, disposed_case, drive, event
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.casework.counters import Counters, disposal_outcome
from dashboard.casework.evaluation import by_collector, by_department, by_region, evaluate
from dashboard.casework.lifecycle import apply
from dashboard.casework.periods import date_range, period_range
from dashboard.casework.ranking import rank
from dashboard.casework.rates import RATES, percent, rate_fraction, rates
from dashboard.casework.scoring import CJT292, JINNIU, grade, preset, score

MARCH = period_range("month", date(2026, 3, 1))
APRIL_10 = at(2026, 4, 10)
MON = (2026, 3, 2)  # dispatched 08:00; 暴露垃圾 4 工作时 → due 12:00; close due 15:30


def d01_cases():
    """Seven cases of department D01, worked out by hand in the tests below."""
    day = lambda h, m=0: at(*MON, h, m)  # noqa: E731
    extended = drive(
        [
            ("report", day(7, 50)),
            ("accept", day(7, 51)),
            ("file", day(7, 52)),
            ("dispatch", day(8), {"department": "D01"}),
            ("sign", day(8)),
            ("extend", day(9), {"extension": "1 工作日"}),  # due Tue 12:00
            ("feedback", at(2026, 3, 3, 11)),
            ("check_pass", at(2026, 3, 3, 11)),
            ("close", at(2026, 3, 3, 11, 30)),
        ],
        case_id="extended",
    )
    rework = drive(
        [
            ("report", day(7, 50)),
            ("accept", day(7, 51)),
            ("file", day(7, 52)),
            ("dispatch", day(8), {"department": "D01"}),
            ("sign", day(8)),
            ("feedback", day(9)),
            ("check_fail", day(9, 30)),
            ("feedback", day(11)),
            ("check_pass", day(11, 10)),
            ("close", day(11, 30)),
        ],
        case_id="rework",
    )
    return [
        disposed_case("ok", day(8), day(10), day(10, 30)),  # on time, closed on time
        disposed_case("late", day(8), day(13, 30), day(16)),  # late, closed late (> 15:30)
        disposed_case("late_closed_in_time", day(8), day(12, 30), day(13)),
        disposed_case("pending", day(8), None),  # overdue, never disposed
        rework,
        extended,
        disposed_case("not_due", at(2026, 3, 31, 17), None),  # due 1 April 11:00: not March's
    ]


def test_department_counters_by_hand() -> None:
    c = by_department(d01_cases(), MARCH, APRIL_10)["D01"]
    assert (c.disposed_on_time, c.disposed_late, c.overdue_pending, c.due_disposal) == (3, 2, 1, 6)
    assert (c.closed_on_time, c.closed_late, c.overdue_unclosed, c.due_close) == (4, 1, 1, 6)
    assert (c.reworked, c.rework_events, c.extended, c.extension_events) == (1, 1, 1, 1)
    assert (c.filed, c.dispatched, c.returned, c.reported, c.supervisor_reports) == (7, 7, 0, 7, 7)
    assert c.valid_reports == 7 and c.check_due == 6  # 5 disposed cases, the rework one checked twice
    assert (c.accept_due, c.accept_on_time) == (7, 7)  # 1 minute after the report, limit 10


def test_department_rates_by_hand() -> None:
    r = rates(by_department(d01_cases(), MARCH, APRIL_10)["D01"])
    assert r["disposal_rate"] == pytest.approx(5 / 6)
    assert r["on_time_disposal_rate"] == pytest.approx(3 / 6)
    assert r["close_rate"] == pytest.approx(5 / 6)
    assert r["on_time_close_rate"] == pytest.approx(4 / 6)
    assert r["rework_rate"] == pytest.approx(1 / 6)
    assert r["extension_rate"] == pytest.approx(1 / 6)
    assert r["overdue_pending_rate"] == pytest.approx(1 / 6)
    assert r["supervision_report_rate"] == 0 and r["valid_report_rate"] == 1
    assert r["on_time_verify_rate"] is None  # nothing to verify: shown "—"


def test_department_scores_by_hand() -> None:
    c = by_department(d01_cases(), MARCH, APRIL_10)["D01"]
    # cjt292: 立案数 7 ≤ 50 → 100×10 % + 结案率 5/6×30 % + 按期处置率 1/2×30 % + (1−1/6)×30 %
    result = score(c, "department", "cjt292")
    assert result.value == 75.0 and result.grade == "B"
    # jinniu: 5/6×30 + 1/2×20 + 5/6×20 + 5/6×20 + 5/6×10 = 76.666…
    assert score(c, "department", "jinniu").value == 76.67


def test_region_score_counts_filed_cases_per_grid() -> None:
    other_grid = GRID[:-2] + "02"
    rows = by_region(d01_cases(), MARCH, APRIL_10, "street", grid_codes=[GRID, other_grid])
    street = rows[GRID[:9]]
    assert street.grids == 2 and street.filed_net == 7
    result = score(street, "region")
    # 监督举报率 0 → 100×10 % + 3.5 per grid → 75×20 % + 5/6×30 % + 4/6×40 % = 76.67
    assert result.terms["filed_net"] == 75 and result.value == 76.67
    assert set(by_region(d01_cases(), MARCH, APRIL_10, "district")) == {GRID[:6]}


@pytest.mark.parametrize(
    ("on_time", "closed", "due", "close_rate", "on_time_rate"),
    [
        (737, 911, 972, "93.72 %", "75.82 %"),  # Tianmen (docs/domain.md §6.2)
        (22345, 23974, 24932, "96.16 %", "89.62 %"),  # Lianyungang
    ],
)
def test_published_close_rates(on_time: int, closed: int, due: int, close_rate: str, on_time_rate: str) -> None:
    c = Counters.from_row(
        {"closed_on_time": on_time, "closed_late": closed - on_time, "overdue_unclosed": due - closed}
    )
    assert (c.closed, c.due_close) == (closed, due)
    assert percent(rate_fraction(c, "close_rate")) == close_rate
    assert percent(rate_fraction(c, "on_time_close_rate")) == on_time_rate
    assert percent(rates(c)["close_rate"]) == close_rate


def test_percent_rounds_half_up_and_shows_a_dash() -> None:
    assert percent(rate_fraction(Counters(closed_on_time=1, overdue_unclosed=7), "close_rate")) == "12.50 %"
    assert percent(rate_fraction(Counters(closed_on_time=1, overdue_unclosed=1999), "close_rate")) == "0.05 %"
    assert percent(None) == "—"


def test_a_case_late_in_january_counts_in_january_only() -> None:
    case = disposed_case("C", at(2026, 1, 30, 14), at(2026, 2, 3, 9), at(2026, 2, 3, 10))
    january = period_range("month", date(2026, 1, 1))
    february = period_range("month", date(2026, 2, 1))
    during = Counters.of(case, january, at(2026, 1, 31, 12))  # on the wall before the month ends
    after = Counters.of(case, january, at(2026, 3, 1))  # in the monthly report
    assert during.overdue_pending == after.overdue_pending == 1
    assert Counters.of(case, february, at(2026, 3, 1)).due_disposal == 0
    assert disposal_outcome(case, at(2026, 3, 1)) == ("late", case.deadline)


def test_suspended_cases_leave_the_due_counts() -> None:
    start = at(2026, 1, 5, 9)
    steps = [
        ("report", start - 60),
        ("accept", start - 50),
        ("file", start - 40),
        ("dispatch", start, {"department": "D01"}),
        ("sign", start),
    ]
    january = period_range("month", date(2026, 1, 1))
    paused = drive([*steps, ("suspend", start + 3600)], case_id="P")
    assert Counters.of(paused, january, at(2026, 3, 1)).due_disposal == 0
    assert Counters.of(paused, january, at(2026, 3, 1)).suspended == 1
    too_late = drive([*steps, ("suspend", at(2026, 1, 5, 16))], case_id="Q")  # due 14:00
    assert Counters.of(too_late, january, at(2026, 3, 1)).overdue_pending == 1
    assert Counters.of(paused, january, at(2026, 3, 1)).filed_suspended == 1


def test_the_fold_and_a_sql_row_give_the_same_counters() -> None:
    folded = by_department(d01_cases(), MARCH, APRIL_10)["D01"]
    row = {"department": "D01", **folded.as_dict()}
    assert Counters.from_row(row) == folded
    assert sum((Counters.of(c, MARCH, APRIL_10) for c in d01_cases()), Counters()) == folded
    assert folded - Counters.of(d01_cases()[0], MARCH, APRIL_10) != folded


@pytest.mark.parametrize(
    "row",
    [
        {"closed_on_time": 2, "reworked": 3},
        {"filed": 1, "public_filed": 2},
        {"dispatched": 1, "returned": 2},
        {"filed": -1},
        {"filed": 1.5},
        {"filed": True},
    ],
)
def test_inconsistent_rows_are_refused(row: dict) -> None:
    with pytest.raises(ValueError):
        Counters.from_row(row)


def test_collectors_get_their_reports_checks_and_grids() -> None:
    t = at(2026, 3, 2, 9)
    own = apply(
        None,
        event("report", t, "R1", "C007", source="supervisor", category="event", small_code="0102", grid_code=GRID),
        RULES,
    )
    for i, action in enumerate(["accept", "file"], 1):
        own = apply(own, event(action, t + 60 * i, "R1", "boss"), RULES)
    public = apply(
        None,
        event("report", t, "P1", "citizen", source="12345", category="event", small_code="0102", grid_code=GRID),
        RULES,
    )
    public = apply(public, event("verify_request", t + 60, "P1", "desk"), RULES)
    public = apply(public, event("verify", t + 7200, "P1", "C008"), RULES)  # 1 工作时 limit: late
    public = apply(public, event("file", t + 7300, "P1", "boss"), RULES)
    rows = by_collector([own, public], MARCH, APRIL_10, {GRID: ["C007"]})
    assert (rows["C007"].supervisor_reports, rows["C007"].valid_reports) == (1, 1)
    assert (rows["C007"].filed, rows["C007"].public_filed) == (2, 1)
    assert rates(rows["C007"])["missed_report_rate"] == 0.5
    assert (rows["C008"].verify_due, rows["C008"].verify_on_time) == (1, 0)
    assert "citizen" not in rows
    assert evaluate([own, public], "collector", MARCH, APRIL_10, grid_collectors={GRID: ["C007"]})[0].code in rows


SIMPLE = {
    "name": "test",
    "tie_break": ["on_time_disposal_rate", "due_disposal"],
    "objects": {"department": [{"rate": "close_rate", "weight": 100}]},
}


def counters(closed: int, due_close: int, on_time: int, due: int) -> Counters:
    return Counters(
        closed_on_time=closed,
        overdue_unclosed=due_close - closed,
        disposed_on_time=on_time,
        overdue_pending=due - on_time,
    )


def test_ranking_order_and_ties() -> None:
    rows = {
        "D2": counters(8, 10, 5, 10),
        "D3": counters(8, 10, 5, 10),  # identical to D2: the code decides
        "D5": counters(0, 0, 0, 0),  # no denominator: unranked
        "D9": counters(9, 10, 5, 10),
        "D1": counters(4, 5, 4, 5),  # same score as D2, better 按期处置率
        "D4": counters(16, 20, 10, 20),  # same score and rate as D2, more 应处置
        "D0": counters(0, 0, 1, 1),
    }
    ranked = rank(rows, "department", SIMPLE)
    assert [r.code for r in ranked] == ["D9", "D1", "D4", "D2", "D3", "D0", "D5"]
    assert [r.position for r in ranked] == [1, 2, 3, 4, 5, None, None]
    assert ranked[-1].score is None and ranked[-1].rates["close_rate"] is None
    assert [r.code for r in rank(list(reversed(rows.items())), "department", SIMPLE)] == [r.code for r in ranked]


@pytest.mark.parametrize(
    ("value", "letter"),
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (75, "B"),
        (74.99, "C"),
        (60, "C"),
        (40, "D"),
        (39.99, "E"),
        (0, "E"),
        (None, None),
    ],
)
def test_grades(value: float | None, letter: str | None) -> None:
    assert grade(value) == letter


def test_grades_are_configurable() -> None:
    assert grade(85, {"优秀": 85, "良好": 70}) == "优秀" and grade(69, {"优秀": 85, "良好": 70}) == "E"


def test_presets_are_checked() -> None:
    preset(dict(CJT292)), preset(dict(JINNIU))  # the shipped presets pass their own checks
    bad = {"objects": {"department": [{"rate": "close_rate", "weight": 90}]}}
    with pytest.raises(ValueError, match="add up to 90"):
        preset(bad)
    with pytest.raises(ValueError, match="unknown rate"):
        preset({"objects": {"department": [{"rate": "happiness", "weight": 100}]}})
    with pytest.raises(ValueError, match="no formula for region"):
        score(Counters(), "region", "jinniu")
    with pytest.raises(ValueError, match="unknown score preset"):
        score(Counters(), "department", "beijing")


def test_periods_are_local_days_in_utc() -> None:
    assert period_range("month", date(2026, 3, 17)) == (at(2026, 3, 1), at(2026, 4, 1))
    assert period_range("week", date(2026, 3, 4)) == (at(2026, 3, 2), at(2026, 3, 9))
    assert period_range("quarter", date(2026, 2, 14)) == (at(2026, 1, 1), at(2026, 4, 1))
    assert period_range("month", date(2026, 12, 5)) == (at(2026, 12, 1), at(2027, 1, 1))
    assert period_range("year", date(2026, 7, 1)) == (at(2026, 1, 1), at(2027, 1, 1))
    assert period_range("day", at(2026, 4, 1, 0, 30)) == (at(2026, 4, 1), at(2026, 4, 2))  # 31 Mar in UTC
    assert date_range(date(2026, 5, 1), date(2026, 5, 5)) == (at(2026, 5, 1), at(2026, 5, 6))
    with pytest.raises(ValueError):
        period_range("fortnight", date(2026, 3, 1))


# --- properties ---------------------------------------------------------------------------------

_periods = st.sampled_from([period_range(kind, date(2026, 3, 10)) for kind in ("day", "week", "month", "quarter")])


@settings(max_examples=150, deadline=None)
@given(st.lists(case_states(), max_size=25), _periods, st.integers(0, 120 * 86400))
def test_every_rate_lies_between_0_and_1(cases, period, offset) -> None:
    now = at(2026, 2, 1) + offset
    total = Counters()
    for case in cases:
        total.add(case, period, now)
    total.check()
    for name, value in rates(total).items():
        assert value is None or 0 <= value <= 1, name
    for rows in (by_department(cases, period, now), by_region(cases, period, now, "community")):
        for c in rows.values():
            assert all(v is None or 0 <= v <= 1 for v in rates(c).values())


@settings(max_examples=150, deadline=None)
@given(st.lists(case_states(), max_size=25), st.integers(0, 20 * 86400), st.integers(0, 4 * 3600))
def test_an_on_time_case_never_lowers_the_on_time_disposal_rate(cases, start, took) -> None:
    period, now = MARCH, APRIL_10
    before = Counters()
    for case in cases:
        before.add(case, period, now)
    dispatch = at(2026, 3, 2, 8) + start
    extra = disposed_case("N-extra", dispatch, None)
    feedback = min(dispatch + took, extra.deadline)  # on time by construction
    extra = apply(extra, event("feedback", feedback, extra.case_id), RULES)
    after = before + Counters.of(extra, period, now)
    assert after.disposed_on_time == before.disposed_on_time + 1
    old, new = rate_fraction(before, "on_time_disposal_rate"), rate_fraction(after, "on_time_disposal_rate")
    assert new is not None and (old is None or new >= old)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_on_time_disposal_rate_formula_is_monotone(on_time: int, late: int, pending: int) -> None:
    c = Counters(disposed_on_time=on_time, disposed_late=late, overdue_pending=pending)
    more = c + Counters(disposed_on_time=1)
    old, new = rate_fraction(c, "on_time_disposal_rate"), rate_fraction(more, "on_time_disposal_rate")
    assert old is None or new >= old
    assert new == Fraction(on_time + 1, on_time + late + pending + 1)


def test_every_rate_has_a_chinese_name_and_known_fields() -> None:
    for definition in RATES.values():
        assert hasattr(Counters, definition.numerator) and hasattr(Counters, definition.denominator)
        assert definition.zh.endswith("率")


def test_the_month_boundary_uses_local_midnight() -> None:
    last_day = disposed_case("M", at(2026, 3, 31, 9), at(2026, 3, 31, 10), at(2026, 3, 31, 10, 30))
    assert Counters.of(last_day, MARCH, APRIL_10).disposed_on_time == 1
    first_day = disposed_case("N", at(2026, 4, 1, 8) - timedelta(minutes=1).total_seconds(), None)
    assert Counters.of(first_day, MARCH, APRIL_10).due_disposal == 0
