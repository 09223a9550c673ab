"""The one set of small parsing helpers that every decoder uses.

Each helper either returns a clean Python value or raises ``Rejected`` with a sentence that names
the field, so a decoder reads as a list of "this field, this type" lines (Home Assistant's
``_parse_see_args`` idea) and every refusal is worded the same way whatever the wire format.

``at`` arguments are a prefix for the field name in messages ("position." -> "position.latitude"),
because an operator looking at a dead letter needs to find the field in a nested payload.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from feeds.rejects import Reason, Rejected

Json = dict[str, Any]

# Epoch values above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
_MS_THRESHOLD: Final = 1e11
_INF: Final = math.inf
_UTC: Final = UTC

CRS_NAMES: Final = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}


# --- payloads --------------------------------------------------------------------------------


def load_json(payload: bytes) -> Any:
    """Parse strict JSON with orjson; classify the failure so the operator knows what to fix."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise _classify_json_error(payload, exc) from None


def _classify_json_error(payload: bytes, exc: orjson.JSONDecodeError) -> Rejected:
    msg = str(exc)
    if "infinity" in msg:  # orjson's words for 1e400 and the like
        return Rejected(Reason.NOT_FINITE, f"a number overflows to infinity ({msg})")
    if "depth limit" in msg:  # orjson stops at 1024 nested objects/arrays: valid JSON, but a bomb
        return Rejected(Reason.TOO_DEEP, f"payload nests objects or arrays over 1024 deep ({msg})")
    # Python's json.dumps writes NaN/Infinity by default, so a Python publisher with a bad
    # sensor value produces them. Only on this cold path do we re-parse with the stdlib just to
    # tell "NaN" apart from a plain syntax error; its values are never used.
    if b"NaN" in payload or b"Infinity" in payload:
        try:
            json.loads(payload, parse_constant=_refuse_constant)
        except Rejected as rejected:
            return rejected
        except Exception:  # any other failure is just invalid JSON
            pass
    return Rejected(Reason.INVALID_JSON, f"payload is not valid JSON: {msg}")


def _refuse_constant(name: str) -> Any:
    raise Rejected(
        Reason.NOT_FINITE,
        f"payload contains {name}; JSON has no NaN/Infinity: leave the field out or send null",
    )


