"""The supervision's zones and routes (docs/supervision.md "Zones and routes"): GeoJSON files a
city draws in any GIS tool, read once at start with shapely 2 and asked, for every vehicle fix,
what the rules need to know there (``Facts``).

- **Zones** (``Polygon``/``MultiPolygon`` features), by ``properties.kind``:
  ``forbidden`` (no entry for the ``subtypes`` named, within ``hours``), ``speed`` (a lower
  ``speed_limit_kmh`` there; any zone may carry one), ``site`` (an approved construction site,
  dump or depot: a muck truck's stop there is its job).
- **Routes** (``LineString``/``MultiLineString`` features): an approved route, assigned to the
  ``devices`` listed, with an optional ``buffer_m`` (its corridor's half-width).

Coordinates are WGS-84 lon/lat, as GeoJSON says. Distances are taken in a local metric plane
around the city's centre (equirectangular: under 0.1 % off across a city), so that a corridor of
50 m is 50 m. Many zones go into an STRtree; a fix asks it for the zones within ``edge_m``.

Bad files are refused at start with the file, the feature and what is wrong (``GeofenceError``):
a map that silently lost a forbidden zone would let every truck through it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson
import shapely
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dashboard import limits
from dashboard.casework.supervision import Facts, in_hours

ZONE_KINDS = ("forbidden", "speed", "site")
_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
M_PER_DEG = 111_195.0


class GeofenceError(ValueError):
    """A zones or routes file the supervision cannot use, and why."""


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    kind: str
    subtypes: frozenset[str]  # empty: every vehicle
    hours: tuple[tuple[int, int], ...]  # local minutes of the day; empty: all day
    speed_limit_kmh: float | None
    geom: BaseGeometry  # in the local metric plane


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    name: str
    devices: frozenset[str]
    buffer_m: float | None
    geom: BaseGeometry


class Ask(NamedTuple):
    """One fix asked about (``Geofences.facts_many``)."""

    device_id: str
    subtype: str | None
    lat: float
    lon: float
    minute_of_day: int  # local
    edge_m: float
    route_buffer_m: float


NO_FACTS = Facts()
NONE: frozenset[str] = frozenset()


class Plane:
    """WGS-84 degrees <-> metres east/north of a centre."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.kx = math.cos(math.radians(lat0)) * M_PER_DEG

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * M_PER_DEG

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: _scale(c, self))


def _scale(coords: Any, plane: Plane) -> Any:
    out = coords.copy()
    out[:, 0] = (coords[:, 0] - plane.lon0) * plane.kx
    out[:, 1] = (coords[:, 1] - plane.lat0) * M_PER_DEG
    return out


