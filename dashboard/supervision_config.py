"""The supervision's configuration (docs/supervision.md "Configuration"): the ``[supervision]``
section of gridwall.toml, checked whole at start.

    [supervision]
    enabled = true
    zones = "zones.geojson"         # forbidden / speed / site polygons (dashboard/geofences.py)
    routes = "routes.geojson"       # approved routes, assigned to vehicles
    [supervision.vehicle]           # every vehicle type's thresholds ...
    speed_limit_kmh = 60
    [supervision.vehicle.muck_truck]  # ... and one type's own
    speed_limit_kmh = 50
    duty_hours = ["20:00-06:00"]

Every threshold has a default ([D] in docs/supervision.md: docs/domain-notes of the JT/T 808
platforms and the cities' muck-truck rules). A key nobody reads, a type the city does not have,
a threshold that is not a positive number: refused at start with what and where, never guessed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.casedata import city_rules
from dashboard.casework.nearest import signed_off
from dashboard.casework.supervision import CollectorLimits, Limits
from dashboard.casework.workcalendar import WorkCalendar
from dashboard.config import Settings
from dashboard.contract import VEHICLE_SUBTYPES
from dashboard.geofences import GeofenceError, Geofences, load, parse_hours
from dashboard.store.evaluation import read_grid_collectors

# The types' own defaults over Limits' ([D]): muck trucks work at night, are watched for stops
# outside their sites (偷倒) and drive slower in town; enforcement and sanitation work the day.
TYPE_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "muck_truck": {"speed_limit_kmh": 50.0, "watch_stops": True, "duty_hours": ("20:00-06:00",)},
    "enforcement": {"duty_hours": ("08:00-20:00",)},
    "sanitation": {"duty_hours": ("05:00-21:00",)},
}
# A city directory's own supervision files (assets/city/ for the demo city).
CITY_ZONES = "zones.geojson"
CITY_ROUTES = "routes.geojson"
CITY_GRID_COLLECTORS = "grid_collectors.csv"
_LIMIT_KEYS = {f.name for f in dataclasses.fields(Limits)}


class SupervisionConfigError(ValueError):
    """The [supervision] section cannot be used, and why."""


# The collectors' duty periods ([D]): the demo city's, a common 城管 rota (08:00-12:00, 14:00-18:00
# on working days, following the city's working calendar: holidays off, make-up days worked).
COLLECTOR_PERIODS: tuple[str, ...] = ("08:00-12:00", "14:00-18:00")
_COLLECTOR_KEYS = {f.name for f in dataclasses.fields(CollectorLimits)} | {"duty_hours", "schedules", "days"}
DUTY_DAYS = ("workdays", "every_day")  # the city's working days [D], or every day of the year (shifts)


@dataclass(frozen=True)
class Supervision:
    enabled: bool = True
    limits: Mapping[str, Limits] = field(default_factory=dict)  # vehicle subtype -> its thresholds
    default: Limits = Limits()  # a vehicle of a type not listed (none: every type is)
    duty: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # subtype -> local windows
    geofences: Geofences = field(default_factory=Geofences.empty)
    collector: CollectorLimits = CollectorLimits()
    # The collectors' rota (a working calendar with their duty periods), and a collector's own.
    rota: WorkCalendar = field(default_factory=lambda: WorkCalendar(periods=COLLECTOR_PERIODS))
    rotas: Mapping[str, WorkCalendar] = field(default_factory=dict)
    # Collector -> the grid codes it answers for ([casework] grid_collectors_file: 责任网格).
    areas: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def limits_for(self, subtype: str | None) -> Limits:
        return self.limits.get(subtype or "", self.default)

    def duty_hours(self, subtype: str | None) -> tuple[tuple[int, int], ...]:
        """Empty: on duty around the clock."""
        return self.duty.get(subtype or "", ())

    def rota_of(self, collector_id: str) -> WorkCalendar:
        return self.rotas.get(collector_id, self.rota)

    def on_duty(self, collector_id: str, t: float, status: str | None = None) -> bool:
        """By the collector's rota, and not signed off by its last fix's ``status``
        (dashboard/casework/nearest.py ``signed_off``). The watch step and the collector board
        both ask here."""
        if signed_off(status):
            return False
        return self.rota_of(collector_id).is_working_instant(t)


def from_settings(settings: Settings) -> Supervision:
    """The [supervision] section of the configuration, its zones and routes read (paths relative
    to the working directory, as data_dir's is) in the metric plane of the city's centre."""
    meta = settings.city_dir / "city.json"
    lat, lon = json.loads(meta.read_text(encoding="utf-8"))["center"] if meta.exists() else (0.0, 0.0)
    casework = settings.section("casework")
    rules, _policy = city_rules(casework)
    # The city's own files when the configuration names none: a city directory may carry its
    # zones, its approved routes and its 责任网格 (the demo city does).
    section = dict(settings.section("supervision"))
    for key, name in (("zones", CITY_ZONES), ("routes", CITY_ROUTES)):
        if key not in section and (settings.city_dir / name).exists():
            section[key] = str((settings.city_dir / name).resolve())
    areas_file = casework.get("grid_collectors_file")
    if areas_file is None and (settings.city_dir / CITY_GRID_COLLECTORS).exists():
        areas_file = settings.city_dir / CITY_GRID_COLLECTORS
    return load_supervision(section, base_dir=Path.cwd(), centre=(float(lat), float(lon)),
                            calendar=rules.calendar, grid_collectors=read_grid_collectors(areas_file) if areas_file else None)


def load_supervision(section: Mapping[str, Any], *, base_dir: Path, centre: tuple[float, float],
                     calendar: WorkCalendar | None = None,
                     grid_collectors: Mapping[str, list[str]] | None = None) -> Supervision:
    """The section as given (``settings.section("supervision")``); paths relative to ``base_dir``.
    ``calendar``: the city's working calendar (the collectors' rotas follow its days);
    ``grid_collectors``: grid -> its collectors (the 责任网格 file the collectors' ranking reads)."""
    known = {"enabled", "zones", "routes", "vehicle", "collector"}
    _no_unknown(section, known, "[supervision]")
    vehicle = section.get("vehicle") or {}
    if not isinstance(vehicle, Mapping):
        raise SupervisionConfigError("[supervision.vehicle] must be a table")
    common = {k: v for k, v in vehicle.items() if not isinstance(v, Mapping)}
    per_type = {k: v for k, v in vehicle.items() if isinstance(v, Mapping)}
    unknown_types = sorted(set(per_type) - set(VEHICLE_SUBTYPES))
    if unknown_types:
        raise SupervisionConfigError(f"[supervision.vehicle.{unknown_types[0]}]: unknown vehicle type; "
                                     f"the vehicle types are {', '.join(VEHICLE_SUBTYPES)}")
    _no_unknown(common, _LIMIT_KEYS | {"duty_hours"}, "[supervision.vehicle]")
    limits: dict[str, Limits] = {}
    duty: dict[str, tuple[tuple[int, int], ...]] = {}
    for subtype in VEHICLE_SUBTYPES:
        own = per_type.get(subtype, {})
        where = f"[supervision.vehicle.{subtype}]"
        _no_unknown(own, _LIMIT_KEYS | {"duty_hours"}, where)
        merged = {**TYPE_DEFAULTS.get(subtype, {}), **common, **own}
        hours = merged.pop("duty_hours", ())
        try:
            duty[subtype] = parse_hours(list(hours) if not isinstance(hours, str) else hours, where)
        except GeofenceError as exc:
            raise SupervisionConfigError(str(exc)) from None
        limits[subtype] = _limits(merged, where)
    try:
        geofences = load(_path(section.get("zones"), base_dir), _path(section.get("routes"), base_dir),
                         centre=centre, vehicle_subtypes=VEHICLE_SUBTYPES)
    except GeofenceError as exc:
        raise SupervisionConfigError(f"[supervision]: {exc}") from None
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise SupervisionConfigError(f"[supervision] enabled = {enabled!r}: true or false")
    collector, rota, rotas = _collectors(section.get("collector") or {}, calendar or WorkCalendar())
    areas: dict[str, set[str]] = {}
    for grid, ids in (grid_collectors or {}).items():
        for cid in ids:
            areas.setdefault(cid, set()).add(grid)
    return Supervision(enabled, limits, Limits(), duty, geofences, collector, rota, rotas,
                       {cid: frozenset(grids) for cid, grids in areas.items()})


def _collectors(table: Mapping[str, Any], city: WorkCalendar) -> tuple[CollectorLimits, WorkCalendar,
                                                                       dict[str, WorkCalendar]]:
    where = "[supervision.collector]"
    if not isinstance(table, Mapping):
        raise SupervisionConfigError(f"{where} must be a table")
    extra = sorted(k for k in table if k not in _COLLECTOR_KEYS)
    if extra:
        raise SupervisionConfigError(f"{where}: unknown key {extra[0]!r}; the keys are {', '.join(sorted(_COLLECTOR_KEYS))}")
    numbers = {k: v for k, v in table.items() if k not in ("duty_hours", "schedules", "days")}
    days = table.get("days", "workdays")
    if days not in DUTY_DAYS:
        raise SupervisionConfigError(f"{where}: days = {days!r}: one of {', '.join(DUTY_DAYS)}")
    every_day = days == "every_day"
    for name, value in numbers.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise SupervisionConfigError(f"{where}: {name} = {value!r}: a positive number is needed")
    limits = CollectorLimits(**{k: float(v) for k, v in numbers.items()})

    def rota(periods: Any, at: str) -> WorkCalendar:
        items = [periods] if isinstance(periods, str) else periods
        if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
            raise SupervisionConfigError(f"{at}: duty hours are a list like [\"08:00-12:00\", \"14:00-18:00\"]")
        try:  # the city's days (weekend, holidays, make-up days), or every day; the collectors' own hours
            if every_day:
                return WorkCalendar(timezone=city.timezone, periods=items, weekend=())
            return WorkCalendar(timezone=city.timezone, periods=items, weekend=city.weekend, holidays=city.holidays,
                                workdays=city.workdays)
        except ValueError as exc:
            raise SupervisionConfigError(f"{at}: duty hours {items!r}: {exc}") from None

    default = rota(table.get("duty_hours", list(COLLECTOR_PERIODS)), f"{where} duty_hours")
    schedules = table.get("schedules") or {}
    if not isinstance(schedules, Mapping):
        raise SupervisionConfigError(f"{where} schedules: a table of collector id = duty hours")
    return limits, default, {str(cid): rota(p, f"{where} schedules.{cid}") for cid, p in schedules.items()}


def _path(value: Any, base_dir: Path) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise SupervisionConfigError(f"[supervision]: a file's path must be text, not {value!r}")
    p = Path(value)
    return p if p.is_absolute() else base_dir / p


def _no_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = sorted(k for k in table if k not in known and not isinstance(table[k], Mapping))
    if extra:
        raise SupervisionConfigError(f"{where}: unknown key {extra[0]!r}; the keys are {', '.join(sorted(known))}")


def _limits(values: Mapping[str, Any], where: str) -> Limits:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "watch_stops":
            if not isinstance(value, bool):
                raise SupervisionConfigError(f"{where}: watch_stops = {value!r}: true or false")
            out[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or \
                (value == 0 and name not in ("edge_m", "speed_hysteresis_kmh")):
            raise SupervisionConfigError(f"{where}: {name} = {value!r}: a positive number is needed")
        out[name] = float(value)
    return Limits(**out)
