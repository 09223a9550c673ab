"""How each department behaves, so that the on-time rankings mean something.

A disposal takes ``limit × r`` where r is log-normal with median ``pace`` and spread ``sigma``:
the share of late disposals is P(r > 1). Sanitation is quick and reliable, the water group and
the telecom company are slow and often late, the four district squads differ from each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Behaviour:
    pace: float  # median share of the limit used
    sigma: float  # spread of that share (log-normal)
    p_return: float  # 回退: "not ours" after a dispatch
    p_rework: float  # 核查不通过 → 返工
    p_extend: float  # 延期 approved (long limits only)
    p_suspend: float  # 挂账 (engineering kinds only)
    sign_min: tuple[float, float] = (5, 60)  # minutes of working time until 签收

    @property
    def late_share(self) -> float:
        """P(r > 1) for the log-normal: the expected share of overdue disposals."""
        z = -math.log(self.pace) / self.sigma
        return 0.5 * math.erfc(z / math.sqrt(2))


BEHAVIOUR: dict[str, Behaviour] = {
    "HWC": Behaviour(0.35, 0.55, 0.02, 0.05, 0.02, 0.0, (5, 30)),
    "SZC": Behaviour(0.55, 0.6, 0.05, 0.08, 0.08, 0.15),
    "YLJ": Behaviour(0.6, 0.5, 0.04, 0.06, 0.05, 0.0),
    "CGZFJ": Behaviour(0.5, 0.5, 0.03, 0.05, 0.03, 0.0),
    "JJDD": Behaviour(0.45, 0.6, 0.10, 0.04, 0.02, 0.0, (5, 40)),
    "ZJJ": Behaviour(0.8, 0.6, 0.08, 0.10, 0.15, 0.05, (20, 180)),
    "GDGS": Behaviour(0.5, 0.5, 0.06, 0.05, 0.05, 0.0),
    "SWJT": Behaviour(0.8, 0.6, 0.06, 0.12, 0.10, 0.10, (15, 120)),
    "RQGS": Behaviour(0.3, 0.45, 0.03, 0.03, 0.02, 0.0, (3, 20)),
    "TXGS": Behaviour(0.9, 0.7, 0.12, 0.08, 0.10, 0.0, (30, 240)),
}
# District enforcement squads, by the district's position in city.json (see squad_behaviour).
SQUADS: tuple[Behaviour, ...] = (
    Behaviour(0.4, 0.5, 0.03, 0.04, 0.03, 0.05),  # a well-run squad
    Behaviour(0.6, 0.55, 0.04, 0.07, 0.05, 0.05),
    Behaviour(0.75, 0.6, 0.05, 0.12, 0.06, 0.05),  # short-staffed: late and reworked
    Behaviour(0.5, 0.65, 0.04, 0.06, 0.04, 0.05),
)
DEFAULT = Behaviour(0.6, 0.6, 0.05, 0.06, 0.05, 0.0)


def behaviour(dept: str, districts: list[str]) -> Behaviour:
    if dept.startswith("ZFZD-"):
        code = dept.removeprefix("ZFZD-")
        if code in districts:
            return SQUADS[districts.index(code) % len(SQUADS)]
    return BEHAVIOUR.get(dept, DEFAULT)