class Geofences:
    """The zones and routes, and what they say of a fix."""

    def __init__(self, zones: Sequence[Zone], routes: Sequence[Route], plane: Plane) -> None:
        self.zones = tuple(zones)
        self.routes = tuple(routes)
        self.plane = plane
        self._zone_geoms = np.array([z.geom for z in self.zones], dtype=object)
        self._tree = STRtree(self._zone_geoms) if self.zones else None
        for z in self.zones:
            shapely.prepare(z.geom)
        self.has_sites = any(z.kind == "site" for z in self.zones)
        # The vehicle types some zone names (None in it: a zone for every vehicle).
        self._typed = {t for z in self.zones for t in (z.subtypes or (None,))}
        self._routes_of: dict[str, list[Route]] = {}
        for r in self.routes:
            for d in r.devices:
                self._routes_of.setdefault(d, []).append(r)

    @classmethod
    def empty(cls, lat0: float = 0.0, lon0: float = 0.0) -> Geofences:
        return cls((), (), Plane(lat0, lon0))

    def concerns(self, device_id: str, subtype: str | None) -> bool:
        """Whether any zone or route may say something of this vehicle's fixes."""
        typed = self._typed
        return None in typed or subtype in typed or device_id in self._routes_of

    def routes_of(self, device_id: str) -> list[Route]:
        return self._routes_of.get(device_id, [])

    def facts(self, device_id: str, subtype: str | None, lat: float, lon: float, minute_of_day: int,
              edge_m: float, route_buffer_m: float) -> Facts:
        """What the rules need of a fix: the forbidden zones it is in (or near), the lowest zone
        speed limit there, how far outside each of its routes' corridors it is (the route's own
        ``buffer_m``, else ``route_buffer_m``), whether it is at a site."""
        return self.facts_many([Ask(device_id, subtype, lat, lon, minute_of_day, edge_m, route_buffer_m)])[0]

    def facts_many(self, asks: Sequence[Ask]) -> list[Facts]:
        """``facts`` of many fixes at once: one STRtree query and one GEOS call per measure for
        the whole batch (a call per fix costs ten times as much in shapely's overhead)."""
        out = [NO_FACTS] * len(asks)
        if not asks or (self._tree is None and not self._routes_of):
            return out
        pl = self.plane
        lat_lon = np.array([(a.lat, a.lon) for a in asks], dtype=float)
        xy = np.empty_like(lat_lon)
        xy[:, 0] = (lat_lon[:, 1] - pl.lon0) * pl.kx
        xy[:, 1] = (lat_lon[:, 0] - pl.lat0) * M_PER_DEG
        points = shapely.points(xy)
        zone_pairs: dict[int, list[tuple[Zone, bool]]] = {}
        if self._tree is not None:
            edges = np.array([a.edge_m for a in asks])
            found = self._tree.query(points, predicate="dwithin", distance=edges)
            if found.shape[1]:
                ask_i, zone_i = found
                inside = shapely.contains_xy(self._zone_geoms[zone_i], xy[ask_i, 0], xy[ask_i, 1])
                for a, z, yes in zip(ask_i.tolist(), zone_i.tolist(), inside.tolist(), strict=True):
                    zone_pairs.setdefault(a, []).append((self.zones[z], yes))
        route_pairs: list[tuple[int, Route]] = [(i, r) for i, a in enumerate(asks) for r in self._routes_of.get(a.device_id, ())]
        metres = (shapely.distance(np.array([r.geom for _, r in route_pairs], dtype=object),
                                   points[[i for i, _ in route_pairs]]).tolist() if route_pairs else [])
        routes_at: dict[int, dict[str, float]] = {}
        for (i, r), m in zip(route_pairs, metres, strict=True):
            routes_at.setdefault(i, {})[r.id] = m - (r.buffer_m or asks[i].route_buffer_m)
        for i in set(zone_pairs) | set(routes_at):
            out[i] = self._facts_of(asks[i], zone_pairs.get(i, ()), routes_at.get(i, {}))
        return out

    @staticmethod
    def _facts_of(a: Ask, zones: Iterable[tuple[Zone, bool]], route_m: dict[str, float]) -> Facts:
        forbidden: set[str] | None = None
        near: set[str] | None = None
        limit: float | None = None
        at_site = False
        subtype = a.subtype
        for z, inside in zones:
            if z.subtypes and subtype not in z.subtypes:
                continue
            if z.hours and not in_hours(z.hours, a.minute_of_day):
                continue
            if z.kind == "forbidden":
                if inside:
                    forbidden = forbidden or set()
                    forbidden.add(z.id)
                else:
                    near = near or set()
                    near.add(z.id)
            elif inside and z.kind == "site":
                at_site = True
            if inside and z.speed_limit_kmh is not None:
                limit = z.speed_limit_kmh if limit is None else min(limit, z.speed_limit_kmh)
        if forbidden is None and near is None and limit is None and not at_site and not route_m:
            return NO_FACTS
        return Facts(frozenset(forbidden) if forbidden else NONE, frozenset(near) if near else NONE, limit, route_m,
                     at_site)


# --- reading the files ---------------------------------------------------------------------------


