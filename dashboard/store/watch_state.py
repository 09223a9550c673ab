"""The supervision's per-device state in Redis (keys.WATCH, keys.WATCH_SILENT; docs/supervision.md
"Several workers").

With a shared subscription a device's fixes may go to any ingest worker, and two workers may
hold fixes of one device at once. Each state carries a version ``v``: a worker reads the states
of its batch's devices (one HMGET), runs the rules, and writes back only where the version is
still the one it read (one Lua call for the batch). A device another worker wrote meanwhile comes
back as a conflict: the step reads it again and runs that device's fixes again on the newer
state, so an alarm is raised by exactly one worker, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis

from dashboard.store import keys

# KEYS: watch hash, versions hash, silent zset. ARGV: n, then per device: id, expected version
# ("" = absent), new JSON, silent-at ("" = not watched for silence, "-" = leave it). The versions
# are a hash of their own, so a compare reads a small integer rather than decoding the document.
# Returns the conflicting ids.
_CAS_LUA = """
local n = tonumber(ARGV[1])
local conflicts = {}
for i = 0, n - 1 do
  local id, want, doc, due = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], ARGV[5 + i * 4]
  local v = redis.call('HGET', KEYS[2], id) or ''
  if v ~= want then
    conflicts[#conflicts + 1] = id
  else
    redis.call('HSET', KEYS[1], id, doc)
    redis.call('HINCRBY', KEYS[2], id, 1)
    if due == '' then redis.call('ZREM', KEYS[3], id)
    elseif due ~= '-' then redis.call('ZADD', KEYS[3], due, id) end
  end
end
return conflicts
"""


DUTY_KEEP_S = 45 * 86400  # a day's collector figures are kept this long (a month's board and more)


@dataclass
class DayAdds:
    """What one device's fixes of a batch add to its days: (day, device) -> [seconds on duty in
    its area, metres], and the grids it was in on duty."""

    totals: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    grids: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, day: str, device_id: str, in_area_s: float, metres: float, grid: str | None) -> None:
        t = self.totals.setdefault((day, device_id), [0.0, 0.0])
        t[0] += in_area_s
        t[1] += metres
        if grid:
            self.grids.add((day, device_id, grid))

    def __bool__(self) -> bool:
        return bool(self.totals or self.grids)


@dataclass(frozen=True)
class DutyDay:
    """One collector's day so far: seconds on duty in its area, metres walked, grids passed."""

    in_area_s: float
    metres: float
    grids: frozenset[str]


