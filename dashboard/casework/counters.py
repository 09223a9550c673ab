"""The counters of docs/domain.md §6.1 for one object (a department, a region, a collector) and period.

Every counter can be built two ways that give the same numbers: by folding case states one at
a time (``add``) or from one SQL aggregate row (``from_row``) whose column names are the field
names. The definitions below are the contract between the two; docs/casework.md lists them.

Each case is counted once per outcome, in the period where that outcome was decided (its
"settle time"), and only up to the cutoff ``min(period end, now)``:

- a step done on time settles when it was done; a late or still-open step settles at its
  deadline. So a past period's figures never change once it is over, and a case overdue in
  January and fixed in February is January's 超期未处置, not February's 超期处置.
- 应处置 = 按期处置 + 超期处置 + 超期未处置: cases still inside their limit are not yet due.
- a case suspended (挂账) before its deadline is not due while suspended (clock paused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from dashboard.casework.casestate import CaseState, Source, StageMark
from dashboard.casework.timelimits import Stage

Period = tuple[float, float]  # UTC [start, end)


def disposal_outcome(case: CaseState, cutoff: float) -> tuple[str, float] | None:
    """('on_time' | 'late' | 'overdue_pending', settle time) as seen at ``cutoff``; None when
    the case is not due yet, or has no disposal clock (never dispatched, or sent back)."""
    if case.deadline is None or case.first_dispatched_at is None:
        return None
    return _outcome(case.feedback_at, case.deadline, case, cutoff)


def close_outcome(case: CaseState, cutoff: float) -> tuple[str, float] | None:
    """Like ``disposal_outcome`` for 结案 against the overall deadline ``close_deadline``."""
    if case.close_deadline is None or case.first_dispatched_at is None:
        return None
    return _outcome(case.closed_at, case.close_deadline, case, cutoff)


def _outcome(done: float | None, due: float, case: CaseState, cutoff: float) -> tuple[str, float] | None:
    if done is not None and done < cutoff:
        return ("on_time", done) if done <= due else ("late", due)
    if due >= cutoff:
        return None
    since = case.suspended_since
    if since is not None and since < cutoff and since <= due:
        return None  # paused before it ran out: 挂账 cases leave 应处置 / 应结案
    return ("overdue_pending", due)


@dataclass(slots=True)
class Counters:
    """Counts for one object and period. Names are the SQL column aliases of ``from_row``."""

    # intake (by report time)
    reported: int = 0  # 上报数, any source
    supervisor_reports: int = 0  # 监督员上报数
    valid_reports: int = 0  # 有效上报数: supervisor reports filed before the cutoff
    public_reports: int = 0  # 公众举报数
    # steps: "_due" = done in time + done late + still open past the limit (settle rule)
    accepted: int = 0  # 受理数 (受理, 核实派发 or 不予受理 done in the period)
    accept_due: int = 0
    accept_on_time: int = 0  # 按时受理数
    verify_due: int = 0  # 应核实数
    verify_on_time: int = 0  # 按时核实数
    filed: int = 0  # 立案数
    filed_on_time: int = 0  # 按时立案数
    accurate_filed: int = 0  # 准确立案数 = 立案数 − 作废数 of those filed
    public_filed: int = 0  # 监督举报核实数 = 漏报数: filed public reports (verified true)
    filed_suspended: int = 0  # filed cases that went to 挂账 (regions subtract them)
    voided: int = 0  # 作废数
    not_filed: int = 0  # 不予立案数
    self_disposed: int = 0  # 自行处置数
    dispatched: int = 0  # 派遣数 (each dispatch, re-dispatches included)
    returned: int = 0  # 回退数: dispatches sent back by the department
    dispatch_due: int = 0  # 应派遣数
    dispatch_on_time: int = 0  # 按时派遣数
    check_due: int = 0  # 应核查数
    check_on_time: int = 0  # 按时核查数
    # outcomes (by settle time)
    disposed_on_time: int = 0  # 按期处置数
    disposed_late: int = 0  # 超期处置数
    overdue_pending: int = 0  # 超期未处置数
    extended: int = 0  # 延期数: cases with an approved 延期 among 应处置
    extension_events: int = 0  # 延期 approvals of those cases
    closed_on_time: int = 0  # 按期结案数
    closed_late: int = 0  # 超期结案数
    overdue_unclosed: int = 0  # 超期未结案数
    reworked: int = 0  # 返工数: cases sent back at 核查 among 应结案
    rework_events: int = 0  # 返工 rejections of those cases
    suspended: int = 0  # 挂账数: cases whose latest 挂账 began in the period
    # not a case count: unit grids in the region, for per-grid count tiers (0 = one grid)
    grids: int = 0

    @property
    def disposed(self) -> int:  # 处置数
        return self.disposed_on_time + self.disposed_late

    @property
    def due_disposal(self) -> int:  # 应处置数
        return self.disposed + self.overdue_pending

    @property
    def closed(self) -> int:  # 结案数
        return self.closed_on_time + self.closed_late

    @property
    def due_close(self) -> int:  # 应结案数
        return self.closed + self.overdue_unclosed

    @property
    def dispatch_accurate(self) -> int:  # 准确派遣数
        return self.dispatched - self.returned

    @property
    def filed_net(self) -> int:  # 立案数 without 挂账 cases, for region evaluation
        return self.filed - self.filed_suspended

    # --- building ------------------------------------------------------------------------

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Counters:
        """From an aggregate row (SQL GROUP BY); other columns (the group key) are ignored."""
        values = {}
        for name in COUNTER_FIELDS:
            value = row.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or int(value) != value or value < 0:
                raise ValueError(f"counter {name} must be a whole number >= 0, not {value!r}")
            values[name] = int(value)
        counters = cls(**values)
        counters.check()
        return counters

    def check(self) -> None:
        """Refuse rows where a part is larger than its whole: their rates would exceed 100 %."""
        for part, whole in _SUBSETS:
            if getattr(self, part) > getattr(self, whole):
                raise ValueError(f"{part} ({getattr(self, part)}) > {whole} ({getattr(self, whole)})")

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTER_FIELDS}

    def __add__(self, other: Counters) -> Counters:
        return Counters(**{n: getattr(self, n) + getattr(other, n) for n in COUNTER_FIELDS})

    def __sub__(self, other: Counters) -> Counters:
        """For live counters: new contribution − old contribution of a changed case."""
        return Counters(**{n: getattr(self, n) - getattr(other, n) for n in COUNTER_FIELDS})

    @classmethod
    def of(cls, case: CaseState, period: Period, now: float) -> Counters:
        counters = cls()
        counters.add(case, period, now)
        return counters

    def add(self, case: CaseState, period: Period, now: float) -> None:
        """Fold one case into the counters of its place or department (everything about it)."""
        start, cutoff = period[0], min(period[1], now)
        if cutoff <= start:
            return
        self.add_intake(case, start, cutoff)
        self.add_filing(case, start, cutoff)
        self._add_steps(case, start, cutoff)
        self._add_outcomes(case, start, cutoff)

    def add_intake(self, case: CaseState, start: float, cutoff: float) -> None:
        """Report counts; for collectors this goes to the reporter."""
        if not start <= case.reported_at < cutoff:
            return
        self.reported += 1
        if case.source is Source.SUPERVISOR:
            self.supervisor_reports += 1
            if case.filed_at is not None and case.filed_at < cutoff:
                self.valid_reports += 1
        elif case.source is Source.PUBLIC:
            self.public_reports += 1

    def add_filing(self, case: CaseState, start: float, cutoff: float) -> None:
        """立案 counts; for collectors these go to the collectors of the case's grid (漏报)."""
        mark = case.file_mark
        if mark is None or not start <= mark.at < cutoff:
            return
        self.filed += 1
        self.filed_on_time += mark.on_time
        self.accurate_filed += not case.voided
        self.public_filed += case.source is Source.PUBLIC
        self.filed_suspended += case.last_suspended_at is not None and case.last_suspended_at < cutoff

    def add_step(self, stage: Stage, mark: StageMark, start: float, cutoff: float) -> None:
        """One finished step (受理, 核实, 派遣, 核查); for collectors it goes to the actor."""
        done_in = start <= mark.at < cutoff
        settled_in = start <= mark.settles_at < cutoff
        on_time = settled_in and mark.on_time  # on time means it settled when it was done
        if stage is Stage.ACCEPT:
            self.accepted += done_in
            self.accept_due += settled_in
            self.accept_on_time += on_time
        elif stage is Stage.VERIFY:
            self.verify_due += settled_in
            self.verify_on_time += on_time
        elif stage is Stage.DISPATCH:
            self.dispatched += done_in
            self.returned += done_in and mark.returned
            self.dispatch_due += settled_in
            self.dispatch_on_time += on_time
        elif stage is Stage.CHECK:
            self.check_due += settled_in
            self.check_on_time += on_time

    def _add_steps(self, case: CaseState, start: float, cutoff: float) -> None:
        if case.accept_mark is not None:
            self.add_step(Stage.ACCEPT, case.accept_mark, start, cutoff)
        if case.verify_mark is not None:
            self.add_step(Stage.VERIFY, case.verify_mark, start, cutoff)
        for mark in case.dispatch_marks:
            self.add_step(Stage.DISPATCH, mark, start, cutoff)
        for mark in case.check_marks:
            self.add_step(Stage.CHECK, mark, start, cutoff)
        # The step still waiting counts as due once its limit has run out.
        due = case.stage_deadline
        if case.is_open and due is not None and start <= due < cutoff:
            if case.stage is Stage.ACCEPT:
                self.accept_due += 1
            elif case.stage is Stage.VERIFY:
                self.verify_due += 1
            elif case.stage is Stage.DISPATCH:
                self.dispatch_due += 1
            elif case.stage is Stage.CHECK:
                self.check_due += 1
        if case.voided_at is not None and start <= case.voided_at < cutoff:
            self.voided += 1
        if case.not_filed_at is not None and start <= case.not_filed_at < cutoff:
            self.not_filed += 1
        if case.self_disposed and case.closed_at is not None and start <= case.closed_at < cutoff:
            self.self_disposed += 1
        if case.last_suspended_at is not None and start <= case.last_suspended_at < cutoff:
            self.suspended += 1

    def _add_outcomes(self, case: CaseState, start: float, cutoff: float) -> None:
        disposal = disposal_outcome(case, cutoff)
        if disposal is not None and start <= disposal[1] < cutoff:
            kind = disposal[0]
            self.disposed_on_time += kind == "on_time"
            self.disposed_late += kind == "late"
            self.overdue_pending += kind == "overdue_pending"
            self.extended += case.extensions > 0
            self.extension_events += case.extensions
        closing = close_outcome(case, cutoff)
        if closing is not None and start <= closing[1] < cutoff:
            kind = closing[0]
            self.closed_on_time += kind == "on_time"
            self.closed_late += kind == "late"
            self.overdue_unclosed += kind == "overdue_pending"
            self.reworked += case.reworks > 0
            self.rework_events += case.reworks


COUNTER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counters))

# (part, whole): a part never exceeds its whole, so every rate stays within [0, 1].
_SUBSETS: tuple[tuple[str, str], ...] = (
    ("valid_reports", "supervisor_reports"),
    ("accept_on_time", "accept_due"),
    ("verify_on_time", "verify_due"),
    ("filed_on_time", "filed"),
    ("accurate_filed", "filed"),
    ("public_filed", "filed"),
    ("filed_suspended", "filed"),
    ("returned", "dispatched"),
    ("dispatch_on_time", "dispatch_due"),
    ("check_on_time", "check_due"),
    ("extended", "due_disposal"),
    ("reworked", "due_close"),
)
