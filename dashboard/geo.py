"""WGS-84 <-> GCJ-02 <-> BD-09, and great-circle distance.

Chinese map tiles (AutoNavi/Tencent: GCJ-02, Baidu: BD-09) are drawn in shifted datums, and
phones with Chinese map SDKs report in them; records are kept in WGS-84 (dashboard/records.py) and
converted at the edges. The forward formulas are the widely published public ones
(e.g. wandergis/coordtransform); GCJ-02 applies only inside China's rough bounding box.

The published inverses are one-step approximations (1-2 m off); here they are refined by fixed
point iteration until the round trip is below a millimetre, so converting back and forth never
walks a marker across a street.

All functions take and return (lat, lon) in degrees, in that order, like the records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses
_EE: Final = 0.00669342162296594323  # its eccentricity squared
_X_PI: Final = math.pi * 3000.0 / 180.0
_EARTH_RADIUS_M: Final = 6371008.8  # mean radius (IUGG)
_TOLERANCE_DEG: Final = 1e-10  # ~0.01 mm
_MAX_ITER: Final = 30


def out_of_china(lat: float, lon: float) -> bool:
    # The public algorithm's box; it also covers neighbours' border areas, like every
    # implementation of it does, which matches what the Chinese map providers expect.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    return _invert(wgs84_to_gcj02, lat, lon)


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lat, lon, first=_bd09_to_gcj02_approx(lat, lon))


def _bd09_to_gcj02_approx(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """For the enrich step: a record's (lat, lon) in ``crs`` -> WGS-84."""
    if crs == "wgs84":
        return lat, lon
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if crs == "bd09":
        return bd09_to_wgs84(lat, lon)
    raise ValueError(f"unknown crs {crs!r}; expected wgs84, gcj02 or bd09")


def from_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """For the map: WGS-84 -> the datum of the tiles shown."""
    if crs == "wgs84":
        return lat, lon
    if crs == "gcj02":
        return wgs84_to_gcj02(lat, lon)
    if crs == "bd09":
        return wgs84_to_bd09(lat, lon)
    raise ValueError(f"unknown crs {crs!r}; expected wgs84, gcj02 or bd09")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (spherical Earth; < 0.5 % error, fine for a city)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    lat: float,
    lon: float,
    first: tuple[float, float] | None = None,
) -> tuple[float, float]:
    # Fixed-point iteration: the shifts vary slowly, so each step cuts the error ~1000 times.
    guess_lat, guess_lon = first if first is not None else (lat, lon)
    for _ in range(_MAX_ITER):
        got_lat, got_lon = forward(guess_lat, guess_lon)
        err_lat, err_lon = got_lat - lat, got_lon - lon
        guess_lat -= err_lat
        guess_lon -= err_lon
        if abs(err_lat) < _TOLERANCE_DEG and abs(err_lon) < _TOLERANCE_DEG:
            break
    return guess_lat, guess_lon
