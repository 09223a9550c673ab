"""Unit-grid codes (单元网格编码, docs/domain.md §2).

14 digits (CJ/T 213-2005: 2-digit serial) or 15 digits (DB11 and probably GB/T 30428.1:
3-digit serial); both start with 6 county + 3 street + 3 community digits, so the region of a
grid is read from its prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICT_DIGITS = 6
STREET_DIGITS = 9
COMMUNITY_DIGITS = 12
GRID_CODE_LENGTHS = (14, 15)

# Region levels from the top, each with the length of its code prefix.
LEVELS: dict[str, int] = {
    "district": DISTRICT_DIGITS,
    "street": STREET_DIGITS,
    "community": COMMUNITY_DIGITS,
}


@dataclass(frozen=True, slots=True)
class GridCode:
    code: str

    @property
    def district(self) -> str:
        return self.code[:DISTRICT_DIGITS]

    @property
    def street(self) -> str:
        return self.code[:STREET_DIGITS]

    @property
    def community(self) -> str:
        return self.code[:COMMUNITY_DIGITS]

    @property
    def serial(self) -> str:
        return self.code[COMMUNITY_DIGITS:]


def grid_code_problem(code: object) -> str | None:
    """Why ``code`` is not a unit-grid code, or None when it is one."""
    if not isinstance(code, str):
        return f"grid code must be a string of digits, not {type(code).__name__}"
    if not code:
        return "grid code is empty"
    if not code.isascii() or not code.isdigit():
        return f"grid code {code!r} must contain only the digits 0-9"
    if len(code) not in GRID_CODE_LENGTHS:
        return f"grid code {code!r} has {len(code)} digits; expected 14 (CJ/T 213) or 15 (DB11)"
    return None


def is_grid_code(code: object) -> bool:
    return grid_code_problem(code) is None


def parse_grid_code(code: str) -> GridCode:
    problem = grid_code_problem(code)
    if problem is not None:
        raise ValueError(problem)
    return GridCode(code)


def region_code(grid_code: str | None, level: str) -> str | None:
    """The district/street/community prefix (or the grid itself), None for a bad grid code."""
    if grid_code is None or not is_grid_code(grid_code):
        return None
    if level == "grid":
        return grid_code
    return grid_code[: LEVELS[level]]
