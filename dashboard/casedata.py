"""Read the case-domain data files (TOML, GeoJSON) into the pure objects of dashboard.casework.

casework itself never reads a file; this module is the only place that does, so a city can
point each loader at its own files. Formats: docs/calendar.md and docs/casework.md.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dashboard.casework.catalogue import Catalogue
from dashboard.casework.gridindex import GridIndex
from dashboard.casework.overdue import LightPolicy
from dashboard.casework.timelimits import LimitTable, Rules
from dashboard.casework.workcalendar import WorkCalendar

DATA_DIR = Path(__file__).resolve().parent / "data"
HOLIDAY_DIR = DATA_DIR / "holidays"
TIMELIMITS_FILE = DATA_DIR / "timelimits.toml"
CATALOGUE_FILE = DATA_DIR / "catalogue.toml"


def read_toml(path: Path | str) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def holiday_days(documents: Iterable[Mapping[str, Any]]) -> tuple[list[date], list[date]]:
    """(days off, make-up working days) from parsed holiday files; see docs/calendar.md."""
    off: set[date] = set()
    work: set[date] = set()
    for doc in documents:
        for entry in doc.get("holiday", ()):
            name = entry.get("name", "?")
            first = _date(entry["first"], f"holiday {name}")
            last = _date(entry.get("last", first), f"holiday {name}")
            if last < first:
                raise ValueError(f"holiday {name}: last day {last} is before first day {first}")
            day = first
            while day <= last:
                off.add(day)
                day += timedelta(days=1)
            work.update(_date(d, f"holiday {name}") for d in entry.get("work", ()))
        off.update(_date(d, "off") for d in doc.get("off", ()))
        work.update(_date(d, "work") for d in doc.get("work", ()))
    return sorted(off), sorted(work)


def calendar_data(settings: Mapping[str, Any], holiday_documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The plain data of ``WorkCalendar.from_data``: [calendar] settings plus holiday days."""
    off, work = holiday_days(holiday_documents)
    return {**settings, "holidays": off, "workdays": work}


def load_calendar(
    holiday_files: Iterable[Path | str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> WorkCalendar:
    """A calendar from holiday files (default: every dashboard/data/holidays/*.toml) and the
    [calendar] table of timelimits.toml (or ``settings``)."""
    files = sorted(HOLIDAY_DIR.glob("*.toml")) if holiday_files is None else list(holiday_files)
    if settings is None:
        settings = read_toml(TIMELIMITS_FILE).get("calendar", {})
    return WorkCalendar.from_data(calendar_data(settings, [read_toml(f) for f in files]))


def limit_table_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """The plain data of ``LimitTable.from_data`` from a parsed timelimits.toml."""
    return {
        "default": document["disposal"]["default"],
        "rules": document.get("rule", []),
        "stages": document.get("stages", {}),
    }


def load_limit_table(path: Path | str = TIMELIMITS_FILE) -> LimitTable:
    return LimitTable.from_data(limit_table_data(read_toml(path)))


def load_light_policy(path: Path | str = TIMELIMITS_FILE) -> LightPolicy:
    return LightPolicy.from_data(read_toml(path).get("policy", {}))


def load_rules(path: Path | str = TIMELIMITS_FILE, holiday_files: Iterable[Path | str] | None = None) -> Rules:
    """Calendar + limit table + the urgent switch, as ``lifecycle.apply`` needs them."""
    document = read_toml(path)
    policy = document.get("policy", {})
    return Rules(
        calendar=load_calendar(holiday_files, document.get("calendar", {})),
        limits=LimitTable.from_data(limit_table_data(document)),
        urgent_counts_natural_time=bool(policy.get("urgent_counts_natural_time", True)),
    )


def load_catalogue(path: Path | str = CATALOGUE_FILE) -> Catalogue:
    return Catalogue.from_data(read_toml(path))


def grid_rings(geojson: Mapping[str, Any], code_property: str = "code") -> list[tuple[str, list]]:
    """(grid code, outer ring) pairs from a GeoJSON FeatureCollection of Polygons/MultiPolygons.

    Holes are ignored: unit grids are simple closed polygons (docs/domain.md §2).
    """
    pairs: list[tuple[str, list]] = []
    for feature in geojson.get("features", ()):
        code = str(feature["properties"][code_property])
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            raise ValueError(f"grid {code}: geometry {geometry['type']} is not a polygon")
        pairs.extend((code, [tuple(p[:2]) for p in polygon[0]]) for polygon in polygons)
    return pairs


def load_grid_index(path: Path | str, code_property: str = "code") -> GridIndex:
    with open(path, encoding="utf-8") as handle:
        return GridIndex(grid_rings(json.load(handle), code_property))


def city_rules(section: Mapping[str, Any]) -> tuple[Rules, LightPolicy]:
    """The city's rules from the [casework] config section: ``timelimits_file`` and
    ``holiday_files``, else the shipped defaults (docs/casework.md)."""
    limits = section.get("timelimits_file", TIMELIMITS_FILE)
    return load_rules(limits, section.get("holiday_files")), load_light_policy(limits)
