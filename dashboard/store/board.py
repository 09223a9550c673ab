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
    ALERT_RECENT,
    BOARD,
    BOARD_HOURLY,
    BOARD_LOCK,
    BOARD_VER,
    CASE,
    DEV,
    board_base_key,
    seen_key,
)

BASE_TTL_S = 3 * 86400
base_key = board_base_key


# Store the board only when it changed, and bump the version screens poll in the same step.
_PUBLISH_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])
"""


def publish_board(client: redis.Redis, body: bytes) -> int:
    """Store the board's JSON; returns its version (unchanged when the JSON is the same)."""
    return int(client.eval(_PUBLISH_LUA, 2, BOARD, BOARD_VER, body))  # type: ignore[arg-type]


def board_payload(client: redis.Redis, client_version: int | None) -> tuple[bytes, int] | None:
    """The board as JSON the browser parses itself, with its version; None when the
    screen already has this version or there is no board yet (no ingest worker ran)."""
    raw = client.get(BOARD_VER)
    if raw is None:
        return None
    version = int(raw)  # type: ignore[arg-type]
    if version == client_version:
        return None
    body = client.get(BOARD)
    return None if body is None else (body, version)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BoardInputs:
    """What one board is built from, read in one round trip."""

    cases: list[dict[str, Any]]  # the open cases' hot docs
    recent_alerts: list[dict[str, Any]]  # newest update first
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
        raw_cases, raw_alerts, vehicles, base = pipe.execute()
        return BoardInputs([orjson.loads(v) for v in raw_cases], [orjson.loads(a) for a in raw_alerts],
                           list(vehicles), orjson.loads(base) if base is not None else None)

    def device_docs(self, ids: Sequence[bytes | str]) -> list[dict[str, Any]]:
        """The hot docs of these devices ({} for one that is gone), in order."""
        raw = self.r.hmget(DEV, list(ids)) if ids else []
        return [orjson.loads(d) if d is not None else {} for d in raw]  # type: ignore[union-attr]

    def put_base(self, day: str, base: dict[str, Any]) -> None:
        self.r.set(board_base_key(day), orjson.dumps(base), ex=BASE_TTL_S)

    def hourly(self) -> dict[str, Any] | None:
        raw = self.r.get(BOARD_HOURLY)
        return orjson.loads(raw) if raw is not None else None  # type: ignore[arg-type]

    def put_hourly(self, doc: dict[str, Any], ttl_s: int) -> None:
        self.r.set(BOARD_HOURLY, orjson.dumps(doc), ex=ttl_s)

    def payload(self, client_version: int | None) -> tuple[bytes, int] | None:
        return board_payload(self.r, client_version)

    def publish(self, board: dict[str, Any]) -> int:
        return publish_board(self.r, orjson.dumps(board))


def board_store(hot: Any) -> BoardStore:
    """The board's store on the same Redis client as a HotStore."""
    return BoardStore(hot.r)
