"""Rankings (排名) with a deterministic order.

Order: score (desc), then the preset's ``tie_break`` keys (default 按期处置率 desc, then
应处置数 desc; a missing rate sorts last among them), then the object code (asc). Positions are
1, 2, 3, ... in that order, so two equal scores still get different positions, explained by
the tie-break columns. Rows without a score (a zero denominator) come after every ranked row,
by code, with position None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dashboard.casework.counters import Counters
from dashboard.casework.rates import RATES, rate_fraction, rates
from dashboard.casework.scoring import DEFAULT_TIE_BREAK, preset, score


@dataclass(frozen=True, slots=True)
class RankedRow:
    code: str
    position: int | None  # 1-based; None: not ranked
    score: float | None
    grade: str | None
    terms: dict[str, float | None]
    rates: dict[str, float | None]
    counters: Counters


def _tie_value(counters: Counters, key: str) -> Fraction | int | None:
    if key in RATES:
        return rate_fraction(counters, key)
    return getattr(counters, key)


def rank(
    rows: Mapping[str, Counters] | Iterable[tuple[str, Counters]],
    kind: str,
    preset_data: str | Mapping[str, Any] = "cjt292",
) -> list[RankedRow]:
    """Score every object of ``kind`` and order them; ``rows`` maps object code → counters."""
    data = preset(preset_data)
    tie_break = tuple(data.get("tie_break", DEFAULT_TIE_BREAK))
    items = rows.items() if isinstance(rows, Mapping) else rows
    scored = []
    for code, counters in items:
        result = score(counters, kind, data)
        scored.append((code, counters, result))

    def order(item: tuple[str, Counters, Any]) -> tuple[Any, ...]:
        code, counters, result = item
        keys: list[Any] = [-result.value]
        for key in tie_break:
            value = _tie_value(counters, key)
            keys.append((1, 0) if value is None else (0, -value))
        keys.append(code)
        return tuple(keys)

    ranked = sorted((item for item in scored if item[2].value is not None), key=order)
    unranked = sorted((item for item in scored if item[2].value is None), key=lambda item: item[0])
    out = []
    for position, (code, counters, result) in enumerate(ranked, start=1):
        out.append(RankedRow(code, position, result.value, result.grade, result.terms, rates(counters), counters))
    for code, counters, result in unranked:
        out.append(RankedRow(code, None, None, None, result.terms, rates(counters), counters))
    return out


def bottom_positions(ranked: int, k: int = 3) -> range:
    """The positions flagged as the bottom ``k`` (the units that answer at the city's meeting):
    the last ``k`` ranked rows, but never one of the top ``k`` (with 2k ranked rows or fewer the
    flag takes fewer rows, and none at all with k or fewer)."""
    return range(max(ranked - k, k) + 1, ranked + 1)
