"""The validate step: is a decoded record a plausible fact about this city, now?

Decoders check shapes and types; this step checks meaning that every format shares: a place on
Earth (COORD_OUT_OF_RANGE), a place near the city (OUTSIDE_CITY), a time that has happened
(FUTURE_TIMESTAMP). ``check_size`` runs before decoding so an oversized payload costs nothing.

The city check is a bounding box plus a margin, not the city polygon: its job is catching a
swapped lat/lon, a 0,0 fix or a test device in another province, cheaply, on every message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from dashboard.records import Alert, CaseEvent, Position, Record
from feeds.rejects import Reason, Rejected

DEFAULT_SIZE_LIMIT: Final = 65_536
DEFAULT_FUTURE_SKEW_S: Final = 300.0
DEFAULT_MARGIN_KM: Final = 20.0
_KM_PER_DEG_LAT: Final = 111.32


@dataclass(frozen=True, slots=True)
class Bounds:
    """The city's WGS-84 bounding box and how far outside it a fix may still be taken."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float
    margin_km: float = DEFAULT_MARGIN_KM
    # The box grown by the margin, precomputed once so the per-message check is 4 comparisons.
    _box: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (-90 <= self.min_lat < self.max_lat <= 90 and -180 <= self.min_lon < self.max_lon <= 180):
            raise ValueError(f"city bounds are not a box on Earth: {self}")
        if self.margin_km < 0:
            raise ValueError("city bounds margin_km must be >= 0")
        dlat = self.margin_km / _KM_PER_DEG_LAT
        # Longitude degrees shrink towards the poles; use the edge nearest a pole (widest margin).
        widest = max(abs(self.min_lat), abs(self.max_lat))
        dlon = self.margin_km / (_KM_PER_DEG_LAT * max(math.cos(math.radians(widest)), 0.01))
        object.__setattr__(
            self,
            "_box",
            (self.min_lat - dlat, self.min_lon - dlon, self.max_lat + dlat, self.max_lon + dlon),
        )

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Bounds:
        """``{bbox: [west, south, east, north], margin_km: 20}`` (GeoJSON bbox order) or
        ``{min_lat, min_lon, max_lat, max_lon, margin_km}``."""
        margin = float(section.get("margin_km", DEFAULT_MARGIN_KM))
        bbox: Sequence[Any] | None = section.get("bbox")
        if bbox is not None:
            if len(bbox) != 4:
                raise ValueError("city bounds bbox must be [west, south, east, north]")
            west, south, east, north = map(float, bbox)
            return cls(south, west, north, east, margin)
        return cls(
            float(section["min_lat"]),
            float(section["min_lon"]),
            float(section["max_lat"]),
            float(section["max_lon"]),
            margin,
        )

    def contains(self, lat: float, lon: float) -> bool:
        s, w, n, e = self._box
        return s <= lat <= n and w <= lon <= e


def check_size(payload: bytes, limit: int = DEFAULT_SIZE_LIMIT) -> None:
    if len(payload) > limit:
        raise Rejected(
            Reason.OVERSIZED,
            f"payload is {len(payload)} bytes, over the {limit}-byte limit; send media as a URL",
        )


def validate(
    record: Record,
    *,
    now: float,
    bounds: Bounds | None,
    anywhere: bool = False,
    future_skew_s: float = DEFAULT_FUTURE_SKEW_S,
) -> None:
    """Raise Rejected if the record is not plausible; return None if it is."""
    latest = now + future_skew_s
    kind = type(record)
    if kind is Position:
        _place(record.lat, record.lon, bounds, anywhere, "fix")  # type: ignore[union-attr]
        _time(record.ts, latest, now, "fix time 'ts'")
    elif kind is Alert:
        alert: Alert = record  # type: ignore[assignment]
        if alert.lat is not None and alert.lon is not None:
            _place(alert.lat, alert.lon, bounds, anywhere, "camera")
        _time(alert.start, latest, now, "alert 'start'")
        if alert.end is not None:
            _time(alert.end, latest, now, "alert 'end'")
    elif kind is CaseEvent:
        event: CaseEvent = record  # type: ignore[assignment]
        lat, lon = event.case.get("lat"), event.case.get("lon")
        if lat is not None and lon is not None:
            _place(lat, lon, bounds, anywhere, "case location")
        _time(event.ts, latest, now, "event time")  # a deadline is meant to be in the future
    else:  # DeviceStatus: no place
        _time(record.ts, latest, now, "status time")


def _place(lat: float, lon: float, bounds: Bounds | None, anywhere: bool, what: str) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise Rejected(
            Reason.COORD_OUT_OF_RANGE,
            f"{what} lat={lat:g} lon={lon:g} is not a place on Earth (lat within ±90, lon ±180); "
            "are lat and lon swapped?",
        )
    if anywhere or bounds is None:
        return
    if not bounds.contains(lat, lon):
        raise Rejected(
            Reason.OUTSIDE_CITY,
            f"{what} lat={lat:.5f} lon={lon:.5f} is more than {bounds.margin_km:g} km outside "
            "the city bounds; check the device's datum and lat/lon order",
        )


def _time(ts: float, latest: float, now: float, what: str) -> None:
    if ts > latest:
        raise Rejected(
            Reason.FUTURE_TIMESTAMP,
            f"{what} is {ts - now:.0f} s in the future; check the device clock or its time zone "
            "(a local time sent as UTC is 8 h ahead)",
        )
