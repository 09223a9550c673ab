"""The demo city's mix of problems: case kinds (small class + 立案条件), who fixes them, how often
each source reports them; and the video-AI alert types with their hour-of-day profiles.

Small-class codes and names follow the casework catalogue (docs/domain.md §3.3, GB/T 30428.2 era;
dashboard/data/catalogue.toml). A kind carries no time limit and no urgent flag of its own: the
planner looks both up in the city's limit table (dashboard.casework.timelimits), the one the wall
sets deadlines from, so a department that the simulator plans as "late" is late on the wall too.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sources, as sent in case.source (docs/domain.md §4 案件来源).
COLLECTOR, HOTLINE_12345, HOTLINE_12319, VIDEO, LEADER, IOT = (
    "collector", "hotline_12345", "hotline_12319", "video", "leader", "iot",
)  # fmt: skip

# When in the day a kind is reported most (hotline and collector picks are weighted by it).
ANY, DAY, EVENING, NIGHT = "any", "day", "evening", "night"


@dataclass(frozen=True, slots=True)
class CaseKind:
    category: str  # component (部件) | event (事件)
    small_code: str  # 4 digits, §3.3
    name: str  # the small class, e.g. 暴露垃圾
    condition: str  # 立案条件 (free text; 缺失 matches the manhole rules of timelimits.toml)
    dept: str  # responsible department code; "ZFZD" = the district's enforcement squad
    wrong_dept: str  # a plausible wrong dispatch, which then comes back (回退)
    collector: float  # relative report weights per source
    public: float
    leader: float = 0.0
    iot: float = 0.0
    when: str = ANY
    self_disposable: bool = False  # a collector may fix it on the spot (自行处置)
    suspendable: bool = False  # engineering work that can be 挂账
    water: bool = False  # happens on water grids

    @property
    def class_code(self) -> str:
        return self.small_code[:2]

    @property
    def reported_condition(self) -> str:
        """The 立案条件 as a report carries it, and as the wall looks the limit up by."""
        return self.condition or "一般"

    @property
    def title(self) -> str:
        return self.name + (self.condition if self.condition not in ("", "一般") else "")


C, E = "component", "event"
# Each row: category, small code, name, 立案条件, department, wrong department, then the report
# weights (collector, public[, leader, iot]) and the flags.
KINDS: tuple[CaseKind, ...] = (
    # 部件 components — facilities broken, missing or dirty
    CaseKind(C, "0101", "上水井盖", "破损", "SWJT", "SZC", 3, 1),
    CaseKind(C, "0101", "上水井盖", "缺失", "SWJT", "SZC", 0.5, 0.8, iot=1),
    CaseKind(C, "0102", "污水井盖", "破损", "SZC", "SWJT", 3, 0.8),
    CaseKind(C, "0103", "雨水井盖", "破损", "SZC", "SWJT", 3, 0.8),
    CaseKind(C, "0103", "雨水井盖", "缺失", "SZC", "SWJT", 0.5, 0.8, iot=1),
    CaseKind(C, "0104", "雨水箅子", "破损", "SZC", "SWJT", 2, 0.3),
    CaseKind(C, "0105", "电力井盖", "破损", "GDGS", "SZC", 1.5, 0.3),
    CaseKind(C, "0107", "通讯井盖", "破损", "TXGS", "GDGS", 1.5, 0.3),
    CaseKind(C, "0111", "燃气井盖", "破损", "RQGS", "SZC", 1, 0.3),
    CaseKind(C, "0117", "立杆", "倾斜", "SZC", "TXGS", 1, 0.3),
    CaseKind(C, "0118", "路灯", "不亮", "SZC", "GDGS", 2, 2.5, when=EVENING),
    CaseKind(C, "0203", "公交站亭", "破损", "SZC", "JJDD", 1, 0.3),
    CaseKind(C, "0209", "交通标志牌", "破损", "JJDD", "SZC", 1.5, 0.3),
    CaseKind(C, "0210", "交通信号灯", "故障", "JJDD", "GDGS", 0.8, 1, iot=0.5),
    CaseKind(C, "0211", "交通护栏", "破损", "JJDD", "SZC", 2, 0.3),
    CaseKind(C, "0213", "路名牌", "破损", "SZC", "JJDD", 1, 0.1),
    CaseKind(C, "0301", "公共厕所", "设施损坏", "HWC", "SZC", 1, 0.8),
    CaseKind(C, "0305", "垃圾箱", "满溢", "HWC", "ZFZD", 4, 1, iot=1.5),
    CaseKind(C, "0305", "垃圾箱", "破损", "HWC", "ZFZD", 2, 0.3),
    CaseKind(C, "0402", "行道树", "倒伏", "YLJ", "SZC", 1, 0.8, leader=0.3),
    CaseKind(C, "0403", "护树设施", "破损", "YLJ", "SZC", 1.5, 0.1),
    CaseKind(C, "0405", "绿地", "黄土裸露", "YLJ", "ZFZD", 1.5, 0.2),
    CaseKind(C, "0407", "街头坐椅", "破损", "YLJ", "SZC", 1, 0.2),
    CaseKind(C, "0408", "绿地护栏", "破损", "YLJ", "SZC", 1, 0.1),
    CaseKind(C, "0501", "宣传栏", "破损", "ZFZD", "CGZFJ", 0.8, 0.1),
    # 事件 events — appearance, advertising, construction, emergencies, street order
    CaseKind(E, "0101", "私搭乱建", "", "ZFZD", "ZJJ", 1.5, 2, leader=3,
             suspendable=True),
    CaseKind(E, "0102", "暴露垃圾", "", "HWC", "ZFZD", 14, 3,
             self_disposable=True),
    CaseKind(E, "0103", "积存垃圾渣土", "", "HWC", "ZFZD", 4, 1.5),
    CaseKind(E, "0104", "道路不洁", "", "HWC", "ZFZD", 6, 1.5),
    CaseKind(E, "0105", "水域不洁", "", "SWJT", "HWC", 1.5, 0.5, water=True),
    CaseKind(E, "0106", "绿地脏乱", "", "YLJ", "HWC", 4, 0.5),
    CaseKind(E, "0107", "废弃车辆", "", "JJDD", "ZFZD", 1.5, 0.8),
    CaseKind(E, "0108", "废弃家具设备", "", "HWC", "ZFZD", 2, 0.5),
    CaseKind(E, "0110", "道路破损", "", "SZC", "JJDD", 2.5, 1.5, leader=1,
             suspendable=True),
    CaseKind(E, "0112", "道路遗撒", "", "HWC", "ZFZD", 2, 1.5, when=NIGHT),
    CaseKind(E, "0115", "焚烧垃圾树叶", "", "ZFZD", "HWC", 0.5, 0.8),
    CaseKind(E, "0116", "油烟污染", "", "ZFZD", "CGZFJ", 1, 3, when=EVENING),
    CaseKind(E, "0201", "非法小广告", "", "HWC", "ZFZD", 10, 0.5,
             self_disposable=True),
    CaseKind(E, "0202", "违章张贴悬挂广告牌匾", "", "ZFZD", "CGZFJ", 2, 0.5),
    CaseKind(E, "0205", "广告招牌破损", "", "ZFZD", "SZC", 1, 0.5),
    CaseKind(E, "0301", "施工扰民", "", "ZJJ", "ZFZD", 0.2, 3, when=NIGHT),
    CaseKind(E, "0302", "工地扬尘", "", "ZJJ", "ZFZD", 1.5, 1, leader=1),
    CaseKind(E, "0303", "施工废弃料", "", "ZJJ", "ZFZD", 1.5, 0.5),
    CaseKind(E, "0304", "施工占道", "", "ZFZD", "JJDD", 1.5, 0.8),
    CaseKind(E, "0401", "路面塌陷", "", "SZC", "SWJT", 0.3, 0.5, leader=0.3,
             suspendable=True),
    CaseKind(E, "0402", "自来水管破裂", "", "SWJT", "SZC", 0.3, 1),
    CaseKind(E, "0403", "燃气管道破裂", "", "RQGS", "SZC", 0.1, 0.4),
    CaseKind(E, "0404", "下水道堵塞或破损", "", "SZC", "SWJT", 1, 1.5, iot=0.5),
    CaseKind(E, "0406", "道路积水", "", "SZC", "SWJT", 0.5, 1, iot=1.5),
    CaseKind(E, "0408", "架空线缆损坏", "", "TXGS", "GDGS", 0.5, 0.5),
    CaseKind(E, "0501", "无照经营游商", "", "ZFZD", "CGZFJ", 6, 3),
    CaseKind(E, "0503", "占道废品收购", "", "ZFZD", "HWC", 1.5, 0.3),
    CaseKind(E, "0504", "店外经营", "", "ZFZD", "CGZFJ", 8, 2,
             self_disposable=True),
    CaseKind(E, "0505", "机动车乱停放", "", "JJDD", "ZFZD", 5, 3),
    CaseKind(E, "0506", "非机动车乱停放", "", "ZFZD", "JJDD", 7, 1,
             self_disposable=True),
    CaseKind(E, "0507", "乱堆物堆料", "", "ZFZD", "HWC", 6, 1.5,
             self_disposable=True),
    CaseKind(E, "0508", "商业噪音", "", "ZFZD", "CGZFJ", 0.5, 3, when=EVENING),
    CaseKind(E, "0510", "露天烧烤", "", "ZFZD", "CGZFJ", 1, 3, when=EVENING),
    CaseKind(E, "0511", "沿街晾挂", "", "ZFZD", "HWC", 3, 0.3,
             self_disposable=True),
    CaseKind(E, "0513", "空调室外机低挂", "", "ZFZD", "SZC", 1, 0.5),
)


def find_kind(category: str, small_code: str, condition: str = "") -> CaseKind:
    for kind in KINDS:
        if (kind.category, kind.small_code) == (category, small_code) and (
            not condition or kind.condition == condition
        ):
            return kind
    raise KeyError((category, small_code, condition))


# --- video AI (docs/domain.md §7) -----------------------------------------------------------------

# Relative activity per local hour, each list 24 long (normalised when used).
PROFILES: dict[str, tuple[float, ...]] = {
    "street": (0.1, 0.05, 0, 0, 0, 0.1, 0.5, 1.5, 2, 1.2, 1, 1.5, 2, 1.2, 1, 1, 1.2, 2, 2.5, 2.5,
               2, 1.5, 0.8, 0.3),
    "day": (0, 0, 0, 0, 0, 0, 0.3, 0.8, 1.5, 2, 2, 2, 1.8, 1.8, 2, 2, 1.8, 1.5, 1, 0.8, 0.5, 0.3,
            0.1, 0),
    "garbage": (0.2, 0.1, 0.1, 0.1, 0.2, 0.8, 2, 2.5, 2, 1, 0.8, 0.8, 1, 0.8, 0.6, 0.6, 0.8, 1,
                1.5, 2, 2, 1.5, 1, 0.5),
    "evening": (0.8, 0.3, 0.1, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.2, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 1.5,
                2.5, 3, 3, 2.5, 1.5),
    "night": (2.5, 2.5, 2.5, 2, 1.5, 1, 0.3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, 1, 2, 2.5,
              2.5),
    "flat": tuple([1.0] * 24),
}


@dataclass(frozen=True, slots=True)
class AlertType:
    name: str  # the alert type string sent on the wire
    weight: float  # share of all alerts
    profile: str  # key of PROFILES
    dwell_min: tuple[float, float]  # how long the scene lasts, minutes
    case: tuple[str, str, str] | None  # (category, small_code, condition) it may become
    p_case: float  # chance a long-enough alert is reported as a case
    critical: bool = False


ALERT_TYPES: tuple[AlertType, ...] = (
    AlertType("占道经营", 18, "street", (3, 45), (E, "0501", ""), 0.35),
    AlertType("店外经营", 14, "day", (10, 120), (E, "0504", ""), 0.35),
    AlertType("暴露垃圾", 12, "garbage", (30, 240), (E, "0102", ""), 0.5),
    AlertType("垃圾满溢", 9, "garbage", (20, 180), (C, "0305", "满溢"), 0.4),
    AlertType("乱堆物料", 6, "day", (30, 240), (E, "0507", ""), 0.3),
    AlertType("机动车乱停放", 15, "street", (5, 90), (E, "0505", ""), 0.25),
    AlertType("非机动车乱停放", 12, "day", (10, 120), (E, "0506", ""), 0.25),
    AlertType("渣土车未密闭", 5, "night", (0.3, 2), (E, "0112", ""), 0.1),
    AlertType("沿街晾晒", 4, "day", (30, 240), (E, "0511", ""), 0.3),
    AlertType("露天烧烤", 4, "evening", (30, 150), (E, "0510", ""), 0.4),
    AlertType("违规户外广告", 2, "day", (60, 240), (E, "0202", ""), 0.3),
    AlertType("道路积水", 1.5, "flat", (30, 180), (E, "0406", ""), 0.6),
    AlertType("人群聚集", 3, "evening", (5, 40), None, 0.0),
    AlertType("烟火", 0.25, "flat", (2, 20), (E, "0115", ""), 0.8, critical=True),
)
