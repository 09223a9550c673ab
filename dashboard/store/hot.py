"""The live state in Redis: every read and write of it (its keys: dashboard/store/keys.py).

Ingest writes here; the Dash server only reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from dashboard.casework.nearest import COLLECTOR, Nearest
from dashboard.store.catchup import CatchUp
from dashboard.store.keys import (
    ALERT,
    ALERT_HANDLED,
    ALERT_RECENT,
    ALIVE,
    CASE,
    CASE_DUE,
    CASE_WARN,
    DELTA_PREFIX,
    DEV,
    DEV_LAST,
    DEV_TS,
    GEO,
    GEO_COLLECTOR,
    REBUILD_LOCK,
    SNAP_KPI,
    SNAP_VER,
    SPOOL_LOCK,
    WORKERS,
    case_lock_key,
    dedupe_key,
    delta_key,
    handled_key,
    seen_key,
    stats_key,
    trail_key,
)
from dashboard.store.liverank import LiveRank
from dashboard.store.nearby import nearest_collectors, nearest_vehicles
from dashboard.store.watch_state import WatchStates

FEEDS = ("gps", "video", "case")

# A screen more versions behind than MAX_DELTAS gets the whole picture rather than a pile of
# deltas (dashboard/poll.py), so only the newest few deltas are ever read. Cutting version v
# deletes delta v - DELTAS_KEPT: Redis holds a fixed number of deltas whatever the tick rate,
# not every delta of the last DELTA_TTL_S (at 5,000 fixes/s that was ~350 deltas of ~0.5 MB,
# and Redis's RSS grew with their churn). The margin covers a version cut while a poll reads.
MAX_DELTAS = 20
DELTAS_KEPT = MAX_DELTAS + 10
DELTA_TTL_S = 120  # and none outlives this (a version counter reset by a Redis flush, say)
# The dedupe marks are the fast path only: SQL decides what a case event is (feeds/steps/cases.py),
# and an alert's repeat rewrites the same state. A broker redelivers what was not acknowledged
# when the session reconnects, seconds to minutes after a worker died; 15 minutes covers that.
# The marks are one key per QoS 1 message, so their number is the QoS 1 rate times this window:
# a day's window held ~1.7 million keys (~190 MB) at the soak's 20 a second, and grew Redis
# for the whole day after a start (docs/performance.md, the 2-hour soak).
SEEN_TTL_S = 15 * 60
TRAIL_LEN = 60
# The bounds of the devices in the hot state; Settings.max_devices and device_retention_s.
MAX_DEVICES = 50_000
DEVICE_RETENTION_S = 7 * 24 * 3600.0
# Every online set a device may be in ({gw}:seen:<kind>): the kinds of dashboard.records, and
# "other" for a doc without one.
DEVICE_KINDS = ("collector", "vehicle", "other")
RECENT_ALERTS = 50


# What a caller catches when Redis is down or unreachable.
REDIS_DOWN: tuple[type[Exception], ...] = (redis.RedisError, OSError)


def redis_state(url: str) -> str:
    """"up", "loading" (a Redis reading its append-only file: it is there) or "down"; for the
    launcher and the import, which wait for a server they started."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5) as client:
            client.ping()
        return "up"
    except redis.BusyLoadingError:
        return "loading"
    except REDIS_DOWN:
        return "down"


def connect(url: str) -> redis.Redis:
    """A client from a URL: redis://, rediss:// or unix:///path/to/redis.sock."""
    # Timeouts: an unreachable Redis (a cable, not a stopped server) must fail a poll in seconds,
    # so the wall shows its last picture as stale, rather than hang it until the browser gives up.
    options: dict[str, Any] = {"health_check_interval": 30, "socket_connect_timeout": 3, "socket_timeout": 10}
    if not url.startswith("unix:"):
        options["socket_keepalive"] = True  # TCP only; a unix socket has no keepalive
    return redis.Redis.from_url(url, **options)