def load_object(payload: bytes) -> Json:
    value = load_json(payload)
    if type(value) is not dict:
        raise Rejected(Reason.WRONG_TYPE, f"payload must be a JSON object, not {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- strings and ids -------------------------------------------------------------------------


def require_str(obj: Json, key: str, at: str = "") -> str:
    value = obj.get(key)
    if value is None:
        raise _missing(at, key)
    return to_str(value, at + key)


def optional_str(obj: Json, key: str, at: str = "") -> str | None:
    """An optional string; empty or blank counts as absent (devices send "" for "not set")."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' must be a string, not {_json_type(value)}")
    return value.strip() or None


def to_str(value: Any, name: str) -> str:
    if type(value) is not str:
        raise Rejected(Reason.WRONG_TYPE, f"'{name}' must be a string, not {_json_type(value)}")
    text = value.strip()
    if not text:
        raise Rejected(Reason.MISSING_FIELD, f"'{name}' is empty")
    return text


def require_id(obj: Json, key: str, at: str = "") -> str:
    """An identifier: a non-empty string, or an integer (Open311 and Traccar send numeric ids)."""
    value = obj.get(key)
    if value is None:
        raise _missing(at, key)
    return to_id(value, at + key)


def to_id(value: Any, name: str) -> str:
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return to_str(value, name)
    raise Rejected(Reason.WRONG_TYPE, f"'{name}' must be a string or an integer, not {_json_type(value)}")


def require_choice(obj: Json, key: str, choices: Iterable[str], at: str = "") -> str:
    value = require_str(obj, key, at)
    if value not in choices:
        raise Rejected(
            Reason.WRONG_TYPE,
            f"'{at}{key}' is {value!r}; expected one of {', '.join(sorted(choices))}",
        )
    return value


def optional_crs(obj: Json, key: str = "crs", at: str = "") -> str | None:
    value = optional_str(obj, key, at)
    if value is None:
        return None
    crs = CRS_NAMES.get(value.lower().replace("-", "").replace("_", ""))
    if crs is None:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' is {value!r}; expected wgs84, gcj02 or bd09")
    return crs


def optional_bool(obj: Json, key: str, at: str = "") -> bool | None:
    value = obj.get(key)
    if value is None or type(value) is bool:
        return value
    raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' must be true or false, not {_json_type(value)}")


# --- objects ---------------------------------------------------------------------------------


def require_object(obj: Json, key: str, at: str = "") -> Json:
    value = obj.get(key)
    if value is None:
        raise _missing(at, key)
    if type(value) is not dict:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' must be an object, not {_json_type(value)}")
    return value


def optional_object(obj: Json, key: str, at: str = "") -> Json | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' must be an object, not {_json_type(value)}")
    return value


def optional_list(obj: Json, key: str, at: str = "") -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise Rejected(Reason.WRONG_TYPE, f"'{at}{key}' must be an array, not {_json_type(value)}")
    return value


# --- numbers ---------------------------------------------------------------------------------


def require_number(
    obj: Json,
    key: str,
    at: str = "",
    *,
    lo: float = -_INF,
    hi: float = _INF,
    strings: bool = False,
) -> float:
    value = obj.get(key)
    if value is None:
        raise _missing(at, key)
    return to_number(value, at + key, lo, hi, strings)


def optional_number(
    obj: Json,
    key: str,
    at: str = "",
    *,
    lo: float = -_INF,
    hi: float = _INF,
    strings: bool = False,
) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    return to_number(value, at + key, lo, hi, strings)


def to_number(value: Any, name: str, lo: float = -_INF, hi: float = _INF, strings: bool = False) -> float:
    """A finite float. Booleans are refused although Python counts them as ints, because a
    ``"speed": true`` is a publisher bug, not the number 1."""
    kind = type(value)
    if kind is float:
        number = value
    elif kind is int:
        number = float(value)  # orjson caps ints at 64 bits, so this cannot overflow
    elif kind is str and strings:
        try:
            number = float(value)
        except ValueError:
            raise Rejected(Reason.WRONG_TYPE, f"'{name}' is {value!r}, which is not a number") from None
    else:
        raise Rejected(Reason.WRONG_TYPE, f"'{name}' must be a number, not {_json_type(value)}")
    if not math.isfinite(number):
        raise Rejected(Reason.NOT_FINITE, f"'{name}' is {number}; send a finite number or omit it")
    if number < lo or number > hi:
        raise Rejected(Reason.WRONG_TYPE, f"'{name}' is {value!r}; expected {lo:g}..{hi:g}")
    return number


def unknown_if_negative(value: float | None) -> float | None:
    """Phones report -1 for "no valid course/speed/accuracy" (iOS CLLocation); that is not a
    reading, so it becomes unknown instead of a refusal that would lose the whole fix."""
    if value is None or value < 0:
        return None
    return value


# --- times -----------------------------------------------------------------------------------


def require_time(obj: Json, key: str, at: str = "", *, naive_offset_s: int | None = None) -> float:
    value = obj.get(key)
    if value is None:
        raise _missing(at, key)
    return parse_time(value, at + key, naive_offset_s)


def optional_time(obj: Json, key: str, at: str = "", *, naive_offset_s: int | None = None) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    return parse_time(value, at + key, naive_offset_s)


def parse_time(value: Any, name: str, naive_offset_s: int | None = None) -> float:
    """UTC epoch seconds from epoch seconds, epoch milliseconds or ISO 8601.

    A time without an offset is refused unless the deployment configured the city's UTC offset:
    guessing wrong shifts every fix and every deadline by eight hours without any error.
    """
    kind = type(value)
    if kind is int or kind is float:
        return _epoch(float(value), name)
    if kind is not str:
        raise Rejected(
            Reason.WRONG_TYPE, f"'{name}' must be an ISO 8601 time or epoch seconds, not {_json_type(value)}"
        )
    text = value.strip()
    if text.isascii() and text[:1].isdigit() and text.replace(".", "", 1).isdigit():
        return _epoch(float(text), name)  # older clients send epoch numbers as strings
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(
            Reason.WRONG_TYPE,
            f"'{name}' is {value!r}, which is neither ISO 8601 nor epoch seconds",
        ) from None
    if moment.tzinfo is None:
        if naive_offset_s is None:
            raise Rejected(
                Reason.WRONG_TYPE,
                f"'{name}' is {value!r} without a UTC offset; add 'Z' or '+08:00' "
                "(or configure feeds.naive_time for this city)",
            )
        try:
            return moment.replace(tzinfo=_UTC).timestamp() - naive_offset_s
        except (OverflowError, ValueError):
            raise Rejected(Reason.WRONG_TYPE, f"'{name}' is out of range: {value!r}") from None
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):
        raise Rejected(Reason.WRONG_TYPE, f"'{name}' is out of range: {value!r}") from None


def _epoch(number: float, name: str) -> float:
    if not math.isfinite(number):
        raise Rejected(Reason.NOT_FINITE, f"'{name}' is {number}; send a finite time")
    if number < 0:
        raise Rejected(Reason.WRONG_TYPE, f"'{name}' is {number:g}, before 1970")
    return number / 1000.0 if number > _MS_THRESHOLD else number


# --- topics ----------------------------------------------------------------------------------


def topic_levels(topic: str, count: int, shape: str) -> list[str]:
    """The last ``count`` topic levels, each non-empty, or UNKNOWN_TOPIC naming the shape."""
    parts = topic.rsplit("/", count)
    if len(parts) <= count or not all(parts[1:]):
        raise Rejected(Reason.UNKNOWN_TOPIC, f"topic {topic!r} is not of the form {shape}")
    return parts[1:]


def _missing(at: str, key: str) -> Rejected:
    return Rejected(Reason.MISSING_FIELD, f"required field '{at}{key}' is missing")
