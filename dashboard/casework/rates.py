"""The rates of docs/domain.md §6.2 from ``Counters``. A zero denominator gives None (shown "—")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from dashboard.casework.counters import Counters


@dataclass(frozen=True, slots=True)
class RateDef:
    zh: str
    numerator: str  # a Counters field or property
    denominator: str
    negative: bool = False  # lower is better: its term score is (1 − rate) × 100


RATES: Mapping[str, RateDef] = {
    "disposal_rate": RateDef("处置率", "disposed", "due_disposal"),
    "on_time_disposal_rate": RateDef("按期处置率", "disposed_on_time", "due_disposal"),
    "close_rate": RateDef("结案率", "closed", "due_close"),
    "on_time_close_rate": RateDef("按期结案率", "closed_on_time", "due_close"),
    "rework_rate": RateDef("返工率", "reworked", "due_close", negative=True),
    "extension_rate": RateDef("延期率", "extended", "due_disposal", negative=True),
    "overdue_pending_rate": RateDef("超期待处置率", "overdue_pending", "due_disposal", negative=True),
    "supervision_report_rate": RateDef("监督举报率", "public_filed", "filed", negative=True),
    "missed_report_rate": RateDef("漏报率", "public_filed", "filed", negative=True),
    "valid_report_rate": RateDef("有效上报率", "valid_reports", "supervisor_reports"),
    "on_time_accept_rate": RateDef("按时受理率", "accept_on_time", "accept_due"),
    "on_time_verify_rate": RateDef("按时核实率", "verify_on_time", "verify_due"),
    "on_time_check_rate": RateDef("按时核查率", "check_on_time", "check_due"),
    "on_time_file_rate": RateDef("按时立案率", "filed_on_time", "filed"),
    "accurate_file_rate": RateDef("准确立案率", "accurate_filed", "filed"),
    "on_time_dispatch_rate": RateDef("按时派遣率", "dispatch_on_time", "dispatch_due"),
    "accurate_dispatch_rate": RateDef("准确派遣率", "dispatch_accurate", "dispatched"),
}


def rate_fraction(counters: Counters, name: str) -> Fraction | None:
    """The exact rate, None when its denominator is zero."""
    definition = RATES[name]
    denominator = getattr(counters, definition.denominator)
    if denominator == 0:
        return None
    return Fraction(getattr(counters, definition.numerator), denominator)


def rates(counters: Counters) -> dict[str, float | None]:
    """Every rate of §6.2 as a fraction in [0, 1] (not a percentage), or None."""
    out: dict[str, float | None] = {}
    for name in RATES:
        exact = rate_fraction(counters, name)
        out[name] = None if exact is None else float(exact)
    return out


def percent(rate: float | Fraction | None, decimals: int = 2) -> str:
    """'93.72 %' with half-up rounding as on printed reports; '—' for a missing rate."""
    if rate is None:
        return "—"
    scaled = Fraction(rate) * 100 * 10**decimals
    rounded = Fraction(int(scaled + Fraction(1, 2)), 10**decimals)
    return f"{float(rounded):.{decimals}f} %"