# Newer wins: shared subscriptions deliver one device's fixes to several workers, so an older fix
# can arrive after a newer one. The compare and the writes are one atomic step. So is the bound:
# a device not in the hot state yet is refused (-1) once {gw}:dev:last holds max_devices, so
# workers writing at the same time cannot overshoot it. (A device written before {gw}:dev:last
# existed is known by {gw}:dev:ts, and registered by its next fix.) The trail expires
# device_retention_s after its last write, in case nothing prunes it. The collectors' own index
# ({gw}:geo:collector, what the nearest-collector search reads) follows the fix's kind: a fix
# that says "collector" places the device there, any other takes it out (a device whose kind
# changed does not stay).
# KEYS: dev, dev:ts, geo, trail:<id>, seen:<kind>, dev:last, geo:collector
# ARGV: id, ts, lon, lat, doc, trail length, max devices, trail TTL (s), collector ('1' or '0'),
#       trail points...
_POSITION_LUA = """
local known = redis.call('ZSCORE', KEYS[6], ARGV[1]) or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1
if not known and redis.call('ZCARD', KEYS[6]) >= tonumber(ARGV[7]) then return -1 end
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if tonumber(ARGV[2]) <= cur then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local doc = ARGV[5]
if not string.find(doc, '"ignition":', 1, true) then
  -- What a status event said of the ignition stays until another says otherwise: a fix that
  -- does not say it keeps the one before (a plain find: most devices never say it).
  local old = redis.call('HGET', KEYS[1], ARGV[1])
  local said = old and string.match(old, '"ignition":(%a+)')
  if said and string.sub(doc, -1) == '}' and doc ~= '{}' then
    doc = string.sub(doc, 1, -2) .. ',"ignition":' .. said .. '}'
  end
end
redis.call('HSET', KEYS[1], ARGV[1], doc)
redis.call('GEOADD', KEYS[3], ARGV[3], ARGV[4], ARGV[1])
if ARGV[9] == '1' then
  redis.call('GEOADD', KEYS[7], ARGV[3], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[7], ARGV[1])
end
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[1])
if #ARGV >= 10 then
  for i = 10, #ARGV do redis.call('LPUSH', KEYS[4], ARGV[i]) end
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[8]))
end
return 1
"""

# A batch's new devices take their places before the batch is stored (the store step), so a
# fix refused for the bound is stored nowhere, SQL included. A place is the device's entry in
# {gw}:dev:last with its fix time: the position script finds the device known, and a worker that
# died before writing the fix leaves an entry that the prune removes like any silent device.
# KEYS: dev:last, dev:ts. ARGV: max devices, then id, fix time pairs. Returns the ids refused.
_ADMIT_LUA = """
local room = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
local refused = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if not redis.call('ZSCORE', KEYS[1], id) and redis.call('HEXISTS', KEYS[2], id) == 0 then
    if room > 0 then
      redis.call('ZADD', KEYS[1], ARGV[i + 1], id)
      room = room - 1
    else
      refused[#refused + 1] = id
    end
  end
end
return refused
"""

