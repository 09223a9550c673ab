"""What a device did in a window, from its position history: its stops, the distance it covered
and its moving time (the desk's replay, docs/desk.md "Replay").

Pure: the fixes come from the caller (dashboard/store/replay.py reads them from SQL's
``position`` table), in time order, as ``(ts, lat, lon)`` with ts in UTC epoch seconds. No clock
is read. Distances are ``dashboard.geo.haversine_m``, the project's one distance.

The rules, decided here once for every caller:

- **A stop**: the device stays within ``STOP_RADIUS_M`` of the centre of its fixes (their mean)
  for at least ``stop_min_s`` (configuration: ``replay_stop_min_s``, default 5 minutes). 50 m is
  well above a parked device's GPS scatter (a vehicle's fixes wander 3-5 m, a handheld's 5-20 m)
  and below a block, so a truck that loads at a site or a collector who inspects one corner is
  one stop, and a vehicle crawling in a queue is not left out either. The stop runs from the
  first fix inside to the last; its place is the centre. A gap inside (a parked vehicle whose
  tracker sleeps) is part of the stop when the fixes on both sides are at the same place.
  ``open_start``: the device's first fix in the window is in the stop (it may have stood there
  before); ``open_end``: its last fix is (it may still be there).
- **A gap**: two consecutive fixes more than ``gap_s`` apart (``GAP_S``; the caller may widen it
  for a coarser history). Nobody knows what happened in it.
- **Moving time**: the time between consecutive fixes, outside stops and gaps, when the device
  moved: by the speed it reported itself (Doppler, untouched by position scatter), above
  ``MOVING_MIN_KMH`` at either end of the step, the speed at which the history's downsampler
  (feeds/steps/positions.py) tells moving from standing; when a fix has no speed (OwnTracks
  often sends none), by the step's own speed (straight-line distance over time), at least
  ``MOVING_MIN_MPS``: a handheld's scatter alone makes ~0.2 m/s between 30-s fixes, a walk is
  1-1.4 m/s. Below it the device is waiting (a red light, a short inspection).
- **Distance**: the straight lines between consecutive fixes of the moving steps, plus those
  across gaps (it covered at least that much while nobody looked: a lower bound, never a
  guess). Waiting and stops add nothing, so a parked vehicle's scatter never adds up to
  kilometres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dashboard.geo import haversine_m

Fix = tuple[float, float, float]  # (ts, lat, lon): UTC epoch seconds, WGS-84 degrees

STOP_RADIUS_M: Final = 50.0
STOP_MIN_S: Final = 300.0  # the default of replay_stop_min_s
GAP_S: Final = 300.0  # ten history intervals at the default 30 s; a parked device reports every 60 s
MOVING_MIN_KMH: Final = 2.0  # a reported speed above this is moving
MOVING_MIN_MPS: Final = 0.5  # 1.8 km/h: the step's speed that is moving when a fix reported none
_M_PER_DEG: Final = haversine_m(0.0, 0.0, 1.0, 0.0)  # metres in a degree of latitude, on the one sphere


@dataclass(frozen=True, slots=True)
class Stop:
    start: float  # the first fix inside, UTC epoch s
    end: float  # the last fix inside
    lat: float  # the centre of its fixes
    lon: float
    fixes: int
    open_start: bool  # the device's first fix in the window is in it
    open_end: bool  # ... its last fix is

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Track:
    distance_m: float
    moving_s: float
    stops: tuple[Stop, ...]
    gaps: int  # steps longer than gap_s


def stops(fixes: Sequence[Fix], stop_min_s: float = STOP_MIN_S, radius_m: float = STOP_RADIUS_M) -> list[Stop]:
    """The stops in ``fixes`` (time order), earliest first, none overlapping.

    From each fix, the run of following fixes within ``radius_m`` of the run's centre; a run
    that lasts ``stop_min_s`` is a stop and the search goes on after it, a shorter one is let go
    and the search starts again at the next fix (so a stop that begins mid-run is found). A run
    that is not a stop is at most ``stop_min_s`` of fixes long, so this is linear in the fixes
    times the fixes in that time.

    The radius test measures on the plane tangent at the run's first fix (metres per degree
    from ``haversine_m`` itself): within 50 m it differs from the great circle by far less than
    a millimetre, at a fraction of the cost of a haversine for each of a few hundred thousand
    fixes. Every distance this module reports is ``haversine_m``'s."""
    n = len(fixes)
    out: list[Stop] = []
    r2 = (radius_m / _M_PER_DEG) ** 2  # the radius, in degrees of latitude, squared
    i = 0
    while i < n:
        t0, lat0, lon0 = fixes[i]
        c2 = math.cos(math.radians(lat0)) ** 2  # a degree of longitude is cos(lat) of one of latitude
        sum_lat, sum_lon, k = lat0, lon0, 1
        j = i + 1
        while j < n:
            _, lat, lon = fixes[j]
            dy, dx = lat - sum_lat / k, lon - sum_lon / k
            if dy * dy + dx * dx * c2 > r2:
                break
            sum_lat += lat
            sum_lon += lon
            k += 1
            j += 1
        last = fixes[j - 1][0]
        if k > 1 and last - t0 >= stop_min_s:
            out.append(Stop(t0, last, sum_lat / k, sum_lon / k, k, i == 0, j == n))
            i = j
        else:
            i += 1
    return out


def track(fixes: Sequence[Fix], speeds: Sequence[float | None] | None = None, stop_min_s: float = STOP_MIN_S,
          gap_s: float = GAP_S, radius_m: float = STOP_RADIUS_M, moving_min_mps: float = MOVING_MIN_MPS,
          moving_min_kmh: float = MOVING_MIN_KMH) -> Track:
    """The stops, distance and moving time of one device's fixes (time order); ``speeds``: the
    speed each fix reported (km/h, None where it sent none), or None for none at all."""
    found = stops(fixes, stop_min_s, radius_m)
    distance = moving = 0.0
    gaps = 0
    # Steps inside a stop (from its first fix to its last) are skipped: walk the stops alongside.
    s, n_stops = 0, len(found)
    for k in range(len(fixes) - 1):
        t1, lat1, lon1 = fixes[k]
        t2, lat2, lon2 = fixes[k + 1]
        while s < n_stops and found[s].end <= t1:
            s += 1
        if s < n_stops and found[s].start <= t1 and t2 <= found[s].end:
            continue
        dt = t2 - t1
        d = haversine_m(lat1, lon1, lat2, lon2)
        if dt > gap_s:
            gaps += 1
            distance += d
        elif dt > 0:
            v1 = speeds[k] if speeds is not None else None
            v2 = speeds[k + 1] if speeds is not None else None
            if v1 is not None and v2 is not None:
                moved = v1 > moving_min_kmh or v2 > moving_min_kmh
            else:
                moved = d >= moving_min_mps * dt
            if moved:
                distance += d
                moving += dt
    return Track(distance, moving, tuple(found), gaps)
