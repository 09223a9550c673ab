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

from dashboard.store.catchup import CatchUp
from dashboard.store.keys import (
    ALERT,
    ALERT_RECENT,
    CASE,
    CASE_DUE,
    CASE_WARN,
    DELTA_PREFIX,
    DEV,
    DEV_TS,
    DLQ,
    GEO,
    PARK,
    PARK_DUE,
    SNAP_KPI,
    SNAP_VER,
    WORKERS,
    case_lock_key,
    dedupe_key,
    delta_key,
    seen_key,
    stats_key,
    trail_key,
)
from dashboard.store.liverank import LiveRank

FEEDS = ("gps", "video", "case")

DELTA_TTL_S = 120  # a screen further behind than this gets the full picture instead
TRAIL_LEN = 60
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
    options: dict[str, Any] = {"health_check_interval": 30}
    if not url.startswith("unix:"):
        options["socket_keepalive"] = True  # TCP only; a unix socket has no keepalive
    return redis.Redis.from_url(url, **options)


# Newer wins: shared subscriptions deliver one device's fixes to several workers, so an older fix
# can arrive after a newer one. The compare and the writes are one atomic step.
_POSITION_LUA = """
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if tonumber(ARGV[2]) <= cur then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
redis.call('GEOADD', KEYS[3], ARGV[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
for i = 7, #ARGV do redis.call('LPUSH', KEYS[4], ARGV[i]) end
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
return 1
"""


# Cut a version: the version bump and its delta are one atomic step, so a reader never sees a
# version whose delta is not there yet (which would cost it a full picture).
_PUBLISH_LUA = """
local v = redis.call('INCR', KEYS[1])
redis.call('SET', ARGV[1] .. v, ARGV[2], 'EX', tonumber(ARGV[3]))
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


_CLAIM_LUA = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {} end
local docs = redis.call('HMGET', KEYS[2], unpack(ids))
redis.call('ZREM', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
local out = {}
for _, d in ipairs(docs) do if d then table.insert(out, d) end end
return out
"""


# Take these parked events, whenever they are due; one another worker claimed meanwhile is gone
# from the lot and stays that worker's.
_CLAIM_IDS_LUA = """
local out = {}
for _, id in ipairs(ARGV) do
  local d = redis.call('HGET', KEYS[2], id)
  if d then
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[1], id)
    table.insert(out, d)
  end
end
return out
"""


