"""The nearest on-duty collectors to a point, from the live geo index (the desk's dispatch helper).

``{gw}:geo:collector`` holds the last position of every device whose latest fix says it is a
collector, and of nothing else (``{gw}:geo`` beside it holds every device, vehicles too: seven in
ten devices of a city), written with each fix and removed with each prune by the scripts of
dashboard/store/hot.py. A query never reads the whole fleet, nor any vehicle: GEOSEARCH from the
point outwards, nearest first, starting with a small circle and widening it until ``limit``
collectors are certain, the radius asked for is reached or the circle holds every collector of
the index. Each step is one script in Redis (``_STEP_LUA``) that returns only the collectors heard
from within the offline window (``{gw}:seen:collector``, the set the wall's online counts read: a
guard as well, as a vehicle is not in it) in the ring the circle grew by, with their docs
(``{gw}:dev``); silent collectors never leave Redis. What counts as on duty, the distance, the
walking time and the order are dashboard/casework/nearest.py's (a doc that is not a collector's
is left out there too).

"Certain": a collector is in the answer only when no device outside the searched circle can be
nearer. Redis measures on a sphere of 6,372,797.56 m, dashboard.geo on 6,371,008.8 m (0.028 %
shorter), and the index keeps positions as 52-bit geohashes (< 0.6 m off), so a collector is
certain within the circle's radius shrunk by ``_SURE_RATIO`` and ``_SURE_SLACK_M``.

Bounded work whatever is asked: ``limit`` is capped at ``LIMIT_MAX`` and the radius at
``RADIUS_MAX_M``; the circle grows at least twofold a step, so a search takes at most
1 + ⌈log2(radius / START_RADIUS_M)⌉ steps (7 for the default radius), fewer as it grows by what
it found (``_next_radius``); a circle holding more than ``COUNT_MAX`` collectors stops the search
with the collectors certain within its nearest ``COUNT_MAX`` (a pathological fleet: 50,000
devices is the hot state's bound, dashboard/store/hot.py MAX_DEVICES).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import orjson
import redis

from dashboard.casework.nearest import (
    COLLECTOR,
    DETOUR_FACTOR,
    OFF_DUTY_STATUSES,
    WALKING_SPEED_MPS,
    Candidate,
    Nearest,
    check_point,
    fresh_since,
    merge,
    rank,
)
from dashboard.contract import OFFLINE_AFTER_S
from dashboard.store.keys import DEV, GEO, GEO_COLLECTOR, seen_key

LIMIT_MAX: Final = 50  # a desk shows ten; more is a list, not a dispatch choice
# From anywhere in the demo city (12 km corner to corner) the whole city; 20 km is some six hours
# on foot, so further is no dispatch. The cap leaves room for a larger city's setting.
DEFAULT_RADIUS_M: Final = 20_000.0
RADIUS_MAX_M: Final = 50_000.0
# The first circle: a fleet of ~40 collectors a km² (3,000 in the demo city's 70 km²) has ten
# within ~300 m, so one step usually answers; a sparse one (the demo's 120) takes a step or two more.
START_RADIUS_M: Final = 500.0
COUNT_MAX: Final = 20_000  # collectors in one reply at the most
GEO_LAT_MAX: Final = 85.05112878  # Redis GEO indexes no further north or south (Web Mercator's edge)
_SURE_RATIO: Final = 0.9997  # Redis's Earth radius / dashboard.geo's, with room to spare
_SURE_SLACK_M: Final = 1.0  # the geohash cell and the doc's rounding to 1e-6°


# One step of the search, in Redis, so that only what may be an answer crosses the wire: the
# collectors the circle grew by (its first entries, nearest first, are the last circle's, looked
# at already), of them those heard from since the offline window's start ({gw}:seen:collector,
# which also keeps out whatever else the index might hold; ZMSCORE in chunks, as Lua's unpack
# takes at most ~8,000 values), and their docs. Measured over 10,000 devices, the names alone
# cost ~4 ms in here and ~12 ms read by Python with their distances; a search that covered the
# city read them twice or three times over and spent most of its time on replies. The distance is
# asked for only when the reply was cut at ``count``, to say how far it reached.
# KEYS: geo:collector, seen:collector, dev
# ARGV: lon, lat, radius (m), count, entries to pass over, oldest fresh fix time, then the
# signed-off statuses as JSON members ('"status":"off_duty"'): a pre-filter only, the rule stays
# casework.nearest.on_duty's (a status it lowercases and trims still reaches it)
# Returns: entries within the circle, the distance of the last one when cut ('0' otherwise),
# entries in the index, then the fresh collectors: names, fix times, docs.
_STEP_LUA = """
local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm',
                        'ASC', 'COUNT', ARGV[4])
