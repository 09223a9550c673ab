"""Read a generated city directory (assets/city/) into one immutable ``City``.

Plain file reading, nothing else: the point → grid lookup lives in dashboard/casework/catalogue.py
and is built from ``City.grids`` (code, ring) pairs. Results are cached per directory and reloaded
when the files change (mtime), so tests that regenerate into a temp dir see fresh data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

try:  # orjson parses the 2 MB grid file ~5x faster; the stdlib is enough without it
    import orjson

    def _read(path: Path) -> Any:
        return orjson.loads(path.read_bytes())
except ImportError:  # pragma: no cover - orjson is in the project's deps
    import json

    def _read(path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))


LonLat = tuple[float, float]
Ring = tuple[LonLat, ...]
FILES = ("city.json", "districts.json", "streets.json", "communities.json", "grids.json",
         "roads.json")


AREA_SUFFIXES_EN = (" Subdistrict", " District", " Community")


def short_area_en(name: str) -> str:
    """An area's English name without its level ("Gulou Subdistrict" -> "Gulou"), for lists
    whose heading already says the level."""
    for suffix in AREA_SUFFIXES_EN:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name_zh: str
    name_en: str
    kind: str  # center | city | utility | district
    district: str | None = None
    short_zh: str = ""  # 简称, for where a wall has little room; the full name when not given
    short_en: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "short_zh", self.short_zh or self.name_zh)
        object.__setattr__(self, "short_en", self.short_en or self.name_en)


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    lat: float
    lon: float
    name_zh: str
    name_en: str
    department: str
    grid_code: str
    node: int  # nearest road node


@dataclass(frozen=True, slots=True)
class Site:
    """A place vehicles go to: construction, dump, muck_yard, transfer_station,
    enforcement_base, sanitation_depot."""

    id: str
    kind: str
    name_zh: str
    name_en: str
    lat: float
    lon: float
    node: int
    district: str


@dataclass(frozen=True, slots=True)
class AdminArea:
    level: str  # district | street | community
    code: str
    name_zh: str
    name_en: str
    parent: str | None
    area_m2: float
    ring: Ring


@dataclass(frozen=True, slots=True)
class GridInfo:
    code: str
    name_zh: str
    name_en: str
    parent: str  # community code
    area_m2: float
    landuse: str  # urban | park | water


@dataclass(frozen=True, slots=True)
class RoadEdge:
    a: int
    b: int
    cls: str  # major | minor
    name_zh: str
    length_m: float


@dataclass(frozen=True, slots=True)
class RoadGraph:
    nodes: tuple[LonLat, ...]  # index = node id
    edges: tuple[RoadEdge, ...]


@dataclass(frozen=True, slots=True)
class City:
    path: Path
    name_zh: str
    name_en: str
    fictional: bool
    center: tuple[float, float]  # (lat, lon) as in city.json, the order Leaflet takes
    zoom: int
    bounds: tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
    timezone: str
    grid_digits: int
    departments: tuple[Department, ...]
    cameras: tuple[Camera, ...]
    sites: tuple[Site, ...]
    districts: tuple[AdminArea, ...]
    streets: tuple[AdminArea, ...]
    communities: tuple[AdminArea, ...]
    grids: tuple[tuple[str, Ring], ...]  # (grid code, closed lon/lat ring)
    grid_info: Mapping[str, GridInfo]
    names: Mapping[str, str]  # district/street/community/grid code → name_zh
    names_en: Mapping[str, str]
    roads: RoadGraph
    meta: Mapping[str, Any]  # the whole city.json, for fields not modelled here

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def area(self, code: str) -> AdminArea | None:
        level = {6: self.districts, 9: self.streets, 12: self.communities}.get(len(code), ())
        return next((a for a in level if a.code == code), None)


def load_city(city_dir: Path | str) -> City:
    """Load (cached) the city in ``city_dir``."""
    path = Path(city_dir).resolve()
    stamp = tuple((path / f).stat().st_mtime_ns for f in FILES)
    return _load(str(path), stamp)


@functools.lru_cache(maxsize=4)
def _load(path_str: str, _stamp: tuple[int, ...]) -> City:
    path = Path(path_str)
    meta = _read(path / "city.json")

    def areas(file: str) -> tuple[AdminArea, ...]:
        out = []
        for f in _read(path / file)["features"]:
            p = f["properties"]
            out.append(AdminArea(p["level"], p["code"], p["name_zh"], p["name_en"], p["parent"],
                                 float(p["area_m2"]), _ring(f)))
        return tuple(out)

    districts, streets, communities = areas("districts.json"), areas("streets.json"), areas(
        "communities.json"
    )
    grids: list[tuple[str, Ring]] = []
    info: dict[str, GridInfo] = {}
    for f in _read(path / "grids.json")["features"]:
        p = f["properties"]
        grids.append((p["code"], _ring(f)))
        info[p["code"]] = GridInfo(p["code"], p["name_zh"], p["name_en"], p["parent"],
                                   float(p["area_m2"]), p.get("landuse", "urban"))
    names = {a.code: a.name_zh for a in (*districts, *streets, *communities)}
    names_en = {a.code: a.name_en for a in (*districts, *streets, *communities)}
    for g in info.values():
        names[g.code], names_en[g.code] = g.name_zh, g.name_en
    roads = _read(path / "roads.json")
    graph = RoadGraph(
        nodes=tuple((float(lon), float(lat)) for _id, lon, lat in roads["nodes"]),
        edges=tuple(RoadEdge(int(a), int(b), c, n, float(m)) for a, b, c, n, m in roads["edges"]),
    )
    (south, west), (north, east) = meta["bounds"]
    return City(
        path=path,
        name_zh=meta["name_zh"],
        name_en=meta["name_en"],
        fictional=bool(meta.get("fictional", False)),
        center=(float(meta["center"][0]), float(meta["center"][1])),
        zoom=int(meta["zoom"]),
        bounds=((south, west), (north, east)),
        timezone=meta.get("timezone", "Asia/Shanghai"),
        grid_digits=int(meta.get("code_scheme", {}).get("grid", 14)),
        departments=tuple(
            Department(d["code"], d["name_zh"], d["name_en"], d.get("kind", "city"),
                       d.get("district"), d.get("short_zh", ""), d.get("short_en", ""))
            for d in meta["departments"]
        ),
        cameras=tuple(
            Camera(c["id"], c["lat"], c["lon"], c["name_zh"], c.get("name_en", ""),
                   c["department"], c["grid_code"], int(c["node"]))
            for c in meta["cameras"]
        ),
        sites=tuple(
            Site(s["id"], s["kind"], s["name_zh"], s.get("name_en", ""), s["lat"], s["lon"],
                 int(s["node"]), s["district"])
            for s in meta.get("sites", [])
        ),
        districts=districts,
        streets=streets,
        communities=communities,
        grids=tuple(grids),
        grid_info=MappingProxyType(info),
        names=MappingProxyType(names),
        names_en=MappingProxyType(names_en),
        roads=graph,
        meta=MappingProxyType(meta),
    )


def _ring(feature: dict[str, Any]) -> Ring:
    return tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"][0])
