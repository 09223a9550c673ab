"""The city's geography as ingest needs it: the bounds fixes are checked against, and the
point -> unit-grid lookup of the enrich step. Read once at start-up from the city directory."""

from __future__ import annotations

import json
import logging

from dashboard.casedata import load_grid_index
from dashboard.config import Settings
from feeds.steps.enrich import GridLookup
from feeds.validate import Bounds

log = logging.getLogger("gridwall.citygeo")


def city_bounds(settings: Settings) -> Bounds | None:
    """feeds.bounds in the config wins; else the bounds of the city's city.json."""
    section = settings.section("feeds").get("bounds")
    if section:
        return Bounds.from_config({"margin_km": settings.city_margin_km, **section})
    meta = settings.city_dir / "city.json"
    if not meta.exists():
        log.warning("no city bounds: %s is missing, so fixes are not checked against the city", meta)
        return None
    (south, west), (north, east) = json.loads(meta.read_text(encoding="utf-8"))["bounds"]
    return Bounds(south, west, north, east, settings.city_margin_km)


def grid_lookup(settings: Settings) -> GridLookup | None:
    path = settings.city_dir / "grids.json"
    if not path.exists():
        log.warning("no unit grids at %s: cases without a grid code keep none", path)
        return None
    return load_grid_index(path).lookup