# Release only the locks this token holds: one that expired and was taken by another worker
# stays theirs.
_UNLOCK_LUA = """
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 1
"""


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
        self._claim = client.register_script(_CLAIM_LUA)
        self._claim_ids = client.register_script(_CLAIM_IDS_LUA)
        self._unlock = client.register_script(_UNLOCK_LUA)
        self._publish = client.register_script(_PUBLISH_LUA)
        self._trails = client.register_script(_TRAILS_LUA)

    def catchup(self) -> CatchUp:
        """The history catch-up tracker on this client (dashboard/store/catchup.py)."""
        return CatchUp(self.r)

    def live_rank(self, timezone: str, reconcile_s: float) -> LiveRank:
        """The live rankings (dashboard/store/liverank.py), on this store's Redis."""
        return LiveRank(self.r, timezone, reconcile_s)

    # --- writes (ingest) ------------------------------------------------------------------
    def write_positions(self, fixes: Iterable[DeviceFix]) -> list[str]:
        """Apply fixes, newer wins. Returns the ids whose state changed."""
        fixes = list(fixes)
        if not fixes:
            return []
        pipe = self.r.pipeline(transaction=False)
        for f in fixes:
            trail = [f"{lon:.6f},{lat:.6f},{ts:.1f}" for lon, lat, ts in f.trail]
            self._position(
                keys=[DEV, DEV_TS, GEO, trail_key(f.device_id), seen_key(str(f.doc.get("kind", "other")))],
                args=[f.device_id, f.ts, f.lon, f.lat, orjson.dumps(f.doc), TRAIL_LEN, *trail],
                client=pipe,
            )
        results = pipe.execute()
        return [f.device_id for f, ok in zip(fixes, results, strict=True) if ok]

    def set_device_fields(self, device_id: str, fields: Mapping[str, Any]) -> bool:
        """Merge fields (e.g. online=False from a last-will) into a known device's state."""
        raw = self.r.hget(DEV, device_id)
        if raw is None:
            return False
        doc = orjson.loads(raw)
        doc.update(fields)
        self.r.hset(DEV, device_id, orjson.dumps(doc))
        return True

    def first_seen(self, keys: Sequence[str], ttl_s: int = 7 * 24 * 3600) -> list[bool]:
        """For each dedupe key, True when this is its first delivery (and mark it seen)."""
        if not keys:
            return []
        pipe = self.r.pipeline(transaction=False)
        for k in keys:
            pipe.set(dedupe_key(k), 1, nx=True, ex=ttl_s)
        return [bool(x) for x in pipe.execute()]

    def forget_seen(self, keys: Sequence[str]) -> None:
        """Undo first_seen for messages that then failed to store, so a redelivery is retried."""
        if keys:
            self.r.delete(*[dedupe_key(k) for k in keys])

    def put_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        if not alerts:
            return
        pipe = self.r.pipeline(transaction=False)
        for a in alerts:
            doc = orjson.dumps(a)
            if a.get("state") == "end":
                pipe.hdel(ALERT, a["alert_id"])
            else:
                pipe.hset(ALERT, a["alert_id"], doc)
            pipe.lpush(ALERT_RECENT, doc)
        pipe.ltrim(ALERT_RECENT, 0, RECENT_ALERTS - 1)
        pipe.execute()

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

    def park(self, docs: Mapping[str, Mapping[str, Any]], retry_at: float) -> None:
        """Hold case events (id -> JSON-able doc) to try again at retry_at."""
        if not docs:
            return
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(PARK, mapping={k: orjson.dumps(v) for k, v in docs.items()})
        pipe.zadd(PARK_DUE, dict.fromkeys(docs, retry_at))
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

    def claim_parked(self, now: float, limit: int = 500) -> list[dict[str, Any]]:
        """Take the parked events that are due. Atomic, so with several workers each parked
        event is taken by one of them."""
        raw = self._claim(keys=[PARK_DUE, PARK], args=[now, limit])
        return [orjson.loads(doc) for doc in raw]

    def claim_parked_ids(self, event_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Take these parked events now, due or not (those still parked). Atomic, as
        claim_parked."""
        if not event_ids:
            return []
        raw = self._claim_ids(keys=[PARK_DUE, PARK], args=list(event_ids))
        return [orjson.loads(doc) for doc in raw]

    def reschedule_parked(self, event_ids: Iterable[str], retry_at: float) -> None:
        """Move when these parked events are next due (only those still parked: one a worker
        has claimed meanwhile is not put back)."""
        ids = list(event_ids)
        if ids:
            self.r.zadd(PARK_DUE, dict.fromkeys(ids, retry_at), xx=True)

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

    def dead_letter(self, topic: str, reason: str, detail: str, payload: bytes,
                    maxlen: int, keep_bytes: int = 1024) -> None:
        self.r.xadd(
            DLQ,
            {"topic": topic, "reason": reason, "detail": detail[:500], "ts": f"{time.time():.3f}",
             "payload": payload[:keep_bytes], "size": len(payload)},
            maxlen=maxlen,
            approximate=True,
        )

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
            if gone and name != "devices":  # a device never leaves; an unknown id is no news
                parts.append(b'"%s_gone":%s' % (name.encode(), orjson.dumps(gone)))
        body = b"{" + b",".join(parts) + b"}"
        return int(self._publish(keys=[SNAP_VER], args=[DELTA_PREFIX, body, DELTA_TTL_S]))

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

    def open_cases(self) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in self.r.hvals(CASE)]  # type: ignore[union-attr]

    def active_alerts(self) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in self.r.hvals(ALERT)]  # type: ignore[union-attr]

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

    def dead_letters(self, count: int = 20) -> list[dict[str, Any]]:
        rows = self.r.xrevrange(DLQ, count=count)
        return [
            {k.decode(): (v.decode("utf-8", "replace")) for k, v in fields.items()}
            for _id, fields in rows  # type: ignore[union-attr]
        ]

    def is_empty(self) -> bool:
        """True when the hot state is gone (a Redis that lost its data): ingest rebuilds it."""
        return not self.r.exists(DEV, CASE, SNAP_VER)


# --- ingest worker heartbeats (the broker's state as seen by the workers) ------------------
HEARTBEAT_STALE_S = 15.0


def write_broker_state(hot: HotStore, worker_id: str, connected: bool, now: float | None = None) -> None:
    now = time.time() if now is None else now
    hot.r.hset(WORKERS, worker_id, orjson.dumps({"connected": connected, "ts": now}))


def remove_worker(hot: HotStore, worker_id: str) -> None:
    hot.r.hdel(WORKERS, worker_id)


def read_broker_state(hot: HotStore, now: float) -> dict[str, Any]:
    """Up when at least one live worker (fresh heartbeat) is connected to the broker."""
    workers = {}
    for wid, raw in hot.r.hgetall(WORKERS).items():  # type: ignore[union-attr]
        doc = orjson.loads(raw)
        fresh = now - float(doc.get("ts", 0)) <= HEARTBEAT_STALE_S
        workers[wid.decode()] = {"connected": bool(doc.get("connected")) and fresh, "heartbeat_age_s": round(now - doc["ts"], 1)}
    up = any(w["connected"] for w in workers.values())
    return {"up": up, "workers": workers} if up else {"up": False, "workers": workers, "error": "no ingest worker is connected to the broker"}
