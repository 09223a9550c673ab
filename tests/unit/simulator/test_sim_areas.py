"""Collectors' patrol areas: exactly n of them, connected, covering every grid, inside the admin
units they are cut from."""

from __future__ import annotations

import statistics
from collections import deque

import pytest
from sim_support import city

from feeds.simulator.areas import Cells, assign_areas


@pytest.fixture(scope="module")
def cells() -> Cells:
    return Cells(city())


def _connected(cells: Cells, members: list[int]) -> bool:
    inside, seen, queue = set(members), {members[0]}, deque([members[0]])
    while queue:
        for nb, _ in cells.cells[queue.popleft()].neighbours:
            if nb in inside and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return seen == inside


@pytest.mark.parametrize("n", [1, 5, 12, 40, 74, 120, 300])
def test_areas_cover_the_city_and_are_walkable(cells: Cells, n: int) -> None:
    areas = assign_areas(cells, n)
    assert len(areas) == n
    assert set().union(*(a.cells for a in areas)) == set(range(len(cells)))
    for a in areas:
        assert a.home in a.walk and set(a.walk) <= set(a.cells)
        assert all(cells.cells[c].walkable for c in a.walk)
        assert _connected(cells, a.walk)
    communities = {c.code[:12] for c in cells.cells}
    if n >= len(communities):
        for a in areas:
            assert len({cells.cells[c].code[:12] for c in a.cells}) == 1


def test_default_collectors_answer_for_thirty_to_sixty_grids(cells: Cells) -> None:
    sizes = [len(a.cells) for a in assign_areas(cells, 120)]
    assert 30 <= statistics.median(sizes) <= 60


def test_grid_neighbours_share_edges(cells: Cells) -> None:
    degrees = [len(c.neighbours) for c in cells.cells]
    assert max(degrees) == 4 and statistics.mean(degrees) > 3.8
    for cell in cells.cells[:200]:
        for nb, _mid in cell.neighbours:
            assert cell.idx in [m for m, _ in cells.cells[nb].neighbours]
