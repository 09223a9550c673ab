"""Enrich: put every record on the city's map.

Sources that send GCJ-02 (AMap, Tencent) or BD-09 (Baidu) coordinates are converted to WGS-84
here, once, so nothing downstream has to care; points get their unit grid (单元网格) code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dashboard.geo import bd09_to_wgs84, gcj02_to_wgs84
from dashboard.records import Alert, CaseEvent, Position, Record
from feeds.steps.batch import Batch

GridLookup = Callable[[float, float], str | None]  # (lon, lat) -> grid code


def to_wgs84(record: Record) -> Record:
    crs = getattr(record, "crs", "wgs84")
    if crs == "wgs84" or not isinstance(record, Position | Alert):
        return record
    if record.lat is None or record.lon is None:
        return replace(record, crs="wgs84")
    convert = gcj02_to_wgs84 if crs == "gcj02" else bd09_to_wgs84
    lat, lon = convert(record.lat, record.lon)
    return replace(record, lat=lat, lon=lon, crs="wgs84")


def with_grid(record: Record, lookup: GridLookup | None) -> Record:
    """The unit grid of a fix or an alert; a case's grid code from its location when the sender
    did not give one."""
    if lookup is None:
        return record
    if isinstance(record, Position | Alert):
        if record.grid_code or record.lat is None or record.lon is None:
            return record
        code = lookup(record.lon, record.lat)
        return replace(record, grid_code=code) if code else record
    if not isinstance(record, CaseEvent):
        return record
    case: dict[str, Any] = record.case
    if case.get("grid_code") or case.get("lat") is None or case.get("lon") is None:
        return record
    code = lookup(float(case["lon"]), float(case["lat"]))
    return replace(record, case={**case, "grid_code": code}) if code else record


def enrich(record: Record, lookup: GridLookup | None = None) -> Record:
    return with_grid(to_wgs84(record), lookup)


class Enrich:
    """The step: every fresh record of the batch on the city's map. After dedupe, so a repeat
    is not converted for nothing; after validation, which checks the coordinates as sent."""

    def __init__(self, lookup: GridLookup | None) -> None:
        self.lookup = lookup

    def run(self, batch: Batch) -> None:
        lookup = self.lookup
        batch.records = [enrich(r, lookup) for r in batch.records]