class WatchStates:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._cas = client.register_script(_CAS_LUA)

    def read(self, device_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Each device's state document (None: never watched), its version in ``v`` as the
        versions hash has it (what the compare reads: a document whose version is gone is
        written over, never refused for ever)."""
        if not device_ids:
            return {}
        pipe = self.r.pipeline(transaction=False)
        pipe.hmget(keys.WATCH, list(device_ids))
        pipe.hmget(keys.WATCH_VERSION, list(device_ids))
        raw, versions = pipe.execute()
        out: dict[str, dict[str, Any] | None] = {}
        for d, b, v in zip(device_ids, raw, versions, strict=True):
            if b is None and v is None:
                out[d] = None
                continue
            doc = orjson.loads(b) if b else {}
            if v is None:
                doc.pop("v", None)
            else:
                doc["v"] = int(v)
            out[d] = doc
        return out

    def write(self, docs: Mapping[str, tuple[dict[str, Any] | None, dict[str, Any], float | None | str]]) -> set[str]:
        """Write each device's new state where it is still at the version read. ``docs``: device ->
        (the doc read, or None; the new doc; when it goes silent, None to stop watching, "-" to
        leave as is). Returns the devices another worker changed meanwhile (not written)."""
        if not docs:
            return set()
        args: list[Any] = [len(docs)]
        for device_id, (old, new, due) in docs.items():
            known = old is not None and "v" in old
            before = str(old["v"]) if known else ""  # type: ignore[index]
            new = {**new, "v": (int(old["v"]) if known else 0) + 1}  # type: ignore[index]
            args += [device_id, before, orjson.dumps(new), "" if due is None else due if due == "-" else repr(float(due))]
        got = self._cas(keys=[keys.WATCH, keys.WATCH_VERSION, keys.WATCH_SILENT], args=args)
        return {c.decode() if isinstance(c, bytes) else c for c in got}

    def add_duty(self, adds: Iterable[DayAdds]) -> None:
        """The collectors' day figures, added (one pipeline)."""
        pipe = self.r.pipeline(transaction=False)
        days: set[str] = set()
        for a in adds:
            for (day, device_id), (secs, metres) in a.totals.items():
                if secs:
                    pipe.hincrbyfloat(keys.duty_key(day), f"{device_id}|s", secs)
                if metres:
                    pipe.hincrbyfloat(keys.duty_key(day), f"{device_id}|m", metres)
                days.add(day)
            for day, device_id, grid in a.grids:
                pipe.sadd(keys.duty_grids_key(day), f"{device_id}|{grid}")
                days.add(day)
        for day in days:
            pipe.expire(keys.duty_key(day), DUTY_KEEP_S)
            pipe.expire(keys.duty_grids_key(day), DUTY_KEEP_S)
        if days:
            pipe.execute()

    def duty_day(self, day: str) -> dict[str, DutyDay]:
        """Every collector's figures of a local day (ISO date)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.hgetall(keys.duty_key(day))
        pipe.smembers(keys.duty_grids_key(day))
        totals, members = pipe.execute()
        secs: dict[str, float] = {}
        metres: dict[str, float] = {}
        for k, v in totals.items():
            device_id, _, what = (k.decode() if isinstance(k, bytes) else k).rpartition("|")
            (secs if what == "s" else metres)[device_id] = float(v)
        grids: dict[str, set[str]] = {}
        for m in members:
            device_id, _, grid = (m.decode() if isinstance(m, bytes) else m).rpartition("|")
            grids.setdefault(device_id, set()).add(grid)
        return {d: DutyDay(secs.get(d, 0.0), metres.get(d, 0.0), frozenset(grids.get(d, ())))
                for d in set(secs) | set(metres) | set(grids)}

    def duty_days(self, days: Iterable[str]) -> dict[str, dict[str, DutyDay]] | None:
        """``duty_day`` of each day; None when Redis cannot be read (a report goes on without)."""
        try:
            return {day: self.duty_day(day) for day in days}
        except (OSError, redis.RedisError):
            return None

    def silent_due(self, now: float, limit: int = 500) -> list[str]:
        """The devices whose silence began before ``now`` (the offline sweep's candidates)."""
        return [d.decode() if isinstance(d, bytes) else d
                for d in self.r.zrangebyscore(keys.WATCH_SILENT, "-inf", now, start=0, num=limit)]

    def forget(self, device_ids: Iterable[str]) -> None:
        ids = list(device_ids)
        if ids:
            self.r.hdel(keys.WATCH, *ids)
            self.r.hdel(keys.WATCH_VERSION, *ids)
            self.r.zrem(keys.WATCH_SILENT, *ids)

    # --- the places of the tasks sent to collectors -----------------------------------------
    def add_task_place(self, device_id: str, task_id: str, lat: float, lon: float, sent: float) -> None:
        self.r.hset(keys.TASK_PLACES, f"{device_id}|{task_id}", f"{lat:.6f},{lon:.6f},{sent:.3f}")

    def task_places(self, now: float, keep_s: float) -> dict[str, list[tuple[float, float, float]]]:
        """Each collector's task places (lat, lon, sent) that still count at ``now``; the older
        ones are deleted here (the watch step reads this every few seconds, so the hash stays
        as small as the tasks of the last ``keep_s``)."""
        out: dict[str, list[tuple[float, float, float]]] = {}
        old = []
        for field_, value in self.r.hgetall(keys.TASK_PLACES).items():
            name = field_.decode() if isinstance(field_, bytes) else field_
            try:
                lat, lon, sent = (float(x) for x in (value.decode() if isinstance(value, bytes) else value).split(","))
            except ValueError:
                old.append(name)  # not ours to read: dropped rather than read for ever
                continue
            if sent + keep_s <= now:
                old.append(name)
            else:
                out.setdefault(name.rsplit("|", 1)[0], []).append((lat, lon, sent))
        if old:
            self.r.hdel(keys.TASK_PLACES, *old)
        return out
