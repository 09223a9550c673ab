"""Rankings (排名) with a deterministic order.

Order: score (desc), then the preset's ``tie_break`` keys (default 按期处置率 desc, then
应处置数 desc; a missing rate sorts last among them), then the object code (asc). Positions are
1, 2, 3, ... in that order, so two equal scores still get different positions, explained by
the tie-break columns. Rows without a score (a zero denominator) come after every ranked row,
by code, with position None.

A ranking ranks the city's own objects (its departments, its regions: the city's files list
them). A code that is none of them (a typo, a department that was renamed, a sender's invention)
is not an object to score: ``known`` keeps such codes out of every ranking, and ``split_known``
sums their counters into one ``Unlisted`` for the operator to see. Their cases still count in
the city's totals, which are counted without codes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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


# Where counters of codes the city does not list are kept together (the live rankings'
# Redis fields, the SQL starting point): never a ranking row.
UNKNOWN = "?"


@dataclass(frozen=True, slots=True)
class Unlisted:
    """What the codes outside the city's list added up to."""

    codes: tuple[str, ...]  # the codes seen (UNKNOWN when they were already summed as one)
    counters: Counters


def split_known(rows: Mapping[str, Counters] | Iterable[tuple[str, Counters]],
                known: Collection[str]) -> tuple[dict[str, Counters], Unlisted]:
    """Every known object with its counters (zero for one without cases: it is listed all the
    same), and the rest summed."""
    items = rows.items() if isinstance(rows, Mapping) else rows
    listed = {code: Counters() for code in known}
    codes: list[str] = []
    total = Counters()
    for code, counters in items:
        if code in listed:
            listed[code] = listed[code] + counters
        else:
            codes.append(code)
            total = total + counters
    return listed, Unlisted(tuple(sorted(codes)), total)


def _tie_value(counters: Counters, key: str) -> Fraction | int | None:
    if key in RATES:
        return rate_fraction(counters, key)
    return getattr(counters, key)


def rank(
    rows: Mapping[str, Counters] | Iterable[tuple[str, Counters]],
    kind: str,
    preset_data: str | Mapping[str, Any] = "cjt292",
    known: Collection[str] | None = None,
) -> list[RankedRow]:
    """Score every object of ``kind`` and order them; ``rows`` maps object code → counters.
    With ``known`` (the city's objects of that kind), exactly those are the rows: each of
    them, with or without counters, and no other code (split_known has the rest)."""
    data = preset(preset_data)
    tie_break = tuple(data.get("tie_break", DEFAULT_TIE_BREAK))
    items = split_known(rows, known)[0].items() if known is not None else (
        rows.items() if isinstance(rows, Mapping) else rows)
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
