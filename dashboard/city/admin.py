"""Admin geography of the demo city: districts → streets (街道) → communities (社区) → unit grids.

Codes follow docs/domain.md §2: district 6 digits (GB/T 2260 style), street 9 (+3), community 12
(+3), grid 14 (+2, CJ/T 213-2005) or 15 (+3, Beijing DB11). The prefix 3399 is fictional: 33 is
Zhejiang, and prefecture 99 is not assigned to any real city. Grid serials run west→east, then
north→south, within each community.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from dashboard.city import names
from dashboard.city.layout import (
    RIVER_MID,
    Axis,
    AxisLine,
    Cell,
    Unit,
    bricks,
    grow_regions,
    trace_boundary,
)

PREFECTURE = "3399"  # fictional: province 33 (Zhejiang), prefecture 99 (unassigned)
DISTRICT_CODES = [PREFECTURE + f"{n:02d}" for n in (2, 3, 4, 5)]
STREETS_PER_DISTRICT = 3
COMMUNITY_TARGET_CELLS = 72  # ~0.7 km², a typical urban 社区
MAX_GRIDS_14 = 99  # a 2-digit serial


@dataclass(slots=True)
class Region:
    """One admin area: its code, names, parent and cells (plan lattice)."""

    level: str  # district | street | community
    code: str
    name_zh: str
    name_en: str
    parent: str | None
    cells: list[Cell]
    children: list[Region] = field(default_factory=list)


@dataclass(slots=True)
class Geography:
    districts: list[Region]
    grid_code: dict[Cell, str]  # cell → grid code
    grid_serial: dict[Cell, int]
    community_of: dict[Cell, Region]

    def all_regions(self) -> list[Region]:
        out: list[Region] = []
        for d in self.districts:
            out.append(d)
            for s in d.children:
                out.append(s)
                out.extend(s.children)
        return out


def district_of(u: float, v: float, umaj: tuple[float, ...], vmaj: tuple[float, ...]) -> int:
    """Which district a superblock centre falls in: the river splits north from south, and the
    north is cut in three along major roads, with a step so no boundary is one straight line."""
    n1, n2 = vmaj[5], vmaj[6]
    if v < RIVER_MID:
        return 3
    if (v < n2 and u < umaj[2]) or (v >= n2 and u < umaj[3]):
        return 0
    if (v < n1 and u < umaj[4]) or (v >= n1 and u < umaj[5]):
        return 1
    return 2


def _partition(
    units: dict[tuple[int, int], Unit],
    k: int,
    salt: str,
    max_cells: int | None = None,
) -> list[list[tuple[int, int]]]:
    """k connected simple regions (each one ring, no pinch), retrying other seeds if needed."""
    for attempt in range(400):
        kk = k + attempt // 40  # if sizes keep failing the cap, use more regions
        rng = random.Random(f"{salt}:{attempt}")
        try:
            regions = grow_regions(units, kk, rng)
            for r in regions:
                trace_boundary({c for key in r for c in units[key].cells})
        except ValueError:
            continue
        if max_cells is not None and any(
            sum(len(units[key].cells) for key in r) > max_cells for r in regions
        ):
            continue
        return regions
    raise RuntimeError(f"no valid partition for {salt}")


def _north_west_order(regions: list[list[Cell]], u_axis: Axis, v_axis: Axis) -> list[int]:
    """Order regions north→south then west→east by centroid (in ~500 m bands, so a slightly
    more northern centroid far to the east does not jump the queue)."""
    up, vp = u_axis.positions, v_axis.positions

    def key(k: int) -> tuple[int, float]:
        cells = regions[k]
        cu = sum(up[i] for i, _ in cells) / len(cells)
        cv = sum(vp[j] for _, j in cells) / len(cells)
        return (-math.floor(cv / 500.0), cu)

    return sorted(range(len(regions)), key=key)


def build_geography(
    u_axis: Axis, v_axis: Axis, seed: int, grid_digits: int = 14
) -> Geography:
    if grid_digits not in (14, 15):
        raise ValueError("grid codes have 14 or 15 digits")
    rng = random.Random(f"{seed}:names")

    def super_cut(ln: AxisLine) -> bool:
        return ln.superblock

    def block_cut(ln: AxisLine) -> bool:
        return ln.block

    supers = bricks(u_axis, v_axis, super_cut, super_cut)
    by_district: list[list[tuple[int, int]]] = [[] for _ in names.DISTRICTS]
    for key, unit in supers.items():
        by_district[district_of(*unit.centre, u_axis.majors, v_axis.majors)].append(key)

    community_names = iter(names.community_names(rng, 400))
    districts: list[Region] = []
    grid_code: dict[Cell, str] = {}
    grid_serial: dict[Cell, int] = {}
    community_of: dict[Cell, Region] = {}
    for d_idx, keys in enumerate(by_district):
        d_code = DISTRICT_CODES[d_idx]
        d_cells = [c for key in keys for c in supers[key].cells]
        district = Region("district", d_code, *names.DISTRICTS[d_idx], None, d_cells)
        districts.append(district)
        sub = {key: supers[key] for key in keys}
        for key in sub:
            sub[key].neighbours &= set(sub)
        street_parts = _partition(sub, STREETS_PER_DISTRICT, f"{seed}:street:{d_code}")
        street_cells = [[c for key in part for c in sub[key].cells] for part in street_parts]
        for s_no, s_idx in enumerate(_north_west_order(street_cells, u_axis, v_axis), start=1):
            s_code = f"{d_code}{s_no:03d}"
            zh, en = names.STREETS[d_idx][s_no - 1]
            street = Region("street", s_code, zh, en, d_code, street_cells[s_idx])
            district.children.append(street)
            blocks = bricks(u_axis, v_axis, block_cut, block_cut, keep=street.cells)
            k = max(1, math.ceil(len(street.cells) / COMMUNITY_TARGET_CELLS))
            parts = _partition(blocks, k, f"{seed}:community:{s_code}", MAX_GRIDS_14)
            comm_cells = [[c for key in part for c in blocks[key].cells] for part in parts]
            for c_no, c_idx in enumerate(
                _north_west_order(comm_cells, u_axis, v_axis), start=1
            ):
                zh, en = next(community_names)
                community = Region(
                    "community", f"{s_code}{c_no:03d}", zh, en, s_code, comm_cells[c_idx]
                )
                street.children.append(community)
                # Serial: west→east along a row, rows from north to south (DB11 wording).
                ordered = sorted(community.cells, key=lambda c: (-c[1], c[0]))
                for serial, cell in enumerate(ordered, start=1):
                    grid_code[cell] = f"{community.code}{serial:0{grid_digits - 12}d}"
                    grid_serial[cell] = serial
                    community_of[cell] = community
    return Geography(districts, grid_code, grid_serial, community_of)
