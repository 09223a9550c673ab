"""What one case looks like after its events: the plain value every counter is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dashboard.casework.actions import TERMINAL_STATES, State
from dashboard.casework.gridcode import region_code
from dashboard.casework.timelimits import Basis, Stage, TimeLimit


class Source(StrEnum):
    """案件来源 (docs/domain.md §4), reduced to the groups the counters tell apart."""

    SUPERVISOR = "supervisor"  # 监督员上报
    PUBLIC = "public"  # 公众举报: 12319 / 12345, app, WeChat
    VIDEO = "video"  # 视频 / AI
    ASSIGNED = "assigned"  # 领导交办 / 媒体曝光 / 上级转办
    SENSOR = "sensor"  # IoT
    OTHER = "other"


_SOURCE_WORDS: dict[str, Source] = {}
for _source, _words in (
    (Source.SUPERVISOR, "supervisor collector patrol 监督员 监督员上报 信息采集员 采集员 巡查"),
    (Source.PUBLIC, "public hotline 12319 12345 app wechat open311 公众 公众举报 热线 微信 市民"),
    (Source.VIDEO, "video ai camera 视频 视频ai 智能识别 ai识别"),
    (Source.ASSIGNED, "assigned leader media superior 领导交办 媒体曝光 上级转办 交办 督办"),
    (Source.SENSOR, "sensor iot 传感器 物联网 物联感知"),
    (Source.OTHER, "other 其他"),
):
    for _word in _words.split():
        _SOURCE_WORDS[_word] = _source


def normalise_source(raw: str | None) -> Source:
    if raw is None:
        return Source.OTHER
    return _SOURCE_WORDS.get(raw.strip().lower(), Source.OTHER)


@dataclass(frozen=True, slots=True)
class StageMark:
    """One finished step: when it was done, its deadline (None: no limit set) and by whom."""

    at: float
    due: float | None
    actor: str | None = None
    returned: bool = False  # dispatch marks only: the department sent the case back (回退)

    @property
    def on_time(self) -> bool:
        return self.due is None or self.at <= self.due

    @property
    def settles_at(self) -> float:
        """When the step's outcome was decided: done on time, or overdue at its deadline."""
        return self.at if self.due is None else min(self.at, self.due)


@dataclass(frozen=True, slots=True)
class CaseState:
    """A case after the events applied so far. Times are UTC epoch seconds.

    The disposal clock: ``deadline`` = dispatch + limit + approved extensions + suspended
    time, all on the ``basis`` clock; ``limit_s``, ``extension_s`` and ``suspended_s`` are in
    seconds of that clock (working seconds for the working basis).
    """

    case_id: str
    state: State
    reported_at: float
    updated_at: float
    version: int = 1  # events applied

    source: Source = Source.OTHER
    channel: str | None = None  # the source as sent, e.g. "12345"
    category: str | None = None  # "component" (部件) | "event" (事件)
    class_code: str | None = None
    small_code: str | None = None
    condition: str | None = None  # 立案条件 id of the small class
    grid_code: str | None = None
    department: str | None = None
    urgent: bool = False
    reporter: str | None = None
    verified: bool | None = None  # result of 核实: None when never sent for verification

    verify_requested_at: float | None = None
    verified_at: float | None = None
    accepted_at: float | None = None
    filed_at: float | None = None
    not_filed_at: float | None = None
    voided_at: float | None = None
    dispatched_at: float | None = None  # the current dispatch; None after 回退
    first_dispatched_at: float | None = None
    signed_at: float | None = None
    feedback_at: float | None = None  # disposal completion; cleared by 返工
    first_feedback_at: float | None = None
    checked_at: float | None = None
    closed_at: float | None = None

    basis: Basis | None = None
    limit: TimeLimit | None = None  # None when the source fixed the deadline itself
    limit_s: float = 0.0
    extension_s: float = 0.0
    suspended_s: float = 0.0
    suspended_since: float | None = None
    last_suspended_at: float | None = None
    deadline: float | None = None  # disposal deadline
    deadline_fixed: bool = False  # set by the source (e.g. Open311 expected_datetime)
    close_deadline: float | None = None  # [D] disposal deadline + 核查 + 结案 limits

    reworks: int = 0  # 返工
    returns: int = 0  # 回退
    extensions: int = 0  # 延期
    suspensions: int = 0  # 挂账
    supervisions: int = 0  # 督办: how often a leader pressed it
    supervised_at: float | None = None  # the last 督办
    self_disposed: bool = False  # 自行处置
    # Its lifecycle runs in another case system (Open311): we see only report and close, so
    # CLOSE is taken from any open state.
    external: bool = False
    returned_from: str | None = None  # the last department that sent it back

    stage: Stage | None = None  # the step now waiting, with its own clock
    stage_started_at: float | None = None
    stage_deadline: float | None = None

    accept_mark: StageMark | None = None
    verify_mark: StageMark | None = None
    file_mark: StageMark | None = None
    close_mark: StageMark | None = None
    dispatch_marks: tuple[StageMark, ...] = ()
    check_marks: tuple[StageMark, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state not in TERMINAL_STATES

    @property
    def voided(self) -> bool:
        return self.state is State.VOID

    @property
    def is_suspended(self) -> bool:
        return self.suspended_since is not None

    @property
    def allowed_s(self) -> float:
        """Disposal time granted on the basis clock: limit + extensions (suspension excluded)."""
        return self.limit_s + self.extension_s

    @property
    def district(self) -> str | None:
        return region_code(self.grid_code, "district")

    @property
    def street(self) -> str | None:
        return region_code(self.grid_code, "street")

    @property
    def community(self) -> str | None:
        return region_code(self.grid_code, "community")
