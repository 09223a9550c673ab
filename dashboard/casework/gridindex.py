"""Point → unit grid lookup: which grid polygon contains (lon, lat).

A coarse raster over the city's bounding box lists, per cell, the grids whose bounding box
touches it; a lookup tests only those, first by bounding box, then by ray casting. Grids tile
the city without gaps or overlaps (docs/domain.md §2), so a cell holds a handful of candidates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Ring = Sequence[tuple[float, float]]  # (lon, lat) vertices; closing vertex optional


@dataclass(frozen=True, slots=True)
class _Polygon:
    code: str
    min_x: float
    min_y: float
    max_x: float
    max_y: float
    edges: tuple[tuple[float, float, float, float], ...]  # (x1, y1, x2, y2)

    def contains(self, x: float, y: float) -> bool:
        if not (self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y):
            return False
        inside = False
        for x1, y1, x2, y2 in self.edges:
            # Even-odd rule; the half-open test (y1 > y) != (y2 > y) gives a point on an edge
            # shared by two grids to exactly one of them.
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside


def _polygon(code: str, ring: Ring) -> _Polygon:
    points = [(float(x), float(y)) for x, y in ring]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        raise ValueError(f"grid {code}: a polygon ring needs at least 3 distinct vertices")
    if not all(math.isfinite(v) for point in points for v in point):
        raise ValueError(f"grid {code}: a vertex is not a finite number")
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    edges = tuple(
        (x1, y1, x2, y2)
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)
        if y1 != y2  # horizontal edges never cross a horizontal ray
    )
    return _Polygon(code, min(xs), min(ys), max(xs), max(ys), edges)


class GridIndex:
    """``GridIndex([(code, ring), ...]).lookup(lon, lat) -> code | None``.

    A code may appear with several rings (a grid in parts). ``cell_size`` (degrees) defaults
    to the median grid size, so a grid touches about four cells.
    """

    def __init__(self, grids: Iterable[tuple[str, Ring]], cell_size: float | None = None) -> None:
        self._polygons = [_polygon(code, ring) for code, ring in grids]
        if not self._polygons:
            raise ValueError("a grid index needs at least one grid")
        self.min_x = min(p.min_x for p in self._polygons)
        self.min_y = min(p.min_y for p in self._polygons)
        self.max_x = max(p.max_x for p in self._polygons)
        self.max_y = max(p.max_y for p in self._polygons)
        if cell_size is None:
            sizes = [max(p.max_x - p.min_x, p.max_y - p.min_y) for p in self._polygons]
            cell_size = statistics.median(sizes) or 1e-3
        if cell_size <= 0:
            raise ValueError("cell_size must be positive")
        self.cell_size = cell_size
        self._cells: dict[tuple[int, int], list[_Polygon]] = {}
        for polygon in self._polygons:
            x0, y0 = self._cell(polygon.min_x, polygon.min_y)
            x1, y1 = self._cell(polygon.max_x, polygon.max_y)
            for ix in range(x0, x1 + 1):
                for iy in range(y0, y1 + 1):
                    self._cells.setdefault((ix, iy), []).append(polygon)

    def __len__(self) -> int:
        return len({p.code for p in self._polygons})

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        return (
            math.floor((x - self.min_x) / self.cell_size),
            math.floor((y - self.min_y) / self.cell_size),
        )

    def lookup(self, lon: float, lat: float) -> str | None:
        """The code of the grid containing the point, None outside every grid."""
        if not (self.min_x <= lon <= self.max_x and self.min_y <= lat <= self.max_y):
            return None
        for polygon in self._cells.get(self._cell(lon, lat), ()):
            if polygon.contains(lon, lat):
                return polygon.code
        return None