def load(zones_path: Path | None, routes_path: Path | None, *, centre: tuple[float, float],
         vehicle_subtypes: Iterable[str]) -> Geofences:
    """Both files, checked whole; either may be absent (no zones, no routes)."""
    plane = Plane(*centre)
    known = frozenset(vehicle_subtypes)
    zones = [_zone(f, i, zones_path, plane, known) for i, f in _features(zones_path)] if zones_path else []
    routes = [_route(f, i, routes_path, plane) for i, f in _features(routes_path)] if routes_path else []
    for what, items, path in (("zone", zones, zones_path), ("route", routes, routes_path)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise GeofenceError(f"{path}: two {what}s have the id {item.id!r}; each needs its own")
            seen.add(item.id)
    return Geofences(zones, routes, plane)


def _features(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    try:
        doc = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise GeofenceError(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise GeofenceError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise GeofenceError(f"{path}: not a GeoJSON FeatureCollection")
    return list(enumerate(doc["features"]))


def _where(path: Path, i: int, props: Mapping[str, Any]) -> str:
    return f"{path}: feature {i}" + (f" ({props['id']!r})" if "id" in props else "")


def _geometry(feature: Mapping[str, Any], where: str, kinds: tuple[str, ...]) -> BaseGeometry:
    g = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(g, dict) or g.get("type") not in kinds:
        got = g.get("type") if isinstance(g, dict) else None
        raise GeofenceError(f"{where}: its geometry is {got!r}, where a {' or '.join(kinds)} is needed")
    try:
        geom = shape(g)
    except Exception as exc:  # shapely's own words for a malformed coordinate list
        raise GeofenceError(f"{where}: its coordinates are not a {g['type']} ({exc})") from None
    if geom.is_empty:
        raise GeofenceError(f"{where}: its {g['type']} is empty")
    if not shapely.is_valid(geom):
        raise GeofenceError(f"{where}: its {g['type']} is not valid: {shapely.is_valid_reason(geom)}")
    return geom


def _props(feature: Mapping[str, Any], path: Path, i: int) -> Mapping[str, Any]:
    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict) or not isinstance(props.get("id"), str) or not props["id"].strip():
        raise GeofenceError(f"{path}: feature {i} has no properties.id (a text); every zone and route needs one")
    if len(props["id"]) > limits.ALARM_KEY or props["id"] != props["id"].strip():
        raise GeofenceError(f"{path}: feature {i}: id {props['id'][:80]!r} is over {limits.ALARM_KEY} characters "
                            "or has blanks around it (an alarm names its zone by it)")
    return props


def _number(props: Mapping[str, Any], key: str, where: str) -> float | None:
    v = props.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
        raise GeofenceError(f"{where}: {key} is {v!r}, where a positive number is needed")
    return float(v)


def parse_hours(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    if value in (None, "", []):
        return ()
    items = [value] if isinstance(value, str) else value
    out = []
    for item in items if isinstance(items, list) else [items]:
        m = _HOURS.match(item) if isinstance(item, str) else None
        if not m:
            raise GeofenceError(f"{where}: hours {item!r} is not HH:MM-HH:MM (e.g. \"07:00-22:00\")")
        a, b = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
        if a > 1440 or b > 1440 or a == b:
            raise GeofenceError(f"{where}: hours {item!r} is not a window of the day")
        out.append((a, b))
    return tuple(out)


def _zone(feature: Mapping[str, Any], i: int, path: Path, plane: Plane, known: frozenset[str]) -> Zone:
    props = _props(feature, path, i)
    where = _where(path, i, props)
    kind = props.get("kind", "forbidden")
    if kind not in ZONE_KINDS:
        raise GeofenceError(f"{where}: kind {kind!r} is not one of {', '.join(ZONE_KINDS)}")
    subtypes = props.get("subtypes") or []
    if not isinstance(subtypes, list) or not all(isinstance(s, str) for s in subtypes):
        raise GeofenceError(f"{where}: subtypes must be a list of vehicle types")
    unknown = sorted(set(subtypes) - known)
    if unknown:
        raise GeofenceError(f"{where}: unknown vehicle type {', '.join(map(repr, unknown))}; "
                            f"the vehicle types are {', '.join(sorted(known))}")
    geom = _geometry(feature, where, ("Polygon", "MultiPolygon"))
    return Zone(props["id"], str(props.get("name") or props["id"]), kind, frozenset(subtypes),
                parse_hours(props.get("hours"), where), _number(props, "speed_limit_kmh", where), plane.project(geom))


def _route(feature: Mapping[str, Any], i: int, path: Path, plane: Plane) -> Route:
    props = _props(feature, path, i)
    where = _where(path, i, props)
    devices = props.get("devices") or []
    if not isinstance(devices, list) or not devices or not all(isinstance(d, str) and d for d in devices):
        raise GeofenceError(f"{where}: devices must list the ids of the vehicles the route is assigned to")
    geom = _geometry(feature, where, ("LineString", "MultiLineString"))
    return Route(props["id"], str(props.get("name") or props["id"]), frozenset(devices),
                 _number(props, "buffer_m", where), plane.project(geom))
