"""The wall's board in Redis: everything around the map (today's counts, the overdue counters,
the rankings, the alert ticker, the rotating side views), as one JSON document, and the inputs
and caches the screen model (dashboard/screens/wall.py) reads and writes while building it.

An ingest worker builds the board about once a second and stores it only when it changed; each
screen's poll reads it with one small Redis GET (``board_payload``, called by dashboard/poll.py)
and the browser writes it into the page in place (assets/gridwall-panels.js). Nothing is
computed per client. The document's fields are described in docs/wall.md.

Keys: dashboard/store/keys.py (BOARD_*, and the live picture's CASE, ALERT_RECENT, DEV, seen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from dashboard.store.keys import (
    ALERT_HANDLED,
    ALERT_RECENT,
    BOARD,
    BOARD_HOURLY,
    BOARD_LOCK,
    BOARD_SCOPES,
    BOARD_VER,
    CASE,
    DEV,
    SNAP_KPI,
    board_base_key,
    scoped_key,
    seen_key,
)

BASE_TTL_S = 3 * 86400
base_key = board_base_key
# A district-limited scope's board and KPI: built while a screen of that scope asked within
# SCOPE_WANTED_S, and gone SCOPE_TTL_S after the last build.
SCOPE_WANTED_S = 300.0
SCOPE_TTL_S = 600


# Store the board only when it changed, and bump the version screens poll in the same step.
# ARGV[2] > 0: both keys expire then (a district scope's board, built only while asked for).
_PUBLISH_LUA = """
local ttl = tonumber(ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl); redis.call('EXPIRE', KEYS[2], ttl) end
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
local v = redis.call('INCR', KEYS[2])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return v
"""


def publish_board(client: redis.Redis, body: bytes, scope_key: str = "city", ttl_s: int = 0) -> int:
    """Store the board's JSON; returns its version (unchanged when the JSON is the same)."""
    return int(client.eval(_PUBLISH_LUA, 2, scoped_key(BOARD, scope_key), scoped_key(BOARD_VER, scope_key),  # type: ignore[arg-type]
                           body, ttl_s))


def board_payload(client: redis.Redis, client_version: int | None, scope_key: str = "city") -> tuple[bytes, int] | None:
    """The board as JSON the browser parses itself, with its version; None when the
    screen already has this version or there is no board yet (no ingest worker ran)."""
    raw = client.get(scoped_key(BOARD_VER, scope_key))
    if raw is None:
        return None
    version = int(raw)  # type: ignore[arg-type]
    if version == client_version:
        return None
    body = client.get(scoped_key(BOARD, scope_key))
    return None if body is None else (body, version)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BoardInputs:
    """What one board is built from, read in one round trip."""

    cases: list[dict[str, Any]]  # the open cases' hot docs
    recent_alerts: list[dict[str, Any]]  # newest update first; those handled on the desk left out
    vehicles: list[tuple[bytes, float]]  # (device id, last fix time)
    base: dict[str, Any] | None  # the day's starting point, if built


class BoardStore:
    """Every Redis read and write of the board's builder."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def take_turn(self, worker: str, ttl_ms: int) -> bool:
        """Several workers may run: the one that takes this short lock builds the board now."""
        return bool(self.r.set(BOARD_LOCK, worker, nx=True, px=ttl_ms))

    def inputs(self, day: str) -> BoardInputs:
        pipe = self.r.pipeline(transaction=False)
        pipe.hvals(CASE)
        pipe.lrange(ALERT_RECENT, 0, -1)
        pipe.zrange(seen_key("vehicle"), 0, -1, withscores=True)
        pipe.get(board_base_key(day))
        pipe.hkeys(ALERT_HANDLED)
        raw_cases, raw_alerts, vehicles, base, handled = pipe.execute()
        handled_ids = {h.decode() for h in handled}
        alerts = [a for a in map(orjson.loads, raw_alerts) if str(a.get("alert_id")) not in handled_ids]
        return BoardInputs([orjson.loads(v) for v in raw_cases], alerts,
                           list(vehicles), orjson.loads(base) if base is not None else None)

    def base(self, day: str, scope_key: str) -> dict[str, Any] | None:
        raw = self.r.get(scoped_key(board_base_key(day), scope_key))
        return orjson.loads(raw) if raw is not None else None  # type: ignore[arg-type]

    def seen_since(self, kind: str, since: float) -> list[bytes]:
        """The ids of the devices of ``kind`` heard from since ``since``."""
        return list(self.r.zrangebyscore(seen_key(kind), since, "+inf"))  # type: ignore[arg-type]

    # --- district scopes (dashboard/access/scope.py) -----------------------------------------
    def want(self, districts: Sequence[str], now: float) -> None:
        """A screen limited to ``districts`` is polling: build its board and KPI."""
        self.r.zadd(BOARD_SCOPES, {",".join(sorted(districts)): now})

    def wanted(self, now: float) -> list[list[str]]:
        """The district lists asked for within SCOPE_WANTED_S; older ones are forgotten."""
        self.r.zremrangebyscore(BOARD_SCOPES, "-inf", now - SCOPE_WANTED_S)
        return [m.decode().split(",") for m in self.r.zrange(BOARD_SCOPES, 0, -1)]  # type: ignore[union-attr]

    def kpi_raw(self, scope_key: str) -> bytes | None:
        return self.r.get(scoped_key(SNAP_KPI, scope_key))  # type: ignore[return-value]

    def put_kpi(self, scope_key: str, kpi: dict[str, Any]) -> None:
        self.r.set(scoped_key(SNAP_KPI, scope_key), orjson.dumps(kpi), ex=SCOPE_TTL_S)

    def device_docs(self, ids: Sequence[bytes | str]) -> list[dict[str, Any]]:
        """The hot docs of these devices ({} for one that is gone), in order."""
        raw = self.r.hmget(DEV, list(ids)) if ids else []
        return [orjson.loads(d) if d is not None else {} for d in raw]  # type: ignore[union-attr]

    def put_base(self, day: str, base: dict[str, Any], scope_key: str = "city") -> None:
        self.r.set(scoped_key(board_base_key(day), scope_key), orjson.dumps(base), ex=BASE_TTL_S)

    def hourly(self, scope_key: str = "city") -> dict[str, Any] | None:
        raw = self.r.get(scoped_key(BOARD_HOURLY, scope_key))
        return orjson.loads(raw) if raw is not None else None  # type: ignore[arg-type]

    def put_hourly(self, doc: dict[str, Any], ttl_s: int, scope_key: str = "city") -> None:
        self.r.set(scoped_key(BOARD_HOURLY, scope_key), orjson.dumps(doc), ex=ttl_s)

    def payload(self, client_version: int | None, scope_key: str = "city") -> tuple[bytes, int] | None:
        return board_payload(self.r, client_version, scope_key)

    def publish(self, board: dict[str, Any], scope_key: str = "city") -> int:
        return publish_board(self.r, orjson.dumps(board), scope_key, 0 if scope_key == "city" else SCOPE_TTL_S)


def board_store(hot: Any) -> BoardStore:
    """The board's store on the same Redis client as a HotStore."""
    return BoardStore(hot.r)
