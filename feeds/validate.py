"""The validate step: is a decoded record a plausible fact about this city, now, and can it be
stored?

Decoders check shapes and types; this step checks what every format shares, on the records, so
no decoder can skip it:

- storable values (the bounds are ``dashboard/limits.py``'s, the same numbers as the SQL columns
  and the JSON Schemas): every text within its bound (TOO_LONG) and free of NUL and lone
  surrogates (BAD_TEXT), which PostgreSQL refuses in text and JSONB; a case payload (stored as
  JSON) no deeper than CASE_DEPTH (TOO_DEEP), no larger than CASE_BYTES (TOO_LARGE), its numbers
  finite (NOT_FINITE) and its integers within 64 bits (BAD_NUMBER); every time from 2000 to
  2100 (BAD_TIME). A value the database would refuse must be refused here: past this step a
  refusal costs a failed batch and its split (docs/durability.md);
- a place on Earth (COORD_OUT_OF_RANGE), a place near the city (OUTSIDE_CITY), a time that has
  happened (FUTURE_TIMESTAMP).

``check_size`` runs before decoding so an oversized payload costs nothing.

The city check is a bounding box plus a margin, not the city polygon: its job is catching a
swapped lat/lon, a 0,0 fix or a test device in another province, cheaply, on every message.
Everything here runs on every GPS fix: the text checks are unrolled per record type
(``_text_check``), and the slow path runs only on a refusal or a non-ASCII text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from dashboard import limits
from dashboard.records import Alert, CaseEvent, DeviceAlarm, DeviceStatus, Position, Record
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
    """Raise Rejected if the record is not plausible or not storable; return None if it is."""
    latest = now + future_skew_s
    kind = type(record)
    for name in _IDS[kind]:
        check_id(getattr(record, name), name)
    if kind is Position:
        _position_texts(record)
        _place(record.lat, record.lon, bounds, anywhere, "fix")  # type: ignore[union-attr]
        _time(record.ts, latest, now, "fix time 'ts'")
    elif kind is Alert:
        alert: Alert = record  # type: ignore[assignment]
        _alert_texts(alert)
        if alert.lat is not None and alert.lon is not None:
            _place(alert.lat, alert.lon, bounds, anywhere, "camera")
        _time(alert.start, latest, now, "alert 'start'")
        if alert.end is not None:
            _time(alert.end, latest, now, "alert 'end'")
    elif kind is CaseEvent:
        event: CaseEvent = record  # type: ignore[assignment]
        _case_event_texts(event)
        case = event.case
        if case:
            check_case(case)
            lat, lon = case.get("lat"), case.get("lon")
            if lat is not None and lon is not None:
                _place(lat, lon, bounds, anywhere, "case location")
        _time(event.ts, latest, now, "event time")  # a deadline is meant to be in the future
    elif kind is DeviceAlarm:
        alarm: DeviceAlarm = record  # type: ignore[assignment]
        _alarm_texts(alarm)
        if alarm.lat is not None and alarm.lon is not None:
            _place(alarm.lat, alarm.lon, bounds, anywhere, "alarm")
        _time(alarm.ts, latest, now, "alarm time")
    else:  # DeviceStatus: no place
        _status_texts(record)
        _time(record.ts, latest, now, "status time")


# --- storable text -----------------------------------------------------------------------------


def _text_check(bounded: Mapping[str, int]) -> Callable[[Any], None]:
    """The text check of one record type, unrolled from its bounds at import: a function with
    one ``if`` per field. On every GPS fix it costs about 30 ns a field, where a loop over
    (name, bound) pairs costs three times that; the bounds still live only in dashboard/limits.
    """
    lines = ["def check(record):"]
    for name, bound in bounded.items():
        if not (name.isidentifier() and type(bound) is int):
            raise ValueError(f"dashboard/limits.py: {name!r}: {bound!r} is not a field and a bound")
        lines += [
            f"    v = record.{name}",
            # isascii() is O(1) in CPython; only long, NUL-holding or non-ASCII text goes on.
            f"    if v is not None and (len(v) > {bound} or '\\x00' in v or not v.isascii()):",
            f"        check_text(v, {repr(repr(name))}, {bound})",
        ]
    namespace: dict[str, Any] = {"check_text": check_text}
    exec("\n".join(lines), namespace)  # our own source: limits' field names (checked) and ints
    return namespace["check"]  # type: ignore[no-any-return]


def check_text(value: str, what: str, bound: int) -> None:
    """Refuse a text PostgreSQL would: longer than its column, a NUL, a lone surrogate."""
    if len(value) > bound:
        raise Rejected(
            Reason.TOO_LONG,
            f"{what} is {len(value)} characters long, over its bound of {bound} (dashboard/limits.py: "
            "what its SQL column keeps); shorten it at the sender",
        )
    nul = value.find("\x00")
    if nul >= 0:
        raise Rejected(
            Reason.BAD_TEXT,
            f"{what} holds a NUL character (\\u0000) at position {nul}; PostgreSQL stores no NUL in "
            "text; strip it at the sender",
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Rejected(
                Reason.BAD_TEXT,
                f"{what} holds a lone surrogate at position {exc.start}, which is not UTF-8 text",
            ) from None


# The fields that identify a thing. An id is compared as it is: one with blanks around it would
# name another case than the same id written without them, and the case book strips a case's
# fields, so " K1" and "K1" must never both reach it (a poison pair that once held case locks).
_IDS: Final = {Position: ("device_id",), DeviceStatus: ("device_id",), DeviceAlarm: ("device_id",),
               Alert: ("alert_id", "camera_id"),
               CaseEvent: ("event_id", "case_id")}


def check_id(value: str, what: str) -> None:
    if not value or value != value.strip():
        raise Rejected(Reason.BAD_TEXT, f"'{what}' {value[:80]!r} is blank or has blanks around it; an id is "
                                        "compared exactly, so send it without them")


_position_texts: Final = _text_check(limits.POSITION)
_alert_texts: Final = _text_check(limits.ALERT)
_case_event_texts: Final = _text_check(limits.CASE_EVENT)
_status_texts: Final = _text_check(limits.DEVICE_STATUS)
_alarm_texts: Final = _text_check(limits.DEVICE_ALARM)


# --- the case payload (a JSON document in SQL) -------------------------------------------------


def check_case(case: Mapping[str, Any]) -> None:
    """A case payload SQL can store as JSON: bounded texts, depth and size, finite numbers,
    64-bit integers, a deadline in range. Case events are rare next to GPS: the walk and the
    one serialisation for the size are cheap at their rate."""
    for key, value in case.items():
        _key(key, "case")
        what = f"'case.{key}'"
        if type(value) is str:
            check_text(value, what, limits.CASE.get(key, limits.CASE_OTHER_TEXT))
        else:
            _json(value, what, 1)
    deadline = case.get("deadline")
    if deadline is not None and type(deadline) is not bool and isinstance(deadline, (int, float)):
        _in_range(float(deadline), "'case.deadline'")
    try:
        size = len(orjson.dumps(case))
    except (TypeError, orjson.JSONEncodeError) as exc:  # the walk lets nothing through that fails here
        raise Rejected(Reason.WRONG_TYPE, f"the case payload cannot be stored as JSON: {exc}") from None
    if size > limits.CASE_BYTES:
        raise Rejected(
            Reason.TOO_LARGE,
            f"the case payload is {size} bytes as JSON, over its bound of {limits.CASE_BYTES}; "
            "send media and long documents as URLs",
        )


def _json(value: Any, what: str, depth: int) -> None:
    """A value inside the case payload, ``depth`` containers deep (the payload itself is 1)."""
    kind = type(value)
    if value is None or kind is bool:
        return
    if kind is str:
        check_text(value, what, limits.CASE_OTHER_TEXT)
    elif kind is int:
        if not limits.INT_MIN <= value <= limits.INT_MAX:
            raise Rejected(
                Reason.BAD_NUMBER,
                f"{what} is an integer of {value.bit_length()} bits; JSON in SQL keeps 64 (send it as a string)",
            )
    elif kind is float:
        if not math.isfinite(value):
            raise Rejected(Reason.NOT_FINITE, f"{what} is {value}; send a finite number or omit it")
    elif kind is dict or kind is list or kind is tuple:
        if depth >= limits.CASE_DEPTH:
            raise Rejected(
                Reason.TOO_DEEP,
                f"{what} nests objects or arrays {depth + 1} deep, over the case payload's bound "
                f"of {limits.CASE_DEPTH}; flatten it",
            )
        if kind is dict:
            for key, item in value.items():
                _key(key, what)
                _json(item, f"{what[:-1]}.{key}'", depth + 1)
        else:
            for index, item in enumerate(value):
                _json(item, f"{what[:-1]}[{index}]'", depth + 1)
    else:
        raise Rejected(Reason.WRONG_TYPE, f"{what} is a {kind.__name__}, which JSON cannot hold")


def _key(key: Any, where: str) -> None:
    if type(key) is not str:
        raise Rejected(Reason.WRONG_TYPE, f"a key of {where} is a {type(key).__name__}; JSON keys are text")
    if len(key) > limits.CASE_KEY or "\x00" in key or not key.isascii():
        check_text(key, f"a key of {where} ({key[:20]!r}...)", limits.CASE_KEY)


# --- place and time ----------------------------------------------------------------------------


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
    if ts < _TIME_MIN:
        _in_range(ts, what)


_TIME_MIN: Final = limits.TIME_MIN


def _in_range(ts: float, what: str) -> None:
    """A time SQL can keep and a clock can mean: 2000..2100 (dashboard/limits.py)."""
    if not math.isfinite(ts):
        raise Rejected(Reason.NOT_FINITE, f"{what} is {ts}; send a finite time")
    if not limits.TIME_MIN <= ts <= limits.TIME_MAX:
        raise Rejected(
            Reason.BAD_TIME,
            f"{what} is {ts:.0f} epoch seconds, outside 2000..2100; check the sender's clock "
            "(a GPS week rollover sends 1999) and its unit (seconds, or milliseconds above 1e11)",
        )