# Fields merged into a known device's state (a status event's online/ignition), atomically with
# the fixes' writes. KEYS: dev. ARGV: id, the fields as a JSON object. Returns 0 for an unknown device.
_MERGE_LUA = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local doc = cjson.decode(raw)
for k, v in pairs(cjson.decode(ARGV[2])) do doc[k] = v end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(doc))
return 1
"""

# Devices silent since the cutoff leave every key of the hot state in one step (one that sent a
# fix since the candidates were read stays), and, when screens may hold them (a version was
# cut), a version whose delta removes them: screens learn it as they learn a closed case.
# KEYS: dev:last, dev, dev:ts, geo, geo:collector, snap:ver, seen:<kind> x nk, trail:<id> x n
# ARGV: cutoff, nk, delta key prefix, delta TTL, deltas kept, n, ids x n, JSON-encoded ids x n
_PRUNE_LUA = """
local cutoff, nk, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[6])
local gone, json = {}, {}
for i = 1, n do
  local id = ARGV[6 + i]
  local last = redis.call('ZSCORE', KEYS[1], id)
  if last and tonumber(last) <= cutoff then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
    for k = 1, nk do redis.call('ZREM', KEYS[6 + k], id) end
    redis.call('DEL', KEYS[6 + nk + i])
    gone[#gone + 1] = id
    json[#json + 1] = ARGV[6 + n + i]
  end
end
if #gone > 0 and tonumber(redis.call('GET', KEYS[6]) or '0') > 0 then
  local v = redis.call('INCR', KEYS[6])
  redis.call('SET', ARGV[3] .. v, '{"devices_gone":[' .. table.concat(json, ',') .. ']}', 'EX', tonumber(ARGV[4]))
  redis.call('DEL', ARGV[3] .. (v - tonumber(ARGV[5])))
end
return gone
"""


# Cut a version: the version bump and its delta are one atomic step, so a reader never sees a
# version whose delta is not there yet (which would cost it a full picture).
_PUBLISH_LUA = """
local v = redis.call('INCR', KEYS[1])
redis.call('SET', ARGV[1] .. v, ARGV[2], 'EX', tonumber(ARGV[3]))
redis.call('DEL', ARGV[1] .. (v - tonumber(ARGV[4])))
return v
"""


# The newest points of some devices' trails as the body of a JSON object,
# "<json id>":"lon,lat;lon,lat;..." (newest first, the fix time cut off), built in Redis so
# Python never touches the points one by one. KEYS = trail keys, ARGV[1] = how many points,
# ARGV[i + 1] = the JSON-encoded id of KEYS[i].
_TRAILS_LUA = """
local n = tonumber(ARGV[1]) - 1
local out = {}
for i, key in ipairs(KEYS) do
  local pts = redis.call('LRANGE', key, 0, n)
  if #pts > 0 then
    for j, p in ipairs(pts) do
      local c = string.find(p, ',', 1, true)
      c = c and string.find(p, ',', c + 1, true)
      if c then pts[j] = string.sub(p, 1, c - 1) end
    end
    out[#out + 1] = ARGV[i + 1] .. ':"' .. table.concat(pts, ';') .. '"'
  end
end
return table.concat(out, ',')
"""
TRAIL_CHUNK = 1000  # devices per script call: Redis serves other clients between the calls
RESET_MARK = b'"reset":true'  # first in a delta that stands for "take the whole picture"


# Release only the locks this token holds: one that expired and was taken by another worker
# stays theirs.
# An alert's message puts it in the active hash unless it ended or a person handled it on the
# desk: checked here, in one script, so that a camera's update racing the desk's 确认 cannot put
# the alert back. KEYS: ALERT, ALERT_RECENT, ALERT_HANDLED. ARGV: the recent list's length, then
# (id, state, doc) for each alert, oldest first.
_ALERTS_LUA = """
for i = 2, #ARGV, 3 do
  local id, state, doc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if state == 'end' or redis.call('HEXISTS', KEYS[3], id) == 1 then
    redis.call('HDEL', KEYS[1], id)
  else
    redis.call('HSET', KEYS[1], id, doc)
  end
  redis.call('LPUSH', KEYS[2], doc)
end
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[1]) - 1)
return 0
"""

_UNLOCK_LUA = """
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 1
"""


# The short leases among the workers (take_lock, release_lock), by name.
_LEASES: dict[str, str] = {"rebuild": REBUILD_LOCK, "spool": SPOOL_LOCK}


@dataclass(frozen=True, slots=True)
class DeviceFix:
    """The latest state of one device as the hot store keeps it."""

    device_id: str
    ts: float
    lat: float
    lon: float
    doc: Mapping[str, Any]
    trail: Sequence[tuple[float, float, float]] = ()  # (lon, lat, ts), oldest first


class HotStore:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._position = client.register_script(_POSITION_LUA)
        self._admit = client.register_script(_ADMIT_LUA)
        self._merge = client.register_script(_MERGE_LUA)
        self._prune = client.register_script(_PRUNE_LUA)
        self._unlock = client.register_script(_UNLOCK_LUA)
        self._alerts = client.register_script(_ALERTS_LUA)
        self._publish = client.register_script(_PUBLISH_LUA)
        self._trails = client.register_script(_TRAILS_LUA)

    def catchup(self) -> CatchUp:
        """The history catch-up tracker on this client (dashboard/store/catchup.py)."""
        return CatchUp(self.r)

    def watch_states(self) -> WatchStates:
        """The supervision's per-device states (dashboard/store/watch_state.py), on this client."""
        return WatchStates(self.r)

    def live_rank(self, timezone: str, reconcile_s: float,
                  known: Mapping[str, Iterable[str]] | None = None, kinds: Sequence[str] = ()) -> LiveRank:
        """The live rankings (dashboard/store/liverank.py), on this store's Redis; ``known``: the
        city's codes per kind, others are counted under one unknown row; ``kinds``: the period
        kinds kept besides the day and month (Settings.ranking_period_kinds)."""
        return LiveRank(self.r, timezone, reconcile_s, known, kinds)

    # --- writes (ingest) ------------------------------------------------------------------
    def write_positions(self, fixes: Iterable[DeviceFix], max_devices: int = MAX_DEVICES,
                        retention_s: float = DEVICE_RETENTION_S) -> list[str]:
        """Apply fixes, newer wins. Returns the ids whose state changed. A fix from a device not
        in the hot state is dropped once ``max_devices`` are there (admit_devices first, to
        refuse it visibly); a trail expires ``retention_s`` after its last fix."""
        fixes = list(fixes)
        if not fixes:
            return []
        ttl = max(int(retention_s), 1)
        pipe = self.r.pipeline(transaction=False)
        for f in fixes:
            trail = [f"{lon:.6f},{lat:.6f},{ts:.1f}" for lon, lat, ts in f.trail]
            kind = str(f.doc.get("kind", "other"))
            self._position(
                keys=[DEV, DEV_TS, GEO, trail_key(f.device_id), seen_key(kind), DEV_LAST, GEO_COLLECTOR],
                args=[f.device_id, f.ts, f.lon, f.lat, orjson.dumps(f.doc), TRAIL_LEN, max_devices, ttl,
                      1 if kind == COLLECTOR else 0, *trail],
                client=pipe,
            )
        results = pipe.execute()
        return [f.device_id for f, ok in zip(fixes, results, strict=True) if ok == 1]

    def admit_devices(self, newest: Mapping[str, float], max_devices: int = MAX_DEVICES) -> set[str]:
        """Give the devices not in the hot state yet their places (device id -> its newest fix
        time), as long as fewer than ``max_devices`` are there; returns the ids refused. Atomic,
        so several workers together never admit more than the bound."""
        if not newest:
            return set()
        args: list[str | float | int] = [max_devices]
        for device_id, ts in newest.items():
            args += [device_id, ts]
        return {i.decode() for i in self._admit(keys=[DEV_LAST, DEV_TS], args=args)}

    def device_count(self) -> int:
        """The devices in the hot state (those admitted by a batch being stored included)."""
        return int(self.r.zcard(DEV_LAST))  # type: ignore[arg-type]

    def prune_devices(self, now: float, retention_s: float = DEVICE_RETENTION_S, limit: int = 1000) -> list[str]:
        """Remove the devices without a fix for longer than ``retention_s`` (at most ``limit``
        of them, the longest silent first) from the hot state: state, position, online sets and
        trail. Screens are told by a delta of their own (``devices_gone``). Returns their ids."""
        cutoff = now - retention_s
        ids = [i.decode() for i in self.r.zrangebyscore(DEV_LAST, "-inf", cutoff, start=0, num=limit)]  # type: ignore[union-attr]
        if not ids:
            return []
        kinds = [seen_key(k) for k in DEVICE_KINDS]
        gone = self._prune(
            keys=[DEV_LAST, DEV, DEV_TS, GEO, GEO_COLLECTOR, SNAP_VER, *kinds, *(trail_key(i) for i in ids)],
            args=[cutoff, len(kinds), DELTA_PREFIX, DELTA_TTL_S, DELTAS_KEPT, len(ids), *ids, *(orjson.dumps(i) for i in ids)],
        )
        return [i.decode() for i in gone]

    def set_device_fields(self, device_id: str, fields: Mapping[str, Any]) -> bool:
        """Merge fields (e.g. online=False from a last-will) into a known device's state. In one
        script: a read-modify-write from here would put back the fix before a newer one that
        another worker wrote in between."""
        return self._merge(keys=[DEV], args=[device_id, orjson.dumps(dict(fields))]) == 1

    def seen_marks(self, keys: Sequence[str]) -> list[str | None]:
        """The dedupe mark of each key: None when no stored delivery set one (read only: a mark
        is set after the SQL commit, by mark_seen, so a crash in between loses nothing)."""
        if not keys:
            return []
        return [None if v is None else v.decode() for v in self.r.mget([dedupe_key(k) for k in keys])]  # type: ignore[union-attr]

    def mark_seen(self, marks: Mapping[str, str], ttl_s: int = SEEN_TTL_S) -> None:
        """Remember stored deliveries (dedupe key -> what was stored: a case event's digest)."""
        if not marks:
            return
        pipe = self.r.pipeline(transaction=False)
        for k, v in marks.items():
            pipe.set(dedupe_key(k), v, ex=ttl_s)
        pipe.execute()

    def mark_handled(self, digests: Sequence[str], ttl_s: int) -> None:
        """These messages (by feeds/spool.py message_digest) were taken by the live path."""
        if not digests:
            return
        pipe = self.r.pipeline(transaction=False)
        for d in digests:
            pipe.set(handled_key(d), 1, ex=ttl_s)
        pipe.execute()

    def handled(self, digests: Sequence[str]) -> list[bool]:
        if not digests:
            return []
        return [v is not None for v in self.r.mget([handled_key(d) for d in digests])]  # type: ignore[union-attr]

    def put_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        if not alerts:
            return
        args: list[Any] = [RECENT_ALERTS]
        for a in alerts:
            args += [a["alert_id"], a.get("state", ""), orjson.dumps(a)]
        self._alerts(keys=[ALERT, ALERT_RECENT, ALERT_HANDLED], args=args)

    def put_cases(self, cases: Sequence[Mapping[str, Any]]) -> None:
        """Upsert open cases, drop closed ones. A case doc carries ``open``, ``due`` (deadline)
        and ``warn_at``; a suspended case has neither, so it counts in no light but grey."""
        if not cases:
            return
        pipe = self.r.pipeline(transaction=False)
        for c in cases:
            cid = c["case_id"]
            if not c.get("open", True):
                pipe.hdel(CASE, cid)
                pipe.zrem(CASE_DUE, cid)
                pipe.zrem(CASE_WARN, cid)
                continue
            pipe.hset(CASE, cid, orjson.dumps(c))
            for key, field in ((CASE_DUE, "due"), (CASE_WARN, "warn_at")):
                if c.get(field) is not None:
                    pipe.zadd(key, {cid: float(c[field])})
                else:
                    pipe.zrem(key, cid)
        pipe.execute()

    def lock_cases(self, case_ids: Sequence[str], token: str, ttl_ms: int = 10_000) -> set[str]:
        """Take the per-case locks that are free; returns the ids this token now holds. Two
        workers never apply events of one case at the same time (the TTL frees a dead one's)."""
        ids = list(dict.fromkeys(case_ids))
        if not ids:
            return set()
        pipe = self.r.pipeline(transaction=False)
        for cid in ids:
            pipe.set(case_lock_key(cid), token, nx=True, px=ttl_ms)
        return {cid for cid, ok in zip(ids, pipe.execute(), strict=True) if ok}

    def unlock_cases(self, case_ids: Iterable[str], token: str) -> None:
        keys = [case_lock_key(cid) for cid in case_ids]
        if keys:
            self._unlock(keys=keys, args=[token])

    def count_batch(self, accepted: Mapping[str, int], rejected: Mapping[str, Mapping[str, int]],
                    duplicates: Mapping[str, int], last_ts: Mapping[str, float]) -> None:
        """Add one batch's counts per feed (and per reject reason) in one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for feed, n in accepted.items():
            if n:
                pipe.hincrby(stats_key(feed), "accepted", n)
        for feed, reasons in rejected.items():
            for reason, n in reasons.items():
                pipe.hincrby(stats_key(feed), "rejected", n)
                pipe.hincrby(stats_key(feed), f"rejected:{reason}", n)
        for feed, n in duplicates.items():
            if n:
                pipe.hincrby(stats_key(feed), "duplicates", n)
        for feed, ts in last_ts.items():
            pipe.hset(stats_key(feed), "last_ts", ts)
        pipe.execute()

    def publish_tick(self, changed: Sequence[str], kpi: Mapping[str, Any],
                     cases: Sequence[str] = (), alerts: Sequence[str] = (), force: bool = False) -> int | None:
        """Cut a version from what changed since the last tick: the current docs of the changed
        devices, cases and alerts (the latest state of each, however many messages came in),
        and as removals the changed cases and alerts that are no longer in the hot state
        (closed, ended). Then bump the version readers poll. Docs are copied as stored, never
        parsed. Nothing changed: no new version, unless ``force``: then the delta is marked
        ``"reset"`` and every screen behind it takes the whole picture instead (for a picture
        put together without deltas, such as one rebuilt from SQL)."""
        self.r.set(SNAP_KPI, orjson.dumps(kpi))
        if not (changed or cases or alerts or force):
            return None
        pipe = self.r.pipeline(transaction=False)
        for key, ids in ((DEV, changed), (CASE, cases), (ALERT, alerts)):
            if ids:
                pipe.hmget(key, list(ids))
        found = iter(pipe.execute()) if (changed or cases or alerts) else iter(())
        parts: list[bytes] = [RESET_MARK] if force else []
        for name, ids in (("devices", changed), ("cases", cases), ("alerts", alerts)):
            if not ids:
                continue
            docs = next(found)
            present = [d for d in docs if d is not None]
            if present:
                parts.append(b'"%s":[%s]' % (name.encode(), b",".join(present)))
            gone = [i for i, d in zip(ids, docs, strict=True) if d is None]
            if gone and name != "devices":  # a device leaves only by prune_devices, which tells the screens itself
                parts.append(b'"%s_gone":%s' % (name.encode(), orjson.dumps(gone)))
        body = b"{" + b",".join(parts) + b"}"
        return int(self._publish(keys=[SNAP_VER], args=[DELTA_PREFIX, body, DELTA_TTL_S, DELTAS_KEPT]))

    def online(self, now: float, window_s: float, kinds: Sequence[str] = ("collector", "vehicle")) -> dict[str, int]:
        pipe = self.r.pipeline(transaction=False)
        for kind in kinds:
            pipe.zcount(seen_key(kind), now - window_s, "+inf")
        return dict(zip(kinds, (int(n) for n in pipe.execute()), strict=True))

    # --- reads (dashboard, health, tick) ----------------------------------------------------
    def version(self) -> int:
        return int(self.r.get(SNAP_VER) or 0)

    def deltas(self, after: int, upto: int) -> list[bytes] | None:
        """The stored deltas (after, upto], or None when any has expired (the reader then needs
        the full picture, as it does when one starts with RESET_MARK)."""
        if upto <= after:
            return []
        raw = self.r.mget([delta_key(v) for v in range(after + 1, upto + 1)])
        return None if any(x is None for x in raw) else list(raw)  # type: ignore[arg-type]

    def devices_raw(self) -> list[bytes]:
        """Every device's JSON doc, as stored: callers join them without parsing."""
        return list(self.r.hvals(DEV))  # type: ignore[arg-type]

    def picture_raw(self) -> tuple[dict[bytes, bytes], list[bytes], list[bytes]]:
        """The whole live picture as stored, in one round trip: device id -> doc, the open
        cases' docs, the active alerts' docs."""
        pipe = self.r.pipeline(transaction=False)
        pipe.hgetall(DEV)
        pipe.hvals(CASE)
        pipe.hvals(ALERT)
        devices, cases, alerts = pipe.execute()
        return devices, list(cases), list(alerts)

    def trails_raw(self, device_ids: Sequence[bytes | str], points: int) -> bytes:
        """The newest ``points`` positions of each device's trail, as the body of a JSON object:
        ``"<id>":"lon,lat;lon,lat;..."``, newest first. Devices without a trail are left out."""
        if points <= 0 or not device_ids:
            return b""
        pipe = self.r.pipeline(transaction=False)
        for i in range(0, len(device_ids), TRAIL_CHUNK):
            chunk = [d.decode() if isinstance(d, bytes) else d for d in device_ids[i:i + TRAIL_CHUNK]]
            self._trails(keys=[trail_key(d) for d in chunk], args=[points, *(orjson.dumps(d) for d in chunk)], client=pipe)
        return b",".join(part for part in pipe.execute() if part)

    def ping(self) -> None:
        """Raises one of REDIS_DOWN when Redis does not answer."""
        self.r.ping()

    def kpi_raw(self) -> bytes | None:
        """The counters' JSON as stored, for a caller that joins it without parsing."""
        return self.r.get(SNAP_KPI)  # type: ignore[return-value]

    def kpi(self) -> dict[str, Any]:
        raw = self.r.get(SNAP_KPI)
        return orjson.loads(raw) if raw else {}

    def active_alert_count(self) -> int:
        return int(self.r.hlen(ALERT))  # type: ignore[arg-type]

    def case_counts(self, now: float) -> dict[str, int]:
        pipe = self.r.pipeline(transaction=False)
        pipe.hlen(CASE)
        # The one overdue rule (casework.overdue.light_at) on the stored boundaries: red once
        # now > due (exclusive bound), yellow once now >= warn_at (inclusive).
        pipe.zcount(CASE_DUE, "-inf", f"({now!r}")
        pipe.zcount(CASE_WARN, "-inf", now)
        open_, overdue, warned = pipe.execute()
        return {"open": int(open_), "overdue": int(overdue), "warn": max(int(warned) - int(overdue), 0)}

    def nearest_collectors(self, lat: float, lon: float, now: float, limit: int = 10) -> list[Nearest]:
        """The on-duty collectors nearest to a point, from the geo index (dashboard/store/nearby.py)."""
        return nearest_collectors(self.r, lat, lon, now, limit=limit)

    def nearest_vehicles(self, lat: float, lon: float, now: float, limit: int = 5) -> list[tuple[str, float, dict[str, Any]]]:
        """The vehicles on line nearest to a point, (id, metres, doc) (dashboard/store/nearby.py)."""
        return nearest_vehicles(self.r, lat, lon, now, limit=limit)  # type: ignore[return-value]

    def case_docs(self, case_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The hot docs of those of ``case_ids`` that are open."""
        if not case_ids:
            return {}
        raw = self.r.hmget(CASE, list(case_ids))
        return {cid: orjson.loads(v) for cid, v in zip(case_ids, raw, strict=True) if v is not None}  # type: ignore[arg-type]

    def open_cases(self) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in self.r.hvals(CASE)]  # type: ignore[union-attr]

    def active_alerts(self) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in self.r.hvals(ALERT)]  # type: ignore[union-attr]

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        """An alert's latest doc: the active one, else the newest in the recent list (ended)."""
        raw = self.r.hget(ALERT, alert_id)
        if raw is not None:
            return orjson.loads(raw)  # type: ignore[arg-type]
        return next((a for a in self.recent_alerts() if str(a.get("alert_id")) == alert_id), None)

    def recent_alerts(self, n: int = RECENT_ALERTS) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in self.r.lrange(ALERT_RECENT, 0, n - 1)]  # type: ignore[union-attr]

    def stats(self) -> dict[str, dict[str, Any]]:
        pipe = self.r.pipeline(transaction=False)
        for feed in FEEDS:
            pipe.hgetall(stats_key(feed))
        out: dict[str, dict[str, Any]] = {}
        for feed, raw in zip(FEEDS, pipe.execute(), strict=True):
            d = {k.decode(): v.decode() for k, v in raw.items()}
            out[feed] = {
                "accepted": int(d.get("accepted", 0)),
                "rejected": int(d.get("rejected", 0)),
                "duplicates": int(d.get("duplicates", 0)),
                "rejected_by_reason": {
                    k.split(":", 1)[1]: int(v) for k, v in d.items() if k.startswith("rejected:")
                },
                "last_ts": float(d["last_ts"]) if "last_ts" in d else None,
            }
        return out

    def is_empty(self) -> bool:
        """True when the hot state was never built or is gone (a Redis flushed, or restarted
        without its data): ingest rebuilds it from SQL (feeds/rebuild.py) and then calls
        mark_alive. A key of its own, because a running worker recreates the others within a
        tick, so their absence does not last long enough to be seen."""
        return not self.r.exists(ALIVE)

    def mark_alive(self, now: float) -> None:
        self.r.set(ALIVE, f"{now:.3f}")

    def take_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """A short lease among the workers ("rebuild", "spool"): True when ``owner`` holds it now
        (newly taken, or renewed because it already held it)."""
        key = _LEASES[name]
        if self.r.set(key, owner, nx=True, px=int(ttl_s * 1000)):
            return True
        if self.r.get(key) == owner.encode():
            self.r.pexpire(key, int(ttl_s * 1000))
            return True
        return False

    def release_lock(self, name: str, owner: str) -> None:
        key = _LEASES[name]
        self._unlock(keys=[key], args=[owner])

    def restore_stats(self, counters: Mapping[str, Mapping[str, int]]) -> None:
        """Put the ingest counters back (feed -> name -> value, as SQL keeps them) after a lost
        Redis, so /healthz does not start again from zero."""
        pipe = self.r.pipeline(transaction=False)
        for feed, values in counters.items():
            if values:
                pipe.hset(stats_key(feed), mapping=dict(values))
        pipe.execute()


# --- ingest worker heartbeats (the broker's state as seen by the workers) ------------------
HEARTBEAT_STALE_S = 15.0


def write_broker_state(hot: HotStore, worker_id: str, connected: bool, now: float | None = None,
                       load: Mapping[str, Any] | None = None) -> None:
    """A worker's heartbeat: connected to the broker or not, and how it keeps up (``load``:
    queue, lag_s, shed, retrying, recovered; feeds/ingest.py)."""
    now = time.time() if now is None else now
    hot.r.hset(WORKERS, worker_id, orjson.dumps({"connected": connected, "ts": now, **(load or {})}))


def remove_worker(hot: HotStore, worker_id: str) -> None:
    hot.r.hdel(WORKERS, worker_id)


def read_broker_state(hot: HotStore, now: float) -> dict[str, Any]:
    """Up when at least one live worker (fresh heartbeat) is connected to the broker."""
    workers = {}
    for wid, raw in hot.r.hgetall(WORKERS).items():  # type: ignore[union-attr]
        doc = orjson.loads(raw)
        fresh = now - float(doc.get("ts", 0)) <= HEARTBEAT_STALE_S
        workers[wid.decode()] = {"connected": bool(doc.get("connected")) and fresh, "heartbeat_age_s": round(now - doc["ts"], 1),
                                 **{k: doc[k] for k in ("queue", "lag_s", "shed", "retrying", "recovered") if k in doc}}
    up = any(w["connected"] for w in workers.values())
    return {"up": up, "workers": workers} if up else {"up": False, "workers": workers, "error": "no ingest worker is connected to the broker"}