local since = tonumber(ARGV[6])
local names, fixes, docs = {}, {}, {}
for i = tonumber(ARGV[5]) + 1, #hits, 500 do
  local j = math.min(i + 499, #hits)
  local scores = redis.call('ZMSCORE', KEYS[2], unpack(hits, i, j))
  for k = 1, j - i + 1 do
    local ts = scores[k]
    if ts and tonumber(ts) >= since then
      names[#names + 1] = hits[i + k - 1]
      fixes[#fixes + 1] = ts
    end
  end
end
for i = 1, #names, 500 do
  local got = redis.call('HMGET', KEYS[3], unpack(names, i, math.min(i + 499, #names)))
  for k = 1, math.min(500, #names - i + 1) do docs[#docs + 1] = got[k] end
end
-- Signed off (a status of ARGV[7..], as the doc's JSON spells it): left here, not sent. At lunch
-- every collector is signed off and the search reads the city: this is most of its reply.
if #ARGV >= 7 then
  local kn, kf, kd = {}, {}, {}
  for i = 1, #names do
    local d, off = docs[i], false
    if d then
      for a = 7, #ARGV do
        if string.find(d, ARGV[a], 1, true) then off = true break end
      end
    end
    if not off then kn[#kn + 1] = names[i]; kf[#kf + 1] = fixes[i]; kd[#kd + 1] = d end
  end
  names, fixes, docs = kn, kf, kd
end
local last = '0'
if #hits >= tonumber(ARGV[4]) then
  local far = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm',
                         'ASC', 'COUNT', ARGV[4], 'WITHDIST')
  last = far[#far][2]
end
return {#hits, last, redis.call('ZCARD', KEYS[1]), names, fixes, docs}
"""
# A step passes over the last circle's devices less this many: the few that moved out across its
# edge between the two steps shift the order, and a device just outside it must not be passed
# over. The ones that come back twice are looked at once.
_MARGIN: Final = 32
_GROW_MAX: Final = 4.0  # a circle at most four times as wide as the last: sixteen times the area
_JUMP_FRACTION: Final = 8  # with nobody found in an eighth of the index, the next circle is the last


def nearest_collectors(client: redis.Redis, lat: float, lon: float, now: float, limit: int = 10,
                       radius_m: float = DEFAULT_RADIUS_M, *, offline_after_s: float = OFFLINE_AFTER_S,
                       off_statuses: frozenset[str] = OFF_DUTY_STATUSES, detour: float = DETOUR_FACTOR,
                       speed_mps: float = WALKING_SPEED_MPS) -> list[Nearest]:
    """The ``limit`` on-duty collectors nearest to (lat, lon) within ``radius_m`` at ``now``,
    nearest first (dashboard.casework.nearest.rank). Fewer when fewer are on duty within the
    radius. ValueError for a point that is not one, a limit under 1 or a radius not positive;
    a larger limit or radius is cut to LIMIT_MAX or RADIUS_MAX_M."""
    check_point(lat, lon)
    if abs(lat) > GEO_LAT_MAX:
        raise ValueError(f"lat must be within ±{GEO_LAT_MAX}, where the geo index reaches")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a whole number from 1, not {limit!r}")
    if isinstance(radius_m, bool) or not isinstance(radius_m, int | float) or not radius_m > 0:
        raise ValueError(f"radius_m must be a positive number, not {radius_m!r}")
    limit, radius = min(limit, LIMIT_MAX), min(float(radius_m), RADIUS_MAX_M)  # NaN failed above; inf is cut

    step = client.register_script(_STEP_LUA)
    keys = [GEO_COLLECTOR, seen_key(COLLECTOR), DEV]
    since = fresh_since(now, offline_after_s)
    offs = [orjson.dumps({"status": s}).decode()[1:-1] for s in sorted(off_statuses)]
    looked: set[bytes | str] = set()
    out: list[Nearest] = []  # the best ``limit`` so far: the best of a union is the best of the bests
    r, skip = min(START_RADIUS_M, radius), 0
    while True:
        in_circle, last, total, names, fixes, docs = step(keys=keys, args=[lon, lat, r, COUNT_MAX, skip, since, *offs])
        new = _candidates(names, fixes, docs, looked)
        out = merge(out, rank(new, lat, lon, now, kind=COLLECTOR, offline_after_s=offline_after_s,
                              off_statuses=off_statuses, detour=detour, speed_mps=speed_mps), limit=limit)
        if in_circle >= COUNT_MAX:  # the circle holds more than a reply may: keep what is certain
            return [n for n in out if n.distance_m <= _certain_within(float(last))]
        if r >= radius or in_circle >= total:  # the radius asked for, or every collector, searched
            return out
        if len(out) >= limit and out[-1].distance_m <= _certain_within(r):
            return out
        r, skip = _next_radius(r, radius, in_circle, total, len(out), limit), max(in_circle - _MARGIN, 0)


def _next_radius(r: float, radius: float, in_circle: int, total: int, found: int, limit: int) -> float:
    """The next circle. Every circle costs Redis the collectors inside it (GEOSEARCH has no offset),
    so it should be the last: where the on-duty collectors found so far, spread evenly, put
    ``limit`` (their number grows with the area), a quarter wider, at least twice and at most four
    times as wide. With none found yet four times, unless the circle holds an eighth of the index
    already (a city where nobody is on duty, say): then the whole radius at once, so such a search
    reads the index once and a sixth, not two or three times over."""
    if found == 0:
        grow = math.inf if in_circle * _JUMP_FRACTION >= total else _GROW_MAX
    else:
        grow = min(max(math.sqrt(limit / found) * 1.25, 2.0), _GROW_MAX)
    return min(r * grow, radius)


def _certain_within(searched_m: float) -> float:
    """How far a collector may be and still be certain when Redis searched ``searched_m``."""
    return searched_m * _SURE_RATIO - _SURE_SLACK_M


def _candidates(names: Sequence[bytes | str], fixes: Sequence[bytes | str], docs: Sequence[bytes | str | None],
                looked: set[bytes | str]) -> list[Candidate]:
    """The step's fresh collectors as candidates, each device once (see ``_MARGIN``)."""
    out = []
    for name, ts, raw in zip(names, fixes, docs, strict=True):
        if raw is None or name in looked:  # None: in the index without a doc, which the store never leaves
            continue
        looked.add(name)
        doc = orjson.loads(raw)
        try:
            lat, lon = float(doc["lat"]), float(doc["lon"])
        except (KeyError, TypeError, ValueError):
            continue  # every doc the store writes has both; one that does not cannot be placed
        if math.isfinite(lat) and math.isfinite(lon):  # a "NaN" string would rank anywhere
            out.append(Candidate(name.decode() if isinstance(name, bytes) else name, lat, lon, float(ts), doc))
    return out


# --- vehicles near a point (the case panel's "the devices near it now") ------------------------

VEHICLE_RADIUS_M: Final = 3_000.0
_VEHICLE_LOOK: Final = 400  # devices of any kind read nearest first; a vehicle beyond them is far


def nearest_vehicles(client: redis.Redis, lat: float, lon: float, now: float, limit: int = 5,
                     radius_m: float = VEHICLE_RADIUS_M, *, offline_after_s: float = OFFLINE_AFTER_S
                     ) -> list[tuple[str, float, dict[str, object]]]:
    """The vehicles heard from within the offline window nearest to (lat, lon), within
    ``radius_m``, as (id, metres in a straight line, doc), nearest first: one GEOSEARCH over every
    device ({gw}:geo), bounded to the nearest ``_VEHICLE_LOOK``, and their docs."""
    check_point(lat, lon)
    if abs(lat) > GEO_LAT_MAX:
        raise ValueError(f"lat must be within ±{GEO_LAT_MAX}, where the geo index reaches")
    hits = client.geosearch(GEO, longitude=lon, latitude=lat, radius=min(radius_m, RADIUS_MAX_M), unit="m",
                            sort="ASC", count=_VEHICLE_LOOK, withdist=True)
    if not hits:
        return []
    docs = client.hmget(DEV, [name for name, _ in hits])  # type: ignore[misc]
    since = fresh_since(now, offline_after_s)
    out: list[tuple[str, float, dict[str, object]]] = []
    for (name, dist), raw in zip(hits, docs, strict=True):
        if raw is None:
            continue
        doc = orjson.loads(raw)
        if doc.get("kind") != "vehicle" or not float(doc.get("ts") or 0.0) >= since:
            continue
        out.append((name.decode() if isinstance(name, bytes) else name, float(dist), doc))
        if len(out) >= limit:
            break
    return out
