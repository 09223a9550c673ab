"""Names of the counters and rates as reports print them, Chinese and English (docs/domain.md §6)."""

from __future__ import annotations

from dashboard.casework.rates import RATES

COUNTER_LABELS: dict[str, tuple[str, str]] = {
    "reported": ("上报数", "reported"),
    "supervisor_reports": ("监督员上报数", "collector reports"),
    "valid_reports": ("有效上报数", "valid reports"),
    "public_reports": ("公众举报数", "public reports"),
    "accepted": ("受理数", "accepted"),
    "accept_due": ("应受理数", "due to accept"),
    "accept_on_time": ("按时受理数", "accepted on time"),
    "verify_due": ("应核实数", "due to verify"),
    "verify_on_time": ("按时核实数", "verified on time"),
    "filed": ("立案数", "filed"),
    "filed_on_time": ("按时立案数", "filed on time"),
    "accurate_filed": ("准确立案数", "filed accurately"),
    "public_filed": ("监督举报核实数", "public reports filed"),
    "filed_suspended": ("立案后挂账数", "filed then suspended"),
    "voided": ("作废数", "voided"),
    "not_filed": ("不予立案数", "not filed"),
    "self_disposed": ("自行处置数", "self-disposed"),
    "dispatched": ("派遣数", "dispatched"),
    "returned": ("回退数", "returned"),
    "dispatch_due": ("应派遣数", "due to dispatch"),
    "dispatch_on_time": ("按时派遣数", "dispatched on time"),
    "check_due": ("应核查数", "due to check"),
    "check_on_time": ("按时核查数", "checked on time"),
    "disposed_on_time": ("按期处置数", "disposed on time"),
    "disposed_late": ("超期处置数", "disposed late"),
    "overdue_pending": ("超期未处置数", "overdue, not disposed"),
    "extended": ("延期数", "extended"),
    "extension_events": ("延期次数", "extensions"),
    "closed_on_time": ("按期结案数", "closed on time"),
    "closed_late": ("超期结案数", "closed late"),
    "overdue_unclosed": ("超期未结案数", "overdue, not closed"),
    "reworked": ("返工数", "reworked"),
    "rework_events": ("返工次数", "reworks"),
    "suspended": ("挂账数", "suspended"),
    "grids": ("网格数", "grids"),
    # derived (Counters properties)
    "disposed": ("处置数", "disposed"),
    "due_disposal": ("应处置数", "due for disposal"),
    "closed": ("结案数", "closed"),
    "due_close": ("应结案数", "due to close"),
    "dispatch_accurate": ("准确派遣数", "dispatched accurately"),
    "filed_net": ("立案数(不含挂账)", "filed, net of suspended"),
}
DERIVED_COUNTERS: tuple[str, ...] = ("disposed", "due_disposal", "closed", "due_close", "dispatch_accurate", "filed_net")


def counter_label(name: str, lang: str = "zh") -> str:
    zh, en = COUNTER_LABELS.get(name, (name, name.replace("_", " ")))
    return zh if lang == "zh" else en


def rate_label(name: str, lang: str = "zh") -> str:
    return RATES[name].zh if lang == "zh" else name.replace("_", " ")
