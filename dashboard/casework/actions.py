"""The case lifecycle vocabulary of docs/domain.md §4: states and actions.

These names are the wire contract of the case feed (``action`` in gridwall/case/<id>), of the
SQL projection and of the Redis hot state, so they never change spelling. The Chinese terms are
the ones a 数字城管 operator uses.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    REPORTED = "reported"  # 上报
    VERIFYING = "verifying"  # 核实中 (public / AI reports wait for a supervisor)
    ACCEPTED = "accepted"  # 受理
    VOID = "void"  # 作废 / 不予受理
    FILED = "filed"  # 立案
    NOT_FILED = "not_filed"  # 不予立案
    DISPATCHED = "dispatched"  # 派遣
    IN_DISPOSAL = "in_disposal"  # 处置中
    SUSPENDED = "suspended"  # 挂账 (clock paused)
    AWAIT_CHECK = "await_check"  # 待核查
    AWAIT_CLOSE = "await_close"  # 待结案
    CLOSED = "closed"  # 结案


class Action(StrEnum):
    REPORT = "report"  # 上报
    VERIFY_REQUEST = "verify_request"  # 核实派发: a public/AI report goes to a supervisor
    VERIFY = "verify"  # 核实 (confirmed true)
    ACCEPT = "accept"  # 受理
    VOID = "void"  # 不予受理 / 作废
    FILE = "file"  # 立案
    NOT_FILE = "not_file"  # 不予立案
    DISPATCH = "dispatch"  # 派遣 (department + condition -> disposal deadline)
    SIGN = "sign"  # 签收 (department starts)
    RETURN = "return"  # 回退 (department: not ours) -> re-dispatch
    EXTEND = "extend"  # 延期 (approved)
    SUSPEND = "suspend"  # 挂账 (approved)
    RESUME = "resume"  # 挂账恢复
    FEEDBACK = "feedback"  # 处置反馈: disposal done
    CHECK_PASS = "check_pass"  # 核查通过
    CHECK_FAIL = "check_fail"  # 核查不通过 -> 返工
    CLOSE = "close"  # 结案
    SELF_DISPOSE = "self_dispose"  # 自行处置 (minor, fixed by the supervisor)
    SUPERVISE = "supervise"  # 督办: a leader presses the case on; the state stays (docs/desk.md)


# States in which a case no longer needs anyone: they leave the open-case counters.
TERMINAL_STATES: frozenset[State] = frozenset(
    {State.CLOSED, State.VOID, State.NOT_FILED}
)
